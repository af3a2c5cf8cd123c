#!/usr/bin/env bash
# t0425: slow request bodies (R-U-Dead-Yet) are cut, and a small body
# holds no origin connection while it arrives.  edged runs with
# --body-timeout 2s --body-min-rate 200 --body-buffer-size 4k.  A body
# that stops after its first bytes (the gap, plain HTTP and TLS), and one
# trickled at one byte a second (each gap within body_timeout, but far
# below body_min_rate), are cut within a few seconds: no answer (libmicrohttpd
# cannot answer before the body ends), the connection closed,
# request.body_timeout logged, 408 in the access log, the body timeouts
# counted in edged_viewer_timeouts_total.  A body larger than
# body_buffer_size streams to the origin, and when it stalls the origin
# exchange is abandoned: origind (--trace) sees that request end aborted,
# and edged holds no origin connection afterwards (edged_origin_connections).
# A body within body_buffer_size does not reach origind (no trace line, no
# connection opened) until its last byte arrived, then is echoed whole; a
# small chunked body goes to the origin with a Content-Length.  Other
# viewers are served throughout; a body that keeps the rate is not cut.
# Before the fix nothing cut a slow body: edged waited as long as a byte
# came every connection_timeout (30 s), holding its thread and an origin
# connection.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool openssl curl

start_www_origind origin --trace --connection-timeout 60s
HP=$(free_port)
start_edged edge --listen-http "127.0.0.1:$HP" --viewer-protocol-policy allow-all \
	--body-timeout 2s --body-min-rate 200 --body-buffer-size 4k --connection-timeout 30s \
	--access-log "$T/access.log"
wait_port "$HP"

# metric SERIES: its value in a fresh scrape of the admin listener
metric() {
	local v
	v=$(acurl /metrics | awk -v s="$1" '$1 == s { print $2 }')
	[[ -n $v ]] || fail "no series $1 in /metrics"
	printf '%s\n' "$v"
}
# busy: origin connections open and not idle in the pool
busy() {
	local p
	p=$(acurl /metrics)
	awk -v o="edged_origin_connections{origin=\"https://127.0.0.1:$ORIGIN_PORT\",state=\"open\"}" \
		-v i="edged_origin_connections{origin=\"https://127.0.0.1:$ORIGIN_PORT\",state=\"idle\"}" \
		'$1 == o { open = $2 } $1 == i { idle = $2 } END { print open - idle }' <<<"$p"
}
TIMEOUTS_BODY='edged_viewer_timeouts_total{waiting_for="body"}'
decrypts() { grep -c 'event=trace .*step=decrypt' "$T/origin.log" || true; }

# slow_post NAME CL FIRST N DELAY [tls]: POST /cgi-bin/echo.cgi declaring
# Content-Length CL, FIRST body bytes with the head, then N more, one every
# DELAY seconds; reads until the edge closes (at most 12 s).  The answer is
# in $T/NAME.out, the log's last line "rc=R ms=M" (R 124: our 12 s ran
# out; M: from connect to the close).  Plain HTTP, or TLS with "tls".
slow_post() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	start_bg "$1" bash -c '
		send() {
			printf "POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: edge.test\r\nContent-Length: %s\r\n\r\n" "$1"
			head -c "$2" /dev/zero | tr "\0" a
			for ((i = 0; i < $3; i++)); do sleep "$4"; printf b || exit 0; done
			sleep 20
		}
		s=$(date +%s%N)
		if [[ $7 == tls ]]; then
			mkfifo "$5.in"
			send "$@" >"$5.in" 2>/dev/null &
			w=$!
			timeout 12 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$0" \
				-servername edge.test -verify_return_error -CAfile "$6" <"$5.in" >"$5" 2>/dev/null
			rc=$?
		else
			exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 9
			send "$@" >&3 2>/dev/null &
			w=$!
			timeout 12 cat <&3 >"$5"; rc=$?
		fi
		echo "rc=$rc ms=$((($(date +%s%N) - s) / 1000000))"
		kill "$w" 2>/dev/null
		exit 0' "$( [[ ${6:-} == tls ]] && echo "$EDGE_PORT" || echo "$HP")" \
		"$2" "$3" "$4" "$5" "$T/$1.out" "$T/pki/ca.pem" "${6:-plain}"
}

# cut NAME: NAME ended because the edge closed its connection (not by our
# 12 s), without an answer
cut() {
	local line rc ms
	wait_bg "$1" 25
	line=$(grep '^rc=' "$T/$1.log" | tail -n 1)
	rc=$(sed -n 's/^rc=\([0-9]*\) .*/\1/p' <<<"$line")
	ms=$(sed -n 's/.* ms=\([0-9]*\)$/\1/p' <<<"$line")
	[[ -n $rc && -n $ms ]] || fail "$1: no result line in its log: $(_show "$(cat "$T/$1.log")")"
	[[ $rc -ne 124 ]] || fail "$1: the edge did not close the connection of a slow body within 12 s"
	expect_not_contains "$(cat "$T/$1.out")" "HTTP/1.1 200"
	note "$1 cut by the edge after ${ms} ms"
}

expect_eq "$(metric "$TIMEOUTS_BODY")" 0 "body timeouts at start"

# ---- the gap: a body that stops, plain HTTP and TLS ----------------------------
slow_post gap_http 10 2 0 0
slow_post gap_tls 10 2 0 0 tls
# ---- the rate: one byte a second (every gap < body_timeout) ----------------------
slow_post rate_http 100 0 100 1
# ---- a streamed body (over body_buffer_size) that stalls ------------------------
slow_post stream_http 100000 8192 0 0

