#!/usr/bin/env bash
# t0434: mutual TLS on the origin leg.  origind with --client-ca requires a
# client certificate.  edged without --origin-client-cert: the viewer gets
# origind's own 403 (passed through, "X-Cache: Miss from edged"; origind
# logs client_cert.refused verify=NONE).  With --origin-client-cert
# client.chain.pem --origin-client-key client.key: 200, and origind's
# /_origind/session, fetched through the edge, shows client_verify SUCCESS,
# CN=client issued by CN=edged CA; that stays true on new, resumed origin
# connections (--origin-keepalive-timeout 0).  A client certificate from
# another CA is not offered (GnuTLS matches the CAs origind asks for):
# origind's 403.  A missing key or certificate file, or a key
# of another certificate: edged exits at once (1 or 2) with an error
# naming the file, and nothing listens.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

edge_pki
"$EDGECERT" ca --dir "$T/other" --cn "Other CA" >/dev/null
"$EDGECERT" issue client --dir "$T/other" --client >/dev/null
start_www_origind origin --client-ca "$T/pki/ca.pem"
CC=(--origin-client-cert "$T/pki/client.chain.pem" --origin-client-key "$T/pki/client.key")

# ---- no client certificate ----
start_edged nocert
eget /
expect_eq "$CODE" 403 "status without a client certificate"
expect_eq "$(header X-Cache)" "Miss from edged" "X-Cache of origind's 403 (an origin answer)"
expect_contains "$BODY" "client certificate"
expect_not_contains "$BODY" healthy
wait_log origin "event=client_cert.refused"
expect_contains "$(grep client_cert.refused "$T/origin.log")" "verify=NONE"
expect_eq "$(grep -c "event=origin.failed" "$T/nocert.log" || true)" 0 "origin.failed lines (the origin answered)"
pass "edged without --origin-client-cert: origind's 403 reaches the viewer (X-Cache Miss), origind logs verify=NONE"

# ---- edgecert's client certificate ----
start_edged withcert "${CC[@]}"
eget /
expect_eq "$CODE" 200 "status with the client certificate"
expect_eq "$BODY" healthy "body with the client certificate"
eget /_origind/session
json_valid "$BODY"
expect_eq "$(json_str "$BODY" client_verify)" SUCCESS "client_verify through the edge"
expect_eq "$(json_str "$BODY" client_s_dn)" "CN=client" "client_s_dn through the edge"
expect_eq "$(json_str "$BODY" client_i_dn)" "CN=edged CA" "client_i_dn through the edge"
pass "--origin-client-cert/--origin-client-key: 200, origind sees client_verify SUCCESS, CN=client by CN=edged CA"

# new origin connections (no pooling): full handshake first, then resumed
# ones, every one still carrying the client's identity
start_edged fresh "${CC[@]}" --origin-keepalive-timeout 0
res=()
for i in 1 2 3; do
	eget /_origind/session
	expect_eq "$CODE" 200 "status of session request $i (no pooling)"
	expect_eq "$(json_str "$BODY" client_verify)" SUCCESS "client_verify, request $i (no pooling)"
	expect_eq "$(json_str "$BODY" client_s_dn)" "CN=client" "client_s_dn, request $i (no pooling)"
	res+=("$(json_raw "$BODY" resumed)")
done
expect_eq "${res[*]}" "false true true" "resumed on the 3 origin connections"
pass "three new origin connections (one full, two resumed): each shows client_verify SUCCESS and CN=client"

# ---- a client certificate origind's CA did not issue ----
start_edged othercert --origin-client-cert "$T/other/client.chain.pem" \
	--origin-client-key "$T/other/client.key"
eget /
expect_eq "$CODE" 403 "status with another CA's client certificate"
expect_not_contains "$BODY" healthy
# GnuTLS sends a client certificate only when its issuer is among the CAs
# the server asks for, so origind gets none: verify=NONE, a second refusal
for ((i = 0; i < 50; i++)); do
	[[ $(grep -c "event=client_cert.refused" "$T/origin.log") -ge 2 ]] && break
	sleep 0.1
done
expect_eq "$(grep -c "event=client_cert.refused" "$T/origin.log")" 2 "client_cert.refused lines in origind's log"
pass "a client certificate from another CA: not offered (origind: verify=NONE), origind's 403 reaches the viewer"

# ---- unusable client certificate settings: edged does not start ----
bad_start "a missing key file" "$T/missing.key" \
	--origin-client-cert "$T/pki/client.chain.pem" --origin-client-key "$T/missing.key"
MSG1=$STDERR
bad_start "a missing certificate file" "$T/missing.pem" \
	--origin-client-cert "$T/missing.pem" --origin-client-key "$T/pki/client.key"
bad_start "the key of another certificate" "$T/pki/origin.test.key" \
	--origin-client-cert "$T/pki/client.chain.pem" --origin-client-key "$T/pki/origin.test.key"
expect_contains "$STDERR" "does not belong"
pass "missing client key ($(_show "$MSG1")), missing client cert, mismatched key: edged exits naming the file"

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
