# shellcheck shell=bash
# lib_tls.sh: TLS checks shared by the edged and origind tests; source
# after lib.sh (and the server's own lib).
#
#   tls_get PORT NAME PATH [s_client args...]
#                          openssl s_client to 127.0.0.1:PORT, SNI NAME,
#                          verified against $T/pki/ca.pem; sends GET PATH
#                          (Connection: close) and reads until the server
#                          closes; the answer must be a 200.  OUT, STDOUT,
#                          STDERR, RC as expect_rc sets them
#   ticket_gen LOGNAME     the generation of the last ticket_key.rotated
#                          line in $T/LOGNAME.log (0 before the first)
#   ticket_wait LOGNAME N  wait (up to 60 s) until that generation is >= N
#   ticket_rotation_check LOGNAME PORT NAME
#                          against a server rotating its ticket key every
#                          few seconds (log in $T/LOGNAME.log): TLS 1.2 and
#                          1.3 tickets made right after a rotation resume
#                          after the next one ("Reused") and give a full
#                          handshake ("New") after the one after that

tls_get() {
	local port=$1 name=$2 path=$3
	shift 3
	# shellcheck disable=SC2016 # expanded by the inner bash
	expect_rc 0 bash -c 'printf "$0" | exec openssl s_client "$@"' \
		"GET $path HTTP/1.1\r\nHost: $name\r\nConnection: close\r\n\r\n" \
		-connect "127.0.0.1:$port" -servername "$name" -verify_hostname "$name" \
		-verify_return_error -CAfile "$T/pki/ca.pem" -ign_eof "$@"
	expect_contains "$STDOUT" "HTTP/1.1 200 "
}

ticket_gen() {
	local g
	g=$(sed -n 's/.*event=ticket_key\.rotated generation=\([0-9][0-9]*\) .*/\1/p' \
		"$T/$1.log" | tail -n 1)
	echo "${g:-0}"
}

ticket_wait() {
	local i
	for i in $(seq 1 600); do
		[[ $(ticket_gen "$1") -ge $2 ]] && return 0
		sleep 0.1
	done
	fail "no ticket_key.rotated generation=$2 in $1's log within 60 s (last: $(ticket_gen "$1"))"
}

ticket_rotation_check() {
	local log=$1 port=$2 name=$3 try g v
	local -A res=()
	# a step whose connections straddle a rotation proves nothing either
	# way: it is tried again (the machine may be loaded), never judged
	for try in 1 2 3 4; do
		g=$(ticket_gen "$log")
		ticket_wait "$log" $((g + 1))
		g=$((g + 1))
		for v in 1.2 1.3; do
			rm -f "$T/ticket$v"
			tls_get "$port" "$name" / "-tls${v/./_}" -sess_out "$T/ticket$v"
			expect_contains "$OUT" "New, TLSv$v"
			[[ -s $T/ticket$v ]] || fail "s_client wrote no session to $T/ticket$v"
		done
		if [[ $(ticket_gen "$log") -ne $g ]]; then
			note "try $try: the key rotated while the tickets were made; again"
			continue
		fi
		ticket_wait "$log" $((g + 1))
		for v in 1.2 1.3; do
			tls_get "$port" "$name" / "-tls${v/./_}" -sess_in "$T/ticket$v"
			res[$v]=$OUT
		done
		if [[ $(ticket_gen "$log") -ne $((g + 1)) ]]; then
			note "try $try: the key rotated twice before the resumptions were done; again"
			continue
		fi
		for v in 1.2 1.3; do
			expect_contains "${res[$v]}" "Reused, TLSv$v"
		done
		pass "TLS 1.2 and 1.3: a ticket made under generation $g resumes under generation $((g + 1)) (the previous key)"
		ticket_wait "$log" $((g + 2))
		for v in 1.2 1.3; do
			tls_get "$port" "$name" / "-tls${v/./_}" -sess_in "$T/ticket$v"
			expect_contains "$OUT" "New, TLSv$v"
			expect_not_contains "$OUT" "Reused"
		done
		pass "TLS 1.2 and 1.3: the same tickets under generation $((g + 2)) get a full handshake (key wiped)"
		note "ticket key rotations seen: $(ticket_gen "$log") (tries: $try)"
		return 0
	done
	fail "4 tries, each disturbed by a rotation inside a step: the machine is too loaded for a ${TICKET_ROTATION:-?} rotation"
}

