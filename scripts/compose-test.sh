#!/usr/bin/env bash
# scripts/compose-test.sh (make compose-test): the compose demo, for real.
#
#   starts a Docker engine (../shared/docker/local-engine.sh when present:
#   Debian's docker.io + docker-compose 1.29 + a debootstrap base image;
#   otherwise a running engine is expected), tags that base image as
#   debian:bookworm-slim if no such image exists, docker-compose build,
#   docker-compose up -d, waits for the one-shot `check` service (edgecheck
#   across edge-a and edge-b) and requires exit status 0, fetches the edge's
#   page from the host through the published 127.0.0.1 port, then
#   docker-compose down -v, also when anything failed.  Prints timings.
#
# Ports: demo/topology.env (through .env); a port already taken on this
# machine (make demo running, say) is replaced by a free one for this run.
# Env: COMPOSE (compose command, default docker-compose, else docker compose),
#      COMPOSE_TEST_PROJECT (default edged-compose-test),
#      COMPOSE_TEST_TIMEOUT (seconds for check to finish, default 300),
#      COMPOSE_TEST_KEEP=1 (leave the stack up; docker-compose -p PROJECT down -v),
#      COMPOSE_TEST_VERBOSE=1 (show the build's output, not only its log).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=SCRIPTDIR/../demo/topology.env
. demo/topology.env
project=${COMPOSE_TEST_PROJECT:-edged-compose-test}
timeout_s=${COMPOSE_TEST_TIMEOUT:-300}
t0=$SECONDS
timings=()

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'compose-test: %s\n' "$*" >&2; exit 1; }
# lap NAME: the time since the last lap
lap_t=$SECONDS
lap() { timings+=("$(printf '%-8s %4ds' "$1" $((SECONDS - lap_t)))"); lap_t=$SECONDS; }

# ---- the engine -------------------------------------------------------------
engine=../shared/docker/local-engine.sh
if [[ -x $engine ]]; then
	say "Docker engine ($engine)"
	"$engine"
elif ! timeout 10 docker info >/dev/null 2>&1; then
	die "no Docker engine answering (and no $engine to start one)"
fi
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1 &&
	docker image inspect local/bookworm:base >/dev/null 2>&1; then
	say "docker tag local/bookworm:base debian:bookworm-slim (no registry here)"
	docker tag local/bookworm:base debian:bookworm-slim
fi
if [[ -n ${COMPOSE:-} ]]; then
	read -r -a compose <<<"$COMPOSE"
elif command -v docker-compose >/dev/null; then
	compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
	compose=(docker compose)
else
	die "neither docker-compose nor 'docker compose' is installed"
fi
dc() { "${compose[@]}" -p "$project" "$@"; }
say "compose: $("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -1), project $project"
lap engine

# ---- ports: the topology's, or free ones when taken ---------------------------
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=" "
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[[ $taken == *" $p "* ]] && continue
		in_use "$p" || break
	done
	taken+="$p "
	echo "$p"
}
for v in EDGE_A_HTTPS EDGE_B_HTTPS EDGE_A_HTTP ORIGIN_HTTPS; do
	if in_use "${!v}" || [[ $taken == *" ${!v} "* ]]; then
		p=$(free_port)
		say "port ${!v} ($v) is taken on this machine: using $p for this run"
		printf -v "$v" %s "$p"
	else
		taken+="${!v} "
	fi
	export "${v?}" # the shell's value wins over .env in compose
done

# ---- always tear down --------------------------------------------------------
tmp=$(mktemp -d)
teardown() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ $rc -ne 0 ]]; then
		echo "---- compose-test failed (exit $rc): state and logs" >&2
		dc ps >&2 || true
		dc logs --no-color --tail=40 >&2 || true
	fi
	if [[ ${COMPOSE_TEST_KEEP:-0} == 1 ]]; then
		say "left up (COMPOSE_TEST_KEEP=1): ${compose[*]} -p $project down -v"
	else
		say "${compose[*]} down -v"
		dc down -v --remove-orphans >/dev/null 2>&1 || dc down -v --remove-orphans || true
		lap down
	fi
	rm -rf "$tmp"
	timings+=("$(printf '%-8s %4ds' total $((SECONDS - t0)))")
	say "timings"
	printf '    %s\n' "${timings[@]}"
	exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# a stack left over from an interrupted run
dc down -v --remove-orphans >/dev/null 2>&1 || true

# the build's output goes to a log (shown with COMPOSE_TEST_VERBOSE=1, or its
# end when the build fails)
mkdir -p build
blog=build/compose-test-build.log
say "${compose[*]} build (log: $blog)"
if [[ ${COMPOSE_TEST_VERBOSE:-0} == 1 ]]; then
	dc build 2>&1 | tee "$blog"
elif ! dc build >"$blog" 2>&1; then
	tail -n 40 "$blog" >&2
	die "docker-compose build failed (the end of $blog above)"
fi
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sed -n 's/^edged-demo/    edged-demo/p'
lap build

say "${compose[*]} up -d (redis, certs, origind, edge-a, edge-b healthy, then check)"
dc up -d
lap up

cid=$(dc ps -q check)
[[ -n $cid ]] || die "no container for the check service"
say "waiting for check (edgecheck across edge-a and edge-b)"
rc=$(timeout "$timeout_s" docker wait "$cid") || die "check did not finish within ${timeout_s}s"
lap check
dc logs --no-color check
[[ $rc == 0 ]] || die "check exited $rc"

# the published ports, from the host, as a user would
say "from the host: https://$EDGE_HOST:$EDGE_A_HTTPS/ and https://$EDGE_HOST:$EDGE_B_HTTPS/ on 127.0.0.1"
dc exec -T edge-a cat /pki/ca.pem >"$tmp/ca.pem"
if command -v curl >/dev/null; then
	for port in "$EDGE_A_HTTPS" "$EDGE_B_HTTPS"; do
		out=$(curl -sS --max-time 10 --cacert "$tmp/ca.pem" \
			--resolve "$EDGE_HOST:$port:127.0.0.1" -o /dev/null \
			-w '%{http_code} %header{x-cache}' "https://$EDGE_HOST:$port/") ||
			die "curl https://$EDGE_HOST:$port/ through 127.0.0.1 failed"
		echo "    https://$EDGE_HOST:$port/ -> $out"
		[[ $out == 200* ]] || die "https://$EDGE_HOST:$port/ answered $out"
	done
	for path in /cgi-bin/hello.cgi /php/hello.php; do
		out=$(curl -sS --max-time 10 --cacert "$tmp/ca.pem" \
			--resolve "$EDGE_HOST:$EDGE_A_HTTPS:127.0.0.1" \
			"https://$EDGE_HOST:$EDGE_A_HTTPS$path") || die "curl $path failed"
		echo "    https://$EDGE_HOST:$EDGE_A_HTTPS$path -> $out"
		[[ $out == hello* ]] || die "$path: not the page from origind"
	done
	out=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' \
		"http://127.0.0.1:$EDGE_A_HTTP/") || die "curl http://127.0.0.1:$EDGE_A_HTTP/ failed"
	echo "    http://127.0.0.1:$EDGE_A_HTTP/ -> $out"
	[[ $out == 301* ]] || die "plain HTTP answered $out, not a 301"
else
	echo "    (no curl on this machine: skipped)"
fi
lap host
say "compose-test: PASS"
