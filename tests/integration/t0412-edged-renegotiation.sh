#!/usr/bin/env bash
# t0412: edged refuses TLS 1.2 renegotiation on the viewer leg.  Over one
# openssl s_client -tls1_2 connection: a request is served, then "R" asks
# for a renegotiation: no second handshake completes, the connection ends
# and a request sent after it gets no answer.  gnutls-cli --rehandshake
# fails the same way.  A TLS 1.3 KeyUpdate (not a renegotiation) is
# accepted and the connection carries on.  New connections (TLS 1.3 and
# 1.2) are served afterwards.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl gnutls-cli curl

start_www_origind origin
start_edged edge
GET='GET / HTTP/1.1\r\nHost: edge.test\r\n\r\n'

# An interactive s_client session, without -ign_eof so that it reads
# commands ("R" renegotiates, "K" sends a KeyUpdate) from its stdin, a FIFO
# that stays open until sc_close, so that an end of the connection is the
# server's doing, never an EOF.
# sc_open NAME VERSION: start it (background process NAME, output in
# $T/NAME.log); sc_send TEXT: write TEXT (printf %b) to it; sc_seen NAME
# ERE N: wait (5 s) until its output has N lines matching ERE.
sc_open() {
	local fifo="$T/$1.in"
	mkfifo "$fifo"
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c 'exec openssl s_client "$@" <"$0"' "$fifo" "-$2" \
		-connect "127.0.0.1:$EDGE_PORT" -servername edge.test -verify_hostname edge.test \
		-CAfile "$T/pki/ca.pem" -verify_return_error
	exec {SCFD}>"$fifo"
}
sc_send() {
	# a subshell: if s_client has gone, its SIGPIPE ends only the subshell
	(printf '%b' "$1" >&"$SCFD") 2>/dev/null || true
}
sc_close() {
	exec {SCFD}>&-
}
sc_seen() {
	local n
	for ((n = 0; n < 50; n++)); do
		[[ $(grep -cE "$2" "$T/$1.log" 2>/dev/null) -ge $3 ]] && return 0
		sleep 0.1
	done
	fail "s_client $1: fewer than $3 lines matching /$2/ after 5 s: $(_show "$(grep -v '^[A-Za-z0-9+/=]*$' "$T/$1.log" | tail -n 30)")"
}

# ---- openssl s_client -tls1_2 + R ----
sc_open reneg tls1_2
sc_send "$GET"
sc_seen reneg '^healthy$' 1
sc_send 'R\n'
sleep 0.3
sc_send "$GET"
# s_client must end by itself (the server closed), stdin still open
wait_bg reneg 5
sc_close
OUT=$(<"$T/reneg.log")
expect_contains "$OUT" "New, TLSv1.2, Cipher is"
expect_contains "$OUT" "Secure Renegotiation IS supported"
expect_contains "$OUT" "RENEGOTIATING"
# the first request was served, on this connection
expect_eq "$(grep -c '^HTTP/1.1 200 OK' <<<"$OUT")" 1 "answers on the connection (before R only)"
expect_eq "$(grep -c '^healthy$' <<<"$OUT")" 1 "bodies on the connection"
# the renegotiation did not complete: one handshake (one depth=0 check of
# the server's certificate), and the server closed the connection ("DONE"
# is what s_client prints when it ends because of its stdin)
expect_eq "$(grep -c '^depth=0 CN = edge.test' <<<"$OUT")" 1 "handshakes (depth=0 lines)"
expect_contains "$OUT" "closed"
expect_not_contains "$OUT" "DONE"
# the RENEGOTIATING line comes after the first answer, and nothing after it
after=$(sed -n '/^RENEGOTIATING$/,$p' <<<"$OUT")
expect_not_contains "$after" "HTTP/1.1"
pass "openssl s_client -tls1_2: request served, R: no second handshake, connection closed, later request unanswered"

ehealthy

# ---- gnutls-cli --rehandshake ----
expect_rc 1 gnutls-cli --rehandshake --port "$EDGE_PORT" --x509cafile "$T/pki/ca.pem" \
	--verify-hostname edge.test --sni-hostname edge.test \
	--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" 127.0.0.1
expect_contains "$OUT" "Handshake was completed"
expect_contains "$OUT" "ReHandshake has failed"
expect_not_contains "$OUT" "ReHandshake was completed"
pass "gnutls-cli --rehandshake over TLS 1.2: the rehandshake fails"

# ---- control: TLS 1.3 KeyUpdate is not a renegotiation and must work ----
sc_open keyupdate tls1_3
sc_send "$GET"
sc_seen keyupdate '^healthy$' 1
sc_send 'K\n'
sleep 0.3 # s_client drops the rest of a read that holds a command
sc_send "$GET"
sc_seen keyupdate '^healthy$' 2
sc_send 'Q\n'
wait_bg keyupdate 5
sc_close
OUT=$(<"$T/keyupdate.log")
expect_contains "$OUT" "New, TLSv1.3, Cipher is"
expect_contains "$OUT" "KEYUPDATE"
expect_eq "$(grep -c '^HTTP/1.1 200 OK' <<<"$OUT")" 2 "answers on the TLS 1.3 connection (before and after K)"
expect_contains "$OUT" "DONE"
pass "TLS 1.3 KeyUpdate (s_client K): both requests on the connection served"

# ---- new connections are served ----
ehealthy
expect_eq "$(ecurl --tlsv1.2 --tls-max 1.2 /)" "healthy" "GET / over TLS 1.2 after the attempts"
kill -0 "$EDGE_PID" 2>/dev/null || fail "edged exited after the renegotiation attempts"
pass "edged serves new connections (TLS 1.3 and 1.2) after the renegotiation attempts"
