#!/usr/bin/env bash
# t0600: edgecheck against real stacks.
#   - healthy: origind + two edged on one Redis (A with --listen-http and
#     the default redirect policy): exit 0, every step block (1-6, R, H, A)
#     present and PASS with its facts (TLS version, Miss, origind's view of
#     the origin leg, counter unchanged on the Hit, equal sha256, 301 to
#     https, Hit on B); a second run (a new nonce) passes too; --json is
#     one valid object with ok true;
#   - usage errors exit 2 with one line: no URL, http://, no --ca, an
#     unreadable --ca, a bad --resolve, a bad --also, an unknown flag;
#   - broken stacks exit 1 and name the step: an untrusted certificate
#     (--ca of another CA: step 1), caching disabled (--cache=false: step
#     5), renegotiation allowed (openssl s_server -tls1_2
#     -client_renegotiation as the "edge": step R), nothing on --http-port
#     (step H), an --also edge on another Redis (step A), the origin down
#     (steps 2 and 3);
#   - a TLS 1.3-only edge: step R passes as not applicable;
#   - an origin that is not origind (nginx): steps 3 and 4 say so and are
#     skipped, exit 0; with --require-origind they fail, exit 1;
#   - origind with introspection off (its default): the same, and the
#     report names 'introspection = on'.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_redis.sh
. "$(dirname "$0")/lib_redis.sh"
PATH=$PATH:/usr/sbin:/sbin
need_tool openssl nginx
EDGECHECK="$EDGED_BIN/edgecheck"
[[ -x $EDGECHECK ]] || fail "no edgecheck at $EDGECHECK (set EDGED_BIN)"

# chk WANT PORT [args...]: edgecheck https://edge.test:PORT/ with the test
# CA and --resolve for PORT
chk() {
	local want=$1 port=$2
	shift 2
	expect_rc "$want" "$EDGECHECK" "https://edge.test:$port/" --ca "$T/pki/ca.pem" \
		--resolve "edge.test:$port:127.0.0.1" "$@"
	clean
}
# clean: no sanitizer report from the last edgecheck run (ASan exits 1,
# which a run that must fail would hide)
clean() {
	expect_not_contains "$STDERR" "Sanitizer"
	expect_not_contains "$STDERR" "runtime error"
}
# block ID: the report's block for step ID (its title line to the next blank)
block() {
	printf '%s\n' "$STDOUT" | awk -v id="$1" '$1 == id && /(PASS|FAIL|SKIP|NOT RUN)$/ { on = 1 }
		on && /^$/ { exit } on { print }'
}
# state ID: PASS, FAIL, SKIP or NOT RUN
state() {
	block "$1" | head -n 1 | sed -E 's/.* (PASS|FAIL|SKIP|NOT RUN)$/\1/'
}
expect_state() {
	expect_eq "$(state "$1")" "$2" "state of step $1 (report: $(_show "$STDOUT"))"
}

start_redis redis
start_www_origind origin --cache-control '/=max-age=60'
HTTP_PORT=$(free_port)
start_edged a --redis "$REDIS_URL" --listen-http "127.0.0.1:$HTTP_PORT"
A=$EDGE_PORT
wait_port "$HTTP_PORT"
start_edged b --redis "$REDIS_URL"
B=$EDGE_PORT
wait_log a redis.up 5
wait_log b redis.up 5

# ---- healthy ----
chk 0 "$A" --http-port "$HTTP_PORT" --also "https://edge.test:$B/" \
	--resolve "edge.test:$B:127.0.0.1"
for id in 1 2 3 4 5 6 R H A; do
	expect_state "$id" PASS
done
expect_match "$(block 1)" 'version +TLSv1\.[23]'
expect_match "$(block 1)" 'cipher +TLS_'
expect_match "$(block 1)" 'chain verified +yes, against .*ca\.pem, for edge\.test'
expect_match "$(block 1)" 'days to expiry +39[0-9]'
expect_match "$(block 1)" 'certificate +CN=edge\.test'
expect_match "$(block 2)" 'request +GET /\?edgecheck=[0-9a-f]{32}'
expect_match "$(block 2)" 'x cache +Miss from edged'
expect_match "$(block 3)" 'origin +origind/'
expect_match "$(block 3)" 'origin leg +TLSv1\.3 TLS_'
expect_match "$(block 3)" 'origin counter +/: [0-9]+ -> [0-9]+'
expect_match "$(block 4)" 'decrypt +TLSv1\.3, TLS_[A-Z0-9_]+, SNI \(none: IP origin\)'
expect_match "$(block 4)" 'process +GET / -> 200, Cache-Control: max-age=60'
expect_match "$(block 5)" 'x cache +Hit from edged'
expect_match "$(block 5)" 'age +[0-9]+'
expect_match "$(block 5)" 'origin counter +/: ([0-9]+) -> \1 \(unchanged\)'
expect_match "$(block 6)" 'equal +yes'
expect_match "$(block R)" 'result +refused'
expect_match "$(block H)" "location +https://edge\.test:$A/"
expect_match "$(block H)" 'policy +redirect-to-https'
expect_match "$(block A)" 'x cache +Hit from edged'
expect_contains "$STDOUT" "PASS: all 9 checks hold"
miss_sha=$(block 2 | sed -n 's/^ *body sha256 *//p')
expect_eq "$(block A | sed -n 's/^ *body sha256 *//p')" "$miss_sha" "sha256 on B"
expect_eq "$(sha256sum <"$T/www/index.html" | cut -d' ' -f1)" "$miss_sha" "sha256 of index.html"
nonce1=$(block 2 | grep -o 'edgecheck=[0-9a-f]*')
pass "healthy stack: steps 1-6, R, H, A all PASS (exit 0)"

