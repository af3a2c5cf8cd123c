#!/usr/bin/env bash
# t0402: signals.  SIGTERM drains: edged stops accepting at once, lets a
# request in flight finish (its viewer gets the whole answer), then exits
# 0; SIGINT exits 0 promptly; SIGHUP does not stop edged.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

start_www_origind origin

start_edged hup
kill -HUP "$EDGE_PID"
sleep 0.3
kill -0 "$EDGE_PID" 2>/dev/null || fail "edged exited on SIGHUP"
expect_eq "$(ecurl /)" healthy "GET / after SIGHUP"
pass "SIGHUP: edged keeps serving"

# a request that takes 2 s at the origin is in flight when SIGTERM comes
ecurl -o "$T/slow.out" -w '%{http_code}' '/cgi-bin/wait.cgi?2' >"$T/slow.code" 2>&1 &
slow=$!
sleep 0.7
t0=$(date +%s%N)
kill -TERM "$EDGE_PID"
sleep 0.3
if (exec 3<>"/dev/tcp/127.0.0.1/$EDGE_PORT") 2>/dev/null; then
	fail "edged still accepts connections while draining"
fi
wait "$slow" || fail "the request in flight failed during the drain: $(cat "$T/slow.code")"
expect_eq "$(cat "$T/slow.code")" 200 "status of the request in flight"
expect_eq "$(cat "$T/slow.out")" "waited 2" "body of the request in flight"
wait_bg hup 10
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$RC" 0 "exit code after SIGTERM"
expect_contains "$(cat "$T/hup.log")" "event=stopping"
[[ $ms -lt 5000 ]] || fail "edged took $ms ms to exit after its last request"
note "SIGTERM: exited $ms ms after the signal (the request in flight needed ~1300 ms more)"
pass "SIGTERM: no new connections, the request in flight completes, exit 0"

start_edged int
expect_eq "$(ecurl /)" healthy "GET /"
t0=$(date +%s%N)
kill -INT "$EDGE_PID"
wait_bg int 3
expect_eq "$RC" 0 "exit code after SIGINT"
pass "SIGINT: exit 0 within 3 s"
