#!/usr/bin/env bash
# t0030: real TLS handshakes with OpenSSL (s_server / s_client) using
# edgecert's files: hostname and IP verification, wrong name and wrong CA
# rejected, TLS 1.2 and 1.3.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl

D=$T/pki
ec 0 ca --dir "$D"
ec 0 issue edge.test --dir "$D" --dns edge.test --ip 127.0.0.1
ec 0 issue dnsonly.test --dir "$D" --dns dnsonly.test
ec 0 ca --dir "$T/other" --cn "Other CA"

P1=$(free_port)
start_bg s_server openssl s_server -accept "127.0.0.1:$P1" -cert "$D/edge.test.pem" \
	-cert_chain "$D/ca.pem" -key "$D/edge.test.key" -www
P2=$(free_port)
start_bg s_server_dnsonly openssl s_server -accept "127.0.0.1:$P2" \
	-cert "$D/dnsonly.test.pem" -cert_chain "$D/ca.pem" -key "$D/dnsonly.test.key" -www
wait_port "$P1"
wait_port "$P2"

# s_client WANT PORT [args...]: stdin /dev/null, strict verification
s_client() {
	local want=$1 port=$2
	shift 2
	expect_rc "$want" openssl s_client -connect "127.0.0.1:$port" -verify_return_error "$@"
}

s_client 0 "$P1" -servername edge.test -verify_hostname edge.test -CAfile "$D/ca.pem" -showcerts
expect_contains "$OUT" "Verify return code: 0 (ok)"
expect_contains "$OUT" "depth=0 CN = edge.test"
expect_contains "$OUT" "depth=1 CN = edged CA"
expect_contains "$OUT" "Verified peername: edge.test"
expect_eq "$(grep -c 'BEGIN CERTIFICATE' <<<"$STDOUT")" 2 "certificates the server sent (leaf + CA)"
pass "s_client -verify_hostname edge.test: Verify return code 0"

s_client 1 "$P1" -servername wrong.test -verify_hostname wrong.test -CAfile "$D/ca.pem"
expect_contains "$OUT" "hostname mismatch"
expect_not_contains "$OUT" "Verify return code: 0 (ok)"
pass "s_client -verify_hostname wrong.test: rejected (hostname mismatch)"

s_client 0 "$P1" -verify_ip 127.0.0.1 -CAfile "$D/ca.pem"
expect_contains "$OUT" "Verify return code: 0 (ok)"
s_client 1 "$P1" -verify_ip 127.0.0.2 -CAfile "$D/ca.pem"
expect_contains "$OUT" "IP address mismatch"
pass "s_client -verify_ip 127.0.0.1 ok (cert has --ip 127.0.0.1), 127.0.0.2 rejected"

# the DNS-only certificate must not pass an IP check (the control for --ip)
s_client 1 "$P2" -verify_ip 127.0.0.1 -CAfile "$D/ca.pem"
expect_contains "$OUT" "IP address mismatch"
s_client 0 "$P2" -servername dnsonly.test -verify_hostname dnsonly.test -CAfile "$D/ca.pem"
expect_contains "$OUT" "Verify return code: 0 (ok)"
pass "a certificate without --ip fails -verify_ip, passes its DNS name"

# trusting another CA: rejected
s_client 1 "$P1" -servername edge.test -verify_hostname edge.test -CAfile "$T/other/ca.pem"
# (the server sends ca.pem along, so OpenSSL finds an untrusted self-signed root)
expect_contains "$OUT" "Verify return code: 19 (self-signed certificate in certificate chain)"
pass "a client trusting another CA rejects the server"

# both protocol versions
s_client 0 "$P1" -tls1_2 -servername edge.test -verify_hostname edge.test -CAfile "$D/ca.pem"
expect_contains "$OUT" "TLSv1.2"
expect_contains "$OUT" "Verify return code: 0 (ok)"
s_client 0 "$P1" -tls1_3 -servername edge.test -verify_hostname edge.test -CAfile "$D/ca.pem"
expect_contains "$OUT" "TLSv1.3"
expect_contains "$OUT" "Verify return code: 0 (ok)"
pass "TLS 1.2 and TLS 1.3 handshakes verify"

# an HTTP request through the tunnel: the server really serves on this key
expect_rc 0 bash -c "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:$P1 \
	-servername edge.test -verify_hostname edge.test -verify_return_error -CAfile '$D/ca.pem' -quiet"
expect_contains "$STDOUT" "HTTP/1.0 200 ok"
pass "HTTP GET over the verified connection"
