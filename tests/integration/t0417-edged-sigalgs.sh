#!/usr/bin/env bash
# t0417: edged's viewer priority strings list their TLS 1.2 signature
# algorithms explicitly, without SHA-1: under every security_policy that
# allows TLS 1.2, a client offering only RSA+SHA1 and ECDSA+SHA1 (openssl
# s_client -sigalgs, SECLEVEL 0 so it sends them) gets no handshake, with an
# ECDSA and with an RSA certificate, while ordinary TLS 1.2 and 1.3
# clients connect and are served, signed with SHA-256 or better (s_client;
# gnutls-cli and curl against the default policy).  (Before: SIGN-ALL, and
# the server signed with SHA-1 for such a client.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_tls.sh
. "$(dirname "$0")/lib_tls.sh"
need_tool openssl gnutls-cli curl

start_www_origind origin
edge_pki
"$EDGECERT" issue rsa.test --dir "$T/pki" --dns rsa.test --key rsa-2048 >/dev/null ||
	fail "edgecert issue rsa.test --key rsa-2048 failed"
PAIRS=(--cert "$T/pki/edge.test.chain.pem" --key "$T/pki/edge.test.key"
	--cert "$T/pki/rsa.test.chain.pem" --key "$T/pki/rsa.test.key")

for pol in TLSv1_2016 TLSv1.1_2016 TLSv1.2_2018 TLSv1.2_2019 TLSv1.2_2021 TLSv1.2_2025 TLSv1.3_2025; do
	start_edged "$pol" "${PAIRS[@]}" --security-policy "$pol"
	sigs=""
	for name in edge.test rsa.test; do
		if [[ $pol != TLSv1.3_2025 ]]; then
			sha1_sigalgs_refused "$EDGE_PORT" "$name"
			modern_signature "$EDGE_PORT" "$name" -tls1_2
			sigs+=" $name/1.2:$SIGALG"
		fi
		modern_signature "$EDGE_PORT" "$name" -tls1_3
		sigs+=" $name/1.3:$SIGALG"
	done
	note "$pol:$sigs"
	stop_bg "$pol"
done
pass "every policy with TLS 1.2: SHA-1-only signature offers refused (ECDSA and RSA certificates); TLS 1.2/1.3 clients served, signed with SHA-256+"

start_edged default "${PAIRS[@]}"
sha1_sigalgs_refused "$EDGE_PORT" edge.test
sha1_sigalgs_refused "$EDGE_PORT" rsa.test
for pr in "NORMAL:-VERS-ALL:+VERS-TLS1.2" "NORMAL:-VERS-ALL:+VERS-TLS1.3"; do
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_rc 0 bash -c 'printf "GET / HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n" | exec gnutls-cli "$@"' \
		gnutls-cli --port "$EDGE_PORT" --x509cafile "$T/pki/ca.pem" --verify-hostname edge.test \
		--sni-hostname edge.test --priority "$pr" 127.0.0.1
	expect_contains "$OUT" "HTTP/1.1 200 OK"
done
# a GnuTLS client that allows SHA-1 signatures only is refused too
expect_rc 1 gnutls-cli --port "$EDGE_PORT" --x509cafile "$T/pki/ca.pem" \
	--sni-hostname edge.test \
	--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-ECDSA-SHA1:+SIGN-RSA-SHA1" 127.0.0.1
expect_not_contains "$OUT" "Handshake was completed"
for v in --tlsv1.2 --tlsv1.3; do
	expect_rc 0 curl -sS --cacert "$T/pki/ca.pem" "$v" --resolve "edge.test:$EDGE_PORT:127.0.0.1" \
		"https://edge.test:$EDGE_PORT/"
	expect_contains "$OUT" "healthy"
done
pass "default policy: gnutls-cli (TLS 1.2, 1.3) and curl (TLS 1.2, 1.3) served; SHA-1-only s_client and gnutls-cli refused"
