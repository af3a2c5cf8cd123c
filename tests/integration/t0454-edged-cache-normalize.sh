#!/usr/bin/env bash
# t0454: one normal form of every request-target (RFC 3986 6.2.2, 5.2.4;
# lib/upath), made once when the request arrives and then keyed, matched
# against invalidations and forwarded:
#   - the origin receives exactly the normal form: dot-segments (raw or
#     %2e-encoded) resolved, escapes of unreserved characters decoded, hex
#     upper-cased, in the path and the query; "//" and "%2F" kept;
#   - a path that climbs above the root is 400 and never reaches the origin;
#   - every spelling of one URL is one cache entry (a Hit for each);
#   - an invalidation covers every spelling: after POST {"paths":
#     ["/leak.txt"]}, GET /%6Ceak.txt is a miss with the new content (it
#     used to be a Hit that also marked the old entry ban-checked, so
#     /leak.txt was served stale again), and a ban written in another
#     spelling (/%6Cate.txt, /x/../sta%74ic/*) covers the URL too.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

mkdir -p "$T/www/static"
echo "leak v1" >"$T/www/leak.txt"
echo "late v1" >"$T/www/late.txt"
echo "img v1" >"$T/www/static/img.txt"
start_www_origind origin --trace --cache-control '/=max-age=600'
start_edged edge --memory-cache-recheck 60s

# uri PATH: REQUEST_URI as the origin's CGI saw it (env.cgi), through the
# edge, the path sent as written (curl --path-as-is)
uri() {
	eget --path-as-is "$1"
	expect_eq "$CODE" 200 "GET $1"
	sed -n 's/^REQUEST_URI=//p' <<<"$BODY"
}

# ---- what the origin receives ----------------------------------------------------
expect_eq "$(uri '/x/../cgi-bin/env.cgi')" /cgi-bin/env.cgi "'/x/../' resolved"
expect_eq "$(uri '/cgi-bin/./env.cgi')" /cgi-bin/env.cgi "'/./' resolved"
expect_eq "$(uri '/x/%2e%2E/cgi-bin/env.cgi')" /cgi-bin/env.cgi "'%2e%2E' resolved"
expect_eq "$(uri '/x/.%2e/cgi-bin/.%2E/cgi-bin/env.cgi')" /cgi-bin/env.cgi "'.%2e' resolved"
expect_eq "$(uri '/%63gi-bin/env%2Ecgi')" /cgi-bin/env.cgi "unreserved escapes decoded"
expect_eq "$(uri '/cgi-bin/env.cgi/a%2fb/%7e/c%c3%a9')" /cgi-bin/env.cgi/a%2Fb/~/c%C3%A9 \
	"hex upper-cased, %2F kept, ~ decoded"
expect_eq "$(uri '/cgi-bin/env.cgi/a//b/')" /cgi-bin/env.cgi/a//b/ "'//' kept"
expect_eq "$(uri '/cgi-bin/env.cgi?%6b=%2f%41&x=/../')" '/cgi-bin/env.cgi?k=%2FA&x=/../' \
	"the query's escapes normalized, its dots left alone"
pass "the origin receives the normal form (dot-segments, escapes, hex case)"

h0=$(grep -c 'step=decrypt' "$T/origin.log" || true)
for t in '/..' '/../etc/passwd' '/%2e%2e/etc/passwd' '/a/../../etc/passwd' \
	'/a/./%2E%2e/%2e./x' 'https://edge.test/../x'; do
	eraw "GET $t HTTP/1.1\r\nHost: edge.test\r\n\r\n"
	expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "GET $t"
	expect_contains "$RAW" "climbs above the root"
done
expect_eq "$(grep -c 'step=decrypt' "$T/origin.log" || true)" "$h0" "origin requests after the refusals"
ehealthy
pass "a path that climbs above the root: 400, never forwarded"

# ---- one entry for every spelling --------------------------------------------------
q="n=1&$(cc max-age=600)"
eget "/cgi-bin/resp.cgi?b=one&$q"
expect_xc Miss "first fetch"
first=$BODY
for t in "/cgi-bin/./resp.cgi?b=one&$q" "/%63gi-bin/resp.cgi?b=%6Fne&$q" \
	"/x/../cgi-bin/resp.cgi?b=one&$q" "/cgi-bin/resp%2ecgi?b=on%65&$q"; do
	eget --path-as-is "$t"
	expect_xc Hit "$t"
	expect_eq "$BODY" "$first" "$t"
done
pass "five spellings of one URL share one entry"

# ---- invalidations cover every spelling ---------------------------------------------
post() {
	local code
	code=$(acurl -o "$T/adm.body" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$1" /invalidations) || fail "POST /invalidations"
	expect_eq "$code" 201 "POST $1: $(cat "$T/adm.body")"
}

eget /leak.txt
expect_eq "$BODY" "leak v1"
eget /leak.txt
expect_xc Hit "/leak.txt before the invalidation"
echo "leak v2" >"$T/www/leak.txt"
post '{"paths":["/leak.txt"]}'
eget --path-as-is '/%6Ceak.txt'
expect_eq "$BODY" "leak v2" "/%6Ceak.txt after invalidating /leak.txt"
expect_xc Miss "/%6Ceak.txt after invalidating /leak.txt"
eget /leak.txt
expect_eq "$BODY" "leak v2" "/leak.txt after a request spelled /%6Ceak.txt"
expect_xc Hit "/leak.txt (the new entry)"
pass "after invalidating /leak.txt, /%6Ceak.txt is a miss with the new content; /leak.txt too"

eget /late.txt
eget /late.txt
expect_xc Hit "/late.txt before the invalidation"
eget /static/img.txt
eget /static/img.txt
expect_xc Hit "/static/img.txt before the invalidation"
echo "late v2" >"$T/www/late.txt"
echo "img v2" >"$T/www/static/img.txt"
post '{"paths":["/%6Cate.txt","/x/../sta%74ic/*"]}'
eget /late.txt
expect_eq "$BODY" "late v2" "/late.txt after invalidating /%6Cate.txt"
eget /static/img.txt
expect_eq "$BODY" "img v2" "/static/img.txt after invalidating /x/../sta%74ic/*"
code=$(acurl -o "$T/adm.body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary '{"paths":["/../etc/*"]}' /invalidations)
expect_eq "$code" 400 "a ban path above the root"
expect_contains "$(cat "$T/adm.body")" "climbs above the root"
pass "bans spelled differently cover the URL; a ban above the root: 400"
