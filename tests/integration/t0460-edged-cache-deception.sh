#!/usr/bin/env bash
# t0460: what a request carries but the key does not hold never shapes a
# shared entry.
#   Cookies (cache deception): a response to a request that carried Cookie
#   is stored only with explicit shared freshness (public, s-maxage, or
#   max-age in CDN-Cache-Control) or when cookies are keyed
#   (cache_key_cookies, or Cookie in cache_key_headers); a personalised
#   200 with no Cache-Control, or max-age only, fetched with the viewer's
#   Cookie, is not stored (Cache-Status detail=cookie), so the next viewer
#   never gets it.  Requests without Cookie are cached as before.
#   Hop-by-hop (RFC 9110 7.6.1): a field the viewer's Connection names is
#   not forwarded, so it selects neither key nor variant: "Connection:
#   Accept-Language" with "Accept-Language: fr" stores the origin's answer
#   (made without the field) under the no-Accept-Language variant, and a
#   real French viewer is not served it; likewise a keyed header.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

start_www_origind origin
start_edged edge --ttl-default 1h
R=/cgi-bin/resp.cgi

# ---- cookies ------------------------------------------------------------------------
# no Cache-Control at all (ttl_default would store it), and max-age alone
n=0
for q in "b=alice" "b=alice&$(cc max-age=600)"; do
	n=$((n + 1))
	u="$R?n=ck$n&$q"
	eget -H 'Cookie: sid=alice' "$u"
	expect_xc Miss "with Cookie ($q)"
	expect_contains "$(header Cache-Status)" "detail=cookie"
	eget "$u"
	expect_xc Miss "the next viewer, without Cookie ($q)"
	eget "$u"
	expect_xc Hit "the one after, without Cookie ($q): cached as before"
done
pass "with Cookie: no Cache-Control or max-age only: not stored; the next viewer does not get it"

for q in "$(cc 'public, max-age=600')" "$(cc 's-maxage=600')" "$(h CDN-Cache-Control max-age=600)"; do
	n=$((n + 1))
	u="$R?n=ck$n&$q"
	eget -H 'Cookie: sid=alice' "$u"
	expect_xc Miss "with Cookie ($q)"
	expect_contains "$(header Cache-Status)" "stored"
	eget "$u"
	expect_xc Hit "the next viewer ($q)"
done
pass "with Cookie: public, s-maxage or CDN-Cache-Control max-age: stored"

stop_bg edge
start_edged keyed --ttl-default 1h --cache-key-cookies sid
u="$R?n=ckk"
eget -H 'Cookie: sid=alice' "$u"
expect_xc Miss "keyed cookie, alice"
alice=$BODY
eget -H 'Cookie: sid=alice' "$u"
expect_xc Hit "keyed cookie, alice again"
expect_eq "$BODY" "$alice" "alice's entry"
eget -H 'Cookie: sid=bob' "$u"
expect_xc Miss "keyed cookie, bob"
eget "$u"
expect_xc Miss "keyed cookie, no cookie"
pass "cache_key_cookies: stored per cookie value"
stop_bg keyed

# ---- hop-by-hop --------------------------------------------------------------------
start_edged hop --cache-key-headers X-Lang
u="$R?n=hop&$(cc max-age=600)&$(h Vary Accept-Language)"
eget -H 'Accept-Language: fr' -H 'Connection: Accept-Language' "$u"
expect_xc Miss "Accept-Language named by Connection"
stripped=$BODY
eget -H 'Accept-Language: fr' "$u"
expect_xc Miss "a French viewer after the hop-by-hop request"
[[ $BODY != "$stripped" ]] || fail "a French viewer got the answer made without Accept-Language"
eget "$u"
expect_xc Hit "a viewer without Accept-Language"
expect_eq "$BODY" "$stripped" "the no-Accept-Language variant"
pass "a field named by Connection selects no variant"

u="$R?n=hopkey&$(cc max-age=600)"
eget -H 'X-Lang: fr' -H 'Connection: X-Lang' "$u"
expect_xc Miss "X-Lang named by Connection"
stripped=$BODY
eget -H 'X-Lang: fr' "$u"
expect_xc Miss "X-Lang: fr after the hop-by-hop request"
eget "$u"
expect_xc Hit "no X-Lang"
expect_eq "$BODY" "$stripped" "the key without X-Lang"
pass "a keyed field named by Connection is not in the key"
