#!/usr/bin/env bash
# t0192: signals: SIGTERM (and SIGINT) make origind log "stopping" and exit
# 0 promptly, also with idle connections open (a keep-alive TLS client and
# a silent TCP client, under the default 30 s timeout), and stop
# listening; SIGHUP does not stop it.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl openssl

mkdir -p "$T/www"
echo "up" >"$T/www/index.html"

# stop_with SIGNAL NAME: send SIGNAL to $ORIGIN_PID, expect exit 0 within 3 s
stop_with() {
	local t0 ms
	t0=$(date +%s%N)
	kill "-$1" "$ORIGIN_PID"
	wait_bg "$2" 3
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect_eq "$RC" 0 "exit code of origind after SIG$1"
	expect_contains "$(cat "$T/$2.log")" "event=stopping"
	if (exec 3<>"/dev/tcp/127.0.0.1/$ORIGIN_PORT") 2>/dev/null; then
		fail "something still listens on $ORIGIN_PORT after SIG$1"
	fi
	note "SIG$1: exited 0 after ${ms} ms"
}

start_origind plain --docroot "$T/www"
expect_eq "$(ocurl /)" up "GET /"
stop_with TERM plain
pass "SIGTERM: exit 0 within 3 s, 'stopping' logged, port closed"

start_origind busy --docroot "$T/www"
# a keep-alive TLS client that stays connected (its input is a fifo this
# shell holds open) and a TCP client that never says anything
mkfifo "$T/ka.in"
exec 5<>"$T/ka.in"
# shellcheck disable=SC2016 # expanded by the inner bash
start_bg keepalive bash -c 'timeout 20 openssl s_client -quiet -connect "127.0.0.1:$0" \
	-servername origin.test -CAfile "$1" <"$2"' "$ORIGIN_PORT" "$T/pki/ca.pem" "$T/ka.in"
printf 'GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n' >&5
wait_log keepalive "up" 5
exec 6<>"/dev/tcp/127.0.0.1/$ORIGIN_PORT"
sleep 0.2
stop_with TERM busy
wait_bg keepalive 5 # the server's end closed the client's connection
exec 5>&- 6>&-
pass "SIGTERM with an idle keep-alive TLS client and a silent TCP client: exit 0 within 3 s"

start_origind int --docroot "$T/www"
stop_with INT int
pass "SIGINT: exit 0 within 3 s"

start_origind hup --docroot "$T/www"
kill -HUP "$ORIGIN_PID"
wait_log hup "event=sighup"
expect_eq "$(ocurl /)" up "GET / after SIGHUP"
kill -0 "$ORIGIN_PID" || fail "origind exited on SIGHUP"
stop_with TERM hup
pass "SIGHUP: logged, origind keeps serving (then SIGTERM stops it)"

# a CGI script that never answers (and its background child) must not
# hold the exit up, nor outlive origind
start_origind cgi --docroot "$T/www" --cgi-bin "$TEST_DIR/cgi-bin"
ocurl -o /dev/null "/cgi-bin/sleep.cgi" >/dev/null 2>&1 &
curl_pid=$!
for _ in $(seq 1 50); do
	pgrep -f "sleep 601" >/dev/null && break
	sleep 0.1
done
pg=$(pgrep -f "sleep 601" | head -n 1)
[[ -n $pg ]] || fail "sleep.cgi did not start"
pg=$(ps -o pgid= -p "$pg" | tr -d ' ')
stop_with TERM cgi
wait "$curl_pid" 2>/dev/null || true
sleep 0.2
live=$(ps -eo pgid=,stat= | awk -v g="$pg" '$1 == g && $2 !~ /^Z/' | wc -l)
expect_eq "$live" 0 "live processes of the script's group after origind stopped"
pass "SIGTERM with a CGI script running: exit 0 within 3 s, the script's process group killed"
