#!/usr/bin/env bash
# t0480: an origin that misbehaves in every way it can gets a clean answer
# and never a truncated body in the cache.  faultd.py (a scripted HTTPS
# origin, origin.test's certificate) is switched between "ok" and a fault
# by writing $T/fst/mode; edged runs with origin_response_timeout 1s.
#   - faults before the response head (slow: 4 s, hung: never answers,
#     garbage instead of HTTP, a malformed status line, TCP RST right after
#     accept, RST after the request): 502 or 504 with "X-Cache: Error from
#     edged", a one-line body and one origin.failed line of the expected
#     class, twice in a row (the first failure stored nothing);
#   - faults after the head (Content-Length body closed half way, with and
#     without close_notify; chunked body closed before its last chunk; a
#     close-delimited body closed without close_notify; a bad chunk size;
#     RST mid-body): the viewer gets the 200 head and then a cut transfer
#     (curl exits non-zero), as an HTTP/1.1 viewer and as an HTTP/1.0 one
#     (whose body has no length when the origin's had none: only a reset
#     connection tells it the body is incomplete), one origin.body_failed
#     line, cache.not_stored, and the next request is not a Hit; a Range
#     or HEAD miss (which reads the whole body before answering) gets a
#     clean 502 instead;
#   - once the origin is healthy again the same URL is a Miss with the
#     whole body (sha256), then a Hit with the whole body;
#   - an entry with stale-if-error (max-age=1, stale-if-error=60), stale
#     when the fault starts, answers every pre-head fault as a Hit with
#     "detail=stale-if-error-<class>" and its whole body; after a post-head
#     fault the viewer is cut and the entry is still whole afterwards;
#   - the origin swaps its certificate for one from another CA (origind
#     restarted on the same port; origind reads certificates at start
#     only, SIGHUP does not reload them): 502 class=verify, the
#     stale-if-error entry answers, and a healthy origind is served again.
# Every number (status, curl exit, bytes) is printed.
# timeout: 300
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl python3

FAULTD=$TEST_DIR/faultd.py
SIZE=100000
edge_pki
python3 "$FAULTD" --body "$SIZE" >"$T/want"
WANT=$(file_sha "$T/want")
mkdir -p "$T/fst"
FP=$(free_port)
start_bg faultd python3 "$FAULTD" "$FP" "$T/pki/origin.test.chain.pem" \
	"$T/pki/origin.test.key" "$T/fst"
wait_log faultd listening
mode() { printf '%s\n' "$1" >"$T/fst/mode"; }
mode ok
start_edged edge --origin "https://127.0.0.1:$FP" --origin-response-timeout 1s \
	--origin-connect-timeout 1s --origin-connection-attempts 2
FAULT_PID=$EDGE_PID
FAULT_PORT=$EDGE_PORT

# nlog EVENT: how many EVENT lines edged logged so far
nlog() { grep -c "event=$1 " "$T/edge.log" || true; }

# one_more EVENT BEFORE CLASS WHAT: edged logged exactly one more EVENT
# line than BEFORE, of class CLASS (an ERE: a reset right after accept may
# reach edged in connect() or in the handshake)
one_more() {
	local n i
	for ((i = 0; i < 50; i++)); do
		n=$(nlog "$1")
		((n > $2)) && break
		sleep 0.1
	done
	expect_eq "$n" $(($2 + 1)) "$1 lines after $4"
	expect_match "$(grep "event=$1 " "$T/edge.log" | tail -n 1)" "class=($3) "
}

# whole WHAT XCACHE: the last eget was a 200 with the whole body
whole() {
	expect_eq "$CODE:$CRC" 200:0 "status and curl exit of $1"
	expect_eq "$(stat -c %s "$T/body")" "$SIZE" "bytes of $1"
	expect_eq "$(file_sha "$T/body")" "$WANT" "sha256 of $1"
	expect_xc "$2" "$1"
}

# prime the stale-if-error entries (stale 2 s later, usable for 60 s more)
PRE=(slow hang garbage badstatus rst-accept rst-request)
POST=(cut-cl cut-cl-notify cut-chunked cut-close badchunk rst-mid)
for m in "${PRE[@]}" "${POST[@]}"; do
	eget "/sie/$m?sie=1"
	whole "the first GET of /sie/$m" Miss
done
sleep 2.2

# ---- faults before the response head: 502/504, nothing stored ----
declare -A WANT_STATUS=([slow]=504 [hang]=504 [garbage]=502 [badstatus]=502
	[rst-accept]=502 [rst-request]=502)
