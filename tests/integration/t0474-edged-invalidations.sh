#!/usr/bin/env bash
# t0474: invalidations through the admin API, across two nodes on one Redis.
#   - hit on both nodes -> POST /invalidations on A -> a miss with the new
#     content on A at once and the new content on B within 1 s (a hit on
#     the copy A stored in Redis after the invalidation), though B holds the entry in
#     its memory tier with memory_cache_recheck 60s (the bans reach it, not
#     the recheck); objects not covered stay hits;
#   - a wildcard /static/img/* on B covers img/ on both nodes only; /* all;
#   - the query string of a path is ignored; POST answers 201 with an id and
#     a Location; GET /invalidations/<id> turns Completed within ~1 s;
#     GET /invalidations lists them newest first; CloudFront's own body
#     shape ({"InvalidationBatch": {"Paths": {"Items": [...]}}}) works;
#   - bad paths get 400 naming the path; bad JSON 400; a GET 405;
#   - a wildcard costs the same Redis work over 100,000 cached objects as
#     over 10: the same commands, none that walks the keyspace (SCAN, KEYS),
#     and no DEL;
#   - a node started after an invalidation applies it to old entries;
#   - without Redis (memory tier only) invalidations work, Completed at once;
#   - with the cache off POST /invalidations is 409.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_redis.sh
. "$(dirname "$0")/lib_redis.sh"
need_tool curl

mkdir -p "$T/www/static/img"
put() { for f in a.html b.html img/x.txt img/y.txt; do echo "$1 $f" >"$T/www/static/$f"; done; }
put v1

start_redis redis
start_www_origind origin --cache-control '/static/=max-age=600'
start_edged a --redis "$REDIS_URL" --memory-cache-recheck 60s
A=$EDGE_PORT
AA=$ADMIN_PORT
start_edged b --redis "$REDIS_URL" --memory-cache-recheck 60s
B=$EDGE_PORT
AB=$ADMIN_PORT
wait_log a 'redis.up' 5
wait_log b 'redis.up' 5

