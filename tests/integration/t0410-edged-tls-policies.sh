#!/usr/bin/env bash
# t0410: edged's viewer TLS security policies (security_policy, CloudFront's
# names) seen by openssl s_client: for each of the seven policies, which
# protocol versions (TLS 1.0, 1.1, 1.2, 1.3) and which representative
# ciphers are accepted (handshake completes and a request is served through
# the edge) or refused (no handshake): CBC with SHA-1 (2016 only), CBC with
# SHA-256/384 (up to 2019), ChaCha20-Poly1305 under TLS 1.2 and 1.3 (not in
# the 2025 policies), plain RSA key exchange (2018 and older, RSA edge
# certificate) and AES-GCM.  Every client command is accepted by at least
# one policy, so each refusal is the server's.  No flag behaves as
# TLSv1.2_2021; --tls-priority replaces the policy; gnutls-cli agrees.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl gnutls-cli curl

start_www_origind origin
edge_pki

# ---- an RSA edge certificate (edgecert issues ECDSA P-256 by default) ----
expect_contains "$(openssl x509 -in "$T/pki/edge.test.pem" -noout -text)" "id-ecPublicKey"
"$EDGECERT" issue rsa.test --dir "$T/pki" --dns rsa.test --key rsa-2048 >/dev/null ||
	fail "edgecert issue rsa.test --key rsa-2048 failed"
expect_contains "$(openssl x509 -in "$T/pki/rsa.test.pem" -noout -text)" "rsaEncryption"
# edge.test (ECDSA) first: the default; rsa.test (RSA) chosen by SNI
PAIRS=(--cert "$T/pki/edge.test.chain.pem" --key "$T/pki/edge.test.key"
	--cert "$T/pki/rsa.test.chain.pem" --key "$T/pki/rsa.test.key")

REQ='GET / HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n'

# hs SNI ARGS...: one verified s_client connection to the edge that sends
# a request and reads until the server closes; sets OUT, RC, PROTO (from
# the SSL-Session block), CIPHER, OK (1: handshake done and request served)
hs() {
	local sni=$1
	shift
	RC=0
	# shellcheck disable=SC2016 # expanded by the inner bash
	OUT=$(timeout -k 5 "$CMD_TIMEOUT" bash -c 'printf "$0" | exec openssl s_client "$@" 2>&1' \
		"$REQ" -connect "127.0.0.1:$EDGE_PORT" -servername "$sni" -verify_hostname "$sni" \
		-verify_return_error -CAfile "$T/pki/ca.pem" -ign_eof "$@" </dev/null) || RC=$?
	[[ $RC -ne 124 && $RC -ne 137 ]] || fail "s_client timed out: $*"
	PROTO=$(sed -n 's/^ *Protocol *: *//p' <<<"$OUT" | head -n 1)
	CIPHER=$(sed -n 's/^ *Cipher *: *//p' <<<"$OUT" | head -n 1)
	OK=0
	if [[ $RC -eq 0 && $OUT == *"HTTP/1.1 200 OK"* && $OUT == *healthy* ]]; then
		OK=1
	fi
}

# The expectations: one row per client command, one y/n column per policy
# in the order of POLICIES.  Fields: columns | SNI | protocol | cipher
# ("-": any) | s_client arguments.
POLICIES=(TLSv1_2016 TLSv1.1_2016 TLSv1.2_2018 TLSv1.2_2019 TLSv1.2_2021 TLSv1.2_2025 TLSv1.3_2025)
ROWS=(
	"ynnnnnn|edge.test|TLSv1|-|-tls1 -cipher DEFAULT:@SECLEVEL=0"
	"yynnnnn|edge.test|TLSv1.1|-|-tls1_1 -cipher DEFAULT:@SECLEVEL=0"
	"yyyyyyn|edge.test|TLSv1.2|-|-tls1_2"
	"yyyyyyy|edge.test|TLSv1.3|-|-tls1_3"
	"yynnnnn|edge.test|TLSv1.2|ECDHE-ECDSA-AES128-SHA|-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"
	"yyyynnn|edge.test|TLSv1.2|ECDHE-ECDSA-AES128-SHA256|-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256:@SECLEVEL=0"
	"yyyynnn|edge.test|TLSv1.2|ECDHE-ECDSA-AES256-SHA384|-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0"
	"yyyyynn|edge.test|TLSv1.2|ECDHE-ECDSA-CHACHA20-POLY1305|-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305"
	"yyyyyyn|edge.test|TLSv1.2|ECDHE-ECDSA-AES256-GCM-SHA384|-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384"
	"yyynnnn|rsa.test|TLSv1.2|AES128-GCM-SHA256|-tls1_2 -cipher AES128-GCM-SHA256"
	"yynnnnn|rsa.test|TLSv1.2|AES128-SHA|-tls1_2 -cipher AES128-SHA:@SECLEVEL=0"
	"yyyyyyn|rsa.test|TLSv1.2|ECDHE-RSA-AES128-GCM-SHA256|-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"
	"yyyyynn|edge.test|TLSv1.3|TLS_CHACHA20_POLY1305_SHA256|-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256"
	"yyyyyyy|edge.test|TLSv1.3|TLS_AES_256_GCM_SHA384|-tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384"
)

