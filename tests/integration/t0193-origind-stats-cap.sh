#!/usr/bin/env bash
# t0193: /_origind/stats stays bounded: origind keeps at most 10000
# distinct paths and counts every later new path under "(other)", so a
# client requesting ever new paths cannot grow the table (memory, and the
# time of each lookup under the stats lock) without limit; a path longer
# than 1024 bytes is counted under "(other)" too.  Every request is still
# counted exactly once.  (A lookup is one seeded hash and a bounded probe
# run whatever the table holds: the per-request cost does not grow.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl

mkdir -p "$T/www"
start_origind origind --docroot "$T/www"

# a path of 1100 bytes: counted, under "(other)"
long=/L$(printf '%01099d' 0)
ocurl -o /dev/null "$long"
# 10100 distinct paths over keep-alive connections (404s), in three runs
# of curl: the first and the last 1000 timed (a note, not a check: the
# cost of a request should not grow with the table)
N=10100
# batch FIRST LAST: GET /pFIRST../pLAST on one connection; sets MS
batch() {
	local i t0
	for ((i = $1; i <= $2; i++)); do
		echo "url = \"https://origin.test:$ORIGIN_PORT/p$i\""
	done >"$T/urls.cfg"
	t0=$(date +%s%N)
	timeout 60 curl -s --cacert "$T/pki/ca.pem" --resolve "origin.test:$ORIGIN_PORT:127.0.0.1" \
		-K "$T/urls.cfg" >/dev/null || fail "curl -K with /p$1../p$2 failed"
	MS=$((($(date +%s%N) - t0) / 1000000))
}
batch 1 1000
first=$MS
batch 1001 $((N - 1000))
batch $((N - 999)) "$N"
note "1000 requests on new paths: ${first} ms into an empty table, ${MS} ms past 10000 paths"

S=$(ocurl /_origind/stats)
json_valid "$S"
expect_eq "$(json_raw "$S" requests)" $((N + 2)) "requests counted"
expect_eq "$(json_raw "$S" /p1)" 1 "count of /p1"
expect_eq "$(json_raw "$S" /p10000)" 1 "count of /p10000 (the 10000th path)"
entries=$(grep -o '"[^"]*":[0-9]*' <<<"${S#*\"paths\"}" | wc -l)
sum=$(grep -o '"[^"]*":[0-9]*' <<<"${S#*\"paths\"}" | awk -F: '{ s += $NF } END { print s }')
expect_eq "$sum" $((N + 2)) "sum of the per-path counts"
expect_not_contains "$S" "\"$long\""
expect_eq "$(grep -o '"(other)":' <<<"$S" | wc -l)" 1 "number of \"(other)\" keys"
((entries <= 10001)) || fail "stats has $entries path entries after $N distinct paths, want at most 10000 + (other)"
expect_eq "$(json_raw "$S" '(other)')" $((N - 10000 + 2)) "count of (other) (the long path, paths 10001-$N and /_origind/stats)"
expect_eq "$(json_raw "$S" /p10001)" "" "/p10001 (past the cap) has no entry"
pass "stats after $N distinct paths: every request counted once; $entries entries, (other) $((N - 10000 + 2)); the 1100-byte path not listed"
