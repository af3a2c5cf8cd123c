#!/usr/bin/env bash
# t0472: SIGHUP reloads the configuration and the certificates.
#  (a) Rotation under load: four clients open a new TLS connection per
#      request for 4 s while edge.test is renewed (edgecert renew) and
#      re-issued (issue --force), each followed by SIGHUP; every request
#      answers 200, a handshake after each reload presents the new serial,
#      and a keep-alive connection opened before the reloads serves its
#      second request on the same connection after them.
#  (b) A bad new certificate (garbage, a key that does not belong, an
#      expired one, a good edge.test with a broken second pair) refuses
#      the whole reload: reload.refused names the file, handshakes keep
#      the old certificate; fixed files and SIGHUP again work.  A pair
#      already expired when served stays (a warning, not a refusal).
#  (c) A config file with an unknown key or a syntax error, or a bad
#      hsts value, is refused naming the file, line and key; the old
#      configuration stays (log_level debug in the refused file is not
#      applied).
#  (d) Live keys (hsts, add_header, remove_header) apply at once; a
#      changed max_connections logs reload.restart_needed once per reload
#      and is not applied; a key whose flag wins over the file (node_name)
#      is not reported.
#  (e) log_level changes take effect (debug lines appear, then stop).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl

start_www_origind origin
edge_pki
cd "$T"

# Under the SAN build: freed memory is overwritten, so a certificate table
# freed while a handshake still uses it (GnuTLS, not instrumented, reads
# it) breaks that handshake instead of going unnoticed.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_free_fill_size=65536:free_fill_byte=165

CONF=$T/edged.conf
LOG=$T/edge.log
printf 'cache = false\n' >"$CONF"
start_edged edge --config "$CONF" --cert pki/edge.test.chain.pem --key pki/edge.test.key \
	--cert pki/alt.test.chain.pem --key pki/alt.test.key
wait_log edge "event=listening"

# nlog NEEDLE: lines of edged's log holding NEEDLE
nlog() { grep -cF -- "$1" "$LOG" || true; }

# hup: SIGHUP and wait for its outcome: RELOAD (done or refused) and
# RELOAD_LINE (that log line)
hup() {
	local d0 r0 d r n
	d0=$(nlog event=reload.done)
	r0=$(nlog event=reload.refused)
	kill -HUP "$EDGE_PID"
	for ((n = 0; n < 150; n++)); do
		d=$(nlog event=reload.done)
		r=$(nlog event=reload.refused)
		if ((d > d0)); then
			RELOAD=applied
			RELOAD_LINE=$(grep -F event=reload.done "$LOG" | tail -n 1)
			return 0
		fi
		if ((r > r0)); then
			RELOAD=refused
			RELOAD_LINE=$(grep -F event=reload.refused "$LOG" | tail -n 1)
			return 0
		fi
		sleep 0.1
	done
	fail "neither reload.done nor reload.refused within 15 s of SIGHUP"
}

# expect_reload applied|refused WHAT
expect_reload() {
	hup
	[[ $RELOAD == "$1" ]] || fail "$2: reload $RELOAD, want $1: $RELOAD_LINE"
}

# served_serial [SNI]: the serial of the leaf edged presents (verified
# against the test CA)
served_serial() {
	local out
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$EDGE_PORT" \
		-servername "${1:-edge.test}" -CAfile pki/ca.pem -verify_return_error \
		</dev/null 2>/dev/null) || fail "openssl s_client to the edge (SNI ${1:-edge.test}) failed"
	openssl x509 -noout -serial <<<"$out" | sed 's/^serial=//'
}

reissue_edge() { # extra edgecert issue flags
	"$EDGECERT" issue edge.test --dir pki --dns edge.test --dns www.edge.test --ip 127.0.0.1 \
		--force "$@" >/dev/null || fail "edgecert issue edge.test $* failed"
}

