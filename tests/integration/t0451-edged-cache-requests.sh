#!/usr/bin/env bash
# t0451: what a request asks of the single-node cache (memory tier, no
# Redis): request directives, conditional requests, HEAD and Range (RFC 9111
# 4 and 5.2.1, RFC 9110 13 and 14).  resp.cgi's count=NAME shows what the
# origin received (method and If-None-Match, one line per request); an
# origin Age makes an entry old (or stale) without sleeping:
#   - Cache-Control: no-cache in the request: revalidated with the origin
#     (RefreshHit, fwd=request) or fetched again without a validator (and
#     the new response replaces the entry); no-store: the answer is not
#     stored, but a stored one still answers; max-age=0 and max-age=N under
#     the current age: not served from the cache; max-age=N over it: a hit;
#     min-fresh: a hit only with that much freshness left; max-stale: a
#     stale entry served (detail=max-stale), never a must-revalidate one;
#     only-if-cached: 504 with nothing (or nothing fresh) stored, without
#     asking the origin, a hit when stored;
#   - Pragma: no-cache alone, unknown and malformed request directives:
#     still hits;
#   - If-None-Match against a fresh entry: 304 from the edge (weak
#     comparison, lists, *), a full 200 when no tag matches; on a miss the
#     response is fetched whole, stored, and the 304 made from it;
#     If-Modified-Since: 304 at or after Last-Modified, 200 before it or when
#     malformed, and If-None-Match wins over it; If-Match goes to the origin
#     (bypass); on an entry that must be revalidated (no-cache) the origin
#     gets the stored validators only, then the viewer's Range or
#     If-None-Match is answered from the refreshed entry;
#   - HEAD of a cached GET: a hit with the full Content-Length and no body;
#     a HEAD miss is fetched as GET and stored, the next GET is a hit;
#   - Range: bytes=a-b, a-, -n and 0-0 give 206 with Content-Range and the
#     right bytes; an unsatisfiable one 416 with `Content-Range: bytes */N`;
#     several ranges, or a malformed or non-bytes one, the whole 200;
#     If-Range: a matching strong ETag or the Last-Modified date 206,
#     another tag or date, or a weak tag, the whole 200; a Range on a miss
#     is answered (206) and the full response stored.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl openssl

R=/cgi-bin/resp.cgi

# seen NAME: what the origin received for count=NAME, one "METHOD INM|" per request
seen() {
	if [[ -f $T/www/count.$1 ]]; then tr '\n' '|' <"$T/www/count.$1"; fi
}
# expect_hit WHAT BODY [curl args...] URL: a 200 hit with that body
expect_hit() {
	local what=$1 body=$2
	shift 2
	eget "$@"
	expect_eq "$CODE" 200 "status of $what"
	expect_xc Hit "$what"
	expect_eq "$BODY" "$body" "body of $what"
}

start_www_origind origin
start_edged edge

# ---- request no-cache ----
url="$R?n=rqnc&$(cc max-age=60)&etag=rqnc&count=rqnc"
eget "$url"
expect_xc Miss "the 1st GET"
first=$BODY
eget -H 'Cache-Control: no-cache' "$url"
expect_eq "$CODE" 200 "status of a request with no-cache"
expect_xc RefreshHit "a request with no-cache (fresh entry with an ETag)"
expect_cs "edged; fwd=request; fwd-status=304" "a request with no-cache"
expect_eq "$BODY" "$first" "body of a revalidated entry"
expect_eq "$(seen rqnc)" 'GET -|GET "rqnc"|' "requests the origin saw"
url="$R?n=rqnc2&$(cc max-age=60)"
eget "$url"
first=$BODY
eget -H 'Cache-Control: no-cache' "$url"
expect_xc Miss "a request with no-cache (fresh entry without a validator)"
expect_ne "$BODY" "$first" "a request with no-cache gets a fresh answer"
second=$BODY
expect_hit "the GET after no-cache" "$second" "$url"
pass "request no-cache: revalidated (RefreshHit) with a validator, fetched again (and replacing the entry) without"

