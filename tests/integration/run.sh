#!/usr/bin/env bash
# run.sh: run the edgecert integration tests.
#
#   tests/integration/run.sh [FILTER...]
#
# Runs every t[0-9]*.sh beside this script, in order, each as its own bash
# process (under a time limit), prints PASS/FAIL per test (with a failing
# test's output) and ends with one line "N passed, N failed".  Exit 1 if
# any test failed.  A test exiting 77 (lib.sh's release_only) is reported
# as SKIP and counted apart.  A test's own line "# timeout: SECONDS" raises
# its time limit (TEST_TIMEOUT, default 120 s).  A FILTER (e.g. t0030, or "renew") runs only the tests
# whose file name contains it.
#
# EDGED_BIN (dir with edgecert) and EDGED_TESTBIN (dir with freeport) come
# from the Makefile; run by hand they default to bin/ and build/release/tests.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export EDGED_BIN=${EDGED_BIN:-$root/bin}
export EDGED_TESTBIN=${EDGED_TESTBIN:-$root/build/release/tests}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}

passed=0
failed=0
skipped=0
failed_names=()
ran=0

matches() {
	local name=$1 f
	[[ $# -eq 1 ]] && return 0
	shift
	for f in "$@"; do
		[[ $name == *"$f"* ]] && return 0
	done
	return 1
}

for t in "$here"/t[0-9]*.sh; do
	[[ -f $t ]] || continue
	name=$(basename "$t" .sh)
	matches "$name" "$@" || continue
	ran=$((ran + 1))
	start=$(date +%s.%N)
	# a long test may raise its own limit with a line "# timeout: SECONDS"
	limit=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
	limit=${limit:-$TEST_TIMEOUT}
	out=$(timeout -k 10 "$limit" bash "$t" 2>&1 </dev/null)
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	if [[ $rc -eq 0 ]]; then
		passed=$((passed + 1))
		echo "PASS $name (${secs}s)"
	elif [[ $rc -eq 77 ]]; then
		# release_only (lib.sh): not run in this build; never counted as passed
		skipped=$((skipped + 1))
		echo "SKIP $name: $(printf '%s\n' "$out" | grep -m1 '^skip:' | cut -c7-)"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		if [[ $rc -eq 124 ]]; then
			echo "FAIL $name (timed out after ${limit}s)"
		else
			echo "FAIL $name (exit $rc, ${secs}s)"
		fi
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
done

if [[ $ran -eq 0 ]]; then
	echo "run.sh: no test matches: $*" >&2
	failed=1
elif [[ $failed -gt 0 ]]; then
	echo "failed: ${failed_names[*]}"
fi
if [[ $skipped -gt 0 ]]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
