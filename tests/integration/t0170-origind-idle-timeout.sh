#!/usr/bin/env bash
# t0170: --connection-timeout (2 s here) closes connections that go quiet:
# a TCP connection that never starts TLS, a TLS connection that sends no
# request, one that stops in the middle of its request line, and a
# keep-alive connection idle after a response.  Meanwhile other clients
# are served without delay.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl curl

mkdir -p "$T/www"
echo "healthy" >"$T/www/index.html"
start_origind origind --docroot "$T/www" --connection-timeout 2s

# idle_tcp NAME: a TCP connection that sends nothing; its log ends with
# "rc=N ms=M": how long until the server closed it (cat's EOF)
idle_tcp() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c 's=$(date +%s%N); exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 9
		timeout 8 cat <&3 >/dev/null; rc=$?
		echo "rc=$rc ms=$((($(date +%s%N) - s) / 1000000))"' "$ORIGIN_PORT"
}

# idle_tls NAME: openssl s_client reading its input from the fifo
# $T/NAME.in, which this shell holds open (so s_client never sees EOF);
# write to fd ${FIFO[NAME]} to send.  Log ends with "rc=N ms=M".
declare -A FIFO
idle_tls() {
	local fd
	mkfifo "$T/$1.in"
	exec {fd}<>"$T/$1.in"
	FIFO[$1]=$fd
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c 's=$(date +%s%N)
		timeout 8 openssl s_client -quiet -connect "127.0.0.1:$0" -servername origin.test \
			-CAfile "$1" <"$2"; rc=$?
		echo "rc=$rc ms=$((($(date +%s%N) - s) / 1000000))"' \
		"$ORIGIN_PORT" "$T/pki/ca.pem" "$T/$1.in"
}

# closed_after NAME: wait for NAME to end; check it ended because the
# server closed the connection 1.5-4.5 s after it opened (not at once, not
# by our 8 s timeout)
closed_after() {
	local line rc ms
	wait_bg "$1" 10
	line=$(tail -n 1 "$T/$1.log")
	rc=$(sed -n 's/^rc=\([0-9]*\) .*/\1/p' <<<"$line")
	ms=$(sed -n 's/.* ms=\([0-9]*\)$/\1/p' <<<"$line")
	[[ -n $rc && -n $ms ]] || fail "$1: no result line in its log: $(_show "$(cat "$T/$1.log")")"
	[[ $rc -ne 124 ]] || fail "$1: the server did not close the idle connection within 8 s"
	((ms >= 1500 && ms <= 4500)) || fail "$1: closed after ${ms} ms, want about 2000 (--connection-timeout 2s)"
	note "$1 closed by the server after ${ms} ms"
}

idle_tcp tcp_silent
idle_tls tls_silent
idle_tls tls_partial
printf 'GET / HTT' >&"${FIFO[tls_partial]}"
idle_tls tls_keepalive
printf 'GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n' >&"${FIFO[tls_keepalive]}"
wait_log tls_keepalive "healthy" 3

# while those four hang on, others are served at once
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	expect_eq "$(ocurl -m 2 /)" "healthy" "GET / number $i while idle clients are connected"
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms < 1000)) || fail "GET / took ${ms} ms while idle clients were connected"
	sleep 0.2
done
pass "5 requests served (each under 1 s) while 4 idle connections are open"

closed_after tcp_silent
closed_after tls_silent
closed_after tls_partial
expect_not_contains "$(cat "$T/tls_partial.log")" "HTTP/1.1 200"
closed_after tls_keepalive
expect_contains "$(cat "$T/tls_keepalive.log")" "HTTP/1.1 200 OK"
pass "idle TCP, idle TLS, half a request line, idle keep-alive: each closed after about 2 s"

expect_eq "$(ocurl /)" "healthy" "GET / after the idle connections were closed"
pass "origind serves new connections afterwards"
