# lib_origind.sh: origind helpers for integration tests; source after lib.sh.
#
#   origind_pki            $T/pki: CA, origin.test (DNS origin.test, IP
#                          127.0.0.1), client cert "client", via edgecert
#   start_origind NAME [flags...]
#                          start $ORIGIND on 127.0.0.1:<free port> with the
#                          origin.test pair plus flags; waits until it
#                          listens; sets ORIGIN_PORT and ORIGIN_PID.  Adds
#                          --introspection (the tests read /_origind/)
#                          unless flags say --[no-]introspection, or
#                          ORIGIND_DEFAULTS=1 (origind's own default: off)
#   ocurl [curl args...] PATH
#                          curl -sS over verified TLS to origin.test:PORT
#   raw REQUEST            send REQUEST (printf %b escapes) over TLS and
#                          read until the server closes; $RAW, $STATUS
#   healthy                GET / still answers "healthy" after a refusal

ORIGIND="$EDGED_BIN/origind"
[[ -x $ORIGIND ]] || fail "no origind at $ORIGIND (set EDGED_BIN)"

origind_pki() {
	[[ -f $T/pki/ca.pem ]] && return 0
	"$EDGECERT" ca --dir "$T/pki" >/dev/null || fail "edgecert ca failed"
	"$EDGECERT" issue origin.test --dir "$T/pki" --dns origin.test --ip 127.0.0.1 \
		>/dev/null || fail "edgecert issue origin.test failed"
	"$EDGECERT" issue client --dir "$T/pki" --client >/dev/null ||
		fail "edgecert issue client failed"
}

# shellcheck disable=SC2034 # ORIGIN_PID is read by the tests
start_origind() {
	local name=$1 a intro=(--introspection)
	shift
	origind_pki
	ORIGIN_PORT=$(free_port)
	[[ ${ORIGIND_DEFAULTS:-0} != 1 ]] || intro=()
	for a in "$@"; do [[ $a != --introspection && $a != --no-introspection ]] || intro=(); done
	start_bg "$name" "$ORIGIND" --listen-https "127.0.0.1:$ORIGIN_PORT" \
		--cert "$T/pki/origin.test.chain.pem" --key "$T/pki/origin.test.key" \
		"${intro[@]}" "$@"
	ORIGIN_PID=${_BG_PIDS[-1]}
	wait_port "$ORIGIN_PORT"
}

ocurl() {
	local path=${*: -1}
	local args=("${@:1:$#-1}")
	timeout "$CMD_TIMEOUT" curl -sS --cacert "$T/pki/ca.pem" \
		--resolve "origin.test:$ORIGIN_PORT:127.0.0.1" \
		"${args[@]}" "https://origin.test:$ORIGIN_PORT$path"
}

# raw REQUEST: send REQUEST (printf %b escapes) over TLS and read until the
# server closes the connection; the answer in $RAW, its status line in
# $STATUS.  Fails if the server did not close within 8 s.  RAW_PORT and
# RAW_SNI send it elsewhere than origind (lib_edged.sh's eraw).
# shellcheck disable=SC2034 # RAW and STATUS are read by the tests
raw() {
	local rc=0
	RAW=$(printf '%b' "$1" | timeout 8 openssl s_client -quiet -ign_eof \
		-connect "127.0.0.1:${RAW_PORT:-$ORIGIN_PORT}" -servername "${RAW_SNI:-origin.test}" \
		-verify_return_error -CAfile "$T/pki/ca.pem" 2>/dev/null) || rc=$?
	[[ $rc -ne 124 ]] || fail "the server did not close the connection: $(_show "$RAW")"
	STATUS=$(head -n 1 <<<"$RAW" | tr -d '\r')
}

# healthy: GET / still answers "healthy" (the docroot's index.html)
healthy() {
	local body
	body=$(ocurl /) || fail "GET / failed after a refused request"
	expect_eq "$body" "healthy" "GET / after a refused request"
}

# cget [curl args...] PATH: fetch (with ${CURL_FN:-ocurl}) into $CODE
# (status), $CRC (curl's exit code), $BODY (NULs dropped), headers in $T/head; header NAME reads one,
# var NAME reads a NAME=value line of the body
# shellcheck disable=SC2034 # CODE, CRC and BODY are for the tests
cget() {
	rm -f "$T/head" "$T/body"
	CRC=0
	CODE=$("${CURL_FN:-ocurl}" -D "$T/head" -o "$T/body" -w '%{http_code}' "$@") || CRC=$?
	[[ -f $T/body ]] || : >"$T/body"
	[[ -f $T/head ]] || : >"$T/head"
	BODY=$(tr -d '\0' <"$T/body")
}

header() {
	{ grep -i "^$1:" "$T/head" || true; } | sed 's/^[^:]*: *//; s/\r$//'
}

var() {
	local line
	line=$(printf '%s\n' "$BODY" | grep -m1 "^$1=") ||
		fail "no $1 in the answer: $(_show "$BODY")"
	printf '%s\n' "${line#*=}"
}
