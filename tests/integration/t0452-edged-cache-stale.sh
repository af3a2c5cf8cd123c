#!/usr/bin/env bash
# t0452: stale entries, invalidation and cut responses in the single-node
# cache (memory tier, no Redis): RFC 5861 / RFC 9111 4.2.4, 4.4, 3.
# cgi-bin/t0452-state.cgi answers one URL as the test tells it through
# $T/www/state.NAME (status, fields, a delay) and counts the requests it
# gets in $T/www/count.NAME:
#   - stale-while-revalidate: a stale entry is served at once (X-Cache Hit,
#     detail=stale-while-revalidate, the old body, although the origin now
#     takes 2 s), the origin is asked once in the background however many
#     stale requests arrive meanwhile, and then the refreshed response is
#     served; the same for a response with Vary (checked with `soft`: edged
#     never replaces a Vary'd entry from a background 200, see
#     bg_main()); s-maxage, or a stale-while-revalidate window that is over,
#     means a synchronous revalidation (RefreshHit);
#   - revalidation: the origin's 304 updates the stored fields and the
#     freshness (RefreshHit, then hits with the new fields), a 200 replaces
#     the entry (fwd=stale; fwd-status=200; stored);
#   - stale-if-error when the origin answers 500/503: the stale entry
#     answers (detail=stale-if-error-503); without stale-if-error the 503 is
#     relayed; a 404 is not an error;
#   - stale-if-error when the origin is gone (origind stopped): the stale
#     entry answers with X-Cache Hit; without it, 502; with the
#     stale_if_error = 60s setting or a request stale-if-error=60, it
#     answers too; past its window it does not; must-revalidate and
#     s-maxage forbid it (an error, not the stale body) even with
#     stale-if-error; a fresh entry is still served;
#   - unsafe methods: POST, PUT, DELETE, PATCH answered 2xx invalidate the
#     URL (the next GET is a miss), every Vary variant of it; OPTIONS and
#     HEAD do not; a POST's Location (201, 303) and Content-Location (same
#     host, relative or absolute) are invalidated, another host's are not; a
#     POST answered 500 invalidates nothing (neither its URL nor Location);
#   - collapsing: 5 concurrent misses for one URL make one origin request;
#   - a response cut short (resp.cgi stall=5, origin_response_timeout 1s)
#     reaches the viewer cut and is never stored: the next request is a
#     miss again.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

R=/cgi-bin/resp.cgi
S=/cgi-bin/t0452-state.cgi

# state NAME STATUS [FIELD|"SLEEP n"]...: what t0452-state.cgi?NAME answers next
state() {
	local name=$1
	shift
	printf '%s\n' "$@" >"$T/www/state.$name"
}
# count NAME: requests the origin got for NAME (state.cgi or resp.cgi count=)
count() {
	if [[ -f $T/www/count.$1 ]]; then wc -l <"$T/www/count.$1"; else echo 0; fi
}
# expect_hit WHAT BODY [curl args...] URL
expect_hit() {
	local what=$1 body=$2
	shift 2
	eget "$@"
	expect_eq "$CODE" 200 "status of $what"
	expect_xc Hit "$what"
	expect_eq "$BODY" "$body" "body of $what"
}

start_www_origind origin
declare -A EP
edge() {
	start_edged "$@"
	EP[$1]=$EDGE_PORT
}
on() { EDGE_PORT=${EP[$1]}; }
edge main
edge sie --stale-if-error 60s
on main

