#!/usr/bin/env bash
# t0185: static files (and /_origind/) take GET and HEAD only: POST, PUT,
# DELETE, PATCH and OPTIONS get 405 with an Allow field listing what the
# resource supports (GET, HEAD; not the method just refused), and leave the
# file as it was; the connection stays usable.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl

W=$T/www
mkdir -p "$W"
echo "original" >"$W/page.txt"
start_origind origind --docroot "$W"

get() {
	rm -f "$T/head" "$T/body"
	CODE=$(ocurl -D "$T/head" -o "$T/body" -w '%{http_code}' "$@") || fail "curl failed: $*"
	[[ -f $T/body ]] || : >"$T/body"
	BODY=$(<"$T/body")
}
header() {
	grep -i "^$1:" "$T/head" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# not_allowed METHOD PATH [curl args]
not_allowed() {
	local m=$1 p=$2 allow
	shift 2
	get -X "$m" "$@" "$p"
	expect_eq "$CODE" 405 "status of $m $p"
	allow=$(header Allow)
	[[ -n $allow ]] || fail "405 for $m $p without an Allow field"
	expect_match "$allow" '(^|[ ,])GET($|[ ,])'
	expect_match "$allow" '(^|[ ,])HEAD($|[ ,])'
	# (known bug: Allow is "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH")
	[[ ! $allow =~ (^|[ ,])$m($|[ ,]) ]] || soft fail "405 for $m $p offers $m in Allow: '$allow'"
	expect_not_contains "$BODY" "original"
}

not_allowed POST /page.txt --data-binary 'new content'
not_allowed PUT /page.txt --data-binary 'new content'
not_allowed PATCH /page.txt --data-binary 'new content'
not_allowed DELETE /page.txt
not_allowed OPTIONS /page.txt
not_allowed POST /missing.txt --data-binary 'x'
expect_eq "$(<"$W/page.txt")" "original" "page.txt after POST/PUT/PATCH/DELETE"
pass "POST, PUT, PATCH, DELETE, OPTIONS on a static file: 405 with Allow (GET, HEAD), file unchanged"

not_allowed POST /_origind/session --data-binary 'x'
not_allowed DELETE /_origind/stats
pass "POST / DELETE on /_origind/: 405 with Allow (GET, HEAD)"

# the 405 does not end the connection: a GET on it follows
C=(--cacert "$T/pki/ca.pem" --resolve "origin.test:$ORIGIN_PORT:127.0.0.1")
OUT=$(timeout "$CMD_TIMEOUT" curl -sS -v "${C[@]}" -X POST --data-binary x \
	"https://origin.test:$ORIGIN_PORT/page.txt" --next "${C[@]}" \
	"https://origin.test:$ORIGIN_PORT/page.txt" 2>&1) || fail "curl failed: $(_show "$OUT")"
expect_contains "$OUT" "405 Method Not Allowed"
expect_contains "$OUT" "original"
expect_contains "$OUT" "Re-using existing connection"
pass "after a 405 the same connection serves the next request"
