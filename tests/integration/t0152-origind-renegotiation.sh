#!/usr/bin/env bash
# t0152: origind refuses TLS 1.2 renegotiation: a client-initiated
# renegotiation (openssl s_client's "R", gnutls-cli --rehandshake) never
# completes a second handshake and the connection ends; the server keeps
# serving other clients.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl gnutls-cli curl

mkdir -p "$T/www"
echo "still here" >"$T/www/index.html"
start_origind origind --docroot "$T/www" --connection-timeout 5s

# s_client over TLS 1.2; "R" on a line of its own asks it to renegotiate.
# stdin stays open 2 s so that the outcome is the server's, not an EOF.
# A completed renegotiation verifies the server's certificate a second
# time (a second "depth=0" line) and then ends with "DONE" at stdin's EOF.
RC=0
OUT=$( (sleep 0.3; printf 'R\n'; sleep 2) | timeout 10 openssl s_client -tls1_2 \
	-connect "127.0.0.1:$ORIGIN_PORT" -servername origin.test -CAfile "$T/pki/ca.pem" \
	-verify_return_error 2>&1) || RC=$?
[[ $RC -ne 124 ]] || fail "s_client timed out"
expect_contains "$OUT" "New, TLSv1.2"
expect_contains "$OUT" "RENEGOTIATING"
expect_eq "$(grep -c '^depth=0 CN = origin.test' <<<"$OUT")" 1 "handshakes (depth=0 lines) in the s_client output"
expect_not_contains "$OUT" "DONE"
pass "openssl s_client -tls1_2, R: no second handshake, the connection ends"

expect_eq "$(ocurl /)" "still here" "GET / after the renegotiation attempt"

expect_rc 1 gnutls-cli --rehandshake --port "$ORIGIN_PORT" --x509cafile "$T/pki/ca.pem" \
	--verify-hostname origin.test --sni-hostname origin.test \
	--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" 127.0.0.1
expect_contains "$OUT" "Handshake was completed"
expect_contains "$OUT" "ReHandshake has failed"
expect_not_contains "$OUT" "ReHandshake was completed"
pass "gnutls-cli --rehandshake over TLS 1.2: the rehandshake fails"

# other clients, and new connections, are still served
expect_eq "$(ocurl /)" "still here" "GET / after gnutls-cli --rehandshake"
expect_eq "$(ocurl --tlsv1.2 --tls-max 1.2 /)" "still here" "GET / over TLS 1.2 after the attempts"
pass "origind serves new connections (TLS 1.3 and 1.2) after both attempts"