# ---- everything that must go stale is fetched first, then one wait ----
state swr 200 'Cache-Control: max-age=1, stale-while-revalidate=60'
eget "$S?swr"
expect_xc Miss "the 1st GET of the swr entry"
swr_a=$BODY
state sie5 200 'Cache-Control: max-age=1, stale-if-error=60'
eget "$S?sie5"
sie5_a=$BODY
state nosie5 200 'Cache-Control: max-age=1'
eget "$S?nosie5"
nosie5_a=$BODY
state e404 200 'Cache-Control: max-age=1, stale-if-error=60'
eget "$S?e404"
state swrv 200 'Cache-Control: max-age=1, stale-while-revalidate=60' 'Vary: Accept-Language'
eget -H 'Accept-Language: en' "$S?swrv"
swrv_a=$BODY
# revalidation: a 304 updates the stored fields, a 200 replaces the entry
state upd 200 'Cache-Control: max-age=1' 'ETag: "u1"' 'X-Version: 1'
eget "$S?upd"
upd_a=$BODY
state rep 200 'Cache-Control: max-age=1' 'ETag: "r1"'
eget "$S?rep"
rep_a=$BODY
# s-maxage: never served stale (RFC 9111 5.2.2.10), whatever the window
u_smax="$R?n=smax-swr&$(cc 's-maxage=1, stale-while-revalidate=60')&etag=sm&count=smax"
eget "$u_smax"
smax_a=$BODY
# for the origin that goes away
u_sie="$R?n=down-sie&$(cc 'max-age=1, stale-if-error=60')"
eget "$u_sie"
down_sie=$BODY
u_nosie="$R?n=down-nosie&$(cc max-age=1)&etag=dn"
eget "$u_nosie"
down_nosie=$BODY
u_mr="$R?n=down-mr&$(cc 'max-age=1, must-revalidate, stale-if-error=60')&etag=mr"
eget "$u_mr"
down_mr=$BODY
u_smie="$R?n=down-smax&$(cc 's-maxage=1, stale-if-error=60')&etag=sx"
eget "$u_smie"
down_smie=$BODY
u_over="$R?n=down-over&$(cc 'max-age=1, stale-if-error=5')&$(h Age 30)&etag=ov"
eget "$u_over"
down_over=$BODY
u_fresh="$R?n=down-fresh&$(cc max-age=60)"
eget "$u_fresh"
down_fresh=$BODY
on sie
u_cfg="$R?n=down-cfg&$(cc max-age=1)"
eget "$u_cfg"
expect_xc Miss "the 1st GET through the stale_if_error 60s edge"
down_cfg=$BODY
on main
sleep 2.2

# ---- stale-while-revalidate ----
# the refresh now takes 2 s and brings a longer freshness
state swr 200 'Cache-Control: max-age=30, stale-while-revalidate=60' 'SLEEP 2'
t0=$(date +%s%N)
eget "$S?swr"
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$CODE" 200 "status of a stale swr GET"
expect_xc Hit "a stale GET within stale-while-revalidate"
expect_eq "$BODY" "$swr_a" "body of a stale GET within stale-while-revalidate"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=-[0-9]+; detail=stale-while-revalidate$'
[[ $ms -lt 1500 ]] || fail "a stale-while-revalidate hit took $ms ms (the origin takes 2 s): not served at once"
for i in 1 2 3; do
	expect_hit "stale GET $i while the refresh runs" "$swr_a" "$S?swr"
done
for ((n = 0; n < 60; n++)); do
	eget "$S?swr"
	[[ $BODY == "$swr_a" ]] || break
	sleep 0.1
done
expect_xc Hit "the GET after the background refresh"
expect_ne "$BODY" "$swr_a" "body after the background refresh (still the stale one after 6 s)"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=(2[0-9]|30)$'
expect_eq "$(count swr)" 2 "requests the origin got for the swr URL (1st GET + one refresh)"
swr_b=$BODY
expect_hit "the refreshed entry again" "$swr_b" "$S?swr"
expect_eq "$(count swr)" 2 "requests the origin got for the swr URL"
pass "stale-while-revalidate: stale served at once (${ms} ms, origin 2 s), one background request, then the refreshed response"

# the same with Vary: the refreshed response must replace the variant
state swrv 200 'Cache-Control: max-age=30, stale-while-revalidate=60' 'Vary: Accept-Language'
eget -H 'Accept-Language: en' "$S?swrv"
expect_xc Hit "a stale Vary'd entry within stale-while-revalidate"
expect_eq "$BODY" "$swrv_a" "body of a stale Vary'd entry within stale-while-revalidate"
for ((n = 0; n < 20; n++)); do
	[[ $(count swrv) -ge 2 ]] && break
	sleep 0.1
