#!/usr/bin/env bash
# t0040: real TLS handshakes with GnuTLS (gnutls-serv / gnutls-cli) using
# NAME.chain.pem: DNS name and IP verify, a wrong name and a wrong CA fail.
#
# gnutls-serv has no option to pick the listening address: it binds the
# port on 0.0.0.0 and ::.  The client always connects to 127.0.0.1.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool gnutls-serv gnutls-cli

D=$T/pki
ec 0 ca --dir "$D"
ec 0 issue edge.test --dir "$D" --dns edge.test --ip 127.0.0.1
ec 0 issue dnsonly.test --dir "$D" --dns dnsonly.test
ec 0 ca --dir "$T/other" --cn "Other CA"

P1=$(free_port)
start_bg gnutls-serv gnutls-serv --port "$P1" --x509certfile "$D/edge.test.chain.pem" \
	--x509keyfile "$D/edge.test.key" --disable-client-cert
P2=$(free_port)
start_bg gnutls-serv-dnsonly gnutls-serv --port "$P2" --x509certfile "$D/dnsonly.test.chain.pem" \
	--x509keyfile "$D/dnsonly.test.key" --disable-client-cert
wait_port "$P1"
wait_port "$P2"

# cli WANT PORT [args...]: gnutls-cli to 127.0.0.1:PORT, stdin /dev/null
cli() {
	local want=$1 port=$2
	shift 2
	expect_rc "$want" gnutls-cli --port "$port" "$@" 127.0.0.1
}

cli 0 "$P1" --x509cafile "$D/ca.pem" --verify-hostname edge.test
expect_contains "$OUT" "Status: The certificate is trusted."
expect_contains "$OUT" "Handshake was completed"
expect_contains "$OUT" "Got a certificate list of 2 certificates."
expect_contains "$OUT" "subject \`CN=edge.test', issuer \`CN=edged CA'"
pass "gnutls-cli --verify-hostname edge.test: trusted (chain file sends leaf + CA)"

# by IP: with no --verify-hostname gnutls-cli checks the host it connects to
cli 0 "$P1" --x509cafile "$D/ca.pem"
expect_contains "$OUT" "Status: The certificate is trusted."
cli 0 "$P1" --x509cafile "$D/ca.pem" --verify-hostname 127.0.0.1
expect_contains "$OUT" "Status: The certificate is trusted."
pass "gnutls-cli to 127.0.0.1 (IP SAN): trusted"

cli 1 "$P1" --x509cafile "$D/ca.pem" --verify-hostname wrong.test
expect_contains "$OUT" "The name in the certificate does not match the expected."
expect_not_contains "$OUT" "Handshake was completed"
cli 1 "$P1" --x509cafile "$D/ca.pem" --verify-hostname 127.0.0.2
expect_contains "$OUT" "does not match"
pass "wrong name / wrong IP: rejected"

# controls: no IP SAN, wrong CA
cli 1 "$P2" --x509cafile "$D/ca.pem"
expect_contains "$OUT" "does not match"
cli 0 "$P2" --x509cafile "$D/ca.pem" --verify-hostname dnsonly.test
expect_contains "$OUT" "Status: The certificate is trusted."
cli 1 "$P1" --x509cafile "$T/other/ca.pem" --verify-hostname edge.test
expect_contains "$OUT" "NOT trusted"
expect_contains "$OUT" "issuer is unknown"
pass "a certificate without --ip fails by IP; another CA is rejected"

# TLS 1.2 as well as 1.3
cli 0 "$P1" --x509cafile "$D/ca.pem" --verify-hostname edge.test \
	--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2'
expect_contains "$OUT" "(TLS1.2"
expect_contains "$OUT" "Status: The certificate is trusted."
cli 0 "$P1" --x509cafile "$D/ca.pem" --verify-hostname edge.test \
	--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3'
expect_contains "$OUT" "(TLS1.3"
pass "TLS 1.2 and TLS 1.3 handshakes verify"

# and an OpenSSL client against the GnuTLS server (chain file interop)
if command -v openssl >/dev/null 2>&1; then
	expect_rc 0 openssl s_client -connect "127.0.0.1:$P1" -servername edge.test \
		-verify_hostname edge.test -verify_return_error -CAfile "$D/ca.pem"
	expect_contains "$OUT" "Verify return code: 0 (ok)"
	pass "openssl s_client against gnutls-serv: ok"
fi
