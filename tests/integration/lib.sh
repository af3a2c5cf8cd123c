# shellcheck shell=bash
# lib.sh: harness for the edgecert integration tests.  Every tNNNN-*.sh
# sources it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# Environment (run.sh and `make integration` set both):
#   EDGED_BIN      directory holding edgecert
#   EDGED_TESTBIN  directory holding freeport
#   EDGED_KEEP_TMP=1  keep the per-test temporary directory on failure
#
# What a test gets:
#   $T            a fresh temporary directory, removed when the test passes
#   $EDGECERT     the edgecert binary
#   free_port     print a TCP port on 127.0.0.1 that is free right now
#   start_bg NAME cmd...   run cmd in the background, stdout+stderr in
#                 $T/NAME.log; killed (and waited for) when the test exits,
#                 its log printed if the test fails
#   wait_port PORT [SECONDS]  wait until 127.0.0.1:PORT accepts (default 10 s)
#   wait_log NAME NEEDLE [SECONDS]  wait until NAME's log mentions NEEDLE
#   stop_bg NAME  stop one background process now
#   wait_bg NAME [SECONDS]  wait for NAME to exit by itself, exit code in $RC
#   expect_rc WANT cmd...  run cmd (stdin /dev/null, under `timeout`), set
#                 $OUT (stdout then stderr), $STDOUT, $STDERR and $RC; fail
#                 unless the exit code is WANT
#   expect_contains HAYSTACK NEEDLE, expect_not_contains HAYSTACK NEEDLE,
#   expect_eq GOT WANT [WHAT], expect_ne A B [WHAT], fail MSG, pass MSG
#   soft ASSERTION...: record a failure but go on (for known bugs)
#   plus small helpers: ec, file_mode, file_sha, dir_state, cert_serial,
#   json_str, json_raw, json_valid, need_tool, note, release_only
#
# Assertions print one line saying what was wrong (and where) and exit 1.

set -euo pipefail

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(cd "$(dirname "$0")" && pwd)
: "${EDGED_BIN:=$TEST_DIR/../../bin}"
: "${EDGED_TESTBIN:=$TEST_DIR/../../build/release/tests}"
EDGECERT="$EDGED_BIN/edgecert"
FREEPORT="$EDGED_TESTBIN/freeport"
CMD_TIMEOUT=${CMD_TIMEOUT:-20}

# Every child is bounded; keep tool output stable and English.
export LC_ALL=C
# edgecert writes 0644 certificates whatever the umask; make sure a test
# would notice if it stopped doing so.
umask 077
# a crashing program must not leave core files in the caller's directory
ulimit -c 0

_BG_PIDS=()  # running background processes (sparse after stop_bg)
_BG_NAMES=() # their names, same indices
_BG_LOGS=()  # every name ever started: logs shown when the test fails
_PORTS_GIVEN=" "
_SOFT_FAILS=()

T=$(mktemp -d "${TMPDIR:-/tmp}/edgecert-$TEST_NAME.XXXXXX")

_where() {
	# caller of the assertion: file:line
	local i=1
	while [[ ${FUNCNAME[$i]:-} == @(_where|fail|soft|ec|expect_*|wait_port|wait_log|wait_bg|need_*|stop_bg|start_bg) ]]; do
		i=$((i + 1))
	done
	printf '%s:%s' "$(basename "${BASH_SOURCE[$i]:-$0}")" "${BASH_LINENO[$((i - 1))]:-?}"
}

fail() {
	echo "FAIL [$(_where)]: $*" >&2
	exit 1
}

pass() {
	echo "ok: $*"
}

note() {
	echo "note: $*"
}

