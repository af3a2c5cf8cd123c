#!/usr/bin/env bash
# t0418: OCSP stapling from a file per certificate (ocsp_file, in the
# position of its cert).  Responses are made here with `openssl ocsp` as a
# responder (an index file, the edgecert CA as -rsigner; faketime for an
# outdated one).  A client that asks (s_client -status, TLS 1.2 and 1.3;
# gnutls-cli --ocsp) gets the response stapled, "good", for the pair its
# SNI picked; a pair given "-" staples nothing.  SIGHUP after the file was
# replaced staples the new response; a reload with a garbage or outdated
# file is refused naming the file and the old staple stays.  At start a
# garbage file, an outdated response, one about another certificate, a
# "revoked" one, one signed by another CA and a count that does not match
# the certificates are refused, naming the key and the file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl gnutls-cli faketime

start_www_origind origin
edge_pki
P=$T/pki

# resp NAME OUT [DAYS] [FAKETIME] [STATUS] [CADIR]: an OCSP response about
# $P/NAME.pem, good for DAYS (1; "1m": a minute), made at FAKETIME's offset
# (now), V (good) or R (revoked), signed by CADIR's CA ($P)
resp() {
	local name=$1 out=$2 days=${3:-1} when=${4:-} st=${5:-V} ca=${6:-$P} serial end rev=""
	serial=$(openssl x509 -in "$P/$name.pem" -noout -serial | cut -d= -f2)
	end=$(date -u -d "$(openssl x509 -in "$P/$name.pem" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
	[[ $st == R ]] && rev=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
	printf '%s\t%s\t%s\t%s\tunknown\t/CN=%s\n' "$st" "$end" "$rev" "$serial" "$name" >"$T/index.txt"
	openssl ocsp -issuer "$ca/ca.pem" -cert "$P/$name.pem" -no_nonce -reqout "$T/req.der" \
		>/dev/null 2>&1 || fail "openssl ocsp could not make a request for $name"
	${when:+faketime -f "$when"} openssl ocsp -index "$T/index.txt" -rsigner "$ca/ca.pem" \
		-rkey "$ca/ca.key" -CA "$ca/ca.pem" -reqin "$T/req.der" -respout "$out" \
		$([[ $days == *m ]] && echo "-nmin ${days%m}" || echo "-ndays $days") \
		>/dev/null 2>&1 || fail "openssl ocsp could not make a response for $name"
}
# next_update FILE: the response's Next Update, as openssl prints it
next_update() {
	openssl ocsp -respin "$1" -resp_text -noverify 2>/dev/null | sed -n 's/^ *Next Update: //p' | head -n 1
}

resp edge.test "$T/edge.ocsp" 1
resp edge.test "$T/edge2.ocsp" 3
NU1=$(next_update "$T/edge.ocsp")
NU2=$(next_update "$T/edge2.ocsp")
[[ -n $NU1 && -n $NU2 && $NU1 != "$NU2" ]] || fail "test bug: responses not told apart ('$NU1', '$NU2')"
cp "$T/edge.ocsp" "$T/live.ocsp"

start_edged edge --cert "$P/edge.test.chain.pem" --key "$P/edge.test.key" --ocsp-file "$T/live.ocsp" \
	--cert "$P/alt.test.chain.pem" --key "$P/alt.test.key" --ocsp-file -
wait_log edge "ocsp=$T/live.ocsp ocsp_next_update="
wait_log edge "first=alt.test default=no"
expect_contains "$(grep -F 'first=alt.test' "$T/edge.log")" " ocsp=none ocsp_next_update=-"

# staple NAME S_CLIENT-ARGS...: s_client -status to the edge for NAME
staple() {
	local name=$1
	shift
	expect_rc 0 openssl s_client -connect "127.0.0.1:$EDGE_PORT" -servername "$name" \
		-verify_hostname "$name" -verify_return_error -CAfile "$P/ca.pem" -status "$@"
}
for v in -tls1_2 -tls1_3; do
	staple edge.test "$v"
	expect_contains "$OUT" "OCSP Response Status: successful"
	expect_contains "$OUT" "Cert Status: good"
	expect_contains "$OUT" "Next Update: $NU1"
	staple alt.test "$v"
	expect_contains "$OUT" "OCSP response: no response sent"
done
note "stapled: Next Update $NU1"
for pr in "NORMAL:-VERS-ALL:+VERS-TLS1.2" "NORMAL:-VERS-ALL:+VERS-TLS1.3"; do
	rm -f "$T/got.ocsp"
	expect_rc 0 gnutls-cli --port "$EDGE_PORT" --x509cafile "$P/ca.pem" --verify-hostname edge.test \
		--sni-hostname edge.test --priority "$pr" --ocsp --save-ocsp "$T/got.ocsp" 127.0.0.1
	expect_contains "$OUT" "Handshake was completed"
	cmp -s "$T/got.ocsp" "$T/edge.ocsp" || fail "gnutls-cli ($pr) saved a staple that is not edge.ocsp"
done
pass "the response is stapled for edge.test when asked (s_client -status, TLS 1.2 and 1.3; gnutls-cli --ocsp verifies it and saves the same bytes), none for alt.test ('-')"

# ---- SIGHUP ----
LOG=$T/edge.log
nlog() { grep -cF -- "$1" "$LOG" || true; }
hup() {
	local d0 r0 n
	d0=$(nlog event=reload.done)
	r0=$(nlog event=reload.refused)
	kill -HUP "$EDGE_PID"
	for ((n = 0; n < 150; n++)); do
		if (($(nlog event=reload.done) > d0)); then
			RELOAD=applied
			return 0
		fi
		if (($(nlog event=reload.refused) > r0)); then
			RELOAD=refused
			RELOAD_LINE=$(grep -F event=reload.refused "$LOG" | tail -n 1)
			return 0
		fi
		sleep 0.1
	done
	fail "neither reload.done nor reload.refused within 15 s of SIGHUP"
}
cp "$T/edge2.ocsp" "$T/live.ocsp.new"
mv "$T/live.ocsp.new" "$T/live.ocsp"
hup
expect_eq "$RELOAD" applied "SIGHUP with a fresh response"
for v in -tls1_2 -tls1_3; do
	staple edge.test "$v"
	expect_contains "$OUT" "Next Update: $NU2"
done
pass "SIGHUP after the file was replaced: the new response is stapled (Next Update $NU2)"

printf 'not an OCSP response\n' >"$T/live.ocsp"
hup
expect_eq "$RELOAD" refused "SIGHUP with a garbage ocsp_file"
expect_contains "$RELOAD_LINE" "key 'ocsp_file': $T/live.ocsp: not an OCSP response"
staple edge.test -tls1_3
expect_contains "$OUT" "Next Update: $NU2"
resp edge.test "$T/live.ocsp" 1 -3d
hup
expect_eq "$RELOAD" refused "SIGHUP with an outdated response"
expect_contains "$RELOAD_LINE" "$T/live.ocsp: the OCSP response expired on"
staple edge.test -tls1_2
expect_contains "$OUT" "Next Update: $NU2"
pass "SIGHUP with a garbage or outdated file is refused naming it; the staple in use stays"
cp "$T/edge2.ocsp" "$T/live.ocsp"
hup
expect_eq "$RELOAD" applied "SIGHUP with the good file back"

# ---- a staple that runs out while edged runs: no longer sent; a SIGHUP
# that leaves it unchanged warns (ocsp.expired) and applies ----
resp edge.test "$T/short.ocsp" 1m -40s
NUS=$(next_update "$T/short.ocsp")
FIRST_PORT=$EDGE_PORT
start_edged short --ocsp-file "$T/short.ocsp"
LOG=$T/short.log
staple edge.test -tls1_3
expect_contains "$OUT" "Next Update: $NUS"
for ((i = 0; i < 60; i++)); do
	staple edge.test -tls1_3
	[[ $OUT == *"OCSP response: no response sent"* ]] && break
	expect_contains "$OUT" "Next Update: $NUS"
	sleep 1
done
expect_contains "$OUT" "OCSP response: no response sent"
(($(date +%s) >= $(date -d "$NUS" +%s))) || fail "the staple stopped before its Next Update ($NUS)"
note "the staple (Next Update $NUS) stopped after ${i} s of polling"
hup
expect_eq "$RELOAD" applied "SIGHUP with the outdated staple unchanged"
wait_log short "event=ocsp.expired file=$T/short.ocsp"
staple edge.test -tls1_2
expect_contains "$OUT" "OCSP response: no response sent"
pass "a staple past its Next Update is no longer sent; SIGHUP with it unchanged warns and applies"
stop_bg short
EDGE_PORT=$FIRST_PORT

# ---- refused at start ----
printf '\x30\x03\x0a\x01\x00' >"$T/garbage.ocsp"
resp edge.test "$T/old.ocsp" 1 -3d
resp alt.test "$T/alt.ocsp" 1
resp edge.test "$T/revoked.ocsp" 1 "" R
"$EDGECERT" ca --dir "$T/otherca" >/dev/null || fail "edgecert ca (another CA) failed"
resp edge.test "$T/foreign.ocsp" 1 "" V "$T/otherca"
bad_start "a garbage ocsp_file" "key 'ocsp_file': $T/garbage.ocsp: not an OCSP response" \
	--ocsp-file "$T/garbage.ocsp"
bad_start "a missing ocsp_file" "key 'ocsp_file': $T/missing.ocsp: No such file" \
	--ocsp-file "$T/missing.ocsp"
bad_start "an outdated response" "$T/old.ocsp: the OCSP response expired on" --ocsp-file "$T/old.ocsp"
bad_start "a response about alt.test" "$T/alt.ocsp: the OCSP response is not about the certificate in" \
	--ocsp-file "$T/alt.ocsp"
bad_start "a revoked response" "$T/revoked.ocsp: the OCSP response says the certificate in" \
	--ocsp-file "$T/revoked.ocsp"
expect_contains "$STDERR" "was revoked on"
bad_start "a response signed by another CA" "$T/foreign.ocsp: the OCSP response's signature does not verify" \
	--ocsp-file "$T/foreign.ocsp"
bad_start "two ocsp_file for one cert" "1 certificate(s) but 2 OCSP file(s)" \
	--ocsp-file "$T/edge.ocsp" --ocsp-file -
pass "refused at start naming key and file: garbage, missing, outdated, about another certificate, revoked, signed by another CA, count mismatch"
ehealthy