chk 0 "$A"
nonce2=$(block 2 | grep -o 'edgecheck=[0-9a-f]*')
expect_ne "$nonce1" "$nonce2" "cache-busting queries of two runs"
expect_state H SKIP
expect_state A SKIP
expect_contains "$STDOUT" "PASS: 7 checks hold, 2 skipped"
pass "a second run uses a new URL ($nonce2) and passes; H and A skipped without their flags"

chk 0 "$A" --json --also "https://edge.test:$B" --resolve "edge.test:$B:127.0.0.1"
json_valid "$STDOUT"
expect_eq "$(json_raw "$STDOUT" ok)" true "top-level ok in --json"
expect_eq "$(grep -c '"step":' <<<"$STDOUT")" 9 "steps in --json"
expect_not_contains "$(tr -d ' \t' <<<"$STDOUT")" '"ok":false'
expect_match "$STDOUT" '"x_cache":[[:space:]]+"Hit from edged"'
expect_eq "$STDERR" "" "stderr of a passing --json run"
pass "--json: one valid object, ok true, 9 steps"

# ---- usage errors: exit 2, one line ----
usage() {
	expect_rc 2 "$EDGECHECK" "$@"
	clean
	expect_eq "$(wc -l <<<"$STDERR")" 1 "stderr lines for: $*"
	expect_contains "$STDERR" "$USAGE_WANT"
}
USAGE_WANT="missing argument" usage --ca "$T/pki/ca.pem"
USAGE_WANT="use https://" usage http://edge.test/ --ca "$T/pki/ca.pem"
USAGE_WANT="ca" usage "https://edge.test:$A/"
USAGE_WANT="--ca: " usage "https://edge.test:$A/" --ca "$T/nope.pem"
USAGE_WANT="--resolve 'edge.test:x:127.0.0.1'" usage "https://edge.test:$A/" \
	--ca "$T/pki/ca.pem" --resolve edge.test:x:127.0.0.1
USAGE_WANT="not an IP address" usage "https://edge.test:$A/" --ca "$T/pki/ca.pem" \
	--resolve "edge.test:$A:localhost"
USAGE_WANT="--also: URL 'https://b b/'" usage "https://edge.test:$A/" --ca "$T/pki/ca.pem" \
	--also 'https://b b/'
USAGE_WANT="unknown option '--cafile'" usage "https://edge.test:$A/" --cafile x
USAGE_WANT="port '99999'" usage "https://edge.test:99999/" --ca "$T/pki/ca.pem"
pass "bad arguments: exit 2 with one line each"

# ---- an untrusted certificate: step 1 ----
"$EDGECERT" ca --dir "$T/other" --cn "Other CA" >/dev/null
expect_rc 1 "$EDGECHECK" "https://edge.test:$A/" --ca "$T/other/ca.pem" \
	--resolve "edge.test:$A:127.0.0.1"
clean
expect_state 1 FAIL
expect_contains "$STDOUT" "step 1: the edge's certificate is not valid for edge.test under --ca $T/other/ca.pem"
expect_contains "$STDOUT" "issuer"
expect_state 2 "NOT RUN"
expect_state R "NOT RUN"
pass "--ca of another CA: step 1 FAIL, names the certificate problem; later steps not run"

# and a name the certificate does not carry
expect_rc 1 "$EDGECHECK" "https://other.test:$A/" --ca "$T/pki/ca.pem" \
	--resolve "other.test:$A:127.0.0.1"
clean
expect_state 1 FAIL
expect_contains "$STDOUT" "step 1: the edge's certificate is not valid for other.test"
pass "a host name not in the edge's certificate: step 1 FAIL"

# ---- caching disabled: step 5 ----
start_edged nocache --cache=false
chk 1 "$EDGE_PORT"
expect_state 1 PASS
expect_state 5 FAIL
expect_contains "$STDOUT" "step 5: expected X-Cache: Hit from edged, got 'Miss from edged' (is the cache enabled?)"
stop_bg nocache
pass "edged --cache=false: step 5 FAIL (Miss twice)"

# ---- a TLS 1.3-only edge: nothing to renegotiate ----
start_edged tls13 --security-policy TLSv1.3_2025
chk 0 "$EDGE_PORT"
expect_match "$(block 1)" 'version +TLSv1\.3'
expect_state R PASS
expect_contains "$(block R)" "not applicable: the edge speaks TLSv1.3 only"
stop_bg tls13
pass "a TLS 1.3-only edge (TLSv1.3_2025): step R passes as not applicable"

