#!/usr/bin/env bash
# t0400: edged's settings and start-up errors.  Usage errors exit 2 and
# name the key (FILE:LINE in a config file); TLS material that cannot be
# used exits 1 or 2 naming the file; nothing listens after a failed
# start; --help lists the keys; the one-line form from the README works.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

cd "$T"
edge_pki
CERT=(--cert pki/edge.test.chain.pem --key pki/edge.test.key)
O=(--origin https://127.0.0.1:1)
P=$(free_port)

# ed WANT ARGS...: edged must exit WANT at once, nothing on stdout, and
# nothing listening on $P afterwards.
ed() {
	local want=$1
	shift
	expect_rc "$want" "$EDGED" --listen-https "127.0.0.1:$P" "$@"
	expect_eq "$STDOUT" "" "stdout of edged $*"
	expect_contains "$STDERR" "edged: "
	if (exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null; then
		fail "something listens on $P after a failed start: edged $*"
	fi
}

# ---- required keys and config files ----
ed 2 "${CERT[@]}"
expect_contains "$STDERR" "missing required --origin"
ed 2 "${O[@]}" --key pki/edge.test.key
expect_contains "$STDERR" "missing required --cert"
printf 'origin = https://127.0.0.1:1\norigin_timeout = 5s\n' >bad1.conf
ed 2 -c bad1.conf "${CERT[@]}"
expect_contains "$STDERR" "bad1.conf:2: unknown key 'origin_timeout'"
printf '\norigin = https://127.0.0.1:1\norigin_connection_attempts = 0\n' >bad2.conf
ed 2 -c bad2.conf "${CERT[@]}"
expect_contains "$STDERR" "bad2.conf:3: key 'origin_connection_attempts': '0' is out of range"
printf 'origin = https://127.0.0.1:1\nsecurity_policy = TLSv1.2_2099\n' >bad3.conf
ed 2 -c bad3.conf "${CERT[@]}"
expect_contains "$STDERR" "bad3.conf:2: key 'security_policy': 'TLSv1.2_2099' is not one of"
pass "missing --origin/--cert, unknown key, out-of-range and unknown enum values: exit 2, FILE:LINE"

# ---- origin URLs and policies ----
ed 2 "${CERT[@]}" --origin ftp://example.test
expect_contains "$STDERR" "key 'origin': 'ftp://example.test' is not an http:// or https:// URL"
ed 2 "${CERT[@]}" --origin https://
expect_contains "$STDERR" "key 'origin'"
ed 2 "${CERT[@]}" --origin 'https://example.test:70000'
expect_contains "$STDERR" "bad port"
ed 2 "${CERT[@]}" --origin 'https://user@example.test'
expect_contains "$STDERR" "no user info"
ed 2 "${CERT[@]}" --origin 'https://example.test/a/../b'
expect_contains "$STDERR" "path prefix"
ed 2 "${CERT[@]}" --origin http://127.0.0.1:1 --origin-protocol-policy https-only
expect_contains "$STDERR" "https-only"
ed 2 "${CERT[@]}" --origin https://127.0.0.1:1 --origin-failover 'gopher://x'
expect_contains "$STDERR" "key 'origin_failover'"
ed 2 "${CERT[@]}" "${O[@]}" --origin-client-cert pki/client.chain.pem
expect_contains "$STDERR" "'origin_client_cert' and 'origin_client_key' go together"
ed 2 "${CERT[@]}" "${O[@]}" --node-name 'two words'
expect_contains "$STDERR" "key 'node_name'"
pass "bad origin URLs (scheme, port, user info, dot-segments), http:// under https-only, lone client cert: exit 2"

# ---- TLS material ----
ed 1 "${O[@]}" --cert "$T/missing.pem" --key pki/edge.test.key
expect_contains "$STDERR" "$T/missing.pem"
ed 2 "${O[@]}" --cert pki/edge.test.chain.pem --key pki/alt.test.key
expect_contains "$STDERR" "pki/alt.test.key"
expect_contains "$STDERR" "does not belong"
ed 2 "${O[@]}" --cert pki/edge.test.chain.pem --key pki/edge.test.key --cert pki/alt.test.chain.pem
expect_contains "$STDERR" "2 certificate(s) but 1 key(s)"
ed 1 "${CERT[@]}" "${O[@]}" --origin-ca "$T/missing-ca.pem"
expect_contains "$STDERR" "$T/missing-ca.pem"
ed 2 "${CERT[@]}" "${O[@]}" --tls-priority 'NONE:+BOGUS-THING'
expect_contains "$STDERR" "key 'tls_priority'"
pass "missing cert, key of another cert, unpaired certs, missing origin CA, bad priority: named"

# ---- --help ----
expect_rc 0 "$EDGED" --help
HELP=$STDOUT
for k in listen-https listen-http viewer-protocol-policy security-policy tls-priority \
	origin origin-protocol-policy origin-ca origin-sni origin-min-tls origin-failover \
	origin-client-cert origin-client-key origin-connect-timeout origin-connection-attempts \
	origin-response-timeout origin-keepalive-timeout forward-host header-timeout; do
	expect_contains "$HELP" "--$k"
done
expect_contains "$HELP" "TLSv1.2_2021"
pass "--help lists every key (and the default security policy)"

# ---- the README's one line, in front of origind ----
start_www_origind origin
start_edged edge --origin "https://127.0.0.1:$ORIGIN_PORT" --origin-ca pki/ca.pem \
	--cert pki/edge.test.chain.pem --key pki/edge.test.key
body=$(ecurl /) || fail "GET / through the edge"
expect_eq "$body" "healthy" "GET / through edged"
pass "edged --origin URL --cert C --key K serves origind's content over HTTPS"
