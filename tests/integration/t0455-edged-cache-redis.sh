#!/usr/bin/env bash
# t0455: the shared cache across nodes: two edged (A, B) on one Redis.
#   - a miss on A is a hit on B, whose memory tier never saw the URL: same
#     body, X-Cache Hit, one origin request; the port in the viewer's Host
#     (each node's own) is not part of the key;
#   - entries live in Redis under edged:v1:<64 hex>, with a TTL of about
#     freshness + stale window (max-age=60, stale-while-revalidate=30: ~90);
#   - a unix:// Redis URL works the same (two more nodes on a socket-only
#     redis-server);
#   - a POST through A invalidates: B (which holds the entry in its memory
#     tier, memory_cache_recheck 200ms) stops serving it within ~1 s;
#   - a corrupted value in Redis (garbage, or the real entry with its body
#     altered) is a miss on a cold node, logged (cache.entry_refused), and
#     replaced by the fresh response; A's stale memory copy is dropped too;
#   - a key of another type (a list) is a miss, not an outage, and replaced;
#   - max_object_size 1k: a larger response (chunked from a CGI, or a static
#     file with Content-Length) streams through uncached (Miss twice, body
#     intact, nothing in Redis), a small one is cached;
#   - a 1 MiB body round-trips through Redis intact (sha256) to the other
#     node.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_redis.sh
. "$(dirname "$0")/lib_redis.sh"
need_tool curl sha256sum

R=/cgi-bin/resp.cgi
CC60='h=Cache-Control:%20max-age=60,%20stale-while-revalidate=30'

key_re='^edged:v1:[0-9a-f]{64}$'
# keys_now: the edged keys in Redis now, one a line
keys_now() { redis_keys 'edged:v1:*'; }
# new_keys BEFORE: keys present now and not in BEFORE
new_keys() { comm -13 <(printf '%s\n' "$1" | sed '/^$/d') <(keys_now); }

mkdir -p "$T/www/static"
start_redis redis
start_www_origind origin --cache-control '/static/=max-age=60'
start_edged a --redis "$REDIS_URL" --memory-cache-recheck 200ms
A=$EDGE_PORT
start_edged b --redis "$REDIS_URL" --memory-cache-recheck 200ms
B=$EDGE_PORT
wait_log a 'redis.up' 5
wait_log b 'redis.up' 5

# ---- a miss on A is a hit on B ----
k0=$(keys_now)
expect_eq "$k0" "" "edged keys in a fresh Redis"
u1="$R?n=1&$CC60&count=u1"
through "$A" "$u1"
expect_eq "$CODE" 200 "status of the first request (A)"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of the first request (A)"
b1=$BODY
expect_match "$b1" '^resp [0-9.]+ [0-9]+ GET$'
through "$B" "$u1"
expect_eq "$CODE" 200 "status of the same URL on B"
expect_eq "$(xcache)" "Hit from edged" "X-Cache on B (its memory tier never saw the URL)"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=[0-9]+'
expect_eq "$BODY" "$b1" "body on B (from Redis)"
expect_eq "$(lines "$T/www/count.u1")" 1 "origin requests for u1"
pass "a miss on A ($b1) is a hit on B with the same body; one origin request"