# check_rows COLUMN LABEL: run every row against the edge on EDGE_PORT and
# compare with the row's COLUMN (0-based) expectation
check_rows() {
	local col=$1 label=$2 row cols sni proto cipher args want
	for row in "${ROWS[@]}"; do
		IFS='|' read -r cols sni proto cipher args <<<"$row"
		want=${cols:$col:1}
		read -ra args <<<"$args"
		hs "$sni" "${args[@]}"
		if [[ $want == y ]]; then
			[[ $OK -eq 1 ]] || fail "$label: s_client ${args[*]} (SNI $sni) should be accepted" \
				"and served, got exit $RC: $(_show "$(grep -v '^[A-Za-z0-9+/=]*$' <<<"$OUT" | tail -n 25)")"
			expect_eq "$PROTO" "$proto" "$label: protocol of s_client ${args[*]}"
			[[ $cipher == - ]] || expect_eq "$CIPHER" "$cipher" "$label: cipher of s_client ${args[*]}"
		else
			[[ $RC -ne 0 && $OK -eq 0 ]] || fail "$label: s_client ${args[*]} (SNI $sni)" \
				"should be refused, got $PROTO $CIPHER (exit $RC)"
			expect_contains "$OUT" "Cipher is (NONE)"
			expect_not_contains "$OUT" "HTTP/1.1"
		fi
	done
}

# every row is accepted somewhere and refused somewhere else (or is the
# TLS 1.3 baseline): a refusal is never the client's own doing
for row in "${ROWS[@]}"; do
	[[ ${row%%|*} == *y* ]] || fail "test bug: row accepted by no policy: $row"
done

col=0
for pol in "${POLICIES[@]}"; do
	start_edged "$pol" "${PAIRS[@]}" --security-policy "$pol"
	wait_log "$pol" "security_policy=$pol "
	check_rows "$col" "$pol"
	stop_bg "$pol"
	col=$((col + 1))
done
pass "security_policy: TLS 1.0/1.1/1.2/1.3 and CBC-SHA1, CBC-SHA2, ChaCha20, RSA-kx, GCM suites as per the policy table (7 policies)"

# ---- no flag: TLSv1.2_2021 ----
start_edged default "${PAIRS[@]}"
wait_log default "security_policy=TLSv1.2_2021 "
check_rows 4 "default (no --security-policy)"
pass "no --security-policy behaves as TLSv1.2_2021"

# ---- gnutls-cli against the default: TLS 1.3 carries a request; TLS 1.0
# refused (and accepted by TLSv1_2016 below, so the refusal is the edge's) ----
# gnutls WANT PRIORITY: gnutls-cli sends REQ and reads until the server closes
gnutls() {
	local want=$1
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_rc "$want" bash -c 'printf "$0" | exec gnutls-cli "$@"' "$REQ" \
		--port "$EDGE_PORT" --x509cafile "$T/pki/ca.pem" \
		--verify-hostname edge.test --sni-hostname edge.test --priority "$2" 127.0.0.1
}
gnutls 0 "NORMAL:-VERS-ALL:+VERS-TLS1.3"
expect_contains "$OUT" "- Description: (TLS1.3-X.509)"
expect_contains "$OUT" "HTTP/1.1 200 OK"
expect_contains "$OUT" "healthy"
GT10="NORMAL:-VERS-ALL:+VERS-TLS1.0:+SHA1:+AES-128-CBC:%VERIFY_ALLOW_SIGN_WITH_SHA1"
gnutls 1 "$GT10"
expect_not_contains "$OUT" "Handshake was completed"
expect_not_contains "$OUT" "HTTP/1.1"
stop_bg default
start_edged gnutls10 "${PAIRS[@]}" --security-policy TLSv1_2016
gnutls 0 "$GT10"
expect_contains "$OUT" "- Description: (TLS1.0-X.509)"
expect_contains "$OUT" "HTTP/1.1 200 OK"
stop_bg gnutls10
pass "gnutls-cli: TLS 1.3 handshake + request under the default; TLS 1.0 refused by it, accepted by TLSv1_2016"

# ---- --tls-priority replaces the policy (even one given with it) ----
PRIO="NONE:+VERS-TLS1.3:+ECDHE-ECDSA:+AES-256-GCM:+AEAD:+SIGN-ALL:+GROUP-ALL:+COMP-NULL:+CTYPE-X509"
start_edged custom "${PAIRS[@]}" --security-policy TLSv1_2016 --tls-priority "$PRIO"
wait_log custom "security_policy=custom "
hs edge.test -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
[[ $OK -eq 1 ]] || fail "--tls-priority TLS 1.3 AES-256-GCM: handshake + request failed: $(_show "$OUT")"
expect_eq "$PROTO" TLSv1.3 "protocol under --tls-priority"
for args in "-tls1_2" "-tls1 -cipher DEFAULT:@SECLEVEL=0" "-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256" \
	"-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256"; do
	read -ra a <<<"$args"
	hs edge.test "${a[@]}"
	[[ $RC -ne 0 && $OK -eq 0 ]] || fail "--tls-priority TLS1.3/AES-256-GCM only: s_client $args was accepted ($PROTO $CIPHER)"
	expect_contains "$OUT" "Cipher is (NONE)"
done
pass "--tls-priority (TLS 1.3, AES-256-GCM only) overrides --security-policy TLSv1_2016: TLS 1.2/1.0, other suites refused"

# the edge served every accepted handshake and is still healthy
ehealthy
pass "edged still serves after all the refused handshakes"
