#!/usr/bin/env bash
# t0424: slow clients (slowloris).  libmicrohttpd resets its idle timeout
# on every byte; edged's watchdog closes any connection that has not
# completed its TLS handshake and request head within --header-timeout
# (1 s here), however it trickles bytes: a plain-HTTP head sent one byte
# every 0.3 s, the same over TLS, a TCP connection that never starts TLS,
# a partial ClientHello, a ClientHello trickled byte by byte, a plain-HTTP
# connection that sends nothing.  Each is closed about 1 s after it
# connected (0.9-2.5 s), while other clients are served at once.  A slow
# request body is not cut (the deadline is for the head).  A keep-alive
# connection idle after a completed request is not cut at header_timeout
# but at --connection-timeout (3 s); one that trickles its next head is cut
# within connection_timeout + header_timeout of the previous answer.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl od

start_www_origind origin --connection-timeout 10s
HP=$(free_port)
start_edged edge --header-timeout 1s --connection-timeout 3s \
	--listen-http "127.0.0.1:$HP" --viewer-protocol-policy allow-all
wait_port "$HP"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# hexof STRING: the bytes of printf %b STRING as hex pairs ("47 45 54 ...")
hexof() { printf '%b' "$1" | od -An -v -tx1 | tr -s ' \n' '  '; }

# tcp_client NAME PORT HEX DELAY: connect to 127.0.0.1:PORT, send the
# bytes HEX one every DELAY seconds (HEX empty: send nothing), and read
# until the server closes (at most 8 s).  What the server sent is in
# $T/NAME.out; the log's last line is "rc=N ms=M": cat's exit code (124:
# our 8 s ran out) and the milliseconds from connect to the close.
tcp_client() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c '
		s=$(date +%s%N)
		exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 9
		( for b in $1; do printf "\\x$b" >&3 2>/dev/null || exit 0; sleep "$2"; done ) &
		w=$!
		timeout 8 cat <&3 >"$3"; rc=$?
		echo "rc=$rc ms=$((($(date +%s%N) - s) / 1000000))"
		kill "$w" 2>/dev/null; wait "$w" 2>/dev/null
		exit 0' "$2" "$3" "$4" "$T/$1.out"
}

# tls_client NAME HEX DELAY: the same over TLS to the edge (openssl
# s_client, verified, SNI edge.test): the handshake at once, then the bytes
# HEX one every DELAY seconds.  ms counts from before s_client started.
tls_client() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c '
		s=$(date +%s%N)
		{ for b in $1; do printf "\\x$b" || exit 0; sleep "$2"; done; } |
			{ timeout 8 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$0" \
				-servername edge.test -verify_return_error -CAfile "$3" >"$4" 2>/dev/null
			  rc=$?
			  echo "rc=$rc ms=$((($(date +%s%N) - s) / 1000000))"; }
		exit 0' "$EDGE_PORT" "$2" "$3" "$T/pki/ca.pem" "$T/$1.out"
}

# closed_after NAME MIN MAX: NAME ended because the server closed its
# connection MIN-MAX ms after it connected (not by our 8 s timeout)
closed_after() {
	local line rc ms
	wait_bg "$1" 12
	line=$(tail -n 1 "$T/$1.log")
	rc=$(sed -n 's/^rc=\([0-9]*\) .*/\1/p' <<<"$line")
	ms=$(sed -n 's/.* ms=\([0-9]*\)$/\1/p' <<<"$line")
	[[ -n $rc && -n $ms ]] || fail "$1: no result line in its log: $(_show "$(cat "$T/$1.log")")"
	[[ $rc -ne 124 ]] || fail "$1: the edge did not close the connection within 8 s"
	((ms >= $2 && ms <= $3)) || fail "$1: closed after ${ms} ms, want $2-$3 ms"
	note "$1 closed by the edge after ${ms} ms"
}

