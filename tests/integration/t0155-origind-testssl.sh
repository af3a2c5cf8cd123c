#!/usr/bin/env bash
# t0155: testssl.sh against origind's default priority: no protocol below
# TLS 1.2, no CBC (or NULL, export, RC4, 3DES) suite, forward secrecy and
# AEAD for every suite it finds, the server's cipher order, client-initiated
# renegotiation refused, every vulnerability check "OK", no finding rated
# LOW or worse (lib_tls.sh testssl_assert, on the JSON output).  Long (a
# minute or more): release suite only.
# timeout: 600
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
release_only "testssl.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_tls.sh
. "$(dirname "$0")/lib_tls.sh"
need_tool testssl jq openssl

mkdir -p "$T/www"
echo healthy >"$T/www/index.html"
start_origind origind --docroot "$T/www"
testssl_scan "$ORIGIN_PORT" origin.test
testssl_assert "$ORIGIN_PORT" origin.test
tls_get "$ORIGIN_PORT" origin.test /
expect_contains "$STDOUT" healthy
pass "testssl.sh: origind offers TLS 1.2/1.3 only, FS+AEAD suites only in its own order, refuses client renegotiation, no vulnerability flagged"
