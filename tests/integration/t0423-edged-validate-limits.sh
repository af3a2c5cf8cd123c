#!/usr/bin/env bash
# t0423: request limits at the edge, and the request forms it accepts.  A
# target over --max-url-length gets 414, a head over --max-header-size 431,
# a Content-Length over --max-body-size 413 at once (with "Expect:
# 100-continue": no "100 Continue" first, so not even a 10 GB body is
# invited), a chunked body that grows past it 413; an expectation other
# than 100-continue 417.  Each: one answer, Connection: close, closed at
# once, nothing at the origin (a chunked body is streamed: the origin sees
# its start, never a complete request).  Requests just within the limits
# reach the origin; HTTP/1.0 without Host works; an absolute-form target
# (GET https://edge.test/path) is accepted and reaches the origin in
# origin-form; with forward_host its authority becomes the Host, so it is
# validated like a Host.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl

start_www_origind origin --trace --connection-timeout 5s
start_edged edge --connection-timeout 3s \
	--max-url-length 100 --max-header-size 1k --max-body-size 100

# ---- helpers (as in t0420) --------------------------------------------------

# heads: request heads origind has received (--trace: one step=decrypt
# line per head, logged before it validates it or reads a body)
heads() { grep -c 'step=decrypt' "$T/origin.log" || true; }

send() {
	local t0
	t0=$(date +%s%N)
	eraw "$1"
	MS=$((($(date +%s%N) - t0) / 1000000))
}

nstatus() { grep -ac '^HTTP/1' <<<"$RAW" || true; }

x() { head -c "$1" /dev/zero | tr '\0' x; }

# refused WANT REQUEST [PATH]: one answer "HTTP/1.1 WANT", Connection:
# close, closed within 2 s; origind received no head (only our stats
# look) and never saw PATH; a new connection to the edge is served.
refused() {
	local want=$1 req=$2 p=${3:-} h0 s
	h0=$(heads)
	send "$req"
	expect_eq "$STATUS" "HTTP/1.1 $want" \
		"status line for $(_show "${req:0:300}") (connection closed after ${MS} ms)"
	expect_eq "$(nstatus)" 1 "status lines in the answer to $(_show "${req:0:300}")"
	[[ $RAW != *"Server: origind"* ]] ||
		fail "$(_show "${req:0:300}") was answered by the origin, not refused by the edge: $(_show "$RAW")"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	((MS < 2000)) || fail "the edge closed only after ${MS} ms (want at once): $(_show "${req:0:300}")"
	s=$(ocurl /_origind/stats) || fail "GET /_origind/stats from origind"
	expect_eq "$(heads)" "$((h0 + 1))" "request heads at origind after $(_show "${req:0:300}") (1: our stats look)"
	if [[ -n $p ]]; then
		expect_not_contains "$s" "\"$p"
		expect_not_contains "$(<"$T/origin.log")" "$p"
	fi
	ehealthy
}

# reached PATH [COUNT]: origind's stats count PATH COUNT (default 1) times
reached() {
	local s
	s=$(ocurl /_origind/stats) || fail "GET /_origind/stats from origind"
	expect_eq "$(json_raw "$s" "$1")" "${2:-1}" "origind's count of $1"
}

E=/cgi-bin/echo.cgi # echoes the request body

# ---- 414 ----------------------------------------------------------------------
p="/u1-$(x 96)" # 100 bytes: exactly --max-url-length
send "GET $p HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 404 Not Found" "a target of exactly --max-url-length (100)"
reached "$p"
refused "414 URI Too Long" "GET /u2-$(x 97) HTTP/1.1\r\nHost: edge.test\r\n\r\n" "/u2-"
expect_contains "$RAW" "request-target too long"
refused "414 URI Too Long" "GET /u3-?q=$(x 200) HTTP/1.1\r\nHost: edge.test\r\n\r\n" "/u3-"
refused "414 URI Too Long" "GET https://edge.test/u4-$(x 90) HTTP/1.1\r\nHost: edge.test\r\n\r\n" "/u4-"
refused "414 URI Too Long" "GET /u5-$(x 40000) HTTP/1.1\r\nHost: edge.test\r\n\r\n" "/u5-"
pass "target of 100 bytes forwarded; 101 bytes, a long query, a long absolute-form, 40000 bytes: 414"

