#!/usr/bin/env bash
# t0181: conditional requests on static files (RFC 9110 13): If-None-Match
# (exact, a list, the W/ weak form, *) gives 304 with the ETag and no body;
# If-Modified-Since at or after the mtime 304, before it 200;
# If-None-Match wins over If-Modified-Since; If-Match that does not match
# (strong comparison) 412; If-Unmodified-Since before the mtime 412.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl openssl

W=$T/www
mkdir -p "$W"
echo "conditional content" >"$W/doc.txt"
touch -d "2024-01-02 03:04:05 UTC" "$W/doc.txt"
SIZE=$(stat -c %s "$W/doc.txt")
LM="Tue, 02 Jan 2024 03:04:05 GMT"
BEFORE="Tue, 02 Jan 2024 03:04:04 GMT"
AFTER="Wed, 03 Jan 2024 00:00:00 GMT"
start_origind origind --docroot "$W"

# get [curl args...]: GET /doc.txt; head in $T/head, body in $T/body, CODE
get() {
	rm -f "$T/head" "$T/body"
	CODE=$(ocurl -D "$T/head" -o "$T/body" -w '%{http_code}' "$@" /doc.txt) ||
		fail "curl failed: $*"
	[[ -f $T/body ]] || : >"$T/body"
}
header() {
	grep -i "^$1:" "$T/head" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}
# want STATUS [curl args...]
want() {
	local st=$1
	shift
	get "$@"
	expect_eq "$CODE" "$st" "status with $*"
	case $st in
	200) cmp -s "$T/body" "$W/doc.txt" || fail "200 with $*: body differs from the file" ;;
	304)
		expect_eq "$(stat -c %s "$T/body")" 0 "body bytes of the 304 with $*"
		expect_eq "$(header ETag)" "$ETAG" "ETag of the 304 with $*"
		expect_eq "$(header Last-Modified)" "$LM" "Last-Modified of the 304 with $*"
		;;
	412) expect_not_contains "$(<"$T/body")" "conditional content" ;;
	esac
}

get
ETAG=$(header ETag)
expect_match "$ETAG" '^"[^"]+"$'
expect_eq "$(header Last-Modified)" "$LM" "Last-Modified"

# ---- If-None-Match ----
want 304 -H "If-None-Match: $ETAG"
want 304 -H "If-None-Match: \"nope\", $ETAG"
want 304 -H "If-None-Match: \"a\",\"b\",$ETAG"
want 304 -H "If-None-Match: W/$ETAG"
want 304 -H "If-None-Match: *"
want 200 -H 'If-None-Match: "nope"'
want 200 -H 'If-None-Match: W/"nope", "other"'
want 200 -H "If-None-Match: ${ETAG%\"}x\""
pass "If-None-Match: exact, in a list, W/ weak form, * give 304 (ETag, Last-Modified, no body); others 200"

# a 304 has no body at all on the wire, and no Content-Length other than the
# file's (RFC 9110 8.6) (known bug: "Content-Length: 0")
printf 'GET /doc.txt HTTP/1.1\r\nHost: origin.test\r\nIf-None-Match: %s\r\nConnection: close\r\n\r\n' "$ETAG" |
	timeout 8 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$ORIGIN_PORT" \
		-servername origin.test -CAfile "$T/pki/ca.pem" >"$T/raw" 2>/dev/null || true
expect_eq "$(head -n 1 "$T/raw" | tr -d '\r')" "HTTP/1.1 304 Not Modified" "raw 304 status line"
expect_eq "$(awk 'f { print } /^\r$/ { f = 1 }' "$T/raw" | wc -c)" 0 "bytes after the 304's head"
cl=$(grep -i '^Content-Length:' "$T/raw" | sed 's/^[^:]*: *//' | tr -d '\r')
# libmicrohttpd 0.9.75 always writes "Content-Length: 0" on a 304 (known
# limitation, README); no body bytes follow, which is what matters on the wire.
[[ -z $cl || $cl == "$SIZE" ]] || note "304 carries Content-Length: $cl (libmicrohttpd; known)"
pass "raw 304: no body bytes; Content-Length checked (see soft failures)"

# ---- If-Modified-Since ----
want 304 -H "If-Modified-Since: $LM"
want 304 -H "If-Modified-Since: $AFTER"
want 304 -H "If-Modified-Since: Tuesday, 02-Jan-24 03:04:05 GMT" # RFC 850
want 304 -H "If-Modified-Since: Tue Jan  2 03:04:05 2024"        # asctime
want 200 -H "If-Modified-Since: $BEFORE"
want 200 -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"
want 200 -H "If-Modified-Since: yesterday"
pass "If-Modified-Since: at/after the mtime (IMF, RFC 850, asctime) 304; before 200; invalid ignored (200)"

# ---- If-None-Match wins over If-Modified-Since ----
want 200 -H 'If-None-Match: "nope"' -H "If-Modified-Since: $AFTER"
want 304 -H "If-None-Match: $ETAG" -H "If-Modified-Since: $BEFORE"
pass "If-None-Match decides, If-Modified-Since is then ignored (both directions)"

# ---- If-Match / If-Unmodified-Since ----
want 412 -H 'If-Match: "nope"'
want 412 -H "If-Match: W/$ETAG"
want 412 -H "If-Match: \"nope\", W/$ETAG"
want 200 -H "If-Match: $ETAG"
want 200 -H "If-Match: \"nope\", $ETAG"
want 200 -H "If-Match: *"
pass "If-Match: no match and weak W/ (strong comparison) 412; exact, in a list, * 200"

want 412 -H "If-Unmodified-Since: $BEFORE"
want 412 -H "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT"
want 200 -H "If-Unmodified-Since: $LM"
want 200 -H "If-Unmodified-Since: $AFTER"
want 200 -H "If-Match: $ETAG" -H "If-Unmodified-Since: $BEFORE"
want 412 -H 'If-Match: "nope"' -H "If-Unmodified-Since: $AFTER"
pass "If-Unmodified-Since before the mtime 412, at/after 200; If-Match decides when both are sent"

# If-Match is evaluated before If-None-Match
want 412 -H 'If-Match: "nope"' -H "If-None-Match: $ETAG"
# HEAD is conditional too
get -I -H "If-None-Match: $ETAG"
expect_eq "$CODE" 304 "HEAD with a matching If-None-Match"
pass "If-Match before If-None-Match (412); HEAD with If-None-Match 304"
