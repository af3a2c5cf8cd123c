#!/usr/bin/env bash
# t0421: edged refuses bytes that have no place in a request head (RFC 9110
# 5.5, RFC 9112 2.2 and 3.2, RFC 3986) before anything reaches the origin:
# a bare CR, a bare LF, a control byte or DEL in a field value; a NUL, a
# space or '(' in a field name; control bytes, a non-ASCII byte, a space
# and characters outside URIs ('"', '<', '>', '\', '^', '`', '{', '}', '|')
# in the target; bad percent-escapes, a fragment, a relative target, '*'
# with GET.  Each: 400 once, Connection: close, closed at once, no request
# head at the origin, and the edge keeps serving.  An HTAB in a value and
# every URI character in the target are forwarded.
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

# send REQUEST: eraw, plus MS = milliseconds until the edge closed
send() {
	local t0
	t0=$(date +%s%N)
	eraw "$1"
	MS=$((($(date +%s%N) - t0) / 1000000))
}

nstatus() { grep -ac '^HTTP/1' <<<"$RAW" || true; }

N=0
# bad400 REQUEST [WHY]: @P@ becomes a path no other request uses.  One
# answer "400 Bad Request" (with WHY), Connection: close, closed within
# 2 s; origind received no head (only our stats look) and never saw the
# path; a new connection to the edge is served.
bad400() {
	local req=$1 why=${2:-} h0 s p=""
	if [[ $req == *@P@* ]]; then
		N=$((N + 1))
		p="/r$N-"
		req=${req//@P@/$p}
	fi
	h0=$(heads)
	send "$req"
	expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" \
		"status line for $(_show "$req") (connection closed after ${MS} ms)"
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

# passes REQUEST: @P@ becomes /cgi-bin/env.cgi/pN-; 200 once from the
# origin, which counted that path; $BODYX is the answer's body
passes() {
	local req=$1 s p
	N=$((N + 1))
	p="/cgi-bin/env.cgi/p$N-"
	req=${req//@P@/$p}
	send "$req"
	expect_eq "$STATUS" "HTTP/1.1 200 OK" "status line for $(_show "$req")"
	expect_eq "$(nstatus)" 1 "status lines in the answer to $(_show "$req")"
	BODYX=${RAW#*$'\r\n\r\n'}
	s=$(ocurl /_origind/stats) || fail "GET /_origind/stats from origind"
	expect_eq "$(json_raw "$s" "$p")" 1 "origind's count of $p"
}

# ---- controls -----------------------------------------------------------------
passes 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\tb\r\nConnection: close\r\n\r\n'
expect_contains "$BODYX" $'HTTP_X_A=a\tb'
# shellcheck disable=SC2016 # a literal '$' (a URI sub-delim)
passes 'GET @P@?q=%22x%22&r=~!$()*+,;=:@/[] HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n'
# shellcheck disable=SC2016
expect_contains "$BODYX" 'QUERY_STRING=q=%22x%22&r=~!$()*+,;=:@/[]'
passes 'GET @P@ HTTP/1.1\r\nHost: edge.test:443\r\nX-Sp:   padded value  \r\nConnection: close\r\n\r\n'
expect_contains "$BODYX" "HTTP_X_SP=padded value"
pass "controls: HTAB in a value, every URI character in the target, OWS around a value: forwarded (200)"

# ---- field values and names -----------------------------------------------------
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\rb\r\n\r\n' "bare CR"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\r\r\n\r\n'
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\001b\r\n\r\n' "control character"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\033b\r\n\r\n' "control character"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\177b\r\n\r\n' "control character"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge\001.test\r\n\r\n'
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\nb\r\n\r\n'
pass "bare CR, 0x01, ESC, DEL in a field value (also in Host), a bare LF inside a field line: 400"

bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX\000A: a\r\n\r\n'
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX(A): a\r\n\r\n' "bad header field name"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX A: a\r\n\r\n' "bad header field name"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX\001A: a\r\n\r\n'
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nXA a\r\n\r\n'
pass "NUL, '(', space, 0x01 in a field name, a field line without a colon: 400"

bad400 'GET @P@ HTTP/1.1\r\nHost: edge test\r\n\r\n' "malformed Host"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test/x\r\n\r\n' "malformed Host"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test:44x\r\n\r\n' "malformed Host"
bad400 'GET @P@ HTTP/1.1\r\nHost: user@edge.test\r\n\r\n' "malformed Host"
# not a DNS name nor an IP literal (RFC 9110 4.2.3, RFC 1123 2.1): empty
# labels, '-' at a label's edge, escapes, sub-delims, a bad IPv4 or IPv6
# literal, a port over 65535, a label over 63 bytes, a name over 253
for host in 'edge..test' '.edge.test' 'edge.test..' '-edge.test' 'edge-.test' \
	'e%64ge.test' 'edge.$a.test' '999.0.0.1' '1.2.3' '[::1::2]' '[fe80::1%25lo]' \
	'edge.test:65536' 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test' 'abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefg.abcdefghijklm'; do
	bad400 "GET @P@ HTTP/1.1\r\nHost: $host\r\n\r\n" "malformed Host"
done
pass "a Host with a space, a path, a bad port, user info; not a DNS name or IP literal: 400"

# ---- the request-target ---------------------------------------------------------
bad400 'GET @P@\001b HTTP/1.1\r\nHost: edge.test\r\n\r\n' "invalid character in request-target"
bad400 'GET @P@\033b HTTP/1.1\r\nHost: edge.test\r\n\r\n'
bad400 'GET @P@\177b HTTP/1.1\r\nHost: edge.test\r\n\r\n'
bad400 'GET @P@\tb HTTP/1.1\r\nHost: edge.test\r\n\r\n'
bad400 'GET @P@\200b HTTP/1.1\r\nHost: edge.test\r\n\r\n'
bad400 'GET @P@\303\251 HTTP/1.1\r\nHost: edge.test\r\n\r\n'
bad400 'GET @P@?q=\001 HTTP/1.1\r\nHost: edge.test\r\n\r\n'
pass "control bytes (0x01, ESC, DEL, TAB) and non-ASCII bytes in the path or query: 400"

# shellcheck disable=SC1003 # a backslash, not an escape
for c in '"' '<' '>' '\\\\' '^' '`' '{' '}' '|'; do
	bad400 "GET @P@a${c}b HTTP/1.1\r\nHost: edge.test\r\n\r\n" "invalid character in request-target"
done
pass "characters outside URIs in the target (\" < > \\ ^ \` { } |): 400"

bad400 'GET @P@%zz HTTP/1.1\r\nHost: edge.test\r\n\r\n' "bad percent-escape"
bad400 'GET @P@%2 HTTP/1.1\r\nHost: edge.test\r\n\r\n' "bad percent-escape"
bad400 'GET @P@% HTTP/1.1\r\nHost: edge.test\r\n\r\n' "bad percent-escape"
bad400 'GET @P@#frag HTTP/1.1\r\nHost: edge.test\r\n\r\n' "fragment"
bad400 'GET index.html HTTP/1.1\r\nHost: edge.test\r\n\r\n' "not origin-form"
bad400 'GET * HTTP/1.1\r\nHost: edge.test\r\n\r\n' "only for OPTIONS"
bad400 'GET https:@P@ HTTP/1.1\r\nHost: edge.test\r\n\r\n'
pass "bad percent-escapes, a fragment, a relative target, '*' with GET, 'https:/x' (no authority): 400"

# ---- NUL bytes (RFC 9110 5.5): libmicrohttpd 0.9.75 cuts a value or the
# target at a NUL before edged's handler sees it (it measures them with
# strlen, CR and LF overwritten with NULs); edged finds the hidden bytes by
# accounting for every byte of the head: each line must start one (LF) or
# two (CRLF) NULs after the value before it, and the last value, its line
# end and the empty line must end the head.  So a NUL with anything after
# it on its line is 400.  (A NUL just before a bare LF looks like CR LF
# once libmicrohttpd is done, and hides nothing: not seen, and harmless.)
for v in 'a\000b' '\000b' 'a\000\000b' 'a\000\001' 'a\000\r' 'a\000 '; do
	bad400 "GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: $v\r\n\r\n" "NUL byte"
done
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\000\r\n\r\n' "NUL byte"
bad400 'GET @P@ HTTP/1.1\r\nX-A: a\000b\r\nHost: edge.test\r\n\r\n' "NUL byte"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\000evil.test\r\n\r\n' "NUL byte"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\000b\nX-B: c\n\n' "NUL byte"
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\000b\n\r\n' "NUL byte"
bad400 'GET @P@\000/../../etc/passwd HTTP/1.1\r\nHost: edge.test\r\n\r\n' "NUL byte in the request-target"
bad400 'GET @P@?a=1\000b HTTP/1.1\r\nHost: edge.test\r\n\r\n' "NUL byte in the request-target"
pass "a NUL in a field value (first, middle, last field; before CRLF; with bare LF ends), in Host, in the path or the query: 400"

# obs-fold (RFC 9112 5.2: a server must reject it or replace it with SP;
# libmicrohttpd joins the lines, edged sees the join and refuses)
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\nX-A: a\r\n b\r\n\r\n'
bad400 'GET @P@ HTTP/1.1\r\nX-A: a\r\n\tb\r\nHost: edge.test\r\n\r\n'
pass "obs-fold: 400"

# an invalid field line rejects the request it is in, never the one before
# it on the same connection: two pipelined requests, the second bad
send 'GET /cgi-bin/env.cgi/pipe1 HTTP/1.1\r\nHost: edge.test\r\n\r\nGET /cgi-bin/env.cgi/pipe2 HTTP/1.1\r\nHost: edge.test\r\nX-A: a\000b\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 200 OK" "the first of two pipelined requests"
expect_contains "$RAW" "PATH_INFO=/pipe1"
expect_contains "$RAW" $'HTTP/1.1 400 Bad Request'
expect_not_contains "$RAW" "PATH_INFO=/pipe2"
expect_eq "$(nstatus)" 2 "answers to two pipelined requests"
pass "pipelined: a NUL in the second request refuses that one only"

# bare LF line ends (RFC 9112 2.2 lets a recipient accept them): served
passes 'GET @P@ HTTP/1.1\nHost: edge.test\nX-A: b\nConnection: close\n\n'
passes 'GET @P@ HTTP/1.1\r\nHost: edge.test\nX-A: b\r\nConnection: close\n\r\n'
pass "lines ended by a bare LF: served"

# ---- a field line with an empty name (RFC 9110 5.1: a name is a token)
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\n: value\r\n\r\n'
bad400 'GET @P@ HTTP/1.1\r\n: value\r\nHost: edge.test\r\n\r\n'
bad400 'GET @P@ HTTP/1.1\r\nHost: edge.test\r\n :value\r\n\r\n'
pass "a field line with an empty name: 400"

# ---- a raw space in the target (edged bug found by this test: libmicrohttpd's
# strict mode drops the connection without any answer; with strict mode off
# edged's own target check answers 400)
bad400 'GET @P@ b HTTP/1.1\r\nHost: edge.test\r\n\r\n' "invalid character in request-target"
bad400 'GET @P@  HTTP/1.1\r\nHost: edge.test\r\n\r\n'
bad400 'GET @P@?q=a b HTTP/1.1\r\nHost: edge.test\r\n\r\n'
pass "a space inside the target: 400"
