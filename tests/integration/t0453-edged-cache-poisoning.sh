#!/usr/bin/env bash
# t0453: cache-poisoning attempts.  Fields that change what an origin
# serves but are not part of the cache key (X-Forwarded-Host, X-Original-URL,
# X-HTTP-Method-Override, Forwarded, ...) never reach the origin on a fetch
# for the cache, unless cache_key_headers keys on them; requests that
# bypass the cache (POST) still carry them.  An unkeyed header cannot put
# a variant of a page in front of other viewers; a Host or an absolute-form
# authority keys apart; a GET with a body is never cached.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

start_www_origind origin
start_edged edge

risky=(X-Forwarded-Host X-Forwarded-Server X-Forwarded-Scheme X-Forwarded-Port X-Host
	X-Original-URL X-Rewrite-URL X-HTTP-Method-Override X-HTTP-Method X-Method-Override
	Forwarded)
args=()
for h in "${risky[@]}"; do args+=(-H "$h: evil.example"); done
env_var() { # the CGI variable of a field name
	local v=${1^^}
	echo "HTTP_${v//-/_}"
}

# ---- a GET goes through the cache: the risky fields are dropped ----
eget "${args[@]}" -H 'X-Harmless: kept' '/cgi-bin/env.cgi?get'
expect_eq "$CODE" 200 "GET env.cgi through the edge"
for h in "${risky[@]}"; do
	if printf '%s\n' "$BODY" | grep -q "^$(env_var "$h")="; then
		fail "$h reached the origin on a fetch for the cache: $(printf '%s\n' "$BODY" | grep "^$(env_var "$h")=")"
	fi
done
expect_eq "$(var HTTP_X_HARMLESS)" "kept" "an ordinary unknown field still reaches the origin"
pass "GET: ${#risky[@]} unkeyed risky fields dropped toward the origin, others kept"

# ---- a POST bypasses the cache: they pass as any other field ----
eget "${args[@]}" --data-binary 'x' '/cgi-bin/env.cgi?post'
expect_eq "$CODE" 200 "POST env.cgi"
expect_eq "$(var HTTP_X_FORWARDED_HOST)" "evil.example" "X-Forwarded-Host on a POST"
expect_eq "$(var HTTP_X_HTTP_METHOD_OVERRIDE)" "evil.example" "X-HTTP-Method-Override on a POST"
pass "POST: the same fields are forwarded (nothing is stored)"

# ---- poisoning attempt on a cacheable page: the poisoned request's answer
# ---- is the same one everybody gets ----
url='/cgi-bin/resp.cgi?h=Cache-Control:%20max-age=60&poison=1'
eget -H 'X-Forwarded-Host: evil.example' "$url"
expect_eq "$CODE" 200 "poisoning attempt"
first=$BODY
eget "$url"
expect_eq "$(header X-Cache)" "Hit from edged" "a clean request after the attempt"
expect_eq "$BODY" "$first" "one entry for both"
pass "an unkeyed X-Forwarded-Host does not make its own entry (and never reached the origin)"

# ---- Host and absolute-form authority key apart ----
url='/cgi-bin/resp.cgi?h=Cache-Control:%20max-age=60&hostkey=1'
eget "$url"
a=$BODY
eget -H 'Host: other.example' "$url"
expect_eq "$(header X-Cache)" "Miss from edged" "another Host is another key"
expect_ne "$BODY" "$a" "another Host gets its own entry"
eget "$url"
expect_eq "$(header X-Cache)" "Hit from edged" "the first host still hits"
expect_eq "$BODY" "$a" "the first host's entry is untouched"
eraw "GET https://third.example$url HTTP/1.1
Host: edge.test
Connection: close

"
expect_eq "$STATUS" "HTTP/1.1 200 OK" "absolute-form request"
expect_contains "$RAW" "Miss from edged"
expect_not_contains "$RAW" "$a"
pass "Host and absolute-form authorities are part of the key"

# ---- a GET with a body is never cached (and not answered from the cache) ----
url='/cgi-bin/resp.cgi?h=Cache-Control:%20max-age=60&fat=1'
eget -X GET --data-binary 'poison' "$url"
expect_eq "$CODE" 200 "GET with a body"
expect_eq "$(header X-Cache)" "Miss from edged" "GET with a body"
fat=$BODY
eget "$url"
expect_eq "$(header X-Cache)" "Miss from edged" "the answer to a GET with a body was not stored"
expect_ne "$BODY" "$fat" "a fresh answer after the GET with a body"
pass "a GET with a body bypasses the cache"

# ---- keyed: cache_key_headers makes the field part of the key, so it is sent ----
stop_bg edge
start_edged keyed --cache-key-headers X-Forwarded-Host
eget -H 'X-Forwarded-Host: a.example' '/cgi-bin/env.cgi?keyed'
expect_eq "$(var HTTP_X_FORWARDED_HOST)" "a.example" "a keyed X-Forwarded-Host reaches the origin"
url='/cgi-bin/resp.cgi?h=Cache-Control:%20max-age=60&keyed=1'
eget -H 'X-Forwarded-Host: a.example' "$url"
ka=$BODY
eget -H 'X-Forwarded-Host: b.example' "$url"
expect_eq "$(header X-Cache)" "Miss from edged" "another keyed value is another entry"
expect_ne "$BODY" "$ka" "another keyed value gets its own answer"
eget -H 'X-Forwarded-Host: a.example' "$url"
expect_eq "$(header X-Cache)" "Hit from edged" "the first keyed value hits"
expect_eq "$BODY" "$ka" "the first keyed value's entry"
pass "cache_key_headers: a keyed X-Forwarded-Host is forwarded and separates entries"