done
expect_eq "$(count swrv)" 2 "requests the origin got for the Vary'd swr URL (1st GET + one refresh)"
sleep 0.5
eget -H 'Accept-Language: en' "$S?swrv"
soft expect_ne "$BODY" "$swrv_a" "body of a Vary'd stale-while-revalidate entry 0.5 s after its background refresh got a 200 (the refreshed response must replace the stale variant)"
soft expect_match "$(header Cache-Status)" "^edged; hit; ttl=(29|30)$"
sleep 0.3
soft expect_eq "$(count swrv)" 2 "requests the origin got for the Vary'd swr URL after the refresh (each stale hit starts another)"
pass "stale-while-revalidate with Vary: stale served at once, one background request (refresh checked softly)"

# s-maxage forbids serving stale; a window that is over does not apply
eget "$u_smax"
expect_xc RefreshHit "a stale s-maxage entry with stale-while-revalidate (revalidated first)"
expect_eq "$BODY" "$smax_a" "body of the revalidated s-maxage entry"
expect_eq "$(count smax)" 2 "requests the origin got for the s-maxage entry"
url="$R?n=swr-over&$(cc 'max-age=1, stale-while-revalidate=5')&$(h Age 30)&etag=so&count=swrover"
eget "$url"
expect_xc Miss "the 1st GET of an entry 29 s stale with stale-while-revalidate=5"
first=$BODY
eget "$url"
expect_xc RefreshHit "an entry 29 s stale with stale-while-revalidate=5 (past the window)"
expect_eq "$BODY" "$first" "body of the revalidated entry"
pass "stale-while-revalidate does not apply with s-maxage, nor past its window"

# ---- revalidation: 304 updates the stored fields, 200 replaces ----
state upd 200 'Cache-Control: max-age=30' 'ETag: "u1"' 'X-Version: 2'
eget "$S?upd"
expect_eq "$CODE" 200 "status of a revalidated entry"
expect_xc RefreshHit "a stale entry the origin answers 304"
expect_eq "$(header Cache-Status)" "edged; fwd=stale; fwd-status=304" "Cache-Status of a revalidated entry"
expect_eq "$BODY" "$upd_a" "body of a revalidated entry (the stored one)"
expect_eq "$(header X-Version)" "2" "a field the 304 updated"
expect_eq "$(header Cache-Control)" "max-age=30" "Cache-Control updated by the 304"
expect_eq "$(tail -n 1 "$T/www/count.upd")" 'GET "u1"' "the revalidation request (If-None-Match)"
[[ $(header Age) =~ ^[0-9]+$ && $(header Age) -le 1 ]] || fail "Age of a just revalidated entry: '$(header Age)'"
eget "$S?upd"
expect_xc Hit "the entry after a 304 that gave it max-age=30"
expect_eq "$BODY" "$upd_a" "body after the 304"
expect_eq "$(header X-Version)" "2" "the updated field is stored"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=(2[89]|30)$'
state rep 200 'Cache-Control: max-age=30' 'ETag: "r2"'
eget "$S?rep"
expect_xc Miss "a stale entry the origin answers 200"
expect_eq "$(header Cache-Status)" "edged; fwd=stale; fwd-status=200; stored" "Cache-Status of a replaced entry"
expect_ne "$BODY" "$rep_a" "body of a replaced entry"
rep_b=$BODY
expect_hit "the replaced entry" "$rep_b" "$S?rep"
expect_eq "$(header ETag)" '"r2"' "ETag of the replacing response"
pass "revalidation: a 304 refreshes the stored fields and freshness (RefreshHit), a 200 replaces the entry"

# ---- stale-if-error on origin 5xx answers ----
state sie5 503
eget "$S?sie5"
expect_eq "$CODE" 200 "status of a stale-if-error entry when the origin answers 503"
expect_xc Hit "a stale-if-error entry when the origin answers 503"
expect_eq "$BODY" "$sie5_a" "body of a stale-if-error entry (origin 503)"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=-[0-9]+; detail=stale-if-error-503$'
[[ $(header Age) =~ ^[0-9]+$ ]] || fail "Age of a stale-if-error answer: '$(header Age)'"
state sie5 500
expect_hit "a stale-if-error entry when the origin answers 500" "$sie5_a" "$S?sie5"
state nosie5 503
eget "$S?nosie5"
expect_eq "$CODE" 503 "status of a stale entry without stale-if-error when the origin answers 503"
expect_xc Miss "a stale entry without stale-if-error, origin 503"
expect_ne "$BODY" "$nosie5_a" "the origin's 503 is relayed, not the stale body"
state e404 404
eget "$S?e404"
expect_eq "$CODE" 404 "status when the origin answers 404 to a stale-if-error entry (not an error)"
pass "stale-if-error: a stale entry answers the origin's 503 and 500; without it the 503 is relayed; a 404 is no error"

