#!/usr/bin/env bash
# t0435: the origin leg's TLS settings, seen from origind's
# /_origind/session fetched through the edge.
#   - origin_min_tls: against an origin that speaks only TLS 1.2,
#     --origin-min-tls TLSv1.3 gives 502 class=tls (X-Cache Error, one-line
#     body); the default (TLSv1.2) gets 200 over TLSv1.2.  Against a TLS 1.3
#     origin both settings negotiate TLSv1.3.
#   - SNI: an IP origin sends none (sni ""); --origin-sni origin.test with
#     https://127.0.0.1 sends origin.test; https://localhost:PORT sends
#     localhost (verified against a localhost certificate) and Host
#     localhost:PORT.
#   - session resumption: with --origin-keepalive-timeout 0 every request
#     makes a new origin connection (a new remote port each time): the
#     first is a full handshake, the later ones are resumed, over TLS 1.3
#     and TLS 1.2.  With pooling (the default keep-alive) the requests share
#     one connection (the same remote port).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

edge_pki
"$EDGECERT" issue localhost --dir "$T/pki" --dns localhost --ip 127.0.0.1 >/dev/null

# session NAME: GET /_origind/session through the edge; sets J
session() {
	eget /_origind/session
	expect_eq "$CODE" 200 "status of /_origind/session through $1"
	json_valid "$BODY"
	J=$BODY
}

# ---- origin_min_tls against a TLS 1.2-only origin ----
start_www_origind o12 --tls-priority \
	'NONE:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:+AES-128-GCM:+AEAD:+SIGN-ALL:+GROUP-ALL:+COMP-NULL:+CTYPE-X509'
O12=$ORIGIN_PORT
start_edged min13 --origin-min-tls TLSv1.3
eget /
expect_eq "$CODE" 502 "status with --origin-min-tls TLSv1.3 against a TLS 1.2 origin"
expect_eq "$(header X-Cache)" "Error from edged" "X-Cache (min TLS 1.3, TLS 1.2 origin)"
expect_eq "$BODY" "502 Bad Gateway: TLS failure with the origin" "body (min TLS 1.3, TLS 1.2 origin)"
expect_eq "$(wc -l <"$T/body")" 1 "lines in the body (min TLS 1.3, TLS 1.2 origin)"
wait_log min13 "event=origin.failed"
LINE=$(grep "event=origin.failed" "$T/min13.log")
expect_contains "$LINE" "status=502 class=tls "
# GnuTLS's server hangs up on a hello it cannot serve (no alert), which
# looks like an origin going away mid-handshake: tried again, then tls
pass "--origin-min-tls TLSv1.3 against a TLS 1.2-only origin: 502 class=tls"

start_edged min12
eget /
expect_eq "$CODE" 200 "status with the default minimum against a TLS 1.2 origin"
expect_eq "$BODY" healthy "body with the default minimum against a TLS 1.2 origin"
session min12
expect_eq "$(json_str "$J" tls_version)" TLSv1.2 "origin tls_version (TLS 1.2 origin)"
expect_match "$(json_str "$J" cipher)" '^TLS_ECDHE_(ECDSA|RSA)_WITH_AES_128_GCM_SHA256$'
pass "the default origin_min_tls (TLSv1.2) reaches the TLS 1.2-only origin: 200 over TLSv1.2"

# ---- TLS 1.3 origin: both settings give TLS 1.3; SNI ----
start_www_origind o13
O13=$ORIGIN_PORT
start_edged ip
session ip
expect_eq "$(json_str "$J" tls_version)" TLSv1.3 "origin tls_version (default edge, default origind)"
expect_eq "$(json_str "$J" sni)" "" "SNI sent to an IP origin"
expect_eq "$(json_str "$J" remote_addr)" 127.0.0.1 "origind's remote_addr"
start_edged ip13 --origin-min-tls TLSv1.3
session ip13
expect_eq "$(json_str "$J" tls_version)" TLSv1.3 "origin tls_version with --origin-min-tls TLSv1.3"
pass "TLS 1.3 origin: TLSv1.3 with either minimum; an IP origin gets no SNI"