declare -A WANT_CLASS=([slow]=timeout [hang]=timeout [garbage]=protocol
	[badstatus]=protocol [rst-accept]='tls|connect' [rst-request]=closed
	[cut-cl]=closed [cut-cl-notify]=closed [cut-chunked]=closed [cut-close]=closed
	[badchunk]=protocol [rst-mid]=closed)
for m in "${PRE[@]}"; do
	st=${WANT_STATUS[$m]}
	cls=${WANT_CLASS[$m]}
	mode "$m"
	for i in 1 2; do
		n0=$(nlog origin.failed)
		eget "/o/$m"
		expect_eq "$CODE:$CRC" "$st:0" "status and curl exit of GET $i of /o/$m ($m)"
		expect_xc Error "GET $i of /o/$m ($m)"
		expect_eq "$(wc -l <"$T/body")" 1 "lines in the body of GET $i of /o/$m"
		expect_match "$BODY" "^$st "
		one_more origin.failed "$n0" "$cls" "GET $i of /o/$m"
		expect_contains "$(grep "event=origin.failed " "$T/edge.log" | tail -n 1)" "status=$st "
	done
	eget "/sie/$m?sie=1"
	whole "a stale-if-error entry while the origin is $m" Hit
	expect_match "$(header Cache-Status)" "detail=stale-if-error-($cls)\$"
	mode ok
	eget "/o/$m"
	whole "/o/$m once the origin is healthy" Miss
	eget "/o/$m"
	whole "/o/$m the second time once the origin is healthy" Hit
	note "$m: $st class=$cls twice, stale-if-error Hit, then Miss and Hit with all $SIZE bytes"
done
pass "faults before the head (${PRE[*]}): clean 502/504 'Error from edged', stale-if-error answers, nothing stored"

# ---- faults after the head: the viewer's transfer is cut, nothing stored ----
# was_cut NAME WHAT: the last eget was a 200 whose transfer was cut short
was_cut() {
	expect_eq "$CODE" 200 "status of $2 (the head came)"
	[[ $CRC -ne 0 ]] || fail "$2: curl saw a complete transfer of $(stat -c %s "$T/body") bytes (the origin cut it)"
	local got
	got=$(stat -c %s "$T/body")
	((got < SIZE)) || fail "$2: $got bytes, want fewer than $SIZE"
	cmp -s -n "$got" "$T/body" "$T/want" || fail "$2: the $got bytes that came are not the start of the body"
}
for m in "${POST[@]}"; do
	cls=${WANT_CLASS[$m]}
	mode "$m"
	nc0=$(nlog cache.not_stored)
	for i in 1 2; do
		n0=$(nlog origin.body_failed)
		eget "/o/$m"
		was_cut "$m" "GET $i of /o/$m ($m)"
		expect_xc Miss "GET $i of /o/$m ($m)"
		note "$m: GET $i (HTTP/1.1): 200, curl exit $CRC after $(stat -c %s "$T/body") bytes"
		one_more origin.body_failed "$n0" "$cls" "GET $i of /o/$m"
	done
	# HTTP/1.0: no chunked framing to leave unfinished
	n0=$(nlog origin.body_failed)
	eget -0 "/o/$m-10"
	was_cut "$m" "an HTTP/1.0 GET of /o/$m-10 ($m)"
	note "$m: GET (HTTP/1.0): 200, curl exit $CRC after $(stat -c %s "$T/body") bytes"
	one_more origin.body_failed "$n0" "$cls" "an HTTP/1.0 GET of /o/$m-10"
	expect_eq "$(nlog cache.not_stored)" $((nc0 + 3)) "cache.not_stored lines after 3 cut GETs ($m)"
	# a Range or a HEAD miss reads the whole body before answering: the
	# cut is seen before any head went out, so it is a clean 502
	for how in range head; do
		n0=$(nlog origin.failed)
		if [[ $how == range ]]; then eget -r 0-99 "/o/$m-$how"; else eget -I "/o/$m-$how"; fi
		expect_eq "$CODE:$CRC" 502:0 "status and curl exit of a $how miss of /o/$m-$how ($m)"
		expect_xc Error "a $how miss of /o/$m-$how ($m)"
		one_more origin.failed "$n0" "$cls" "a $how miss of /o/$m-$how"
	done
	# a stale entry cannot answer once the new head went out: cut too
	eget "/sie/$m?sie=1"
	was_cut "$m" "a GET of the stale /sie/$m ($m)"
	mode ok
	for u in "/o/$m" "/o/$m-10" "/o/$m-range" "/o/$m-head"; do
		eget "$u"
		whole "$u once the origin is healthy" Miss
		eget "$u"
		whole "$u the second time once the origin is healthy" Hit
	done
	eget "/sie/$m?sie=1"
	expect_eq "$CODE:$CRC" 200:0 "the stale-if-error entry once the origin is healthy ($m)"
	expect_eq "$(file_sha "$T/body")" "$WANT" "sha256 of /sie/$m once the origin is healthy"
	note "$m: class=$cls, cut 3 times (not stored), then Miss and Hit with all $SIZE bytes; /sie/$m $(xcache)"
