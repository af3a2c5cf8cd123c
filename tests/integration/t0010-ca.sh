#!/usr/bin/env bash
# t0010: `edgecert ca` creates ca.pem + ca.key with the right modes and
# extensions; running it again changes nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl

D=$T/pki/sub # not there yet: ca creates it, parents included

ec 0 ca --dir "$D" --cn "Test Root"
expect_contains "$STDOUT" "created $D/ca.pem and $D/ca.key"
expect_contains "$STDOUT" "CN=Test Root"
expect_file "$D/ca.pem"
expect_file "$D/ca.key"
expect_eq "$(file_mode "$D/ca.key")" 600 "mode of ca.key"
expect_eq "$(file_mode "$D/ca.pem")" 644 "mode of ca.pem (umask is 077 here)"
[[ -d $D ]] || fail "$D not created"
expect_eq "$(find "$D" -name '*.tmp.*' | wc -l)" 0 "leftover temporary files"
pass "ca.pem 0644 and ca.key 0600 created"

expect_rc 0 openssl x509 -in "$D/ca.pem" -noout -text
text=$STDOUT
expect_contains "$text" "Subject: CN = Test Root"
expect_contains "$text" "Issuer: CN = Test Root"
expect_match "$text" "CA:TRUE"
expect_contains "$text" "pathlen:0"
expect_contains "$text" "Certificate Sign"
expect_contains "$text" "CRL Sign"
expect_contains "$text" "X509v3 Subject Key Identifier"
expect_contains "$text" "ecdsa-with-SHA256"
expect_contains "$text" "NIST CURVE: P-256"
pass "openssl shows CA:TRUE, pathlen:0, Certificate Sign, CRL Sign, P-256"

# the key is a plain PKCS#8 key that matches the certificate
expect_rc 0 openssl pkey -in "$D/ca.key" -pubout
keypub=$STDOUT
expect_rc 0 openssl x509 -in "$D/ca.pem" -noout -pubkey
expect_eq "$keypub" "$STDOUT" "public key of ca.key vs ca.pem"
expect_contains "$(head -n 1 "$D/ca.key")" "BEGIN PRIVATE KEY"
pass "ca.key is unencrypted PKCS#8 and belongs to ca.pem"

# self-signed and valid now
expect_rc 0 openssl verify -CAfile "$D/ca.pem" "$D/ca.pem"
expect_contains "$STDOUT" "OK"
expect_rc 0 openssl x509 -in "$D/ca.pem" -noout -checkend 0
# default validity 3650 days: still valid in 3640 days, not in 3660
expect_rc 0 openssl x509 -in "$D/ca.pem" -noout -checkend $((3640 * 86400))
expect_rc 1 openssl x509 -in "$D/ca.pem" -noout -checkend $((3660 * 86400))
pass "self-signed CA verifies, valid for ~3650 days"

# again: a no-op, byte for byte
before=$(dir_state "$D")
ec 0 ca --dir "$D" --cn "Test Root"
expect_contains "$STDOUT" "exists"
expect_contains "$STDOUT" "unchanged"
expect_eq "$(dir_state "$D")" "$before" "files after a second 'ca'"
pass "second 'ca' is a no-op (sha256 unchanged)"

# a different CN or key type for an existing CA is refused, not applied
ec 1 ca --dir "$D" --cn "Other Root"
expect_contains "$STDERR" "another name or key type"
expect_contains "$STDERR" "--force"
ec 1 ca --dir "$D" --cn "Test Root" --key rsa-2048
expect_contains "$STDERR" "another name or key type"
expect_eq "$(dir_state "$D")" "$before" "files after refused 'ca'"
pass "'ca' with another CN/key type refuses without --force"

# --force makes a new CA
ec 0 ca --dir "$D" --cn "Test Root" --force
expect_contains "$STDOUT" "created"
expect_ne "$(dir_state "$D")" "$before" "files after 'ca --force'"
expect_eq "$(file_mode "$D/ca.key")" 600 "mode of ca.key after --force"
pass "'ca --force' replaces the CA"
