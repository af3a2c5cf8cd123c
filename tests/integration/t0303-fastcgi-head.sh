#!/usr/bin/env bash
# t0303: response heads made by PHP's header() and http_response_code():
# 301 and 302 with Location, "HTTP/1.1 201 Created" with extra fields and
# two Set-Cookie fields, 418, a 404 with a JSON body; the body after the
# head arrives intact, and origind frames the response itself.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_phpfpm
start_origind origind --docroot "$DOCROOT" --fastcgi "/php/=unix:$PHP_SOCK"

fget '/php/headers.php?case=moved'
expect_eq "$CODE" 301 "header('Location: ...', true, 301)"
expect_eq "$(fheader Location)" https://elsewhere.test/new-place Location
expect_eq "$BODY" moved "301 body"
pass "301 with Location and a body"

fget '/php/headers.php?case=found'
expect_eq "$CODE" 302 "header('Location: ...') alone"
expect_eq "$(fheader Location)" https://elsewhere.test/found "Location (302)"
pass "302 from a bare Location"

fget '/php/headers.php?case=created'
expect_eq "$CODE" 201 "header('HTTP/1.1 201 Created')"
expect_eq "$(fheader X-Test)" yes X-Test
expect_eq "$(fheader Set-Cookie | tr '\n' ' ')" "a=1 b=2 " "Set-Cookie fields"
expect_eq "$(fheader Server | cut -d/ -f1)" origind "Server field"
expect_eq "$(fheader Status)" "" "Status must not reach the client as a field"
expect_eq "$BODY" created "201 body"
pass "201 with X-Test and two Set-Cookie fields; no Status field leaks"

fget '/php/headers.php?case=teapot'
expect_eq "$CODE" 418 "http_response_code(418)"
expect_eq "$BODY" "short and stout" "418 body"
fget '/php/headers.php?case=notfound'
expect_eq "$CODE" 404 "http_response_code(404)"
expect_eq "$(fheader Content-Type)" application/json "404 Content-Type"
expect_eq "$BODY" '{"error":"nope"}' "404 body"
pass "418 and a 404 with a JSON body"

# origind frames: chunked for HTTP/1.1, close-delimited for HTTP/1.0
fget '/php/headers.php?case=created'
expect_eq "$(fheader Transfer-Encoding)" chunked "Transfer-Encoding (HTTP/1.1)"
expect_eq "$(fheader Content-Length)" "" "Content-Length (HTTP/1.1, streamed)"
fget --http1.0 '/php/headers.php?case=created'
expect_eq "$CODE" 201 "status over HTTP/1.0"
expect_eq "$BODY" created "body over HTTP/1.0"
expect_eq "$(fheader Transfer-Encoding)" "" "Transfer-Encoding (HTTP/1.0)"
pass "the streamed body is chunked over HTTP/1.1 and close-delimited over HTTP/1.0"
