# shellcheck shell=bash
# lib_cgi.sh: helpers for the CGI tests (t02NN-cgi-*); source after lib.sh
# and lib_origind.sh.
#
#   CGI_DIR               the test scripts (tests/integration/cgi-bin),
#                         CGI_REAL the same through realpath
#   start_cgi NAME [flags...]
#                         start_origind NAME --cgi-bin $CGI_DIR flags...
#   cget [curl args...] PATH
#                         ocurl saving the head in $T/head and the body in
#                         $T/body; sets CODE (HTTP status, 000 if none),
#                         CRC (curl's exit code), BODY (the body as text)
#   header NAME           the value(s) of a response field, one a line
#   var NAME              NAME's value in an env.cgi answer ($BODY); fails
#                         when the variable is absent
#   no_var NAME           fail when env.cgi's answer has NAME
#   group_live PGID       pids of the live (not zombie) processes of a group
#   origind_kids          "pid stat command" of origind's child processes
#   origind_fds           how many descriptors origind has open
#   wait_no_kids [SECONDS]   until origind has no child process left

CGI_DIR=$TEST_DIR/cgi-bin
# shellcheck disable=SC2034 # for the tests
CGI_REAL=$(realpath "$CGI_DIR")
need_tool curl pgrep ps

start_cgi() {
	local name=$1
	shift
	start_origind "$name" --cgi-bin "$CGI_DIR" "$@"
}

no_var() {
	if printf '%s\n' "$BODY" | grep -q "^$1="; then
		fail "$1 should not be in the script's environment: $(printf '%s\n' "$BODY" | grep "^$1=")"
	fi
}

group_live() {
	local p st
	for p in $(pgrep -g "$1" || true); do
		st=$(ps -o stat= -p "$p" 2>/dev/null || true)
		[[ -n $st && $st != Z* ]] && echo "$p"
	done
	return 0
}

origind_kids() {
	ps -o pid=,stat=,args= --ppid "$ORIGIN_PID" || true
}

origind_fds() {
	find "/proc/$ORIGIN_PID/fd" -mindepth 1 -maxdepth 1 | wc -l
}

wait_no_kids() {
	local secs=${1:-5} n
	for ((n = 0; n < secs * 10; n++)); do
		[[ -z $(origind_kids) ]] && return 0
		sleep 0.1
	done
	fail "origind still has children after ${secs}s: $(origind_kids | tr '\n' '|')"
}