start_edged sni --origin-sni origin.test
session sni
expect_eq "$(json_str "$J" sni)" origin.test "SNI with --origin-sni origin.test"
pass "--origin-sni origin.test with https://127.0.0.1: origind sees SNI origin.test"

# an origin named by host name: the name is the SNI, verified, and Host
ORIGIN_PORT=$(free_port)
start_bg olocal "$ORIGIND" --listen-https "127.0.0.1:$ORIGIN_PORT" \
	--cert "$T/pki/localhost.chain.pem" --key "$T/pki/localhost.key" --docroot "$T/www" \
	--cgi-bin "$TEST_DIR/cgi-bin" --introspection
wait_port "$ORIGIN_PORT"
start_edged byname --origin "https://localhost:$ORIGIN_PORT"
session byname
expect_eq "$(json_str "$J" sni)" localhost "SNI for https://localhost:PORT"
eget /cgi-bin/env.cgi
expect_eq "$CODE" 200 "status of env.cgi via https://localhost:PORT"
expect_eq "$(var HTTP_HOST)" "localhost:$ORIGIN_PORT" "Host toward https://localhost:PORT"
expect_eq "$(var SSL_TLS_SNI)" localhost "SSL_TLS_SNI the origin's script sees"
expect_eq "$(var SERVER_NAME)" localhost "SERVER_NAME the origin's script sees"
pass "https://localhost:PORT: SNI localhost (certificate verified for localhost), Host localhost:PORT"

# ---- resumption ----
# resumed_runs NAME N: N session requests through edge NAME; RES holds
# their "resumed" values, PORTS their remote ports (edged's side)
resumed_runs() {
	local i
	RES=()
	PORTS=()
	for ((i = 1; i <= $2; i++)); do
		session "$1"
		RES+=("$(json_raw "$J" resumed)")
		PORTS+=("$(json_raw "$J" remote_port)")
	done
}
distinct() { printf '%s\n' "$@" | sort -u | wc -l; }

ORIGIN_PORT=$O13
start_edged nopool13 --origin-keepalive-timeout 0
resumed_runs nopool13 4
expect_eq "${RES[*]}" "false true true true" "resumed, TLS 1.3, no pooling"
expect_eq "$(distinct "${PORTS[@]}")" 4 "distinct origin connections (remote ports), TLS 1.3, no pooling"
pass "TLS 1.3, no pooling: 4 origin connections, the first full, the next 3 resumed"

ORIGIN_PORT=$O12
start_edged nopool12 --origin-keepalive-timeout 0
resumed_runs nopool12 3
expect_eq "${RES[*]}" "false true true" "resumed, TLS 1.2, no pooling"
expect_eq "$(distinct "${PORTS[@]}")" 3 "distinct origin connections (remote ports), TLS 1.2, no pooling"
pass "TLS 1.2, no pooling: 3 origin connections, the first full, the next 2 resumed"

ORIGIN_PORT=$O13
start_edged pool
resumed_runs pool 3
expect_eq "$(distinct "${PORTS[@]}")" 1 "origin connections (remote ports) with pooling"
expect_eq "${RES[*]}" "false false false" "resumed on the pooled connection"
pass "with pooling: 3 requests share one origin connection"

# ---- every edged stops cleanly: SIGTERM, exit 0, no sanitizer report ----
# (matters under SAN=1: leaks are only reported at exit)
edges=()
for i in "${!_BG_NAMES[@]}"; do
	if grep -q "prog=edged event=listening" "$T/${_BG_NAMES[$i]}.log" 2>/dev/null; then
		edges+=("${_BG_NAMES[$i]}")
		kill -TERM "${_BG_PIDS[$i]}"
	fi
done
for n in "${edges[@]}"; do
	wait_bg "$n" 10
	[[ $RC -eq 0 ]] || fail "edged $n exited with $RC after SIGTERM: $(_show "$(tail -n 5 "$T/$n.log")")"
	for bad in 'ERROR: AddressSanitizer' 'ERROR: LeakSanitizer' 'runtime error:'; do
		if grep -q "$bad" "$T/$n.log"; then
			fail "edged $n's log has a sanitizer report: $(grep -A 12 "$bad" "$T/$n.log" | head -n 40)"
		fi
	done
done
pass "${#edges[@]} edged instances stopped on SIGTERM with exit 0 and no sanitizer report"