# ---- request no-store ----
url="$R?n=rqns&$(cc max-age=60)"
eget -H 'Cache-Control: no-store' "$url"
expect_xc Miss "a request with no-store"
expect_cs "edged; fwd=miss; fwd-status=200; detail=req-no-store" "a request with no-store"
first=$BODY
eget "$url"
expect_xc Miss "a GET after the no-store request (nothing stored)"
expect_ne "$BODY" "$first" "a fresh body after the no-store request"
second=$BODY
expect_hit "a request with no-store on a stored entry" "$second" -H 'Cache-Control: no-store' "$url"
pass "request no-store: its answer is not stored; a stored answer still serves it"

# ---- request max-age, min-fresh (an origin Age: 30 makes the entry 30 s old) ----
url="$R?n=rqma&$(cc max-age=60)&$(h Age 30)&etag=rqma&count=rqma"
eget "$url"
expect_xc Miss "the 1st GET of an entry aged 30"
first=$BODY
expect_hit "max-age=40 on an entry aged 30" "$first" -H 'Cache-Control: max-age=40' "$url"
expect_hit "min-fresh=20 on an entry with 30 s left" "$first" -H 'Cache-Control: min-fresh=20' "$url"
expect_eq "$(seen rqma)" 'GET -|' "requests the origin saw for the hits"
eget -H 'Cache-Control: max-age=10' "$url"
expect_xc RefreshHit "max-age=10 on an entry aged 30"
expect_eq "$BODY" "$first" "body of max-age=10 (revalidated)"
eget -H 'Cache-Control: max-age=0' "$url"
expect_xc RefreshHit "max-age=0"
eget -H 'Cache-Control: min-fresh=45' "$url"
expect_xc RefreshHit "min-fresh=45 on an entry with 30 s left"
expect_eq "$(seen rqma)" 'GET -|GET "rqma"|GET "rqma"|GET "rqma"|' "requests the origin saw"
# (an entry received this very second has Age 0, which max-age=0 accepts:
# RFC 9111 5.2.1.1 "age is less than or equal to"; hence the aged entries)
url="$R?n=rqma0&$(cc max-age=60)&$(h Age 5)"
eget "$url"
first=$BODY
eget -H 'Cache-Control: max-age=0' "$url"
expect_xc Miss "max-age=0 on an entry without a validator"
expect_ne "$BODY" "$first" "max-age=0 without a validator: a new body"
pass "request max-age and min-fresh: a hit when the entry is young or fresh enough, else revalidated or fetched"

# ---- request max-stale: an entry that arrived 20 s stale (Age 30, max-age=10) ----
url="$R?n=rqms&$(cc max-age=10)&$(h Age 30)&etag=rqms&count=rqms"
eget "$url"
expect_xc Miss "the 1st GET of a stale-on-arrival entry"
expect_cs "edged; fwd=miss; fwd-status=200; stored" "a stale-on-arrival entry with an ETag"
first=$BODY
eget -H 'Cache-Control: max-stale=60' "$url"
expect_eq "$CODE" 200 "status of max-stale=60"
expect_xc Hit "max-stale=60 on an entry 20 s stale"
expect_eq "$BODY" "$first" "body served stale"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=-[0-9]+; detail=max-stale$'
[[ $(header Age) =~ ^[0-9]+$ && $(header Age) -ge 30 ]] || fail "Age of a stale hit: '$(header Age)', want >= 30"
expect_hit "a bare max-stale" "$first" -H 'Cache-Control: max-stale' "$url"
expect_eq "$(seen rqms)" 'GET -|' "requests the origin saw for the stale hits"
eget -H 'Cache-Control: max-stale=5' "$url"
expect_xc RefreshHit "max-stale=5 on an entry 20 s stale"
eget "$url"
expect_xc RefreshHit "no max-stale on a stale entry"
url="$R?n=rqms2&$(cc 'max-age=10, must-revalidate')&$(h Age 30)&etag=rqms2"
eget "$url"
eget -H 'Cache-Control: max-stale=60' "$url"
expect_xc RefreshHit "max-stale=60 on a stale must-revalidate entry (never served stale)"
pass "request max-stale: a stale entry served (detail=max-stale) within the allowance, never when must-revalidate"

