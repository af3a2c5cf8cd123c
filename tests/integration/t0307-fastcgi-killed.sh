#!/usr/bin/env bash
# t0307: the application dies mid-request.  php-fpm killed (SIGKILL,
# master and workers) while requests run on the unix and the TCP backend:
# both get 502 at once, origind keeps serving (static files, then PHP
# again once php-fpm is back, through the same origind).  One worker
# killed under a POST: 502 (a POST is never sent twice).  A worker killed
# under a GET on a kept connection before any answer: retried once on a
# new connection, 200.  A worker killed while its body streams: the
# client sees a truncated response.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_phpfpm phpfpm1
start_origind origind --docroot "$DOCROOT" --cgi-timeout 20s --log-level debug \
	--fastcgi "/php/=unix:$PHP_SOCK" --fastcgi "/tcp/=127.0.0.1:$PHP_PORT"

# bg_get NAME [curl args...] PATH: a request in the background; its status
# in $T/NAME.code, body in $T/NAME.body, curl's exit code in $T/NAME.rc
bg_get() {
	local name=$1
	shift
	rm -f "$T/$name".*
	(
		rc=0
		ocurl -o "$T/$name.body" -w '%{http_code}' "$@" >"$T/$name.code" 2>"$T/$name.err" || rc=$?
		echo "$rc" >"$T/$name.rc"
	) &
	BG=$!
}

# wait_file FILE: until FILE exists and is not empty (5 s)
wait_file() {
	local n
	for ((n = 0; n < 50; n++)); do
		[[ -s $1 ]] && return 0
		sleep 0.1
	done
	fail "no $1 after 5 s"
}

fget /php/pid.php
expect_eq "$CODE" 200 "a first request (its connection is kept)"

bg_get unix "/php/sleep.php?s=8&pidfile=$T/unix.pid"
bg_unix=$BG
bg_get tcp "/tcp/sleep.php?s=8&pidfile=$T/tcp.pid"
bg_tcp=$BG
wait_file "$T/unix.pid"
wait_file "$T/tcp.pid"
t0=$(date +%s%3N)
stop_phpfpm_hard phpfpm1
wait "$bg_unix" "$bg_tcp"
ms=$(($(date +%s%3N) - t0))
expect_eq "$(<"$T/unix.code")" 502 "in-flight request on the unix backend"
expect_eq "$(<"$T/tcp.code")" 502 "in-flight request on the TCP backend"
[[ $ms -lt 3000 ]] || fail "502s came ${ms} ms after the kill"
wait_log origind "backend=unix:$PHP_SOCK status=502"
wait_log origind "backend=127.0.0.1:$PHP_PORT status=502"
pass "php-fpm killed under two requests: both 502 within ${ms} ms"

kill -0 "$ORIGIN_PID" || fail "origind died"
fget /index.html
expect_eq "$CODE" 200 "a static file while php-fpm is dead"
fget /php/env.php
expect_eq "$CODE" 502 "PHP while php-fpm is dead"
pass "origind keeps serving: static 200, PHP 502"

start_phpfpm phpfpm2
for p in /php /tcp; do
	fget "$p/env.php"
	expect_eq "$CODE" 200 "$p/env.php after php-fpm's restart"
done
pass "php-fpm back: PHP served again by the same origind"

rm -f "$T/post.pid"
retries=$(grep -c 'event=fcgi.retry' "$T/origind.log" || true)
bg_get post -X POST --data-binary 'some body' "/php/sleep.php?s=8&pidfile=$T/post.pid"
wait_file "$T/post.pid"
kill -9 "$(<"$T/post.pid")"
wait "$BG"
expect_eq "$(<"$T/post.code")" 502 "POST whose worker was killed"
# (the log line comes before the answer) a plain close, or a reset when
# the worker died with input unread
expect_match "$(grep 'event=fcgi.fail' "$T/origind.log" | tail -n 1)" \
	'status=502 why="(the application closed the connection|connection lost) before any output'
expect_eq "$(grep -c 'event=fcgi.retry' "$T/origind.log" || true)" "$retries" "retries (none for the POST)"
pass "a worker killed under a POST: 502 (not retried)"

fget /php/pid.php # a kept connection, bound to the worker that answered
expect_eq "$CODE" 200 "a request to keep a connection"
keeper=$BODY
rm -f "$T/get.pid"
bg_get get "/php/sleep.php?s=1&pidfile=$T/get.pid"
wait_file "$T/get.pid"
victim=$(<"$T/get.pid")
expect_eq "$victim" "$keeper" "the worker behind the kept connection"
kill -9 "$victim"
wait "$BG"
expect_eq "$(<"$T/get.code")" 200 "GET whose worker was killed (retried)"
expect_eq "$(<"$T/get.body")" slept "GET whose worker was killed: body"
wait_log origind "event=fcgi.retry"
expect_ne "$(<"$T/get.pid")" "$victim" "the worker of the retry"
pass "a worker killed under a GET on a kept connection: retried once on a new one, 200"

rm -f "$T/stream.pid"
bg_get stream "/php/sleep.php?s=8&partial=1&pidfile=$T/stream.pid"
wait_file "$T/stream.pid"
sleep 0.3 # the head and first line are out
kill -9 "$(<"$T/stream.pid")"
wait "$BG"
expect_eq "$(<"$T/stream.code")" 200 "a streaming answer whose worker was killed"
expect_eq "$(<"$T/stream.body")" "partial body" "what came before the kill"
[[ $(<"$T/stream.rc") -ne 0 ]] || fail "curl saw a complete response; want a truncated one"
wait_log origind "phase=body"
pass "a worker killed mid-body: 200 head, truncated stream (curl exit $(<"$T/stream.rc"))"

kill -0 "$ORIGIN_PID" || fail "origind died"
for p in /php /tcp; do
	fget "$p/env.php"
	expect_eq "$CODE" 200 "$p/env.php at the end"
done
pass "origind still serves both backends"
