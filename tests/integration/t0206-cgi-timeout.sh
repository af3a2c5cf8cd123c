#!/usr/bin/env bash
# t0206: cgi_timeout.  A script with no answer within it gets 504 (on
# time, not after the script's own sleep), and its whole process group is
# killed (the script and its background child) and reaped.  Once the body
# streams, the timeout ends the stream with an error: the client sees a
# truncated response.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind --cgi-timeout 1s

# time_ms: milliseconds since the epoch
time_ms() { date +%s%3N; }

# run PATH in the background: curl's -w output in $T/bg.out
bg_get() {
	rm -f "$T/bg.out" "$T/bg.body"
	(
		rc=0
		ocurl -o "$T/bg.body" -w '%{http_code}' "$1" >"$T/bg.code" 2>"$T/bg.err" || rc=$?
		echo "$rc" >"$T/bg.rc"
	) &
	BG=$!
}

# the script's pid (origind's only child), once it runs
script_pid() {
	local n p
	for ((n = 0; n < 50; n++)); do
		p=$(pgrep -P "$ORIGIN_PID" | head -n 1 || true)
		[[ -n $p ]] && { echo "$p"; return 0; }
		sleep 0.05
	done
	fail "no script process under origind"
}

t0=$(time_ms)
bg_get /cgi-bin/sleep.cgi
pid=$(script_pid)
expect_eq "$(ps -o pgid= -p "$pid" | tr -d ' ')" "$pid" "the script leads its own process group"
sleep 0.3
live=$(group_live "$pid" | wc -l)
[[ $live -ge 3 ]] || fail "want the script and its 2 sleeps in group $pid, have: $(group_live "$pid" | tr '\n' ' ')"
wait "$BG"
t1=$(time_ms)
expect_eq "$(<"$T/bg.code")" 504 "sleep.cgi status"
ms=$((t1 - t0))
[[ $ms -ge 900 && $ms -lt 2500 ]] || fail "504 after ${ms} ms, want about 1000"
expect_eq "$(group_live "$pid")" "" "live processes left in the script's group"
wait_no_kids 2
wait_log origind "event=cgi.timeout"
wait_log origind "script=/cgi-bin/sleep.cgi timeout_ms=1000 phase=head"
pass "sleep.cgi: 504 after ${ms} ms; its process group ($live processes) killed and reaped"

t0=$(time_ms)
bg_get /cgi-bin/slowbody.cgi
pid=$(script_pid)
wait "$BG"
t1=$(time_ms)
ms=$((t1 - t0))
expect_eq "$(<"$T/bg.code")" 200 "slowbody.cgi status (sent before the timeout)"
expect_eq "$(<"$T/bg.body")" "partial body" "slowbody.cgi body so far"
rc=$(<"$T/bg.rc")
[[ $rc -ne 0 ]] || fail "curl saw a complete response; want a truncated one"
[[ $ms -ge 900 && $ms -lt 2500 ]] || fail "stream ended after ${ms} ms, want about 1000"
wait_log origind "script=/cgi-bin/slowbody.cgi timeout_ms=1000 phase=body"
expect_eq "$(group_live "$pid")" "" "live processes left in slowbody.cgi's group"
wait_no_kids 2
pass "slowbody.cgi: 200 head, then the stream cut after ${ms} ms (curl exit $rc: $(<"$T/bg.err"))"

cget /cgi-bin/status.cgi
expect_eq "$CODE" 201 "a quick script under the same timeout"
pass "a quick script still answers"
