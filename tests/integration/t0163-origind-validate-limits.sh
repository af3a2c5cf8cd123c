#!/usr/bin/env bash
# t0163: request limits: a target over --max-url-length gets 414, a head
# over --max-header-size 431, a Content-Length over --max-body-size 413
# (with "Expect: 100-continue": 413 and no "100 Continue" first), a chunked
# body over it 413; an expectation other than 100-continue 417.  Each
# closes the connection; the server keeps serving.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl curl

mkdir -p "$T/www"
echo "healthy" >"$T/www/index.html"
start_origind origind --docroot "$T/www" --connection-timeout 2s \
	--max-url-length 100 --max-header-size 1k --max-body-size 100

# refused WANT-STATUS REQUEST: that status, Connection: close, closed, healthy
refused() {
	raw "$2"
	expect_eq "$STATUS" "HTTP/1.1 $1" "status line for $(_show "$2")"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	healthy
}

x() { head -c "$1" /dev/zero | tr '\0' x; }

# ---- 414 ----
raw "GET /$(x 99) HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 404 Not Found" "a target of exactly --max-url-length (100)"
refused "414 URI Too Long" "GET /$(x 100) HTTP/1.1\r\nHost: origin.test\r\n\r\n"
expect_contains "$RAW" "request-target too long"
refused "414 URI Too Long" "GET /?q=$(x 200) HTTP/1.1\r\nHost: origin.test\r\n\r\n"
refused "414 URI Too Long" "GET /$(x 40000) HTTP/1.1\r\nHost: origin.test\r\n\r\n"
pass "target of 100 bytes served (404), 101 bytes, a long query and 40000 bytes: 414"

# ---- 431 ----
raw "GET / HTTP/1.1\r\nHost: origin.test\r\nX-Big: $(x 600)\r\nConnection: close\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 200 OK" "a head under --max-header-size (1k)"
refused "431 Request Header Fields Too Large" \
	"GET / HTTP/1.1\r\nHost: origin.test\r\nX-Big: $(x 100000)\r\n\r\n"
# (known bug: heads between max_header_size and about max_header_size +
# 16k are accepted: 200, or closed without an answer near the top)
for n in 1500 4000 17000; do
	raw "GET / HTTP/1.1\r\nHost: origin.test\r\nX-Big: $(x "$n")\r\nConnection: close\r\n\r\n"
	soft expect_eq "$STATUS" "HTTP/1.1 431 Request Header Fields Too Large" \
		"status of a ${n}-byte field with --max-header-size 1k"
	healthy
done
raw "GET / HTTP/1.1\r\nHost: origin.test\r\n$(for i in $(seq 1 40); do printf 'X-F%s: %s\\r\\n' "$i" "$(x 60)"; done)Connection: close\r\n\r\n"
soft expect_eq "$STATUS" "HTTP/1.1 431 Request Header Fields Too Large" \
	"status of 40 fields of 60 bytes with --max-header-size 1k"
healthy
pass "head of 600 bytes served, 100000 bytes 431; 1.5k/4k/17k/40 fields over 1k checked (see soft failures)"

# ---- 413 ----
raw 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello'
expect_eq "$STATUS" "HTTP/1.1 100 Continue" "first line for a body within the limit with Expect"
expect_contains "$RAW" "HTTP/1.1 405 Method Not Allowed"
refused "413 Content Too Large" 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n'
expect_not_contains "$RAW" "100 Continue"
refused "413 Content Too Large" 'PUT / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 99999999999999\r\nExpect: 100-continue\r\n\r\n'
expect_not_contains "$RAW" "100 Continue"
refused "413 Content Too Large" "POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 101\r\n\r\n$(x 101)"
pass "Content-Length over --max-body-size: 413, no 100 Continue first (which a body within it gets)"

# a chunked body has no declared length: cut off once it passes the limit
# (known bug: the connection is dropped without an answer)
raw "POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n$(x 128)\r\n0\r\n\r\n"
soft expect_eq "$STATUS" "HTTP/1.1 413 Content Too Large" "status of a 128-byte chunked body over 100"
healthy
raw "POST / HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n10\r\n$(x 16)\r\n0\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 405 Method Not Allowed" "status of a 16-byte chunked body (within the limit)"
pass "chunked body within the limit reaches the handler; over it checked (see soft failures)"

# ---- 417 ----
refused "417 Expectation Failed" 'GET / HTTP/1.1\r\nHost: origin.test\r\nExpect: something\r\n\r\n'
expect_contains "$RAW" "unsupported expectation"
refused "417 Expectation Failed" 'POST / HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 2\r\nExpect: 100-continue, x\r\n\r\nab'
raw 'GET / HTTP/1.1\r\nHost: origin.test\r\nExpect: 100-Continue\r\nConnection: close\r\n\r\n'
expect_contains "$RAW" "HTTP/1.1 200 OK"
expect_not_contains "$RAW" "417"
pass "Expect: something and a list: 417; 100-continue in any case accepted"
