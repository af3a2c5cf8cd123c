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
