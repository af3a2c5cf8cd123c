#!/usr/bin/env bash
# t0100: `edgecert inspect`: text and JSON agree with OpenSSL (subject,
# SANs, serial, validity, SHA-256 fingerprint); chain files; --dir checks
# the chain (exit 1 for another CA); key files.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl

D=$T/pki
ec 0 ca --dir "$D" --cn "Inspect CA"
ec 0 issue edge.test --dir "$D" --dns edge.test --dns api.edge.test --ip 127.0.0.1 --ip 2001:db8::1 --days 90
ec 0 ca --dir "$T/other" --cn "Inspect CA" # same name, different key
L=$D/edge.test.pem

fp=$(openssl x509 -in "$L" -noout -fingerprint -sha256 | sed 's/^.*Fingerprint=//')
serial=$(cert_serial "$L" | tr 'A-F' 'a-f')
nb=$(date -u -d "$(openssl x509 -in "$L" -noout -startdate | sed 's/^notBefore=//')" +%Y-%m-%dT%H:%M:%SZ)
na=$(date -u -d "$(openssl x509 -in "$L" -noout -enddate | sed 's/^notAfter=//')" +%Y-%m-%dT%H:%M:%SZ)
expect_match "$fp" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$'

# ---- text ----
ec 0 inspect "$L"
txt=$STDOUT
expect_contains "$txt" "certificate 1 of 1"
expect_match "$txt" "subject: +CN=edge.test"
expect_match "$txt" "issuer: +CN=Inspect CA"
expect_match "$txt" "serial: +$serial"
expect_match "$txt" "not before: +$nb"
expect_match "$txt" "not after: +$na \((89|90) days left\)"
expect_match "$txt" "key: +ecdsa-p256, 256 bits"
expect_match "$txt" "ca: +no"
expect_match "$txt" "dns: +edge.test, api.edge.test"
expect_match "$txt" "ip: +127.0.0.1, 2001:db8::1"
expect_match "$txt" "key usage: +digitalSignature"
expect_match "$txt" "ext key usage: +serverAuth"
expect_match "$txt" "sha256: +$fp"
expect_eq "$STDERR" "" "stderr of inspect"
pass "text: subject, issuer, SANs, serial, dates, key, usage, fingerprint = openssl's"

# ---- JSON ----
ec 0 inspect "$L" --json
json=$STDOUT
json_valid "$json"
expect_eq "$(json_str "$json" file)" "$L" "json file"
expect_eq "$(json_str "$json" subject)" "CN=edge.test" "json subject"
expect_eq "$(json_str "$json" issuer)" "CN=Inspect CA" "json issuer"
expect_eq "$(json_str "$json" serial)" "$serial" "json serial"
expect_eq "$(json_str "$json" sha256_fingerprint)" "$fp" "json sha256_fingerprint"
expect_eq "$(json_str "$json" not_before)" "$nb" "json not_before"
expect_eq "$(json_str "$json" not_after)" "$na" "json not_after"
expect_eq "$(json_str "$json" key_type)" ecdsa-p256 "json key_type"
expect_eq "$(json_raw "$json" key_bits)" 256 "json key_bits"
expect_eq "$(json_raw "$json" ca)" false "json ca"
expect_eq "$(json_raw "$json" expired)" false "json expired"
expect_eq "$(json_raw "$json" dns)" '["edge.test","api.edge.test"]' "json dns"
expect_eq "$(json_raw "$json" ip)" '["127.0.0.1","2001:db8::1"]' "json ip"
expect_eq "$(json_raw "$json" ext_key_usage)" '["serverAuth"]' "json ext_key_usage"
expect_match "$(json_raw "$json" days_left)" '^(89|90)$'
expect_not_contains "$json" '"verify"'
if command -v python3 >/dev/null 2>&1; then
	# the structure, with a real parser
	printf '%s\n' "$json" >"$T/inspect.json"
	expect_rc 0 python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["certificates"]
assert len(c) == 1, c
assert c[0]["dns"] == ["edge.test", "api.edge.test"], c[0]["dns"]
assert c[0]["ip"] == ["127.0.0.1", "2001:db8::1"], c[0]["ip"]
assert c[0]["key_usage"] == ["digitalSignature"], c[0]["key_usage"]
assert c[0]["expired"] is False and c[0]["ca"] is False
print("structure ok")' "$T/inspect.json"
	expect_contains "$STDOUT" "structure ok"
