#!/usr/bin/env bash
# t0422: request methods at the edge.  GET, HEAD, POST, PUT, DELETE,
# OPTIONS and PATCH reach the origin unchanged; a method that is not a
# token is 400; TRACE and CONNECT are answered by the edge itself with 405
# and an Allow field that offers neither, without echoing the request, and
# the connection closes; methods are case-sensitive (RFC 9110 9.1), so a
# lower-case or mixed-case "get" is not GET: the edge refuses it instead
# of passing it on.  Nothing refused reaches the origin; the edge keeps
# serving.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl

start_www_origind origin --trace --connection-timeout 5s
start_edged edge --connection-timeout 3s

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

N=0
# refused WANT REQUEST: WANT an ERE of status texts; @P@ becomes a path no
# other request uses.  One answer with that status from the edge,
# Connection: close, closed within 2 s; origind received no head (only our
# stats look) and never saw the path; a new connection is served.
refused() {
	local want=$1 req=$2 h0 s p=""
	if [[ $req == *@P@* ]]; then
		N=$((N + 1))
		p="/r$N-"
		req=${req//@P@/$p}
	fi
	h0=$(heads)
	send "$req"
	[[ $STATUS =~ ^HTTP/1\.1\ ($want)$ ]] ||
		fail "status line for $(_show "$req"): '$STATUS' (connection closed after ${MS} ms), want HTTP/1.1 $want"
	expect_eq "$(nstatus)" 1 "status lines in the answer to $(_show "$req")"
	[[ $RAW == *$'\r\nServer: edged\r\n'* ]] ||
		fail "$(_show "$req") was answered by the origin, not refused by the edge: $(_show "$RAW")"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	((MS < 2000)) || fail "the edge closed only after ${MS} ms (want at once): $(_show "$req")"
	s=$(ocurl /_origind/stats) || fail "GET /_origind/stats from origind"
	expect_eq "$(heads)" "$((h0 + 1))" "request heads at origind after $(_show "$req") (1: our stats look)"
	if [[ -n $p ]]; then
		expect_not_contains "$s" "\"$p"
		expect_not_contains "$(<"$T/origin.log")" "$p"
	fi
	ehealthy
}

# ---- controls: the seven methods reach the origin's script unchanged -------
for m in GET HEAD POST PUT DELETE OPTIONS PATCH; do
	p="/cgi-bin/echo.cgi/$m-ok"
	send "$m $p HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
	expect_eq "$STATUS" "HTTP/1.1 200 OK" "status of $m through the edge"
	expect_eq "$(nstatus)" 1 "status lines in the answer to $m"
	if [[ $m == HEAD ]]; then
		expect_not_contains "${RAW#*$'\r\n\r\n'}" "hello"
	else
		expect_contains "${RAW#*$'\r\n\r\n'}" "hello"
	fi
	expect_contains "$(<"$T/origin.log")" "method=$m path=$p status=200"
done
pass "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH reach the origin with their method (200)"

# ---- not a token --------------------------------------------------------------
for m in 'G(ET' 'G@T' 'GE,T' 'GE/T' 'GET\001' 'G\177ET' 'GE\200T'; do
	refused "400 Bad Request" "$m @P@ HTTP/1.1\r\nHost: edge.test\r\n\r\n"
	expect_contains "$RAW" "method is not a token"
done
pass "methods that are not tokens ( ( @ , / 0x01 DEL 0x80 ): 400"

# ---- TRACE and CONNECT ----------------------------------------------------------
# no405 REQUEST: refused 405 with an Allow that offers neither TRACE nor
# CONNECT, and the request is not echoed
no405() {
	local allow
	refused "405 Method Not Allowed" "$1"
	allow=$(grep -ai '^Allow:' <<<"$RAW" | tr -d '\r')
	[[ -n $allow ]] || fail "405 without an Allow field: $(_show "$RAW")"
	expect_not_contains "$allow" "TRACE"
	expect_not_contains "$allow" "CONNECT"
	expect_contains "$allow" "GET"
	expect_not_contains "$RAW" "X-Secret"
	expect_not_contains "$RAW" "s3cr3t"
}
no405 'TRACE @P@ HTTP/1.1\r\nHost: edge.test\r\nX-Secret: s3cr3t\r\nCookie: s3cr3t\r\n\r\n'
no405 'TRACE * HTTP/1.1\r\nHost: edge.test\r\nX-Secret: s3cr3t\r\n\r\n'
no405 'TRACE @P@ HTTP/1.1\r\nHost: edge.test\r\nMax-Forwards: 0\r\nX-Secret: s3cr3t\r\n\r\n'
no405 'TRACE https://edge.test@P@ HTTP/1.1\r\nHost: edge.test\r\nX-Secret: s3cr3t\r\n\r\n'
no405 'TRACE @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n'
expect_not_contains "$RAW" "100 Continue"
pass "TRACE (origin-form, *, Max-Forwards: 0, absolute-form, with a body): 405 by the edge, no echo, closed"
no405 'CONNECT edge.test:443 HTTP/1.1\r\nHost: edge.test:443\r\n\r\n'
no405 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'
no405 "CONNECT 127.0.0.1:$ORIGIN_PORT HTTP/1.1\r\nHost: 127.0.0.1:$ORIGIN_PORT\r\n\r\n"
no405 'CONNECT @P@ HTTP/1.1\r\nHost: edge.test\r\n\r\n'
pass "CONNECT (to the edge, to port 22, to the origin, origin-form): 405 by the edge, closed"

# ---- extension methods: the edge may pass a well-formed unknown method on,
# but then unchanged (the origin answers 501), or refuse it itself (501/405)
for m in FOO PROPFIND; do
	h0=$(heads)
	send "$m /ext-$m HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n"
	expect_eq "$(nstatus)" 1 "status lines in the answer to $m"
	expect_match "$STATUS" '^HTTP/1\.1 (501 Not Implemented|405 Method Not Allowed)$'
	if [[ $RAW == *$'\r\nServer: edged\r\n'* ]]; then
		note "$m: refused by the edge ($STATUS)"
	else
		expect_contains "$(<"$T/origin.log")" "method=$m path=/ext-$m"
		note "$m: passed on unchanged, the origin answered $STATUS"
	fi
	ehealthy
done
pass "extension methods FOO, PROPFIND: 501 (from the edge or, unchanged, from the origin)"

# ---- methods are case-sensitive (edged bug found by this test: a lower-case
# or mixed-case method is a different, unknown method, yet the edge passes
# it to the origin instead of refusing it as the issue requires)
for m in get Get head post trace Trace connect; do
	refused "400 Bad Request|405 Method Not Allowed|501 Not Implemented" \
		"$m @P@ HTTP/1.1\r\nHost: edge.test\r\n\r\n"
done
pass "lower-case and mixed-case methods (get, Get, head, post, trace, Trace, connect): refused by the edge"
