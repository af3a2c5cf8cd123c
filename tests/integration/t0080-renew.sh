#!/usr/bin/env bash
# t0080: `edgecert renew` reissues exactly the leaves that are due (expiring
# within the window, expired, or no longer verifying under the CA), keeps
# names, usage, key type and validity length; --dry-run changes nothing;
# nothing due is exit 0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl

DAY=86400
# validity length in seconds of a certificate, from inspect --json
length_of() {
	local j nb na
	j=$("$EDGECERT" inspect "$1" --json) || fail "inspect $1 failed"
	nb=$(json_str "$j" not_before)
	na=$(json_str "$j" not_after)
	echo $(($(date -u -d "$na" +%s) - $(date -u -d "$nb" +%s)))
}
chain_ok() { # DIR NAME: chain file is leaf + ca.pem
	expect_eq "$(file_sha "$1/$2.chain.pem")" \
		"$(cat "$1/$2.pem" "$1/ca.pem" | sha256sum | cut -d' ' -f1)" "$2.chain.pem = $2.pem + ca.pem"
}

# ---- A: --days 10 is due within 30d, --days 365 is not ----
D=$T/a
ec 0 ca --dir "$D"
ec 0 issue short.test --dir "$D" --days 10 --key rsa-2048 --dns short.test --dns alt.short.test \
	--ip 10.0.0.1 --cn "Short Service"
ec 0 issue long.test --dir "$D" --days 365
short0=$(cert_serial "$D/short.test.pem")
long0=$(cert_serial "$D/long.test.pem")
shortkey0=$(file_sha "$D/short.test.key")
len0=$(length_of "$D/short.test.pem")

before=$(dir_state "$D")
ec 0 renew --dir "$D" --within 30d --dry-run
expect_contains "$STDOUT" "renew: short.test: expires on"
expect_contains "$STDOUT" "would reissue for 10 days (dry run)"
expect_not_contains "$STDOUT" "long.test"
expect_contains "$STDOUT" "1 due"
expect_eq "$(dir_state "$D")" "$before" "files after renew --dry-run"
pass "--dry-run names short.test only and changes nothing"

ec 0 renew --dir "$D" --within 30d
expect_contains "$STDOUT" "renew: short.test: expires on"
expect_contains "$STDOUT" "reissued"
expect_contains "$STDOUT" "(rsa-2048)"
expect_not_contains "$STDOUT" "long.test"
expect_contains "$STDOUT" "1 renewed, 0 failed, 2 checked"
short1=$(cert_serial "$D/short.test.pem")
expect_ne "$short1" "$short0" "short.test serial after renew"
expect_ne "$(file_sha "$D/short.test.key")" "$shortkey0" "short.test.key after renew (new key)"
expect_eq "$(cert_serial "$D/long.test.pem")" "$long0" "long.test serial after renew"
for f in long.test.pem long.test.key long.test.chain.pem ca.pem ca.key; do
	expect_eq "$(cd "$D" && sha256sum "$f")" "$(grep " ./$f\$" <<<"$before" | sed 's# \./# #')" "$f after renew"
done
pass "renew --within 30d: short.test reissued (new serial, new key), long.test untouched"

ec 0 inspect "$D/short.test.pem" --json --dir "$D"
expect_eq "$(json_str "$STDOUT" key_type)" rsa-2048 "key type after renew"
expect_eq "$(json_raw "$STDOUT" dns)" '["short.test","alt.short.test"]' "DNS names after renew"
expect_eq "$(json_raw "$STDOUT" ip)" '["10.0.0.1"]' "IPs after renew"
expect_eq "$(json_raw "$STDOUT" ext_key_usage)" '["serverAuth"]' "usage after renew"
expect_eq "$(json_str "$STDOUT" subject)" "CN=Short Service" "subject (--cn) after renew"
expect_eq "$(json_raw "$STDOUT" chains_to_ca)" true "chains_to_ca after renew"
expect_eq "$(length_of "$D/short.test.pem")" "$len0" "validity length (s) after renew"
expect_rc 0 openssl verify -CAfile "$D/ca.pem" -purpose sslserver "$D/short.test.pem"
expect_eq "$(file_mode "$D/short.test.key")" 600 "mode of renewed key"
chain_ok "$D" short.test
expect_rc 0 openssl pkey -in "$D/short.test.key" -pubout
pub=$STDOUT
expect_rc 0 openssl x509 -in "$D/short.test.pem" -noout -pubkey
expect_eq "$STDOUT" "$pub" "renewed key matches renewed certificate"
pass "renewed short.test keeps SANs, CN, key type, usage, validity length; verifies"

# Nothing due: a window shorter than what is left.  (The same 30d window
# would renew short.test again: it only ever lives 10 days; part B checks
# "nothing due" with an unchanged window.)
before=$(dir_state "$D")
ec 0 renew --dir "$D" --within 7d
expect_contains "$STDOUT" "renew: nothing due in $D (2 checked; next expiry short.test on"
expect_eq "$STDERR" "" "stderr of renew with nothing due"
expect_eq "$(dir_state "$D")" "$before" "files after renew with nothing due"
pass "renew --within 7d: nothing due, exit 0, nothing changed"