else
	note "python3 not installed: JSON structure checked with grep only"
fi
pass "--json: valid, fields equal openssl's"

# ---- chain file, CA ----
ec 0 inspect "$D/edge.test.chain.pem"
expect_contains "$STDOUT" "certificate 1 of 2"
expect_contains "$STDOUT" "certificate 2 of 2"
expect_match "$STDOUT" "ca: +yes"
expect_match "$STDOUT" "key usage: +digitalSignature, keyCertSign, cRLSign"
ca_fp=$(openssl x509 -in "$D/ca.pem" -noout -fingerprint -sha256 | sed 's/^.*Fingerprint=//')
expect_contains "$STDOUT" "$ca_fp"
ec 0 inspect "$D/ca.pem" --json
expect_eq "$(json_raw "$STDOUT" ca)" true "json ca of ca.pem"
expect_eq "$(json_str "$STDOUT" subject)" "CN=Inspect CA" "json subject of ca.pem"
pass "chain file: both certificates; CA shows ca: yes and keyCertSign"

# ---- --dir: chains to the CA or not ----
ec 0 inspect "$L" --dir "$D"
expect_contains "$STDOUT" "chains to $D/ca.pem: yes"
ec 0 inspect "$D/edge.test.chain.pem" --dir "$D" --json
expect_eq "$(json_raw "$STDOUT" chains_to_ca)" true "chains_to_ca, own CA"
ec 1 inspect "$L" --dir "$T/other"
expect_contains "$STDOUT" "chains to $T/other/ca.pem: NO"
expect_contains "$STDERR" "$L does not chain to $T/other/ca.pem"
ec 1 inspect "$L" --dir "$T/other" --json
json_valid "$STDOUT"
expect_eq "$(json_raw "$STDOUT" chains_to_ca)" false "chains_to_ca, other CA"
expect_contains "$(json_str "$STDOUT" reason)" "NOT trusted"
expect_contains "$STDERR" "does not chain to"
ec 1 inspect "$L" --dir "$T/nowhere"
expect_contains "$STDERR" "$T/nowhere/ca.pem"
pass "--dir: own CA yes (exit 0); same-named other CA: exit 1, does not chain"

# ---- key files ----
# shellcheck disable=SC2016 # $1 is the inner shell's
expect_rc 0 bash -c 'openssl pkey -in "$1" -pubout -outform DER | sha256sum' _ "$D/edge.test.key"
keyid=${STDOUT%% *}
ec 0 inspect "$D/edge.test.key"
expect_contains "$STDOUT" "$D/edge.test.key: private key"
expect_match "$STDOUT" "algorithm: +EC/ECDSA, 256 bits"
expect_match "$STDOUT" "key id: +$keyid"
ec 0 inspect "$D/edge.test.key" --json
json_valid "$STDOUT"
expect_eq "$(json_str "$STDOUT" kind)" private_key "json kind of a key"
expect_eq "$(json_str "$STDOUT" key_id_sha256)" "$keyid" "json key_id_sha256 (sha256 of the SPKI)"
ec 0 inspect "$D/ca.key"
expect_contains "$STDOUT" "private key"
pass "key file: algorithm, size, key id = sha256 of its public key"

# ---- a certificate edgecert did not make ----
expect_rc 0 openssl req -x509 -newkey rsa:4096 -nodes -keyout "$T/foreign.key" -out "$T/foreign.pem" \
	-subj /CN=foreign -days 5 -addext "subjectAltName=DNS:foreign.test"
ec 0 inspect "$T/foreign.pem" --json
expect_eq "$(json_str "$STDOUT" key_type)" RSA "json key_type of an RSA-4096 certificate"
expect_eq "$(json_raw "$STDOUT" key_bits)" 4096 "json key_bits of an RSA-4096 certificate"
expect_eq "$(json_raw "$STDOUT" dns)" '["foreign.test"]' "json dns of a foreign certificate"
pass "a foreign RSA-4096 certificate: key_type RSA, 4096 bits"
