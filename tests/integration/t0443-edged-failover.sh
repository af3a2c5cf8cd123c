#!/usr/bin/env bash
# t0443: origin_failover.  Two origind instances: the primary (index
# "healthy") and the failover (index "failover"); each has a code.cgi
# (answers "Status: <query>" on the primary, 200 "failover <query>" on the
# failover) and echo.cgi.
#   - primary down (nothing listens): GET and HEAD are served by the
#     failover, and so is a POST (nothing was sent to the primary, so its
#     body goes to the failover intact); the same when the primary's
#     certificate fails verification; both down: 502;
#   - primary answers 500/502/503/504 to GET or HEAD: the failover's answer;
#   - the primary's 503 to a POST comes back as is (no failover for
#     non-GET/HEAD);
#   - primary 404 and 501: no failover, the primary's answer;
#   - the primary times out (origin_response_timeout 1s): a GET is served
#     by the failover, a POST gets 504;
#   - primary 503 with the failover down: 502 from edged;
#   - edged logs event=origin.failover each time it fails over, and not
#     for the answers it passes through.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

# two docroots and two CGI directories
mkdir -p "$T/www1" "$T/www2" "$T/cgi1" "$T/cgi2"
echo healthy >"$T/www1/index.html"
echo failover >"$T/www2/index.html"
echo "only on the failover" >"$T/www2/nope.txt"
cat >"$T/cgi1/code.cgi" <<'EOF'
#!/bin/sh
# the primary: Status from the query string
printf 'Status: %s From Primary\nContent-Type: text/plain\n\nprimary %s\n' "$QUERY_STRING" "$QUERY_STRING"
EOF
cat >"$T/cgi2/code.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nfailover %s\n' "$QUERY_STRING"
EOF
cat >"$T/cgi1/hang.cgi" <<'EOF'
#!/bin/sh
# the primary: too slow for the edge's 1 s response timeout
sleep 3
printf 'Content-Type: text/plain\n\nprimary hang\n'
EOF
cat >"$T/cgi2/hang.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\nfailover hang\n'
EOF
for d in cgi1 cgi2; do
	cp "$TEST_DIR/cgi-bin/echo.cgi" "$T/$d/echo.cgi"
	chmod 755 "$T/$d" "$T/$d"/*.cgi
done

start_origind failover --docroot "$T/www2" --cgi-bin "$T/cgi2"
FO_PORT=$ORIGIN_PORT
start_origind primary --docroot "$T/www1" --cgi-bin "$T/cgi1"
PR_PORT=$ORIGIN_PORT
DEAD_PORT=$(free_port)

nfailovers() {
	grep -c 'event=origin.failover' "$T/$1.log" || true
}

# ---- primary down ----
start_edged down --origin "https://127.0.0.1:$DEAD_PORT" \
	--origin-failover "https://127.0.0.1:$FO_PORT"
eget /
expect_eq "$CODE" 200 "GET / with the primary down"
expect_eq "$BODY" failover "body of GET / with the primary down"
eget -I /
expect_eq "$CODE" 200 "HEAD / with the primary down"
expect_eq "$(header Content-Length)" 9 "Content-Length of HEAD / from the failover"
head -c 200000 /dev/urandom >"$T/up.bin"
rm -f "$T/echo.out"
code=$(ecurl -o "$T/echo.out" -w '%{http_code}' --data-binary "@$T/up.bin" /cgi-bin/echo.cgi) ||
	fail "POST with the primary down"
expect_eq "$code" 200 "POST with the primary down"
expect_eq "$(file_sha "$T/echo.out")" "$(file_sha "$T/up.bin")" "body of a POST sent to the failover"
n=$(nfailovers down)
expect_eq "$n" 3 "origin.failover events in the log with the primary down"
expect_contains "$(grep 'event=origin.failover' "$T/down.log" | head -n 1)" "class=connect"
pass "primary down: GET, HEAD and POST (200 KB body intact) are served by the failover; 3 x event=origin.failover class=connect"
stop_bg down

# ---- the primary's certificate does not verify (alt.test is not
# 127.0.0.1): a TLS-level connection error, the failover answers ----
edge_pki
BAD_PORT=$(free_port)
start_bg badcert openssl s_server -quiet -www -accept "127.0.0.1:$BAD_PORT" \
	-cert "$T/pki/alt.test.chain.pem" -key "$T/pki/alt.test.key"
wait_port "$BAD_PORT"
start_edged badtls --origin "https://127.0.0.1:$BAD_PORT" \
	--origin-failover "https://127.0.0.1:$FO_PORT"
eget /
expect_eq "$CODE" 200 "GET / with the primary's certificate failing verification"
expect_eq "$BODY" failover "body of GET / with a primary that fails verification"
expect_contains "$(grep 'event=origin.failover' "$T/badtls.log" | head -n 1)" "class=verify"
pass "primary certificate fails verification: the failover answers (event=origin.failover class=verify)"
stop_bg badtls
stop_bg badcert

# ---- both down: 502 from the edge ----
DEAD2=$(free_port)
start_edged alldown --origin "https://127.0.0.1:$DEAD_PORT" \
	--origin-failover "https://127.0.0.1:$DEAD2"
eget /
expect_eq "$CODE" 502 "GET / with both origins down"
expect_eq "$(header X-Cache)" "Error from edged" "X-Cache of the edge's 502"
pass "primary and failover both down: 502 from edged"
stop_bg alldown

# ---- the primary is up; the failover goes down after a while ----
start_edged edge --origin "https://127.0.0.1:$PR_PORT" \
	--origin-failover "https://127.0.0.1:$FO_PORT" --origin-response-timeout 1s
eget /
expect_eq "$BODY" healthy "GET / with both up"
eget /cgi-bin/code.cgi?200
expect_eq "$CODE" 200 "GET code.cgi?200 from the primary"
expect_eq "$BODY" "primary 200" "body of code.cgi?200"
expect_eq "$(nfailovers edge)" 0 "failovers with a healthy primary"
pass "both up: the primary answers, no failover"

for s in 500 502 503 504; do
	before=$(nfailovers edge)
	eget "/cgi-bin/code.cgi?$s"
	expect_eq "$CODE" 200 "GET code.cgi?$s (primary $s)"
	expect_eq "$BODY" "failover $s" "body of GET when the primary answers $s"
	expect_eq "$(nfailovers edge)" $((before + 1)) "failover events after the primary's $s"
	expect_contains "$(grep 'event=origin.failover' "$T/edge.log" | tail -n 1)" "status=$s"
done
eget -I '/cgi-bin/code.cgi?503'
expect_eq "$CODE" 200 "HEAD code.cgi?503 (primary 503)"
pass "primary 500/502/503/504 to GET, 503 to HEAD: the failover's 200; event=origin.failover status=N logged"

before=$(nfailovers edge)
eget --data-binary 'a body' '/cgi-bin/code.cgi?503'
expect_eq "$CODE" 503 "POST code.cgi?503: the primary's 503"
expect_eq "$BODY" "primary 503" "body of the primary's 503 to a POST"
eget -X POST '/cgi-bin/code.cgi?502'
expect_eq "$CODE" 502 "bodiless POST code.cgi?502: the primary's 502"
eget -X PUT --data-binary 'x' '/cgi-bin/code.cgi?500'
expect_eq "$CODE" 500 "PUT code.cgi?500: the primary's 500"
eget -X DELETE '/cgi-bin/code.cgi?503'
expect_eq "$CODE" 503 "DELETE code.cgi?503: the primary's 503"
expect_eq "$(nfailovers edge)" "$before" "failover events for non-GET/HEAD requests"
pass "POST/PUT/DELETE answered 5xx by the primary: the primary's answer, no failover"

eget /nope.txt
expect_eq "$CODE" 404 "GET /nope.txt (404 on the primary, 200 on the failover)"
expect_not_contains "$BODY" "only on the failover"
eget '/cgi-bin/code.cgi?404'
expect_eq "$CODE" 404 "GET code.cgi?404"
expect_eq "$BODY" "primary 404" "body of the primary's 404"
eget '/cgi-bin/code.cgi?501'
expect_eq "$CODE" 501 "GET code.cgi?501 (not a failover status)"
expect_eq "$BODY" "primary 501" "body of the primary's 501"
expect_eq "$(nfailovers edge)" "$before" "failover events for 404/501"
pass "primary 404 and 501: passed through, no failover"

# the primary does not answer in time (response timeout 1 s)
before=$(nfailovers edge)
t0=$(date +%s%N)
eget /cgi-bin/hang.cgi
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$CODE" 200 "GET hang.cgi (the primary times out)"
expect_eq "$BODY" "failover hang" "body of GET when the primary times out"
expect_eq "$(nfailovers edge)" $((before + 1)) "failover events after the primary's timeout"
expect_contains "$(grep 'event=origin.failover' "$T/edge.log" | tail -n 1)" "class=timeout"
((ms < 2900)) || fail "the failover answered after ${ms} ms: edged waited for the primary's 3 s script"
eget --data-binary 'x' /cgi-bin/hang.cgi
expect_eq "$CODE" 504 "POST hang.cgi (the primary times out, no failover for POST)"
expect_eq "$(nfailovers edge)" $((before + 1)) "failover events after a POST timed out"
pass "primary too slow (origin_response_timeout 1s): GET served by the failover in ${ms} ms (class=timeout); POST gets 504"

# the primary still serves normally afterwards (its connection after a
# failover was not reused in a bad state)
for _ in 1 2 3; do
	eget /
	expect_eq "$BODY" healthy "GET / after the failovers"
done
pass "the primary serves normally after the failovers"

stop_bg failover
eget '/cgi-bin/code.cgi?503'
expect_eq "$CODE" 502 "GET code.cgi?503 with the failover down"
expect_eq "$(header X-Cache)" "Error from edged" "X-Cache when the failover is down"
eget /
expect_eq "$BODY" healthy "GET / from the primary with the failover down"
pass "primary 503 and the failover down: 502 from edged; the primary still serves"

# every edged stops on SIGTERM; under the sanitizer build none of them
# reported anything (LeakSanitizer runs at exit)
stop_bg edge
for n in down badtls alldown edge; do
	if grep -q -E 'Sanitizer|runtime error' "$T/$n.log"; then
		fail "edged ($n) reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/$n.log" | tr '\n' '|')"
	fi
done
pass "every edged stopped on SIGTERM without a sanitizer report"
