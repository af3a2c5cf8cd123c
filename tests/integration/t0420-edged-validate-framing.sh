#!/usr/bin/env bash
# t0420: edged refuses requests whose Host or message framing is ambiguous
# (RFC 9112 3.2, 6.1-6.3) in its first handler call, before any body is
# read and before anything reaches the origin: two Host fields, no Host in
# HTTP/1.1, Content-Length with Transfer-Encoding, two Content-Lengths,
# "Transfer-Encoding :" (space before the colon), transfer codings other
# than a final chunked (501 for unknown ones), chunked in HTTP/1.0, and
# Transfer-Encoding values that libmicrohttpd would not read as chunked.
# Each: one answer, Connection: close, the connection closed at once, no
# request head at the origin (origind --trace counts heads, its stats
# count paths), and the edge keeps serving.  Well-formed equivalents pass.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl

start_www_origind origin --trace --connection-timeout 5s
# connection_timeout 3s: a refused connection must close at once, not when
# the edge's idle timeout fires (checked below: under 2 s)
start_edged edge --connection-timeout 3s

# ---- helpers ----------------------------------------------------------------

# heads: request heads origind has received (with --trace it logs one
# step=decrypt line per head, before it validates it or reads a body)
heads() { grep -c 'step=decrypt' "$T/origin.log" || true; }