# a request head of 80 bytes: 24 s at one byte per 0.3 s
HEAD_REQ='GET / HTTP/1.1\r\nHost: edge.test\r\nUser-Agent: slowloris\r\nX-Pad: aaaaaaaaaaaaaaaaaaaa\r\n\r\n'
HELLO_START='\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'

# ---- slow heads and handshakes ----------------------------------------------
tcp_client http_trickle "$HP" "$(hexof "$HEAD_REQ")" 0.3
tcp_client http_silent "$HP" "" 0
tcp_client tls_tcp_silent "$EDGE_PORT" "" 0
tcp_client tls_partial_hello "$EDGE_PORT" "$(hexof "$HELLO_START")" 0
tcp_client tls_trickle_hello "$EDGE_PORT" "$(hexof "$HELLO_START$(printf 'r%.0s' {1..60})")" 0.3
tls_client tls_trickle_head "$(hexof "$HEAD_REQ")" 0.3

# ---- meanwhile, other clients are served at once --------------------------------
for i in 1 2 3 4 5; do
	t0=$(now_ms)
	expect_eq "$(ecurl -m 2 /)" "healthy" "HTTPS GET / number $i while slow clients hold connections"
	expect_eq "$(timeout 5 curl -sS -m 2 -H 'Host: edge.test' "http://127.0.0.1:$HP/")" "healthy" \
		"HTTP GET / number $i while slow clients hold connections"
	ms=$(($(now_ms) - t0))
	((ms < 1000)) || fail "two GETs took ${ms} ms while slow clients were connected"
	sleep 0.25
done
pass "10 requests (HTTPS and HTTP) served, each pair under 1 s, while 6 slow clients are connected"

closed_after http_trickle 900 2500
closed_after http_silent 900 2500
closed_after tls_tcp_silent 900 2500
closed_after tls_partial_hello 900 2500
closed_after tls_trickle_hello 900 2500
closed_after tls_trickle_head 900 2500
for c in http_trickle http_silent tls_tcp_silent tls_partial_hello tls_trickle_hello tls_trickle_head; do
	expect_not_contains "$(cat "$T/$c.out")" "HTTP/1.1 200"
done
expect_contains "$(cat "$T/edge.log")" "event=viewer.timeout fd="
expect_contains "$(cat "$T/edge.log")" "waiting_for=handshake+head"
expect_contains "$(cat "$T/edge.log")" "waiting_for=head"
pass "trickled HTTP head, silent HTTP, silent TCP on TLS, partial and trickled ClientHello, trickled TLS head: closed after ~1 s"

# ---- a slow body is not a slow head -------------------------------------------
# plain HTTP, head at once, body one byte every 0.3 s (3 s in all, three
# times header_timeout)
exec {SB}<>"/dev/tcp/127.0.0.1/$HP"
printf 'POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 10\r\nConnection: close\r\n\r\n' >&"$SB"
for b in s l o w - b o d y !; do
	sleep 0.3
	printf "%s" "$b" 1>&"$SB" 2>/dev/null || fail "the edge closed the connection during a slow body (head complete)"
done
SBOUT=$(timeout 5 cat <&"$SB") || true
exec {SB}>&-
expect_contains "$SBOUT" "HTTP/1.1 200 OK"
expect_contains "$SBOUT" "slow-body!"
pass "a body trickled over 3 s after a complete head is not cut by header_timeout (200, echoed)"

# ---- keep-alive: idle after an answer ------------------------------------------
# ka_client NAME: s_client reading from the fifo $T/NAME.in (held open by
# this shell, fd in KA[NAME]); its log ends with "rc=N end=EPOCH-MS"
declare -A KA KA_PID
ka_client() {
	local fd
	mkfifo "$T/$1.in"
	exec {fd}<>"$T/$1.in"
	KA[$1]=$fd
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c '
		timeout 14 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$0" -servername edge.test \
			-verify_return_error -CAfile "$1" <"$2" 2>/dev/null; rc=$?
		echo "rc=$rc end=$(($(date +%s%N) / 1000000))"' \
		"$EDGE_PORT" "$T/pki/ca.pem" "$T/$1.in"
	KA_PID[$1]=${_BG_PIDS[-1]}
}

