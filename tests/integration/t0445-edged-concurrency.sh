#!/usr/bin/env bash
# t0445: a slow origin path does not hold up anyone else.  While 32
# requests (32 viewer connections) wait on a CGI script that answers only
# once the test opens a gate, 10 requests for a fast path (GET / ->
# "healthy"), each on a new viewer connection (TLS handshake included),
# all complete (curl's time_total reported, not asserted: timing belongs
# in benchmarks) while every slow request is still waiting.  Then the gate
# opens and all 32 slow requests get their 200.  edged runs with its
# default settings.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl awk sort

NSLOW=32
NFAST=10
mkdir -p "$T/www" "$T/cgi"
echo healthy >"$T/www/index.html"
cat >"$T/cgi/slow.cgi" <<EOF
#!/bin/sh
# slow.cgi: answers once $T/gate exists (at most 60 s)
i=0
while [ ! -e "$T/gate" ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
printf 'Content-Type: text/plain\n\nslept\n'
EOF
chmod 755 "$T/cgi" "$T/cgi/slow.cgi"
start_origind origin --docroot "$T/www" --cgi-bin "$T/cgi" --max-connections 256 \
	--max-connections-per-ip 128
start_edged edge

# warm up (the first TLS handshakes, the first origin connection)
ehealthy

# ---- 32 slow requests in the background ----
slow_pids=()
t_start=$(date +%s.%N)
for i in $(seq 1 "$NSLOW"); do
	ecurl -o "$T/slow.$i.body" -w '%{http_code} %{time_total}\n' "/cgi-bin/slow.cgi?n=$i" \
		>"$T/slow.$i.out" 2>"$T/slow.$i.err" &
	slow_pids+=($!)
done

# wait until the slow requests are with the origin: its CGI children run
for _ in $(seq 1 300); do
	n=$(pgrep -f -c "$T/cgi/slow.cgi" || true)
	((n >= NSLOW)) && break
	sleep 0.1
done
waited=$(awk -v s="$t_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
n=$(pgrep -f -c "$T/cgi/slow.cgi" || true)
note "$n of $NSLOW slow CGI scripts running ${waited}s after the start"
((n >= NSLOW)) || fail "only $n of $NSLOW slow requests reached the origin within ${waited}s"

# ---- 10 fast requests, each on a new viewer connection ----
times=()
for i in $(seq 1 "$NFAST"); do
	r=$(ecurl -o "$T/fast.body" -w '%{http_code} %{time_total}' /) || fail "fast request $i failed"
	expect_eq "${r%% *}" 200 "status of fast request $i"
	expect_eq "$(<"$T/fast.body")" healthy "body of fast request $i"
	times+=("${r#* }")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -g)
median=$(awk '{ a[NR] = $1 } END { printf "%.4f", (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }' <<<"$sorted")
max=$(tail -n 1 <<<"$sorted")
note "fast requests during the slow ones (s): ${times[*]}; median $median, max $max"
# they really overlapped the slow ones: none of those has finished
done_slow=0
for p in "${slow_pids[@]}"; do
	kill -0 "$p" 2>/dev/null || done_slow=$((done_slow + 1))
done
expect_eq "$done_slow" 0 "slow requests finished before the gate opened"
n=$(pgrep -f -c "$T/cgi/slow.cgi" || true)
expect_eq "$n" "$NSLOW" "slow CGI scripts still waiting after the fast requests"
pass "$NFAST fast requests on new connections answered while $NSLOW wait on the origin (median ${median}s, max ${max}s)"
touch "$T/gate"

# ---- the slow ones finish ----
bad=0
slow_times=()
for i in $(seq 1 "$NSLOW"); do
	wait "${slow_pids[$((i - 1))]}" || true
	r=$(cat "$T/slow.$i.out" 2>/dev/null || true)
	code=${r%% *}
	t=${r#* }
	slow_times+=("$t")
	if [[ $code != 200 ]] || [[ $(<"$T/slow.$i.body") != "slept" ]]; then
		echo "slow request $i: '$r' body '$(head -c 200 "$T/slow.$i.body" 2>/dev/null)' $(head -c 200 "$T/slow.$i.err")" >&2
		bad=$((bad + 1))
		continue
	fi
done
((bad == 0)) || fail "$bad of $NSLOW slow requests did not get 200 'slept'"
smin=$(printf '%s\n' "${slow_times[@]}" | sort -g | head -n 1)
smax=$(printf '%s\n' "${slow_times[@]}" | sort -g | tail -n 1)
pass "all $NSLOW slow requests: 200 once the gate opened (${smin}-${smax}s)"
ehealthy

# every edged stops on SIGTERM; under the sanitizer build none of them
# reported anything (LeakSanitizer runs at exit)
stop_bg edge
if grep -q -E 'Sanitizer|runtime error' "$T/edge.log"; then
	fail "edged reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/edge.log" | tr '\n' '|')"
fi
pass "every edged stopped on SIGTERM without a sanitizer report"
