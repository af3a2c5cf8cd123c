#!/usr/bin/env bash
# t0442: edged's keep-alive pool toward the origin.  origind's
# /_origind/session shows the client port of the connection it arrived on,
# which through the edge is edged's end of the origin connection:
#   - sequential requests (each on a new viewer connection, some with a
#     body) reuse one origin connection (the same remote_port);
#   - origin_keepalive_timeout 1s: after 1.5 s idle a new connection is
#     used (a different remote_port);
#   - concurrent requests never share a connection (6 at once: 6 ports),
#     and all go back to the pool (the next 6 reuse them);
#   - origin_keepalive_timeout 0, and origin_max_idle 0: every request
#     opens a new connection;
#   - the origin closes an idle pooled connection (origind
#     --connection-timeout 1s, edged keeps them 30s): after 2.2 s a GET, a
#     POST and a chunked POST (which edged may not send twice) still
#     succeed on a new connection, and GETs sent 0.9-1.8 s after the last
#     request (around the origin's timeout) all succeed: the viewer never
#     sees an error.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

mkdir -p "$T/www" "$T/cgi"
echo healthy >"$T/www/index.html"
cp "$TEST_DIR/cgi-bin/echo.cgi" "$T/cgi/echo.cgi"
cat >"$T/cgi/slowport.cgi" <<'EOF'
#!/bin/sh
# slowport.cgi: the client port, after 1 s
sleep 1
printf 'Content-Type: text/plain\n\n%s\n' "$REMOTE_PORT"
EOF
chmod 755 "$T/cgi" "$T/cgi"/*.cgi
start_origind origin --docroot "$T/www" --cgi-bin "$T/cgi"

# oport: the origin-side client port of one request through the edge
oport() {
	local p
	eget /_origind/session
	expect_eq "$CODE" 200 "status of /_origind/session through the edge"
	p=$(json_raw "$BODY" remote_port)
	[[ $p =~ ^[0-9]+$ ]] || fail "no remote_port in the session answer: $(_show "$BODY")"
	echo "$p"
}

# ---- default keep-alive (5 s): one origin connection for everything ----
start_edged pooled
p1=$(oport)
ehealthy
p2=$(oport)
body=$(ecurl --data-binary 'hello pool' /cgi-bin/echo.cgi) || fail "POST through the edge"
expect_eq "$body" "hello pool" "echo through the pooled connection"
p3=$(oport)
eget -I /index.html
expect_eq "$CODE" 200 "HEAD between the session requests"
p4=$(oport)
expect_eq "$p2" "$p1" "origin-side port of the 2nd request (default keep-alive)"
expect_eq "$p3" "$p1" "origin-side port after a POST with a body"
expect_eq "$p4" "$p1" "origin-side port after a HEAD"
pass "sequential requests (GET, POST with body, HEAD) on new viewer connections share one origin connection (port $p1)"

# concurrent requests never share a connection: 6 at once take 6, and
# they all go back to the pool (six URLs: one would be collapsed into one
# origin request by the cache)
pids=()
for i in 1 2 3 4 5 6; do
	ecurl -o "$T/conc.$i" "/cgi-bin/slowport.cgi?$i" &
	pids+=($!)
done
for i in 1 2 3 4 5 6; do
	wait "${pids[$((i - 1))]}" || fail "concurrent request $i failed"
done
cports=$(cat "$T"/conc.* | sort -u | tr '\n' ' ')
cports=${cports% }
expect_eq "$(cat "$T"/conc.* | sort -u | wc -l)" 6 "distinct origin-side ports of 6 concurrent requests ($cports)"
after=()
for _ in 1 2 3 4 5 6; do
	after+=("$(oport)")
done
for p in "${after[@]}"; do
	[[ " $cports $p1 " == *" $p "* ]] || fail "a request after the concurrent ones opened a new origin connection ($p; pooled: $cports $p1)"
done
pass "6 concurrent requests use 6 origin connections ($cports); the 6 requests after them all reuse pooled ones (${after[*]})"

# ---- origin_keepalive_timeout 1s ----
stop_bg pooled
start_edged ka1 --origin-keepalive-timeout 1s
p1=$(oport)
p2=$(oport)
expect_eq "$p2" "$p1" "origin-side port of back-to-back requests (keep-alive 1s)"
sleep 1.5
p3=$(oport)
expect_ne "$p3" "$p1" "origin-side port after 1.5 s idle with keep-alive 1s"
p4=$(oport)
expect_eq "$p4" "$p3" "the new connection is pooled in turn"
pass "origin_keepalive_timeout 1s: reused at once ($p1), a new connection after 1.5 s idle ($p3)"

# ---- origin_keepalive_timeout 0 or origin_max_idle 0: no pooling ----
stop_bg ka1
start_edged ka0 --origin-keepalive-timeout 0
ports=()
for _ in 1 2 3 4; do
	ports+=("$(oport)")
done
expect_eq "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" 4 "distinct origin-side ports over 4 requests with keep-alive 0 (${ports[*]})"
pass "origin_keepalive_timeout 0: every request opens a new origin connection (${ports[*]})"
stop_bg ka0
start_edged idle0 --origin-max-idle 0
ports=()
for _ in 1 2 3; do
	ports+=("$(oport)")
done
expect_eq "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" 3 "distinct origin-side ports over 3 requests with origin_max_idle 0 (${ports[*]})"
pass "origin_max_idle 0: every request opens a new origin connection (${ports[*]})"

# ---- the origin drops idle connections first ----
stop_bg idle0
stop_bg origin
start_origind origin-short --docroot "$T/www" --cgi-bin "$T/cgi" --connection-timeout 1s
start_edged ka30 --origin-keepalive-timeout 30s
p1=$(oport)
sleep 2.2
p2=$(oport)
expect_ne "$p2" "$p1" "origin-side port after the origin closed the idle connection"
pass "origin closed the pooled connection after 1 s: a GET 2.2 s later gets 200 on a new connection"
sleep 2.2
eget --data-binary 'after idle' /cgi-bin/echo.cgi
expect_eq "$CODE" 200 "POST after the origin closed the pooled connection"
expect_eq "$BODY" "after idle" "body echoed by a POST after the origin closed the pooled connection"
sleep 2.2
eget -H 'Transfer-Encoding: chunked' --data-binary 'chunked after idle' /cgi-bin/echo.cgi
expect_eq "$CODE" 200 "chunked POST after the origin closed the pooled connection"
expect_eq "$BODY" "chunked after idle" "body of a chunked POST after idle"
if grep -q 'event=origin.failed' "$T/ka30.log"; then
	fail "edged logged an origin failure: $(grep 'event=origin.failed' "$T/ka30.log" | head -n 3 | tr '\n' '|')"
fi
pass "POST and chunked POST (not retried by edged) after the origin dropped the idle connection: no error reaches the viewer"

# around the origin's idle timeout the close may cross edged's reuse: a GET
# is then sent again on a new connection (hc_begin/hc_read_head retry)
codes=()
for s in 0.9 1.2 1.5 1.8; do
	eget /index.html
	sleep "$s"
	eget /index.html
	codes+=("$s:$CODE")
	[[ $CODE == 200 && $BODY == healthy ]] || fail "GET after $s s idle (origin timeout 1 s): $CODE $(_show "$BODY")"
done
pass "GETs after 0.9-1.8 s idle, across the origin's 1 s idle timeout: all 200 (${codes[*]})"

# every edged stops on SIGTERM; under the sanitizer build none of them
# reported anything (LeakSanitizer runs at exit)
stop_bg ka30
for n in pooled ka1 ka0 idle0 ka30; do
	if grep -q -E 'Sanitizer|runtime error' "$T/$n.log"; then
		fail "edged ($n) reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/$n.log" | tr '\n' '|')"
	fi
done
pass "every edged stopped on SIGTERM without a sanitizer report"
