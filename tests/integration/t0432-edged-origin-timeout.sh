#!/usr/bin/env bash
# t0432: origin timeouts bound every wait.  An origin that never answers
# (sleep.cgi) gives a 504 "X-Cache: Error from edged" after
# origin_response_timeout (1 s here; measured 0.9-2.5 s), class=timeout,
# and the same edge then serves the next request.  A TCP listener that
# accepts but never speaks TLS: each attempt ends at origin_connect_timeout
# (1 s) and is retried (timeouts are, unlike TLS failures): 504
# class=timeout after the 2 attempts, ~2 s, and the listener saw 2
# connections.  An origin that sends its head and part of the body, then
# stalls (slowbody.cgi): the viewer gets the 200 and the partial body, then
# the transfer is cut (curl reports an incomplete transfer) about 1 s later
# instead of hanging, and edged logs origin.body_failed class=timeout.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl perl

ms() { date +%s%3N; }

# between MS LO HI WHAT: LO <= MS < HI
between() {
	[[ $1 -ge $2 && $1 -lt $3 ]] || fail "$4 took $1 ms, want $2..$3 ms"
}

# origind's own CGI timeout (3 s) is longer than edged's (1 s): edged's is
# the one the viewer sees; origind's then stops the scripts (waited for at
# the end, so that no script outlives the test)
start_www_origind origin --cgi-timeout 3s
start_edged edge --origin-response-timeout 1s --origin-connect-timeout 1s

# ---- no answer at all ----
t0=$(ms)
eget /cgi-bin/sleep.cgi
MS=$(($(ms) - t0))
expect_eq "$CODE" 504 "status of sleep.cgi through the edge"
expect_eq "$(header X-Cache)" "Error from edged" "X-Cache of the 504"
expect_eq "$BODY" "504 Gateway Timeout: the origin did not answer in time" "body of the 504"
expect_eq "$(wc -l <"$T/body")" 1 "lines in the 504's body"
between "$MS" 900 2500 "the 504 for sleep.cgi (origin_response_timeout 1s)"
wait_log edge "event=origin.failed"
LINE=$(grep "event=origin.failed" "$T/edge.log")
expect_contains "$LINE" "status=504 class=timeout "
expect_contains "$LINE" "timed out"
pass "origin never answers: 504 class=timeout in ${MS} ms (origin_response_timeout 1s)"

# the timed-out origin connection was not pooled: the next request works
ehealthy
expect_eq "$(grep -c "event=origin.failed" "$T/edge.log")" 1 "origin.failed lines after the next request"
pass "the same edge serves the next request"

# ---- part of the body, then nothing ----
t0=$(ms)
eget /cgi-bin/slowbody.cgi
MS=$(($(ms) - t0))
expect_eq "$CODE" 200 "status of slowbody.cgi (the head came)"
expect_eq "$BODY" "partial body" "what arrived of slowbody.cgi's body"
[[ $CRC -ne 0 ]] || fail "curl reported a complete transfer for a body cut by the origin timeout"
expect_match "$CRC" '^(18|56|92)$'
between "$MS" 900 2500 "the cut slowbody.cgi transfer"
wait_log edge "event=origin.body_failed"
expect_contains "$(grep "event=origin.body_failed" "$T/edge.log")" "class=timeout"
pass "origin stalls mid-body: the viewer gets the 200 and 'partial body', then the transfer is cut (curl exit $CRC) after ${MS} ms"
ehealthy

# ---- a TCP listener that never speaks TLS ----
cat >"$T/hold.pl" <<'EOF'
# accept connections and hold them open without reading or writing
use strict;
use warnings;
use IO::Socket::INET;
$| = 1;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $ARGV[0],
	Listen => 64, ReuseAddr => 1, Proto => 'tcp') or die "listen: $!\n";
print "listening\n";
my ($n, @held) = (0);
while (my $c = $l->accept) { $n++; print "accept $n\n"; push @held, $c; }
EOF
HOLD=$(free_port)
start_bg hold perl "$T/hold.pl" "$HOLD"
wait_log hold listening
start_edged e-hold --origin "https://127.0.0.1:$HOLD" --origin-connect-timeout 1s \
	--origin-connection-attempts 2 --origin-response-timeout 10s
t0=$(ms)
eget /
MS=$(($(ms) - t0))
expect_eq "$CODE" 504 "status through a silent TLS origin"
expect_eq "$(header X-Cache)" "Error from edged" "X-Cache through a silent TLS origin"
expect_eq "$BODY" "504 Gateway Timeout: the origin did not answer in time" "body through a silent TLS origin"
between "$MS" 1900 3500 "the 504 after 2 handshake attempts of 1 s"
wait_log e-hold "event=origin.failed"
LINE=$(grep "event=origin.failed" "$T/e-hold.log")
expect_contains "$LINE" "status=504 class=timeout "
expect_contains "$LINE" "TLS handshake with 127.0.0.1:$HOLD: timed out (2 attempts)"
expect_eq "$(grep -c '^accept ' "$T/hold.log")" 2 "connections the silent listener accepted"
pass "accepts but never handshakes: 504 class=timeout in ${MS} ms after 2 attempts of 1 s (2 connections)"

# origind stops both scripts at its own timeout (hygiene: no sleeping
# script outlives the test; origind does not stop them when it exits)
for ((i = 0; i < 50; i++)); do
	[[ $(grep -c "event=cgi.timeout" "$T/origin.log" || true) -ge 2 ]] && break
	sleep 0.1
done
expect_eq "$(grep -c "event=cgi.timeout" "$T/origin.log" || true)" 2 "scripts origind stopped at its cgi_timeout"

# ---- every edged stops cleanly: SIGTERM, exit 0, no sanitizer report ----
# (matters under SAN=1: leaks are only reported at exit)
edges=()
for i in "${!_BG_NAMES[@]}"; do
	if grep -q "prog=edged event=listening" "$T/${_BG_NAMES[$i]}.log" 2>/dev/null; then
		edges+=("${_BG_NAMES[$i]}")
		kill -TERM "${_BG_PIDS[$i]}"
	fi
done
for n in "${edges[@]}"; do
	wait_bg "$n" 10
	[[ $RC -eq 0 ]] || fail "edged $n exited with $RC after SIGTERM: $(_show "$(tail -n 5 "$T/$n.log")")"
	for bad in 'ERROR: AddressSanitizer' 'ERROR: LeakSanitizer' 'runtime error:'; do
		if grep -q "$bad" "$T/$n.log"; then
			fail "edged $n's log has a sanitizer report: $(grep -A 12 "$bad" "$T/$n.log" | head -n 40)"
		fi
	done
done
pass "${#edges[@]} edged instances stopped on SIGTERM with exit 0 and no sanitizer report"
