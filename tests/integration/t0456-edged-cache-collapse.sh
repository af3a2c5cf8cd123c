#!/usr/bin/env bash
# t0456: request collapsing (one origin fetch per key at a time):
#   - 100 concurrent viewers (curl --parallel, 100 connections) ask for one
#     cold cacheable URL whose origin takes 1 s: the origin sees exactly one
#     request (resp.cgi's count file, and origind's /_origind/stats path
#     count), every viewer gets 200 and the same body, one Miss and 99 Hits
#     (Cache-Status detail=collapsed), all within a few seconds;
#   - the same with a non-cacheable response (no-store): the waiters cannot
#     use the leader's answer and go to the origin themselves: all 100 get
#     200, the origin sees more than one request, and the bodies differ;
#   - once a URL's answer was not storable (hit-for-pass, 60 s), a burst of
#     its misses goes to the origin at once instead of waiting in line;
#   - the same cacheable test with Redis behind the cache (two nodes):
#     still one origin request per node at most (the second node, asked
#     after the first filled Redis, none).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_redis.sh
. "$(dirname "$0")/lib_redis.sh"
need_tool curl

R=/cgi-bin/resp.cgi
N=100

# origin_count: origind's request count for resp.cgi (asked directly)
origin_count() {
	local s n
	s=$(ocurl /_origind/stats) || fail "GET /_origind/stats failed"
	n=$(json_raw "$s" "$R")
	echo "${n:-0}"
}

