#!/usr/bin/env bash
# t0601: make demo's script brings the whole stack up and edgecheck passes
# across both edges (run once, on free ports, in a temporary directory),
# and the demo's topology is the one docker-compose.yml uses (.env links
# to demo/topology.env; every variable the compose file substitutes is
# defined there), so the two cannot drift.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool redis-server
root=$(cd "$TEST_DIR/../.." && pwd)

# ---- one topology ----
topo=$root/demo/topology.env
[[ -f $topo ]] || fail "no $topo"
if [[ -f $root/docker-compose.yml ]]; then
	[[ -L $root/.env && $(readlink "$root/.env") == demo/topology.env ]] ||
		fail ".env must be a link to demo/topology.env (compose's variables)"
	for v in $(grep -oE '\$\{[A-Z_]+' "$root/docker-compose.yml" | sed 's/^\${//' | sort -u); do
		grep -q "^$v=" "$topo" || fail "docker-compose.yml uses \${$v}, which demo/topology.env does not define"
	done
	pass "docker-compose.yml takes its ports and names from demo/topology.env"
fi

# ---- make demo, once, on free ports ----
sed -e "s/^EDGE_A_HTTPS=.*/EDGE_A_HTTPS=$(free_port)/" \
	-e "s/^EDGE_B_HTTPS=.*/EDGE_B_HTTPS=$(free_port)/" \
	-e "s/^EDGE_A_HTTP=.*/EDGE_A_HTTP=$(free_port)/" \
	-e "s/^EDGE_A_ADMIN=.*/EDGE_A_ADMIN=$(free_port)/" \
	-e "s/^EDGE_B_ADMIN=.*/EDGE_B_ADMIN=$(free_port)/" \
	-e "s/^ORIGIN_HTTPS=.*/ORIGIN_HTTPS=$(free_port)/" \
	-e "s/^REDIS_PORT=.*/REDIS_PORT=$(free_port)/" "$topo" >"$T/topology.env"
rc=0
DEMO_ONCE=1 DEMO_TOPOLOGY=$T/topology.env DEMO_DIR=$T/demo DEMO_BIN="$EDGED_BIN" \
	timeout 120 "$root/scripts/demo.sh" >"$T/demo.out" 2>&1 || rc=$?
if [[ $rc -ne 0 ]]; then
	tail -n 40 "$T/demo.out" >&2
	fail "make demo (DEMO_ONCE) exited $rc"
fi
out=$(cat "$T/demo.out")
expect_contains "$out" "PASS: all 9 checks hold"
for step in '1  viewer TLS' '2  edge cache: a fresh URL is a Miss' '3  edge -> origin over TLS' \
	'4  origin: decrypt, process, encrypt' '5  edge cache: the same URL again is a Hit' \
	'R  the edge refuses TLS renegotiation' 'H  plain HTTP' 'A  shared cache'; do
	expect_contains "$out" "$step"
done
expect_contains "$out" "client certificate CN=edge-client (mutual TLS)"
# everything it started is gone
sleep 0.3
if pgrep -f "$T/demo" >/dev/null; then
	fail "processes of the demo still running: $(pgrep -af "$T/demo" | head -3)"
fi
pass "make demo: certificates, Redis, origind (mutual TLS), two edges; edgecheck passes every step; all stopped"