# ---- nothing on --http-port: step H ----
DEAD_PORT=$(free_port)
chk 1 "$A" --http-port "$DEAD_PORT"
expect_state 5 PASS
expect_state H FAIL
expect_match "$STDOUT" "step H: plain HTTP GET to 127.0.0.1:$DEAD_PORT failed: .*refused"
pass "--http-port with no listener: step H FAIL"

# ---- an --also edge that does not share the cache: step A ----
start_redis redis2
start_edged c --redis "$REDIS_URL"
C=$EDGE_PORT
chk 1 "$A" --also "https://edge.test:$C/" --resolve "edge.test:$C:127.0.0.1"
expect_state 5 PASS
expect_state A FAIL
expect_contains "$STDOUT" "step A: expected X-Cache: Hit from edged on https://edge.test:$C/, got 'Miss from edged' (do the edges share one Redis?)"
stop_bg c
pass "--also edge on another Redis: step A FAIL"

# ---- renegotiation allowed: step R ----
RP=$(free_port)
start_bg sserver openssl s_server -accept "127.0.0.1:$RP" -tls1_2 -www -client_renegotiation \
	-cert "$T/pki/edge.test.pem" -key "$T/pki/edge.test.key"
wait_port "$RP"
chk 1 "$RP"
expect_state 1 PASS
expect_match "$(block 1)" 'version +TLSv1\.2'
expect_state R FAIL
expect_contains "$STDOUT" "step R: the edge accepted a client-initiated TLS renegotiation (it must refuse it)"
expect_match "$(block R)" 'result +renegotiation completed'
expect_state 2 FAIL
expect_contains "$STDOUT" "step 2: "
stop_bg sserver
pass "openssl s_server -client_renegotiation as the edge: step R FAIL"

# ---- an origin that is not origind (nginx): steps 3 and 4 skipped ----
N=$T/nginx
mkdir -p "$N/html" "$N/tmp"
echo "hello from nginx" >"$N/html/index.html"
chmod -R a+rX "$N/html"
USER_LINE=""
[[ $(id -u) -eq 0 ]] && USER_LINE="user root;"
NGINX_PORT=$(free_port)
cat >"$N/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
pid $N/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	server {
		listen 127.0.0.1:$NGINX_PORT ssl;
		ssl_certificate $T/pki/origin.test.chain.pem;
		ssl_certificate_key $T/pki/origin.test.key;
		root $N/html;
		add_header Cache-Control "max-age=60";
	}
}
EOF
start_bg nginx nginx -p "$N" -c "$N/nginx.conf" -g 'daemon off;'
wait_port "$NGINX_PORT"
start_edged ng --origin "https://127.0.0.1:$NGINX_PORT"
chk 0 "$EDGE_PORT"
expect_state 3 SKIP
expect_state 4 SKIP
expect_contains "$(block 3)" "origin is not origind: cannot show the origin leg"
for id in 1 2 5 6 R; do
	expect_state "$id" PASS
done
chk 1 "$EDGE_PORT" --require-origind
expect_state 3 FAIL
expect_contains "$STDOUT" "step 3: origin is not origind: cannot show the origin leg (--require-origind)"
stop_bg ng
stop_bg nginx
pass "nginx as the origin: steps 3 and 4 skipped (exit 0); --require-origind fails them"

# ---- origind with introspection off (its default): steps 3 and 4 say so ----
OPORT=$ORIGIN_PORT
ORIGIND_DEFAULTS=1 start_www_origind quiet --cache-control '/=max-age=60'
start_edged q --origin "https://127.0.0.1:$ORIGIN_PORT"
chk 0 "$EDGE_PORT"
expect_state 3 SKIP
expect_state 4 SKIP
expect_contains "$(block 3)" "the origin is origind with introspection off: start it with 'introspection = on' (--introspection)"
expect_match "$(block 3)" 'session probe +GET /_origind/session -> 404'
for id in 1 2 5 6; do
	expect_state "$id" PASS
done
chk 1 "$EDGE_PORT" --require-origind
expect_state 3 FAIL
expect_contains "$STDOUT" "step 3: the origin is origind with introspection off: start it with 'introspection = on'"
stop_bg q
stop_bg quiet
ORIGIN_PORT=$OPORT
pass "origind with introspection off: steps 3 and 4 skipped naming 'introspection = on' (exit 0); --require-origind fails them"

# ---- the origin down: steps 2 and 3 ----
stop_bg origin
chk 1 "$A"
expect_state 1 PASS
expect_state 2 FAIL
expect_state 3 FAIL
expect_match "$STDOUT" "step 2: GET /\?edgecheck=[0-9a-f]+ answered 502 Bad Gateway \(X-Cache: Error from edged\): the edge could not fetch from the origin"
expect_contains "$STDOUT" "step 3: the edge did not reach the origin over TLS"
pass "origind stopped: steps 2 and 3 FAIL"

for n in a b; do
	if grep -q -E 'Sanitizer|runtime error' "$T/$n.log"; then
		fail "edged ($n) reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/$n.log" | tr '\n' '|')"
	fi
done
