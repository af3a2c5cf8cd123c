#!/usr/bin/env bash
# t0433: edged refuses TLS renegotiation on the origin leg.  The origin is
# openssl s_server in interactive mode (stdin from a fifo), so the test
# decides what it sends and when: a line "r" makes it send a TLS 1.2
# HelloRequest, any longer line is sent as data.  Deterministic order:
# wait for edged's request in s_server's output, send the HelloRequest,
# wait until s_server says it went out, then (when there is one) the rest.
#   - HelloRequest while edged waits for the response head: the viewer
#     gets 502 "X-Cache: Error from edged" at once (well before the 5 s
#     origin_response_timeout), edged logs class=tls "asked to
#     renegotiate: refused" and closes that connection without a second
#     ClientHello (s_server -msg shows one per connection).  No response is
#     written after the HelloRequest here: an edged that ignored it, or
#     renegotiated, would sit waiting and answer 504 after 5 s, which the
#     timing check catches (a response written to the fifo would, when
#     edged is right, stay there and go to the next connection, a race).
#     The next request opens a new connection and gets its 200.
#   - HelloRequest in the middle of the body: the viewer has the head and
#     the first part, then the transfer is cut (curl: incomplete),
#     edged logs origin.body_failed class=tls.
#   - HelloRequest on an idle pooled connection: the next request does
#     not use it (a new connection, its 200), nothing logged as failed.
#   - control, TLS 1.3: a KeyUpdate (s_server "K", which also asks edged to
#     update its keys) is a legitimate post-handshake message: the 200
#     arrives intact.
# (lib/tconn's unit tests cover GNUTLS_E_REHANDSHAKE in-process; this is
# the same refusal seen from the viewer.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl openssl stdbuf

edge_pki

# sserver NAME VERSION-FLAG: interactive s_server on SP, its stdin the fifo
# $T/NAME.in (held open on a new descriptor, in FD: it never sees EOF),
# its output in $T/NAME.log, with every TLS message (-msg: ">>> ..." sent,
# "<<< ..." received)
sserver() {
	local name=$1
	mkfifo "$T/$name.in"
	exec {FD}<>"$T/$name.in"
	SP=$(free_port)
	# line-buffered: its "SSL_do_handshake -> 1" (printf) must show at once
	stdbuf -oL openssl s_server "$2" -msg -accept "127.0.0.1:$SP" -cert "$T/pki/origin.test.chain.pem" \
		-key "$T/pki/origin.test.key" <"$T/$name.in" >"$T/$name.log" 2>&1 &
	_BG_PIDS+=($!)
	_BG_NAMES+=("$name")
	_BG_LOGS+=("$name")
	wait_log "$name" ACCEPT
}

# bg_get NAME PATH: GET through the edge in the background (unbuffered, so
# $T/NAME.body grows as bytes arrive); when done: $T/NAME.code (status),
# $T/NAME.rc (curl's exit code)
bg_get() {
	local name=$1
	rm -f "$T/$name".{body,head,code,rc,err}
	(
		rc=0
		ecurl -N -D "$T/$name.head" -o "$T/$name.body" -w '%{http_code}' "$2" \
			>"$T/$name.code" 2>"$T/$name.err" || rc=$?
		echo "$rc" >"$T/$name.rc"
	) &
}

# count FILE NEEDLE: lines of FILE holding NEEDLE
count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }

# wait_count FILE NEEDLE N [SECONDS]: until FILE has N lines with NEEDLE
wait_count() {
	local n
	for ((n = 0; n < ${4:-5} * 20; n++)); do
		[[ $(count "$1" "$2") -ge $3 ]] && return 0
		sleep 0.05
	done
	fail "$1 has $(count "$1" "$2") lines with '$2' after ${4:-5}s, want $3: $(_show "$(tail -n 15 "$1")")"
}

# bg_done NAME: wait for bg_get NAME to end; CODE, CRC, BODY, head in $T/head
bg_done() {
	local n
	for ((n = 0; n < 200; n++)); do
		[[ -s $T/$1.rc ]] && break
		sleep 0.05
	done
	[[ -s $T/$1.rc ]] || fail "the viewer's request $1 did not end within 10 s"
	CODE=$(<"$T/$1.code")
	CRC=$(<"$T/$1.rc")
	BODY=$(<"$T/$1.body")
	cp "$T/$1.head" "$T/head"
}