# answers NAME N: wait (3 s) until NAME's log shows N answers
answers() {
	local i
	for i in $(seq 1 30); do
		(($(grep -c '^healthy' "$T/$1.log" || true) >= $2)) && return 0
		sleep 0.1
	done
	fail "$1: $2 answer(s) not seen within 3 s: $(_show "$(cat "$T/$1.log")")"
}

# ended_at NAME: wait for NAME to end; the epoch ms at which it ended
ended_at() {
	local line rc
	wait_bg "$1" 12
	line=$(tail -n 1 "$T/$1.log")
	rc=$(sed -n 's/^rc=\([0-9]*\) .*/\1/p' <<<"$line")
	[[ -n $rc ]] || fail "$1: no result line in its log: $(_show "$(cat "$T/$1.log")")"
	[[ $rc -ne 124 ]] || fail "$1: the edge did not close the keep-alive connection within 14 s"
	sed -n 's/.* end=\([0-9]*\)$/\1/p' <<<"$line"
}

REQ=$'GET / HTTP/1.1\r\nHost: edge.test\r\n\r\n'
ka_client ka_idle
ka_client ka_trickle
printf '%s' "$REQ" >&"${KA[ka_idle]}"
printf '%s' "$REQ" >&"${KA[ka_trickle]}"
answers ka_idle 1
R1=$(now_ms)
answers ka_trickle 1
R1T=$(now_ms)

# ka_trickle: the next head, one byte every 0.3 s (4.8 s for the request
# line alone): the idle allowance (3 s + 1 s from the answer) runs out
(
	for ((i = 0; i < ${#REQ}; i++)); do
		printf '%s' "${REQ:i:1}" >&"${KA[ka_trickle]}" || exit 0
		sleep 0.3
	done
) &
_BG_PIDS+=("$!")
_BG_NAMES+=(ka_trickle_writer)

# ka_idle: still open 1.5 s after its answer (past header_timeout), and a
# second request on it is served
sleep 1.5
kill -0 "${KA_PID[ka_idle]}" 2>/dev/null || fail "ka_idle: the keep-alive connection was closed within 1.5 s of its answer (header_timeout 1 s must not apply to idle time)"
printf '%s' "$REQ" >&"${KA[ka_idle]}"
answers ka_idle 2
R2=$(now_ms)
note "ka_idle: second request served $((R2 - R1)) ms after the first answer"

END=$(ended_at ka_idle)
ms=$((END - R2))
((ms >= 2000 && ms <= 4500)) ||
	fail "ka_idle: closed ${ms} ms after its last answer, want about 3000 (--connection-timeout 3s), not header_timeout"
note "ka_idle: closed ${ms} ms after its last answer"
pass "an idle keep-alive connection: open past header_timeout (second request served at 1.5 s), closed at connection_timeout"

END=$(ended_at ka_trickle)
ms=$((END - R1T))
((ms >= 3000 && ms <= 5500)) ||
	fail "ka_trickle: closed ${ms} ms after its answer, want about 4000 (connection_timeout 3 s + header_timeout 1 s)"
note "ka_trickle: closed ${ms} ms after its answer"
expect_contains "$(cat "$T/edge.log")" "waiting_for=idle"
expect_eq "$(grep -c '^healthy' "$T/ka_trickle.log" || true)" 1 "answers on ka_trickle (the trickled second head must not be served)"
stop_bg ka_trickle_writer
pass "a keep-alive connection trickling its next head: closed within connection_timeout + header_timeout"

expect_eq "$(ecurl /)" "healthy" "GET / after the slow clients were closed"
pass "the edge serves new connections afterwards"