# ---- only-if-cached ----
url="$R?n=oic&$(cc max-age=60)&count=oic"
eget -H 'Cache-Control: only-if-cached' "$url"
expect_eq "$CODE" 504 "only-if-cached with nothing stored"
expect_eq "$(seen oic)" "" "requests the origin saw for only-if-cached"
eget "$url"
expect_xc Miss "a GET after only-if-cached"
first=$BODY
expect_hit "only-if-cached with a stored entry" "$first" -H 'Cache-Control: only-if-cached' "$url"
url="$R?n=rqms&$(cc max-age=10)&$(h Age 30)&etag=rqms&count=rqms"
before=$(seen rqms)
eget -H 'Cache-Control: only-if-cached' "$url"
expect_eq "$CODE" 504 "only-if-cached with only a stale entry"
expect_eq "$(seen rqms)" "$before" "the origin is not asked for only-if-cached"
pass "only-if-cached: 504 when nothing (fresh) is stored, without asking the origin; a hit when stored"

# ---- what never bypasses: Pragma, unknown or malformed directives ----
url="$R?n=bypass&$(cc max-age=60)"
eget "$url"
first=$BODY
expect_hit "Pragma: no-cache alone" "$first" -H 'Pragma: no-cache' "$url"
expect_hit "unknown request directives" "$first" -H 'Cache-Control: foo, bar="a, no-cache", baz=1' "$url"
for d in 'max-age=abc' 'max-age=-1' 'min-fresh=1.5' 'max-age="0"x'; do
	expect_hit "a malformed request directive ($d)" "$first" -H "Cache-Control: $d" "$url"
done
pass "Pragma: no-cache, unknown and malformed request directives do not bypass the cache"

# ---- If-None-Match ----
url="$R?n=inm&$(cc max-age=60)&etag=v1&count=inm"
eget "$url"
first=$BODY
for inm in '"v1"' 'W/"v1"' '"x", W/"v1"' '*'; do
	eget -H "If-None-Match: $inm" "$url"
	expect_eq "$CODE" 304 "status for If-None-Match: $inm"
	expect_xc Hit "If-None-Match: $inm"
	expect_eq "$BODY" "" "body of a 304"
	expect_eq "$(header ETag)" '"v1"' "ETag of the 304"
	expect_eq "$(header Cache-Control)" "max-age=60" "Cache-Control of the 304"
	[[ -z $(header Content-Type) ]] || fail "Content-Type on a 304: $(header Content-Type)"
done
expect_hit "If-None-Match: \"v2\"" "$first" -H 'If-None-Match: "v2"' "$url"
expect_eq "$(seen inm)" 'GET -|' "requests the origin saw for the conditional requests"
url="$R?n=inm2&$(cc max-age=60)&etag=v1&count=inm2"
eget -H 'If-None-Match: "v1"' "$url"
expect_eq "$CODE" 304 "If-None-Match on a miss"
expect_xc Miss "If-None-Match on a miss"
expect_cs "edged; fwd=miss; fwd-status=200; stored" "If-None-Match on a miss"
eget "$url"
expect_xc Hit "a GET after If-None-Match on a miss"
[[ $BODY == "resp "* ]] || fail "the full response was not stored: $(_show "$BODY")"
expect_eq "$(seen inm2)" 'GET -|' "the viewer's If-None-Match is not forwarded on a miss"
pass "If-None-Match: 304 from the edge (weak comparison, lists, *), 200 for another tag; on a miss the whole response is stored"

# ---- If-Modified-Since ----
lm=1700000000
url="$R?n=ims&$(cc max-age=60)&lm=$lm"
eget "$url"
first=$BODY
expect_eq "$(header Last-Modified)" "$(httpdate $lm)" "Last-Modified"
for t in $lm $((lm + 100)); do
	eget -H "If-Modified-Since: $(httpdate "$t")" "$url"
	expect_eq "$CODE" 304 "If-Modified-Since $(httpdate "$t")"
	expect_xc Hit "If-Modified-Since $(httpdate "$t")"
