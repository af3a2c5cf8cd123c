#!/usr/bin/env bash
# t0300: php-fpm behind origind over a unix socket: PHP's $_SERVER holds
# the request (REQUEST_METHOD, QUERY_STRING, REQUEST_URI, SCRIPT_NAME,
# SCRIPT_FILENAME under the docroot, CONTENT_*), HTTPS=on and mod_ssl's
# SSL_* facts of the connection (protocol and cipher for TLS 1.3 and 1.2,
# SNI, Initial then Resumed), SSL_CLIENT_VERIFY=NONE without a client
# certificate, header fields as HTTP_* (never HTTP_PROXY); every method;
# HEAD; PHP's error_log() (FastCGI STDERR) reaches origind's log; php-fpm's
# own 404 passes through.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_phpfpm
start_origind origind --docroot "$DOCROOT" --fastcgi "/php/=unix:$PHP_SOCK"
real=$(realpath "$DOCROOT")

fget -H 'X-Custom-Thing: hello there' -H 'Proxy: http://evil.test/' \
	'/php/env.php?a=1&b=two%20words'
expect_eq "$CODE" 200 "env.php status"
expect_eq "$(fheader Content-Type)" "text/plain;charset=UTF-8" "Content-Type from PHP"
expect_eq "$(fvar REQUEST_METHOD)" GET REQUEST_METHOD
expect_eq "$(fvar QUERY_STRING)" 'a=1&b=two%20words' QUERY_STRING
expect_eq "$(fvar REQUEST_URI)" '/php/env.php?a=1&b=two%20words' REQUEST_URI
expect_eq "$(fvar SCRIPT_NAME)" /php/env.php SCRIPT_NAME
expect_eq "$(fvar SCRIPT_FILENAME)" "$real/php/env.php" SCRIPT_FILENAME
expect_eq "$(fvar DOCUMENT_ROOT)" "$real" DOCUMENT_ROOT
expect_eq "$(fvar PHP_SELF)" /php/env.php "PHP_SELF (PHP's own reading of SCRIPT_NAME)"
expect_eq "$(fvar GATEWAY_INTERFACE)" CGI/1.1 GATEWAY_INTERFACE
expect_eq "$(fvar SERVER_PROTOCOL)" HTTP/1.1 SERVER_PROTOCOL
expect_eq "$(fvar SERVER_NAME)" origin.test SERVER_NAME
expect_eq "$(fvar SERVER_PORT)" "$ORIGIN_PORT" SERVER_PORT
expect_eq "$(fvar REMOTE_ADDR)" 127.0.0.1 REMOTE_ADDR
expect_eq "$(fvar HTTP_HOST)" "origin.test:$ORIGIN_PORT" HTTP_HOST
expect_eq "$(fvar HTTP_X_CUSTOM_THING)" "hello there" HTTP_X_CUSTOM_THING
expect_eq "$(fvar FCGI_ROLE)" RESPONDER "FCGI_ROLE (php-fpm's view of BEGIN_REQUEST)"
expect_not_contains "$BODY" "HTTP_PROXY="
pass "request variables: method, query, URI, script name and file, headers (no HTTP_PROXY)"

expect_eq "$(fvar HTTPS)" on HTTPS
expect_eq "$(fvar SSL_PROTOCOL)" TLSv1.3 SSL_PROTOCOL
expect_match "$(fvar SSL_CIPHER)" '^TLS_(AES|CHACHA20)_[A-Z0-9_]+$'
expect_eq "$(fvar SSL_TLS_SNI)" origin.test SSL_TLS_SNI
expect_eq "$(fvar SSL_SESSION_RESUMED)" Initial SSL_SESSION_RESUMED
expect_eq "$(fvar SSL_CLIENT_VERIFY)" NONE SSL_CLIENT_VERIFY
expect_not_contains "$BODY" "SSL_CLIENT_S_DN="
pass "TLS 1.3: HTTPS=on, SSL_PROTOCOL, SSL_CIPHER=$(fvar SSL_CIPHER), SNI, Initial, no client cert"

fget --tlsv1.2 --tls-max 1.2 /php/env.php
expect_eq "$CODE" 200 "env.php over TLS 1.2"
expect_eq "$(fvar SSL_PROTOCOL)" TLSv1.2 "SSL_PROTOCOL (TLS 1.2)"
expect_match "$(fvar SSL_CIPHER)" '^TLS_ECDHE_(ECDSA|RSA)_WITH_[A-Z0-9_]+$'
pass "TLS 1.2: SSL_PROTOCOL=TLSv1.2, SSL_CIPHER=$(fvar SSL_CIPHER)"

# two URLs in one curl: the first closes its connection, so the second
# needs a new one, which resumes the first's session
out=$(ocurl -H 'Connection: close' "https://origin.test:$ORIGIN_PORT/php/env.php" /php/env.php)
expect_eq "$(printf '%s\n' "$out" | grep '^SSL_SESSION_RESUMED=' | tr '\n' ' ')" \
	"SSL_SESSION_RESUMED=Initial SSL_SESSION_RESUMED=Resumed " "SSL_SESSION_RESUMED, twice"
pass "a resumed TLS 1.3 session: SSL_SESSION_RESUMED=Resumed"

printf 'name=value&x=%%41' >"$T/form"
fget -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$T/form" \
	/php/env.php
expect_eq "$(fvar REQUEST_METHOD)" POST "REQUEST_METHOD (POST)"
expect_eq "$(fvar CONTENT_TYPE)" application/x-www-form-urlencoded CONTENT_TYPE
expect_eq "$(fvar CONTENT_LENGTH)" 16 CONTENT_LENGTH
pass "POST: CONTENT_TYPE and CONTENT_LENGTH"

for m in PUT DELETE PATCH; do
	fget -X "$m" /php/env.php
	expect_eq "$CODE" 200 "$m status"
	expect_eq "$(fvar REQUEST_METHOD)" "$m" "REQUEST_METHOD ($m)"
done
fget -I /php/env.php
expect_eq "$CODE" 200 "HEAD status"
# (curl -I writes the head to stdout too: no body means nothing else)
expect_not_contains "$BODY" "REQUEST_METHOD="
fget /php/env.php
expect_eq "$CODE" 200 "GET after HEAD"
pass "PUT, DELETE, PATCH reach PHP; HEAD answers without a body and the next GET works"

fget /php/stderr.php
expect_eq "$CODE" 200 "stderr.php status"
expect_eq "$BODY" logged "stderr.php body"
wait_log origind 'event=fcgi.stderr'
# php-fpm sends a request's messages as one STDERR record, joined by "; "
wait_log origind "backend=unix:$PHP_SOCK line=\"PHP message: first message from php; PHP message: second message from php\""
pass "PHP's error_log() messages (FastCGI STDERR) logged, with the request id"

fget /php/missing.php
expect_eq "$CODE" 404 "a PHP file that does not exist (php-fpm's answer)"
pass "php-fpm's own 404 for a missing script passes through"
