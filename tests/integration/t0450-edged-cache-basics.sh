#!/usr/bin/env bash
# t0450: the single-node cache (memory tier, no Redis), storing and
# freshness (RFC 9111 3 and 4.2), through resp.cgi whose default body is
# unique per origin run, so that a cached answer is told from a fresh one:
#   - a miss then a hit: same body, X-Cache Miss then Hit, a numeric Age,
#     Cache-Status `edged; fwd=miss; fwd-status=200; stored` then
#     `edged; hit; ttl=N`; an origin Age counts in the age of a hit;
#   - freshness: s-maxage beats max-age (both ways), max-age beats Expires
#     (both ways), an invalid max-age=-1 is stale whatever Expires says,
#     Expires alone (future: hit; past or invalid: not stored), Last-Modified
#     1000 s ago alone: a heuristic 100 s;
#   - max-age=0 with a validator: stored and revalidated (RefreshHit, the
#     origin sees If-None-Match); without one: fetched again;
#   - no-store and private: never stored (no-store with must-understand and
#     a 200 is); no-cache: stored but revalidated on every use (RefreshHit on
#     the origin's 304); no-cache="X-Secret" / private="X-Private": stored
#     and used without those fields; must-revalidate: no
#     stale-while-revalidate, revalidated once stale;
#   - Set-Cookie: not stored, unless cache_set_cookie (then the hit carries
#     it); a request with Authorization: not stored unless the response says
#     public, s-maxage or must-revalidate;
#   - Vary: two Accept-Language variants cached apart, each a hit the second
#     time; Accept-Encoding values differing in spaces or case share a
#     variant; Vary: * never stored;
#   - 404 without freshness cached for error_caching_ttl (10 s by default,
#     2 s proven to expire), with max-age=60 for 60 s; 500 and 503 not
#     cached without explicit freshness (a 500 with max-age=60 is);
#   - unknown response fields stored and returned unchanged (repeated ones
#     in order), hop-by-hop response fields never stored (a scripted
#     openssl s_server origin sends them, since origind drops most);
#   - keys: other query values are other keys; parameter order,
#     percent-encoded unreserved characters and the Host's case do not
#     matter; cache_key_query none makes all queries share;
#   - cache = false: nothing cached; ttl_default 60s: a response without
#     freshness becomes cacheable; ttl_max 2s clamps max-age=60.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl openssl

R=/cgi-bin/resp.cgi


# expect_age WHAT: a numeric Age on the last answer
expect_age() {
	local a
	a=$(header Age)
	[[ $a =~ ^[0-9]+$ ]] || fail "Age of $1: got '$a', want a number"
}
# ttl_of: the ttl= of the last answer's Cache-Status
ttl_of() {
	local s
	s=$(header Cache-Status)
	[[ $s =~ ttl=(-?[0-9]+) ]] || fail "no ttl= in Cache-Status '$s'"
	echo "${BASH_REMATCH[1]}"
}
# expect_between N LO HI WHAT
expect_between() {
	[[ $1 =~ ^-?[0-9]+$ && $1 -ge $2 && $1 -le $3 ]] || fail "$4: got '$1', want $2..$3"
}
# miss_twice URL WHAT: two GETs, both fetched from the origin (not stored)
miss_twice() {
	local url=$1 what=$2 first
	eget "$url"
	expect_eq "$CODE" 200 "status of $what"
	expect_xc Miss "the 1st GET of $what"
	first=$BODY
	eget "$url"
	expect_xc Miss "the 2nd GET of $what (must not have been stored)"
	expect_ne "$BODY" "$first" "bodies of two GETs of $what (must both come from the origin)"
}
# miss_hit URL WHAT: a miss that is stored, then a hit with the same body
miss_hit() {
	local url=$1 what=$2 first
	eget "${@:3}" "$url"
	expect_xc Miss "the 1st GET of $what"
	expect_cs "edged; fwd=miss; fwd-status=$CODE; stored" "the 1st GET of $what"
	first=$BODY
	eget "${@:3}" "$url"
	expect_xc Hit "the 2nd GET of $what"
	expect_eq "$BODY" "$first" "body of the 2nd GET of $what"
	expect_age "the 2nd GET of $what"
}

start_www_origind origin
declare -A EP
edge() {
	start_edged "$@"
	EP[$1]=$EDGE_PORT
}
on() { EDGE_PORT=${EP[$1]}; }
edge main

