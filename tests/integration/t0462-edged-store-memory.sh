#!/usr/bin/env bash
# t0462: the bytes held by responses being stored (received whole before
# they become entries: every miss that is stored, and HEAD, Range and
# conditional misses, which are answered from the entry once it is whole)
# are bounded for the whole process by store_memory_limit, not only per
# object by max_object_size.  Past the bound a response streams through
# uncached, whole and correct (Cache-Status detail=store-memory, a
# cache.store_memory_full warning, edged_cache_store_refused_total), and
# the held bytes go back to 0 when the stores end.  (The memory tier is
# made large enough here to keep 5 MB objects: no Redis in this test.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl sha256sum

mkdir -p "$T/www"
head -c 3145728 /dev/urandom >"$T/www/big.bin"
want=$(file_sha "$T/www/big.bin")
start_www_origind origin --cache-control '/=max-age=600'
metric() { acurl /metrics | awk -v m="$1" '$1 == m { print $2 }'; }

# ---- one object larger than the whole budget ------------------------------------------
start_edged small --max-object-size 8MiB --store-memory-limit 2MiB
eget /big.bin
expect_eq "$CODE" 200 "GET over the budget"
expect_eq "$(file_sha "$T/body")" "$want" "the body streamed uncached"
expect_contains "$(header Cache-Status)" "detail=store-memory"
eget /big.bin
expect_xc Miss "the next GET (nothing was stored)"
eget -I /big.bin
expect_eq "$CODE" 200 "HEAD miss over the budget"
expect_eq "$(header Content-Length)" 3145728 "HEAD's Content-Length"
eget -r 0-9 /big.bin
expect_eq "$CODE" 206 "Range miss over the budget"
expect_eq "$(wc -c <"$T/body")" 10 "the range"
eget -H 'If-None-Match: "nope"' /big.bin
expect_eq "$CODE" 200 "conditional miss over the budget"
expect_eq "$(file_sha "$T/body")" "$want" "the conditional miss's body"
expect_match "$(metric edged_cache_store_refused_total)" '^[1-9][0-9]*$'
expect_eq "$(metric edged_cache_store_held_bytes)" 0 "bytes held once every store ended"
expect_eq "$(metric edged_cache_store_memory_limit_bytes)" 2097152 "the limit"
expect_contains "$(cat "$T/small.log")" "event=cache.store_memory_full"
pass "an object over store_memory_limit: GET, HEAD, Range, conditional answered whole, not stored"
stop_bg small

# ---- two stores at once over the budget: one streams through uncached ----------------
start_edged two --max-object-size 8MiB --store-memory-limit 5MiB --memory-cache-size 256MiB
ecurl -o "$T/b1" -D "$T/h1" '/cgi-bin/halfstall.cgi?400000+2+1' &
p1=$!
ecurl -o "$T/b2" -D "$T/h2" '/cgi-bin/halfstall.cgi?400000+2+2' &
p2=$!
wait "$p1" || fail "first download failed"
wait "$p2" || fail "second download failed"
seq 1 800000 >"$T/want"
expect_eq "$(file_sha "$T/b1")" "$(file_sha "$T/want")" "first body"
expect_eq "$(file_sha "$T/b2")" "$(file_sha "$T/want")" "second body"
refused=$(metric edged_cache_store_refused_total)
note "two 5.3 MB stores under a 5 MiB budget: refused=$refused"
expect_match "$refused" '^[1-9][0-9]*$'
expect_eq "$(metric edged_cache_store_held_bytes)" 0 "bytes held once both ended"
hits=0
for q in '400000+2+1' '400000+2+2'; do
	eget "/cgi-bin/halfstall.cgi?$q"
	[[ $(xcache) == "Hit from edged" ]] && hits=$((hits + 1))
done
note "entries stored of the two: $hits"
((hits <= 1)) || fail "both 5.3 MB responses stored under a 5 MiB budget"
pass "two stores over the budget at once: both viewers served whole, not both stored"

# ---- within the budget: stored as ever ----------------------------------------------
eget /big.bin
expect_xc Miss "first GET, within the budget"
eget /big.bin
expect_xc Hit "second GET"
expect_eq "$(file_sha "$T/body")" "$want" "the stored body"
pass "within store_memory_limit: stored"
