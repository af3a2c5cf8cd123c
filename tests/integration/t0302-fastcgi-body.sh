#!/usr/bin/env bash
# t0302: request bodies reach PHP byte for byte as FastCGI STDIN records
# and come back on STDOUT: 1 MiB of binary data over the unix and the TCP
# backend, a chunked upload, an empty POST, a 5 MiB answer streamed from
# PHP; CONTENT_LENGTH is the received size.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_phpfpm
start_origind origind --docroot "$DOCROOT" --cgi-timeout 20s \
	--fastcgi "/php/=unix:$PHP_SOCK" --fastcgi "/tcp/=127.0.0.1:$PHP_PORT"

head -c 1048576 /dev/urandom >"$T/in.bin"
printf '\0\r\n\377 a zero, CR LF and 0xff\0' >>"$T/in.bin"
size=$(stat -c %s "$T/in.bin")
sha=$(file_sha "$T/in.bin")

for p in /php /tcp; do
	fget -H 'Content-Type: application/octet-stream' --data-binary "@$T/in.bin" "$p/echo.php"
	expect_eq "$CODE" 200 "$p/echo.php status"
	expect_eq "$(fheader Content-Type)" application/octet-stream "$p/echo.php Content-Type"
	expect_eq "$(fheader X-Body-Length)" "$size" "body length PHP read ($p)"
	expect_eq "$(fheader X-Body-Sha256)" "$sha" "sha256 of the body PHP read ($p)"
	expect_eq "$(file_sha "$T/body")" "$sha" "sha256 of the echoed body ($p)"
done
pass "POST of $size binary bytes over unix and TCP: PHP read it intact, echoed byte for byte"

fget -H 'Content-Type: application/octet-stream' --data-binary "@$T/in.bin" /php/env.php
expect_eq "$(fvar CONTENT_LENGTH)" "$size" CONTENT_LENGTH
expect_eq "$(fvar BODY_BYTES)" "$size" "bytes PHP read"
pass "CONTENT_LENGTH=$size"

fget -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
	--data-binary "@$T/in.bin" /php/echo.php
expect_eq "$CODE" 200 "chunked upload status"
expect_eq "$(fheader X-Body-Sha256)" "$sha" "sha256 PHP read of a chunked body"
expect_eq "$(file_sha "$T/body")" "$sha" "sha256 of the echoed chunked body"
pass "chunked upload: PHP read it intact"

fget -X POST --data-binary '' /php/echo.php
expect_eq "$CODE" 200 "empty POST status"
expect_eq "$(fheader X-Body-Length)" 0 "empty POST length PHP read"
expect_eq "$(stat -c %s "$T/body")" 0 "empty POST echoed size"
fget /php/echo.php
expect_eq "$CODE" 200 "GET to echo.php"
expect_eq "$(fheader X-Body-Length)" 0 "GET body length PHP read"
pass "empty POST and GET: PHP reads an empty body at once"

for p in /php /tcp; do
	fget "$p/big.php?mb=5"
	expect_eq "$CODE" 200 "$p/big.php status"
	expect_eq "$(stat -c %s "$T/body")" 5242880 "big.php size ($p)"
	expect_eq "$(file_sha "$T/body")" "$(fheader X-Sha256)" "sha256 of big.php's answer ($p)"
done
pass "5 MiB streamed from PHP (many STDOUT records) over unix and TCP, intact"
