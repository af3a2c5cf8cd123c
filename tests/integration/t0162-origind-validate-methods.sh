#!/usr/bin/env bash
# t0162: request methods: methods are case-sensitive, so "get" is an
# unknown method (501) like "FOO"; TRACE and CONNECT are refused with 405
# and an Allow field that does not offer them, and the connection closes;
# the server keeps serving.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl curl

mkdir -p "$T/www"
echo "healthy" >"$T/www/index.html"
start_origind origind --docroot "$T/www" --connection-timeout 2s

raw 'GET / HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "GET (control)"
for m in get Get FOO PROPFIND; do
	raw "$m / HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
	expect_eq "$STATUS" "HTTP/1.1 501 Not Implemented" "status of method $m"
	expect_not_contains "$RAW" "healthy"
	healthy
done
pass "methods get, Get, FOO, PROPFIND: 501 (methods are case-sensitive)"

# trace405 REQUEST: 405, an Allow without TRACE/CONNECT, closed, healthy
trace405() {
	local allow
	raw "$1"
	expect_eq "$STATUS" "HTTP/1.1 405 Method Not Allowed" "status for $(_show "$1")"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	allow=$(grep -ai '^Allow:' <<<"$RAW" | tr -d '\r')
	[[ -n $allow ]] || fail "405 without an Allow field: $(_show "$RAW")"
	expect_not_contains "$allow" "TRACE"
	expect_not_contains "$allow" "CONNECT"
	expect_not_contains "$RAW" "healthy"
	expect_not_contains "$RAW" "X-Secret" # TRACE must not echo the request
	healthy
}
trace405 'TRACE / HTTP/1.1\r\nHost: origin.test\r\nX-Secret: 1\r\n\r\n'
trace405 'TRACE * HTTP/1.1\r\nHost: origin.test\r\nX-Secret: 1\r\n\r\n'
pass "TRACE: 405 with Allow (no TRACE), no echo, connection closed"
trace405 'CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n'
trace405 'CONNECT / HTTP/1.1\r\nHost: origin.test\r\n\r\n'
pass "CONNECT (authority-form and origin-form): 405 with Allow (no CONNECT), connection closed"

raw 'G(ET / HTTP/1.1\r\nHost: origin.test\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "status of a method that is not a token"
healthy
pass "a method that is not a token: 400"