# ---- a miss, then a hit ----
url="$R?n=basic&$(cc max-age=60)"
eget "$url"
expect_eq "$CODE" 200 "status of the 1st GET"
expect_xc Miss "the 1st GET"
expect_cs "edged; fwd=miss; fwd-status=200; stored" "the 1st GET"
expect_match "$BODY" '^resp [0-9.]+ [0-9]+ GET$'
first=$BODY
eget "$url"
expect_eq "$CODE" 200 "status of the 2nd GET"
expect_xc Hit "the 2nd GET"
expect_eq "$BODY" "$first" "body of the 2nd GET"
expect_age "the 2nd GET"
expect_between "$(header Age)" 0 2 "Age of an immediate hit"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=(58|59|60)$'
expect_eq "$(header Content-Length)" "$(wc -c <"$T/body")" "Content-Length of the hit"
expect_eq "$(header Cache-Control)" "max-age=60" "Cache-Control of the hit"
pass "miss then hit: same body, X-Cache Miss/Hit, Age $(header Age), Cache-Status '$(header Cache-Status)'"

# the origin's Age counts (RFC 9111 4.2.3): Age 30 of max-age=60 leaves 30
miss_hit "$R?n=age&$(cc max-age=60)&$(h Age 30)" "a response with Age: 30"
expect_between "$(header Age)" 30 32 "Age of a hit on a response that came with Age: 30"
expect_between "$(ttl_of)" 28 30 "ttl of a hit on max-age=60 with Age: 30"
pass "an origin Age: 30 is part of the current age (Age $(header Age), $(header Cache-Status))"

# ---- explicit freshness: which directive wins ----
miss_hit "$R?n=smax1&$(cc 'max-age=0, s-maxage=60')" "max-age=0, s-maxage=60"
expect_between "$(ttl_of)" 58 60 "ttl of max-age=0, s-maxage=60"
miss_twice "$R?n=smax2&$(cc 'max-age=60, s-maxage=0')" "max-age=60, s-maxage=0"
pass "s-maxage beats max-age both ways (a shared cache)"

past=$(httpdate $(($(date +%s) - 3600)))
future=$(httpdate $(($(date +%s) + 60)))
miss_hit "$R?n=maexp1&$(cc max-age=60)&$(h Expires "$past")" "max-age=60 with a past Expires"
miss_twice "$R?n=maexp2&$(cc max-age=0)&$(h Expires "$future")" "max-age=0 with a future Expires"
pass "max-age beats Expires both ways"

miss_twice "$R?n=maexp3&$(cc max-age=-1)&$(h Expires "$future")" "an invalid max-age=-1 with a future Expires"
pass "an invalid max-age makes the response stale (Expires does not revive it)"
miss_hit "$R?n=exp1&$(h Expires "$future")" "Expires in 60 s alone"
expect_between "$(ttl_of)" 57 60 "ttl of Expires in 60 s"
miss_twice "$R?n=exp2&$(h Expires "$past")" "Expires in the past alone"
miss_twice "$R?n=exp3&$(h Expires 0)" "an invalid Expires (0)"
pass "Expires alone: a future one gives the freshness, a past or invalid one is not stored"

# heuristic freshness (RFC 9111 4.2.2): 10 % of the time since Last-Modified
miss_hit "$R?n=heur&lm=$(($(date +%s) - 1000))" "a response with Last-Modified 1000 s ago only"
expect_between "$(ttl_of)" 97 100 "ttl of the Last-Modified heuristic (10 % of 1000 s)"
pass "Last-Modified 1000 s ago without freshness: a heuristic lifetime of 100 s"

# ---- max-age=0: revalidated with a validator, refetched without ----
url="$R?n=ma0v&$(cc max-age=0)&etag=v1&count=ma0v"
eget "$url"
expect_xc Miss "max-age=0 with an ETag"
expect_cs "edged; fwd=miss; fwd-status=200; stored" "max-age=0 with an ETag"
first=$BODY
eget "$url"
expect_eq "$CODE" 200 "status of the revalidated max-age=0"
expect_xc RefreshHit "the 2nd GET of max-age=0 with an ETag"
expect_cs "edged; fwd=stale; fwd-status=304" "the 2nd GET of max-age=0 with an ETag"
expect_eq "$BODY" "$first" "body after revalidation"
expect_eq "$(header ETag)" '"v1"' "ETag after revalidation"
expect_eq "$(header Content-Type)" "text/plain" "Content-Type after revalidation"
expect_eq "$(header Content-Length)" "$(wc -c <"$T/body")" "Content-Length after revalidation"
expect_eq "$(tr '\n' '|' <"$T/www/count.ma0v")" 'GET -|GET "v1"|' "requests the origin saw (method, If-None-Match)"
miss_twice "$R?n=ma0&$(cc max-age=0)" "max-age=0 without a validator"
expect_eq "$(header Cache-Status)" "edged; fwd=miss; fwd-status=200; detail=stale-no-validator" \
	"Cache-Status of max-age=0 without a validator"
