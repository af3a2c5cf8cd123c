#!/usr/bin/env bash
# t0207: the body after the head is streamed: several MB arrive intact
# (sha256) over HTTP/1.1 (chunked) and HTTP/1.0, from parallel requests
# too, and are counted as bytes sent; HEAD and a client that goes away
# mid-stream leave no script process behind.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind --cgi-timeout 30s --trace
want=$(seq 1 1000000 | sha256sum | cut -d' ' -f1)
size=$(seq 1 1000000 | wc -c)

cget /cgi-bin/big.cgi
expect_eq "$CODE" 200 "big.cgi status"
expect_eq "$(header Transfer-Encoding)" chunked "big.cgi framing"
expect_eq "$(stat -c %s "$T/body")" "$size" "big.cgi size"
expect_eq "$(file_sha "$T/body")" "$want" "big.cgi sha256"
wait_log origind "step=encrypt bytes=$size "
pass "big.cgi: $size bytes intact (chunked); the trace counts $size bytes sent"

cget -0 '/cgi-bin/big.cgi?2000000'
expect_eq "$CODE" 200 "big.cgi HTTP/1.0 status"
expect_eq "$(file_sha "$T/body")" "$(seq 1 2000000 | sha256sum | cut -d' ' -f1)" "HTTP/1.0 sha256"
pass "HTTP/1.0: $(stat -c %s "$T/body") bytes intact, ended by the close"

pids=()
for i in 1 2 3 4 5 6; do
	ocurl -o "$T/par$i" "/cgi-bin/big.cgi?$((200000 + i))" &
	pids+=($!)
done
for i in 1 2 3 4 5 6; do
	wait "${pids[$((i - 1))]}" || fail "parallel request $i failed"
	expect_eq "$(file_sha "$T/par$i")" "$(seq 1 $((200000 + i)) | sha256sum | cut -d' ' -f1)" \
		"parallel body $i"
done
pass "6 parallel streams: each intact"

cget -I /cgi-bin/big.cgi
expect_eq "$CODE" 200 "HEAD big.cgi"
wait_no_kids 3
pass "HEAD of a big body: no body, the script stopped"

rc=0
ocurl -o /dev/null --limit-rate 100k --max-time 1 '/cgi-bin/big.cgi?5000000' 2>/dev/null || rc=$?
expect_eq "$rc" 28 "curl exit (gave up after 1 s)"
wait_no_kids 5
kill -0 "$ORIGIN_PID" || fail "origind died"
cget /cgi-bin/status.cgi
expect_eq "$CODE" 201 "a request after the disconnect"
pass "client gone mid-stream: the script is killed and reaped, origind serves on"