expect_eq "$(served_serial)" "$(cert_serial pki/edge.test.pem)" "serial served at start-up"
expect_contains "$(cat "$LOG")" "file=pki/edge.test.chain.pem names=2 first=edge.test default=yes days_left=39"
pass "start-up: edge.test served; cert.loaded gives days_left"

# ---- (a) rotation under load ----
URL=https://edge.test:$EDGE_PORT/
CURL=(curl -sS --max-time 10 --cacert pki/ca.pem --resolve "edge.test:$EDGE_PORT:127.0.0.1")
end=$(($(date +%s%N) + 4000000000))
worker() { # N: one new connection per request until $end
	local code
	while (($(date +%s%N) < end)); do
		code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$URL" 2>>"$T/curl.$1.err") ||
			code="$code/curl-exit-$?"
		echo "$code" >>"$T/codes.$1"
	done
}
pids=()
for i in 1 2 3 4; do
	worker "$i" &
	pids+=($!)
done
# a keep-alive connection: its second request (3 s after the first) comes
# after both reloads, on the same connection (num_connects 0)
"${CURL[@]}" --rate 20/m -w '%{http_code} %{num_connects}\n' -o /dev/null -o /dev/null \
	"$URL" "$URL" >"$T/keepalive.out" 2>"$T/keepalive.err" &
ka=$!

serial0=$(cert_serial pki/edge.test.pem)
sleep 0.8
"$EDGECERT" renew --dir pki --within 400d >"$T/renew.out" 2>&1 || fail "edgecert renew failed: $(cat "$T/renew.out")"
expect_contains "$(cat "$T/renew.out")" "renew: edge.test:"
serial1=$(cert_serial pki/edge.test.pem)
expect_ne "$serial1" "$serial0" "edge.test serial after renew"
expect_reload applied "SIGHUP after edgecert renew"
expect_contains "$RELOAD_LINE" "certs=2 "
expect_eq "$(served_serial)" "$serial1" "serial served after the first reload"
alt1=$(cert_serial pki/alt.test.pem)
expect_eq "$(served_serial alt.test)" "$alt1" "alt.test serial served after the first reload"
sleep 0.6
reissue_edge
serial2=$(cert_serial pki/edge.test.pem)
expect_ne "$serial2" "$serial1" "edge.test serial after issue --force"
expect_reload applied "SIGHUP after edgecert issue --force"
expect_eq "$(served_serial)" "$serial2" "serial served after the second reload"
for p in "${pids[@]}"; do wait "$p"; done
wait "$ka" || fail "the keep-alive curl failed: $(cat "$T/keepalive.err")"

total=$(cat "$T"/codes.* | wc -l)
bad=$(cat "$T"/codes.* | grep -cv '^200$' || true)
[[ $bad -eq 0 ]] || fail "$bad of $total requests failed during the rotation: $(sort "$T"/codes.* | uniq -c | tr '\n' ' ') $(cat "$T"/curl.*.err | head -n 3)"
[[ $total -ge 40 ]] || fail "only $total requests in 4 s of load (want at least 40)"
note "$total requests on new connections during the rotation, all 200"
expect_eq "$(tr '\n' ' ' <"$T/keepalive.out")" "200 1 200 0 " \
	"keep-alive connection across the reloads: status and new connections per request"
expect_eq "$(nlog event=reload.restart_needed)" 0 "restart_needed lines so far"
pass "rotation under load: $total new connections all 200, new serial after each SIGHUP, keep-alive connection carries on"

# ---- a reload storm under load: a table is swapped while handshakes use
# the one before (an old table freed too early is a use after free, which
# the SAN build reports) ----
d0=$(nlog event=reload.done)
rm -f "$T"/codes.*
end=$(($(date +%s%N) + 3000000000))
pids=()
for i in 1 2 3 4; do
	worker "$i" &
	pids+=($!)
done
while (($(date +%s%N) < end)); do
	kill -HUP "$EDGE_PID"
	sleep 0.05
