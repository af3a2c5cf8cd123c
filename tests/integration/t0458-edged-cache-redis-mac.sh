#!/usr/bin/env bash
# t0458: what edged takes from a shared Redis that someone else can write.
# One Redis; the real origin serves /static/page.txt "GOOD ..." and an evil
# origin the same path with "EVIL ..."; nodes:
#   A, B  cache_secret_file s1 (A with a memory tier, B without one),
#         the real origin
#   C     cache_secret_file s2 (another secret), the evil origin
#   D     no secret, the evil origin (an attacker's well-formed entries:
#         checksum and all), log_level debug (it logs the keys it looks up)
#   E     no secret, the real origin (today's behaviour, for contrast)
#   - start-up: a cache_secret_file that is missing, a directory, too short
#     (31 bytes) or too long is refused naming the key; a 32-byte secret
#     with a final newline is accepted;
#   - A and B share entries (a miss on A is a hit on B, same body), and the
#     value in Redis is the entry followed by a 32-byte tag;
#   - an entry written by D (no secret: a perfectly well-formed entry, the
#     evil body), by D with 32 bytes of garbage appended as a tag, or by C
#     (a tag made with another secret) is never served by A or B: a miss,
#     the real body, edged_cache_mac_failures_total and cache.entry_refused
#     ("MAC mismatch"); E, without a secret, does serve D's entry (the risk
#     README describes);
#   - a valid entry copied (COPY ... REPLACE) under another URL's key is
#     refused (the tag covers the key);
#   - a value of 40 MiB under a key B looks up (max_object_size 32 MiB) is
#     refused unread: 200 from the origin, edged_cache_oversized_total 1,
#     and B's peak RSS (VmHWM) grows by far less than the value;
#   - cache.entry_refused lines are rate-limited: 30 refused entries in a
#     row give at most 10 lines, and the count of those not logged.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
# shellcheck source=lib_redis.sh
. "$(dirname "$0")/lib_redis.sh"
need_tool curl openssl

