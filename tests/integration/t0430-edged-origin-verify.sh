#!/usr/bin/env bash
# t0430: edged verifies the origin's certificate and never falls back.  A
# certificate for another name (an IP origin with no IP subjectAltName;
# --origin-sni naming a name the certificate lacks), an expired one, a
# not-yet-valid one and one from a CA edged does not trust each give the viewer a 502 with
# "X-Cache: Error from edged" and a one-line body, and edged logs
# event=origin.failed class=verify with gnutls' reason.  A TCP relay in
# front of the origin counts connections and looks at their first byte:
# exactly one connection per request, and it starts a TLS handshake (0x16):
# no retry after a verification failure (origin_connection_attempts 3 is
# set explicitly) and no plain-HTTP attempt, not even under match-viewer
# with an http port to fall back to (a second relay there sees nothing).
# origind itself never sees a request (its /_origind/stats counts only our
# own stats requests).  The control: --origin-sni origin.test (a name the
# certificate carries) is verified, sent as SNI and served.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl perl

edge_pki
P=$T/pki
mkdir -p "$T/www"
echo healthy >"$T/www/index.html"
# a server certificate for another name only (no IP subjectAltName)
"$EDGECERT" issue other.test --dir "$P" --dns other.test >/dev/null
# every name right, but expired
"$EDGECERT" issue old.test --dir "$P" --dns origin.test --ip 127.0.0.1 \
	--not-before 2020-01-01 --not-after 2020-02-01 >/dev/null
# every name right, but valid only from 2030 on
"$EDGECERT" issue future.test --dir "$P" --dns origin.test --ip 127.0.0.1 \
	--not-before 2030-01-01 --days 30 >/dev/null
# every name right, but from a CA edged was not given
"$EDGECERT" ca --dir "$T/other" --cn "other CA" >/dev/null
"$EDGECERT" issue origin.test --dir "$T/other" --dns origin.test --ip 127.0.0.1 >/dev/null

# tcpd.pl MODE PORT [UPSTREAM]: "relay" copies bytes to 127.0.0.1:UPSTREAM;
# prints "listening", "accept N" per connection, "first=XX conn=N" (the
# first byte the client sent, hex) and "plaintext-request conn=N" if a
# client byte run looks like an HTTP request line.
cat >"$T/tcpd.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

$| = 1;
my ($mode, $port, $up) = @ARGV;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
	Listen => 64, ReuseAddr => 1, Proto => 'tcp') or die "listen $port: $!\n";
$SIG{CHLD} = 'IGNORE';
print "listening\n";
my $n = 0;
while (1) {
	my $c = $l->accept or next;
	$n++;
	print "accept $n\n";
	my $pid = fork;
	die "fork: $!\n" unless defined $pid;
	if ($pid) { close $c; next; }
	close $l;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $up,
		Proto => 'tcp') or die "connect $up: $!\n";
	my $sel = IO::Select->new($c, $s);
	my $first = 1;
	while (my @r = $sel->can_read(15)) {
		for my $h (@r) {
			my $buf;
			exit 0 unless sysread($h, $buf, 65536);
			if ($h == $c) {
				printf "first=%02x conn=%d\n", ord($buf), $n if $first;
				$first = 0;
				print "plaintext-request conn=$n\n" if $buf =~ /^[A-Z]+ \S+ HTTP\/1/m;
				syswrite($s, $buf);
			} else {
				syswrite($c, $buf);
			}
		}
	}
	exit 0;
}
EOF

# origin NAME CERT KEY: origind with that pair behind a relay; sets
# ORIGIN_PORT (origind) and RELAY_PORT; the relay's log is NAME-relay.
origin() {
	local name=$1
	ORIGIN_PORT=$(free_port)
	start_bg "$name" "$ORIGIND" --listen-https "127.0.0.1:$ORIGIN_PORT" --cert "$2" \
		--key "$3" --docroot "$T/www" --introspection
	wait_port "$ORIGIN_PORT"
	RELAY_PORT=$(free_port)
	start_bg "$name-relay" perl "$T/tcpd.pl" relay "$RELAY_PORT" "$ORIGIN_PORT"
	wait_log "$name-relay" listening # (not wait_port: that would be a connection)
}

# origind's own count of the requests it received (curl -k: the point is
# the count, not origind's certificate); the stats request counts itself
origin_requests() {
	local s
	s=$(timeout "$CMD_TIMEOUT" curl -sSk "https://127.0.0.1:$ORIGIN_PORT/_origind/stats") ||
		fail "GET /_origind/stats from origind"
	json_raw "$s" requests
}

# refused NAME WHY-PART: one GET / through the edge NAME must be refused
# for a certificate verification failure.
refused() {
	local name=$1 want=$2 line
	eget /
	expect_eq "$CODE" 502 "status through $name"
	expect_eq "$(header X-Cache)" "Error from edged" "X-Cache through $name"
	expect_eq "$BODY" "502 Bad Gateway: the origin's certificate failed verification" \
		"body through $name"
	expect_eq "$(wc -l <"$T/body")" 1 "lines in the body through $name"
	wait_log "$name" "event=origin.failed"
	line=$(grep "event=origin.failed" "$T/$name.log")
	expect_eq "$(wc -l <<<"$line")" 1 "origin.failed lines in $name's log"
	expect_contains "$line" "status=502 class=verify "
	expect_contains "$line" "rejected: "
	expect_contains "$line" "$want"
}