done
expect_hit "If-Modified-Since before Last-Modified" "$first" \
	-H "If-Modified-Since: $(httpdate $((lm - 100)))" "$url"
expect_hit "a malformed If-Modified-Since (ignored)" "$first" -H 'If-Modified-Since: yesterday' "$url"
url="$R?n=ims2&$(cc max-age=60)&lm=$lm&etag=i2"
eget "$url"
first=$BODY
expect_hit "a non-matching If-None-Match with a matching If-Modified-Since" "$first" \
	-H 'If-None-Match: "other"' -H "If-Modified-Since: $(httpdate $lm)" "$url"
pass "If-Modified-Since: 304 at or after Last-Modified, 200 before; If-None-Match wins over it"

url="$R?n=ifm&$(cc max-age=60)&etag=m1&count=ifm"
eget "$url"
eget -H 'If-Match: "m1"' "$url"
expect_eq "$CODE" 200 "If-Match"
expect_cs "edged; fwd=bypass; detail=if-match" "a request with If-Match"
expect_eq "$(seen ifm)" 'GET -|GET -|' "requests the origin saw for If-Match"
pass "If-Match goes to the origin (RFC 9111 4.3.2)"

# ---- HEAD ----
url="$R?n=head&$(cc max-age=60)&count=head"
eget "$url"
len=$(wc -c <"$T/body")
eget -I "$url"
expect_eq "$CODE" 200 "HEAD of a cached GET"
expect_xc Hit "HEAD of a cached GET"
expect_eq "$(header Content-Length)" "$len" "Content-Length of HEAD from the cache"
expect_eq "$(header Content-Type)" "text/plain" "Content-Type of HEAD from the cache"
eraw "HEAD $url HTTP/1.1
Host: edge.test:$EDGE_PORT
Connection: close

"
expect_eq "$STATUS" "HTTP/1.1 200 OK" "raw HEAD"
expect_contains "$RAW" "X-Cache: Hit from edged"
tail_bytes=$(printf '%s' "$RAW" | sed -n '/^\r\{0,1\}$/,$p' | tr -d '\r\n')
expect_eq "$tail_bytes" "" "bytes after the head of a HEAD answer"
expect_eq "$(seen head)" 'GET -|' "requests the origin saw"
url="$R?n=head2&$(cc max-age=60)&count=head2"
eget -I "$url"
expect_eq "$CODE" 200 "HEAD miss"
expect_xc Miss "HEAD miss"
expect_cs "edged; fwd=miss; fwd-status=200; stored" "HEAD miss"
hlen=$(header Content-Length)
expect_eq "$(seen head2)" 'GET -|' "a HEAD miss is fetched as GET"
eget "$url"
expect_xc Hit "GET after a HEAD miss"
expect_match "$BODY" '^resp [0-9.]+ [0-9]+ GET$'
expect_eq "$(wc -c <"$T/body")" "$hlen" "GET body length vs the HEAD's Content-Length"
expect_eq "$(seen head2)" 'GET -|' "requests the origin saw after the GET"
pass "HEAD: answered from a cached GET (full Content-Length, no body); a HEAD miss is fetched as GET and stored"

