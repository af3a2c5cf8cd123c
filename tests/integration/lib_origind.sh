# lib_origind.sh: origind helpers for integration tests; source after lib.sh.
#
#   origind_pki            $T/pki: CA, origin.test (DNS origin.test, IP
#                          127.0.0.1), client cert "client", via edgecert
#   start_origind NAME [flags...]
#                          start $ORIGIND on 127.0.0.1:<free port> with the
#                          origin.test pair plus flags; waits until it
#                          listens; sets ORIGIN_PORT and ORIGIN_PID
#   ocurl [curl args...] PATH
#                          curl -sS over verified TLS to origin.test:PORT
#   origind_raw TEXT       send TEXT (printf escapes) over TLS with
#                          openssl s_client; the raw answer is in $RAW

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

start_origind() {
	local name=$1
	shift
	origind_pki
	ORIGIN_PORT=$(free_port)
	start_bg "$name" "$ORIGIND" --listen-https "127.0.0.1:$ORIGIN_PORT" \
		--cert "$T/pki/origin.test.chain.pem" --key "$T/pki/origin.test.key" "$@"
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

origind_raw() {
	RAW=$(printf "$1" | timeout "$CMD_TIMEOUT" openssl s_client -quiet -ign_eof \
		-connect "127.0.0.1:$ORIGIN_PORT" -servername origin.test \
		-CAfile "$T/pki/ca.pem" 2>/dev/null || true)
}
