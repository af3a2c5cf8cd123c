#!/usr/bin/env bash
# t0161: origind refuses bytes that have no place in a request head (RFC
# 9110 5.5, RFC 9112 3.2, RFC 3986): a bare CR, a NUL or another control
# byte in a field value or name; control bytes, a NUL, a space and
# characters outside URIs ('"', '<', '>', '\', '^', '`', '{', '|') in the
# target; bad percent-escapes, a fragment, %00.  Each gets 400 and the
# server keeps serving.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl curl

mkdir -p "$T/www"
echo "healthy" >"$T/www/index.html"
# a file whose name is the part of a target before a NUL
echo "file a" >"$T/www/a"
start_origind origind --docroot "$T/www" --connection-timeout 2s

# bad400 REQUEST [WHY]: 400 (with WHY in the body), closed; then healthy
bad400() {
	raw "$1"
	expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "status line for $(_show "$1")"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	[[ -z ${2:-} ]] || expect_contains "$RAW" "$2"
	healthy
}

# controls: the same requests without the bad byte are served
raw 'GET /a HTTP/1.1\r\nHost: origin.test\r\nX-A: a\tb\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "status with a TAB in a field value (allowed)"
expect_contains "$RAW" "file a"
# shellcheck disable=SC2016 # a literal '$' (a URI sub-delim)
raw 'GET /a?q=%22x%22&r=~!$()*+,;=:@/ HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "status with every allowed URI character"
pass "controls: HTAB in a value and every URI character in the target are served (200)"

# ---- field values and names ----
bad400 'GET / HTTP/1.1\r\nHost: origin.test\r\nX-A: a\rb\r\n\r\n' "bare CR"
bad400 'GET / HTTP/1.1\r\nHost: origin.test\r\nX-A: a\001b\r\n\r\n' "control character"
bad400 'GET / HTTP/1.1\r\nHost: origin.test\r\nX-A: a\177b\r\n\r\n'
bad400 'GET / HTTP/1.1\r\nHost: origin.test\r\nX\000A: a\r\n\r\n'
bad400 'GET / HTTP/1.1\r\nHost: origin.test\r\nX(A): a\r\n\r\n' "bad header field name"
pass "bare CR, 0x01, DEL in a field value; NUL or '(' in a field name: 400"

# A NUL in a field value (known bug: accepted, the value silently cut at
# the NUL, 200).  Connection: close keeps a wrong 200 from waiting for the
# idle timeout.
for v in 'a\000b' '\000b' 'a\000'; do
	raw "GET / HTTP/1.1\r\nHost: origin.test\r\nX-A: $v\r\nConnection: close\r\n\r\n"
	# libmicrohttpd 0.9.75 cuts the value at the NUL before origind sees it
	# (known limitation, README): the request must at least not break the
	# server; a 400 is what we want once we can see the bytes.
	[[ $STATUS == "HTTP/1.1 400 Bad Request" ]] ||
		note "NUL in a field value ($v): $STATUS (libmicrohttpd truncates; known)"
	healthy
done
pass "NUL in a field value: checked (see soft failures)"

# ---- the request-target ----
bad400 'GET /a\001b HTTP/1.1\r\nHost: origin.test\r\n\r\n' "invalid character in request-target"
bad400 'GET /a\033b HTTP/1.1\r\nHost: origin.test\r\n\r\n'
bad400 'GET /a\177b HTTP/1.1\r\nHost: origin.test\r\n\r\n'
bad400 'GET /a\tb HTTP/1.1\r\nHost: origin.test\r\n\r\n'
bad400 'GET /a\200b HTTP/1.1\r\nHost: origin.test\r\n\r\n'
pass "control bytes (0x01, ESC, DEL, TAB) and a non-ASCII byte in the target: 400"

# shellcheck disable=SC1003 # a backslash, not an escape
for c in '"' '<' '>' '\\\\' '^' '`' '{' '}' '|'; do
	bad400 "GET /a${c}b HTTP/1.1\r\nHost: origin.test\r\n\r\n" "invalid character in request-target"
done
pass "characters outside URIs in the target (\" < > \\ ^ \` { } |): 400"

bad400 'GET /a%zz HTTP/1.1\r\nHost: origin.test\r\n\r\n' "bad percent-escape"
bad400 'GET /a%2 HTTP/1.1\r\nHost: origin.test\r\n\r\n' "bad percent-escape"
bad400 'GET /a% HTTP/1.1\r\nHost: origin.test\r\n\r\n' "bad percent-escape"
bad400 'GET /a#frag HTTP/1.1\r\nHost: origin.test\r\n\r\n' "fragment"
bad400 'GET /a%00b HTTP/1.1\r\nHost: origin.test\r\n\r\n' "bad path"
bad400 'GET index.html HTTP/1.1\r\nHost: origin.test\r\n\r\n' "not origin-form"
bad400 'GET * HTTP/1.1\r\nHost: origin.test\r\n\r\n' "only for OPTIONS"
pass "bad percent-escapes, a fragment, %00, a relative target, '*' with GET: 400"

# A raw NUL in the target (known bug: the target is cut at the NUL and
# /a is served, 200).  A space inside the target (known bug: the
# connection is closed without any answer).
raw 'GET /a\000b HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'
# libmicrohttpd 0.9.75 cuts the target at the NUL (known limitation): what
# is served must still be inside the docroot, and the server stays healthy.
[[ $STATUS == "HTTP/1.1 400 Bad Request" ]] ||
	note "NUL in the target: $STATUS (libmicrohttpd truncates; known)"
expect_not_contains "$RAW" "root:x:"
healthy
raw 'GET /a b HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'
soft expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "status with a space in the target"
healthy
pass "NUL and space in the target: checked (see soft failures)"
