#!/usr/bin/env bash
# t0205: a script that fails before a complete response head gives 502
# and a cgi.fail log line saying why: exit before output, killed by a
# signal, exec failure (127), stdout closed, head without its blank line,
# malformed head, head over 64 KiB (at once, without waiting for the
# script).  origind keeps serving.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind --cgi-timeout 20s

# bad SCRIPT WHY: 502 fast (well before the script's own sleeps end), and
# the log's cgi.fail line for this script says WHY
bad() {
	local start=$SECONDS
	cget "/cgi-bin/$1"
	expect_eq "$CODE" 502 "$1 status"
	[[ $((SECONDS - start)) -lt 10 ]] || fail "$1 took $((SECONDS - start))s"
	wait_log origind "script=/cgi-bin/$1 status=502 why=\"$2"
}

bad fail.cgi "exit 3 before output"
wait_log origind 'line="fail.cgi: giving up"'
pass "fail.cgi: 502, 'exit 3 before output', its stderr logged"
bad crash.cgi "signal SEGV before output"
pass "crash.cgi: 502, 'signal SEGV before output'"
bad badinterp.cgi "exit 127 before output"
wait_log origind "cannot run the CGI script: execve failed"
pass "badinterp.cgi: 502, 'exit 127 before output', the exec error logged"
bad nohead.cgi "exit 0 before the end of its head"
pass "nohead.cgi: 502, head without its blank line"
bad badhead.cgi "malformed header: malformed header line"
pass "badhead.cgi: 502, malformed header"
bad bighead.cgi "malformed header: response head longer than 65536 bytes"
pass "bighead.cgi: 502, head over 64 KiB, without waiting for the script"
bad closeout.cgi "closed stdout before output"
pass "closeout.cgi: 502, stdout closed while the script runs on"

wait_no_kids 5
cget /cgi-bin/status.cgi
expect_eq "$CODE" 201 "a request after the failures"
pass "origind still serves; no script process left"