# ---- unsafe methods invalidate ----
for m in POST PUT DELETE PATCH; do
	url="$R?n=inv-$m&$(cc max-age=60)"
	eget "$url"
	first=$BODY
	expect_hit "GET before $m" "$first" "$url"
	case $m in
	DELETE) eget -X DELETE "$url" ;;
	*) eget -X "$m" --data-binary 'x' "$url" ;;
	esac
	expect_eq "$CODE" 200 "status of $m"
	expect_match "$BODY" "^resp [0-9.]+ [0-9]+ $m\$"
	eget "$url"
	expect_xc Miss "GET after $m"
	expect_ne "$BODY" "$first" "body of the GET after $m"
	expect_hit "GET after $m and a miss" "$BODY" "$url"
done
url="$R?n=inv-safe&$(cc max-age=60)"
eget "$url"
first=$BODY
for m in OPTIONS HEAD; do
	case $m in
	HEAD) eget -I "$url" ;;
	*) eget -X "$m" "$url" ;;
	esac
	expect_eq "$CODE" 200 "status of $m"
	expect_hit "GET after $m (a safe method)" "$first" "$url"
done
pass "POST, PUT, DELETE and PATCH answered 200 invalidate their URL; OPTIONS and HEAD do not"

url="$R?n=inv-vary&$(cc max-age=60)&$(h Vary Accept-Language)"
for l in en fr; do eget -H "Accept-Language: $l" "$url"; done
for l in en fr; do
	eget -H "Accept-Language: $l" "$url"
	expect_xc Hit "variant $l before the POST"
done
eget --data-binary 'x' "$url"
for l in en fr; do
	eget -H "Accept-Language: $l" "$url"
	expect_xc Miss "variant $l after a POST to its URL"
done
pass "a POST invalidates every Vary variant of its URL"

for f in other other2 other3 other4 other5 other6; do
	echo "static $f" >"$T/www/$f"
	touch -d '2 days ago' "$T/www/$f"
	eget "/$f"
	expect_xc Miss "the 1st GET of /$f"
	expect_hit "the 2nd GET of /$f" "static $f" "/$f"
done
eget --data-binary 'x' "$R?n=loc&$(h Location /other)&s=201"
expect_eq "$CODE" 201 "POST answered 201 with Location /other"
eget /other
expect_xc Miss "GET /other after a POST whose Location is /other"
eget --data-binary 'x' "$R?n=cloc&$(h Content-Location /other2)"
eget /other2
expect_xc Miss "GET /other2 after a POST whose Content-Location is /other2"
eget --data-binary 'x' "$R?n=aloc&$(h Location "https://edge.test:$EDGE_PORT/other3")"
eget /other3
expect_xc Miss "GET /other3 after a POST whose Location is https://edge.test:$EDGE_PORT/other3"
eget --data-binary 'x' "$R?n=xloc&$(h Location https://elsewhere.example/other4)"
expect_hit "GET /other4 after a POST whose Location is on another host" "static other4" /other4
eget --data-binary 'x' "$R?n=rloc&s=303&$(h Location /other6)"
expect_eq "$CODE" 303 "POST answered 303 with Location /other6"
eget /other6
expect_xc Miss "GET /other6 after a POST answered 303 whose Location is /other6"
eget --data-binary 'x' "$R?n=eloc&s=500&$(h Location /other5)"
expect_eq "$CODE" 500 "POST answered 500 with Location /other5"
expect_hit "GET /other5 after a POST answered 500" "static other5" /other5
pass "a POST's Location / Content-Location on this host are invalidated, another host's are not, nothing on a 500"