# send REQUEST: eraw, plus MS = milliseconds until the edge closed
send() {
	local t0
	t0=$(date +%s%N)
	eraw "$1"
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# nstatus: status lines in $RAW
nstatus() { grep -ac '^HTTP/1' <<<"$RAW" || true; }

N=0
# refused WANT REQUEST [WHY]: WANT is an ERE of status texts ("400 Bad
# Request"); @P@ in REQUEST becomes a path used by no other request.  The
# edge answers exactly once with that status and Connection: close and
# closes within 2 s; origind received no head (only our stats look) and
# never saw the path; a new connection to the edge is served.
refused() {
	local want=$1 req=$2 why=${3:-} h0 s p=""
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
	[[ $RAW != *"Server: origind"* ]] ||
		fail "$(_show "$req") was answered by the origin, not refused by the edge: $(_show "$RAW")"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	((MS < 2000)) || fail "the edge closed only after ${MS} ms (want at once): $(_show "$req")"
	[[ -z $why ]] || expect_contains "$RAW" "$why"
	s=$(ocurl /_origind/stats) || fail "GET /_origind/stats from origind"
	expect_eq "$(heads)" "$((h0 + 1))" "request heads at origind after $(_show "$req") (1: our stats look)"
	if [[ -n $p ]]; then
		expect_not_contains "$s" "\"$p"
		expect_not_contains "$(<"$T/origin.log")" "$p"
	fi
	ehealthy
}

# passes REQUEST BODY: @P@ becomes /cgi-bin/echo.cgi/pN- (echo.cgi sends
# the request body back); one answer "200 OK" whose body (possibly
# chunked) holds BODY, and origind counted that path once
passes() {
	local req=$1 body=$2 s p
	N=$((N + 1))
	p="/cgi-bin/echo.cgi/p$N-"
	req=${req//@P@/$p}
	send "$req"
	expect_eq "$STATUS" "HTTP/1.1 200 OK" "status line for $(_show "$req")"
	expect_eq "$(nstatus)" 1 "status lines in the answer to $(_show "$req")"
	expect_contains "${RAW#*$'\r\n\r\n'}" "$body"
	s=$(ocurl /_origind/stats) || fail "GET /_origind/stats from origind"
	expect_eq "$(json_raw "$s" "$p")" 1 "origind's count of $p"
}

# ---- controls: the well-formed equivalents reach the origin ----------------
passes 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n' ""
passes 'GET @P@ HTTP/1.0\r\n\r\n' ""
passes 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello' hello
passes 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n' hello
passes 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n' hello
passes 'POST @P@ HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello' hello
pass "controls: GET (1.1 with Host, 1.0 without), POST with Content-Length or chunked (any case) reach the origin (200)"

# ---- Host -------------------------------------------------------------------
refused "400 Bad Request" 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nHost: evil.test\r\n\r\n' \
	"more than one Host"
refused "400 Bad Request" 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nhost: edge.test\r\n\r\n'
refused "400 Bad Request" 'GET @P@ HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\nHOST: edge.test\r\n\r\n'
pass "two Host fields (same or different value, any case): 400"

# ---- Content-Length with Transfer-Encoding, two Content-Lengths -------------
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
	"both Content-Length and Transfer-Encoding"
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n'
expect_not_contains "$RAW" "100 Continue"
pass "Content-Length with Transfer-Encoding (either order, also with Expect): 400, no 100 Continue"

refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc' \
	"more than one Content-Length"
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 30\r\nContent-Length: 3\r\n\r\nabc'
refused "400 Bad Request" 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n'
pass "two Content-Lengths (same or different, either order): 400"

# Content-Length values that are not plain digits.  libmicrohttpd 0.9.75
# parses Content-Length itself before edged's handler runs; those it
# cannot parse (empty, a list, a sign, hex, negative, beyond 64 bits) it
# refuses itself (400/413) and closes, but it writes its status line and
# header block twice (its own error path: the same with strict mode off,
# and on origind; edged cannot change it).  The refusal, the close and
# "not at the origin" are checked hard; the repeated head is noted (and
# documented in the README's known limitations).
for v in '' '3, 3' '+3' '0x3' '-1' '99999999999999999999999'; do
	h0=$(heads)
	send "POST /cl-bad HTTP/1.1\r\nHost: edge.test\r\nContent-Length: $v\r\n\r\nabc"
	expect_match "$STATUS" '^HTTP/1\.1 (400 Bad Request|413 Content Too Large)$'
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
	((MS < 2000)) || fail "Content-Length '$v': closed only after ${MS} ms"
	ocurl -o /dev/null /_origind/stats || fail "GET /_origind/stats"
	expect_eq "$(heads)" "$((h0 + 1))" "request heads at origind after Content-Length '$v'"
	n=$(nstatus)
	[[ $n == 1 || $n == 2 ]] || fail "status lines in the answer to Content-Length '$v': $n"
	[[ $n == 1 ]] || note "Content-Length '$v': libmicrohttpd 0.9.75 wrote its 400 head twice (known limitation)"
	ehealthy
done
pass "Content-Length empty, '3, 3', +3, 0x3, -1, 2^76: refused, closed, not forwarded"

# ---- whitespace before the colon ---------------------------------------------
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nContent-Length : 3\r\n\r\nabc'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n'
pass "whitespace between a framing field's name and the colon: 400"

# ---- transfer codings ---------------------------------------------------------
refused "501 Not Implemented" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n' \
	"transfer coding not implemented"
refused "501 Not Implemented" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: identity\r\n\r\n'
refused "501 Not Implemented" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: x-chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: \r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
	"Transfer-Encoding in an HTTP/1.0 request"
pass "gzip,chunked / identity / x-chunked 501; chunked not last, twice, empty, in HTTP/1.0: 400"

# Obfuscated values: not a plain "chunked" (a parameter, quotes, inner
# space, stray list commas, trailing whitespace).  libmicrohttpd 0.9.75
# reads a body as chunked only when the whole value is "chunked" (any
# case), and otherwise reads "until close"; so anything the edge would
# take for chunked must be exactly that, or be refused: 400 (501 allowed
# for an unknown coding), at once, and never forwarded.
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked;q=1\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: "chunked"\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chu nked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
refused "400 Bad Request" 'POST @P@ HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\001\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
pass "Transfer-Encoding chunked;q=1, \"chunked\", chu nked, chunked^A: 400"
# (edged bug found by this test: trailing whitespace and empty list elements
# make edged take the body for chunked while libmicrohttpd reads it
# "until close": the viewer's raw chunk framing is forwarded wrapped in one
# chunk, the viewer gets no answer until connection_timeout)
for te in 'chunked ' 'chunked\t' ',chunked' 'chunked,' ', chunked'; do
	refused "400 Bad Request|501 Not Implemented" \
		"POST @P@ HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\nTransfer-Encoding: $te\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
done
pass "Transfer-Encoding 'chunked ', 'chunked<TAB>', ',chunked', 'chunked,', ', chunked': refused, not forwarded"

# ---- no Host in HTTP/1.1, and a Host libmicrohttpd's strict mode will not see
# (edged bug found by this test: libmicrohttpd's strict mode answers these
# itself, with its status line and header block twice; with strict mode
# off edged's own check answers once)
refused "400 Bad Request" 'GET @P@ HTTP/1.1\r\nUser-Agent: t0420\r\n\r\n'
refused "400 Bad Request" 'GET @P@ HTTP/1.1\r\nHost : edge.test\r\n\r\n'
refused "400 Bad Request" 'GET @P@ HTTP/1.1\r\n Host: edge.test\r\n\r\n'
pass "HTTP/1.1 without Host, 'Host :', whitespace before the first field: 400, once"
