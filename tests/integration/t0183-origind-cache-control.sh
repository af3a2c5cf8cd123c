#!/usr/bin/env bash
# t0183: --cache-control PREFIX=VALUE: static files under PREFIX get that
# Cache-Control (on 200, 206 and 304), files outside none; with two rules
# the longest matching prefix wins; the value keeps its commas, from a
# flag and from a -c file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl

W=$T/www
mkdir -p "$W/static/img"
echo x >"$W/static/x"
echo logo >"$W/static/img/logo.png"
echo other >"$W/other"
echo near >"$W/staticfile"

cc() {
	ocurl -D - -o /dev/null "$@" | grep -i '^Cache-Control:' | sed 's/^[^:]*: *//' | tr -d '\r'
}

check_rules() {
	expect_eq "$(cc /static/x)" "public, max-age=60" "Cache-Control of /static/x"
	expect_eq "$(cc /static/img/logo.png)" "public, max-age=3600, immutable" \
		"Cache-Control of /static/img/logo.png (longest prefix)"
	expect_eq "$(cc /other)" "" "Cache-Control of /other"
	expect_eq "$(cc /staticfile)" "" "Cache-Control of /staticfile (the prefix is /static/)"
	expect_eq "$(cc -r 0-0 /static/x)" "public, max-age=60" "Cache-Control of a 206"
	local etag
	etag=$(ocurl -D - -o /dev/null /static/x | grep -i '^ETag:' | sed 's/^[^:]*: *//' | tr -d '\r')
	expect_eq "$(cc -H "If-None-Match: $etag" /static/x)" "public, max-age=60" "Cache-Control of a 304"
}

start_origind flags --docroot "$W" --cache-control '/static/=public, max-age=60' \
	--cache-control '/static/img/=public, max-age=3600, immutable'
check_rules
pass "flags: /static/x public, max-age=60 (200, 206, 304); /static/img/ longest prefix; /other and /staticfile none"

# the same rules from a config file, in the other order
P=$(free_port)
cat >"$T/origind.conf" <<EOF
listen_https = 127.0.0.1:$P
cert = $T/pki/origin.test.chain.pem
key = $T/pki/origin.test.key
docroot = $W
cache_control = /static/img/=public, max-age=3600, immutable
cache_control = /static/=public, max-age=60
EOF
start_bg conf "$ORIGIND" -c "$T/origind.conf"
ORIGIN_PORT=$P
wait_port "$P"
check_rules
pass "config file (rules in the other order): the same Cache-Control values, commas kept"