# ---- B: an aged certificate is renewed once; the next run has nothing due ----
D=$T/b
ec 0 ca --dir "$D"
ec 0 issue aged.test --dir "$D" --not-before "$(date -u -d '-25 days' +%F)" --days 30
ec 0 issue fresh.test --dir "$D"
aged0=$(cert_serial "$D/aged.test.pem")
ec 0 renew --dir "$D" --within 10d
expect_contains "$STDOUT" "renew: aged.test: expires on"
expect_contains "$STDOUT" "1 renewed, 0 failed, 2 checked"
expect_ne "$(cert_serial "$D/aged.test.pem")" "$aged0" "aged.test serial after renew"
# now valid for 30 days from (about) now
expect_rc 0 openssl x509 -in "$D/aged.test.pem" -noout -checkend $((29 * DAY))
expect_rc 1 openssl x509 -in "$D/aged.test.pem" -noout -checkend $((31 * DAY))
before=$(dir_state "$D")
ec 0 renew --dir "$D" --within 10d
expect_contains "$STDOUT" "nothing due"
expect_contains "$STDOUT" "2 checked"
expect_eq "$(dir_state "$D")" "$before" "files after the second renew"
ec 0 renew --dir "$D" --within 10d --dry-run
expect_contains "$STDOUT" "nothing due"
pass "aged cert (5 days left) renewed for 30 days; same window again: nothing due"

# ---- C: after `ca --force`, every leaf is due; expired and client leaves too ----
D=$T/c
ec 0 ca --dir "$D"
ec 0 issue ok.test --dir "$D" --days 365 --key ecdsa-p384
ec 0 issue client1 --dir "$D" --client --key ed25519
ec 0 issue old.test --dir "$D" --not-before 2020-01-01 --not-after 2020-02-01
ec 0 renew --dir "$D" --within 1d --dry-run
expect_contains "$STDOUT" "renew: old.test: expired on 2020-02-01; would reissue for 31 days"
expect_not_contains "$STDOUT" "ok.test"
ec 0 ca --dir "$D" --force
expect_contains "$STDOUT" "no longer verify"
expect_rc 2 openssl verify -CAfile "$D/ca.pem" "$D/ok.test.pem"
ec 0 renew --dir "$D" --within 1d
expect_contains "$STDOUT" "renew: ok.test: does not verify under the CA"
expect_contains "$STDOUT" "renew: client1: does not verify under the CA"
expect_contains "$STDOUT" "renew: old.test: expired on 2020-02-01"
expect_contains "$STDOUT" "3 renewed, 0 failed, 3 checked"
expect_rc 0 openssl verify -CAfile "$D/ca.pem" -purpose sslserver "$D/ok.test.pem" "$D/old.test.pem"
expect_rc 0 openssl verify -CAfile "$D/ca.pem" -purpose sslclient "$D/client1.pem"
expect_rc 2 openssl verify -CAfile "$D/ca.pem" -purpose sslserver "$D/client1.pem"
ec 0 inspect "$D/client1.pem" --json
expect_eq "$(json_str "$STDOUT" key_type)" ed25519 "client1 key type after renew"
expect_eq "$(json_raw "$STDOUT" ext_key_usage)" '["clientAuth"]' "client1 usage after renew"
ec 0 inspect "$D/ok.test.pem" --json
expect_eq "$(json_str "$STDOUT" key_type)" ecdsa-p384 "ok.test key type after renew"
ec 0 inspect "$D/old.test.pem" --json
expect_eq "$(json_raw "$STDOUT" expired)" false "old.test expired after renew"
for n in ok.test client1 old.test; do chain_ok "$D" "$n"; done
pass "after ca --force: all leaves renewed under the new CA (server, client, expired)"

# ---- D: a foreign leaf is skipped, a broken one fails (exit 1), others renewed ----
D=$T/d
ec 0 ca --dir "$D"
ec 0 ca --dir "$T/other" --cn "Other CA"
ec 0 issue foreign.test --dir "$T/other" --days 3
cp "$T/other"/foreign.test.* "$D/"
ec 0 issue due.test --dir "$D" --days 3
echo garbage >"$D/broken.pem"
echo garbage >"$D/broken.key"
foreign0=$(file_sha "$D/foreign.test.pem")
due0=$(cert_serial "$D/due.test.pem")
ec 1 renew --dir "$D" --within 30d
expect_contains "$STDERR" "$D/foreign.test.pem: not issued by $D/ca.pem; skipped"
expect_contains "$STDERR" "$D/broken.pem"
expect_contains "$STDERR" "1 certificate(s) could not be renewed"
expect_contains "$STDOUT" "renew: due.test: expires on"
expect_contains "$STDOUT" "1 renewed, 1 failed, 3 checked"
expect_ne "$(cert_serial "$D/due.test.pem")" "$due0" "due.test serial"
expect_eq "$(file_sha "$D/foreign.test.pem")" "$foreign0" "foreign.test.pem"
pass "foreign leaf skipped, broken leaf reported (exit 1), due.test still renewed"

# a directory with a CA and no leaves yet: nothing to do, exit 0, quietly
# (under UBSan this catches qsort(NULL, 0, ...) on the empty list)
ec 0 ca --dir "$T/noleaves"
ec 0 renew --dir "$T/noleaves"
expect_contains "$STDOUT" "renew: nothing due in $T/noleaves (0 checked)"
expect_eq "$STDERR" "" "stderr of renew in a directory without leaves"
pass "renew with no leaves: nothing due (0 checked), exit 0"

# hours work as a window too; renew needs an existing dir with a CA
ec 0 renew --dir "$T/b" --within 12h
expect_contains "$STDOUT" "nothing due"
ec 1 renew --dir "$T/nonexistent"
expect_contains "$STDERR" "$T/nonexistent"
mkdir "$T/empty"
ec 1 renew --dir "$T/empty"
expect_contains "$STDERR" "no CA in $T/empty"
pass "--within 12h; missing dir / missing CA: exit 1 naming the path"
