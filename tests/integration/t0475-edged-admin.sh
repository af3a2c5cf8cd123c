#!/usr/bin/env bash
# t0475: the admin listener.
#   - GET /healthz: 200 JSON with status ok, the node, Redis (up, then down
#     after redis-server dies: still 200, fail-open; off without Redis) and
#     origin reachability (a verified TLS connection: up, then down with the
#     reason once origind stops);
#   - admin_token: /metrics and /invalidations need "Authorization: Bearer
#     TOKEN" (401 with WWW-Authenticate and an admin.unauthorized log line
#     without it or with a wrong one), /healthz does not;
#   - start-up refuses a non-loopback admin_listen without admin_token, a
#     short token, a malformed address and a port in use, naming the key;
#   - admin_listen = off: no listener; unknown paths 404, wrong methods 405.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_redis.sh
. "$(dirname "$0")/lib_redis.sh"
need_tool curl

start_redis redis
start_www_origind origin
start_edged a --redis "$REDIS_URL"
wait_log a 'redis.up' 5

# ---- health ----
code=$(acurl -o "$T/h.json" -w '%{http_code}' /healthz)
h=$(<"$T/h.json")
expect_eq "$code" 200 "GET /healthz"
json_valid "$h"
expect_eq "$(json_str "$h" status)" ok "status"
expect_eq "$(json_str "$h" node)" edge-a "node"
expect_eq "$(json_str "$h" redis)" up "redis"
expect_eq "$(json_str "$h" origin)" up "origin"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' -X POST /healthz)" 405 "POST /healthz"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' /nope)" 404 "an unknown admin path"
expect_match "$(acurl -sI /healthz | tr -d '\r' | grep -i '^content-type:')" 'application/json'

stop_bg redis
h=$(acurl /healthz)
expect_eq "$(json_str "$h" redis)" down "redis after redis-server stopped"
expect_ne "$(json_str "$h" redis_error)" "" "the reason Redis is down"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' /healthz)" 200 "/healthz with Redis down (fail-open)"
stop_bg origin
sleep 1.1 # the origin probe is cached for a second
h=$(acurl /healthz)
expect_eq "$(json_str "$h" origin)" down "origin after origind stopped"
expect_contains "$(json_str "$h" origin_error)" "onnect"

start_www_origind origin2
start_edged solo
h=$(acurl /healthz)
expect_eq "$(json_str "$h" redis)" off "redis without one configured"
expect_eq "$(json_str "$h" origin)" up "origin of the second node"

# ---- the token ----
TOK=0123456789abcdef-test-token
start_edged tok --admin-token "$TOK"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' /healthz)" 200 "/healthz needs no token"
code=$(acurl -D "$T/401.head" -o "$T/401.body" -w '%{http_code}' /metrics)
expect_eq "$code" 401 "/metrics without the token"
expect_match "$(tr -d '\r' <"$T/401.head" | grep -i '^www-authenticate:')" 'Bearer'
wait_log tok 'event=admin.unauthorized' 3
expect_eq "$(acurl -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong-token-of-length' /metrics)" \
	401 "/metrics with a wrong token"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${TOK}x" /metrics)" \
	401 "/metrics with the token and one more byte"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" /metrics)" \
	200 "/metrics with the token"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' -d '{"paths":["/x"]}' /invalidations)" \
	401 "POST /invalidations without the token"
expect_eq "$(acurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	-d '{"paths":["/x"]}' /invalidations)" 201 "POST /invalidations with the token"

# ---- start-up refusals ----
bad_start "a public admin_listen without a token" "key 'admin_token' must be set" \
	--admin-listen "0.0.0.0:$(free_port)"
bad_start "a short token" "key 'admin_token'" --admin-token short
bad_start "a malformed admin_listen" "admin_listen" --admin-listen "127.0.0.1:notaport"
busy=$(free_port)
start_edged holder --admin-listen "127.0.0.1:$busy"   # another node holds the port
bad_start "an admin port in use" "key 'admin_listen': cannot listen on 127.0.0.1:$busy" \
	--admin-listen "127.0.0.1:$busy"
# a public address with a token starts
AP=$(free_port)
start_edged pub --admin-listen "0.0.0.0:$AP" --admin-token "$TOK"
ADMIN_PORT=$AP
expect_eq "$(acurl -o /dev/null -w '%{http_code}' /healthz)" 200 "/healthz on 0.0.0.0"


# ---- off ----
start_edged quiet --admin-listen off
wait_log quiet 'event=admin.off' 3
if grep -q 'event=admin.listening' "$T/quiet.log"; then
	fail "admin_listen = off still started a listener"
fi
pass
