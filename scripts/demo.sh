#!/usr/bin/env bash
# scripts/demo.sh (make demo): the whole stack on this machine.
#
#   certificates (edgecert) in demo/pki: a CA, edge.test, origin.test, and a
#   client certificate for mutual TLS from the edges to the origin;
#   redis-server, origind (static files, a CGI script, a PHP page through
#   php-fpm when installed), two edged nodes sharing the Redis (HTTPS on
#   EDGE_A_HTTPS and EDGE_B_HTTPS, plain HTTP on EDGE_A_HTTP redirecting);
#   then edgecheck across both, the curl commands to try, and everything
#   stays up until Ctrl-C, which stops what this script started.
#
# Ports and names: demo/topology.env (shared with docker-compose.yml).
# DEMO_ONCE=1: stop right after edgecheck (exit status = edgecheck's).
# For tests: DEMO_TOPOLOGY (another topology file), DEMO_BIN (programs), DEMO_DIR (where pki/
# and run/ go instead of demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=../demo/topology.env
. "${DEMO_TOPOLOGY:-demo/topology.env}"
bin=${DEMO_BIN:-$root/bin}
run=${DEMO_DIR:-$root/demo}/run
pki=${DEMO_DIR:-$root/demo}/pki
pids=()

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'make demo: %s\n' "$*" >&2; exit 1; }