pass "max-age=0: with an ETag stored and revalidated (RefreshHit, If-None-Match sent); without, fetched every time"

# ---- no-store, private, no-cache, must-revalidate ----
miss_twice "$R?n=nostore&$(cc 'no-store, max-age=60')" "no-store"
expect_cs "edged; fwd=miss; fwd-status=200; detail=no-store" "no-store"
miss_twice "$R?n=private&$(cc 'private, max-age=60')" "private"
expect_cs "edged; fwd=miss; fwd-status=200; detail=private" "private"
miss_hit "$R?n=mu&$(cc 'must-understand, no-store, max-age=60')" "must-understand, no-store with a 200"
pass "no-store and private responses are never stored (no-store with must-understand and a known status is)"

url="$R?n=nocache&$(cc 'no-cache, max-age=60')&etag=nc&count=nocache"
eget "$url"
expect_xc Miss "no-cache with an ETag"
expect_cs "edged; fwd=miss; fwd-status=200; stored" "no-cache with an ETag"
first=$BODY
for i in 2 3; do
	eget "$url"
	expect_xc RefreshHit "GET $i of no-cache"
	# RFC 9211 has no fwd value for a response's no-cache: stale or request
	expect_match "$(header Cache-Status)" '^edged; fwd=(stale|request); fwd-status=304$'

	expect_eq "$BODY" "$first" "body of GET $i of no-cache"
done
expect_eq "$(tr '\n' '|' <"$T/www/count.nocache")" 'GET -|GET "nc"|GET "nc"|' \
	"requests the origin saw for no-cache"
miss_twice "$R?n=nocache2&$(cc 'no-cache, max-age=60')" "no-cache without a validator"
pass "no-cache: stored, revalidated on every use (RefreshHit on the origin's 304)"

# qualified no-cache / private: stored, without the fields they name
url="$R?n=qual&$(cc 'max-age=60, no-cache="X-Secret", private="X-Private"')&$(h X-Secret s1)&$(h X-Private p1)&$(h X-Public ok)"
eget "$url"
expect_xc Miss "qualified no-cache and private"
expect_eq "$(header X-Secret)" "s1" "X-Secret on the miss"
first=$BODY
eget "$url"
expect_xc Hit "qualified no-cache and private (stored, used without revalidation)"
expect_eq "$BODY" "$first" "body of the qualified no-cache hit"
expect_eq "$(header X-Secret)" "" "X-Secret (named by no-cache=) on the hit"
expect_eq "$(header X-Private)" "" "X-Private (named by private=) on the hit"
expect_eq "$(header X-Public)" "ok" "X-Public on the hit"
pass "no-cache=\"X-Secret\" and private=\"X-Private\": stored and used, without those fields"

# stale-while-revalidate would serve it stale; must-revalidate forbids it
# (max-age=2: ages are whole seconds, so a second GET a moment later may
# already be 1 s old)
url="$R?n=mustrev&$(cc 'max-age=2, must-revalidate, stale-while-revalidate=60')&etag=mr&count=mustrev"
miss_hit "$url" "max-age=2, must-revalidate"
first=$BODY
sleep 3.1
eget "$url"
expect_xc RefreshHit "a stale must-revalidate entry (not served stale)"
expect_cs "edged; fwd=stale; fwd-status=304" "a stale must-revalidate entry"
expect_eq "$BODY" "$first" "body of the revalidated must-revalidate entry"
expect_eq "$(tr '\n' '|' <"$T/www/count.mustrev")" 'GET -|GET "mr"|' \
	"requests the origin saw for must-revalidate"
pass "must-revalidate: a hit while fresh, revalidated before use once stale (no stale-while-revalidate)"