# post PORT JSON: POST /invalidations; CODE, BODY, LOC
post() {
	local out
	out=$(ADMIN_PORT=$1 acurl -D "$T/adm.head" -o "$T/adm.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "$2" /invalidations) ||
		fail "POST /invalidations to $1 failed"
	CODE=$out
	BODY=$(<"$T/adm.body")
	LOC=$(tr -d '\r' <"$T/adm.head" | sed -n 's/^[Ll]ocation: //p')
}
# state PORT FILE: "Hit v1" style: X-Cache word and body
state() {
	through "$1" "/static/$2"
	[[ $CODE == 200 ]] || fail "GET /static/$2 on $1: $CODE"
	echo "$(xcache | cut -d' ' -f1) $(cut -d' ' -f1 <<<"$BODY")"
}
# warm: every file a hit on both nodes (v1)
warm() {
	local f p
	for f in a.html b.html img/x.txt img/y.txt; do
		state "$A" "$f" >/dev/null
		for p in "$A" "$B"; do
			expect_eq "$(state "$p" "$f")" "Hit $1" "$f on $p before the invalidation"
		done
	done
}
# until_new PORT FILE WANT: poll until FILE on PORT has content WANT (a
# miss, or a hit on the copy another node fetched after the invalidation);
# echo ms
until_new() {
	local t0 s
	t0=$(date +%s%N)
	for ((n = 0; n < 40; n++)); do
		s=$(state "$1" "$2")
		if [[ ${s#* } == "$3" ]]; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.05
	done
	fail "$2 on $1 still '$s' 2 s after the invalidation"
}

warm v1
put v2

# ---- one path, on A ----
post "$AA" '{"paths": ["/static/a.html?ignored=1"]}'
expect_eq "$CODE" 201 "POST /invalidations: $BODY"
json_valid "$BODY"
id1=$(json_str "$BODY" id)
expect_match "$id1" '^I[A-Z0-9]{13}$'
expect_eq "$LOC" "/invalidations/$id1" "Location of the invalidation"
expect_match "$(json_str "$BODY" status)" '^(InProgress|Completed)$'
expect_eq "$(json_raw "$BODY" paths)" '["/static/a.html?ignored=1"]' "paths echoed"
expect_eq "$(state "$A" a.html)" "Miss v2" "a.html on A right after the invalidation"
ms=$(until_new "$B" a.html v2)
note "a.html invalidated on B after ${ms} ms"
[[ $ms -lt 1000 ]] || fail "B served the invalidated a.html for $ms ms (want < 1000)"
for p in "$A" "$B"; do
	expect_eq "$(state "$p" b.html)" "Hit v1" "b.html on $p (not covered)"
	expect_eq "$(state "$p" img/x.txt)" "Hit v1" "img/x.txt on $p (not covered)"
done
# Completed once both nodes applied it
for ((n = 0; n < 30; n++)); do
	got=$(ADMIN_PORT=$AB acurl "/invalidations/$id1")
	[[ $(json_str "$got" status) == Completed ]] && break
	sleep 0.1
done
expect_eq "$(json_str "$got" status)" Completed "status of $id1 (asked on B) after 3 s"

# ---- a wildcard, on B ----
post "$AB" '{"paths": ["/static/img/*"]}'
expect_eq "$CODE" 201 "POST /static/img/* on B: $BODY"
id2=$(json_str "$BODY" id)
expect_eq "$(state "$B" img/x.txt)" "Miss v2" "img/x.txt on B right after the wildcard"
ms=$(until_new "$A" img/y.txt v2)
note "img/y.txt invalidated on A after ${ms} ms"
[[ $ms -lt 1000 ]] || fail "A served img/y.txt for $ms ms after the wildcard (want < 1000)"
for p in "$A" "$B"; do
	expect_eq "$(state "$p" b.html)" "Hit v1" "b.html on $p after /static/img/*"
done

# ---- everything (CloudFront's body shape) ----
post "$AA" '{"InvalidationBatch": {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "t0474"}}'
expect_eq "$CODE" 201 "POST /* in CloudFront's shape: $BODY"
id3=$(json_str "$BODY" id)
expect_eq "$(state "$A" b.html)" "Miss v2" "b.html on A after /*"
ms=$(until_new "$B" b.html v2)
[[ $ms -lt 1000 ]] || fail "B served b.html for $ms ms after /* (want < 1000)"
for p in "$A" "$B"; do
	expect_eq "$(state "$p" b.html)" "Hit v2" "b.html on $p: stored again after /*"
done

# ---- the list ----
list=$(ADMIN_PORT=$AB acurl /invalidations)
json_valid "$list"
ids=$(grep -o '"id":"I[A-Z0-9]*"' <<<"$list" | cut -d'"' -f4 | tr '\n' ' ')
expect_eq "$ids" "$id3 $id2 $id1 " "GET /invalidations, newest first"

# ---- refused input ----
post "$AA" '{"paths": ["static/a.html"]}'
expect_eq "$CODE" 400 "a path without a leading /"
expect_contains "$BODY" "static/a.html"
post "$AA" '{"paths": ["/ok.html", "/a*b.html"]}'
expect_eq "$CODE" 400 "a * inside a path"
expect_contains "$BODY" "/a*b.html"
post "$AA" '{"paths": []}'
expect_eq "$CODE" 400 "no paths"
post "$AA" 'not json'
expect_eq "$CODE" 400 "a body that is not JSON"
post "$AA" '{"paths": [1]}'
expect_eq "$CODE" 400 "a path that is not a string"
expect_eq "$(ADMIN_PORT=$AA acurl -o /dev/null -w '%{http_code}' -X DELETE /invalidations)" 405 \
	"DELETE /invalidations"
expect_eq "$(ADMIN_PORT=$AA acurl -o /dev/null -w '%{http_code}' /invalidations/INOSUCHTHING12)" \
	404 "an unknown id"

# ---- the cost does not depend on the number of cached objects ----
# cost PATHS: the Redis commands one POST runs (INFO commandstats, the
# pollers' EVALs and their inner commands left out by stopping them: the
# two edges are SIGSTOPped around the POST's own work would stop the POST
# too, so count only the commands the pollers never run)
cost() {
	rcli CONFIG RESETSTAT >/dev/null
	post "$AA" "{\"paths\": [\"$1\"]}"
	expect_eq "$CODE" 201 "POST $1: $BODY"
	rcli INFO commandstats | tr -d '\r' | grep -E '^cmdstat_(incr|zadd|set|del|unlink|scan|keys|zremrangebyrank):' |
		sed 's/,usec=[^,]*,usec_per_call=[^,]*//; s/,rejected_calls=.*//' | sort
}
small=$(cost '/static/img/*')
real=$(redis_keys 'edged:v1:*' | head -n 1)
[[ -n $real ]] || fail "no cached entry in Redis to copy"
rcli EVAL "local v = redis.call('GET', KEYS[1]) for i = 1, 100000 do redis.call('SET', 'edged:v1:' .. string.format('%064x', i), v) end return 1" 1 "$real" >/dev/null
dbsize=$(rcli DBSIZE)
# the script kept Redis busy past redis_timeout: wait until A sees it up
for ((n = 0; n < 50; n++)); do
	[[ $(json_str "$(ADMIN_PORT=$AA acurl /healthz)" redis) == up ]] && break
	sleep 0.1
done
[[ $dbsize -gt 100000 ]] || fail "Redis holds $dbsize keys, want over 100000"
t0=$(date +%s%N)
large=$(cost '/static/img/*')
note "a wildcard over $dbsize keys took $((($(date +%s%N) - t0) / 1000000)) ms (curl and INFO included)"
expect_eq "$large" "$small" "Redis commands of one wildcard over 100k objects vs over 10"
expect_not_contains "$large" "cmdstat_scan"
expect_not_contains "$large" "cmdstat_keys"
expect_not_contains "$large" "cmdstat_del"
expect_contains "$large" "cmdstat_incr:calls=1"

# ---- a node started later applies the earlier invalidations ----
expect_eq "$(state "$A" a.html)" "Miss v2" "a.html on A after /* (stored again)"
stop_bg b
put v3
# B's successor starts cold: entries in Redis from before id3 (none left)
# and from after; a new wildcard while it is down
post "$AA" '{"paths": ["/static/b.html"]}'
expect_eq "$CODE" 201 "POST while B is down"
start_edged c --redis "$REDIS_URL" --memory-cache-recheck 60s
C=$EDGE_PORT
expect_eq "$(state "$C" b.html)" "Miss v3" "b.html on a node started after its invalidation"
expect_eq "$(state "$C" a.html)" "Hit v2" "a.html on the new node (from Redis, not invalidated)"

# ---- memory tier only ----
start_edged solo
S=$EDGE_PORT
state "$S" a.html >/dev/null
expect_eq "$(state "$S" a.html)" "Hit v3" "a.html on a node without Redis"
put v4
post "$ADMIN_PORT" '{"paths": ["/static/*"]}'
expect_eq "$CODE" 201 "POST on a node without Redis: $BODY"
expect_eq "$(json_str "$BODY" status)" Completed "status without Redis"
expect_eq "$(state "$S" a.html)" "Miss v4" "a.html after /static/* without Redis"

# ---- cache off ----
start_edged off --cache=false
post "$ADMIN_PORT" '{"paths": ["/static/*"]}'
expect_eq "$CODE" 409 "POST /invalidations with the cache off"
pass
