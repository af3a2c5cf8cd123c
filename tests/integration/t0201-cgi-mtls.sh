#!/usr/bin/env bash
# t0201: under mutual TLS (origind --client-ca), a CGI script sees the
# client certificate: SSL_CLIENT_VERIFY=SUCCESS, SSL_CLIENT_S_DN and
# SSL_CLIENT_I_DN as RFC 4514 strings; a client without a certificate
# never reaches the script.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"
need_tool openssl

origind_pki
start_cgi origind --client-ca "$T/pki/ca.pem"
subject=$(openssl x509 -in "$T/pki/client.pem" -noout -subject -nameopt RFC2253)
issuer=$(openssl x509 -in "$T/pki/client.pem" -noout -issuer -nameopt RFC2253)

cget --cert "$T/pki/client.pem" --key "$T/pki/client.key" /cgi-bin/env.cgi
expect_eq "$CODE" 200 "status with a client certificate"
expect_eq "$(var SSL_CLIENT_VERIFY)" SUCCESS SSL_CLIENT_VERIFY
expect_eq "$(var SSL_CLIENT_S_DN)" "${subject#subject=}" SSL_CLIENT_S_DN
expect_eq "$(var SSL_CLIENT_I_DN)" "${issuer#issuer=}" SSL_CLIENT_I_DN
expect_eq "$(var HTTPS)" on HTTPS
pass "client certificate: VERIFY=SUCCESS, S_DN=$(var SSL_CLIENT_S_DN), I_DN=$(var SSL_CLIENT_I_DN)"

cget --tls-max 1.2 --cert "$T/pki/client.pem" --key "$T/pki/client.key" /cgi-bin/env.cgi
expect_eq "$(var SSL_PROTOCOL)" TLSv1.2 SSL_PROTOCOL
expect_eq "$(var SSL_CLIENT_VERIFY)" SUCCESS "SSL_CLIENT_VERIFY over TLS 1.2"
expect_eq "$(var SSL_CLIENT_S_DN)" "${subject#subject=}" "SSL_CLIENT_S_DN over TLS 1.2"
pass "the same over TLS 1.2"

cget /cgi-bin/env.cgi
expect_ne "$CODE" 200 "status without a client certificate"
expect_not_contains "$BODY" SSL_CLIENT
pass "no client certificate: refused (curl exit $CRC, HTTP $CODE), the script never ran"