# ---- Set-Cookie ----
url="$R?n=cookie&$(cc max-age=60)&$(h Set-Cookie 'sid=42; Path=/')"
miss_twice "$url" "a response with Set-Cookie"
expect_cs "edged; fwd=miss; fwd-status=200; detail=set-cookie" "a response with Set-Cookie"
expect_eq "$(header Set-Cookie)" "sid=42; Path=/" "Set-Cookie passed to the viewer on a miss"
edge cookie --cache-set-cookie
miss_hit "$url" "a response with Set-Cookie (cache_set_cookie)"
expect_eq "$(header Set-Cookie)" "sid=42; Path=/" "Set-Cookie on a hit with cache_set_cookie"
on main
pass "Set-Cookie: not stored by default; stored (and replayed) with cache_set_cookie"

# ---- Authorization in the request ----
auth=(-H 'Authorization: Basic dXNlcjpwdw==')
url="$R?n=auth&$(cc max-age=60)"
eget "${auth[@]}" "$url"
expect_xc Miss "a request with Authorization"
expect_cs "edged; fwd=miss; fwd-status=200; detail=authorization" "a request with Authorization"
eget "${auth[@]}" "$url"
expect_xc Miss "a 2nd request with Authorization"
eget "$url"
expect_xc Miss "a request without Authorization after two with it (nothing stored)"
for d in 'public, max-age=60' 's-maxage=60' 'max-age=60, must-revalidate'; do
	url="$R?n=auth-${d//[^a-z0-9]/}&$(cc "$d")"
	eget "${auth[@]}" "$url"
	expect_xc Miss "a request with Authorization, response '$d'"
	expect_cs "edged; fwd=miss; fwd-status=200; stored" "a request with Authorization, response '$d'"
	first=$BODY
	eget "$url"
	expect_xc Hit "a request without Authorization after one with it, response '$d'"
	expect_eq "$BODY" "$first" "body stored from a request with Authorization ('$d')"
done
pass "Authorization: not stored, unless public, s-maxage or must-revalidate"

# ---- Vary ----
url="$R?n=vary&$(cc max-age=60)&$(h Vary Accept-Language)"
eget -H 'Accept-Language: en' "$url"
expect_xc Miss "Accept-Language en (1st)"
en=$BODY
eget -H 'Accept-Language: fr' "$url"
expect_xc Miss "Accept-Language fr (1st)"
expect_match "$(header Cache-Status)" '^edged; fwd=vary-miss; fwd-status=200; stored$'
fr=$BODY
expect_ne "$fr" "$en" "bodies of the en and fr variants"
eget -H 'Accept-Language: en' "$url"
expect_xc Hit "Accept-Language en (2nd)"
expect_eq "$BODY" "$en" "body of the en variant"
eget -H 'Accept-Language: fr' "$url"
expect_xc Hit "Accept-Language fr (2nd)"
expect_eq "$BODY" "$fr" "body of the fr variant"
expect_eq "$(header Vary)" "Accept-Language" "Vary on a hit"
eget "$url"
expect_xc Miss "no Accept-Language (a third variant)"
expect_ne "$BODY" "$en" "the variant without Accept-Language is not en's"
expect_ne "$BODY" "$fr" "the variant without Accept-Language is not fr's"
pass "Vary: Accept-Language: en and fr cached apart, each a hit the second time; none is a third variant"

url="$R?n=varyae&$(cc max-age=60)&$(h Vary Accept-Encoding)"
eget -H 'Accept-Encoding: gzip,deflate' "$url"
expect_xc Miss "Accept-Encoding gzip,deflate"
first=$BODY
for ae in 'gzip, deflate' 'GZIP,  Deflate'; do
	eget -H "Accept-Encoding: $ae" "$url"
	expect_xc Hit "Accept-Encoding '$ae' (normalized like gzip,deflate)"
	expect_eq "$BODY" "$first" "body for Accept-Encoding '$ae'"
done
eget -H 'Accept-Encoding: br' "$url"
expect_xc Miss "Accept-Encoding br (another variant)"
pass "Vary: Accept-Encoding: spaces and case of codings do not make new variants, another coding does"

miss_twice "$R?n=varystar&$(cc max-age=60)&$(h Vary '*')" "Vary: *"
expect_cs "edged; fwd=miss; fwd-status=200; detail=vary-star" "Vary: *"
pass "Vary: * is never stored"