# ---- Range ----
url="$R?n=range&$(cc max-age=60)&etag=rg&b=0123456789abcdefghij&count=range"
eget "$url"
expect_eq "$BODY" "0123456789abcdefghij" "the full body"
# range SPEC WANT-STATUS WANT-CONTENT-RANGE WANT-BODY-HEX [curl args]
range() {
	local spec=$1 st=$2 crange=$3 want=$4
	shift 4
	eget -H "Range: $spec" "$@" "$url"
	expect_eq "$CODE" "$st" "status for Range: $spec $*"
	expect_xc Hit "Range: $spec $*"
	expect_eq "$(header Content-Range)" "$crange" "Content-Range for Range: $spec $*"
	expect_eq "$(od -An -tx1 "$T/body" | tr -d ' \n')" "$want" "bytes for Range: $spec $*"
	expect_eq "$(header Content-Length)" "$(wc -c <"$T/body")" "Content-Length for Range: $spec $*"
}
full=$(printf '0123456789abcdefghij\n' | od -An -tx1 | tr -d ' \n')
range bytes=2-5 206 "bytes 2-5/21" "$(printf 2345 | od -An -tx1 | tr -d ' \n')"
range bytes=-5 206 "bytes 16-20/21" "$(printf 'ghij\n' | od -An -tx1 | tr -d ' \n')"
range bytes=15- 206 "bytes 15-20/21" "$(printf 'fghij\n' | od -An -tx1 | tr -d ' \n')"
range bytes=18-100 206 "bytes 18-20/21" "$(printf 'ij\n' | od -An -tx1 | tr -d ' \n')"
range bytes=100-200 416 "bytes */21" ""
range bytes=0-0 206 "bytes 0-0/21" "30"
range bytes=0-1,4-5 200 "" "$full"
range bytes=abc 200 "" "$full"
range items=0-5 200 "" "$full"
range bytes=2-5 200 "" "$full" -H 'If-Range: "other"'
range bytes=2-5 200 "" "$full" -H 'If-Range: W/"rg"'
range bytes=2-5 206 "bytes 2-5/21" "$(printf 2345 | od -An -tx1 | tr -d ' \n')" -H 'If-Range: "rg"'
expect_eq "$(seen range)" 'GET -|' "requests the origin saw for the ranges"
pass "Range from the cache: 206 (a-b, -n, a-), 416 bytes */21, several ranges 200, If-Range strong match only"

lm=1700000000
url="$R?n=rangelm&$(cc max-age=60)&lm=$lm&b=0123456789abcdefghij"
eget "$url"
range bytes=2-5 206 "bytes 2-5/21" "$(printf 2345 | od -An -tx1 | tr -d ' \n')" -H "If-Range: $(httpdate $lm)"
range bytes=2-5 200 "" "$full" -H "If-Range: $(httpdate $((lm - 60)))"
pass "If-Range with a date: 206 when it is the Last-Modified, else the whole 200"

# a Range or If-None-Match on an entry that must be revalidated: the
# stored validators go to the origin, its 304 refreshes, then the
# viewer's Range / condition is answered from the entry
url="$R?n=rangenc&$(cc 'no-cache, max-age=60')&etag=nc&b=0123456789abcdefghij&count=rangenc"
eget "$url"
eget -H 'Range: bytes=2-5' "$url"
expect_eq "$CODE" 206 "Range on a no-cache entry"
expect_xc RefreshHit "Range on a no-cache entry"
expect_eq "$BODY" "2345" "bytes of a Range on a no-cache entry"
expect_eq "$(header Content-Range)" "bytes 2-5/21" "Content-Range on a no-cache entry"
eget -H 'If-None-Match: "nc"' "$url"
expect_eq "$CODE" 304 "If-None-Match on a no-cache entry"
expect_xc RefreshHit "If-None-Match on a no-cache entry"
eget -H 'If-None-Match: "zz"' "$url"
expect_eq "$CODE" 200 "a non-matching If-None-Match on a no-cache entry"
expect_eq "$BODY" "0123456789abcdefghij" "body for a non-matching If-None-Match on a no-cache entry"
expect_eq "$(seen rangenc)" 'GET -|GET "nc"|GET "nc"|GET "nc"|' "requests the origin saw (its own validators only)"
pass "Range and If-None-Match on an entry revalidated first (no-cache): 206 / 304 / 200 from the refreshed entry"

url="$R?n=range2&$(cc max-age=60)&b=0123456789abcdefghij&count=range2"
eget -H 'Range: bytes=0-3' "$url"
expect_eq "$CODE" 206 "Range on a miss"
expect_eq "$BODY" "0123" "bytes of a Range on a miss"
expect_eq "$(header Content-Range)" "bytes 0-3/21" "Content-Range of a Range on a miss"
eget "$url"
expect_xc Hit "a GET after a Range miss whose origin answered 200"
expect_eq "$BODY" "0123456789abcdefghij" "the full body stored from a Range miss"
expect_eq "$(seen range2)" 'GET -|' "requests the origin saw"
pass "a Range on a miss (origin answers 200): 206 to the viewer, the whole response stored"
