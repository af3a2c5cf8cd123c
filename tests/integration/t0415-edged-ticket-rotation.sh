#!/usr/bin/env bash
# t0415: edged's session-ticket key rotates every ticket_key_rotation (4 s
# here): a ticket made under one key resumes after the next rotation (the
# previous key is still accepted) and gets a full handshake after the one
# after that (the key is wiped), TLS 1.2 and 1.3, with openssl s_client
# -sess_out / -sess_in.  The rotations are logged (ticket_key.rotated,
# previous_kept=yes); a rotation under 1 s or over 7 days is refused at
# start naming the key.  Steps that straddle a rotation are tried again
# (lib_tls.sh), so no step depends on the machine's speed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_tls.sh
. "$(dirname "$0")/lib_tls.sh"
need_tool openssl

TICKET_ROTATION=4s
start_www_origind origin
start_edged edge --ticket-key-rotation "$TICKET_ROTATION"
wait_log edge "event=ticket_key.rotated generation=1 previous_kept=no rotation_ms=4000"
ticket_rotation_check edge "$EDGE_PORT" edge.test
grep -q 'event=ticket_key.rotated generation=[0-9]* previous_kept=yes' "$T/edge.log" ||
	fail "no rotation logged with previous_kept=yes: $(_show "$(grep ticket_key "$T/edge.log")")"
ehealthy
pass "rotations logged (previous_kept=yes); edged still serves"

bad_start "ticket_key_rotation 500ms" "ticket-key-rotation" --ticket-key-rotation 500ms
bad_start "ticket_key_rotation 8d" "ticket-key-rotation" --ticket-key-rotation 8d
printf 'ticket_key_rotation = 0\n' >"$T/bad.conf"
bad_start "ticket_key_rotation = 0" "ticket_key_rotation" --config "$T/bad.conf"
pass "ticket_key_rotation below 1 s or above 7 days is refused at start, naming the key"