# ---- error statuses ----
url="$R?n=e404&s=404"
eget "$url"
expect_eq "$CODE" 404 "status of a 404"
expect_xc Miss "the 1st 404"
expect_cs "edged; fwd=miss; fwd-status=404; stored" "the 1st 404"
first=$BODY
eget "$url"
expect_eq "$CODE" 404 "status of the 2nd 404"
expect_xc Hit "the 2nd 404"
expect_eq "$BODY" "$first" "body of the cached 404"
expect_between "$(ttl_of)" 8 10 "ttl of a 404 (error_caching_ttl 10 s)"
miss_hit "$R?n=e404x&s=404&$(cc max-age=60)" "a 404 with max-age=60"
expect_between "$(ttl_of)" 58 60 "ttl of a 404 with max-age=60 (explicit beats error_caching_ttl)"
miss_hit "$R?n=e500x&s=500&$(cc max-age=60)" "a 500 with max-age=60"
expect_eq "$CODE" 500 "status of a cached 500"
for s in 500 503; do
	url="$R?n=e$s&s=$s"
	eget "$url"
	expect_eq "$CODE" "$s" "status of a $s"
	expect_xc Miss "the 1st $s"
	first=$BODY
	eget "$url"
	expect_eq "$CODE" "$s" "status of the 2nd $s"
	expect_xc Miss "the 2nd $s (not cached)"
	expect_ne "$BODY" "$first" "two $s answers both from the origin"
done
edge errttl --error-caching-ttl 2s
url="$R?n=e404b&s=404"
eget "$url"
first=$BODY
eget "$url"
expect_xc Hit "a 404 with error_caching_ttl 2s"
expect_eq "$BODY" "$first" "body of the cached 404 (2 s)"
expect_between "$(ttl_of)" 1 2 "ttl of a 404 with error_caching_ttl 2s"
sleep 2.2
eget "$url"
expect_eq "$CODE" 404 "status after error_caching_ttl"
expect_xc Miss "a 404 after error_caching_ttl 2s expired"
expect_ne "$BODY" "$first" "a new 404 after error_caching_ttl expired"
on main
pass "404 cached for error_caching_ttl (10 s default; 2 s expires), explicit freshness beats it, 500 and 503 cached only with explicit freshness"

# ---- fields: unknown ones kept as they are, hop-by-hop ones never stored ----
url="$R?n=fields&$(cc max-age=60)&$(h X-Weird-Thing 'Some  value; with=odd "bits", ok')&$(h X-Multi one)&$(h X-Multi two)"
eget "$url"
expect_xc Miss "a response with unknown fields"
miss_weird=$(header X-Weird-Thing)
expect_eq "$miss_weird" 'Some  value; with=odd "bits", ok' "X-Weird-Thing on the miss"
eget "$url"
expect_xc Hit "a response with unknown fields"
expect_eq "$(header X-Weird-Thing)" "$miss_weird" "X-Weird-Thing on the hit"
expect_eq "$(header X-Multi | tr '\n' ' ')" "one two " "repeated X-Multi on the hit, in order"
pass "unknown response fields stored and returned unchanged (repeated ones in order)"

mkdir -p "$T/raw"
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=60\r\nConnection: close, X-Hop-Resp\r\nX-Hop-Resp: secret\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nProxy-Authenticate: Basic realm=x\r\nProxy-Authentication-Info: nextnonce=x\r\nTrailer: X-Sum\r\nTE: trailers\r\nX-End-To-End: kept\r\nContent-Length: 6\r\n\r\nhello\n' >"$T/raw/hop"
SP=$(free_port)
(cd "$T/raw" && exec openssl s_server -quiet -HTTP -accept "127.0.0.1:$SP" \
	-cert "$T/pki/origin.test.chain.pem" -key "$T/pki/origin.test.key") >"$T/s_server.log" 2>&1 &
_BG_PIDS+=($!)
_BG_NAMES+=(s_server)
wait_port "$SP"
edge scripted --origin "https://127.0.0.1:$SP"
eget /hop
expect_eq "$CODE" 200 "status from the scripted origin"
expect_xc Miss "the 1st GET from the scripted origin"
expect_cs "edged; fwd=miss; fwd-status=200; stored" "the 1st GET from the scripted origin"
eget /hop
expect_xc Hit "the 2nd GET from the scripted origin"
expect_eq "$BODY" "hello" "body of the hit"
expect_eq "$(header X-End-To-End)" "kept" "an end-to-end field on the hit"
for f in X-Hop-Resp Keep-Alive Upgrade Proxy-Authenticate Proxy-Authentication-Info Trailer TE; do
	[[ -z $(header "$f") ]] || fail "hop-by-hop field $f served from the cache: $(header "$f")"
