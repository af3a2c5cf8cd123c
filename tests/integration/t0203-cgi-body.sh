#!/usr/bin/env bash
# t0203: the request body reaches the script's stdin byte for byte
# (binary, 1.5 MB; chunked; empty) and stdin is closed after it; no
# deadlock when a script writes more than a pipe holds before it reads
# its input, and none when it never reads it (origind survives EPIPE).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind --cgi-timeout 20s
head -c 1572864 /dev/urandom >"$T/in.bin"
printf '\0\r\n\377 a zero, CR LF and 0xff\0' >>"$T/in.bin"
size=$(stat -c %s "$T/in.bin")

cget -H 'Content-Type: application/octet-stream' --data-binary "@$T/in.bin" /cgi-bin/echo.cgi
expect_eq "$CODE" 200 "echo.cgi status"
expect_eq "$(header Content-Type)" application/octet-stream "echo.cgi Content-Type"
expect_eq "$(file_sha "$T/body")" "$(file_sha "$T/in.bin")" "sha256 of the echoed body"
pass "POST of $size binary bytes: echoed byte for byte"

cget -H 'Content-Type: application/octet-stream' --data-binary "@$T/in.bin" /cgi-bin/env.cgi
expect_eq "$(var CONTENT_LENGTH)" "$size" CONTENT_LENGTH
pass "CONTENT_LENGTH=$size"

cget -H 'Transfer-Encoding: chunked' --data-binary "@$T/in.bin" /cgi-bin/echo.cgi
expect_eq "$CODE" 200 "chunked upload status"
expect_eq "$(file_sha "$T/body")" "$(file_sha "$T/in.bin")" "sha256 of the echoed chunked body"
cget -H 'Transfer-Encoding: chunked' --data-binary "@$T/in.bin" /cgi-bin/env.cgi
expect_eq "$(var CONTENT_LENGTH)" "$size" "CONTENT_LENGTH of a chunked body"
pass "chunked upload: echoed byte for byte, CONTENT_LENGTH is the received size"

cget -X POST --data-binary '' /cgi-bin/echo.cgi
expect_eq "$CODE" 200 "empty POST status"
expect_eq "$(stat -c %s "$T/body")" 0 "empty POST echoed size"
cget /cgi-bin/echo.cgi
expect_eq "$CODE" 200 "GET to echo.cgi"
expect_eq "$(stat -c %s "$T/body")" 0 "GET echoed size (stdin at EOF at once)"
pass "empty body and GET: the script reads EOF at once (cat ends)"

head -c 2097152 /dev/urandom >"$T/in2.bin"
cget --data-binary "@$T/in2.bin" /cgi-bin/earlyout.cgi
expect_eq "$CODE" 200 "earlyout.cgi status"
expect_eq "$(head -n 1 "$T/body" | wc -c)" 262145 "earlyout.cgi's first line"
expect_eq "$(tail -n 1 "$T/body")" "$(file_sha "$T/in2.bin")" "sha256 earlyout.cgi read"
pass "256 KiB of output before reading a 2 MiB body: no deadlock, body intact"

head -c 4194304 /dev/urandom >"$T/in4.bin"
for i in 1 2 3; do
	cget --data-binary "@$T/in4.bin" /cgi-bin/neverread.cgi
	expect_eq "$CODE" 200 "neverread.cgi status (try $i)"
	expect_eq "$BODY" "ignored your body" "neverread.cgi body"
done
kill -0 "$ORIGIN_PID" || fail "origind died"
cget /cgi-bin/env.cgi
expect_eq "$CODE" 200 "a request after neverread.cgi"
pass "a script that never reads a 4 MiB body: answered, origind alive (EPIPE handled)"