# ---- 431 ----------------------------------------------------------------------
send "GET /h1- HTTP/1.1\r\nHost: edge.test\r\nX-Big: $(x 600)\r\nConnection: close\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 404 Not Found" "a head under --max-header-size (1k)"
reached /h1-
refused "431 Request Header Fields Too Large" \
	"GET /h2- HTTP/1.1\r\nHost: edge.test\r\nX-Big: $(x 1000)\r\n\r\n" /h2-
expect_contains "$RAW" "request head larger than max_header_size"
for n in 1500 4000 17000 100000; do
	refused "431 Request Header Fields Too Large" \
		"GET /h3-$n- HTTP/1.1\r\nHost: edge.test\r\nX-Big: $(x "$n")\r\n\r\n" "/h3-$n-"
done
refused "431 Request Header Fields Too Large" \
	"GET /h4- HTTP/1.1\r\nHost: edge.test\r\n$(for i in $(seq 1 40); do printf 'X-F%s: %s\\r\\n' "$i" "$(x 20)"; done)\r\n" /h4-
refused "431 Request Header Fields Too Large" \
	"GET /h5- HTTP/1.1\r\nHost: edge.test\r\n$(for i in $(seq 1 400); do printf 'X-F%s: y\\r\\n' "$i"; done)\r\n" /h5-
pass "head of 600 bytes forwarded; one field of 1000/1500/4000/17000/100000 bytes, 40 fields of 20, 400 small fields: 431"

# ---- 413 ----------------------------------------------------------------------
send "POST $E/b1- HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello"
expect_eq "$STATUS" "HTTP/1.1 100 Continue" "first line for a body within the limit with Expect"
expect_contains "$RAW" $'\r\n\r\nHTTP/1.1 200 OK\r\n'
expect_eq "$(nstatus)" 2 "status lines (100 Continue, then 200)"
expect_contains "$RAW" "hello"
reached "$E/b1-"
send "POST $E/b2- HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 100\r\nConnection: close\r\n\r\n$(x 100)"
expect_eq "$STATUS" "HTTP/1.1 200 OK" "a body of exactly --max-body-size (100)"
expect_contains "$RAW" "$(x 100)"
reached "$E/b2-"
pass "bodies within --max-body-size reach the origin (100 Continue first when asked for)"

refused "413 Content Too Large" \
	"POST $E/b3- HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n" "$E/b3-"
expect_not_contains "$RAW" "100 Continue"
expect_contains "$RAW" "request body larger than the limit"
refused "413 Content Too Large" \
	"PUT $E/b4- HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 10737418240\r\nExpect: 100-continue\r\n\r\n" "$E/b4-"
expect_not_contains "$RAW" "100 Continue"
refused "413 Content Too Large" \
	"POST $E/b5- HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 101\r\n\r\n" "$E/b5-"
refused "413 Content Too Large" \
	"POST $E/b6- HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 101\r\n\r\n$(x 101)" "$E/b6-"
pass "Content-Length over --max-body-size (101, 10 GB; with Expect, no body, whole body): 413 at once, no 100 Continue"

# a chunked body declares no length: it is streamed, and refused once it
# grows past the limit; the origin may have seen its start but never
# completes that request
for req in "80\r\n$(x 128)\r\n0\r\n\r\n" "40\r\n$(x 64)\r\n40\r\n$(x 64)\r\n0\r\n\r\n"; do
	N=$((${N:-0} + 1))
	p="$E/c$N-"
	send "POST $p HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n$req"
	expect_eq "$STATUS" "HTTP/1.1 413 Content Too Large" "status of a 128-byte chunked body over 100"
	expect_eq "$(nstatus)" 1 "status lines in the answer to a chunked body over the limit"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	((MS < 2000)) || fail "chunked body over the limit: closed only after ${MS} ms"
	ehealthy
	expect_not_contains "$(<"$T/origin.log")" "path=$p status=200"
