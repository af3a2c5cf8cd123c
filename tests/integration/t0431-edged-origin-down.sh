#!/usr/bin/env bash
# t0431: an origin that is down or is not a TLS server.  Nothing listening
# on the port: 502 "cannot connect" at once (connection refused is not
# waited on), class=connect, after origin_connection_attempts attempts (3
# by default, 2 when set) as the log says; the same for an http:// origin,
# for a body-carrying POST (one failure per request, with or without
# 100-continue) and for a host name that does not resolve.  A plain-HTTP
# server on the port: 502, class=tls, after one connection only (a TLS
# failure is not retried) that began with a TLS ClientHello: edged never
# sends the request in the clear.  A server that closes each connection as
# soon as it accepts it: 502 quickly and logged (edged calls that a TLS
# failure today; the test accepts tls, connect or closed and notes which).
# Every answer carries "X-Cache: Error from edged" and a one-line body, and
# every edged is still running at the end.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl perl

# tcpd.pl MODE PORT: a scripted TCP peer.  Prints "listening", "accept N"
# per connection, "first=XX conn=N" (first byte received, hex) and
# "plaintext-request conn=N" when received bytes look like an HTTP request
# line.  MODE plain: answers whatever comes with a plain-HTTP 400 (and
# keeps reading until the client closes); close: closes each connection
# as soon as it is accepted.
cat >"$T/tcpd.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

$| = 1;
my ($mode, $port) = @ARGV;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
	Listen => 64, ReuseAddr => 1, Proto => 'tcp') or die "listen $port: $!\n";
