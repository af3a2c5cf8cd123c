#!/usr/bin/env bash
# t0473: SIGTERM drains under load.  Twenty requests to a 3 s origin CGI
# (cache off) are in flight when SIGTERM comes: every one completes with
# 200 and its whole body, with Connection: close; new connections are
# refused at once (not left hanging); a keep-alive connection idle during
# the SIGTERM does not hold the exit up (edged exits as soon as the twenty
# are done, long before drain_timeout, and closes it); a keep-alive
# connection that sends a request during the drain is answered, with
# Connection: close, and closed; /healthz on the admin listener answers
# 503 during the drain (200 before); the log has drain.begin (inflight=20)
# and drain.done; exit 0.  With --drain-timeout 1s and a request that
# takes 5 s, edged exits 0 after about 1 s and logs drain.timeout.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl seq cmp

# the test's own CGI: marks its start in $T/started, waits, then answers a
# known body (about 100 KiB) naming the request
mkdir -p "$T/cgi" "$T/www" "$T/started"
echo healthy >"$T/www/index.html"
seq 1 20000 >"$T/body.txt"
cat >"$T/cgi/slow.cgi" <<EOF
#!/bin/sh
# slow.cgi?ID&SECONDS
id=\${QUERY_STRING%%&*}
n=\${QUERY_STRING#*&}
: >"$T/started/\$id"
sleep "\$n"
printf 'Content-Type: text/plain\\n\\n'
echo "slow \$id"
cat "$T/body.txt"
EOF
chmod 700 "$T/cgi/slow.cgi"
start_origind origin --docroot "$T/www" --cgi-bin "$T/cgi"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_started N: until N slow.cgi runs have started (10 s)
wait_started() {
	local n
	for ((n = 0; n < 100; n++)); do
		[[ $(find "$T/started" -type f | wc -l) -ge $1 ]] && return 0
		sleep 0.1
	done
	fail "only $(find "$T/started" -type f | wc -l) of $1 origin requests started within 10 s"
}

# session_open NAME: a TLS connection to the edge held open by openssl
# s_client, fed through the fifo $T/NAME.in (fd in SESSION_FD), its output
# in $T/NAME.out, pid in SESSION_PID
session_open() {
	mkfifo "$T/$1.in"
	openssl s_client -quiet -connect "127.0.0.1:$EDGE_PORT" -servername edge.test \
		-CAfile "$T/pki/ca.pem" -verify_return_error <"$T/$1.in" >"$T/$1.out" 2>"$T/$1.err" &
	SESSION_PID=$!
	exec {SESSION_FD}>"$T/$1.in"
}

# session_get FD NAME N: send GET / on the session, wait until its output
# holds N answers
session_get() {
	local n
	printf 'GET / HTTP/1.1\r\nHost: edge.test\r\n\r\n' >&"$1"
	for ((n = 0; n < 100; n++)); do
		[[ $(grep -c '^HTTP/1.1 200' "$T/$2.out" || true) -ge $3 ]] && return 0
		sleep 0.1
	done
	fail "session $2: $3 answer(s) wanted within 10 s: $(_show "$(cat "$T/$2.out" "$T/$2.err")")"
}

# gone PID SECONDS: the process has exited (the connection was closed)
gone() {
	local n
	for ((n = 0; n < $2 * 10; n++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

healthz() { acurl -o /dev/null -w '%{http_code}' /healthz 2>/dev/null || true; }

# ---- twenty requests in flight, an idle and a busy keep-alive connection ----
start_edged edge --no-cache --drain-timeout 20s
cd "$T"
expect_eq "$(ecurl /)" healthy "GET / through the edge"
expect_eq "$(healthz)" 200 "GET /healthz on the admin listener before SIGTERM"

session_open idle
idle_pid=$SESSION_PID idle_fd=$SESSION_FD
session_get "$idle_fd" idle 1
session_open busy
busy_pid=$SESSION_PID busy_fd=$SESSION_FD
session_get "$busy_fd" busy 1
expect_not_contains "$(cat busy.out)" "Connection: close"

pids=()
for i in $(seq 1 20); do
	ecurl -o "out.$i" -D "head.$i" -w '%{http_code}' "/cgi-bin/slow.cgi?$i&3" \
		>"code.$i" 2>"err.$i" &
	pids+=($!)
done
wait_started 20

t0=$(now_ms)
kill -TERM "$EDGE_PID"
wait_log edge "event=drain.begin"
expect_contains "$(grep -F event=drain.begin edge.log)" "inflight=20 "

# new connections: refused at once, not left waiting
t1=$(now_ms)
expect_rc 7 curl -sS --max-time 5 --cacert pki/ca.pem \
	--resolve "edge.test:$EDGE_PORT:127.0.0.1" "https://edge.test:$EDGE_PORT/"
ms=$(($(now_ms) - t1))
[[ $ms -lt 2000 ]] || fail "a new connection during the drain took $ms ms to fail"
if msg=$( (exec 3<>"/dev/tcp/127.0.0.1/$EDGE_PORT") 2>&1); then
	fail "edged accepted a TCP connection during the drain"
fi
expect_contains "$msg" "Connection refused"
expect_eq "$(healthz)" 503 "GET /healthz on the admin listener during the drain"

# the busy connection asks again during the drain: answered, with
# Connection: close, then closed
session_get "$busy_fd" busy 2
gone "$busy_pid" 5 || fail "edged did not close the keep-alive connection answered during the drain"
expect_eq "$(grep -ci '^Connection: close' busy.out)" 1 "Connection: close in the busy session's two answers"
pass "during the drain: new connections refused ($ms ms), a keep-alive request answered with Connection: close"

for i in $(seq 1 20); do
	wait "${pids[$((i - 1))]}" || fail "request $i failed during the drain: $(cat "code.$i" "err.$i")"
	expect_eq "$(cat "code.$i")" 200 "status of request $i"
	{ echo "slow $i"; cat body.txt; } >want
	cmp -s want "out.$i" || fail "request $i: body differs ($(wc -c <"out.$i") bytes, want $(wc -c <want))"
	grep -qi '^Connection: close' "head.$i" || fail "request $i: no Connection: close: $(_show "$(cat "head.$i")")"
done
wait_bg edge 25
ms=$(($(now_ms) - t0))
expect_eq "$RC" 0 "exit code after SIGTERM"
# the twenty needed up to 3 s; an idle connection holding the exit up
# would make it drain_timeout (20 s)
[[ $ms -lt 8000 ]] || fail "edged exited $ms ms after SIGTERM (drain_timeout 20 s; the requests needed 3 s)"
log=$(cat edge.log)
expect_contains "$log" "event=drain.done"
expect_not_contains "$log" "event=drain.timeout"
gone "$idle_pid" 3 || fail "the idle keep-alive connection was not closed when edged exited"
expect_eq "$(grep -c '^HTTP/1.1 200' idle.out)" 1 "answers on the idle connection"
exec {idle_fd}>&- {busy_fd}>&-
note "edged exited $ms ms after SIGTERM"
pass "20 requests in flight at SIGTERM all complete (200, whole body, Connection: close); idle keep-alive closed, not waited for; exit 0 with drain.begin/drain.done"

# ---- drain_timeout cuts what is still in flight ----
start_edged short --no-cache --drain-timeout 1s
ecurl -o out.long -w '%{http_code}' '/cgi-bin/slow.cgi?long&5' >code.long 2>err.long &
long=$!
wait_started 21
t0=$(now_ms)
kill -TERM "$EDGE_PID"
wait_bg short 10
ms=$(($(now_ms) - t0))
expect_eq "$RC" 0 "exit code after SIGTERM with a request past drain_timeout"
# (a request's thread blocked on the origin would hold MHD_stop_daemon up
# until the origin answers: past drain_timeout edged exits, cutting it)
exited_soon() {
	[[ $1 -ge 900 && $1 -lt 2500 ]] ||
		fail "edged exited $1 ms after SIGTERM with --drain-timeout 1s (want about 1 s)"
}
exited_soon "$ms"
log=$(cat short.log)
expect_contains "$log" "event=drain.timeout inflight=1 "
expect_not_contains "$log" "event=drain.done"
rc=0
wait "$long" || rc=$?
expect_ne "$(cat code.long)" 200 "status of the request cut by drain_timeout"
note "the cut request: curl exit $rc, status '$(cat code.long)', edged gone after $ms ms"
pass "--drain-timeout 1s with a 5 s request: exit 0, drain.timeout logged, the request cut (edged gone after $ms ms)"