ms() { date +%s%3N; }

# ---- a HelloRequest while edged waits for the response head ----
sserver s12 -tls1_2
S12=$FD
start_edged edge --origin "https://127.0.0.1:$SP" --origin-response-timeout 5s
bg_get v1 /first
wait_log s12 "GET /first HTTP/1.1"
expect_contains "$(<"$T/s12.log")" "Secure Renegotiation IS supported"
t0=$(ms)
echo r >&"$S12"
wait_count "$T/s12.log" ">>> TLS 1.2, Handshake [length 0004], HelloRequest" 1
bg_done v1
MS=$(($(ms) - t0))
expect_eq "$CODE" 502 "status after the origin asked to renegotiate"
expect_eq "$(header X-Cache)" "Error from edged" "X-Cache after the origin asked to renegotiate"
expect_eq "$(wc -l <"$T/v1.body")" 1 "lines in the 502's body"
[[ $MS -lt 2000 ]] || fail "the 502 came ${MS} ms after the HelloRequest (a timeout, not a refusal?)"
wait_log edge "event=origin.failed"
LINE=$(grep "event=origin.failed" "$T/edge.log")
expect_contains "$LINE" "status=502 class=tls "
expect_contains "$LINE" "asked to renegotiate: refused"
# edged closed that connection (s_server prints DONE when its peer goes)
# without starting a second handshake (one ClientHello in all)
wait_log s12 DONE
expect_eq "$(count "$T/s12.log" "ClientHello")" 1 "ClientHellos the origin received"
pass "HelloRequest while waiting for the head: 502 class=tls in ${MS} ms, the connection closed"

# the next request: a new connection, served
bg_get v2 /second
wait_log s12 "GET /second HTTP/1.1"
# s_server serves one connection at a time: the first one ended (DONE)
# before this request came, so it came on a new one
d=$(grep -n '^DONE' "$T/s12.log" | head -n 1 | cut -d: -f1)
g=$(grep -n '^GET /second ' "$T/s12.log" | cut -d: -f1)
[[ -n $d && $d -lt $g ]] || fail "the second request did not come after the first connection ended (DONE at line '$d', GET at line $g)"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n' >&"$S12"
bg_done v2
expect_eq "$CODE" 200 "status of the next request"
expect_eq "$BODY" ok "body of the next request"
expect_eq "$(count "$T/s12.log" "HelloRequest")" 1 "HelloRequests sent"
expect_eq "$(count "$T/s12.log" "ClientHello")" 2 "ClientHellos received (one per connection)"
pass "the next request opens a new origin connection and gets its 200"

# ---- a HelloRequest in the middle of the body ----
sserver mid -tls1_2
MID=$FD
start_edged e-mid --origin "https://127.0.0.1:$SP" --origin-response-timeout 5s
bg_get v3 /mid
wait_log mid "GET /mid HTTP/1.1"
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\nfirst part\n' >&"$MID"
for ((n = 0; n < 100; n++)); do
	[[ $(cat "$T/v3.body" 2>/dev/null) == "first part" ]] && break
	sleep 0.05
done
expect_eq "$(cat "$T/v3.body" 2>/dev/null)" "first part" "body bytes the viewer had before the HelloRequest"
echo r >&"$MID"
wait_count "$T/mid.log" ">>> TLS 1.2, Handshake [length 0004], HelloRequest" 1
printf 'rest of the body!!!\n' >&"$MID"
bg_done v3
expect_eq "$CODE" 200 "status of the response cut by a HelloRequest"
expect_eq "$BODY" "first part" "what the viewer got of the body"
[[ $CRC -ne 0 ]] || fail "curl reported a complete transfer, but the body was cut"
wait_log e-mid "event=origin.body_failed"
expect_contains "$(grep "event=origin.body_failed" "$T/e-mid.log")" "class=tls"
expect_contains "$(grep "event=origin.body_failed" "$T/e-mid.log")" "asked to renegotiate: refused"
wait_log mid DONE
expect_eq "$(count "$T/mid.log" "ClientHello")" 1 "ClientHellos the origin received (mid-body)"
pass "HelloRequest mid-body: the viewer's transfer is cut after 'first part' (curl exit $CRC), body_failed class=tls"

