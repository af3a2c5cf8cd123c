#!/usr/bin/env bash
# t0301: under mutual TLS (origind --client-ca), PHP behind FastCGI sees
# the client certificate: SSL_CLIENT_VERIFY=SUCCESS, SSL_CLIENT_S_DN and
# SSL_CLIENT_I_DN as RFC 4514 strings, over TLS 1.3 and 1.2, on the unix
# and the TCP backend; a client without a certificate never reaches PHP.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"
need_tool openssl

origind_pki
start_phpfpm
start_origind origind --docroot "$DOCROOT" --client-ca "$T/pki/ca.pem" \
	--fastcgi "/php/=unix:$PHP_SOCK" --fastcgi "/tcp/=127.0.0.1:$PHP_PORT"
subject=$(openssl x509 -in "$T/pki/client.pem" -noout -subject -nameopt RFC2253)
issuer=$(openssl x509 -in "$T/pki/client.pem" -noout -issuer -nameopt RFC2253)
subject=${subject#subject=}
issuer=${issuer#issuer=}
expect_contains "$subject" "CN=client"
cert=(--cert "$T/pki/client.pem" --key "$T/pki/client.key")

for p in /php /tcp; do
	fget "${cert[@]}" "$p/env.php?who=me"
	expect_eq "$CODE" 200 "$p/env.php with a client certificate"
	expect_eq "$(fvar SSL_CLIENT_VERIFY)" SUCCESS "SSL_CLIENT_VERIFY ($p)"
	expect_eq "$(fvar SSL_CLIENT_S_DN)" "$subject" "SSL_CLIENT_S_DN ($p)"
	expect_eq "$(fvar SSL_CLIENT_I_DN)" "$issuer" "SSL_CLIENT_I_DN ($p)"
	expect_eq "$(fvar HTTPS)" on "HTTPS ($p)"
	expect_eq "$(fvar SSL_PROTOCOL)" TLSv1.3 "SSL_PROTOCOL ($p)"
	expect_eq "$(fvar SSL_TLS_SNI)" origin.test "SSL_TLS_SNI ($p)"
	expect_eq "$(fvar QUERY_STRING)" who=me "QUERY_STRING ($p)"
done
pass "client certificate over unix and TCP: VERIFY=SUCCESS, S_DN=$subject, I_DN=$issuer"

fget --tls-max 1.2 "${cert[@]}" /php/env.php
expect_eq "$(fvar SSL_PROTOCOL)" TLSv1.2 "SSL_PROTOCOL"
expect_eq "$(fvar SSL_CLIENT_VERIFY)" SUCCESS "SSL_CLIENT_VERIFY over TLS 1.2"
expect_eq "$(fvar SSL_CLIENT_S_DN)" "$subject" "SSL_CLIENT_S_DN over TLS 1.2"
pass "the same over TLS 1.2"

: >"$T/php-access.log"
fget /php/env.php
expect_ne "$CODE" 200 "status without a client certificate"
expect_not_contains "$BODY" SSL_CLIENT
sleep 0.2
expect_eq "$(wc -l <"$T/php-access.log")" 0 "requests in php-fpm's access log"
pass "no client certificate: refused (curl exit $CRC, HTTP $CODE), PHP never ran"
