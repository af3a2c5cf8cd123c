#!/usr/bin/env bash
# t0426: origin_max_connections.  origind accepts 6 connections per
# client address (--max-connections-per-ip 6); edged runs with
# --origin-max-connections 4, bodies over 4 KiB streamed, body_min_rate off.
# Eight viewers upload 100 kB bodies slowly (8 KiB, then a byte a
# second): streaming uploads may hold at most half of the connections, so
# two reach origind and six are refused at once (upload.refused, then 503
# once their body is read, or cut by the body timeouts).  Meanwhile edged
# never has more than 4 connections open to origind (ss), and viewers'
# GETs (cache misses) and small uploads (read whole first) are all served
# (200): the slow uploads neither fill origind's per-address limit nor
# turn other viewers' requests into 502s.  Then four slow GETs hold the
# four connections: a fifth request waits origin_connect_timeout (1 s)
# and gets a clean 503 (X-Cache: Error from edged, the reason in the body,
# cause="busy" in edged_origin_errors_total) without a fifth connection;
# once they end, requests are served again.  Before the fix every upload
# opened its own origin connection: origind refused the seventh, and the
# GETs got 502.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl ss

start_www_origind origin --max-connections-per-ip 6 --connection-timeout 60s
HP=$(free_port)
start_edged edge --listen-http "127.0.0.1:$HP" --viewer-protocol-policy allow-all \
	--origin-max-connections 4 --origin-connect-timeout 1s --body-buffer-size 4k \
	--body-timeout 5s --body-min-rate 0
wait_port "$HP"

# origin_conns: TCP connections edged has established to origind now
origin_conns() {
	ss -Htn state established "( dport = :$ORIGIN_PORT )" | wc -l
}
# metric SERIES: its value in a fresh scrape of the admin listener
metric() {
	acurl /metrics | awk -v s="$1" '$1 == s { print $2 }'
}

# trickle_upload NAME: POST 100000 bytes to echo.cgi over plain HTTP: 8 KiB
# at once, then one byte a second (until stop_bg)
trickle_upload() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 9
		{ printf "POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 100000\r\n\r\n"
		  head -c 8192 /dev/zero | tr "\0" a
		  for ((i = 0; i < 90; i++)); do sleep 1; printf b || exit 0; done; } >&3 2>/dev/null &
		w=$!
		cat <&3 &
		c=$!
		trap "kill \$w \$c 2>/dev/null; exit 0" TERM
		wait "$c"
		kill "$w" 2>/dev/null' "$HP"
}

# ---- eight slow uploads ------------------------------------------------------------
for i in 1 2 3 4 5 6 7 8; do
	trickle_upload "up$i"
done
sleep 1.5

max=0
ok=0
for i in $(seq 1 10); do
	n=$(origin_conns)
	((n > max)) && max=$n
	eget "/index.html?q=$i"
	expect_eq "$CODE" 200 "GET number $i (a cache miss) during the slow uploads ($(head -c 200 "$T/body"))"
	ok=$((ok + 1))
	small=$(head -c 2000 /dev/zero | tr '\0' s)
	eget --data-binary "$small" /cgi-bin/echo.cgi
	expect_eq "$CODE" 200 "small upload number $i during the slow uploads"
	expect_eq "$(tr -d '\r\n' <"$T/body")" "$small" "small upload number $i echoed"
	sleep 0.2
done
note "connections to origind during the slow uploads: at most $max"
((max <= 4)) || fail "edged had $max connections open to origind, origin_max_connections is 4"
pass "$ok GETs and $ok small uploads served during 8 slow uploads; at most $max connections to origind"

wait_log edge "event=upload.refused" 5
expect_eq "$(grep -c 'event=upload.refused' "$T/edge.log")" 6 "slow uploads refused"
expect_eq "$(metric edged_origin_uploads)" 2 "uploads holding an origin connection"
expect_not_contains "$(cat "$T/edge.log")" "event=origin.failed"
pass "two slow uploads hold origin connections (half of 4), six refused at once, no origin failure"

for i in 1 2 3 4 5 6 7 8; do
	stop_bg "up$i"
done
n=0
for _ in $(seq 1 50); do
	n=$(metric edged_origin_uploads)
	[[ $n == 0 ]] && break
	sleep 0.1
done
expect_eq "$n" 0 "uploads holding an origin connection after the uploaders left"

# ---- all four connections busy: a clean 503 ---------------------------------------
# four slow GETs (distinct URLs: no collapsing) hold the four connections
for q in 3 3.0 3.00 03; do
	start_bg "slow$q" curl -sS --cacert "$T/pki/ca.pem" --resolve "edge.test:$EDGE_PORT:127.0.0.1" \
		-o /dev/null -w '%{http_code}\n' "https://edge.test:$EDGE_PORT/cgi-bin/wait.cgi?$q"
done
busy=0
for _ in $(seq 1 30); do
	busy=$(acurl /metrics | awk -v p="https://127.0.0.1:$ORIGIN_PORT" '
		$1 == "edged_origin_connections{origin=\"" p "\",state=\"open\"}" { o = $2 }
		$1 == "edged_origin_connections{origin=\"" p "\",state=\"idle\"}" { i = $2 }
		END { print o - i }')
	[[ $busy == 4 ]] && break
	sleep 0.1
done
expect_eq "$busy" 4 "busy origin connections while four slow GETs run"
busy0=$(metric 'edged_origin_errors_total{cause="busy"}')
eget /index.html?full
expect_eq "$CODE" 503 "a GET while all 4 origin connections are busy"
expect_eq "$(xcache)" "Error from edged" "X-Cache of the 503"
expect_contains "$BODY" "origin_max_connections"
note "the 503 said: $BODY"
expect_eq "$(metric 'edged_origin_errors_total{cause="busy"}')" "$((busy0 + 1))" "busy origin errors"
n=$(origin_conns)
((n <= 4)) || fail "$n connections to origind while 4 were allowed"
expect_contains "$(cat "$T/edge.log")" "class=busy"
pass "all 4 connections busy: 503 after origin_connect_timeout, X-Cache: Error from edged, no fifth connection"

for q in 3 3.0 3.00 03; do
	wait_bg "slow$q" 20
	expect_eq "$(tail -n 1 "$T/slow$q.log")" 200 "slow GET wait.cgi?$q"
done
eget /index.html?after
expect_eq "$CODE" 200 "a GET once the slow GETs ended"
pass "the four slow GETs were served; afterwards requests get connections again"
