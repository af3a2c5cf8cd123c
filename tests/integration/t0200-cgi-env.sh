#!/usr/bin/env bash
# t0200: a CGI script gets every RFC 3875 meta-variable with the right
# value, HTTPS=on and mod_ssl's SSL_* facts of the connection, HTTP_* for
# the request's header fields, and nothing of origind's own environment;
# never HTTP_PROXY (httpoxy), even when the request has a Proxy field.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

export T0200_ORIGIND_ONLY=secret
start_cgi origind
unset T0200_ORIGIND_ONLY

# ---- GET with path info and a query ----
rm -f "$T/body"
lport=$(ocurl -o "$T/body" -w '%{local_port}' -H 'X-Custom-Header: v1' \
	-H 'Proxy: http://evil.test:3128' -H 'User-Agent: t0200/1.0' \
	-H 'Accept-Language: en' -H 'X_Under: 1' -H 'Authorization: Basic dTpw' \
	'/cgi-bin/env.cgi/extra/path?a=1&b=two%20words')
BODY=$(<"$T/body")
expect_eq "$(var GATEWAY_INTERFACE)" CGI/1.1 GATEWAY_INTERFACE
expect_eq "$(var REQUEST_METHOD)" GET REQUEST_METHOD
expect_eq "$(var QUERY_STRING)" 'a=1&b=two%20words' QUERY_STRING
expect_eq "$(var SCRIPT_NAME)" /cgi-bin/env.cgi SCRIPT_NAME
expect_eq "$(var PATH_INFO)" /extra/path PATH_INFO
expect_eq "$(var SCRIPT_FILENAME)" "$CGI_REAL/env.cgi" SCRIPT_FILENAME
expect_eq "$(var REQUEST_URI)" '/cgi-bin/env.cgi/extra/path?a=1&b=two%20words' REQUEST_URI
expect_eq "$(var SERVER_NAME)" origin.test SERVER_NAME
expect_eq "$(var SERVER_PORT)" "$ORIGIN_PORT" SERVER_PORT
expect_eq "$(var SERVER_PROTOCOL)" HTTP/1.1 SERVER_PROTOCOL
expect_match "$(var SERVER_SOFTWARE)" '^origind/[0-9]'
expect_eq "$(var REMOTE_ADDR)" 127.0.0.1 REMOTE_ADDR
expect_eq "$(var REMOTE_PORT)" "$lport" "REMOTE_PORT (curl's local port)"
no_var CONTENT_LENGTH
no_var CONTENT_TYPE
no_var PATH_TRANSLATED # no docroot
pass "request meta-variables: method, query, script, path info, server, remote"

expect_eq "$(var HTTP_X_CUSTOM_HEADER)" v1 HTTP_X_CUSTOM_HEADER
expect_eq "$(var HTTP_USER_AGENT)" t0200/1.0 HTTP_USER_AGENT
expect_eq "$(var HTTP_ACCEPT_LANGUAGE)" en HTTP_ACCEPT_LANGUAGE
expect_eq "$(var HTTP_HOST)" "origin.test:$ORIGIN_PORT" HTTP_HOST
no_var HTTP_PROXY
no_var HTTP_AUTHORIZATION
no_var HTTP_X_UNDER
expect_not_contains "$BODY" evil.test
pass "HTTP_* for header fields; no HTTP_PROXY from 'Proxy:', no Authorization, no X_Under"

expect_eq "$(var HTTPS)" on HTTPS
expect_eq "$(var SSL_PROTOCOL)" TLSv1.3 SSL_PROTOCOL
expect_match "$(var SSL_CIPHER)" '(AES|CHACHA)'
expect_eq "$(var SSL_TLS_SNI)" origin.test SSL_TLS_SNI
expect_eq "$(var SSL_SESSION_RESUMED)" Initial SSL_SESSION_RESUMED
expect_eq "$(var SSL_CLIENT_VERIFY)" NONE SSL_CLIENT_VERIFY
no_var SSL_CLIENT_S_DN
no_var SSL_CLIENT_I_DN
pass "HTTPS=on, SSL_PROTOCOL TLSv1.3, SSL_CIPHER $(var SSL_CIPHER), SNI, Initial, no client cert"

no_var T0200_ORIGIND_ONLY
expect_eq "$(var PATH)" /usr/local/bin:/usr/bin:/bin PATH
pass "origind's own environment does not reach the script"

