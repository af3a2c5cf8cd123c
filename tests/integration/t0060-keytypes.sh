#!/usr/bin/env bash
# t0060: every key type, for the CA and for leaves: verifies with OpenSSL
# and GnuTLS, inspect --json reports it, and TLS handshakes work with each
# leaf type (OpenSSL TLS 1.3 and 1.2, GnuTLS).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl certtool gnutls-serv gnutls-cli

TYPES="ecdsa-p256 ecdsa-p384 rsa-2048 rsa-3072 ed25519"
declare -A BITS=([ecdsa-p256]=256 [ecdsa-p384]=384 [rsa-2048]=2048 [rsa-3072]=3072 [ed25519]=256)
# what `openssl x509 -text` says about the public key
declare -A OSSL_PK=([ecdsa-p256]="NIST CURVE: P-256" [ecdsa-p384]="NIST CURVE: P-384"
	[rsa-2048]="Public-Key: (2048 bit)" [rsa-3072]="Public-Key: (3072 bit)"
	[ed25519]="Public Key Algorithm: ED25519")
# what the CA signs with
declare -A OSSL_SIG=([ecdsa-p256]="ecdsa-with-SHA256" [ecdsa-p384]="ecdsa-with-SHA384"
	[rsa-2048]="sha256WithRSAEncryption" [rsa-3072]="sha256WithRSAEncryption"
	[ed25519]="Signature Algorithm: ED25519")

# check_json JSON TYPE: key_type and key_bits of the first certificate
check_json() {
	expect_eq "$(json_str "$1" key_type)" "$2" "inspect --json key_type"
	expect_eq "$(json_raw "$1" key_bits)" "${BITS[$2]}" "inspect --json key_bits for $2"
}

for ca in $TYPES; do
	D=$T/ca-$ca
	ec 0 ca --dir "$D" --key "$ca"
	expect_contains "$STDOUT" "($ca, CN=edged CA"
	expect_rc 0 openssl x509 -in "$D/ca.pem" -noout -text
	expect_contains "$STDOUT" "${OSSL_PK[$ca]}"
	expect_contains "$STDOUT" "CA:TRUE"
	ec 0 inspect "$D/ca.pem" --json
	check_json "$STDOUT" "$ca"
	expect_eq "$(json_raw "$STDOUT" ca)" true "inspect --json ca for the CA"
	# again with the same type: no-op; the CA's type is checked
	ec 0 ca --dir "$D" --key "$ca"
	expect_contains "$STDOUT" "unchanged"
	for leaf in $TYPES; do
		ec 0 issue "$leaf.test" --dir "$D" --key "$leaf" --dns "$leaf.test"
		expect_eq "$(file_mode "$D/$leaf.test.key")" 600 "mode of $leaf.test.key"
		expect_rc 0 openssl verify -CAfile "$D/ca.pem" -purpose sslserver "$D/$leaf.test.pem"
		expect_contains "$STDOUT" "$leaf.test.pem: OK"
		expect_rc 0 certtool --verify --load-ca-certificate "$D/ca.pem" --infile "$D/$leaf.test.chain.pem"
		expect_contains "$STDOUT" "Chain verification output: Verified. The certificate is trusted."
		expect_rc 0 openssl x509 -in "$D/$leaf.test.pem" -noout -text
		expect_contains "$STDOUT" "${OSSL_PK[$leaf]}"
		expect_contains "$STDOUT" "${OSSL_SIG[$ca]}"
		if [[ $leaf == rsa-* ]]; then
			expect_contains "$STDOUT" "Digital Signature, Key Encipherment"
		else
			expect_not_contains "$STDOUT" "Key Encipherment"
		fi
		ec 0 inspect "$D/$leaf.test.pem" --json --dir "$D"
		check_json "$STDOUT" "$leaf"
		expect_eq "$(json_raw "$STDOUT" chains_to_ca)" true "chains_to_ca of $leaf under $ca"
		# the key file alone matches the certificate's public key
		expect_rc 0 openssl pkey -in "$D/$leaf.test.key" -pubout
		pub=$STDOUT
		expect_rc 0 openssl x509 -in "$D/$leaf.test.pem" -noout -pubkey
		expect_eq "$STDOUT" "$pub" "public key of $leaf.test.key under $ca CA"
		# same request again: unchanged (the key type comparison works)
		ec 0 issue "$leaf.test" --dir "$D" --key "$leaf" --dns "$leaf.test"
		expect_contains "$STDOUT" "unchanged"
	done
	pass "CA $ca: leaves of every type verify (openssl, certtool), inspect reports the type"
done

# inspect on key files names the algorithm and size
D=$T/ca-ecdsa-p256
declare -A KEY_ALG=([ecdsa-p256]="EC/ECDSA" [ecdsa-p384]="EC/ECDSA" [rsa-2048]="RSA"
	[rsa-3072]="RSA" [ed25519]="EdDSA (Ed25519)")
for leaf in $TYPES; do
	ec 0 inspect "$D/$leaf.test.key" --json
	expect_eq "$(json_str "$STDOUT" kind)" private_key "inspect kind of $leaf key"
	expect_eq "$(json_str "$STDOUT" algorithm)" "${KEY_ALG[$leaf]}" "inspect algorithm of $leaf key"
	expect_eq "$(json_raw "$STDOUT" key_bits)" "${BITS[$leaf]}" "inspect key_bits of $leaf key"
done
pass "inspect on each key file reports algorithm and size"

# handshakes with every leaf type (under the P-384 CA, and Ed25519 under
# the Ed25519 CA), with an OpenSSL and a GnuTLS server and client
handshake() { # DIR NAME: server logs are named after both
	local d=$1 n=$2 p
	local tag
	tag=$(basename "$d")-$n
	p=$(free_port)
	start_bg "s_server-$tag" openssl s_server -accept "127.0.0.1:$p" -cert "$d/$n.pem" \
		-cert_chain "$d/ca.pem" -key "$d/$n.key" -www
	wait_port "$p"
	for v in -tls1_3 -tls1_2; do
		expect_rc 0 openssl s_client -connect "127.0.0.1:$p" "$v" -servername "$n" \
			-verify_hostname "$n" -verify_return_error -CAfile "$d/ca.pem"
		expect_contains "$OUT" "Verify return code: 0 (ok)"
	done
	stop_bg "s_server-$tag"
	p=$(free_port)
	start_bg "gnutls-serv-$tag" gnutls-serv --port "$p" --x509certfile "$d/$n.chain.pem" \
		--x509keyfile "$d/$n.key" --disable-client-cert
	wait_port "$p"
	expect_rc 0 gnutls-cli --port "$p" --x509cafile "$d/ca.pem" --verify-hostname "$n" 127.0.0.1
	expect_contains "$OUT" "Status: The certificate is trusted."
	expect_contains "$OUT" "Handshake was completed"
	LAST_GNUTLS=$OUT
	stop_bg "gnutls-serv-$tag"
}
declare -A GNUTLS_SIG=([ecdsa-p256]="ECDSA-SECP256R1-SHA256" [ecdsa-p384]="ECDSA-SECP384R1-SHA384"
	[rsa-2048]="RSA-PSS-RSAE-SHA256" [rsa-3072]="RSA-PSS-RSAE-SHA256" [ed25519]="EdDSA-Ed25519")
for leaf in $TYPES; do
	handshake "$T/ca-ecdsa-p384" "$leaf.test"
	expect_contains "$LAST_GNUTLS" "${GNUTLS_SIG[$leaf]}"
	pass "TLS with a $leaf leaf: openssl 1.3 + 1.2, gnutls"
done
handshake "$T/ca-ed25519" ed25519.test
handshake "$T/ca-rsa-3072" ecdsa-p256.test
pass "TLS with an Ed25519 CA + leaf, and an RSA-3072 CA + P-256 leaf"