# ---- the Redis entry: key name and TTL ----
k1=$(new_keys "$k0")
expect_eq "$(printf '%s\n' "$k1" | sed '/^$/d' | wc -l)" 1 "new Redis keys after one cached URL ($k1)"
[[ $k1 =~ $key_re ]] || fail "Redis key '$k1' is not edged:v1:<64 hex>"
ttl=$(rcli TTL "$k1")
[[ $ttl =~ ^[0-9]+$ ]] || fail "TTL of $k1: '$ttl'"
((ttl >= 85 && ttl <= 90)) || fail "TTL of $k1: $ttl, want ~90 (max-age=60 + stale-while-revalidate=30)"
expect_eq "$(rcli TYPE "$k1")" string "type of $k1"
size=$(rcli STRLEN "$k1")
((size > ${#b1})) || fail "Redis value of $k1 is $size bytes, smaller than the body"
pass "entry in Redis as $k1 ($size bytes), TTL $ttl s (freshness 60 + stale window 30)"

# ---- the viewer's port is not part of the key: Host edge.test:A and
# ---- edge.test:B (what curl sends to each node) share the entry ----
u0="$R?n=0&$CC60&count=u0"
EDGE_PORT=$A eget "$u0"
expect_eq "$(xcache)" "Miss from edged" "X-Cache on A with Host edge.test:$A"
b0=$BODY
EDGE_PORT=$B eget "$u0"
expect_eq "$(xcache)" "Hit from edged" "X-Cache on B with Host edge.test:$B"
expect_eq "$BODY" "$b0" "body on B with its own port in Host"
expect_eq "$(lines "$T/www/count.u0")" 1 "origin requests for u0"
pass "nodes on different ports share entries (the Host's port is not in the key)"

# ---- invalidation through A reaches B's memory tier ----
u2="$R?n=2&$CC60&count=u2"
through "$A" "$u2"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u2 on A"
b2=$BODY
through "$B" "$u2"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of u2 on B (from Redis)"
expect_eq "$BODY" "$b2" "body of u2 on B"
# B now has u2 in its memory tier; Redis keeps answering the recheck
sleep 0.3
through "$B" "$u2"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of u2 on B after a recheck interval"
expect_eq "$BODY" "$b2" "body of u2 on B after a recheck interval"
k2=$(rcli --scan --pattern 'edged:v1:*' | sort)
through "$A" --data-binary 'change it' "$u2"
expect_eq "$CODE" 200 "POST to u2 through A"
expect_match "$BODY" '^resp [0-9.]+ [0-9]+ POST$'
gone=$(comm -23 <(printf '%s\n' "$k2") <(keys_now))
[[ -n $gone ]] || fail "no Redis key was deleted by the POST through A"
t0=$(date +%s%N)
stale_hits=0
while :; do
	through "$B" "$u2"
	expect_eq "$CODE" 200 "status of u2 on B after the POST"
	if [[ $(xcache) == "Hit from edged" && $BODY == "$b2" ]]; then
		stale_hits=$((stale_hits + 1))
	else
		break
	fi
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms < 1000)) || fail "B still serves its memory copy of u2 ${ms} ms after the POST through A (memory_cache_recheck 200ms)"
	sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u2 on B once the invalidation reached it"
expect_ne "$BODY" "$b2" "body of u2 on B after the invalidation"
expect_match "$BODY" '^resp [0-9.]+ [0-9]+ GET$'
pass "POST through A deleted the Redis entry; B dropped its memory copy within ${ms} ms ($stale_hits hit(s) from memory before that)"

# ---- a corrupted entry is a miss, logged, and replaced ----
# (1) garbage: A stores, the value is overwritten, a cold node refuses it
u3="$R?n=3&$CC60&count=u3"
k3a=$(keys_now)
through "$A" "$u3"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u3 on A"
b3=$BODY
k3=$(new_keys "$k3a")
[[ $k3 =~ $key_re ]] || fail "u3 did not add one edged key to Redis: '$k3'"
expect_eq "$(rcli SET "$k3" 'garbage, not an entry')" OK "redis-cli SET garbage"
through "$B" "$u3"
expect_eq "$CODE" 200 "status of u3 on B over a garbage entry"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u3 on B over a garbage entry"
expect_ne "$BODY" "$b3" "body of u3 on B over a garbage entry"
b3b=$BODY
grep 'cache.entry_refused' "$T/b.log" | grep -q -- "${k3#edged:v1:}" ||
	fail "B did not log cache.entry_refused for ${k3}: $(_show "$(grep -i 'refused\|corrupt' "$T/b.log")")"
v=$(rcli GETRANGE "$k3" 0 20 | tr -d '\0')
[[ $v != garbage* ]] || fail "the garbage in $k3 was not replaced"
ttl=$(rcli TTL "$k3")
((ttl >= 85 && ttl <= 90)) || fail "TTL of the replaced $k3: $ttl, want ~90"
through "$B" "$u3"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of u3 on B after the replacement"
expect_eq "$BODY" "$b3b" "body of u3 on B after the replacement"
# A still holds the first body in memory: the recheck sees the new checksum
sleep 0.3
through "$A" "$u3"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of u3 on A after B replaced it"
expect_eq "$BODY" "$b3b" "body of u3 on A after B replaced the entry (its memory copy is rechecked)"
expect_eq "$(lines "$T/www/count.u3")" 2 "origin requests for u3"
pass "garbage under $k3: a miss on B, logged cache.entry_refused, replaced (TTL $ttl); A then serves the replacement"

# (2) the real entry with the end of its body altered in place (SETRANGE):
# the checksum no longer matches
u4="$R?n=4&$CC60&count=u4&b=the%20stored%20body%20of%20u4"
k4a=$(keys_now)
through "$A" "$u4"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u4 on A"
k4=$(new_keys "$k4a")
[[ $k4 =~ $key_re ]] || fail "u4 did not add one edged key to Redis: '$k4'"
len=$(rcli STRLEN "$k4")
expect_eq "$(rcli GETRANGE "$k4" $((len - 8)) $((len - 1)))" "y of u4" "the last bytes of the u4 entry (its body)"
rcli SETRANGE "$k4" $((len - 8)) "Y OF U4" >/dev/null
through "$B" "$u4"
expect_eq "$CODE" 200 "status of u4 on B over an altered entry"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u4 on B over an entry whose body was altered in Redis"
expect_eq "$BODY" "the stored body of u4" "body of u4 on B"
grep 'cache.entry_refused' "$T/b.log" | grep -q -- "${k4#edged:v1:}" ||
	fail "B did not log cache.entry_refused for the altered ${k4}"
expect_eq "$(rcli GETRANGE "$k4" $((len - 8)) $((len - 1)))" "y of u4" "the end of the u4 entry after B replaced it"
expect_eq "$(lines "$T/www/count.u4")" 2 "origin requests for u4"
pass "an entry altered in Redis (SETRANGE in its body): a miss on B, logged, replaced"

# (3) a key of another type (a list: GET answers WRONGTYPE): a miss, not
# an outage (no redis.down), and SET replaces it
u9="$R?n=9&$CC60&count=u9"
k9a=$(keys_now)
through "$A" "$u9"
k9=$(new_keys "$k9a")
[[ $k9 =~ $key_re ]] || fail "u9 did not add one edged key to Redis: '$k9'"
rcli DEL "$k9" >/dev/null
rcli RPUSH "$k9" not-a-string >/dev/null
expect_eq "$(rcli TYPE "$k9")" list "type of $k9 after RPUSH"
through "$B" "$u9"
expect_eq "$CODE" 200 "status of u9 on B over a list value"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u9 on B over a list value"
expect_eq "$(rcli TYPE "$k9")" string "type of $k9 after B fetched u9"
through "$B" "$u9"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of u9 on B once the list was replaced"
if grep -q 'event=redis.down' "$T/b.log"; then
	fail "a WRONGTYPE reply marked Redis down on B: $(grep 'event=redis.down' "$T/b.log" | head -n 1)"
fi
expect_eq "$(lines "$T/www/count.u9")" 2 "origin requests for u9"
pass "a list under $k9 (WRONGTYPE): a miss on B without marking Redis down, replaced by the entry"

# ---- a unix:// Redis URL ----
start_redis_unix uredis
start_edged c --redis "$REDIS_URL"
C=$EDGE_PORT
start_edged d --redis "$REDIS_URL"
D=$EDGE_PORT
wait_log c "redis=unix://$REDIS_SOCK" 2
u5="$R?n=5&$CC60&count=u5"
through "$C" "$u5"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of u5 on C (unix socket Redis)"
b5=$BODY
through "$D" "$u5"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of u5 on D (unix socket Redis)"
expect_eq "$BODY" "$b5" "body of u5 on D"
uk=$(redis_keys 'edged:v1:*')
expect_eq "$(printf '%s\n' "$uk" | sed '/^$/d' | wc -l)" 1 "edged keys in the unix-socket Redis"
[[ $uk =~ $key_re ]] || fail "key in the unix-socket Redis: '$uk'"
expect_eq "$(lines "$T/www/count.u5")" 1 "origin requests for u5"
pass "unix://$REDIS_SOCK: a miss on C is a hit on D ($uk)"
stop_bg c
stop_bg d
RCLI_SOCK=
RCLI_PORT=$REDIS_PORT

# ---- max_object_size 1k ----
start_edged e --redis "redis://127.0.0.1:$REDIS_PORT" --max-object-size 1k
E=$EDGE_PORT
big=$(printf 'x%.0s' $(seq 1 2000))
k6a=$(keys_now)
u6="$R?n=6&$CC60&count=u6&b=$big"
for i in 1 2; do
	through "$E" "$u6"
	expect_eq "$CODE" 200 "status of the 2001-byte response, request $i"
	expect_eq "$(xcache)" "Miss from edged" "X-Cache of the 2001-byte response (max_object_size 1k), request $i"
	expect_eq "$BODY" "$big" "body of the 2001-byte response, request $i"
done
expect_eq "$(lines "$T/www/count.u6")" 2 "origin requests for the 2001-byte response"
head -c 3000 /dev/urandom >"$T/www/static/big3k.bin"
for i in 1 2; do
	through "$E" /static/big3k.bin
	expect_eq "$CODE" 200 "status of a 3000-byte static file, request $i"
	expect_eq "$(xcache)" "Miss from edged" "X-Cache of a 3000-byte static file (Content-Length over max_object_size), request $i"
	expect_eq "$(file_sha "$T/body")" "$(file_sha "$T/www/static/big3k.bin")" "sha256 of the 3000-byte static file, request $i"
done
expect_eq "$(new_keys "$k6a")" "" "Redis keys added by the responses over max_object_size"
u7="$R?n=7&$CC60&count=u7&b=small"
through "$E" "$u7"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of a small response, first request"
through "$E" "$u7"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of a small response, second request (max_object_size 1k)"
expect_eq "$BODY" "small" "body of the small response"
expect_eq "$(new_keys "$k6a" | wc -l)" 1 "Redis keys added by the small response"
pass "max_object_size 1k: 2001-byte (chunked) and 3000-byte (Content-Length) responses stream through uncached, intact; a small one is cached"

# ---- a 1 MiB body through Redis ----
head -c 1048576 /dev/urandom >"$T/www/static/big1m.bin"
want=$(file_sha "$T/www/static/big1m.bin")
k8a=$(keys_now)
through "$A" /static/big1m.bin
expect_eq "$CODE" 200 "status of the 1 MiB file on A"
expect_eq "$(xcache)" "Miss from edged" "X-Cache of the 1 MiB file on A"
expect_eq "$(file_sha "$T/body")" "$want" "sha256 of the 1 MiB file on A"
k8=$(new_keys "$k8a")
[[ $k8 =~ $key_re ]] || fail "the 1 MiB file did not add one edged key: '$k8'"
size=$(rcli STRLEN "$k8")
((size > 1048576)) || fail "the Redis value of the 1 MiB file is $size bytes"
through "$B" /static/big1m.bin
expect_eq "$CODE" 200 "status of the 1 MiB file on B"
expect_eq "$(xcache)" "Hit from edged" "X-Cache of the 1 MiB file on B"
expect_eq "$(header Content-Length)" 1048576 "Content-Length of the 1 MiB file on B"
expect_eq "$(file_sha "$T/body")" "$want" "sha256 of the 1 MiB file on B (from Redis)"
pass "a 1 MiB body: stored in Redis ($size bytes) by A, served by B intact (sha256 $want)"

stop_bg a
stop_bg b
stop_bg e
for n in a b c d e; do
	if grep -q -E 'Sanitizer|runtime error' "$T/$n.log"; then
		fail "edged ($n) reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/$n.log" | tr '\n' '|')"
	fi
done