# ---- POST with a typed body ----
cget -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-binary 'a=1&b=2' /cgi-bin/env.cgi
expect_eq "$CODE" 200 "POST status"
expect_eq "$(var REQUEST_METHOD)" POST REQUEST_METHOD
expect_eq "$(var CONTENT_LENGTH)" 7 CONTENT_LENGTH
expect_eq "$(var CONTENT_TYPE)" application/x-www-form-urlencoded CONTENT_TYPE
expect_eq "$(var PATH_INFO)" "" "PATH_INFO without path info"
expect_eq "$(var QUERY_STRING)" "" "QUERY_STRING without a query"
no_var HTTP_CONTENT_TYPE
no_var HTTP_CONTENT_LENGTH
pass "POST: CONTENT_LENGTH, CONTENT_TYPE (not as HTTP_*), empty PATH_INFO and QUERY_STRING"

for m in PUT DELETE; do
	cget -X "$m" /cgi-bin/env.cgi
	expect_eq "$(var REQUEST_METHOD)" "$m" "REQUEST_METHOD for $m"
done
pass "REQUEST_METHOD for PUT and DELETE"

# ---- TLS 1.2 ----
cget --tls-max 1.2 /cgi-bin/env.cgi
expect_eq "$(var SSL_PROTOCOL)" TLSv1.2 "SSL_PROTOCOL with --tls-max 1.2"
expect_match "$(var SSL_CIPHER)" '(AES|CHACHA)'
pass "TLS 1.2: SSL_PROTOCOL=TLSv1.2, SSL_CIPHER $(var SSL_CIPHER)"

# ---- HTTP/1.0 ----
cget -0 -H 'Host:' /cgi-bin/env.cgi
expect_eq "$(var SERVER_PROTOCOL)" HTTP/1.0 "SERVER_PROTOCOL for HTTP/1.0"
no_var HTTP_HOST
pass "HTTP/1.0 without Host: SERVER_PROTOCOL=HTTP/1.0, no HTTP_HOST"

# ---- a resumed TLS session (openssl s_client keeps the session) ----
need_tool openssl
resumed() {
	RAW=$( (printf 'GET /cgi-bin/env.cgi HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n'
		sleep 1) | timeout "$CMD_TIMEOUT" openssl s_client -quiet -connect "127.0.0.1:$ORIGIN_PORT" \
		-servername origin.test -CAfile "$T/pki/ca.pem" "$@" 2>/dev/null || true)
	printf '%s\n' "$RAW" | sed -n 's/^SSL_SESSION_RESUMED=//p' | tr -d '\r'
}
expect_eq "$(resumed -sess_out "$T/sess13")" Initial "first TLS 1.3 connection"
expect_eq "$(resumed -sess_in "$T/sess13")" Resumed "TLS 1.3 connection with the saved session"
expect_eq "$(resumed -tls1_2 -sess_out "$T/sess12")" Initial "first TLS 1.2 connection"
expect_eq "$(resumed -tls1_2 -sess_in "$T/sess12")" Resumed "TLS 1.2 connection with the saved session"
pass "SSL_SESSION_RESUMED: Initial, then Resumed with the saved session (TLS 1.3 and 1.2)"

# ---- with a docroot: PATH_TRANSLATED and DOCUMENT_ROOT ----
mkdir -p "$T/docroot"
stop_bg origind
start_cgi origind2 --docroot "$T/docroot" --server-name cgi.test
cget /cgi-bin/env.cgi/x/y.txt
expect_eq "$(var DOCUMENT_ROOT)" "$(realpath "$T/docroot")" DOCUMENT_ROOT
expect_eq "$(var PATH_TRANSLATED)" "$(realpath "$T/docroot")/x/y.txt" PATH_TRANSLATED
pass "with --docroot: DOCUMENT_ROOT and PATH_TRANSLATED = docroot + PATH_INFO"
cget -0 -H 'Host:' /cgi-bin/env.cgi
expect_eq "$(var SERVER_NAME)" cgi.test "SERVER_NAME without Host, with --server-name"
cget -H 'Host: other.test:1234' /cgi-bin/env.cgi
expect_eq "$(var SERVER_NAME)" other.test "SERVER_NAME from Host"
expect_eq "$(var SERVER_PORT)" "$ORIGIN_PORT" "SERVER_PORT is the listener's, not Host's"
pass "SERVER_NAME: the Host's host part, else --server-name"
