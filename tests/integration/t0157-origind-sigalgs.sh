#!/usr/bin/env bash
# t0157: origind's default priority lists its TLS 1.2 signature algorithms
# explicitly, without SHA-1: a client offering only RSA+SHA1 and ECDSA+SHA1
# (openssl s_client -sigalgs, SECLEVEL 0) gets no handshake, with an ECDSA
# and with an RSA certificate, while ordinary TLS 1.2 and 1.3 clients
# (s_client, curl) are served, signed with SHA-256 or better.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_tls.sh
. "$(dirname "$0")/lib_tls.sh"
need_tool openssl curl

origind_pki
"$EDGECERT" issue rsa.test --dir "$T/pki" --dns rsa.test --key rsa-2048 >/dev/null ||
	fail "edgecert issue rsa.test --key rsa-2048 failed"
mkdir -p "$T/www"
echo healthy >"$T/www/index.html"

for kind in ecdsa rsa; do
	if [[ $kind == rsa ]]; then
		name=rsa.test
		ORIGIN_PORT=$(free_port)
		start_bg "$kind" "$ORIGIND" --listen-https "127.0.0.1:$ORIGIN_PORT" --docroot "$T/www" \
			--cert "$T/pki/rsa.test.chain.pem" --key "$T/pki/rsa.test.key"
		wait_port "$ORIGIN_PORT"
	else
		name=origin.test
		start_origind "$kind" --docroot "$T/www"
	fi
	sha1_sigalgs_refused "$ORIGIN_PORT" "$name"
	modern_signature "$ORIGIN_PORT" "$name" -tls1_2
	s12=$SIGALG
	modern_signature "$ORIGIN_PORT" "$name" -tls1_3
	note "$kind certificate: TLS 1.2 signed with $s12, TLS 1.3 with $SIGALG"
	for v in --tlsv1.2 --tlsv1.3; do
		expect_rc 0 curl -sS --cacert "$T/pki/ca.pem" "$v" --resolve "$name:$ORIGIN_PORT:127.0.0.1" \
			"https://$name:$ORIGIN_PORT/"
		expect_contains "$OUT" "healthy"
	done
	stop_bg "$kind"
done
pass "origind: SHA-1-only signature offers refused (ECDSA and RSA certificates); TLS 1.2/1.3 clients served, signed with SHA-256+"