done
send "POST $E/c9- HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n10\r\n$(x 16)\r\n0\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 100 Continue" "first line for a chunked body within the limit with Expect"
expect_contains "$RAW" $'\r\n\r\nHTTP/1.1 200 OK\r\n'
expect_contains "$RAW" "$(x 16)"
reached "$E/c9-"
pass "chunked body over the limit (one chunk, two chunks): 413, the origin never completes it; within it: forwarded"

# ---- 417 ----------------------------------------------------------------------
refused "417 Expectation Failed" 'GET /e1- HTTP/1.1\r\nHost: edge.test\r\nExpect: something\r\n\r\n' /e1-
expect_contains "$RAW" "unsupported expectation"
refused "417 Expectation Failed" \
	'POST /e2- HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 2\r\nExpect: 100-continue, x\r\n\r\nab' /e2-
pass "Expect other than 100-continue: 417"

# ---- HTTP/1.0 without Host ------------------------------------------------------
send 'GET / HTTP/1.0\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "HTTP/1.0 without Host"
expect_contains "$RAW" "healthy"
send "POST $E/v1- HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello"
expect_eq "$STATUS" "HTTP/1.1 200 OK" "HTTP/1.0 POST without Host"
expect_contains "$RAW" "hello"
reached "$E/v1-"
pass "HTTP/1.0 requests without Host (GET, POST) are served"

# ---- absolute-form ------------------------------------------------------------
send 'GET https://edge.test/cgi-bin/env.cgi/a1-?x=1 HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "absolute-form GET"
expect_contains "$RAW" "REQUEST_URI=/cgi-bin/env.cgi/a1-?x=1"$'\n'
expect_contains "$RAW" "HTTP_HOST=127.0.0.1:$ORIGIN_PORT"$'\n'
reached /cgi-bin/env.cgi/a1-
send 'GET http://www.edge.test:8443/cgi-bin/env.cgi/a2- HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "absolute-form http:// GET with another Host"
expect_contains "$RAW" "REQUEST_URI=/cgi-bin/env.cgi/a2-"$'\n'
send 'GET HTTPS://EDGE.TEST HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "absolute-form without a path"
expect_contains "$RAW" "healthy"
send 'GET https://edge.test?q=1 HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "absolute-form with a query and no path"
pass "absolute-form targets (https, http, upper case, no path) reach the origin in origin-form"

# with forward_host the target's authority is the Host the origin gets
# (RFC 9112 3.2.2: it replaces the Host field)
EP1=$EDGE_PORT
start_edged fwd --forward-host --connection-timeout 3s
send 'GET https://www.edge.test/cgi-bin/env.cgi/a3- HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "absolute-form through a forward_host edge"
expect_contains "$RAW" "HTTP_HOST=www.edge.test"$'\n'
expect_contains "$RAW" "REQUEST_URI=/cgi-bin/env.cgi/a3-"$'\n'
pass "forward_host: an absolute-form target's authority is the Host sent to the origin"

# ... so a malformed authority must be refused like a malformed Host (edged
# bug found by this test: it is passed to the origin as its Host unchecked,
# and only origind's own Host check refuses it)
refused "400 Bad Request" 'GET https://user@edge.test/a4- HTTP/1.1\r\nHost: edge.test\r\n\r\n' /a4-
refused "400 Bad Request" 'GET https://edge.test:8x/a5- HTTP/1.1\r\nHost: edge.test\r\n\r\n' /a5-
refused "400 Bad Request" 'GET https://:443/a6- HTTP/1.1\r\nHost: edge.test\r\n\r\n' /a6-
pass "forward_host: absolute-form with user info, a bad port, no host: 400 at the edge"
EDGE_PORT=$EP1
