#!/usr/bin/env bash
# t0428: slow readers (--send-timeout 2s --send-min-rate 1k).  A viewer
# that asks for a 16 MiB file and never reads (a cache hit), and one that
# reads 256 bytes every half second (a miss streamed from the origin),
# are reset by the watchdog: request.send_timeout logged, counted in
# edged_viewer_timeouts_total{waiting_for="response"}, no request in
# flight and no viewer or origin connection held afterwards, while the
# clients still hold their ends.  Not cut: an origin that stalls in the
# middle of its body (edged's send queue is empty: the origin is the slow
# side; the origin timeout ends that one), a download limited to 300 KB/s
# that lasts several times send_timeout, and a fast one (sha256 checked).
# Before the fix only connection_timeout applied, and it restarts on every
# byte sent: a reader taking a few bytes now and then held its thread and
# the origin connection for as long as the download lasted.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

mkdir -p "$T/www"
head -c 16777216 /dev/urandom >"$T/www/big.bin"
head -c 2097152 /dev/urandom >"$T/www/two.bin"
start_www_origind origin
HP=$(free_port)
start_edged edge --listen-http "127.0.0.1:$HP" --viewer-protocol-policy allow-all \
	--send-timeout 2s --send-min-rate 1k --origin-response-timeout 4s --connection-timeout 30s
wait_port "$HP"

metric() {
	acurl /metrics | awk -v s="$1" '$1 == s { print $2 }'
}
RESP='edged_viewer_timeouts_total{waiting_for="response"}'
# busy: origin connections open and not idle in the pool
busy() {
	acurl /metrics | awk -v p="https://127.0.0.1:$ORIGIN_PORT" '
		$1 == "edged_origin_connections{origin=\"" p "\",state=\"open\"}" { o = $2 }
		$1 == "edged_origin_connections{origin=\"" p "\",state=\"idle\"}" { i = $2 }
		END { print o - i }'
}
# settled SERIES WANT: wait (5 s) until the metric SERIES is WANT
settled() {
	local v=
	for _ in $(seq 1 50); do
		v=$(metric "$1")
		[[ $v == "$2" ]] && return 0
		sleep 0.1
	done
	fail "$1 is '$v', want '$2'"
}

# ---- not cut: an origin that stalls, a rate-limited download, a fast one ------------
eget -m 15 /cgi-bin/slowbody.cgi
note "stalled origin body: curl exit $CRC, $(stat -c %s "$T/body") bytes"
expect_contains "$(cat "$T/body")" "partial body"
wait_log edge "event=origin.body_failed" 8
expect_eq "$(metric "$RESP")" 0 "response timeouts after an origin stalled mid-body"
expect_not_contains "$(cat "$T/edge.log")" "waiting_for=response"
pass "an origin stalling mid-body is the origin's timeout (4 s), not the viewer's send_timeout (2 s)"

t0=$(date +%s%N)
eget --limit-rate 300k /two.bin
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$CODE" 200 "status of a 300 KB/s download"
expect_eq "$(file_sha "$T/body")" "$(file_sha "$T/www/two.bin")" "sha256 of the 300 KB/s download"
note "2 MiB at 300 KB/s took $ms ms"
eget /big.bin # a fast reader; the file is cached from here on
expect_eq "$(file_sha "$T/body")" "$(file_sha "$T/www/big.bin")" "sha256 of a fast 16 MiB download"
expect_eq "$(metric "$RESP")" 0 "response timeouts after two downloads that kept up"
pass "a 2 MiB download at 300 KB/s ($ms ms) and a fast 16 MiB one are served whole"

# ---- a viewer that never reads (a cache hit) ------------------------------------------
exec {NR}<>"/dev/tcp/127.0.0.1/$HP"
printf 'GET /big.bin HTTP/1.1\r\nHost: edge.test\r\n\r\n' >&"$NR"
settled "$RESP" 1
settled edged_inflight_requests 0
settled edged_viewer_connections 0
expect_match "$(cat "$T/edge.log")" "event=request.send_timeout id=[^ ]* status=200 "
pass "a viewer that never reads a 16 MiB hit is reset (no request, no connection left)"

# ---- a viewer reading 512 B/s (a miss streamed from the origin) -------------------------
exec {SR}<>"/dev/tcp/127.0.0.1/$HP"
printf 'GET /big.bin?miss HTTP/1.1\r\nHost: edge.test\r\n\r\n' >&"$SR"
(
	for _ in $(seq 1 60); do
		dd bs=256 count=1 <&"$SR" >/dev/null 2>&1 || exit 0
		sleep 0.5
	done
) &
_BG_PIDS+=("$!")
_BG_NAMES+=(slow_reader)
settled "$RESP" 2
settled edged_inflight_requests 0
settled edged_viewer_connections 0
n=0
for _ in $(seq 1 50); do
	n=$(busy)
	[[ $n == 0 ]] && break
	sleep 0.1
done
expect_eq "$n" 0 "busy origin connections after the slow reader was cut"
stop_bg slow_reader
exec {NR}>&- {SR}>&-
grep 'event=viewer.timeout.*waiting_for=response' "$T/edge.log" | while read -r l; do note "${l#*event=}"; done
pass "a viewer reading 512 B/s of a miss is reset; its origin connection is not held"

expect_eq "$(ecurl /)" healthy "GET / afterwards"
