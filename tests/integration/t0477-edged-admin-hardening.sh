#!/usr/bin/env bash
# t0477: the admin API against a web page in a browser on the same host
# (CSRF, DNS rebinding), against token guessing, and against a flood of
# invalidations.
#   - CSRF: POST /invalidations with a body a form or a no-cors fetch can
#     send (text/plain, form-urlencoded, multipart) or with no Content-Type
#     gets 415 (Accept-Post: application/json) and invalidates nothing (the
#     object stays a hit, the list stays empty); application/json with a
#     charset is taken; a CORS preflight (OPTIONS) gets 405 and no
#     Access-Control-Allow-* field;
#   - DNS rebinding: a Host that is not localhost, *.localhost, an IP
#     literal or an admin_hosts name (evil.example, 127.0.0.1.evil.example,
#     localhost.evil.example, ...) gets 421 and an admin.host_refused log
#     line, on every path; nothing is invalidated; 127.0.0.1:PORT,
#     localhost:PORT, [::1]:PORT, x.localhost and an admin_hosts name pass;
#     HTTP/1.1 without Host and two Host fields get 400, HTTP/1.0 without
#     Host passes;
#   - the token: the right one passes; one differing in its last byte, one
#     byte longer or shorter, a prefix, an empty one get 401;
#   - invalidation_max_paths_active (5 here), with Redis and without: up to
#     the cap 201, one path more 429 naming the key with nothing applied
#     (the earlier bans hold, the refused paths' objects stay hits); more
#     than the cap in one call 413; two nodes on one Redis share the count;
#   - start-up refuses a bad admin_hosts name and a cap of 0, naming the key.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_redis.sh
. "$(dirname "$0")/lib_redis.sh"
need_tool curl

mkdir -p "$T/www/static"
for f in a b c d e f g h; do echo "v1 $f" >"$T/www/static/$f.html"; done
start_www_origind origin --cache-control '/static/=max-age=600'

