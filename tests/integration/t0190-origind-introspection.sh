#!/usr/bin/env bash
# t0190: introspection: GET /_origind/stats counts requests per path
# (refused requests reach no handler and are not counted);
# GET /_origind/session reports this connection's TLS facts: tls_version
# TLSv1.3 / TLSv1.2, the cipher negotiated, the SNI name sent ("" without
# one), remote address and port.  Both only with --introspection: off by
# default (and with --no-introspection) they are ordinary paths: 404, or
# the docroot's own file of that name.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl openssl

W=$T/www
mkdir -p "$W"
echo a >"$W/a"
echo b >"$W/b"
start_origind origind --docroot "$W" --connection-timeout 3s

# ---- stats ----
for p in /a /b /a /missing; do
	ocurl -o /dev/null "$p"
done
# a refused request is not counted
printf 'TRACE /a HTTP/1.1\r\nHost: origin.test\r\n\r\n' | timeout 8 openssl s_client -quiet \
	-ign_eof -connect "127.0.0.1:$ORIGIN_PORT" -servername origin.test \
	-CAfile "$T/pki/ca.pem" >/dev/null 2>&1 || true
S=$(ocurl /_origind/stats)
json_valid "$S"
expect_eq "$(json_raw "$S" /a)" 2 "stats count of /a"
expect_eq "$(json_raw "$S" /b)" 1 "stats count of /b"
expect_eq "$(json_raw "$S" /missing)" 1 "stats count of /missing"
expect_eq "$(json_raw "$S" /_origind/stats)" 1 "stats count of /_origind/stats"
expect_eq "$(json_raw "$S" requests)" 5 "stats requests (4 + this one; not the TRACE)"
ocurl -o /dev/null /b
S=$(ocurl /_origind/stats)
expect_eq "$(json_raw "$S" /a)" 2 "stats count of /a, later"
expect_eq "$(json_raw "$S" /b)" 2 "stats count of /b after one more"
expect_eq "$(json_raw "$S" requests)" 7 "stats requests, later"
pass "stats: /a 2, /b 1 (then 2), /missing 1; totals; the refused TRACE not counted"

# ---- session ----
J=$(ocurl -o "$T/s.json" -w '%{local_port}' /_origind/session)
LPORT=$J
J=$(<"$T/s.json")
json_valid "$J"
expect_eq "$(json_str "$J" tls_version)" TLSv1.3 tls_version
expect_match "$(json_str "$J" cipher)" '^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$'
expect_eq "$(json_str "$J" sni)" origin.test sni
expect_eq "$(json_str "$J" remote_addr)" 127.0.0.1 remote_addr
expect_eq "$(json_raw "$J" remote_port)" "$LPORT" "remote_port (curl's local port)"
expect_eq "$(json_raw "$J" resumed)" false resumed
expect_eq "$(json_str "$J" client_verify)" NONE client_verify
expect_eq "$(json_str "$J" client_s_dn)" "" client_s_dn
expect_match "$(json_str "$J" server)" '^origind/[0-9]'
pass "session (curl, TLS 1.3): tls_version, cipher, sni origin.test, remote_addr/port, resumed false, no client cert"

J=$(ocurl --tls-max 1.2 /_origind/session)
expect_eq "$(json_str "$J" tls_version)" TLSv1.2 "tls_version with --tls-max 1.2"
expect_match "$(json_str "$J" cipher)" '^TLS_ECDHE_ECDSA_WITH_'
pass "session (curl, TLS 1.2): tls_version TLSv1.2, an ECDHE-ECDSA cipher"

# the cipher is the one negotiated: force one per version with s_client
# sess_cipher VERSION-FLAG CIPHER-FLAG CIPHER WANT-VERSION WANT-CIPHER
sess_cipher() {
	expect_rc 0 bash -c 'printf "GET /_origind/session HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n" |
		exec openssl s_client -quiet -ign_eof "$@"' _ -connect "127.0.0.1:$ORIGIN_PORT" \
		-servername origin.test -CAfile "$T/pki/ca.pem" "$1" "$2" "$3"
	J=$(grep -o '{"tls_version".*}' <<<"$STDOUT" || true)
	expect_eq "$(json_str "$J" tls_version)" "$4" "tls_version with $3"
	expect_eq "$(json_str "$J" cipher)" "$5" "cipher with $3"
}
sess_cipher -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 TLSv1.3 TLS_AES_128_GCM_SHA256
sess_cipher -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 TLSv1.3 TLS_CHACHA20_POLY1305_SHA256
sess_cipher -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
sess_cipher -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305 TLSv1.2 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
pass "session cipher is the negotiated one (2 TLS 1.3 and 2 TLS 1.2 suites forced)"

# the SNI is the name sent: another name (unverified), an IP (no SNI)
J=$(timeout "$CMD_TIMEOUT" curl -sS -k --resolve "other.name.test:$ORIGIN_PORT:127.0.0.1" \
	"https://other.name.test:$ORIGIN_PORT/_origind/session")
expect_eq "$(json_str "$J" sni)" other.name.test "sni when other.name.test is sent"
J=$(timeout "$CMD_TIMEOUT" curl -sS --cacert "$T/pki/ca.pem" "https://127.0.0.1:$ORIGIN_PORT/_origind/session")
expect_contains "$J" '"sni":""'
expect_eq "$(json_str "$J" remote_addr)" 127.0.0.1 "remote_addr without SNI"
pass "sni is the name the client sent (other.name.test), empty for an IP URL"

# ---- off by default ----
ORIGIND_DEFAULTS=1 start_origind dflt --docroot "$W"
for p in /_origind/session /_origind/stats /_origind/; do
	code=$(ocurl -o "$T/body" -w '%{http_code}' "$p")
	expect_eq "$code" 404 "status of $p by default"
	expect_not_contains "$(<"$T/body")" "tls_version"
	expect_not_contains "$(<"$T/body")" "requests"
done
mkdir -p "$W/_origind"
echo "the docroot's own stats file" >"$W/_origind/stats"
expect_eq "$(ocurl /_origind/stats)" "the docroot's own stats file" "GET /_origind/stats by default, with such a file"
rm -r "${W:?}/_origind"
expect_contains "$(<"$T/dflt.log")" "introspection=off"
pass "introspection off by default: /_origind/session and /_origind/stats are ordinary paths (404, or the docroot's file)"

# ---- --no-introspection ----
start_origind off --docroot "$W" --no-introspection
for p in /_origind/session /_origind/stats; do
	code=$(ocurl -o "$T/body" -w '%{http_code}' "$p")
	expect_eq "$code" 404 "status of $p with --no-introspection"
	expect_not_contains "$(<"$T/body")" "tls_version"
	expect_not_contains "$(<"$T/body")" "requests"
done
expect_eq "$(ocurl /a)" a "GET /a with --no-introspection"
start_origind bare --no-introspection
code=$(ocurl -o /dev/null -w '%{http_code}' /_origind/session)
expect_eq "$code" 404 "status of /_origind/session with --no-introspection and no docroot"
pass "--no-introspection: /_origind/session and /_origind/stats 404 (with and without docroot)"
