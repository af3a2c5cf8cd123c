# shellcheck shell=bash
# lib_edged.sh: edged helpers for integration tests; source after lib.sh
# and lib_origind.sh.
#
#   edge_pki               $T/pki (origind_pki) plus edge.test (DNS
#                          edge.test, www.edge.test, IP 127.0.0.1) and
#                          alt.test (DNS alt.test, *.alt.test) for SNI
#   start_www_origind NAME [flags...]
#                          origind serving $T/www (index.html "healthy")
#                          and tests/integration/cgi-bin
#   start_edged NAME [flags...]
#                          edged on 127.0.0.1:<free port> with the
#                          edge.test pair, --origin https://127.0.0.1:
#                          $ORIGIN_PORT verified against $T/pki/ca.pem, node
#                          edge-NAME, unless flags give their own --cert/--key,
#                          --origin, --origin-ca, --node-name; sets EDGE_PORT,
#                          EDGE_PID
#   ecurl [curl args...] PATH
#                          curl -sS over verified TLS to edge.test:EDGE_PORT
#   eget [curl args...] PATH
#                          cget through the edge: CODE, CRC, BODY, $T/head
#   eraw REQUEST           raw (lib_origind.sh) to the edge: RAW, STATUS
#   ehealthy               GET / through the edge still answers "healthy"

EDGED="$EDGED_BIN/edged"
[[ -x $EDGED ]] || fail "no edged at $EDGED (set EDGED_BIN)"

edge_pki() {
	origind_pki
	[[ -f $T/pki/edge.test.pem ]] && return 0
	"$EDGECERT" issue edge.test --dir "$T/pki" --dns edge.test --dns www.edge.test \
		--ip 127.0.0.1 >/dev/null || fail "edgecert issue edge.test failed"
	"$EDGECERT" issue alt.test --dir "$T/pki" --dns alt.test --dns '*.alt.test' \
		>/dev/null || fail "edgecert issue alt.test failed"
}

start_www_origind() {
	local name=$1
	shift
	mkdir -p "$T/www"
	[[ -f $T/www/index.html ]] || echo healthy >"$T/www/index.html"
	start_origind "$name" --docroot "$T/www" --cgi-bin "$TEST_DIR/cgi-bin" "$@"
}

# shellcheck disable=SC2034 # EDGE_PID is read by the tests
start_edged() {
	local name=$1 a
	shift
	edge_pki
	EDGE_PORT=$(free_port)
	# defaults for the flags the caller did not give (a flag may not repeat)
	local -A given=()
	for a in "$@"; do [[ $a == --* ]] && given[$a]=1; done
	local def=()
	[[ -n ${given[--cert]:-} ]] || def+=(--cert "$T/pki/edge.test.chain.pem" \
		--key "$T/pki/edge.test.key")
	[[ -n ${given[--origin]:-} ]] || def+=(--origin "https://127.0.0.1:${ORIGIN_PORT:-1}")
	[[ -n ${given[--origin-ca]:-} ]] || def+=(--origin-ca "$T/pki/ca.pem")
	[[ -n ${given[--node-name]:-} ]] || def+=(--node-name "edge-$name")
	start_bg "$name" "$EDGED" --listen-https "127.0.0.1:$EDGE_PORT" "${def[@]}" "$@"
	EDGE_PID=${_BG_PIDS[-1]}
	wait_port "$EDGE_PORT"
}

ecurl() {
	local path=${*: -1}
	local args=("${@:1:$#-1}")
	timeout "$CMD_TIMEOUT" curl -sS --cacert "$T/pki/ca.pem" \
		--resolve "edge.test:$EDGE_PORT:127.0.0.1" \
		"${args[@]}" "https://edge.test:$EDGE_PORT$path"
}

eget() {
	CURL_FN=ecurl cget "$@"
}

eraw() {
	RAW_PORT=$EDGE_PORT RAW_SNI=edge.test raw "$1"
}

ehealthy() {
	local body
	body=$(ecurl /) || fail "GET / through the edge failed after a refused request"
	expect_eq "$body" "healthy" "GET / through the edge after a refused request"
}