# sha1_sigalgs_refused PORT NAME: a TLS 1.2 client offering ECDHE suites
# (which the server must sign) and only SHA-1 signature algorithms
# (RSA+SHA1, ECDSA+SHA1; SECLEVEL 0 so OpenSSL 3 sends them) gets no
# handshake: the server has no signature it may make.  (Plain RSA key
# exchange, in edged's 2016 and 2018 policies, signs nothing.)
sha1_sigalgs_refused() {
	expect_rc 1 openssl s_client -connect "127.0.0.1:$1" -servername "$2" -tls1_2 \
		-cipher 'ECDHE:@SECLEVEL=0' -sigalgs 'RSA+SHA1:ECDSA+SHA1'
	expect_contains "$OUT" "Cipher is (NONE)"
	expect_not_contains "$OUT" "Peer signing digest"
}

# modern_signature PORT NAME S_CLIENT-ARGS...: tls_get / with those
# arguments; the server signed with SHA-256 or better (SIGALG: its digest)
modern_signature() {
	local port=$1 name=$2
	shift 2
	tls_get "$port" "$name" / "$@"
	SIGALG=$(sed -n 's/^Peer signing digest: //p' <<<"$OUT" | head -n 1)
	[[ $SIGALG == SHA256 || $SIGALG == SHA384 || $SIGALG == SHA512 ]] ||
		fail "s_client $* (SNI $name): peer signing digest '$SIGALG', want SHA-256 or better"
}

# testssl_scan PORT NAME: testssl.sh against https://NAME:PORT/ (on
# 127.0.0.1, no DNS): protocols (-p), cipher categories (-s), every cipher
# per protocol (-E), forward secrecy (-f), the server's cipher order (-P)
# and every vulnerability check (-U, renegotiation included).  No --fast:
# it hands several checks to the local OpenSSL 3, which cannot speak RC4,
# 3DES or export suites and so would pass them untested.  The flat JSON
# is in $T/testssl.json, FINDINGS holds "id|severity|finding" lines.
testssl_scan() {
	local port=$1 name=$2 rc=0
	rm -f "$T/testssl.json"
	timeout -k 10 540 testssl --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 \
		--connect-timeout 10 --openssl-timeout 10 -p -s -E -f -P -U \
		--jsonfile "$T/testssl.json" "https://$name:$port/" >"$T/testssl.out" 2>&1 || rc=$?
	[[ -s $T/testssl.json ]] || fail "testssl.sh (exit $rc) wrote no JSON: $(_show "$(tail -n 20 "$T/testssl.out")")"
	FINDINGS=$(jq -r '.[] | "\(.id)|\(.severity)|\(.finding)"' "$T/testssl.json") ||
		fail "testssl.sh's JSON does not parse"
	note "testssl.sh exit $rc, $(wc -l <<<"$FINDINGS") findings, scan time $(finding scanTime)s"
}

# finding ID: the finding of the first entry with that id
finding() {
	awk -F'|' -v id="$1" '$1 == id { sub(/^[^|]*\|[^|]*\|/, ""); print; exit }' <<<"$FINDINGS"
}

# expect_finding ID PATTERN: the finding of ID matches the extended regex
expect_finding() {
	local f
	f=$(finding "$1")
	[[ $f =~ $2 ]] || fail "testssl.sh $1: '$f', want /$2/"
}

