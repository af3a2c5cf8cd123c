#!/usr/bin/env bash
# t0153: TLS session resumption (session tickets) with origind, TLS 1.2
# and 1.3: openssl s_client -sess_out / -sess_in says "Reused", and
# GET /_origind/session over the resumed connection reports
# "resumed":true (false on the first connection); curl (TLS 1.3) and
# gnutls-cli -r resume too.
# (curl disables TLS 1.2 tickets and uses session IDs, which origind does
# not cache: TLS 1.2 is checked with s_client and gnutls-cli.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl gnutls-cli curl

start_origind origind --connection-timeout 5s
REQ='GET /_origind/session HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'

# session VERSION-FLAG SESS-FLAG: GET /_origind/session with s_client,
# reading until the server closes; the JSON body is in $JSON
session() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_rc 0 bash -c 'printf "$0" | exec openssl s_client "$@"' "$REQ" \
		-connect "127.0.0.1:$ORIGIN_PORT" -servername origin.test \
		-verify_hostname origin.test -verify_return_error -CAfile "$T/pki/ca.pem" \
		-ign_eof "$@"
	JSON=$(grep -o '{"tls_version".*}' <<<"$STDOUT" || true)
	[[ -n $JSON ]] || fail "no /_origind/session JSON in: $(_show "$OUT")"
	json_valid "$JSON"
}

for v in 1.2 1.3; do
	rm -f "$T/sess"
	session "-tls${v/./_}" -sess_out "$T/sess"
	expect_contains "$OUT" "New, TLSv$v"
	expect_eq "$(json_raw "$JSON" resumed)" false "resumed on the first TLS $v connection"
	expect_eq "$(json_str "$JSON" tls_version)" "TLSv$v" "tls_version"
	[[ -s $T/sess ]] || fail "s_client wrote no session to $T/sess"
	session "-tls${v/./_}" -sess_in "$T/sess"
	expect_contains "$OUT" "Reused, TLSv$v"
	expect_eq "$(json_raw "$JSON" resumed)" true "resumed on the second TLS $v connection"
	expect_eq "$(json_str "$JSON" tls_version)" "TLSv$v" "tls_version (resumed)"
	# the saved session can be used again (a fresh ticket each time)
	session "-tls${v/./_}" -sess_in "$T/sess"
	expect_contains "$OUT" "Reused, TLSv$v"
	pass "TLS $v: s_client -sess_in resumes (Reused), /_origind/session says resumed true (false before)"
done

# curl: two URLs in one invocation, the first connection closed by the
# server, so the second needs a new one and resumes from curl's cache
OUT=$(ocurl --tlsv1.3 -H "Connection: close" "https://origin.test:$ORIGIN_PORT/_origind/session" /_origind/session)
expect_contains "$OUT" '"resumed":false'
expect_contains "$OUT" '}{"tls_version":"TLSv1.3"'
expect_eq "$(grep -o '"resumed":[a-z]*' <<<"$OUT" | tr '\n' ' ')" '"resumed":false "resumed":true ' \
	"resumed of the two curl requests"
pass "curl, TLS 1.3, two URLs on two connections: the second is resumed"

for pr in "NORMAL:-VERS-ALL:+VERS-TLS1.3" "NORMAL:-VERS-ALL:+VERS-TLS1.2"; do
	expect_rc 0 gnutls-cli -r --port "$ORIGIN_PORT" --x509cafile "$T/pki/ca.pem" \
		--verify-hostname origin.test --sni-hostname origin.test --priority "$pr" 127.0.0.1
	expect_contains "$OUT" "*** This is a resumed session"
done
pass "gnutls-cli -r: resumed session (TLS 1.3 and 1.2)"

# a session from another origind (another ticket key) is not resumed
FIRST_PORT=$ORIGIN_PORT
start_origind other
rm -f "$T/sess"
session -tls1_3 -sess_out "$T/sess"
ORIGIN_PORT=$FIRST_PORT
session -tls1_3 -sess_in "$T/sess"
expect_contains "$OUT" "New, TLSv1.3"
expect_eq "$(json_raw "$JSON" resumed)" false "resumed with another server's ticket"
pass "a ticket from another origind instance gives a full handshake (resumed false)"