stop_all() {
	local p
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
trap stop_all EXIT
trap 'echo; say "stopping"; stop_all; exit 0' INT TERM

# bg NAME CMD...: start CMD with its output in $run/NAME.log
bg() {
	local name=$1
	shift
	"$@" >"$run/$name.log" 2>&1 </dev/null &
	pids+=("$!")
}

wait_port() {
	local port=$1 name=$2 i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "${pids[-1]}" 2>/dev/null ||
			die "$name exited: $(tail -n 5 "$run/$name.log" | tr '\n' ' ')"
		sleep 0.1
	done
	die "$name is not listening on 127.0.0.1:$port (log: $run/$name.log)"
}

for p in "$EDGE_A_HTTPS" "$EDGE_B_HTTPS" "$EDGE_A_HTTP" "$EDGE_A_ADMIN" "$EDGE_B_ADMIN" \
	"$ORIGIN_HTTPS" "$REDIS_PORT"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		die "port $p is in use (another demo running?); ports are set in demo/topology.env"
	fi
done
command -v redis-server >/dev/null || die "redis-server is missing: run 'make deps'"

rm -rf "$run"
mkdir -p "$run" "$pki"

say "certificates (edgecert) in $pki"
[[ -f $pki/ca.pem ]] || "$bin/edgecert" ca --dir "$pki" --cn "edged demo CA" >/dev/null
"$bin/edgecert" issue "$EDGE_HOST" --dir "$pki" --dns "$EDGE_HOST" --ip 127.0.0.1 >/dev/null
"$bin/edgecert" issue "$ORIGIN_HOST" --dir "$pki" --dns "$ORIGIN_HOST" --ip 127.0.0.1 >/dev/null
"$bin/edgecert" issue edge-client --dir "$pki" --client >/dev/null
for n in "$EDGE_HOST" "$ORIGIN_HOST" edge-client; do
	"$bin/edgecert" inspect "$pki/$n.pem" --dir "$pki" 2>/dev/null | head -n 3 | sed 's/^/    /' || true
done

say "redis-server on 127.0.0.1:$REDIS_PORT"
bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$run"
wait_port "$REDIS_PORT" redis

cp -r demo/www "$run/www"
fastcgi=()
if command -v php-fpm8.2 >/dev/null; then
	say "php-fpm on $run/php.sock"
	cat >"$run/php-fpm.conf" <<CONF
[global]
pid = $run/php-fpm.pid
error_log = $run/php-fpm.err
daemonize = no
[www]
listen = $run/php.sock
listen.mode = 0600
pm = static
pm.max_children = 2
CONF
	root_flag=()
	[[ $(id -u) -ne 0 ]] || root_flag=(-R)
	bg php-fpm php-fpm8.2 -F -O "${root_flag[@]}" -y "$run/php-fpm.conf" -p "$run"
	for ((i = 0; i < 50; i++)); do [[ -S $run/php.sock ]] && break; sleep 0.1; done
	[[ -S $run/php.sock ]] || die "php-fpm made no socket (log: $run/php-fpm.log)"
	fastcgi=(--fastcgi "/php/=unix:$run/php.sock")
else
	say "php-fpm8.2 not installed: no PHP page"
	rm -rf "$run/www/php"
fi

say "origind on 127.0.0.1:$ORIGIN_HTTPS (mutual TLS: edges must present edge-client)"
# --introspection: /_origind/session and /_origind/stats, which edgecheck
# reads through the edges to show the origin leg (off by default)
bg origind "$bin/origind" --listen-https "127.0.0.1:$ORIGIN_HTTPS" \
	--cert "$pki/$ORIGIN_HOST.chain.pem" --key "$pki/$ORIGIN_HOST.key" \
	--client-ca "$pki/ca.pem" --docroot "$run/www" --cgi-bin "$root/demo/cgi-bin" \
	"${fastcgi[@]}" --cache-control '/=public, max-age=60' --trace --introspection
wait_port "$ORIGIN_HTTPS" origind

edge() { # edge NAME HTTPS-PORT ADMIN-PORT [more flags]
	local name=$1 port=$2 admin=$3
	shift 3
	bg "$name" "$bin/edged" --listen-https "127.0.0.1:$port" \
		--cert "$pki/$EDGE_HOST.chain.pem" --key "$pki/$EDGE_HOST.key" \
		--origin "https://127.0.0.1:$ORIGIN_HTTPS" --origin-sni "$ORIGIN_HOST" \
		--origin-ca "$pki/ca.pem" --origin-client-cert "$pki/edge-client.chain.pem" \
		--origin-client-key "$pki/edge-client.key" \
		--redis "redis://127.0.0.1:$REDIS_PORT" --node-name "$name" \
		--admin-listen "127.0.0.1:$admin" --access-log "$run/$name.access.log" "$@"
	wait_port "$port" "$name"
}
say "edged edge-a on 127.0.0.1:$EDGE_A_HTTPS (HTTP $EDGE_A_HTTP redirects) and edge-b on 127.0.0.1:$EDGE_B_HTTPS"
edge edge-a "$EDGE_A_HTTPS" "$EDGE_A_ADMIN" --listen-http "127.0.0.1:$EDGE_A_HTTP"
edge edge-b "$EDGE_B_HTTPS" "$EDGE_B_ADMIN"

rc=0
if [[ -x $bin/edgecheck ]]; then
	say "edgecheck across both edges"
	"$bin/edgecheck" "https://$EDGE_HOST:$EDGE_A_HTTPS/" --ca "$pki/ca.pem" \
		--resolve "$EDGE_HOST:$EDGE_A_HTTPS:127.0.0.1" \
		--resolve "$EDGE_HOST:$EDGE_B_HTTPS:127.0.0.1" \
		--http-port "$EDGE_A_HTTP" --also "https://$EDGE_HOST:$EDGE_B_HTTPS/" || rc=$?
else
	say "no bin/edgecheck yet: checking with curl"
	c=(curl -sS --cacert "$pki/ca.pem" --resolve "$EDGE_HOST:$EDGE_A_HTTPS:127.0.0.1"
		--resolve "$EDGE_HOST:$EDGE_B_HTTPS:127.0.0.1" -o /dev/null -w '%{http_code} %header{x-cache}\n')
	"${c[@]}" "https://$EDGE_HOST:$EDGE_A_HTTPS/?demo=$$" || rc=$?
	"${c[@]}" "https://$EDGE_HOST:$EDGE_B_HTTPS/?demo=$$" || rc=$?
fi
[[ ${DEMO_ONCE:-0} == 1 ]] && exit "$rc"

cat <<TRY

Try it (logs in $run/*.log; origind --trace shows decrypt/process/encrypt):

  curl --cacert $pki/ca.pem --resolve $EDGE_HOST:$EDGE_A_HTTPS:127.0.0.1 -i https://$EDGE_HOST:$EDGE_A_HTTPS/
  curl --cacert $pki/ca.pem --resolve $EDGE_HOST:$EDGE_B_HTTPS:127.0.0.1 -i https://$EDGE_HOST:$EDGE_B_HTTPS/   # a Hit from the shared cache
  curl --cacert $pki/ca.pem --resolve $EDGE_HOST:$EDGE_A_HTTPS:127.0.0.1 -i https://$EDGE_HOST:$EDGE_A_HTTPS/cgi-bin/hello.cgi
  curl --cacert $pki/ca.pem --resolve $EDGE_HOST:$EDGE_A_HTTPS:127.0.0.1 -i https://$EDGE_HOST:$EDGE_A_HTTPS/php/hello.php
  curl -i http://127.0.0.1:$EDGE_A_HTTP/                                     # 301 to https
  curl http://127.0.0.1:$EDGE_A_ADMIN/healthz                                # admin: health, /metrics
  curl -H 'Content-Type: application/json' -d '{"paths": ["/*"]}' http://127.0.0.1:$EDGE_A_ADMIN/invalidations   # invalidate on both edges
  tail -f $run/edge-a.access.log                                           # CloudFront-format access log
  openssl s_client -connect 127.0.0.1:$EDGE_A_HTTPS -servername $EDGE_HOST -CAfile $pki/ca.pem

Ctrl-C stops everything.
TRY
while :; do sleep 3600 & wait $! || true; done
