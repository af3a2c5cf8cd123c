#!/usr/bin/env bash
# t0309: the FastCGI protocol against a scripted responder (fcgi-fake.pl):
# what origind sends (BEGIN_REQUEST role RESPONDER with FCGI_KEEP_CONN,
# PARAMS records of whole pairs, a pair longer than a record split across
# records, STDIN records of at most 65535 bytes), what it accepts (STDOUT
# in records of any size with padding, a response written one byte per
# write, management records, STDERR split mid-line), protocol statuses
# (OVERLOADED 503; CANT_MPX_CONN, UNKNOWN_ROLE 502), broken answers (no
# output, a malformed head, HTTP instead of FastCGI, a wrong request id,
# an early close, half a head: 502; a close mid-body: truncated), an
# application that answers before reading its input or never reads it,
# and connection handling (kept across requests; a connection the
# application closes is not reused).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_fake
start_origind origind --fastcgi "/fake/=unix:$FAKE_SOCK" --cgi-timeout 10s \
	--max-header-size 256k --log-level debug

conns() { grep -c '^conn ' "$T/fake.log" || true; }

# the last fcgi.fail line's "why"
last_why() {
	grep 'event=fcgi.fail' "$T/origind.log" | tail -n 1 | sed 's/.* why=//'
}

fget -H 'X-Short: abc' '/fake/params?q=1'
expect_eq "$CODE" 200 "params status"
expect_contains "$BODY" "role=1 flags=1"
expect_contains "$BODY" "params_whole_pairs=1"
expect_contains "$BODY" "stdin_records=0 stdin_bytes=0"
expect_contains "$BODY" "SCRIPT_NAME=/fake/params"
expect_contains "$BODY" "QUERY_STRING=q=1"
expect_contains "$BODY" "HTTPS=on"
expect_contains "$BODY" "HTTP_X_SHORT=abc"
expect_not_contains "$BODY" "SCRIPT_FILENAME="
pass "BEGIN_REQUEST: RESPONDER, FCGI_KEEP_CONN; PARAMS of whole pairs; no SCRIPT_FILENAME without a docroot"

big=$(head -c 100000 /dev/zero | tr '\0' 'b')
fget -H "X-Big: $big" /fake/params
expect_eq "$CODE" 200 "params with a 100000-byte header"
expect_contains "$BODY" "HTTP_X_BIG=length 100000"
# the pairs before it fill one record; the big one starts a new record and
# runs on into a third
expect_match "$BODY" 'params_lens=[0-9]+,65535,[0-9]+'$'\n'
pass "a 100000-byte pair spans PARAMS records (a fresh record of 65535, then the rest), arrives whole"

head -c 1000000 /dev/urandom >"$T/in.bin"
fget -H 'Content-Type: application/octet-stream' --data-binary "@$T/in.bin" /fake/echo
expect_eq "$CODE" 200 "echo status"
expect_eq "$(file_sha "$T/body")" "$(file_sha "$T/in.bin")" "sha256 of the echoed body"
expect_eq "$(fheader X-Stdin-Max-Record)" 65535 "largest STDIN record"
expect_eq "$(fheader X-Stdin-Records)" 16 "STDIN records for 1000000 bytes"
pass "1000000 bytes as 16 STDIN records of at most 65535, echoed in odd-sized padded STDOUT records"

before=$(conns)
for i in 1 2 3; do
	fget /fake/params
	expect_eq "$CODE" 200 "params, request $i"
done
expect_eq "$(conns)" "$before" "connections accepted by the fake over 3 more requests"
pass "kept connection: 3 more requests, no new connection (total $(conns))"

fget /fake/split
expect_eq "$CODE" 200 "split status"
expect_eq "$BODY" "written one byte at a time" "split body"
wait_log origind 'line="a stderr line"'
pass "a response written one byte per write (records split everywhere) is read whole"

fget /fake/mgmt
expect_eq "$CODE" 200 "mgmt status"
expect_eq "$BODY" "after a management record" "mgmt body"
wait_log origind "event=fcgi.management"
pass "a management record (request id 0) is skipped"

fget /fake/stderr
expect_eq "$CODE" 200 "stderr status"
wait_log origind 'line="first line"'
wait_log origind 'line="second line"'
wait_log origind 'line="third line, no newline"'
pass "STDERR split mid-line: logged as whole lines (CR dropped; the last, unended, at the end)"

fget /fake/appstatus
expect_eq "$CODE" 200 "appStatus 3"
expect_eq "$BODY" "exit status 3" "appstatus body"
pass "a non-zero appStatus with a complete answer is still the answer"

before=$(conns)
fget /fake/nokeep
expect_eq "$CODE" 200 "nokeep status"
fget /fake/params
expect_eq "$CODE" 200 "the request after nokeep"
expect_eq "$(conns)" "$((before + 1))" "connections after nokeep and one more request"
wait_log origind "why=closed_by_app"
pass "an application that closes despite FCGI_KEEP_CONN: its connection dropped, a new one used"

check_fail() { # PATH CODE WHY-ERE
	fget "$1"
	expect_eq "$CODE" "$2" "$1 status"
	expect_match "$(last_why)" "$3"
	kill -0 "$ORIGIN_PID" || fail "origind died on $1"
}
check_fail /fake/overloaded 503 "OVERLOADED \\(protocol status 2\\)"
check_fail /fake/cantmpx 502 "CANT_MPX_CONN \\(protocol status 1\\)"
check_fail /fake/unknownrole 502 "UNKNOWN_ROLE \\(protocol status 3\\)"
pass "END_REQUEST protocol statuses: OVERLOADED 503, CANT_MPX_CONN and UNKNOWN_ROLE 502"

check_fail /fake/endnohead 502 "without output"
check_fail /fake/badhead 502 "malformed header"
check_fail /fake/http 502 "protocol error: fcgi: record version 72"
check_fail /fake/wrongid 502 "protocol error: record of type 6 for request id 2"
# a plain close, or a reset when the request was still unread
check_fail /fake/closeearly 502 "(closed the connection|connection lost) before any output"
check_fail /fake/halfhead 502 "before the end of the response head"
pass "broken answers: no output, malformed head, HTTP, wrong id, early close, half a head: 502"

fget /fake/midbody
expect_eq "$CODE" 200 "midbody status (the head came)"
expect_eq "$BODY" "the first part" "midbody body so far"
[[ $CRC -ne 0 ]] || fail "curl saw a complete response; want a truncated one"
wait_log origind "before the end of the response"
pass "a close mid-body: truncated response (curl exit $CRC)"

head -c 4194304 /dev/urandom >"$T/in4.bin"
for mode in early neverread; do
	t0=$(date +%s%3N)
	fget --data-binary "@$T/in4.bin" "/fake/$mode"
	ms=$(($(date +%s%3N) - t0))
	expect_eq "$CODE" 200 "$mode status"
	[[ $ms -lt 5000 ]] || fail "$mode took ${ms} ms"
done
expect_eq "$BODY" "ignored your body" "neverread body"
pass "an application that answers before reading a 4 MiB body, or never reads it: no deadlock"

fget /fake/params
expect_eq "$CODE" 200 "params at the end"
kill -0 "$ORIGIN_PID" || fail "origind died"
pass "origind still serves the application"