# code [curl args...] PATH: the admin listener's status code
code() { acurl -o /dev/null -w '%{http_code}' "$@"; }
# post TYPE JSON [curl args...]: POST /invalidations with Content-Type TYPE
# (none when empty); CODE, BODY, $T/adm.head
post() {
	local type=$1 body=$2
	shift 2
	CODE=$(acurl -D "$T/adm.head" -o "$T/adm.body" -w '%{http_code}' -H "Content-Type:${type:+ $type}" \
		--data-binary "$body" "$@" /invalidations) || fail "POST /invalidations failed"
	BODY=$(<"$T/adm.body")
}
# state FILE: "Hit v1" style: X-Cache word and body of /static/FILE
state() {
	eget "/static/$1"
	[[ $CODE == 200 ]] || fail "GET /static/$1: $CODE"
	echo "$(xcache | cut -d' ' -f1) $(cut -d' ' -f1 <<<"$BODY")"
}
# admraw REQUEST: send REQUEST (printf %b) over plain TCP to the admin
# listener and read until it closes; RAW, STATUS
admraw() {
	RAW=$(printf '%b' "$1" | timeout 8 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ADMIN_PORT; cat >&3; cat <&3") ||
		fail "admin listener: no answer to $(_show "$1")"
	STATUS=$(head -n 1 <<<"$RAW" | tr -d '\r')
}
refusals() { grep -c 'event=admin.host_refused' "$T/$1.log" || true; }

start_edged solo
state a.html >/dev/null
expect_eq "$(state a.html)" "Hit v1" "a.html before any invalidation"
for f in a b c d e f g h; do echo "v2 $f" >"$T/www/static/$f.html"; done

# ---- CSRF: only application/json is taken ----
for type in 'text/plain' 'text/plain;charset=UTF-8' 'application/x-www-form-urlencoded' \
	'multipart/form-data; boundary=x' 'application/jsonx' 'application/json-seq' ''; do
	post "$type" '{"paths":["/static/a.html"]}'
	expect_eq "$CODE" 415 "POST /invalidations with Content-Type '$type'"
	expect_contains "$BODY" "application/json"
	expect_eq "$(tr -d '\r' <"$T/adm.head" | sed -n 's/^[Aa]ccept-[Pp]ost: //p')" \
		"application/json" "Accept-Post of the 415"
done
# what a plain HTML form sends, exactly
CODE=$(acurl -o "$T/adm.body" -w '%{http_code}' --data-urlencode '{"paths":["/static/a.html"]}=' \
	/invalidations)
expect_eq "$CODE" 415 "a form-encoded POST (curl's default)"
expect_eq "$(state a.html)" "Hit v1" "a.html after the refused POSTs (nothing invalidated)"
expect_eq "$(json_raw "$(acurl /invalidations)" quantity)" 0 "invalidations after the refused POSTs"
# a cross-origin fetch with application/json needs a preflight: refused
code=$(acurl -D "$T/opt.head" -o /dev/null -w '%{http_code}' -X OPTIONS \
	-H 'Origin: http://evil.example' -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: content-type' /invalidations)
expect_eq "$code" 405 "a CORS preflight"
if grep -qi '^access-control-allow' "$T/opt.head"; then
	fail "the preflight answer allows something: $(_show "$(cat "$T/opt.head")")"
fi
post 'Application/JSON ; charset=utf-8' '{"paths":["/static/b.html"]}'
expect_eq "$CODE" 201 "POST with application/json and a charset: $BODY"
expect_eq "$(state b.html)" "Miss v2" "b.html after the accepted POST"

# ---- DNS rebinding: the Host must name this listener ----
n0=$(refusals solo)
bad_hosts=('evil.example' "evil.example:$ADMIN_PORT" "127.0.0.1.evil.example:$ADMIN_PORT"
	'localhost.evil.example' 'evillocalhost' 'localhost:99999' 'localhost:' '127.0.0.1:x'
	'[::1' '::1' '[fe80::1%25eth0]' 'a..localhost' 'local host' '2130706433.example')
for h in "${bad_hosts[@]}"; do
	post application/json '{"paths":["/static/a.html"]}' -H "Host: $h"
	expect_eq "$CODE" 421 "POST /invalidations with Host '$h'"
	expect_eq "$(code -H "Host: $h" /healthz)" 421 "/healthz with Host '$h'"
	expect_eq "$(code -H "Host: $h" /metrics)" 421 "/metrics with Host '$h'"
done
n1=$(refusals solo)
expect_contains "$(acurl -H 'Host: evil.example' /healthz)" "admin_hosts"
expect_eq "$((n1 - n0))" "$((3 * ${#bad_hosts[@]}))" "admin.host_refused lines"
expect_contains "$(grep 'event=admin.host_refused' "$T/solo.log" | head -n 1)" "host=evil.example"
expect_eq "$(state a.html)" "Hit v1" "a.html after the POSTs with a foreign Host"
for h in "127.0.0.1:$ADMIN_PORT" "localhost:$ADMIN_PORT" localhost LOCALHOST. \
	"admin.localhost:$ADMIN_PORT" "[::1]:$ADMIN_PORT" '[::ffff:127.0.0.1]' 10.1.2.3 \
	"192.0.2.7:$ADMIN_PORT"; do
	expect_eq "$(code -H "Host: $h" /healthz)" 200 "/healthz with Host '$h'"
	expect_eq "$(code -H "Host: $h" /metrics)" 200 "/metrics with Host '$h'"
done
post application/json '{"paths":["/static/c.html"]}' -H "Host: localhost:$ADMIN_PORT"
expect_eq "$CODE" 201 "POST with Host localhost:PORT: $BODY"
admraw 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'
expect_match "$STATUS" '^HTTP/1\.1 400' "HTTP/1.1 without Host"
admraw 'GET /healthz HTTP/1.0\r\n\r\n'
expect_match "$STATUS" '^HTTP/1\.[01] 200' "HTTP/1.0 without Host"
admraw 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'
expect_match "$STATUS" '^HTTP/1\.1 400' "two Host fields"
admraw 'GET /healthz HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
expect_match "$STATUS" '^HTTP/1\.1 (400|421)' "two Host fields, the foreign one first"
admraw 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
expect_match "$STATUS" '^HTTP/1\.1 200' "one Host field, raw"

# admin_hosts: a name the operator scrapes by
start_edged named --admin-hosts 'edge1.internal, Metrics.Example.'
for h in edge1.internal "EDGE1.internal:$ADMIN_PORT" metrics.example; do
	expect_eq "$(code -H "Host: $h" /metrics)" 200 "/metrics with Host '$h' (in admin_hosts)"
done
expect_eq "$(code -H 'Host: edge2.internal' /metrics)" 421 "a name not in admin_hosts"
expect_eq "$(code -H 'Host: x.edge1.internal' /metrics)" 421 "a name under an admin_hosts name"

# ---- the token ----
TOK=0123456789abcdef-test-token
start_edged tok --admin-token "$TOK"
expect_eq "$(code -H "Authorization: Bearer $TOK" /metrics)" 200 "the right token"
for bad in "${TOK%?}x" "${TOK}x" "${TOK%?}" "${TOK:0:16}" "0" "" "$TOK$TOK"; do
	expect_eq "$(code -H "Authorization: Bearer $bad" /metrics)" 401 "token '$bad'"
done
expect_eq "$(code -H "Authorization: Basic $TOK" /metrics)" 401 "the token as Basic"
expect_eq "$(code -H "Authorization: bearer $TOK" /metrics)" 200 "the scheme in lower case"

# ---- the cap on invalidation paths in force ----
# cap_checks NAME: on the node just started (cap 5), a.html..h.html cached
cap_checks() {
	local f
	for f in a b c d e f g h; do echo "v1 $f" >"$T/www/static/$f.html"; done
	for f in a b c d e f g h; do state "$f.html" >/dev/null; done
	for f in a b c d e f g h; do echo "v3 $f" >"$T/www/static/$f.html"; done
	post application/json '{"paths":["/static/a.html","/static/b.html","/static/c*"]}'
	expect_eq "$CODE" 201 "$1: 3 paths under a cap of 5: $BODY"
	id1=$(json_str "$BODY" id)
	post application/json '{"paths":["/static/d.html","/static/e.html","/static/f.html"]}'
	expect_eq "$CODE" 429 "$1: 3 more paths (6 > 5)"
	expect_contains "$BODY" "invalidation_max_paths_active (5)"
	expect_contains "$BODY" "nothing was invalidated"
	wait_log "$1" 'event=admin.invalidation_refused' 3
	for f in d e f; do
		expect_eq "$(state "$f.html")" "Hit v1" "$1: $f.html after the refused POST"
	done
	for f in a b c; do
		expect_eq "$(state "$f.html")" "Miss v3" "$1: $f.html (invalidated before the refusal)"
	done
	list=$(acurl /invalidations)
	expect_eq "$(json_raw "$list" quantity)" 1 "$1: invalidations listed after the refusal"
	expect_contains "$list" "$id1"
	post application/json '{"paths":["/static/d.html","/static/e.html"]}'
	expect_eq "$CODE" 201 "$1: 2 more paths (5 = the cap): $BODY"
	expect_eq "$(state d.html)" "Miss v3" "$1: d.html"
	post application/json '{"paths":["/static/g.html"]}'
	expect_eq "$CODE" 429 "$1: one path beyond the cap"
	post application/json '{"paths":["/1","/2","/3","/4","/5","/6"]}'
	expect_eq "$CODE" 413 "$1: 6 paths in one call under a cap of 5"
	expect_contains "$BODY" "invalidation_max_paths_active (5)"
	expect_eq "$(state g.html)" "Hit v1" "$1: g.html (in no accepted invalidation)"
	expect_eq "$(json_raw "$(acurl /invalidations)" quantity)" 2 "$1: invalidations at the end"
}
start_edged capsolo --invalidation-max-paths-active 5
cap_checks capsolo

start_redis redis
start_edged capa --redis "$REDIS_URL" --invalidation-max-paths-active 5
wait_log capa 'redis.up' 5
cap_checks capa
expect_eq "$(rcli ZCARD edged:inv:bans)" 5 "bans in Redis"
# a second node on the same Redis counts the same bans
start_edged capb --redis "$REDIS_URL" --invalidation-max-paths-active 5
post application/json '{"paths":["/static/h.html"]}'
expect_eq "$CODE" 429 "a second node on the same Redis, the shared list full"
start_edged capc --redis "$REDIS_URL" --invalidation-max-paths-active 7
post application/json '{"paths":["/static/g.html","/static/h.html"]}'
expect_eq "$CODE" 201 "a node with a cap of 7: 2 more paths: $BODY"
expect_eq "$(rcli ZCARD edged:inv:bans)" 7 "bans in Redis at the end"

# ---- start-up refusals ----
bad_start "a port in admin_hosts" "key 'admin_hosts'" --admin-hosts 'edge1.internal:9901'
bad_start "a blank in admin_hosts" "key 'admin_hosts'" --admin-hosts 'a b'
bad_start "a cap of 0" "--invalidation-max-paths-active" --invalidation-max-paths-active 0
bad_start "a cap that is no number" "--invalidation-max-paths-active" \
	--invalidation-max-paths-active lots
pass
