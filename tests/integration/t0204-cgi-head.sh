#!/usr/bin/env bash
# t0204: the script's response head becomes the HTTP response: Status
# (code), Content-Type, Location (302 without Status, RFC 3875 6.2.3; a
# local path, 6.2.2, is answered as a 302 too), other fields passed as
# given (repeated ones too), framing and hop-by-hop fields dropped.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind

cget /cgi-bin/status.cgi
expect_eq "$CODE" 201 "status.cgi status"
expect_eq "$(header Content-Type)" "text/x-test; charset=utf-8" "Content-Type"
expect_eq "$(header X-Custom)" "yes, it is" X-Custom
expect_eq "$(header Set-Cookie | tr '\n' ' ')" "a=1 b=2 " "both Set-Cookie fields"
expect_eq "$(header Content-Length)" "" "the script's Content-Length (9999) dropped"
expect_eq "$(header Connection)" "" "the script's Connection: close dropped"
expect_eq "$(header Transfer-Encoding)" chunked "Transfer-Encoding is origind's own"
expect_eq "$BODY" created "status.cgi body"
pass "Status 201, Content-Type, X-Custom, 2 Set-Cookie; Content-Length/Connection/TE dropped"

cget /cgi-bin/notfound.cgi
expect_eq "$CODE" 404 "notfound.cgi status"
expect_eq "$BODY" "no such thing" "notfound.cgi body"
cget /cgi-bin/nocontent.cgi
expect_eq "$CODE" 204 "nocontent.cgi status"
expect_eq "$(header Content-Type)" "" "no Content-Type when the script gives none"
pass "Status 404 with a body; Status 204 alone"

cget /cgi-bin/redirect.cgi
expect_eq "$CODE" 302 "redirect.cgi status"
expect_eq "$(header Location)" "https://example.test/elsewhere?x=1" Location
pass "Location only: 302 with that Location"

cget '/cgi-bin/redirect.cgi?local'
expect_eq "$CODE" 302 "local redirect status"
expect_eq "$(header Location)" "/cgi-bin/env.cgi?from=redirect" "local Location"
cget -L '/cgi-bin/redirect.cgi?local'
expect_eq "$CODE" 200 "local redirect followed"
expect_eq "$(var QUERY_STRING)" from=redirect "QUERY_STRING after the redirect"
pass "local redirect (/path): answered as 302 to the path, which a client follows"

cget /cgi-bin/moved.cgi
expect_eq "$CODE" 301 "moved.cgi status"
expect_eq "$(header Location)" https://example.test/new "moved.cgi Location"
expect_eq "$(header Content-Type)" text/html "moved.cgi Content-Type"
expect_contains "$BODY" '>moved</a>'
pass "Status 301 with Location and a body"

cget -0 /cgi-bin/status.cgi
expect_eq "$CODE" 201 "HTTP/1.0 status"
expect_eq "$(header Transfer-Encoding)" "" "no chunked encoding for HTTP/1.0"
expect_eq "$BODY" created "HTTP/1.0 body (ends with the connection)"
pass "HTTP/1.0: the body ends with the connection"

cget -I /cgi-bin/status.cgi
expect_eq "$CODE" 201 "HEAD status"
expect_eq "$(header X-Custom)" "yes, it is" "HEAD X-Custom"
expect_not_contains "$BODY" created # curl -I writes the head as the "body"
pass "HEAD: the script's head, no body"
