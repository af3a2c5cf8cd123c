#!/usr/bin/env bash
# t0160: origind refuses requests whose Host or message framing is
# ambiguous (RFC 9112 3.2, 6.1-6.3), answers once with the right status and
# "Connection: close", closes the connection, and keeps serving: two Host
# fields, no Host in HTTP/1.1, Content-Length with Transfer-Encoding, two
# Content-Lengths, "Transfer-Encoding :" (space before the colon),
# Transfer-Encoding other than chunked (501), chunked not last, chunked in
# HTTP/1.0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl curl

mkdir -p "$T/www"
echo "healthy" >"$T/www/index.html"
start_origind origind --docroot "$T/www" --connection-timeout 2s

# refused WANT-STATUS REQUEST [WHY]: one answer with that status, a
# Connection: close, the connection closed; then a normal request works
refused() {
	raw "$2"
	expect_eq "$STATUS" "HTTP/1.1 $1" "status line for $(_show "$2")"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	[[ -z ${3:-} ]] || expect_contains "$RAW" "$3"
	healthy
}

# control: a well-formed request is answered 200 on the same path
raw 'GET / HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "status of a well-formed request"
expect_contains "$RAW" "healthy"
raw 'GET / HTTP/1.0\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "status of HTTP/1.0 without Host"
raw 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'
expect_eq "$STATUS" "HTTP/1.1 405 Method Not Allowed" "status of a framed POST to a file"
pass "controls: GET 200, HTTP/1.0 without Host 200, POST with Content-Length reaches the handler (405)"

refused "400 Bad Request" 'GET / HTTP/1.1\r\nHost: origin.test\r\nHost: evil.test\r\n\r\n' \
	"more than one Host"
refused "400 Bad Request" 'GET / HTTP/1.1\r\nHost: origin.test\r\nhost: origin.test\r\n\r\n'
pass "two Host fields (also differently cased): 400"

refused "400 Bad Request" 'GET / HTTP/1.1\r\nUser-Agent: t0160\r\n\r\n'
# one answer only (known bug: libmicrohttpd's own "Host required" answer
# carries its status line and header block twice)
soft expect_eq "$(grep -ac '^HTTP/1' <<<"$RAW")" 1 "status lines in the answer to an HTTP/1.1 request without Host"
pass "HTTP/1.1 without Host: 400"

refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
	"both Content-Length and Transfer-Encoding"
refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n'
pass "Content-Length with Transfer-Encoding (either order): 400"

refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc' \
	"more than one Content-Length"
refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc'
refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 3, 3\r\n\r\nabc'
refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: +3\r\n\r\nabc'
pass "two Content-Lengths (same or different), a list, a sign: 400"

refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'
refused "400 Bad Request" 'GET / HTTP/1.1\r\nHost : origin.test\r\n\r\n'
pass "whitespace between field name and colon: 400"

refused "501 Not Implemented" 'POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n' \
	"transfer coding not implemented"
refused "501 Not Implemented" 'POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: identity\r\n\r\n'
refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
pass "Transfer-Encoding: gzip, chunked and identity 501; chunked not last, chunked twice 400"

refused "400 Bad Request" 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
pass "Transfer-Encoding in an HTTP/1.0 request: 400"
