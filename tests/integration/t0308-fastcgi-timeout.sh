#!/usr/bin/env bash
# t0308: cgi_timeout bounds a FastCGI exchange.  A PHP script with no
# answer within --cgi-timeout 1s gets 504 on time (not after its sleep),
# on the unix and the TCP backend, and its connection is closed, not
# pooled; once the head is out, the timeout cuts the stream (the client
# sees a truncated response); quick requests keep being served.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_phpfpm
start_origind origind --docroot "$DOCROOT" --cgi-timeout 1s \
	--fastcgi "/php/=unix:$PHP_SOCK" --fastcgi "/tcp/=127.0.0.1:$PHP_PORT"

time_ms() { date +%s%3N; }

# the count once wait_port's probe connection is closed on origind's side
# (it may still be open just after start): the same three times in a row
same=0 fds0=$(origind_fds)
for ((i = 0; i < 50 && same < 2; i++)); do
	sleep 0.1
	n=$(origind_fds)
	if [[ $n == "$fds0" ]]; then same=$((same + 1)); else same=0 fds0=$n; fi
done
t0=$(time_ms)
fget '/php/sleep.php?s=3'
ms=$(($(time_ms) - t0))
expect_eq "$CODE" 504 "sleep.php past the timeout"
[[ $ms -ge 900 && $ms -lt 2500 ]] || fail "504 after ${ms} ms, want about 1000"
wait_log origind "backend=unix:$PHP_SOCK status=504 why=\"no response head within 1000 ms\""
expect_eq "$(origind_fds)" "$fds0" "origind's descriptors after the 504 (connection closed)"
pass "unix: 504 after ${ms} ms, the connection closed ($fds0 descriptors, as before)"

fget /php/pid.php
expect_eq "$CODE" 200 "a quick request while the timed-out script still sleeps"
expect_eq "$(origind_fds)" "$((fds0 + 1))" "origind's descriptors after a clean answer (one kept)"
pass "a quick request is served meanwhile, and its connection is kept"

t0=$(time_ms)
fget '/tcp/sleep.php?s=3'
ms=$(($(time_ms) - t0))
expect_eq "$CODE" 504 "TCP sleep.php past the timeout"
[[ $ms -ge 900 && $ms -lt 2500 ]] || fail "TCP 504 after ${ms} ms, want about 1000"
wait_log origind "backend=127.0.0.1:$PHP_PORT status=504"
pass "TCP: 504 after ${ms} ms"

t0=$(time_ms)
fget '/php/sleep.php?s=3&partial=1'
ms=$(($(time_ms) - t0))
expect_eq "$CODE" 200 "the head came before the timeout"
expect_eq "$BODY" "partial body" "the body before the timeout"
[[ $CRC -ne 0 ]] || fail "curl saw a complete response; want a truncated one"
[[ $ms -ge 900 && $ms -lt 2500 ]] || fail "stream cut after ${ms} ms, want about 1000"
wait_log origind "event=fcgi.timeout"
wait_log origind "timeout_ms=1000 phase=body"
pass "streaming past the timeout: 200 head, the stream cut after ${ms} ms (curl exit $CRC)"

sleep 2.2 # the sleepers end; their workers are free again
for p in /php /tcp; do
	fget "$p/env.php"
	expect_eq "$CODE" 200 "$p/env.php after the timeouts"
done
kill -0 "$ORIGIN_PID" || fail "origind died"
pass "both backends serve after the timeouts"