done
expect_not_contains "$(header Connection)" "X-Hop-Resp"
on main
pass "hop-by-hop response fields (Connection and what it names, Keep-Alive, Upgrade, Proxy-*, Trailer, TE) are not stored"

# ---- query strings ----
eget "$R?n=q&a=1&$(cc max-age=60)"
expect_xc Miss "query a=1"
q1=$BODY
eget "$R?n=q&a=2&$(cc max-age=60)"
expect_xc Miss "query a=2 (another key)"
expect_ne "$BODY" "$q1" "bodies for a=1 and a=2"
eget "$R?n=q&a=1&$(cc max-age=60)"
expect_xc Hit "query a=1 again"
expect_eq "$BODY" "$q1" "body for a=1"
eget "$R?a=1&$(cc max-age=60)&n=q"
expect_xc Hit "query a=1 with its parameters in another order"
expect_eq "$BODY" "$q1" "body for a=1 in another order"
eget "/cgi-bin/%72esp.cgi?n=q&a=%31&$(cc max-age=60)"
expect_xc Hit "the same URL with unreserved characters percent-encoded (path and query)"
expect_eq "$BODY" "$q1" "body for the percent-encoded URL"
eget -H "Host: EDGE.Test:$EDGE_PORT" "$R?n=q&a=1&$(cc max-age=60)"
expect_xc Hit "the same URL with the Host in another case"
expect_eq "$BODY" "$q1" "body for the Host in another case"
# (origin_request_query all: the unkeyed query still reaches resp.cgi,
# whose answer it shapes; by default it would not be forwarded, t0461)
edge qnone --cache-key-query none --origin-request-query all
eget "$R?n=q&a=1&$(cc max-age=60)"
expect_xc Miss "query a=1 (cache_key_query none)"
q1=$BODY
eget "$R?n=q&a=2&$(cc max-age=60)"
expect_xc Hit "query a=2 (cache_key_query none: the same key)"
expect_eq "$BODY" "$q1" "a=2 shares a=1's entry with cache_key_query none"
on main
pass "keys: other query values are other keys; parameter order, percent-encoding of unreserved characters and Host case do not matter; cache_key_query none shares"

# ---- cache = false ----
edge off --cache=false
url="$R?n=off&$(cc max-age=60)"
eget "$url"
expect_xc Miss "cache=false (1st)"
first=$BODY
eget "$url"
expect_xc Miss "cache=false (2nd)"
expect_ne "$BODY" "$first" "two GETs with cache=false both from the origin"
[[ -z $(header Age) ]] || fail "Age with cache=false: $(header Age)"
on main
pass "cache = false: every request goes to the origin"

# ---- ttl_default, ttl_max ----
url="$R?n=nofresh"
miss_twice "$url" "a response without freshness or validator (default ttl_default 0)"
edge ttldef --ttl-default 60s
miss_hit "$url" "a response without freshness (ttl_default 60s)"
expect_between "$(ttl_of)" 58 60 "ttl with ttl_default 60s"
url="$R?n=fresh&$(cc max-age=5)"
miss_hit "$url" "max-age=5 (ttl_default 60s)"
expect_between "$(ttl_of)" 3 5 "ttl of max-age=5 under ttl_default 60s (explicit freshness wins)"
pass "ttl_default 60s makes a response without freshness cacheable (and never lengthens explicit freshness)"

# (2 s, not 1: ages are whole seconds, so the hit a moment later may be 1 s old)
edge ttlmax --ttl-max 2s
url="$R?n=clamp&$(cc max-age=60)"
miss_hit "$url" "max-age=60 (ttl_max 2s)"
first=$BODY
expect_between "$(ttl_of)" 1 2 "ttl of max-age=60 clamped by ttl_max 2s"
sleep 3.1
eget "$url"
expect_xc Miss "max-age=60 after 3 s with ttl_max 2s"
expect_ne "$BODY" "$first" "a new body once the clamped lifetime is over"
pass "ttl_max 2s clamps max-age=60"
