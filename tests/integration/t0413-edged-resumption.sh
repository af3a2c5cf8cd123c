#!/usr/bin/env bash
# t0413: TLS session resumption on edged's viewer leg, by session tickets,
# TLS 1.2 and 1.3: openssl s_client -sess_out / -sess_in says "Reused" and
# the resumed connection carries a request (a saved session resumes more
# than once); gnutls-cli -r reports a resumed session; a ticket from another
# edged (another ticket key) gives a full handshake.  No 0-RTT: the tickets
# allow no early data ("Max Early Data: 0"), s_client -early_data does not
# get early data accepted, and the early request never reaches edged.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl gnutls-cli curl

start_www_origind origin
start_edged edge --log-level debug
REQ='GET / HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n'

# sc ARGS...: verified s_client to the edge; sends REQ and reads until the
# server closes; the request must be answered
sc() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_rc 0 bash -c 'printf "$0" | exec openssl s_client "$@"' "$REQ" \
		-connect "127.0.0.1:$EDGE_PORT" -servername edge.test \
		-verify_hostname edge.test -verify_return_error -CAfile "$T/pki/ca.pem" \
		-ign_eof "$@"
	expect_contains "$OUT" "HTTP/1.1 200 OK"
	expect_contains "$OUT" "healthy"
}

for v in 1.2 1.3; do
	flag="-tls${v/./_}"
	rm -f "$T/sess"
	sc "$flag" -sess_out "$T/sess"
	expect_contains "$OUT" "New, TLSv$v"
	[[ -s $T/sess ]] || fail "s_client wrote no session to $T/sess"
	SESS=$(openssl sess_id -in "$T/sess" -noout -text) || fail "openssl sess_id cannot read $T/sess"
	expect_contains "$SESS" "TLS session ticket:"
	expect_contains "$SESS" "Protocol  : TLSv$v"
	sc "$flag" -sess_in "$T/sess"
	expect_contains "$OUT" "Reused, TLSv$v"
	sc "$flag" -sess_in "$T/sess"
	expect_contains "$OUT" "Reused, TLSv$v"
	pass "TLS $v: the edge issues a ticket; s_client -sess_in resumes (Reused) twice, requests served"
done

for pr in "NORMAL:-VERS-ALL:+VERS-TLS1.3" "NORMAL:-VERS-ALL:+VERS-TLS1.2"; do
	expect_rc 0 gnutls-cli -r --port "$EDGE_PORT" --x509cafile "$T/pki/ca.pem" \
		--verify-hostname edge.test --sni-hostname edge.test --priority "$pr" 127.0.0.1
	expect_contains "$OUT" "Resume Handshake was completed"
	expect_contains "$OUT" "*** This is a resumed session"
done
pass "gnutls-cli -r: resumed session (TLS 1.3 and 1.2)"

# ---- no 0-RTT ----
rm -f "$T/sess"
sc -tls1_3 -sess_out "$T/sess"
SESS=$(openssl sess_id -in "$T/sess" -noout -text) || fail "openssl sess_id cannot read $T/sess"
expect_contains "$SESS" "Max Early Data: 0"
printf 'GET /early-data-marker HTTP/1.1\r\nHost: edge.test\r\n\r\n' >"$T/early"
sc -tls1_3 -sess_in "$T/sess" -early_data "$T/early"
expect_contains "$OUT" "Reused, TLSv1.3"
expect_match "$OUT" "Early data was (not sent|rejected)"
expect_not_contains "$OUT" "Early data was accepted"
# only the 1-RTT request was answered; the early one never reached edged
expect_eq "$(grep -c '^HTTP/1.1 ' <<<"$STDOUT")" 1 "answers on the 0-RTT attempt"
sleep 0.2
grep -q 'event=request .*method=GET target=/ status=200' "$T/edge.log" ||
	fail "edged's debug log does not show the served requests: $(_show "$(tail -n 5 "$T/edge.log")")"
if grep -q 'early-data-marker' "$T/edge.log"; then
	fail "the early-data request reached edged: $(grep 'early-data-marker' "$T/edge.log")"
fi
pass "no 0-RTT: tickets allow no early data, s_client -early_data not accepted, early request never seen"

# ---- a ticket from another edged (another ticket key) is not resumed ----
FIRST_PORT=$EDGE_PORT
start_edged other
OTHER_PORT=$EDGE_PORT
for v in 1.2 1.3; do
	flag="-tls${v/./_}"
	rm -f "$T/sess"
	EDGE_PORT=$OTHER_PORT
	sc "$flag" -sess_out "$T/sess"
	expect_contains "$OUT" "New, TLSv$v"
	EDGE_PORT=$FIRST_PORT
	sc "$flag" -sess_in "$T/sess"
	expect_contains "$OUT" "New, TLSv$v"
	expect_not_contains "$OUT" "Reused"
done
EDGE_PORT=$FIRST_PORT
ehealthy
pass "a ticket from another edged instance gives a full handshake (TLS 1.2 and 1.3)"
