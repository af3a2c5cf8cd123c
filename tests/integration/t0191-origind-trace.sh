#!/usr/bin/env bash
# t0191: --trace logs each request's three steps, in order, with one id:
# step=decrypt (tls=, cipher=, sni=, peer=), step=process (handler=static,
# status=200, ms=), step=encrypt (bytes= the body size sent, result=ok);
# a range, a HEAD and a refused request show their own facts; without
# --trace there are no trace lines.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl openssl

W=$T/www
mkdir -p "$W"
head -c 12345 /dev/urandom >"$W/page.bin"
start_origind origind --docroot "$W" --trace

# trace_of ID: the trace lines of request ID
trace_of() {
	grep "event=trace id=$1 " "$T/origind.log" || true
}
# field LINE KEY: the value of KEY= in a log line
field() {
	sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<"$1"
}
# last_id: the id of the newest step=decrypt line
last_id() {
	grep 'event=trace .*step=decrypt' "$T/origind.log" | tail -n 1 | sed 's/.* id=\([^ ]*\) .*/\1/'
}
# steps ID: wait for ID's encrypt line; DEC, PROC, ENC: its three lines
steps() {
	local n
	for n in $(seq 1 50); do
		trace_of "$1" | grep -q step=encrypt && break
		sleep 0.1
	done
	[[ $(trace_of "$1" | wc -l) -eq 3 ]] || fail "request $1 has not 3 trace lines: $(_show "$(trace_of "$1")")"
	DEC=$(trace_of "$1" | sed -n 1p)
	PROC=$(trace_of "$1" | sed -n 2p)
	ENC=$(trace_of "$1" | sed -n 3p)
	expect_contains "$DEC" "step=decrypt"
	expect_contains "$PROC" "step=process"
	expect_contains "$ENC" "step=encrypt"
}

LPORT=$(ocurl -o "$T/out" -w '%{local_port}' /page.bin)
ID=$(last_id)
[[ -n $ID ]] || fail "no step=decrypt line in the log: $(_show "$(cat "$T/origind.log")")"
steps "$ID"
expect_eq "$(field "$DEC" tls)" TLSv1.3 "decrypt tls="
expect_match "$(field "$DEC" cipher)" '^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$'
expect_eq "$(field "$DEC" sni)" origin.test "decrypt sni="
expect_eq "$(field "$DEC" peer)" "127.0.0.1:$LPORT" "decrypt peer="
expect_eq "$(field "$DEC" resumed)" no "decrypt resumed="
expect_eq "$(field "$PROC" handler)" static "process handler="
expect_eq "$(field "$PROC" method)" GET "process method="
expect_eq "$(field "$PROC" path)" /page.bin "process path="
expect_eq "$(field "$PROC" status)" 200 "process status="
expect_match "$(field "$PROC" ms)" '^[0-9]+\.[0-9]+$'
expect_eq "$(field "$ENC" bytes)" 12345 "encrypt bytes= (the file's size)"
expect_eq "$(field "$ENC" result)" ok "encrypt result="
expect_match "$(field "$ENC" ms)" '^[0-9]+\.[0-9]+$'
pass "GET /page.bin: decrypt (TLSv1.3, cipher, sni, peer), process (static 200 ms=), encrypt (bytes=12345) with id $ID"

ocurl --tls-max 1.2 -o /dev/null -r 100-199 /page.bin
ID2=$(last_id)
expect_ne "$ID2" "$ID" "ids of two requests"
steps "$ID2"
expect_eq "$(field "$DEC" tls)" TLSv1.2 "decrypt tls= over TLS 1.2"
expect_match "$(field "$DEC" cipher)" '^TLS_ECDHE_ECDSA_WITH_'
expect_eq "$(field "$PROC" status)" 206 "process status= of a range"
expect_eq "$(field "$ENC" bytes)" 100 "encrypt bytes= of a 100-byte range"
ocurl -I -o /dev/null /page.bin
ID3=$(last_id)
steps "$ID3"
expect_eq "$(field "$PROC" method)" HEAD "process method= of HEAD"
expect_eq "$(field "$ENC" bytes)" 0 "encrypt bytes= of HEAD"
body=$(ocurl /_origind/session)
ID4=$(last_id)
steps "$ID4"
expect_eq "$(field "$PROC" handler)" internal "process handler= of /_origind/session"
expect_eq "$(field "$ENC" bytes)" "${#body}" "encrypt bytes= of /_origind/session"
pass "TLS 1.2 range (206, bytes=100), HEAD (bytes=0), /_origind/session (internal, bytes = body): own ids"

printf 'TRACE /page.bin HTTP/1.1\r\nHost: origin.test\r\n\r\n' | timeout 8 openssl s_client -quiet \
	-ign_eof -connect "127.0.0.1:$ORIGIN_PORT" -servername origin.test \
	-CAfile "$T/pki/ca.pem" >"$T/raw" 2>/dev/null || true
ID5=$(last_id)
steps "$ID5"
expect_eq "$(field "$PROC" status)" 405 "process status= of TRACE"
expect_eq "$(field "$PROC" handler)" internal "process handler= of TRACE"
expect_contains "$(grep "event=request.refused id=$ID5 " "$T/origind.log")" "status=405"
pass "refused TRACE: request.refused and the three steps (internal, 405) under its id"

# without --trace: no trace lines
start_origind quiet --docroot "$W"
ocurl -o /dev/null /page.bin
sleep 0.2
[[ $(grep -c 'event=trace' "$T/quiet.log") -eq 0 ]] || fail "trace lines without --trace"
pass "without --trace: no trace lines"
