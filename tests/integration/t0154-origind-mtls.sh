#!/usr/bin/env bash
# t0154: mutual TLS (--client-ca): a request without a client certificate,
# with one from another CA, or with a server certificate (serverAuth only)
# gets 403 before any handler runs, and the log says why; edgecert's
# client certificate gets 200 over TLS 1.3 and 1.2, and /_origind/session
# shows client_verify SUCCESS with the client's and its issuer's DN.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl gnutls-cli

origind_pki
"$EDGECERT" ca --dir "$T/other" --cn "Other CA" >/dev/null
"$EDGECERT" issue client --dir "$T/other" --client >/dev/null
mkdir -p "$T/www"
echo "for clients only" >"$T/www/secret.txt"
start_origind origind --docroot "$T/www" --client-ca "$T/pki/ca.pem"
GOOD=(--cert "$T/pki/client.pem" --key "$T/pki/client.key")

# get WANT-STATUS [curl args...] PATH: the status and body, curl must work
get() {
	local want=$1
	shift
	CRC=0
	CODE=$(ocurl -o "$T/body" -w '%{http_code}' "$@") || CRC=$?
	BODY=$(<"$T/body")
	expect_eq "$CRC" 0 "curl's exit code for $*"
	expect_eq "$CODE" "$want" "status of $*"
}

get 403 /secret.txt
expect_contains "$BODY" "client certificate"
expect_not_contains "$BODY" "for clients only"
wait_log origind "event=client_cert.refused"
expect_contains "$(grep client_cert.refused "$T/origind.log")" "verify=NONE"
get 403 --tls-max 1.2 /secret.txt
pass "no client certificate: 403 (TLS 1.3 and 1.2), logged as client_cert.refused verify=NONE"

get 403 --cert "$T/other/client.pem" --key "$T/other/client.key" /secret.txt
expect_not_contains "$BODY" "for clients only"
wait_log origind "issuer is unknown"
pass "a client certificate from another CA: 403, logged (issuer is unknown)"

get 403 --cert "$T/pki/origin.test.pem" --key "$T/pki/origin.test.key" /secret.txt
expect_not_contains "$BODY" "for clients only"
wait_log origind "purpos"
pass "a server certificate (serverAuth only) as client certificate: 403, logged (purpose)"

# the refused requests never reached a handler: not even counted
get 200 "${GOOD[@]}" /_origind/stats
json_valid "$BODY"
expect_not_contains "$BODY" "secret.txt"
expect_eq "$(json_raw "$BODY" requests)" 1 "requests counted (only this one)"
pass "refused requests reached no handler (stats count none of them)"

get 200 "${GOOD[@]}" /secret.txt
expect_eq "$BODY" "for clients only" "body with edgecert's client certificate"
get 200 "${GOOD[@]}" --tls-max 1.2 /secret.txt
expect_eq "$BODY" "for clients only" "body with the client certificate over TLS 1.2"
pass "edgecert's client certificate: 200 (TLS 1.3 and 1.2)"

for v in "" "--tls-max 1.2"; do
	# shellcheck disable=SC2086 # $v is one flag pair or nothing
	get 200 "${GOOD[@]}" $v /_origind/session
	json_valid "$BODY"
	expect_eq "$(json_str "$BODY" client_verify)" SUCCESS "client_verify ($v)"
	expect_eq "$(json_str "$BODY" client_s_dn)" "CN=client" "client_s_dn ($v)"
	expect_eq "$(json_str "$BODY" client_i_dn)" "CN=edged CA" "client_i_dn ($v)"
done
pass "/_origind/session: client_verify SUCCESS, client_s_dn CN=client, client_i_dn CN=edged CA"

expect_rc 0 bash -c 'printf "GET /secret.txt HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n" |
	exec gnutls-cli "$@"' _ --port "$ORIGIN_PORT" --x509cafile "$T/pki/ca.pem" \
	--verify-hostname origin.test --x509certfile "$T/pki/client.pem" \
	--x509keyfile "$T/pki/client.key" 127.0.0.1
expect_contains "$OUT" "HTTP/1.1 200 OK"
expect_contains "$OUT" "for clients only"
expect_rc 0 bash -c 'printf "GET /secret.txt HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n" |
	exec gnutls-cli "$@"' _ --port "$ORIGIN_PORT" --x509cafile "$T/pki/ca.pem" \
	--verify-hostname origin.test 127.0.0.1
expect_contains "$OUT" "HTTP/1.1 403 Forbidden"
expect_not_contains "$OUT" "for clients only"
pass "gnutls-cli: 200 with the client certificate, 403 without"