done
for p in "${pids[@]}"; do wait "$p"; done
sleep 0.3
storm=$(($(nlog event=reload.done) - d0))
total=$(cat "$T"/codes.* | wc -l)
bad=$(cat "$T"/codes.* | grep -cv '^200$' || true)
[[ $bad -eq 0 ]] || fail "$bad of $total requests failed during the reload storm: $(sort "$T"/codes.* | uniq -c | tr '\n' ' ') $(cat "$T"/curl.*.err | head -n 3)"
[[ $storm -ge 10 ]] || fail "only $storm reloads in 3 s of SIGHUP every 50 ms"
[[ $total -ge 30 ]] || fail "only $total requests in 3 s of load (want at least 30)"
expect_eq "$(served_serial)" "$serial2" "serial served after the storm"
pass "reload storm: $storm reloads in 3 s, $total new connections meanwhile, all 200"

# ---- (b) bad certificates refuse the whole reload ----
cp pki/edge.test.chain.pem good.chain.pem
cp pki/edge.test.key good.key
good=$(served_serial)
echo garbage >pki/edge.test.chain.pem
expect_reload refused "garbage certificate"
expect_contains "$RELOAD_LINE" "key 'cert': pki/edge.test.chain.pem: no certificate found"
expect_eq "$(served_serial)" "$good" "serial served after the refused reload (garbage)"
expect_eq "$(ecurl /)" healthy "GET / after the refused reload"

cp good.chain.pem pki/edge.test.chain.pem
cp pki/alt.test.key pki/edge.test.key
expect_reload refused "a key that does not belong"
expect_contains "$RELOAD_LINE" "pki/edge.test.key: the key does not belong to the certificate in pki/edge.test.chain.pem"
expect_eq "$(served_serial)" "$good" "serial served after the refused reload (key mismatch)"

reissue_edge --not-before 2020-01-01 --not-after 2020-02-01
expect_reload refused "an expired certificate"
expect_contains "$RELOAD_LINE" "pki/edge.test.chain.pem: the certificate expired on 2020-02-01"
expect_eq "$(served_serial)" "$good" "serial served after the refused reload (expired)"

# a good new edge.test, but the second pair broken: nothing changes
reissue_edge
new=$(cert_serial pki/edge.test.pem)
cp pki/alt.test.chain.pem good-alt.chain.pem
head -c 300 good-alt.chain.pem >pki/alt.test.chain.pem
expect_reload refused "a good first pair and a broken second one"
expect_contains "$RELOAD_LINE" "pki/alt.test.chain.pem"
expect_eq "$(served_serial)" "$good" "edge.test serial after a reload refused for alt.test"
expect_eq "$(nlog event=cert.loaded)" $((2 * (3 + storm))) "cert.loaded lines (2 at start-up, 2 per applied reload)"

cp good-alt.chain.pem pki/alt.test.chain.pem
expect_reload applied "fixed files"
expect_eq "$(served_serial)" "$new" "serial served once the files are fixed"
expect_eq "$(served_serial alt.test)" "$alt1" "alt.test serial served once the files are fixed"
expect_eq "$(ecurl /)" healthy "GET / after the fixed reload"
pass "garbage, a foreign key, an expired certificate, a broken second pair: refused naming the file, the old certificate kept; fixed files reload"

# ---- (c) a bad config file changes nothing ----
printf 'cache = false\nlog_level = debug\nbogus_key = 1\n' >"$CONF"
expect_reload refused "an unknown key"
expect_contains "$RELOAD_LINE" "$CONF:3: unknown key 'bogus_key'"
printf 'cache = false\nlog_level = debug\nthis line has no equals sign\n' >"$CONF"
expect_reload refused "a syntax error"
expect_contains "$RELOAD_LINE" "$CONF:3: syntax error"
printf 'cache = false\nlog_level = debug\nhsts = nonsense\n' >"$CONF"
expect_reload refused "a bad hsts value"
expect_contains "$RELOAD_LINE" "key 'hsts': 'nonsense'"
expect_eq "$(ecurl /)" healthy "GET / after the refused reloads"
sleep 0.3
expect_eq "$(nlog level=debug)" 0 "debug lines after reloads refused (log_level = debug not applied)"
eget /
expect_eq "$(header Strict-Transport-Security)" "" "Strict-Transport-Security after a refused reload"
expect_eq "$(served_serial)" "$new" "serial after the refused config reloads"
expect_eq "$(nlog event=reload.restart_needed)" 0 "restart_needed lines after refused reloads"
pass "unknown key, syntax error, bad hsts: refused naming file:line and key; nothing applied"