# relay_saw NAME N: N connections through NAME-relay, each beginning with a
# TLS handshake record, none carrying a plain-text request
relay_saw() {
	local log=$T/$1-relay.log
	expect_eq "$(grep -c '^accept ' "$log")" "$2" "connections to the origin ($1)"
	expect_eq "$(grep -c '^first=16 ' "$log")" "$2" "connections opened with a TLS handshake record ($1)"
	expect_eq "$(grep -c '^first=' "$log")" "$2" "connections with a first byte ($1)"
	expect_not_contains "$(<"$log")" "plaintext-request"
}

ATT=(--origin-connection-attempts 3)

# ---- (a) the certificate is for another name ----
origin wrongname "$P/other.test.chain.pem" "$P/other.test.key"
start_edged e-wrongname --origin "https://127.0.0.1:$RELAY_PORT" "${ATT[@]}"
refused e-wrongname "origin certificate for '127.0.0.1'"
expect_contains "$(grep event=origin.failed "$T/e-wrongname.log")" "does not match"
relay_saw wrongname 1
expect_eq "$(origin_requests)" 1 "requests origind received (wrong name)"
pass "certificate for other.test, origin https://127.0.0.1: 502 class=verify (name), one TLS connection, origind saw no request"

# with match-viewer an HTTPS viewer's request goes to the https endpoint
# only: a verification failure there does not send it to the http one
PLAIN=$(free_port)
start_bg plain perl "$T/tcpd.pl" relay "$PLAIN" "$ORIGIN_PORT"
wait_log plain listening
start_edged e-match --origin "https://127.0.0.1:$RELAY_PORT" --origin-protocol-policy match-viewer \
	--origin-http-port "$PLAIN" "${ATT[@]}"
refused e-match "origin certificate for '127.0.0.1'"
relay_saw wrongname 2
expect_eq "$(grep -c '^accept ' "$T/plain.log")" 0 "connections to the origin's plain-HTTP port"
expect_eq "$(origin_requests)" 2 "requests origind received (wrong name, match-viewer; 2 stats requests)"
pass "match-viewer: the HTTPS viewer's request is refused (verify), never retried on the origin's http port"

# the right certificate, but --origin-sni names something it does not carry
origin sni "$P/origin.test.chain.pem" "$P/origin.test.key"
start_edged e-badsni --origin "https://127.0.0.1:$RELAY_PORT" --origin-sni wrong.test "${ATT[@]}"
refused e-badsni "origin certificate for 'wrong.test'"
expect_contains "$(grep event=origin.failed "$T/e-badsni.log")" "does not match"
relay_saw sni 1
expect_eq "$(origin_requests)" 1 "requests origind received (--origin-sni wrong.test)"
pass "--origin-sni wrong.test against the origin.test certificate: 502 class=verify, one TLS connection, no request"

# control: the same origin and relay, --origin-sni origin.test
start_edged e-goodsni --origin "https://127.0.0.1:$RELAY_PORT" --origin-sni origin.test "${ATT[@]}"
eget /
expect_eq "$CODE" 200 "status with --origin-sni origin.test"
expect_eq "$BODY" healthy "body with --origin-sni origin.test"
expect_eq "$(header X-Cache)" "Miss from edged" "X-Cache with --origin-sni origin.test"
eget /_origind/session
expect_eq "$(json_str "$BODY" sni)" origin.test "SNI origind received with --origin-sni origin.test"
expect_eq "$(grep -c 'event=origin.failed' "$T/e-goodsni.log" || true)" 0 "origin.failed lines (good SNI)"
pass "control: --origin-sni origin.test is verified, sent as SNI, and served"

# ---- (b) expired ----
origin expired "$P/old.test.chain.pem" "$P/old.test.key"
start_edged e-expired --origin "https://127.0.0.1:$RELAY_PORT" "${ATT[@]}"
refused e-expired "expired"
relay_saw expired 1
expect_eq "$(origin_requests)" 1 "requests origind received (expired)"
pass "expired certificate (names right): 502 class=verify (expired), one TLS connection, no request"

# not yet valid: the same, for the other end of the validity period
origin future "$P/future.test.chain.pem" "$P/future.test.key"
start_edged e-future --origin "https://127.0.0.1:$RELAY_PORT" "${ATT[@]}"
refused e-future "not yet valid"
relay_saw future 1
expect_eq "$(origin_requests)" 1 "requests origind received (not yet valid)"
pass "not-yet-valid certificate (names right): 502 class=verify (not yet valid), one TLS connection, no request"

# ---- (c) issued by a CA edged does not trust ----
origin untrusted "$T/other/origin.test.chain.pem" "$T/other/origin.test.key"
start_edged e-untrusted --origin "https://127.0.0.1:$RELAY_PORT" "${ATT[@]}"
refused e-untrusted "issuer is unknown"
# a second request: exactly one more connection (nothing cached, no retry)
eget /
expect_eq "$CODE" 502 "status of a second request (untrusted)"
relay_saw untrusted 2
expect_eq "$(origin_requests)" 1 "requests origind received (untrusted)"
pass "certificate from another CA: 502 class=verify (issuer unknown), one TLS connection per request, no request"

# every edged is still running (a verification failure is no crash)
for i in "${!_BG_NAMES[@]}"; do
	[[ ${_BG_NAMES[$i]} == e-* ]] || continue
	kill -0 "${_BG_PIDS[$i]}" 2>/dev/null || fail "edged ${_BG_NAMES[$i]} exited"
done
pass "every edged is still running"

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