state perr 200 'Cache-Control: max-age=60'
eget "$S?perr"
first=$BODY
expect_hit "the 2nd GET of the state URL" "$first" "$S?perr"
state perr 500
eget --data-binary 'x' "$S?perr"
expect_eq "$CODE" 500 "POST answered 500"
expect_hit "GET after a POST to the same URL answered 500" "$first" "$S?perr"
state perr 200 'Cache-Control: max-age=60'
eget --data-binary 'x' "$S?perr"
expect_eq "$CODE" 200 "POST answered 200"
eget "$S?perr"
expect_xc Miss "GET after a POST to the same URL answered 200"
pass "a POST answered 500 does not invalidate its URL (the same POST answered 200 does)"

# ---- collapsing: concurrent misses make one origin request ----
url="$R?n=col&$(cc max-age=60)&sleep=1&count=col"
pids=()
for i in 1 2 3 4 5; do
	ecurl -o "$T/col.$i" "$url" &
	pids+=($!)
done
for i in 1 2 3 4 5; do
	wait "${pids[$((i - 1))]}" || fail "concurrent GET $i failed"
done
expect_eq "$(cat "$T"/col.* | sort -u | wc -l)" 1 "distinct bodies of 5 concurrent GETs of one URL"
expect_eq "$(count col)" 1 "origin requests for 5 concurrent GETs of one URL"
pass "5 concurrent misses for one URL: one origin request, one body"

# ---- a response cut short is never stored ----
edge cut --origin-response-timeout 1s
url="$R?n=cut&$(cc max-age=60)&stall=5&count=cut"
for i in 1 2; do
	eget "$url" 2>"$T/cut.err" # curl: (18) transfer closed with outstanding read data remaining
	[[ $CRC -ne 0 ]] || fail "GET $i of a response cut short: curl saw a complete response ($CODE, $(_show "$BODY"))"
	expect_xc Miss "GET $i of a response cut short"
	expect_match "$BODY" '^resp [0-9.]+ [0-9]+ GET$'
	expect_eq "$(count cut)" "$i" "requests the origin got for the cut response"
done
on main
pass "a response cut short by the origin timeout reaches the viewer cut (curl exit $CRC) and is not stored"

# ---- the origin goes away ----
stop_bg origin
expect_hit "a stale stale-if-error=60 entry, origin down" "$down_sie" "$u_sie"
expect_match "$(header Cache-Status)" '^edged; hit; ttl=-[0-9]+; detail=stale-if-error-'
[[ $(header Age) =~ ^[0-9]+$ ]] || fail "Age of a stale-if-error answer: '$(header Age)'"
eget "$u_nosie"
expect_eq "$CODE" 502 "a stale entry without stale-if-error, origin down"
expect_xc Error "a stale entry without stale-if-error, origin down"
expect_ne "$BODY" "$down_nosie" "no stale body without stale-if-error"
expect_hit "a stale entry without stale-if-error, origin down, request stale-if-error=60" "$down_nosie" \
	-H 'Cache-Control: stale-if-error=60' "$u_nosie"
eget "$u_over"
expect_eq "$CODE" 502 "an entry 29 s stale with stale-if-error=5, origin down"
expect_ne "$BODY" "$down_over" "no stale body past the stale-if-error window"
eget "$u_mr"
[[ $CODE == 502 || $CODE == 504 ]] || fail "a stale must-revalidate entry, origin down: status $CODE, want 502 or 504 (RFC 9111 5.2.2.2)"
expect_xc Error "a stale must-revalidate entry with stale-if-error, origin down"
expect_ne "$BODY" "$down_mr" "no stale body for must-revalidate"
eget "$u_smie"
[[ $CODE == 502 || $CODE == 504 ]] || fail "a stale s-maxage entry, origin down: status $CODE, want 502 or 504"
expect_ne "$BODY" "$down_smie" "no stale body for s-maxage"
expect_hit "a fresh entry, origin down" "$down_fresh" "$u_fresh"
on sie
expect_hit "a stale entry with stale_if_error 60s configured, origin down" "$down_cfg" "$u_cfg"
on main
pass "origin down: stale-if-error (response, request or stale_if_error setting) serves the stale entry within its window; otherwise 502; never for must-revalidate or s-maxage"