R=/cgi-bin/resp.cgi
key_re='^edged:v1:[0-9a-f]{64}$'
keys_now() { redis_keys 'edged:v1:*'; }
new_keys() { comm -13 <(printf '%s\n' "$1" | sed '/^$/d') <(keys_now); }
# metric PORT NAME: the value of an unlabelled metric on that admin port
metric() {
	ADMIN_PORT=$1 acurl /metrics | awk -v n="$2" '$1 == n { print $2 }'
}
refusals() { grep -c 'event=cache.entry_refused' "$T/$1.log" || true; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

mkdir -p "$T/www/static" "$T/evil/static"
for f in page a b c; do
	echo "GOOD $f" >"$T/www/static/$f.txt"
	echo "EVIL $f" >"$T/evil/static/$f.txt"
done
start_redis redis
start_origind evil --docroot "$T/evil" --cache-control '/static/=max-age=60'
EVIL=$ORIGIN_PORT
start_www_origind origin --cache-control '/static/=max-age=60'

# ---- start-up checks ----
edge_pki
openssl rand -hex 32 >"$T/s1" # 64 bytes and a newline
openssl rand -hex 32 >"$T/s2"
chmod 600 "$T/s1" "$T/s2"
printf '%s' 0123456789012345678901234567890 >"$T/short"    # 31 bytes
printf '%s\n' 01234567890123456789012345678901 >"$T/just"  # 32 and a newline
head -c 1025 /dev/zero | tr '\0' x >"$T/long"
bad_start "a missing cache_secret_file" "cache_secret_file" --redis "$REDIS_URL" \
	--cache-secret-file "$T/nope"
bad_start "a directory as cache_secret_file" "not a regular file" --redis "$REDIS_URL" \
	--cache-secret-file "$T"
bad_start "a 31-byte secret" "holds 31 bytes" --redis "$REDIS_URL" \
	--cache-secret-file "$T/short"
bad_start "a 1025-byte secret" "holds 1025 bytes" --redis "$REDIS_URL" \
	--cache-secret-file "$T/long"
pass "cache_secret_file missing, a directory, 31 or 1025 bytes: refused at start, naming the problem"

common=(--redis "$REDIS_URL" --redis-timeout 1s)
start_edged a "${common[@]}" --cache-secret-file "$T/s1" --memory-cache-recheck 100ms
A=$EDGE_PORT
start_edged b "${common[@]}" --cache-secret-file "$T/s1" --memory-cache-size 0
B=$EDGE_PORT BA=$ADMIN_PORT BPID=$EDGE_PID
b_t0=$(date +%s)
start_edged c "${common[@]}" --cache-secret-file "$T/s2" --memory-cache-size 0 \
	--origin "https://127.0.0.1:$EVIL"
C=$EDGE_PORT
start_edged d "${common[@]}" --memory-cache-size 0 --origin "https://127.0.0.1:$EVIL" \
	--log-level debug
D=$EDGE_PORT
start_edged e "${common[@]}" --memory-cache-size 0
E=$EDGE_PORT
start_edged j "${common[@]}" --cache-secret-file "$T/just" --memory-cache-size 0
J=$EDGE_PORT
for n in a b c d e j; do wait_log "$n" redis.up 5; done
grep -q 'event=cache.entry_mac state=on .*bytes=64$' "$T/a.log" || fail "A does not log cache.entry_mac state=on (64 bytes)"
grep -q 'event=cache.entry_mac state=on .*bytes=32$' "$T/j.log" || fail "J does not log cache.entry_mac state=on (32 bytes)"
grep -q 'event=cache.entry_mac state=off' "$T/d.log" || fail "D does not log cache.entry_mac state=off"
if grep -q 'cache.secret_readable' "$T/a.log"; then fail "a 0600 secret file was called readable"; fi

# ---- A and B share entries ----
k0=$(keys_now)
through "$A" /static/page.txt
expect_eq "$BODY" "GOOD page" "body of page.txt on A"
expect_xc Miss "page.txt on A"
kp=$(new_keys "$k0")
[[ $kp =~ $key_re ]] || fail "page.txt did not add one key: '$kp'"
through "$B" /static/page.txt
expect_xc Hit "page.txt on B (same secret)"
expect_eq "$BODY" "GOOD page" "body of page.txt on B"
len=$(rcli STRLEN "$kp")
total=$(rcli GETRANGE "$kp" 16 23 | head -c 8 | od -An -tu8 | tr -d ' ')
expect_eq "$len" $((total + 32)) "length of the value in Redis: the entry ($total bytes by its head) and a 32-byte tag"
through "$J" /static/page.txt
expect_xc Miss "page.txt on J (another secret: 32 bytes, its newline dropped)"
pass "A and B (one secret) share entries; the value is the entry ($total bytes) and a 32-byte tag ($len)"

# ---- entries B must refuse ----
mac0=$(metric "$BA" edged_cache_mac_failures_total)
expect_eq "$mac0" 0 "B's MAC failures before the forgeries"
# (1) D (no secret, evil origin) writes a well-formed entry under page.txt's key
rcli DEL "$kp" >/dev/null
through "$D" /static/page.txt
expect_eq "$BODY" "EVIL page" "body of page.txt on D (its evil origin)"
expect_eq "$(rcli GETRANGE "$kp" 0 3)" "EDGC" "D's entry under $kp"
dlen=$(rcli STRLEN "$kp")
through "$E" /static/page.txt
expect_xc Hit "page.txt on E (no secret) over D's entry"
expect_eq "$BODY" "EVIL page" "E, without a secret, serves what D wrote (Redis is trusted)"
through "$B" /static/page.txt
expect_eq "$CODE" 200 "status of page.txt on B over D's entry"
expect_xc Miss "page.txt on B over D's untagged entry"
expect_eq "$BODY" "GOOD page" "body of page.txt on B over D's entry"
expect_eq "$(metric "$BA" edged_cache_mac_failures_total)" 1 "B's MAC failures after D's entry"
grep 'event=cache.entry_refused' "$T/b.log" | grep -F "${kp#edged:v1:}" | grep -q 'MAC mismatch' ||
	fail "B did not log cache.entry_refused (MAC mismatch) for $kp: $(_show "$(grep refused "$T/b.log")")"
through "$B" /static/page.txt
expect_xc Hit "page.txt on B once it replaced D's entry"
expect_eq "$BODY" "GOOD page" "body of page.txt on B after the replacement"
# A's memory copy is rechecked against Redis (the checksum changed): it
# must not take D's entry either
rcli DEL "$kp" >/dev/null
through "$D" /static/page.txt
sleep 0.2
through "$A" /static/page.txt
expect_eq "$BODY" "GOOD page" "body of page.txt on A after D overwrote its Redis entry"
expect_xc Miss "page.txt on A (memory tier rechecked) after D overwrote the entry"
pass "D's well-formed entry without a tag: E (no secret) serves it; B refuses it (Miss, GOOD), counts and logs it, and replaces it; A does not take it from Redis"

# (2) D's entry with 32 bytes appended as a tag
rcli DEL "$kp" >/dev/null
through "$D" /static/page.txt
expect_eq "$(rcli APPEND "$kp" 0123456789abcdef0123456789abcdef)" $((dlen + 32)) "APPEND a fake tag"
through "$B" /static/page.txt
expect_xc Miss "page.txt on B over D's entry with a fake tag"
expect_eq "$BODY" "GOOD page" "body of page.txt on B over a fake tag"
# (3) C (another secret, evil origin)
rcli DEL "$kp" >/dev/null
through "$C" /static/page.txt
expect_eq "$BODY" "EVIL page" "body of page.txt on C"
expect_eq "$(rcli STRLEN "$kp")" $((dlen + 32)) "C's tagged entry"
through "$B" /static/page.txt
expect_xc Miss "page.txt on B over C's entry (another secret)"
expect_eq "$BODY" "GOOD page" "body of page.txt on B over C's entry"
through "$C" /static/page.txt
expect_xc Miss "page.txt on C over B's entry (B's secret is not C's)"
expect_eq "$BODY" "EVIL page" "C serves its own origin's body, never B's entry"
expect_eq "$(metric "$BA" edged_cache_mac_failures_total)" 3 "B's MAC failures after a fake tag and another secret"
pass "a fake 32-byte tag and a tag made with another secret: refused (Miss, the real body); B counts 3 MAC failures"

# (4) a valid entry copied under another URL's key
k0=$(keys_now)
through "$B" /static/a.txt
ka=$(new_keys "$k0")
k0=$(keys_now)
through "$B" /static/b.txt
kb=$(new_keys "$k0")
[[ $ka =~ $key_re && $kb =~ $key_re ]] || fail "a.txt and b.txt keys: '$ka' '$kb'"
expect_eq "$(rcli COPY "$ka" "$kb" REPLACE)" 1 "COPY a.txt's entry under b.txt's key"
through "$B" /static/b.txt
expect_eq "$CODE" 200 "status of b.txt over a.txt's copied entry"
expect_xc Miss "b.txt on B over a.txt's entry copied under its key"
expect_eq "$BODY" "GOOD b" "body of b.txt over a.txt's copied entry"
grep 'event=cache.entry_refused' "$T/b.log" | grep -F "${kb#edged:v1:}" | grep -q 'MAC mismatch' ||
	fail "B did not log a MAC mismatch for the copy under $kb"
through "$B" /static/a.txt
expect_xc Hit "a.txt on B (its own entry is fine)"
expect_eq "$BODY" "GOOD a" "body of a.txt"
pass "a valid entry copied under another URL's key: refused (the tag covers the key), the right body served"

# ---- a 40 MiB value under a key B looks up: refused unread ----
# D logs the key of a response it does not store; B never saw the URL
nostore="$R?big=1&$(cc no-store)"
through "$D" "$nostore"
kbig=$(grep 'event=cache.not_stored' "$T/d.log" | grep -o 'key=edged:v1:[0-9a-f]*' | tail -n 1)
kbig=${kbig#key=}
[[ $kbig =~ $key_re ]] || fail "no key logged by D for the no-store URL: '$kbig'"
rcli SETRANGE "$kbig" 41943039 x >/dev/null # 40 MiB of zeros and an x
expect_eq "$(rcli STRLEN "$kbig")" 41943040 "the 40 MiB value"
over0=$(metric "$BA" edged_cache_oversized_total)
h0=$(hwm_kb "$BPID")
t0=$(date +%s%N)
through "$B" "$nostore"
ms=$((($(date +%s%N) - t0) / 1000000))
h1=$(hwm_kb "$BPID")
expect_eq "$CODE" 200 "status over a 40 MiB value"
expect_xc Miss "the no-store URL on B over a 40 MiB value"
expect_match "$BODY" '^resp [0-9.]+ [0-9]+ GET$'
expect_eq "$over0" 0 "B's oversized values before"
expect_eq "$(metric "$BA" edged_cache_oversized_total)" 1 "B's oversized values after"
grep 'event=cache.entry_refused' "$T/b.log" | grep -F "${kbig#edged:v1:}" | grep -q 'not read' ||
	fail "B did not log the refused 40 MiB value"
grow=$(((h1 - h0) / 1024))
note "B's peak RSS (VmHWM) $((h0 / 1024)) MiB before, $((h1 / 1024)) MiB after a lookup of a 40 MiB value (+${grow} MiB); the request took ${ms} ms"
((grow < 20)) || fail "B's peak RSS grew by ${grow} MiB reading a 40 MiB value it must refuse unread"
expect_eq "$(rcli STRLEN "$kbig")" 41943040 "the 40 MiB value (B does not store a no-store answer)"
rcli DEL "$kbig" >/dev/null
pass "a 40 MiB value under a key B looks up: refused unread (200 from the origin, counted, logged; peak RSS +${grow} MiB)"

# ---- cache.entry_refused lines are rate-limited ----
r0=$(refusals b)
k0=$(keys_now)
for i in $(seq 1 30); do through "$A" "$R?flood=$i&$(cc max-age=60)"; done
for k in $(new_keys "$k0"); do rcli SET "$k" garbage >/dev/null; done
for i in $(seq 1 30); do
	through "$B" "$R?flood=$i&$(cc max-age=60)"
	[[ $CODE == 200 ]] || fail "status $CODE for flood=$i on B"
done
r1=$(refusals b)
logged=$((r1 - r0))
note "30 garbage entries refused by B: $logged cache.entry_refused lines (at most 10 per minute)"
# at most 10 a minute (windows of 60 s from the first refusal)
allowed=$((10 * (($(date +%s) - b_t0) / 60 + 1)))
((logged < 30 && r1 <= allowed)) ||
	fail "B logged $logged cache.entry_refused lines for 30 refusals in a row ($r1 in all, at most $allowed allowed)"
pass "30 refused entries in a row: $logged lines logged (at most 10 a minute), the rest counted"

for n in a b c d e j; do stop_bg "$n"; done
for n in a b c d e j; do
	if grep -q -E 'Sanitizer|runtime error' "$T/$n.log"; then
		fail "edged ($n) reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/$n.log" | tr '\n' '|')"
	fi
done
