#!/usr/bin/env bash
# t0070: client certificates (issue --client) and mutual TLS: the
# certificate is for clientAuth only; a server that requires client
# certificates accepts it and rejects clients without one (or with a
# server certificate, or one from another CA).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl gnutls-serv gnutls-cli

D=$T/pki
ec 0 ca --dir "$D"
ec 0 issue edge.test --dir "$D" --dns edge.test
ec 0 issue client1 --dir "$D" --client
expect_contains "$STDOUT" "clientAuth"
ec 0 ca --dir "$T/other" --cn "Other CA"
ec 0 issue client1 --dir "$T/other" --client

expect_eq "$(file_mode "$D/client1.key")" 600 "mode of client1.key"
expect_rc 0 openssl x509 -in "$D/client1.pem" -noout -text
expect_contains "$STDOUT" "TLS Web Client Authentication"
expect_not_contains "$STDOUT" "TLS Web Server Authentication"
expect_contains "$STDOUT" "Subject: CN = client1"
# a client certificate gets no default subjectAltName
expect_not_contains "$STDOUT" "Subject Alternative Name"
pass "client1.pem: CN=client1, clientAuth only, no SAN"

expect_rc 0 openssl verify -CAfile "$D/ca.pem" -purpose sslclient "$D/client1.pem"
expect_contains "$STDOUT" "client1.pem: OK"
expect_rc 2 openssl verify -CAfile "$D/ca.pem" -purpose sslserver "$D/client1.pem"
expect_contains "$OUT" "unsuitable certificate purpose"
expect_rc 2 openssl verify -CAfile "$D/ca.pem" -purpose sslclient "$D/edge.test.pem"
expect_contains "$OUT" "unsuitable certificate purpose"
pass "openssl verify: client1 ok as sslclient, not as sslserver (and vice versa for edge.test)"

ec 0 inspect "$D/client1.pem" --json
expect_eq "$(json_raw "$STDOUT" ext_key_usage)" '["clientAuth"]' "inspect ext_key_usage"
ec 0 issue client1 --dir "$D" --client
expect_contains "$STDOUT" "unchanged"
pass "inspect says clientAuth; issuing it again is a no-op"

# ---- OpenSSL server requiring a client certificate ----
P=$(free_port)
start_bg s_server openssl s_server -accept "127.0.0.1:$P" -cert "$D/edge.test.pem" \
	-cert_chain "$D/ca.pem" -key "$D/edge.test.key" -www \
	-Verify 1 -CAfile "$D/ca.pem" -verify_return_error
wait_port "$P"

# get WANT [s_client args]: a GET over a verified connection.  With TLS 1.3
# the server checks the client's certificate after the client finished
# its handshake, so only a request shows whether the server accepted it.
get() {
	local want=$1
	shift
	expect_rc "$want" bash -c 'printf "GET / HTTP/1.0\r\n\r\n" | exec openssl s_client "$@"' _ \
		-connect "127.0.0.1:$P" -servername edge.test -verify_hostname edge.test \
		-verify_return_error -ign_eof -CAfile "$D/ca.pem" "$@"
}

get 0 -cert "$D/client1.pem" -key "$D/client1.key"
expect_contains "$OUT" "HTTP/1.0 200 ok"
expect_contains "$OUT" "Verify return code: 0 (ok)"
expect_contains "$OUT" "Subject: CN=client1" # -www echoes the client's certificate
pass "s_server -Verify 1: client1 accepted (TLS 1.3)"

get 0 -tls1_2 -cert "$D/client1.pem" -key "$D/client1.key"
expect_contains "$OUT" "HTTP/1.0 200 ok"
pass "s_server -Verify 1: client1 accepted (TLS 1.2)"

get 1
expect_contains "$OUT" "certificate required"
expect_not_contains "$OUT" "HTTP/1.0 200"
get 1 -tls1_2
expect_not_contains "$OUT" "HTTP/1.0 200"
expect_contains "$OUT" "handshake failure"
pass "client without a certificate: rejected (TLS 1.3 and 1.2)"

get 1 -cert "$D/edge.test.pem" -key "$D/edge.test.key"
expect_not_contains "$OUT" "HTTP/1.0 200"
wait_log s_server "unsuitable certificate purpose"
pass "a server certificate used as client certificate: rejected (purpose)"

get 1 -cert "$T/other/client1.pem" -key "$T/other/client1.key"
expect_not_contains "$OUT" "HTTP/1.0 200"
expect_contains "$OUT" "unknown ca"
pass "a client certificate from another CA: rejected (unknown ca)"

# ---- GnuTLS server requiring a client certificate ----
P2=$(free_port)
start_bg gnutls-serv gnutls-serv --port "$P2" --x509certfile "$D/edge.test.chain.pem" \
	--x509keyfile "$D/edge.test.key" --x509cafile "$D/ca.pem" \
	--require-client-cert --verify-client-cert
wait_port "$P2"
gget() {
	local want=$1
	shift
	expect_rc "$want" bash -c 'printf "GET / HTTP/1.0\r\n\r\n" | exec gnutls-cli "$@"' _ \
		--port "$P2" --x509cafile "$D/ca.pem" --verify-hostname edge.test "$@" 127.0.0.1
}
gget 0 --x509certfile "$D/client1.pem" --x509keyfile "$D/client1.key"
expect_contains "$OUT" "Successfully sent 1 certificate(s) to server."
expect_contains "$OUT" "HTTP/1.0 200 OK"
expect_contains "$OUT" "Subject: CN=client1"
gget 1
expect_contains "$OUT" "Certificate is required"
expect_not_contains "$OUT" "HTTP/1.0 200"
gget 1 --x509certfile "$T/other/client1.pem" --x509keyfile "$T/other/client1.key"
expect_not_contains "$OUT" "HTTP/1.0 200"
pass "gnutls-serv --require-client-cert: client1 accepted, none / other CA rejected"
