#!/usr/bin/env bash
# t0050: --not-before/--not-after make expired (and not-yet-valid)
# certificates, and real TLS clients reject them for that reason.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl

D=$T/pki
ec 0 ca --dir "$D"
ec 0 issue old.test --dir "$D" --not-before 2020-01-01 --not-after 2020-02-01
expect_contains "$STDOUT" "until 2020-02-01"

expect_rc 0 openssl x509 -in "$D/old.test.pem" -noout -startdate -enddate
expect_contains "$STDOUT" "notBefore=Jan  1 00:00:00 2020 GMT"
expect_contains "$STDOUT" "notAfter=Feb  1 00:00:00 2020 GMT"
pass "validity is exactly 2020-01-01 .. 2020-02-01"

expect_rc 2 openssl verify -CAfile "$D/ca.pem" "$D/old.test.pem"
expect_contains "$OUT" "certificate has expired"
# with time checks off it verifies: expiry is the only thing wrong with it
# (-attime inside its window cannot work: the CA was created today)
expect_rc 0 openssl verify -no_check_time -CAfile "$D/ca.pem" "$D/old.test.pem"
pass "openssl verify: certificate has expired (and nothing else)"

ec 0 inspect "$D/old.test.pem" --json
expect_eq "$(json_raw "$STDOUT" expired)" true "inspect --json expired"
ec 0 inspect "$D/old.test.pem"
expect_contains "$STDOUT" "EXPIRED"
pass "inspect says EXPIRED"

P=$(free_port)
start_bg s_server openssl s_server -accept "127.0.0.1:$P" -cert "$D/old.test.pem" \
	-cert_chain "$D/ca.pem" -key "$D/old.test.key" -www
wait_port "$P"
expect_rc 1 openssl s_client -connect "127.0.0.1:$P" -servername old.test \
	-verify_hostname old.test -verify_return_error -CAfile "$D/ca.pem"
expect_contains "$OUT" "certificate has expired"
expect_not_contains "$OUT" "Verify return code: 0 (ok)"
pass "s_client -verify_return_error: rejected, certificate has expired"

if command -v gnutls-cli >/dev/null 2>&1; then
	expect_rc 1 gnutls-cli --port "$P" --x509cafile "$D/ca.pem" --verify-hostname old.test 127.0.0.1
	expect_contains "$OUT" "NOT trusted"
	expect_contains "$OUT" "expired"
	pass "gnutls-cli: rejected, expired"
fi

# not yet valid: starts in the future
ec 0 issue future.test --dir "$D" --not-before 2030-01-01 --days 30
expect_rc 2 openssl verify -CAfile "$D/ca.pem" "$D/future.test.pem"
expect_contains "$OUT" "certificate is not yet valid"
ec 0 inspect "$D/future.test.pem" --json
expect_eq "$(json_raw "$STDOUT" not_yet_valid)" true "inspect --json not_yet_valid"
expect_eq "$(json_str "$STDOUT" not_after)" "2030-01-31T00:00:00Z" "not_after of --not-before 2030-01-01 --days 30"
pass "--not-before in the future: not yet valid, --days counts from it"

# an expired certificate is not "valid": issuing it again reissues it
s1=$(cert_serial "$D/old.test.pem")
ec 0 issue old.test --dir "$D" --not-before 2020-01-01 --not-after 2020-02-01
expect_contains "$STDOUT" "wrote"
expect_ne "$(cert_serial "$D/old.test.pem")" "$s1" "serial of re-issued expired cert"
pass "issue over an expired certificate reissues it"