# ---- control: TLS 1.3 KeyUpdate is not a renegotiation ----
sserver s13 -tls1_3
S13=$FD
start_edged e-13 --origin "https://127.0.0.1:$SP" --origin-response-timeout 5s
bg_get v4 /ku
wait_log s13 "GET /ku HTTP/1.1"
echo K >&"$S13"
wait_count "$T/s13.log" "KeyUpdate" 1
wait_count "$T/s13.log" "SSL_do_handshake -> 1" 1
printf 'HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nafter update\r\n' >&"$S13"
bg_done v4
expect_eq "$CODE" 200 "status after a KeyUpdate"
expect_eq "$BODY" "after update"$'\r' "body after a KeyUpdate"
expect_eq "$CRC" 0 "curl's exit code after a KeyUpdate"
expect_eq "$(count "$T/e-13.log" "event=origin.")" 0 "origin failures logged after a KeyUpdate"
pass "TLS 1.3 KeyUpdate (update_requested) mid-exchange: the 200 arrives intact"

# ---- a HelloRequest on an idle pooled connection ----
# the connection is kept for reuse after a complete response; the
# HelloRequest arrives while it idles: the next request must not use it
# (edged sees bytes on an idle connection and closes it) and goes out on a
# new connection
sserver idle -tls1_2
IDLE=$FD
start_edged e-idle --origin "https://127.0.0.1:$SP" --origin-response-timeout 5s
bg_get v5 /one
wait_log idle "GET /one HTTP/1.1"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\none\n' >&"$IDLE"
bg_done v5
expect_eq "$CODE $BODY" "200 one" "status and body of the first request (then pooled)"
expect_eq "$(count "$T/idle.log" DONE)" 0 "origin connections ended after the first request (it is pooled)"
echo r >&"$IDLE"
wait_count "$T/idle.log" ">>> TLS 1.2, Handshake [length 0004], HelloRequest" 1
bg_get v6 /two
wait_log idle "GET /two HTTP/1.1"
d=$(grep -n '^DONE' "$T/idle.log" | head -n 1 | cut -d: -f1)
g=$(grep -n '^GET /two ' "$T/idle.log" | cut -d: -f1)
[[ -n $d && $d -lt $g ]] || fail "the request after the HelloRequest used the pooled connection (DONE at line '$d', GET /two at line $g)"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntwo\n' >&"$IDLE"
bg_done v6
expect_eq "$CODE $BODY" "200 two" "status and body of the request after the HelloRequest"
expect_eq "$(count "$T/idle.log" ClientHello)" 2 "ClientHellos (a new connection, no renegotiation)"
expect_eq "$(count "$T/e-idle.log" "event=origin.")" 0 "origin failures logged"
pass "HelloRequest on an idle pooled connection: that connection is dropped, the next request gets its 200 on a new one"

# ---- every edged stops cleanly: SIGTERM, exit 0, no sanitizer report ----
# (matters under SAN=1: leaks are only reported at exit)
edges=()
for i in "${!_BG_NAMES[@]}"; do
	if grep -q "prog=edged event=listening" "$T/${_BG_NAMES[$i]}.log" 2>/dev/null; then
		edges+=("${_BG_NAMES[$i]}")
		kill -TERM "${_BG_PIDS[$i]}"
	fi
done
for n in "${edges[@]}"; do
	wait_bg "$n" 10
	[[ $RC -eq 0 ]] || fail "edged $n exited with $RC after SIGTERM: $(_show "$(tail -n 5 "$T/$n.log")")"
	for bad in 'ERROR: AddressSanitizer' 'ERROR: LeakSanitizer' 'runtime error:'; do
		if grep -q "$bad" "$T/$n.log"; then
			fail "edged $n's log has a sanitizer report: $(grep -A 12 "$bad" "$T/$n.log" | head -n 40)"
		fi
	done
done
pass "${#edges[@]} edged instances stopped on SIGTERM with exit 0 and no sanitizer report"
