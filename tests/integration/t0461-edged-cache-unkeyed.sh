#!/usr/bin/env bash
# t0461: what is not in the cache key is not sent to the origin on
# cacheable requests, and what is sent is keyed (CloudFront's rule):
#   - cache_key_query = none: the origin gets no query, so a reflected
#     parameter (?x=<script>) is never stored for everyone; an allow-list
#     forwards its parameters only, in their order; origin_request_query =
#     all opts out (everything forwarded); requests that are not cacheable
#     (POST) forward the whole query;
#   - forward_host = true: the Host the origin gets (with its port) is the
#     one keyed: another port is another entry;
#   - viewer_protocol_policy = allow-all: http and https are keyed apart,
#     so an answer made for one scheme (X-Forwarded-Proto: http, e.g. a
#     301 to https) is never served to the other (a redirect loop).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

start_www_origind origin
E=/cgi-bin/env.cgi
var() { sed -n "s/^$1=//p" <<<"$BODY"; }

# ---- the query ------------------------------------------------------------------------
start_edged none --ttl-default 1h --cache-key-query none
eget "$E?x=%3Cscript%3Eevil"
expect_xc Miss "first viewer"
expect_eq "$(var QUERY_STRING)" "" "query the origin got (cache_key_query none)"
eget "$E?x=other"
expect_xc Hit "second viewer"
expect_not_contains "$BODY" "evil"
cget_post=$(ecurl -X POST --data 'b' "$E?x=posted")
expect_contains "$cget_post" "QUERY_STRING=x=posted"
pass "cache_key_query = none: no query forwarded on cacheable requests (POST: all of it)"
stop_bg none

start_edged allow --ttl-default 1h --cache-key-query b,a
eget "$E?b=2&evil=1&a=%41&c"
expect_xc Miss "allow-list"
expect_eq "$(var QUERY_STRING)" "b=2&a=A" "query the origin got (allow-list b,a)"
eget "$E?a=A&b=2"
expect_xc Hit "the same keyed parameters, other order, no unkeyed ones"
pass "allow-list: only the listed parameters forwarded, in their order"
stop_bg allow

start_edged optout --ttl-default 1h --cache-key-query none --origin-request-query all
eget "$E?x=1"
expect_eq "$(var QUERY_STRING)" "x=1" "query the origin got (origin_request_query all)"
pass "origin_request_query = all: the whole query forwarded"
stop_bg optout

# ---- forward_host: the port is keyed --------------------------------------------------
start_edged fh --ttl-default 1h --forward-host
eget "$E?fh"
expect_xc Miss "forward_host, own port"
expect_eq "$(var HTTP_HOST)" "edge.test:$EDGE_PORT" "Host the origin got"
eget -H 'Host: edge.test:9999' "$E?fh"
expect_xc Miss "forward_host, another port in Host"
expect_eq "$(var HTTP_HOST)" "edge.test:9999" "Host the origin got"
eget -H 'Host: edge.test:9999' "$E?fh"
expect_xc Hit "forward_host, that port again"
eget "$E?fh"
expect_xc Hit "forward_host, own port again"
expect_eq "$(var HTTP_HOST)" "edge.test:$EDGE_PORT" "Host in the entry for its port"
pass "forward_host: the forwarded Host, port included, is keyed"
stop_bg fh

# ---- allow-all: the scheme is keyed ---------------------------------------------------
HTTP_PORT=$(free_port)
start_edged aa --ttl-default 1h --listen-http "127.0.0.1:$HTTP_PORT" \
	--viewer-protocol-policy allow-all
hget() {
	BODY=$(timeout "$CMD_TIMEOUT" curl -sS -D "$T/head" --resolve "edge.test:$HTTP_PORT:127.0.0.1" \
		"http://edge.test:$HTTP_PORT$1") || fail "GET http://...$1"
}
hget "$E?aa"
expect_eq "$(header X-Cache)" "Miss from edged" "X-Cache over http"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" http "X-Forwarded-Proto over http"
eget "$E?aa"
expect_xc Miss "the same URL over https"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" https "X-Forwarded-Proto over https"
eget "$E?aa"
expect_xc Hit "https again"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" https "the https entry"
hget "$E?aa"
expect_eq "$(header X-Cache)" "Hit from edged" "http again"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" http "the http entry"
pass "allow-all: http and https are keyed apart"