_stop_all() {
	local i p
	for p in "${_BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${_BG_PIDS[@]}"; do
		for i in $(seq 1 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	_BG_PIDS=()
	_BG_NAMES=()
}

_on_exit() {
	local rc=$? i
	set +e
	trap - EXIT
	_stop_all
	# a sanitizer report from any process the test ran (also at its exit:
	# leaks, use after free during shutdown; data races under make SAN=thread)
	# fails the test
	for i in "${_BG_LOGS[@]}"; do
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer' \
			"$T/$i.log" 2>/dev/null; then
			echo "FAIL: sanitizer report in the log of $i:" >&2
			grep -m 20 -E 'ERROR: |runtime error:|SUMMARY: |    #[0-9]' "$T/$i.log" >&2
			[[ $rc -ne 0 ]] || rc=1
		fi
	done
	if [[ ${#_SOFT_FAILS[@]} -gt 0 ]]; then
		echo "FAIL: ${#_SOFT_FAILS[@]} soft failure(s), see above: ${_SOFT_FAILS[*]}" >&2
		[[ $rc -ne 0 ]] || rc=1
	fi
	chmod -R u+rwX "$T" 2>/dev/null # a test may have made a directory read-only
	if [[ $rc -eq 0 ]]; then
		rm -rf "$T"
	else
		for i in "${_BG_LOGS[@]}"; do
			echo "---- log of $i ($T/$i.log) ----" >&2
			tail -n 30 "$T/$i.log" >&2 2>/dev/null
		done
		if [[ ${EDGED_KEEP_TMP:-0} == 1 ]]; then
			echo "---- kept $T ----" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}
trap _on_exit EXIT
# a plain command that fails under set -e: say which one, and where
# shellcheck disable=SC2154 # _rc is assigned inside the trap
trap '_rc=$?; echo "FAIL [${0##*/}:$LINENO]: command failed (exit $_rc): $BASH_COMMAND" >&2' ERR
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

[[ -x $EDGECERT ]] || fail "no edgecert at $EDGECERT (set EDGED_BIN)"
[[ -x $FREEPORT ]] || fail "no freeport at $FREEPORT (set EDGED_TESTBIN; make integration builds it)"

# need_tool NAME...: the tools a test cannot do without (no silent skips).
need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || fail "required tool '$t' is not installed (see deps.txt)"
	done
}

# release_only WHY: a long check (testssl.sh, slowhttptest, ...) that runs
# once, in the release build's run: under the sanitizers (`make SAN=1 test`
# sets EDGED_SAN=1) the test ends here with exit 77, which run.sh reports
# as SKIP and counts apart from passes.
release_only() {
	if [[ ${EDGED_SAN:-0} == 1 ]]; then
		echo "skip: $* (runs in the release build's suite only)"
		exit 77
	fi
}

# ---- processes and ports --------------------------------------------------

free_port() {
	local p i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		p=$("$FREEPORT") || { echo "freeport failed" >&2; return 1; }
		if [[ $_PORTS_GIVEN != *" $p "* ]]; then
			_PORTS_GIVEN+="$p "
			echo "$p"
			return 0
		fi
	done
	echo "freeport keeps returning used ports" >&2
	return 1
}

# start_bg NAME cmd...
start_bg() {
	local name=$1
	shift
	[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || fail "start_bg: bad name '$name'"
	[[ " ${_BG_LOGS[*]} " != *" $name "* ]] || fail "start_bg: name '$name' used twice"
	"$@" >"$T/$name.log" 2>&1 </dev/null &
	_BG_PIDS+=("$!")
	_BG_NAMES+=("$name")
	_BG_LOGS+=("$name")
}

# stop_bg NAME: kill one background process now (and wait for it).
stop_bg() {
	local i p
	for i in "${!_BG_NAMES[@]}"; do
		[[ ${_BG_NAMES[$i]} == "$1" ]] || continue
		p=${_BG_PIDS[$i]}
		kill "$p" 2>/dev/null || true
		for _ in $(seq 1 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		unset '_BG_PIDS[i]' '_BG_NAMES[i]'
		return 0
	done
	fail "stop_bg: no background process named '$1'"
}

# wait_bg NAME [SECONDS]: wait (default 20 s) for background process NAME
# to exit by itself; its exit code is in $RC, its output in $T/NAME.log.
wait_bg() {
	local name=$1 secs=${2:-20} i n p
	for i in "${!_BG_NAMES[@]}"; do
		[[ ${_BG_NAMES[$i]} == "$name" ]] || continue
		p=${_BG_PIDS[$i]}
		for ((n = 0; n < secs * 10; n++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$p" 2>/dev/null && fail "$name still running after ${secs}s"
		RC=0
		wait "$p" || RC=$?
		unset '_BG_PIDS[i]' '_BG_NAMES[i]'
		return 0
	done
	fail "wait_bg: no background process named '$name'"
}

# wait_port PORT [SECONDS]: until a listener on 127.0.0.1:PORT accepts.
# Fails at once if a background process has already exited.
wait_port() {
	local port=$1 secs=${2:-10} i n tries
	tries=$((secs * 10))
	for ((n = 0; n < tries; n++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		for i in "${!_BG_PIDS[@]}"; do
			if ! kill -0 "${_BG_PIDS[$i]}" 2>/dev/null; then
				fail "background process '${_BG_NAMES[$i]}' exited while waiting for port $port:" \
					"$(tail -n 5 "$T/${_BG_NAMES[$i]}.log" 2>/dev/null | tr '\n' ' ')"
			fi
		done
		sleep 0.1
	done
	fail "nothing accepted on 127.0.0.1:$port within ${secs}s"
}

# wait_log NAME NEEDLE [SECONDS]: until background process NAME's log
# contains NEEDLE (default 5 s).
wait_log() {
	local name=$1 needle=$2 secs=${3:-5} n
	for ((n = 0; n < secs * 10; n++)); do
		grep -qF -- "$needle" "$T/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "log of $name does not mention '$needle' after ${secs}s: $(_show "$(tail -n 20 "$T/$name.log" 2>/dev/null)")"
}

# ---- running commands -----------------------------------------------------

# expect_rc WANT cmd...: run cmd with stdin from /dev/null under timeout;
# $STDOUT, $STDERR, $OUT (both) and $RC are set for later assertions.
expect_rc() {
	local want=$1
	shift
	RC=0
	# (the group's 2>/dev/null only mutes bash's own "Segmentation fault"
	# notice; a crash is reported below from the exit code)
	{ timeout -k 5 "$CMD_TIMEOUT" "$@" >"$T/.stdout" 2>"$T/.stderr" </dev/null; } 2>/dev/null || RC=$?
	STDOUT=$(<"$T/.stdout")
	STDERR=$(<"$T/.stderr")
	OUT=$STDOUT${STDOUT:+${STDERR:+$'\n'}}$STDERR
	if [[ $RC -eq 124 || $RC -eq 137 ]] && [[ $want -ne $RC ]]; then
		echo "---- output ----" >&2
		printf '%s\n' "$OUT" >&2
		fail "timed out after ${CMD_TIMEOUT}s: $*"
	fi
	if [[ $RC -ne $want ]]; then
		local how="exit code $RC"
		if [[ $RC -gt 128 ]]; then
			how="killed by SIG$(kill -l $((RC - 128)) 2>/dev/null || echo $((RC - 128))) (exit code $RC)"
		fi
		echo "---- output of: $* ----" >&2
		printf '%s\n' "$OUT" | head -n 80 >&2
		echo "----" >&2
		fail "$how, want $want: $*"
	fi
	return 0
}

# ec WANT ARGS...: shorthand for expect_rc WANT "$EDGECERT" ARGS...
ec() {
	local want=$1
	shift
	expect_rc "$want" "$EDGECERT" "$@"
}

# ---- assertions -----------------------------------------------------------

_show() {
	# a haystack for a one-line message: first lines, flattened
	printf '%s' "$1" | head -c 1500 | tr '\n' '|'
}

# soft ASSERTION...: run an assertion without stopping the test; the test
# still fails at the end.  For checks of known bugs, so that one of them
# does not hide the rest of the test.  (A subshell: no variable it sets
# survives, so wrap assertions only, not commands whose output is used.)
soft() {
	local msg where
	where="$(basename "${BASH_SOURCE[1]:-$0}"):${BASH_LINENO[0]}"
	if ! msg=$( ("$@") 2>&1); then
		_SOFT_FAILS+=("$where")
		echo "FAIL (soft, test goes on) [$where]: ${msg#FAIL \[*\]: }" >&2
	fi
	return 0
}

expect_contains() {
	[[ $1 == *"$2"* ]] || fail "expected to find '$2' in: $(_show "$1")"
}

expect_not_contains() {
	[[ $1 != *"$2"* ]] || fail "did not expect '$2' in: $(_show "$1")"
}

# expect_match HAYSTACK ERE
expect_match() {
	[[ $1 =~ $2 ]] || fail "expected a match for /$2/ in: $(_show "$1")"
}

expect_eq() {
	[[ $1 == "$2" ]] || fail "${3:-value}: got '$1', want '$2'"
}

expect_ne() {
	[[ $1 != "$2" ]] || fail "${3:-values}: both are '$1', want them to differ"
}

expect_file() {
	[[ -f $1 ]] || fail "missing file $1"
}

expect_no_file() {
	[[ ! -e $1 ]] || fail "file $1 exists, should not"
}

# ---- small helpers --------------------------------------------------------

file_mode() { stat -c %a "$1"; }
file_sha() { sha256sum "$1" | cut -d' ' -f1; }

# sha256 of every regular file in a directory, for "nothing changed" checks
dir_state() {
	(cd "$1" && find . -type f ! -name .edgecert.lock -print0 | sort -z |
		xargs -0 sha256sum)
}

# cert_serial FILE: serial as upper-case hex, as openssl prints it
cert_serial() {
	local s
	s=$(openssl x509 -in "$1" -noout -serial 2>&1) || fail "openssl cannot read $1: $s"
	printf '%s\n' "${s#serial=}"
}

# json_str JSON KEY: the first string value of "KEY" in edgecert's JSON
# (cJSON output; grep-level parsing so no jq or python is needed).
json_str() {
	printf '%s' "$1" | tr -d '\n\t' |
		{ grep -o "\"$2\": *\"[^\"]*\"" || true; } | head -n 1 |
		sed 's/^[^:]*: *"//; s/"$//'
}

# json_raw JSON KEY: the first raw value of "KEY" (number, true/false, or a
# one-level array of strings, printed compactly: ["a","b"]).
json_raw() {
	printf '%s' "$1" | tr -d '\n\t' |
		{ grep -o "\"$2\": *\(\[[^]]*\]\|[^,}]*\)" || true; } | head -n 1 |
		sed 's/^[^:]*: *//; s/", "/","/g'
}

# json_valid JSON: fail unless it parses (python3 or jq, whichever exists).
json_valid() {
	if command -v python3 >/dev/null 2>&1; then
		printf '%s' "$1" | python3 -m json.tool >/dev/null 2>&1 ||
			fail "not valid JSON (python3 -m json.tool): $(_show "$1")"
	elif command -v jq >/dev/null 2>&1; then
		printf '%s' "$1" | jq . >/dev/null 2>&1 || fail "not valid JSON (jq): $(_show "$1")"
	else
		note "neither python3 nor jq installed: JSON syntax not checked (fields still are)"
	fi
}
