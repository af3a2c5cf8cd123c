#!/usr/bin/env bash
# t0182: byte ranges on static files (RFC 9110 14): one range gives 206
# with Content-Range and exactly those bytes (bytes=0-9, a suffix -5, an
# open end 10-, an end past the file), an unsatisfiable one 416 with
# "Content-Range: bytes */SIZE", several ranges or a malformed one the
# whole file (200); If-Range with the current ETag (or the exact
# Last-Modified) 206, with an old or weak one 200.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl dd

W=$T/www
mkdir -p "$W"
head -c 1000 /dev/urandom >"$W/blob.bin"
: >"$W/empty.bin"
touch -d "2024-01-02 03:04:05 UTC" "$W/blob.bin"
LM="Tue, 02 Jan 2024 03:04:05 GMT"
start_origind origind --docroot "$W"

get() {
	rm -f "$T/head" "$T/body"
	CODE=$(ocurl -D "$T/head" -o "$T/body" -w '%{http_code}' "$@") || fail "curl failed: $*"
	[[ -f $T/body ]] || : >"$T/body"
}
header() {
	grep -i "^$1:" "$T/head" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}
# part RANGE FIRST LAST [curl args...]: 206 for Range RANGE with bytes
# FIRST..LAST of the file, compared with dd's copy
part() {
	local range=$1 first=$2 last=$3
	shift 3
	get -H "Range: $range" "$@" /blob.bin
	expect_eq "$CODE" 206 "status for Range: $range $*"
	expect_eq "$(header Content-Range)" "bytes $first-$last/1000" "Content-Range for $range"
	expect_eq "$(header Content-Length)" $((last - first + 1)) "Content-Length for $range"
	expect_eq "$(header ETag)" "$ETAG" "ETag of the 206 for $range"
	dd if="$W/blob.bin" of="$T/want" bs=1 skip="$first" count=$((last - first + 1)) 2>/dev/null
	cmp -s "$T/body" "$T/want" || fail "Range: $range: body is not bytes $first-$last of the file"
}
# whole [curl args...]: 200 with the whole file and no Content-Range
whole() {
	get "$@" /blob.bin
	expect_eq "$CODE" 200 "status with $*"
	expect_eq "$(header Content-Range)" "" "Content-Range with $*"
	cmp -s "$T/body" "$W/blob.bin" || fail "body with $* is not the whole file"
}
# unsat RANGE [PATH [SIZE]]: 416 with Content-Range: bytes */SIZE
unsat() {
	get -H "Range: $1" "${2:-/blob.bin}"
	expect_eq "$CODE" 416 "status for Range: $1 on ${2:-/blob.bin}"
	expect_eq "$(header Content-Range)" "bytes */${3:-1000}" "Content-Range of the 416 for $1"
	expect_eq "$(stat -c %s "$T/body")" 0 "body of the 416 for $1"
}

get /blob.bin
ETAG=$(header ETag)
expect_eq "$(header Accept-Ranges)" bytes "Accept-Ranges"

part bytes=0-9 0 9
part bytes=-5 995 999
part bytes=10- 10 999
part bytes=0-0 0 0
part bytes=999-999 999 999
part bytes=990-5000 990 999
part bytes=-5000 0 999
part "bytes= 100-199" 100 199
pass "206: 0-9, suffix -5, open end 10-, single bytes, end past the file, suffix over the size: exact bytes (dd)"

unsat bytes=1000-
unsat bytes=1000-2000
unsat bytes=-0
unsat bytes=0-0 /empty.bin 0
unsat bytes=-1 /empty.bin 0
pass "416 with Content-Range bytes */1000 (and */0 for an empty file): start at or past the end, -0"

whole -H "Range: bytes=0-1,5-6"
whole -H "Range: bytes=0-9, 20-29"
whole -H "Range: bytes=5-2"
whole -H "Range: bytes=a-b"
whole -H "Range: items=0-9"
whole -H "Range: bytes=0-9x"
pass "several ranges, last < first, malformed, another unit: 200 with the whole file"

part bytes=0-9 0 9 -H "If-Range: $ETAG"
part bytes=0-9 0 9 -H "If-Range: $LM"
whole -H "Range: bytes=0-9" -H 'If-Range: "0-old"'
whole -H "Range: bytes=0-9" -H "If-Range: W/$ETAG"
whole -H "Range: bytes=0-9" -H "If-Range: Mon, 01 Jan 2024 00:00:00 GMT"
pass "If-Range: current ETag or exact Last-Modified 206; old ETag, weak ETag, other date 200 whole file"

# the file changes: the old ETag no longer gets a part
cp "$W/blob.bin" "$T/old.bin"
head -c 1000 /dev/urandom >"$W/blob.bin"
whole -H "Range: bytes=0-9" -H "If-Range: $ETAG"
cmp -s "$T/body" "$T/old.bin" && fail "got the old file's bytes after it changed"
pass "after the file changed, If-Range with its old ETag gets the whole new file"
