#!/usr/bin/env bash
# t0151: origind's TLS versions and ciphers, seen by OpenSSL and GnuTLS
# clients: TLS 1.3 and 1.2 handshakes complete (and carry a request), TLS
# 1.1 and 1.0 are refused, and on TLS 1.2 only ECDHE with an AEAD cipher
# is negotiable (no CBC, no plain RSA key exchange).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl gnutls-cli curl

mkdir -p "$T/www"
echo "tls ok" >"$T/www/index.html"
start_origind origind --docroot "$T/www"
REQ='GET / HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'

# s_client WANT ARGS...: a verified openssl s_client connection that sends
# one request and reads until the server closes
s_client() {
	local want=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_rc "$want" bash -c 'printf "$0" | exec openssl s_client "$@"' "$REQ" \
		-connect "127.0.0.1:$ORIGIN_PORT" -servername origin.test \
		-verify_hostname origin.test -verify_return_error -CAfile "$T/pki/ca.pem" \
		-ign_eof "$@"
}

# gnutls WANT PRIORITY: the same with gnutls-cli
gnutls() {
	local want=$1
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_rc "$want" bash -c 'printf "$0" | exec gnutls-cli "$@"' "$REQ" \
		--port "$ORIGIN_PORT" --x509cafile "$T/pki/ca.pem" \
		--verify-hostname origin.test --sni-hostname origin.test --priority "$2" 127.0.0.1
}

# ---- what works ----
s_client 0 -tls1_3
expect_contains "$OUT" "New, TLSv1.3, Cipher is TLS_AES_"
expect_contains "$OUT" "Verify return code: 0 (ok)"
expect_contains "$OUT" "HTTP/1.1 200 OK"
expect_contains "$OUT" "tls ok"
s_client 0 -tls1_2
expect_match "$OUT" "New, TLSv1\.2, Cipher is ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)"
expect_contains "$OUT" "Secure Renegotiation IS supported"
expect_contains "$OUT" "HTTP/1.1 200 OK"
expect_contains "$OUT" "tls ok"
pass "openssl s_client: TLS 1.3 and TLS 1.2 (ECDHE-ECDSA AEAD) handshakes, request served"

for c in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
	s_client 0 -tls1_2 -cipher "$c"
	expect_contains "$OUT" "New, TLSv1.2, Cipher is $c"
	expect_contains "$OUT" "HTTP/1.1 200 OK"
done
for c in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	s_client 0 -tls1_3 -ciphersuites "$c"
	expect_contains "$OUT" "New, TLSv1.3, Cipher is $c"
done
pass "each AEAD suite alone works: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 (TLS 1.2 and 1.3)"

# the server's order wins (%SERVER_PRECEDENCE): AES-GCM before ChaCha20
# even for a client that prefers ChaCha20
s_client 0 -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256
expect_contains "$OUT" "New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"
s_client 0 -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256
expect_contains "$OUT" "New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"
pass "server cipher order: a client preferring ChaCha20 gets AES-128-GCM (TLS 1.2 and 1.3)"

gnutls 0 "NORMAL:-VERS-ALL:+VERS-TLS1.3"
expect_contains "$OUT" "(TLS1.3"
expect_contains "$OUT" "HTTP/1.1 200 OK"
expect_contains "$OUT" "tls ok"
gnutls 0 "NORMAL:-VERS-ALL:+VERS-TLS1.2"
expect_contains "$OUT" "(TLS1.2-X.509)-(ECDHE-"
expect_contains "$OUT" "HTTP/1.1 200 OK"
pass "gnutls-cli: TLS 1.3 and TLS 1.2 handshakes, request served"

# a TLS 1.3 ClientHello without renegotiation_info or its SCSV (there is
# no renegotiation in TLS 1.3; testssl.sh's probe is one) is served:
# %SAFE_RENEGOTIATION refused it, whatever the version
gnutls 0 "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION"
expect_contains "$OUT" "HTTP/1.1 200 OK"
pass "gnutls-cli TLS 1.3 without the renegotiation_info extension: served"

# ---- what is refused (the client's own minimum lowered, so the refusal
# is the server's) ----
for v in -tls1_1 -tls1; do
	s_client 1 "$v" -cipher 'DEFAULT:@SECLEVEL=0'
	expect_not_contains "$OUT" "HTTP/1.1"
	expect_contains "$OUT" "Cipher is (NONE)"
done
for v in TLS1.1 TLS1.0; do
	gnutls 1 "NORMAL:-VERS-ALL:+VERS-$v:%VERIFY_ALLOW_SIGN_WITH_SHA1"
	expect_not_contains "$OUT" "HTTP/1.1"
	expect_not_contains "$OUT" "Handshake was completed"
done
pass "TLS 1.1 and TLS 1.0 refused (openssl and gnutls-cli)"

for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA ECDHE-ECDSA-AES128-SHA256 \
	ECDHE-ECDSA-AES256-SHA384; do
	s_client 1 -tls1_2 -cipher "$c:@SECLEVEL=0"
	expect_not_contains "$OUT" "HTTP/1.1"
	expect_contains "$OUT" "Cipher is (NONE)"
done
gnutls 1 "NORMAL:-VERS-ALL:+VERS-TLS1.2:-AEAD:-AES-128-GCM:-AES-256-GCM:-CHACHA20-POLY1305:-AES-128-CCM:-AES-256-CCM:+AES-128-CBC:+AES-256-CBC:+SHA1:+SHA256"
expect_not_contains "$OUT" "Handshake was completed"
expect_not_contains "$OUT" "HTTP/1.1"
pass "TLS 1.2: CBC (SHA-1 and SHA-2 MAC) suites refused (openssl), CBC-only client refused (gnutls-cli)"

# the server still serves after all those refusals
expect_eq "$(ocurl /)" "tls ok" "GET / after the refused handshakes"
pass "origind still serves after the refused handshakes"
