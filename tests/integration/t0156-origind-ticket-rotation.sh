#!/usr/bin/env bash
# t0156: origind's session-ticket key rotates every ticket_key_rotation (4 s
# here): a ticket made under one key resumes after the next rotation (the
# previous key is still accepted) and gets a full handshake after the one
# after that, TLS 1.2 and 1.3, with openssl s_client -sess_out / -sess_in
# (lib_tls.sh); out-of-range values are refused at start naming the key.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_tls.sh
. "$(dirname "$0")/lib_tls.sh"
need_tool openssl

TICKET_ROTATION=4s
mkdir -p "$T/www"
echo healthy >"$T/www/index.html"
start_origind origind --docroot "$T/www" --ticket-key-rotation "$TICKET_ROTATION"
wait_log origind "event=ticket_key.rotated generation=1 previous_kept=no rotation_ms=4000"
ticket_rotation_check origind "$ORIGIN_PORT" origin.test
tls_get "$ORIGIN_PORT" origin.test /
expect_contains "$STDOUT" "healthy"

for v in 999ms 8d; do
	expect_rc 2 "$ORIGIND" --cert "$T/pki/origin.test.chain.pem" --key "$T/pki/origin.test.key" \
		--listen-https "127.0.0.1:$(free_port)" --ticket-key-rotation "$v"
	expect_contains "$STDERR" "ticket-key-rotation"
done
pass "ticket_key_rotation below 1 s or above 7 days is refused at start, naming the key"
