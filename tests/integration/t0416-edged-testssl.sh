#!/usr/bin/env bash
# t0416: testssl.sh against edged under its default policy (TLSv1.2_2021):
# no protocol below TLS 1.2, no CBC (or NULL, export, RC4, 3DES) suite,
# forward secrecy and AEAD for every suite it finds, the server's cipher
# order, client-initiated renegotiation refused, every vulnerability check
# "OK", no finding rated LOW or worse (lib_tls.sh testssl_assert, on the
# JSON output).  Long (a minute or more): release suite only.
# timeout: 600
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
release_only "testssl.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_tls.sh
. "$(dirname "$0")/lib_tls.sh"
need_tool testssl jq openssl

start_www_origind origin
start_edged edge
testssl_scan "$EDGE_PORT" edge.test
testssl_assert "$EDGE_PORT" edge.test
ehealthy
pass "testssl.sh: edged (TLSv1.2_2021) offers TLS 1.2/1.3 only, FS+AEAD suites only in its own order, refuses client renegotiation, no vulnerability flagged"