# ---- (d) live keys apply, the others wait for a restart ----
eget /
expect_eq "$CODE" 200 "status before the header policy"
expect_contains "$(header Server)" origind
cat >"$CONF" <<'EOF'
cache = false
hsts = max-age=600
add_header = X-Reloaded: yes
remove_header = Server
node_name = not-applied
EOF
expect_reload applied "hsts, add_header, remove_header"
expect_contains "$RELOAD_LINE" "hsts=on add_header=1 remove_header=1 restart_needed=0"
eget /
expect_eq "$CODE" 200 "status with the new header policy"
expect_eq "$(header Strict-Transport-Security)" "max-age=600" "Strict-Transport-Security after the reload"
expect_eq "$(header X-Reloaded)" "yes" "X-Reloaded after the reload"
expect_eq "$(header Server)" "" "Server after the reload (removed)"
expect_contains "$(header Via)" "edge-edge" # the flag --node-name wins over the file
expect_eq "$(nlog event=reload.restart_needed)" 0 "restart_needed lines (node_name: the flag wins)"

printf 'max_connections = 100\n' >>"$CONF"
expect_reload applied "max_connections changed"
expect_contains "$RELOAD_LINE" "restart_needed=1"
expect_eq "$(nlog 'event=reload.restart_needed key=max_connections')" 1 "restart_needed lines for max_connections"
expect_eq "$(nlog event=reload.restart_needed)" 1 "restart_needed lines"
eget /
expect_eq "$(header Strict-Transport-Security)" "max-age=600" "Strict-Transport-Security with a restart_needed key"
expect_reload applied "the same file again"
expect_eq "$(nlog 'event=reload.restart_needed key=max_connections')" 2 "restart_needed lines for max_connections after a second reload"
pass "hsts, add_header, remove_header applied on SIGHUP; max_connections: reload.restart_needed once per reload"

# ---- (e) log_level ----
printf 'cache = false\nlog_level = debug\n' >"$CONF"
expect_reload applied "log_level = debug"
expect_contains "$RELOAD_LINE" "log_level=debug"
expect_eq "$(ecurl /)" healthy "GET / at log_level debug"
wait_log edge "level=debug prog=edged event=request "
eget /
expect_eq "$(header Strict-Transport-Security)" "" "Strict-Transport-Security once hsts is gone from the file"
printf 'cache = false\nlog_level = info\n' >"$CONF"
expect_reload applied "log_level = info"
n=$(nlog event=request)
expect_eq "$(ecurl /)" healthy "GET / at log_level info"
sleep 0.3
expect_eq "$(nlog event=request)" "$n" "debug request lines at log_level info"
pass "log_level: debug lines appear after SIGHUP with debug, stop after info"

# ---- a pair already expired when served stays served ----
stop_bg edge
"$EDGECERT" issue old.test --dir pki --not-before 2020-01-01 --not-after 2020-02-01 >/dev/null ||
	fail "edgecert issue old.test failed"
start_edged stale --cert pki/edge.test.chain.pem --key pki/edge.test.key \
	--cert pki/old.test.chain.pem --key pki/old.test.key
LOG=$T/stale.log
wait_log stale "event=cert.expired file=pki/old.test.chain.pem"
reissue_edge
expect_reload applied "a reload with an unchanged expired pair"
expect_eq "$(served_serial)" "$(cert_serial pki/edge.test.pem)" "edge.test serial with an expired second pair"
expect_eq "$(nlog event=cert.expired)" 2 "cert.expired warnings (start-up and reload)"
pass "an expired pair already served: warned again, not refused; edge.test rotated"
