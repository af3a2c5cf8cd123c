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
#                          edge-NAME, admin listener on 127.0.0.1:<free port>,
#                          unless flags give their own --cert/--key,
#                          --origin, --origin-ca, --node-name, --admin-listen;
#                          sets EDGE_PORT, EDGE_PID, ADMIN_PORT (0: not ours)
#   acurl [curl args...] PATH
#                          curl -sS to the admin listener on ADMIN_PORT
#   bad_start WHAT NEEDLE [flags...]
#                          edged (edge.test pair, origin on ORIGIN_PORT) must
#                          exit 1 or 2 at once, nothing on stdout, stderr
#                          naming NEEDLE, nothing left listening; sets RC,
#                          STDOUT, STDERR
#   ecurl [curl args...] PATH
#                          curl -sS over verified TLS to edge.test:EDGE_PORT
#   eget [curl args...] PATH
#                          cget through the edge: CODE, CRC, BODY, $T/head
#   eraw REQUEST           raw (lib_origind.sh) to the edge: RAW, STATUS
#   ehealthy               GET / through the edge still answers "healthy"
#
# For the cache tests (tests/integration/cgi-bin/resp.cgi shapes answers):
#   enc TEXT               TEXT as a resp.cgi query value
#   h NAME VALUE           a resp.cgi response-field parameter ("h=...")
#   cc DIRECTIVES          a Cache-Control response-field parameter
#   httpdate EPOCH         an IMF-fixdate
#   expect_xc WANT WHAT    X-Cache of the last eget is "WANT from edged"
#   expect_cs WANT WHAT    Cache-Status of the last eget is WANT
#   xcache                 X-Cache of the last eget
#   through PORT [curl args...] PATH
#                          eget through the node on PORT with the Host every
#                          node shares (edge.test)
#   lines FILE             lines in FILE, 0 when it does not exist

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
	ADMIN_PORT=0
	if [[ -z ${given[--admin-listen]:-} ]]; then
		ADMIN_PORT=$(free_port)
		def+=(--admin-listen "127.0.0.1:$ADMIN_PORT")
	fi
	start_bg "$name" "$EDGED" --listen-https "127.0.0.1:$EDGE_PORT" "${def[@]}" "$@"
	EDGE_PID=${_BG_PIDS[-1]}
	wait_port "$EDGE_PORT"
}

bad_start() {
	local what=$1 needle=$2 p
	shift 2
	p=$(free_port)
	RC=0
	timeout -k 5 "$CMD_TIMEOUT" "$EDGED" --listen-https "127.0.0.1:$p" \
		--cert "$T/pki/edge.test.chain.pem" --key "$T/pki/edge.test.key" \
		--origin "https://127.0.0.1:$ORIGIN_PORT" --origin-ca "$T/pki/ca.pem" "$@" \
		>"$T/.stdout" 2>"$T/.stderr" </dev/null || RC=$?
	STDOUT=$(<"$T/.stdout")
	STDERR=$(<"$T/.stderr")
	[[ $RC -eq 1 || $RC -eq 2 ]] || fail "edged with $what: exit code $RC, want 1 or 2: $(_show "$STDERR")"
	expect_eq "$STDOUT" "" "stdout of edged with $what"
	expect_contains "$STDERR" "edged: "
	expect_contains "$STDERR" "$needle"
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		fail "something listens on $p after edged failed to start with $what"
	fi
}

acurl() {
	local path=${*: -1}
	local args=("${@:1:$#-1}")
	timeout "$CMD_TIMEOUT" curl -sS "${args[@]}" "http://127.0.0.1:$ADMIN_PORT$path"
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

enc() {
	local s=$1
	s=${s//%/%25}
	s=${s// /%20}
	s=${s//&/%26}
	s=${s//+/%2B}
	s=${s//\"/%22}
	s=${s//#/%23}
	printf '%s' "$s"
}
h() { printf 'h=%s' "$(enc "$1: $2")"; }
cc() { h Cache-Control "$1"; }
httpdate() { date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S GMT'; }
expect_xc() {
	expect_eq "$(header X-Cache)" "$1 from edged" "X-Cache of $2"
}
expect_cs() {
	expect_eq "$(header Cache-Status)" "$1" "Cache-Status of $2"
}
xcache() { header X-Cache; }
through() {
	local port=$1
	shift
	EDGE_PORT=$port eget -H 'Host: edge.test' "$@"
}
lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }
