#!/usr/bin/env bash
# t0401: what edged adds, keeps and strips on the way to the origin and
# back (RFC 9110 7.6): hop-by-hop fields (Connection and the fields it
# names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*)
# never cross, unknown end-to-end fields cross untouched both ways, Host is
# the origin's unless forward_host, X-Forwarded-For is appended to,
# X-Forwarded-Proto / Via / X-Edge-Request-Id are set toward the origin,
# and Via / X-Edge-Request-Id / X-Cache come back to the viewer.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl openssl

start_www_origind origin
start_edged edge

# ---- toward the origin: env.cgi shows what origind received ----
eget -H 'X-Custom-Thing: kept  as  is' -H 'X-Forwarded-For: 203.0.113.7' \
	-H 'Connection: keep-alive, X-Secret' -H 'X-Secret: must-not-pass' \
	-H 'Keep-Alive: timeout=5' -H 'TE: trailers' -H 'Upgrade: h2c' \
	-H 'Proxy-Authorization: Basic Zm9vOmJhcg==' -H 'Via: 1.0 upstream-proxy' \
	-H 'X-Forwarded-Proto: http' -H 'X-Edge-Request-Id: forged' /cgi-bin/env.cgi
expect_eq "$CODE" 200 "status of /cgi-bin/env.cgi through the edge"
expect_eq "$(var HTTP_X_CUSTOM_THING)" "kept  as  is" "unknown request field"
expect_eq "$(var HTTP_X_FORWARDED_FOR)" "203.0.113.7, 127.0.0.1" "X-Forwarded-For"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" "https" "X-Forwarded-Proto (the viewer's is replaced)"
expect_eq "$(var HTTP_VIA)" "1.0 upstream-proxy, 1.1 edge-edge (edged)" "Via toward the origin"
expect_eq "$(var HTTP_HOST)" "127.0.0.1:$ORIGIN_PORT" "Host toward the origin"
rid=$(var HTTP_X_EDGE_REQUEST_ID)
expect_ne "$rid" "forged" "X-Edge-Request-Id from the viewer must be replaced"
expect_eq "$(header X-Edge-Request-Id)" "$rid" "the same request id comes back to the viewer"
for v in HTTP_X_SECRET HTTP_KEEP_ALIVE HTTP_TE HTTP_UPGRADE HTTP_PROXY_AUTHORIZATION \
	HTTP_CONNECTION; do
	if printf '%s\n' "$BODY" | grep -q "^$v="; then
		fail "hop-by-hop $v reached the origin: $(printf '%s\n' "$BODY" | grep "^$v=")"
	fi
done
expect_eq "$(header Via)" "1.1 edge-edge (edged)" "Via on the response"
expect_eq "$(header X-Cache)" "Miss from edged" "X-Cache on a proxied response"
pass "toward the origin: unknown fields kept, XFF appended, XFP/Via/request id set, hop-by-hop dropped"

# ---- forward_host sends the viewer's Host ----
EP1=$EDGE_PORT
start_edged fwd --forward-host
eget /cgi-bin/env.cgi
expect_eq "$(var HTTP_HOST)" "edge.test:$EDGE_PORT" "Host with forward_host"
EDGE_PORT=$EP1
pass "forward_host = true passes the viewer's Host"

# ---- back from the origin: a scripted TLS origin (openssl s_server -HTTP
# answers GET /NAME with the bytes of file NAME) ----
mkdir -p "$T/raw"
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close, X-Hop-Resp\r\nX-Hop-Resp: secret\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nProxy-Authenticate: Basic realm=x\r\nTrailer: X-Sum\r\nX-Unknown-Resp: kept  as  is\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nVia: 1.0 origin-proxy\r\nServer: scripted\r\nContent-Length: 6\r\n\r\nhello\n' >"$T/raw/hop"
SP=$(free_port)
(cd "$T/raw" && exec openssl s_server -quiet -HTTP -accept "127.0.0.1:$SP" \
	-cert "$T/pki/origin.test.chain.pem" -key "$T/pki/origin.test.key") >"$T/s_server.log" 2>&1 &
_BG_PIDS+=($!)
_BG_NAMES+=(s_server)
wait_port "$SP"
start_edged scripted --origin "https://127.0.0.1:$SP"
eget /hop
expect_eq "$CODE" 200 "status through the edge from the scripted origin"
expect_eq "$BODY" "hello" "body from the scripted origin"
expect_eq "$(header X-Unknown-Resp)" "kept  as  is" "unknown response field"
expect_eq "$(header Set-Cookie | tr '\n' ' ')" "a=1 b=2 " "both Set-Cookie fields, in order"
expect_eq "$(header Server)" "scripted" "the origin's Server"
expect_eq "$(header Via)" "1.0 origin-proxy, 1.1 edge-scripted (edged)" "Via with our hop last"
for h in X-Hop-Resp Keep-Alive Upgrade Proxy-Authenticate Trailer; do
	[[ -z $(header "$h") ]] || fail "hop-by-hop response field $h reached the viewer: $(header "$h")"
done
pass "back to the viewer: unknown fields and repeated Set-Cookie kept, hop-by-hop dropped, Via appended"
