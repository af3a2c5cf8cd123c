#!/usr/bin/env bash
# t0210: nothing accumulates in origind over many CGI requests of every
# kind (answered, failed, malformed, unread body, HEAD, client gone):
# no zombie or leftover child, the same number of open descriptors after
# 50 more requests, and (in a sanitizer build) no ASan, UBSan or leak
# report when origind stops.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind --cgi-timeout 20s
head -c 300000 /dev/urandom >"$T/in.bin"

one_round() {
	local i=$1
	case $((i % 10)) in
	0) cget "/cgi-bin/env.cgi/p?$i"; expect_eq "$CODE" 200 "env.cgi ($i)" ;;
	1) cget --data-binary "@$T/in.bin" /cgi-bin/echo.cgi; expect_eq "$CODE" 200 "echo.cgi ($i)" ;;
	2) cget /cgi-bin/fail.cgi; expect_eq "$CODE" 502 "fail.cgi ($i)" ;;
	3) cget /cgi-bin/badhead.cgi; expect_eq "$CODE" 502 "badhead.cgi ($i)" ;;
	4) cget --data-binary "@$T/in.bin" /cgi-bin/neverread.cgi; expect_eq "$CODE" 200 "neverread.cgi ($i)" ;;
	5) cget -I /cgi-bin/big.cgi; expect_eq "$CODE" 200 "HEAD big.cgi ($i)" ;;
	6) cget /cgi-bin/badinterp.cgi; expect_eq "$CODE" 502 "badinterp.cgi ($i)" ;;
	7) cget /cgi-bin/status.cgi; expect_eq "$CODE" 201 "status.cgi ($i)" ;;
	8) cget '/cgi-bin/big.cgi?100000'; expect_eq "$CODE" 200 "big.cgi ($i)" ;;
	9) ocurl -o /dev/null --limit-rate 200k --max-time 0.3 '/cgi-bin/big.cgi?3000000' \
		2>/dev/null && fail "the slow client should have given up ($i)" ;;
	esac
	return 0
}

no_zombies() {
	local kids
	kids=$(origind_kids)
	expect_not_contains "$kids" " Z"
	[[ -z $kids ]] || fail "origind has children: $(printf '%s' "$kids")"
}

# fds_settle WANT: until origind has WANT descriptors (connections take a
# moment to be closed after the client is gone); prints the last count
fds_settle() {
	local n c
	for ((n = 0; n < 30; n++)); do
		c=$(origind_fds)
		[[ $c -le $1 ]] && break
		sleep 0.1
	done
	echo "$c"
}

for i in $(seq 0 9); do one_round "$i"; done
wait_no_kids 5
no_zombies
fd0=$(fds_settle 0)
for i in $(seq 10 59); do one_round "$i"; done
wait_no_kids 5
no_zombies
fd1=$(fds_settle "$fd0")
[[ $fd1 -le $fd0 ]] || fail "origind had $fd0 descriptors, $fd1 after 50 requests: $(find "/proc/$ORIGIN_PID/fd" -mindepth 1 -printf "%f:%l ")"
pass "60 CGI requests of every kind: no zombie or child left, $fd0 descriptors before and $fd1 after"

pid=$ORIGIN_PID
stop_bg origind
kill -0 "$pid" 2>/dev/null && fail "origind still running"
for bad in 'ERROR: AddressSanitizer' 'ERROR: LeakSanitizer' 'runtime error:'; do
	if grep -q "$bad" "$T/origind.log"; then
		fail "origind's log has a sanitizer report: $(grep -A 12 "$bad" "$T/origind.log" | head -n 40)"
	fi
done
pass "origind stopped without a sanitizer or leak report"
