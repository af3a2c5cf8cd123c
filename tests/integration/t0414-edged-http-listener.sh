#!/usr/bin/env bash
# t0414: edged's plain-HTTP listener (--listen-http) under each
# viewer_protocol_policy.  redirect-to-https (the default): 301 from the
# edge itself, Location = https://HOST:HTTPS_PORT + the request-target as
# sent (path and query, percent-encoding kept), the Host's own port
# replaced, IPv6 literals kept, also for HEAD and for an absolute-form
# target (its authority is the host); no Host (HTTP/1.0), an empty or a
# malformed Host is a 400 without Location.  https-only: 403.  allow-all: the
# origin's content, with X-Forwarded-Proto: http (https on the HTTPS
# listener).  The HTTPS listener keeps serving beside it.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl openssl

start_www_origind origin

# hcurl [curl args...] PATH: curl over plain HTTP to edge.test:HTTP_PORT
hcurl() {
	local path=${*: -1}
	local args=("${@:1:$#-1}")
	timeout "$CMD_TIMEOUT" curl -sS --resolve "edge.test:$HTTP_PORT:127.0.0.1" \
		"${args[@]}" "http://edge.test:$HTTP_PORT$path"
}
hget() {
	CURL_FN=hcurl cget "$@"
}

# hraw REQUEST: send REQUEST (printf %b escapes) over plain TCP to the HTTP
# listener, read until the server closes; answer in $HRAW, status line in
# $STATUS, head fields with hfield NAME
hraw() {
	local rc=0
	# shellcheck disable=SC2016 # expanded by the inner bash
	HRAW=$(timeout 8 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "%b" "$1" >&3 && cat <&3' \
		"$HTTP_PORT" "$1") || rc=$?
	[[ $rc -ne 124 ]] || fail "the edge did not close the connection: $(_show "$HRAW")"
	STATUS=$(head -n 1 <<<"$HRAW" | tr -d '\r')
}
hfield() {
	sed -n '1,/^\r\{0,1\}$/p' <<<"$HRAW" | { grep -i "^$1:" || true; } | sed 's/^[^:]*: *//; s/\r$//'
}

# start_edge NAME [flags...]: edged with an HTTP listener on HTTP_PORT too
start_edge() {
	local name=$1
	shift
	HTTP_PORT=$(free_port)
	start_edged "$name" --listen-http "127.0.0.1:$HTTP_PORT" "$@"
	wait_port "$HTTP_PORT"
}

# ---- redirect-to-https (no flag: the default) ----
start_edge redirect
wait_log redirect "http=127.0.0.1:$HTTP_PORT policy=redirect-to-https"
hget '/path?q=1'
expect_eq "$CODE" 301 "status of GET http://edge.test:$HTTP_PORT/path?q=1"
expect_eq "$(header Location)" "https://edge.test:$EDGE_PORT/path?q=1" "Location"
expect_eq "$(header Server)" "edged" "Server of the redirect (from the edge itself)"
[[ -z $(header X-Cache) ]] || fail "the redirect went to the origin: X-Cache $(header X-Cache)"
pass "redirect-to-https: GET http://edge.test:P2/path?q=1 -> 301 https://edge.test:HTTPS_PORT/path?q=1 (exact)"

hget -H 'Host: edge.test' '/path?q=1'
expect_eq "$CODE" 301 "status with a Host without port"
expect_eq "$(header Location)" "https://edge.test:$EDGE_PORT/path?q=1" "Location for Host: edge.test"
hget -H 'Host: www.edge.test:8080' '/a%20b/c?x=%2F&y=1#'
expect_eq "$CODE" 301 "status with another Host and port"
expect_eq "$(header Location)" "https://www.edge.test:$EDGE_PORT/a%20b/c?x=%2F&y=1" "Location keeps the target's encoding"
hget -I /head/only
expect_eq "$CODE" 301 "status of HEAD"
expect_eq "$(header Location)" "https://edge.test:$EDGE_PORT/head/only" "Location for HEAD"
hraw "GET /v6 HTTP/1.1\r\nHost: [::1]:$HTTP_PORT\r\nConnection: close\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 301 Moved Permanently" "status with an IPv6 literal Host"
expect_eq "$(hfield Location)" "https://[::1]:$EDGE_PORT/v6" "Location for Host [::1]:PORT"
pass "redirect: the Host's port is replaced (or added), target kept byte for byte, HEAD, IPv6 literal"

# absolute-form (RFC 9112 3.2.2: a server MUST accept it): the authority is
# the host, and the path and query must still be kept
hraw "GET http://edge.test:$HTTP_PORT/abs/path?z=9 HTTP/1.1\r\nHost: edge.test:$HTTP_PORT\r\nConnection: close\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 301 Moved Permanently" "status for an absolute-form target"
expect_eq "$(hfield Location)" "https://edge.test:$EDGE_PORT/abs/path?z=9" "Location for an absolute-form target"
hraw "GET http://[::1]:$HTTP_PORT?k=v HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n"
expect_eq "$STATUS" "HTTP/1.1 301 Moved Permanently" "status for an absolute-form target without a path"
expect_eq "$(hfield Location)" "https://[::1]:$EDGE_PORT/?k=v" "Location for http://[::1]:PORT?k=v"
pass "redirect: absolute-form targets: their authority is the host, their path and query are kept"

# no Host: nowhere to redirect to
hraw 'GET /x HTTP/1.0\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "status of an HTTP/1.0 request without Host"
expect_contains "$HRAW" "no Host to redirect to"
[[ -z $(hfield Location) ]] || fail "a Location without a Host: $(hfield Location)"
hraw 'GET /x HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "status of an HTTP/1.1 request with an empty Host"
[[ -z $(hfield Location) ]] || fail "a Location for an empty Host: $(hfield Location)"
# a Host that is no host[:port] must not be pasted into a Location
for h in 'evil.test/x' 'user@evil.test' 'evil.test?x' '[::1'; do
	hraw "GET /x HTTP/1.1\r\nHost: $h\r\nConnection: close\r\n\r\n"
	expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "status for Host: $h"
	[[ -z $(hfield Location) ]] || fail "a Location for Host: $h: $(hfield Location)"
done
pass "redirect: HTTP/1.0 without Host, empty Host, malformed Host (path, userinfo, query, bad IPv6) -> 400, no Location"

# the HTTPS listener serves beside it, and says https to the origin
eget /cgi-bin/env.cgi
expect_eq "$CODE" 200 "GET /cgi-bin/env.cgi over HTTPS"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" "https" "X-Forwarded-Proto over HTTPS"
ehealthy
hget /still
expect_eq "$CODE" 301 "the HTTP listener after HTTPS requests"
pass "the HTTPS listener serves beside the redirecting HTTP listener"
stop_bg redirect

# ---- https-only ----
start_edge httpsonly --viewer-protocol-policy https-only
hget /index.html
expect_eq "$CODE" 403 "status under https-only"
expect_contains "$BODY" "HTTPS only"
[[ -z $(header Location) ]] || fail "a Location under https-only: $(header Location)"
[[ -z $(header X-Cache) ]] || fail "the request went to the origin under https-only"
hraw 'GET /x HTTP/1.0\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 403 Forbidden" "status of an HTTP/1.0 request without Host under https-only"
ehealthy
pass "https-only: plain HTTP gets 403 (with or without Host), HTTPS serves"
stop_bg httpsonly

# ---- allow-all ----
start_edge allowall --viewer-protocol-policy allow-all
hget /
expect_eq "$CODE" 200 "GET / over plain HTTP under allow-all"
expect_eq "$BODY" "healthy" "body over plain HTTP"
expect_eq "$(header X-Cache)" "Miss from edged" "X-Cache over plain HTTP"
[[ -z $(header Location) ]] || fail "a Location under allow-all: $(header Location)"
hget '/cgi-bin/env.cgi?a=1'
expect_eq "$CODE" 200 "GET /cgi-bin/env.cgi over plain HTTP"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" "http" "X-Forwarded-Proto over plain HTTP"
expect_eq "$(var QUERY_STRING)" "a=1" "query over plain HTTP"
hget -H 'X-Forwarded-Proto: https' /cgi-bin/env.cgi
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" "http" "X-Forwarded-Proto over plain HTTP (the viewer's replaced)"
eget /cgi-bin/env.cgi
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" "https" "X-Forwarded-Proto over HTTPS under allow-all"
pass "allow-all: the origin's content over plain HTTP, X-Forwarded-Proto http (https over HTTPS)"
