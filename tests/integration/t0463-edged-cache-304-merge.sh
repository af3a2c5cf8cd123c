#!/usr/bin/env bash
# t0463: a revalidation's 304 never turns a shared entry into something the
# cache would not have stored (RFC 9111 3.2, 4.3.4, 3):
#   - Set-Cookie in a 304 goes to the viewer whose request was revalidated
#     (it is their answer) but never into the shared entry: the next viewer
#     gets a Hit without it (session fixation: one viewer's session cookie
#     used to be replayed to everyone on later hits);
#   - a 304 that adds private or no-store (with s-maxage or max-age, or
#     none) unmakes the entry: the viewer who asked gets the merged answer,
#     the entry leaves the cache, the next request is a Miss;
#   - a 304 with ordinary fields still refreshes the entry (a Hit after it,
#     with the new field), and with cache_set_cookie = true a 304's
#     Set-Cookie is merged as any field (the operator asked for it).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

start_www_origind origin
start_edged edge
R=/cgi-bin/resp.cgi
f304() { printf 'h304=%s' "$(enc "$1: $2")"; }

# prime URL: a Miss, then a Hit; the 2 s entries of every primed URL are
# then left to go stale together (ages are whole seconds: a 1 s entry can
# be stale at once)
prime() {
	eget "$1"
	expect_xc Miss "first fetch of $1"
	expect_eq "$(header Set-Cookie)" "" "Set-Cookie on the 200"
	eget "$1"
	expect_xc Hit "second fetch of $1"
}

# ---- Set-Cookie -------------------------------------------------------------------
u_fix="$R?n=fix&$(cc max-age=2)&etag=e1&$(f304 Set-Cookie 'sid=victim; Path=/')"
unmake=('private' 'no-store' 'private, max-age=600' 's-maxage=600, no-store')
u_unmake() { printf '%s' "$R?n=unmake$1&$(cc max-age=2)&etag=u$1&$(f304 Cache-Control "${unmake[$1]}")"; }
u_plain="$R?n=plain&$(cc max-age=2)&etag=p1&$(f304 X-Updated yes)"
prime "$u_fix"
for i in "${!unmake[@]}"; do prime "$(u_unmake "$i")"; done
prime "$u_plain"
sleep 3.1
u=$u_fix
eget "$u"
expect_xc RefreshHit "the revalidated request"
expect_eq "$(header Set-Cookie)" "sid=victim; Path=/" "the revalidating viewer's own Set-Cookie"
for i in 1 2 3; do
	eget "$u"
	expect_xc Hit "a later viewer ($i)"
	expect_eq "$(header Set-Cookie)" "" "Set-Cookie replayed to a later viewer ($i)"
	expect_eq "$(header ETag)" '"e1"' "ETag of the refreshed entry"
done
pass "a 304's Set-Cookie reaches the viewer who asked, never the shared entry"

# ---- private / no-store added by the 304 ------------------------------------------------
for i in "${!unmake[@]}"; do
	cc304=${unmake[$i]}
	u=$(u_unmake "$i")
	eget "$u"
	expect_eq "$CODE" 200 "the revalidated request ($cc304)"
	expect_contains "$(header Cache-Control)" "$cc304"
	eget "$u"
	expect_xc Miss "the request after a 304 with '$cc304'"
	expect_eq "$(header Cache-Control)" "max-age=2" "a fresh 200 after '$cc304'"
done
expect_contains "$(cat "$T/edge.log")" "event=cache.refresh_unstorable"
pass "a 304 adding private or no-store unmakes the entry (next request: Miss)"

# ---- ordinary fields still refresh --------------------------------------------------
u=$u_plain
eget "$u"
expect_xc RefreshHit "revalidated"
eget "$u"
expect_xc Hit "after the 304"
expect_eq "$(header X-Updated)" "yes" "the 304's field merged"
pass "a 304 with ordinary fields refreshes the entry"

# ---- cache_set_cookie = true: merged like any field --------------------------------
stop_bg edge
start_edged edge2 --cache-set-cookie
u="$R?n=scc&$(cc max-age=2)&etag=s1&$(f304 Set-Cookie 'lang=en')"
prime "$u"
sleep 3.1
eget "$u"
expect_xc RefreshHit "revalidated (cache_set_cookie)"
eget "$u"
expect_xc Hit "after the 304 (cache_set_cookie)"
expect_eq "$(header Set-Cookie)" "lang=en" "Set-Cookie merged under cache_set_cookie = true"
pass "cache_set_cookie = true: the 304's Set-Cookie is part of the entry"