# the streamed body holds an origin connection while it arrives
n=0
for _ in $(seq 1 15); do
	n=$(busy)
	[[ $n == 1 ]] && break
	sleep 0.1
done
expect_eq "$n" 1 "busy origin connections while the streamed body stalls"

# meanwhile other viewers are served
for i in 1 2 3 4; do
	expect_eq "$(ecurl -m 5 /)" "healthy" "GET / number $i during the slow bodies"
	sleep 0.5
done

cut gap_http
cut gap_tls
cut rate_http
cut stream_http
pass "bodies that stop (HTTP, TLS), one trickled at 1 B/s, a streamed one that stalls: cut, no answer"

log=$(cat "$T/edge.log")
expect_contains "$log" "waiting_for=body"
expect_contains "$log" "event=request.body_timeout"
expect_match "$log" "event=request.body_timeout [^\n]*received=8192 expected=100000 [^\n]*origin=abandoned"
expect_match "$log" "event=request.body_timeout [^\n]*received=2 expected=10 [^\n]*origin=never"
expect_eq "$(metric "$TIMEOUTS_BODY")" 4 "edged_viewer_timeouts_total{waiting_for=body}"
# 408 in the access log (as nginx logs a body timeout)
for _ in $(seq 1 30); do
	(($(grep -c $'\t408\t' "$T/access.log" || true) >= 4)) && break
	sleep 0.1
done
expect_eq "$(grep -c $'\t408\t' "$T/access.log" || true)" 4 "access-log lines with status 408"
pass "request.body_timeout logged (origin abandoned / never contacted), 4 counted, 408 in the access log"

# the streamed body's origin exchange ended when the viewer was cut: origind
# saw its POST end aborted, and edged keeps no origin connection open
wait_log origin 'result=aborted' 8
n=0
for _ in $(seq 1 50); do
	n=$(busy)
	[[ $n == 0 ]] && break
	sleep 0.1
done
expect_eq "$n" 0 "busy origin connections after the streamed body was cut"
pass "the stalled streamed body's origin exchange was abandoned (origind: result=aborted; edged: 0 open)"

# ---- a small body reaches the origin only once complete ---------------------------
d0=$(decrypts)
exec {SB}<>"/dev/tcp/127.0.0.1/$HP"
printf 'POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n' >&"$SB"
head -c 500 /dev/zero | tr '\0' x >&"$SB"
sleep 1.2
expect_eq "$(decrypts)" "$d0" "requests origind saw while a 1000-byte body was half sent"
expect_eq "$(busy)" 0 "busy origin connections while a small body arrives"
head -c 500 /dev/zero | tr '\0' y >&"$SB"
SBOUT=$(timeout 10 cat <&"$SB") || true
exec {SB}>&-
expect_contains "$SBOUT" "HTTP/1.1 200 OK"
# (echo.cgi's answer is chunked: the 1000 bytes are in one chunk or more)
body=$(tr -d '\r\n0-9a-fA-F' <<<"${SBOUT#*$'\r\n\r\n'}")
expect_eq "$body" "$(head -c 500 /dev/zero | tr '\0' x)$(head -c 500 /dev/zero | tr '\0' y)" "the echoed body"
expect_eq "$(decrypts)" "$((d0 + 1))" "requests origind saw once the small body was complete"
pass "a 1000-byte body (<= body_buffer_size) reached origind only once complete, whole"

# a small chunked body goes to the origin with a Content-Length
eget -H 'Transfer-Encoding: chunked' --data-binary 'hello chunks' /cgi-bin/env.cgi
expect_eq "$CODE" 200 "status of a small chunked POST"
expect_eq "$(var CONTENT_LENGTH)" 12 "CONTENT_LENGTH the origin saw for a buffered chunked body"
pass "a small chunked body is sent with Content-Length: 12"

# ---- a body that keeps the rate is not cut ----------------------------------------
# 40 bytes, one every 0.1 s after 1 KiB: 400 B/s, over body_min_rate
exec {SB}<>"/dev/tcp/127.0.0.1/$HP"
printf 'POST /cgi-bin/echo.cgi HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 1064\r\nConnection: close\r\n\r\n' >&"$SB"
head -c 1024 /dev/zero | tr '\0' z >&"$SB"
for _ in $(seq 1 40); do
	sleep 0.1
	printf 'r' 1>&"$SB" 2>/dev/null || fail "the edge closed a body arriving at 400 B/s"
done
SBOUT=$(timeout 10 cat <&"$SB") || true
exec {SB}>&-
expect_contains "$SBOUT" "HTTP/1.1 200 OK"
expect_eq "$(metric "$TIMEOUTS_BODY")" 4 "body timeouts after a body that kept the rate"
pass "a body arriving at 400 B/s over 4 s (body_min_rate 200) is served"

ehealthy

# ---- bad values are refused at start, naming the key --------------------------------
bad_start "body_timeout 0" "--body-timeout" --body-timeout 0
bad_start "body_min_rate -1" "--body-min-rate" --body-min-rate -1
bad_start "body_buffer_size 32MiB" "--body-buffer-size" --body-buffer-size 32MiB
bad_start "send_timeout 1ms" "--send-timeout" --send-timeout 1ms
bad_start "send_min_rate abc" "--send-min-rate" --send-min-rate abc
bad_start "origin_max_connections -1" "--origin-max-connections" --origin-max-connections -1
pass "bad body/send limits and origin_max_connections refused at start, naming the key"
