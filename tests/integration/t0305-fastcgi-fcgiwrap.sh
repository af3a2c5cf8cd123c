#!/usr/bin/env bash
# t0305: fcgiwrap (a FastCGI server that runs CGI scripts named by
# SCRIPT_FILENAME) behind origind: a shell script's Status, fields and
# body; its environment (request variables, HTTPS, SSL_*); its stderr
# (fcgiwrap -f sends it as FastCGI STDERR) logged line by line; a 1 MiB
# body through cat; connections kept across requests; a script that does
# not exist is fcgiwrap's 403 (and its complaint logged), not a hang.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_fcgiwrap
start_origind origind --docroot "$DOCROOT" --fastcgi "/cgi/=unix:$WRAP_SOCK"
real=$(realpath "$DOCROOT")

fget '/cgi/hello.sh?x=1&y=2'
expect_eq "$CODE" 201 "hello.sh status"
expect_eq "$(fheader Content-Type)" text/plain "hello.sh Content-Type"
expect_eq "$(fheader X-Script)" hello.sh "hello.sh X-Script"
expect_eq "$(printf '%s\n' "$BODY" | head -n 1)" "hello from hello.sh" "hello.sh first line"
expect_contains "$BODY" "method=GET query=x=1&y=2 https=on script_name=/cgi/hello.sh"
expect_contains "$BODY" "sni=origin.test protocol=TLSv1.3"
pass "a shell CGI script under fcgiwrap: 201, its fields and body"

wait_log origind 'event=fcgi.stderr'
wait_log origind "backend=unix:$WRAP_SOCK line=\"hello.sh says hi on stderr\""
pass "the script's stderr line logged (fcgi.stderr)"

fget -H 'X-Thing: 42' '/cgi/env.sh?q'
expect_eq "$CODE" 200 "env.sh status"
expect_eq "$(fvar SCRIPT_FILENAME)" "$real/cgi/env.sh" SCRIPT_FILENAME
expect_eq "$(fvar SCRIPT_NAME)" /cgi/env.sh SCRIPT_NAME
expect_eq "$(fvar REQUEST_METHOD)" GET REQUEST_METHOD
expect_eq "$(fvar QUERY_STRING)" q QUERY_STRING
expect_eq "$(fvar HTTPS)" on HTTPS
expect_eq "$(fvar SSL_SESSION_RESUMED)" Initial SSL_SESSION_RESUMED
expect_eq "$(fvar HTTP_X_THING)" 42 HTTP_X_THING
pass "the script's environment: SCRIPT_FILENAME=$real/cgi/env.sh, request and TLS variables"

head -c 1048576 /dev/urandom >"$T/in.bin"
fget -H 'Content-Type: application/octet-stream' --data-binary "@$T/in.bin" /cgi/cat.sh
expect_eq "$CODE" 200 "cat.sh status"
expect_eq "$(file_sha "$T/body")" "$(file_sha "$T/in.bin")" "sha256 of the body through cat"
pass "1 MiB POST through fcgiwrap and cat, byte for byte"

first=$(unix_conns "$WRAP_SOCK")
[[ $first =~ ^[0-9]+$ ]] || fail "want one kept connection to fcgiwrap, have: '$first'"
for i in 1 2 3; do
	fget "/cgi/hello.sh?n=$i"
	expect_eq "$CODE" 201 "hello.sh, request $i"
	expect_eq "$(unix_conns "$WRAP_SOCK")" "$first" "connections to fcgiwrap after request $i"
done
pass "fcgiwrap honours FCGI_KEEP_CONN: one connection (inode $first) for every request"

fget /cgi/nosuch.sh
expect_eq "$CODE" 403 "a script that does not exist (fcgiwrap answers 403)"
wait_log origind 'line="Cannot get script name'
fget /cgi/hello.sh
expect_eq "$CODE" 201 "hello.sh after a 403"
pass "a missing script: fcgiwrap's 403 and its complaint logged; the next request is served"