$SIG{CHLD} = 'IGNORE';
print "listening\n";
my $n = 0;
while (1) {
	my $c = $l->accept or next;
	$n++;
	print "accept $n\n";
	if ($mode eq 'close') { close $c; next; }
	my $pid = fork;
	die "fork: $!\n" unless defined $pid;
	if ($pid) { close $c; next; }
	close $l;
	my $sel = IO::Select->new($c);
	my $first = 1;
	while ($sel->can_read(15)) {
		my $buf;
		exit 0 unless sysread($c, $buf, 65536);
		printf "first=%02x conn=%d\n", ord($buf), $n if $first;
		$first = 0;
		print "plaintext-request conn=$n\n" if $buf =~ /^[A-Z]+ \S+ HTTP\/1/m;
		syswrite($c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	}
	exit 0;
}
EOF

ms() { date +%s%3N; }

# failed NAME STATUS CLASS BODY: one GET / through edge NAME; sets MS (its
# duration) and LINE (edged's origin.failed line)
failed() {
	local name=$1 t0
	t0=$(ms)
	eget /
	MS=$(($(ms) - t0))
	expect_eq "$CODE" "$2" "status through $name"
	expect_eq "$(header X-Cache)" "Error from edged" "X-Cache through $name"
	expect_eq "$BODY" "$4" "body through $name"
	expect_eq "$(wc -l <"$T/body")" 1 "lines in the body through $name"
	wait_log "$name" "event=origin.failed"
	LINE=$(grep "event=origin.failed" "$T/$name.log")
	expect_eq "$(wc -l <<<"$LINE")" 1 "origin.failed lines in $name's log"
	expect_contains "$LINE" "status=$2 class=$3 "
}

# ---- nothing listens on the port ----
DEAD=$(free_port)
start_edged down --origin "https://127.0.0.1:$DEAD"
failed down 502 connect "502 Bad Gateway: cannot connect to the origin"
expect_contains "$LINE" "Connection refused (3 attempts)"
[[ $MS -lt 1500 ]] || fail "502 for a refused connection took ${MS} ms (want < 1500)"
pass "nothing listening: 502 class=connect in ${MS} ms after the default 3 attempts"

start_edged down2 --origin "https://127.0.0.1:$DEAD" --origin-connection-attempts 2 \
	--origin-connect-timeout 1s
failed down2 502 connect "502 Bad Gateway: cannot connect to the origin"
expect_contains "$LINE" "Connection refused (2 attempts)"
[[ $MS -lt 1000 ]] || fail "502 for a refused connection took ${MS} ms (want < 1000: refused is not a timeout)"
pass "nothing listening, 2 attempts, 1 s connect timeout: 502 class=connect in ${MS} ms (no waiting)"

# a request with a body (300 kB, so several reads; with and without
# Expect: 100-continue): the same 502, one failure logged per request
# (the failed exchange is not tried again for every piece of the body)
head -c 300000 /dev/zero | tr '\0' x >"$T/big"
for expect in "Expect: 100-continue" "Expect:"; do
	n0=$(grep -c "event=origin.failed" "$T/down2.log")
	eget -X POST -H "$expect" --data-binary @"$T/big" /
	expect_eq "$CODE" 502 "status of a POST to a dead origin ($expect)"
	expect_eq "$BODY" "502 Bad Gateway: cannot connect to the origin" "body of a POST to a dead origin ($expect)"
	expect_eq "$CRC" 0 "curl's exit code for a POST to a dead origin ($expect)"
	expect_eq "$(grep -c "event=origin.failed" "$T/down2.log")" $((n0 + 1)) "origin.failed lines after a POST ($expect)"
done
pass "POST with a 300 kB body to a dead origin (with and without 100-continue): one 502, one failure logged"

# the same for a plain-http:// origin (origin_protocol_policy http-only)
start_edged down3 --origin "http://127.0.0.1:$DEAD" --origin-connection-attempts 1
failed down3 502 connect "502 Bad Gateway: cannot connect to the origin"
expect_contains "$LINE" "Connection refused"
expect_not_contains "$LINE" "attempts)"
pass "nothing listening, http:// origin, 1 attempt: 502 class=connect"

# a host name that does not resolve (.invalid, RFC 6761; RES_OPTIONS
# keeps a silent resolver from making this slow): class=connect too
RES_OPTIONS="timeout:1 attempts:1" start_edged nxdomain \
	--origin "https://nonexistent.invalid:$DEAD" --origin-connection-attempts 2
failed nxdomain 502 connect "502 Bad Gateway: cannot connect to the origin"
expect_contains "$LINE" "resolve nonexistent.invalid: "
[[ $MS -lt 5000 ]] || fail "502 for an unresolvable origin took ${MS} ms"
pass "an origin host name that does not resolve: 502 class=connect (resolve) in ${MS} ms"

# ---- a plain-HTTP server where TLS is expected ----
PLAIN=$(free_port)
start_bg plain perl "$T/tcpd.pl" plain "$PLAIN"
wait_log plain listening
start_edged e-plain --origin "https://127.0.0.1:$PLAIN" --origin-connection-attempts 3
failed e-plain 502 tls "502 Bad Gateway: TLS failure with the origin"
expect_contains "$LINE" "TLS handshake with 127.0.0.1:$PLAIN: "
[[ $MS -lt 1500 ]] || fail "502 from a plain-HTTP origin took ${MS} ms"
sleep 0.2 # let the server's child note whatever else came
expect_eq "$(grep -c '^accept ' "$T/plain.log")" 1 "connections to the plain-HTTP origin (a TLS failure is not retried)"
expect_eq "$(grep '^first=' "$T/plain.log")" "first=16 conn=1" "first byte edged sent (a TLS handshake record)"
expect_not_contains "$(<"$T/plain.log")" "plaintext-request"
pass "plain-HTTP server on an https:// origin: 502 class=tls, one connection, a ClientHello and never a plain request"

# ---- a server that closes every connection at once ----
CLOSER=$(free_port)
start_bg closer perl "$T/tcpd.pl" close "$CLOSER"
wait_log closer listening
start_edged e-closer --origin "https://127.0.0.1:$CLOSER" --origin-connection-attempts 3
t0=$(ms)
eget /
MS=$(($(ms) - t0))
expect_eq "$CODE" 502 "status through e-closer"
expect_eq "$(header X-Cache)" "Error from edged" "X-Cache through e-closer"
expect_eq "$(wc -l <"$T/body")" 1 "lines in the body through e-closer"
expect_eq "$BODY" "502 Bad Gateway: TLS failure with the origin" "body through e-closer"
wait_log e-closer "event=origin.failed"
LINE=$(grep "event=origin.failed" "$T/e-closer.log")
expect_match "$LINE" "status=502 class=tls "
[[ $MS -lt 1500 ]] || fail "502 from a closing origin took ${MS} ms"
n=$(grep -c '^accept ' "$T/closer.log")
# hanging up mid-handshake is worth another attempt (unlike a TLS refusal)
expect_eq "$n" 3 "connections to the closing origin with 3 attempts"
note "closing origin: $(grep -o 'class=[a-z]*' <<<"$LINE"), $n connection(s), ${MS} ms"
pass "origin that closes at once: 502 class=$(grep -o 'class=[a-z]*' <<<"$LINE" | cut -d= -f2) in ${MS} ms after $n connection(s)"

# ---- and the edges themselves are fine: a real origin behind a fresh one ----
start_www_origind origin
start_edged good
ehealthy
for i in "${!_BG_NAMES[@]}"; do
	[[ ${_BG_NAMES[$i]} == @(down*|e-*|nxdomain) ]] || continue
	kill -0 "${_BG_PIDS[$i]}" 2>/dev/null || fail "edged ${_BG_NAMES[$i]} exited"
done
pass "every edged is still running; a fresh edge serves a real origin"

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