done
pass "faults after the head (${POST[*]}): the viewer's transfer is cut (HTTP/1.1 and 1.0), nothing stored, the whole body once healthy"

# ---- the origin's certificate swapped for one from another CA ----
start_www_origind origin
start_edged e-cert
CERT_PID=$EDGE_PID
u_sie="/cgi-bin/resp.cgi?n=cert-sie&$(cc 'max-age=1, stale-if-error=60')&b=certbody"
u_new="/cgi-bin/resp.cgi?n=cert-new&b=newbody&$(cc max-age=60)"
eget "$u_sie"
expect_eq "$CODE:$BODY" 200:certbody "the stale-if-error entry before the swap"
expect_xc Miss "the stale-if-error entry before the swap"
sleep 2.2
"$EDGECERT" ca --dir "$T/pki2" >/dev/null || fail "edgecert ca (second CA) failed"
"$EDGECERT" issue origin.test --dir "$T/pki2" --dns origin.test --ip 127.0.0.1 \
	>/dev/null || fail "edgecert issue origin.test (second CA) failed"
stop_bg origin
start_bg origin-evil "$ORIGIND" --listen-https "127.0.0.1:$ORIGIN_PORT" \
	--cert "$T/pki2/origin.test.chain.pem" --key "$T/pki2/origin.test.key" \
	--docroot "$T/www" --cgi-bin "$TEST_DIR/cgi-bin"
wait_port "$ORIGIN_PORT"
for i in 1 2; do
	n0=$(grep -c "event=origin.failed " "$T/e-cert.log" || true)
	eget "$u_new"
	expect_eq "$CODE:$CRC" 502:0 "status of GET $i with an untrusted origin certificate"
	expect_xc Error "GET $i with an untrusted origin certificate"
	expect_eq "$BODY" "502 Bad Gateway: the origin's certificate failed verification" \
		"body of GET $i with an untrusted origin certificate"
	wait_log e-cert "event=origin.failed" 5
	for ((j = 0; j < 50; j++)); do
		[[ $(grep -c "event=origin.failed " "$T/e-cert.log") -gt $n0 ]] && break
		sleep 0.1
	done
	expect_contains "$(grep "event=origin.failed " "$T/e-cert.log" | tail -n 1)" "class=verify "
done
eget "$u_sie"
expect_eq "$CODE:$BODY" 200:certbody "the stale-if-error entry with an untrusted origin"
expect_xc Hit "the stale-if-error entry with an untrusted origin"
expect_contains "$(header Cache-Status)" "detail=stale-if-error-verify"
stop_bg origin-evil
start_bg origin-good "$ORIGIND" --listen-https "127.0.0.1:$ORIGIN_PORT" \
	--cert "$T/pki/origin.test.chain.pem" --key "$T/pki/origin.test.key" \
	--docroot "$T/www" --cgi-bin "$TEST_DIR/cgi-bin"
wait_port "$ORIGIN_PORT"
eget "$u_new"
expect_eq "$CODE:$BODY" 200:newbody "GET once the trusted certificate is back"
expect_xc Miss "GET once the trusted certificate is back"
pass "origin certificate from another CA: 502 class=verify twice, stale-if-error answers, served again once the trusted one is back"

# ---- every edged is still running, then stops cleanly ----
kill -0 "$CERT_PID" 2>/dev/null || fail "edged e-cert is no longer running"
kill -0 "$FAULT_PID" 2>/dev/null || fail "edged edge is no longer running"
EDGE_PORT=$FAULT_PORT
eget /o/final
whole "a last GET through the fault edge" Miss
for n in edge e-cert; do
	stop_bg "$n"
done
pass "both edges served to the end and stopped"
