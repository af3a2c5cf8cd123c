#!/usr/bin/env bash
# t0411: edged picks the viewer certificate by SNI.  With the pairs
# edge.test (first) and alt.test (DNS alt.test, *.alt.test): SNI edge.test
# gets edge.test, alt.test and ALT.TEST get alt.test, www.alt.test gets
# alt.test (the wildcard), a.b.alt.test does not (a wildcard covers one
# label) and gets the first pair, as do unknown.test and a handshake with
# no SNI; the same under TLS 1.2 and 1.3.  curl verifies https://alt.test
# and https://www.alt.test through the edge.  With the pairs the other way
# round, the first pair (alt.test) is the default.  Every DNS name of a
# certificate counts, also past the 64th; an exact name beats a wildcard.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl

start_www_origind origin
edge_pki
cd "$T"

fpr() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'; }
FP_EDGE=$(fpr pki/edge.test.pem)
FP_ALT=$(fpr pki/alt.test.pem)
expect_ne "$FP_EDGE" "$FP_ALT" "fingerprints of edge.test and alt.test"

# served VERSION SNI: the leaf certificate the edge presents for SNI ("-":
# none); its fingerprint in $FP, its subject and SANs in $LEAF.  The chain
# must verify against the test CA (the hostname is not checked here).
served() {
	local v=$1 sni=$2 pem
	local sniarg=(-servername "$sni")
	[[ $sni != - ]] || sniarg=(-noservername)
	expect_rc 0 openssl s_client "-$v" -connect "127.0.0.1:$EDGE_PORT" "${sniarg[@]}" \
		-CAfile pki/ca.pem -verify_return_error
	expect_contains "$OUT" "Verify return code: 0 (ok)"
	pem=$(sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p' <<<"$STDOUT")
	[[ -n $pem ]] || fail "no server certificate in the s_client output for SNI $sni: $(_show "$OUT")"
	FP=$(openssl x509 -noout -fingerprint -sha256 <<<"$pem" | sed 's/^.*=//')
	LEAF=$(openssl x509 -noout -subject -ext subjectAltName <<<"$pem")
}

# expect_leaf VERSION SNI edge|alt
expect_leaf() {
	served "$1" "$2"
	case $3 in
	edge)
		expect_eq "$FP" "$FP_EDGE" "$1, SNI $2: certificate fingerprint (want edge.test)"
		expect_contains "$LEAF" "subject=CN = edge.test"
		expect_contains "$LEAF" "DNS:edge.test"
		;;
	alt)
		expect_eq "$FP" "$FP_ALT" "$1, SNI $2: certificate fingerprint (want alt.test)"
		expect_contains "$LEAF" "subject=CN = alt.test"
		expect_contains "$LEAF" "DNS:*.alt.test"
		;;
	*) fail "test bug: expect_leaf $3" ;;
	esac
}

start_edged edge --cert pki/edge.test.chain.pem --key pki/edge.test.key \
	--cert pki/alt.test.chain.pem --key pki/alt.test.key
wait_log edge "file=pki/alt.test.chain.pem names=2 first=alt.test default=no"
for v in tls1_3 tls1_2; do
	expect_leaf "$v" edge.test edge
	expect_leaf "$v" www.edge.test edge
	expect_leaf "$v" alt.test alt
	expect_leaf "$v" ALT.TEST alt
	expect_leaf "$v" www.alt.test alt
	expect_leaf "$v" a.b.alt.test edge
	expect_leaf "$v" unknown.test edge
	expect_leaf "$v" - edge
done
pass "SNI: edge.test, alt.test (any case), *.alt.test for one label only; unknown or no SNI: the first pair (TLS 1.3 and 1.2)"

# ---- curl verifies the chosen certificate, end to end ----
for host in alt.test www.alt.test edge.test; do
	body=$(timeout "$CMD_TIMEOUT" curl -sS --cacert pki/ca.pem \
		--resolve "$host:$EDGE_PORT:127.0.0.1" "https://$host:$EDGE_PORT/") ||
		fail "curl https://$host:$EDGE_PORT/ through the edge failed"
	expect_eq "$body" "healthy" "GET https://$host/ through the edge"
done
# two labels under the wildcard: the default certificate, which does not
# name it, so a verifying client refuses
expect_rc 60 curl -sS --cacert pki/ca.pem --resolve "a.b.alt.test:$EDGE_PORT:127.0.0.1" \
	"https://a.b.alt.test:$EDGE_PORT/"
expect_not_contains "$OUT" "healthy"
pass "curl verifies https://alt.test, https://www.alt.test and https://edge.test; a.b.alt.test does not verify"

# ---- the first pair is the default, whichever it is ----
stop_bg edge
start_edged altfirst --cert pki/alt.test.chain.pem --key pki/alt.test.key \
	--cert pki/edge.test.chain.pem --key pki/edge.test.key
expect_leaf tls1_3 unknown.test alt
expect_leaf tls1_3 - alt
expect_leaf tls1_3 edge.test edge
expect_leaf tls1_3 www.alt.test alt
pass "with alt.test given first, unknown and missing SNI get alt.test; edge.test still gets edge.test"
stop_bg altfirst

# ---- a certificate with 70 DNS names: each of them selects it ----
dns=()
for i in $(seq 1 70); do dns+=(--dns "n$i.many.test"); done
"$EDGECERT" issue many.test --dir pki "${dns[@]}" >/dev/null || fail "edgecert issue many.test failed"
FP_MANY=$(fpr pki/many.test.pem)
start_edged many --cert pki/edge.test.chain.pem --key pki/edge.test.key \
	--cert pki/many.test.chain.pem --key pki/many.test.key
for n in 1 64 65 70; do
	served tls1_3 "n$n.many.test"
	# (names past the 64th were once dropped at load: edg_tls.c MAX_NAMES)
	expect_eq "$FP" "$FP_MANY" "SNI n$n.many.test (name $n of 70): certificate (want many.test)"
done
wait_log many "file=pki/many.test.chain.pem names=70 "
pass "the 1st, 64th, 65th and 70th DNS names of a 70-name certificate select it"
stop_bg many

# ---- an exact name beats a wildcard, whatever the order of the pairs ----
"$EDGECERT" issue www.alt.test --dir pki --dns www.alt.test >/dev/null ||
	fail "edgecert issue www.alt.test failed"
FP_WWW=$(fpr pki/www.alt.test.pem)
start_edged exact --cert pki/alt.test.chain.pem --key pki/alt.test.key \
	--cert pki/www.alt.test.chain.pem --key pki/www.alt.test.key
served tls1_3 www.alt.test
expect_eq "$FP" "$FP_WWW" "SNI www.alt.test with *.alt.test given first: certificate (want www.alt.test)"
served tls1_3 ftp.alt.test
expect_eq "$FP" "$FP_ALT" "SNI ftp.alt.test: certificate (want the *.alt.test one)"
pass "an exact certificate name wins over an earlier pair's wildcard"