# testssl_assert PORT NAME: what every server of ours must show (run after
# testssl_scan): nothing below TLS 1.2, TLS 1.2 and 1.3 offered; no NULL,
# anonymous, export, LOW, 3DES/IDEA or CBC ("AVERAGE") category; every
# offered suite forward secret (ECDHE, DHE or TLS 1.3) and AEAD; the
# server's cipher order; client-initiated renegotiation refused; every
# vulnerability check "OK"; no finding anywhere rated LOW, MEDIUM, HIGH,
# CRITICAL or WARN (a check that could not run).
testssl_assert() {
	local port=$1 name=$2 id line try suites=0 bad
	for id in SSLv2 SSLv3 TLS1 TLS1_1; do
		expect_finding "$id" '^not offered'
	done
	expect_finding TLS1_2 '^offered'
	expect_finding TLS1_3 '^offered with final'
	for id in cipherlist_NULL cipherlist_aNULL cipherlist_EXPORT cipherlist_LOW \
		cipherlist_3DES_IDEA cipherlist_AVERAGE; do
		expect_finding "$id" '^not offered'
	done
	expect_finding cipherlist_STRONG '^offered'
	expect_finding PFS '^offered'
	# -E: "TLS 1.2   xc02c   ECDHE-ECDSA-AES256-GCM-SHA384   ECDH 253   AESGCM   256   TLS_ECDHE_..."
	while IFS= read -r line; do
		[[ $line == cipher-tls* ]] || continue
		suites=$((suites + 1))
		[[ $line =~ [[:space:]](TLS_AES_|TLS_CHACHA20_|TLS_ECDHE_|TLS_DHE_)[A-Z0-9_]*$ ]] ||
			fail "testssl.sh: a suite without forward secrecy: $line"
		[[ $line =~ (AESGCM|ChaCha20) && $line != *_CBC_* ]] ||
			fail "testssl.sh: a suite that is not AEAD (CBC?): $line"
	done <<<"$FINDINGS"
	((suites > 0)) || fail "testssl.sh -E listed no suite at all: $(_show "$(tail -n 20 "$T/testssl.out")")"
	expect_finding cipher_order '^server'
	expect_finding secure_renego '^supported'
	# testssl.sh 3.0's client-renegotiation probe races with a server that
	# closes the connection at once (libmicrohttpd does): `echo R | s_client`
	# sometimes sees stdin's end before the close, and then its 4-try probe
	# ends with s_client's exit 0 on the close, read as "VULNERABLE"
	# (testssl.sh issue #1725).  A server that renegotiates never gives "not
	# vulnerable", so up to 3 more -R runs settle it; t0152/t0412 prove the
	# refusal itself.
	for try in 1 2 3; do
		[[ $(finding secure_client_renego) == "not vulnerable"* ]] && break
		note "testssl.sh secure_client_renego: '$(finding secure_client_renego)'; -R again ($try)"
		timeout -k 10 120 testssl --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 \
			-R --jsonfile "$T/testssl-R$try.json" "https://$name:$port/" >/dev/null 2>&1 || true
		line=$(jq -r '.[] | select(.id == "secure_client_renego") | "\(.id)|\(.severity)|\(.finding)"' \
			"$T/testssl-R$try.json" 2>/dev/null || true)
		[[ -n $line ]] && FINDINGS=$(grep -v '^secure_client_renego|' <<<"$FINDINGS"; echo "$line")
	done
	expect_finding secure_client_renego '^not vulnerable'
	for id in heartbleed CCS ticketbleed ROBOT CRIME_TLS BREACH POODLE_SSL fallback_SCSV SWEET32 \
		FREAK DROWN LOGJAM BEAST LUCKY13 RC4; do
		line=$(grep -m1 "^$id|" <<<"$FINDINGS") || fail "testssl.sh ran no $id check"
		[[ $line == "$id|OK|"* ]] || fail "testssl.sh flags $line"
	done
	bad=$(grep -E '^[^|]*\|(LOW|MEDIUM|HIGH|CRITICAL|WARN|DEBUG)\|' <<<"$FINDINGS" || true)
	[[ -z $bad ]] || fail "testssl.sh findings rated LOW or worse, or checks that did not run: $(_show "$bad")"
	note "testssl.sh: $(finding TLS1_2) TLS 1.2, $(finding TLS1_3) TLS 1.3; $suites suites, all FS+AEAD: $(grep '^cipher-tls' <<<"$FINDINGS" | awk '{print $4}' | tr '\n' ' ')"
	note "testssl.sh: order $(finding cipher_order); renegotiation: $(finding secure_renego), client-initiated $(finding secure_client_renego)"
}
