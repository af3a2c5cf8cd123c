#!/usr/bin/env bash
# t0427: slowhttptest (a real attack tool, over TLS) against edged with
# small limits (--header-timeout 2s, --body-timeout 2s --body-min-rate 100,
# --send-timeout 2s --send-min-rate 1k): slow headers (slowloris), slow
# bodies (R-U-Dead-Yet) and slow reads of an 8 MiB cached file, 40/40/20
# connections each.  Every attacking connection is cut by the watchdog
# within its timeout (counted in edged_viewer_timeouts_total by what it
# waited for; slowhttptest itself ends with "No open connections left"
# for the first two), the slow bodies never reach the origin (they fit in
# body_buffer_size), and the slow readers hold no connection, thread or
# request afterwards while slowhttptest still runs (its slow-read client
# notices a reset only once it has read what it had buffered).  A probe
# loop of normal requests, alongside each attack, gets 200 every time.
# Slow headers were cut before this change too (t0424); slow bodies and
# slow reads were not (each connection stayed for the whole attack).
# timeout: 150
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
release_only "slowhttptest"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool slowhttptest curl ss

mkdir -p "$T/www"
head -c 8388608 /dev/urandom >"$T/www/big.bin"
start_www_origind origin
start_edged edge --header-timeout 2s --body-timeout 2s --body-min-rate 100 \
	--send-timeout 2s --send-min-rate 1k --connection-timeout 5s
URL="https://127.0.0.1:$EDGE_PORT"

metric() {
	acurl /metrics | awk -v s="$1" '$1 == s { print $2 }'
}
timeouts() { metric "edged_viewer_timeouts_total{waiting_for=\"$1\"}"; }

# probe NAME SECONDS: normal GETs through the edge, one every 0.3 s, for
# SECONDS; each result line in $T/NAME.log ("200" expected)
probe() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c '
		end=$((SECONDS + $0))
		while ((SECONDS < end)); do
			curl -sS -m 5 --cacert "$1" --resolve "edge.test:$2:127.0.0.1" -o /dev/null \
				-w "%{http_code}\n" "https://edge.test:$2/" || echo "curl failed"
			sleep 0.3
		done' "$2" "$T/pki/ca.pem" "$EDGE_PORT"
}

# probed NAME: every probe of NAME got 200
probed() {
	local n bad
	wait_bg "$1" 30
	n=$(grep -c . "$T/$1.log" || true)
	bad=$(grep -vc '^200$' "$T/$1.log" || true)
	((n >= 10)) || fail "$1: only $n probes ran"
	expect_eq "$bad" 0 "probes of $1 that did not get 200 ($(sort "$T/$1.log" | uniq -c | tr '\n' ' '))"
	note "$1: $n probes, all 200"
}

# attack NAME ARGS...: slowhttptest ARGS with its CSV in $T/NAME.csv
attack() {
	local name=$1
	shift
	start_bg "$name" slowhttptest -g -o "$T/$name" -p 3 "$@"
}

# exit_status NAME: slowhttptest's closing verdict
exit_status() {
	sed 's/\x1b\[[0-9;]*m//g' "$T/$1.log" | sed -n 's/.*Exit status: *//p' | tail -n 1
}

expect_eq "$(ecurl /)" healthy "GET / before the attacks"
ecurl -o "$T/big.got" /big.bin # cached now: the slow reads are hits
expect_eq "$(file_sha "$T/big.got")" "$(file_sha "$T/www/big.bin")" "big.bin through the edge"

# ---- slow headers ----------------------------------------------------------------
h0=$(timeouts head)
probe probe_h 8
attack slow_headers -H -c 40 -r 40 -i 1 -l 12 -u "$URL/"
wait_bg slow_headers 40
probed probe_h
h=$(($(timeouts head) - h0))
note "slow headers: $h connections cut (head); slowhttptest: $(exit_status slow_headers)"
((h >= 36)) || fail "slow headers: only $h of 40 connections cut by header_timeout"
expect_eq "$(exit_status slow_headers)" "No open connections left" "slowhttptest -H verdict"
pass "slowloris, 40 connections: all cut by header_timeout, probes served"

# ---- slow bodies ------------------------------------------------------------------
b0=$(timeouts body)
probe probe_b 8
attack slow_bodies -B -c 40 -r 40 -i 1 -s 8192 -x 10 -l 12 -u "$URL/index.html"
wait_bg slow_bodies 40
probed probe_b
b=$(($(timeouts body) - b0))
never=$(grep -c 'event=request.body_timeout .*origin=never' "$T/edge.log" || true)
note "slow bodies: $b connections cut (body), $never never reached the origin; slowhttptest: $(exit_status slow_bodies)"
((b >= 36)) || fail "slow bodies: only $b of 40 connections cut by body_timeout/body_min_rate"
expect_eq "$never" "$b" "slow bodies cut before reaching the origin"
expect_eq "$(exit_status slow_bodies)" "No open connections left" "slowhttptest -B verdict"
pass "R-U-Dead-Yet, 40 connections: all cut by the body timeouts, none reached the origin, probes served"

# ---- slow reads --------------------------------------------------------------------
r0=$(timeouts response)
probe probe_r 12
attack slow_reads -X -c 20 -r 20 -w 1 -y 16 -n 1 -z 8 -k 1 -l 20 -u "$URL/big.bin"
# each reader is cut about 3 s after its answer started: well before
# slowhttptest ends, edged holds none of them (the probes' own connection
# aside)
t0=$SECONDS
for _ in $(seq 1 30); do
	sleep 0.5
	r=$(($(timeouts response) - r0))
	held=$(ss -Htn state established "( sport = :$EDGE_PORT )" | wc -l)
	inflight=$(metric edged_inflight_requests)
	((r >= 18 && held <= 2 && inflight <= 1)) && break
done
note "slow reads after $((SECONDS - t0)) s: $r connections cut (response), $held viewer connections open, $inflight requests in flight"
((r >= 18)) || fail "slow reads: only $r of 20 connections cut by send_timeout/send_min_rate"
((held <= 2)) || fail "slow reads: $held viewer connections still open on edged"
((inflight <= 1)) || fail "slow reads: $inflight requests still in flight"
kill -0 "${_BG_PIDS[-1]}" 2>/dev/null || fail "slowhttptest -X ended before the readers were all cut"
wait_bg slow_reads 40
probed probe_r
expect_contains "$(cat "$T/edge.log")" "waiting_for=response"
pass "slow read, 20 connections: all cut by the send timeouts (no thread or connection held), probes served"

expect_eq "$(ecurl /)" healthy "GET / after the attacks"