# burst NAME PORT PATH: N viewers at once on N connections; per viewer
# "status x-cache|cache-status" lines in $T/NAME.w, bodies in $T/NAME.d/i;
# the wall time in $MS
burst() {
	local name=$1 port=$2 path=$3 i t0 rc=0
	mkdir -p "$T/$name.d"
	for ((i = 1; i <= N; i++)); do
		printf 'url = "https://edge.test:%s%s"\noutput = "%s/%s.d/%s"\n' \
			"$port" "$path" "$T" "$name" "$i"
	done >"$T/$name.cfg"
	t0=$(date +%s%N)
	timeout 30 curl -sS --parallel --parallel-immediate --parallel-max "$N" \
		--cacert "$T/pki/ca.pem" --resolve "edge.test:$port:127.0.0.1" -H 'Host: edge.test' \
		-w '%{http_code} %header{x-cache}|%header{cache-status}\n' \
		-K "$T/$name.cfg" >"$T/$name.w" 2>"$T/$name.err" || rc=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	[[ $rc -eq 0 ]] || fail "curl --parallel ($name) exited $rc: $(_show "$(head -n 5 "$T/$name.err")")"
	expect_eq "$(wc -l <"$T/$name.w")" "$N" "answers to the $name burst"
}
# codes NAME: the distinct statuses of a burst with their counts
codes() { cut -d' ' -f1 "$T/$1.w" | sort | uniq -c | awk '{ printf "%s%sx%s", sep, $2, $1; sep = " " }'; }
# count_xc NAME VALUE: viewers whose X-Cache was VALUE
count_xc() { grep -c -F " $2|" "$T/$1.w" || true; }
# bodies NAME: how many distinct bodies the burst got
bodies() { cat "$T/$1.d"/* | sort -u | wc -l; }

start_www_origind origin --max-connections 256 --max-connections-per-ip 256
start_edged a

# ---- cacheable: one origin request for 100 viewers ----
u1="$R?sleep=1&h=Cache-Control:%20max-age=60&count=c1"
before=$(origin_count)
burst c1 "$EDGE_PORT" "$u1"
after=$(origin_count)
expect_eq "$(codes c1)" "200x$N" "statuses of $N concurrent viewers of a cacheable URL"
expect_eq "$(lines "$T/www/count.c1")" 1 "origin requests (count file) for $N concurrent viewers of a cacheable URL"
expect_eq "$((after - before))" 1 "origin requests (/_origind/stats delta for $R) for $N concurrent viewers"
expect_eq "$(bodies c1)" 1 "distinct bodies among $N concurrent viewers"
b=$(cat "$T/c1.d/1")
expect_match "$b" '^resp [0-9.]+ [0-9]+ GET$'
expect_eq "$(count_xc c1 'Miss from edged')" 1 "viewers with X-Cache Miss"
expect_eq "$(count_xc c1 'Hit from edged')" $((N - 1)) "viewers with X-Cache Hit"
nc=$(grep -c 'detail=collapsed' "$T/c1.w" || true)
((nc >= 1)) || fail "no viewer got Cache-Status detail=collapsed: $(_show "$(head -n 3 "$T/c1.w")")"
((MS < 6000)) || fail "$N collapsed viewers took ${MS} ms (origin 1 s)"
pass "$N concurrent viewers of a cold cacheable URL (origin 1 s): 1 origin request, all 200 with one body, 1 Miss + $((N - 1)) Hits ($nc collapsed), ${MS} ms"

# later requests are plain hits
eget -H 'Host: edge.test' "$u1"
expect_eq "$(header X-Cache)" "Hit from edged" "X-Cache after the burst"
expect_eq "$BODY" "$b" "body after the burst"
expect_eq "$(lines "$T/www/count.c1")" 1 "origin requests for c1 after one more request"

# ---- not cacheable: the waiters fetch for themselves ----
u2="$R?sleep=1&h=Cache-Control:%20no-store&count=c2"
before=$(origin_count)
burst c2 "$EDGE_PORT" "$u2"
after=$(origin_count)
expect_eq "$(codes c2)" "200x$N" "statuses of $N concurrent viewers of a no-store URL"
n2=$(lines "$T/www/count.c2")
((n2 > 1)) || fail "origin requests for $N concurrent viewers of a no-store URL: $n2, want more than 1"
expect_eq "$((after - before))" "$n2" "/_origind/stats delta for the no-store burst (count file: $n2)"
expect_eq "$(count_xc c2 'Hit from edged')" 0 "viewers with X-Cache Hit for a no-store URL"
nb=$(bodies c2)
((nb == n2)) || fail "distinct bodies for the no-store burst: $nb, origin requests: $n2"
pass "$N concurrent viewers of a no-store URL: all 200, $n2 origin requests ($nb distinct bodies), ${MS} ms"

# ---- hit-for-pass: once a URL's answer was not storable, its misses are
# ---- not collapsed: a burst takes one origin time, not two ----
u3="$R?sleep=2&h=Cache-Control:%20no-store&count=p1"
EDGE_PORT=$EDGE_PORT eget -H 'Host: edge.test' "$u3"
expect_eq "$CODE" 200 "the first request for the no-store URL p1"
expect_match "$(header Cache-Status)" 'detail=no-store'
N=20 burst p1 "$EDGE_PORT" "$u3"
expect_eq "$(N=20 codes p1)" "200x20" "statuses of 20 concurrent viewers of a known no-store URL"
expect_eq "$(lines "$T/www/count.p1")" 21 "origin requests for p1 (1 + 20: every viewer went itself)"
((MS < 3500)) || fail "20 concurrent viewers of a known no-store URL (origin 2 s) took ${MS} ms: collapsed behind each other instead of going to the origin at once"
pass "hit-for-pass: 20 viewers of a URL known not to be storable went to the origin at once (${MS} ms for a 2 s origin)"

# ---- with Redis: collapsing per node, then Redis ----
start_redis redis
start_edged r1 --redis "$REDIS_URL"
P1=$EDGE_PORT
start_edged r2 --redis "$REDIS_URL"
P2=$EDGE_PORT
u3="$R?sleep=1&h=Cache-Control:%20max-age=60&count=c3"
burst c3 "$P1" "$u3"
expect_eq "$(codes c3)" "200x$N" "statuses of the burst on r1 (Redis)"
expect_eq "$(lines "$T/www/count.c3")" 1 "origin requests for the burst on r1 (Redis)"
expect_eq "$(bodies c3)" 1 "distinct bodies in the burst on r1"
b3=$(cat "$T/c3.d/1")
burst c3b "$P2" "$u3"
expect_eq "$(codes c3b)" "200x$N" "statuses of the burst on r2"
expect_eq "$(count_xc c3b 'Hit from edged')" "$N" "Hits in the burst on r2 (Redis filled by r1)"
expect_eq "$(cat "$T/c3b.d"/* | sort -u)" "$b3" "bodies in the burst on r2"
expect_eq "$(lines "$T/www/count.c3")" 1 "origin requests for c3 after both bursts"
pass "with Redis: $N viewers on r1 make 1 origin request; $N on r2 are all Hits from Redis (${MS} ms)"

stop_bg a
stop_bg r1
stop_bg r2
for n in a r1 r2; do
	if grep -q -E 'Sanitizer|runtime error' "$T/$n.log"; then
		fail "edged ($n) reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/$n.log" | tr '\n' '|')"
	fi
done
