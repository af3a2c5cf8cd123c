#!/usr/bin/env bash
# t0446: origin_protocol_policy.  Two origins on 127.0.0.1: origind over
# HTTPS (index "healthy") and a small plain-HTTP/1.1 server (core perl,
# keep-alive, answers "plain" plus what it received: method, target, Host,
# X-Forwarded-Proto, body length and sha256, its client's port).
#   - match-viewer (--origin https://...:HTTPS --origin-http-port HTTP,
#     viewers on HTTPS and plain HTTP with allow-all): HTTPS viewers are
#     served by the HTTPS origin, HTTP viewers by the HTTP origin, with the
#     Host of the endpoint used and X-Forwarded-Proto of the viewer;
#     bodies (Content-Length and chunked) reach the HTTP origin intact;
#     sequential HTTP-viewer requests share one pooled plain connection;
#     origind's /_origind/stats shows none of the HTTP viewers' paths;
#   - match-viewer from an http:// URL with --origin-https-port: the same
#     split the other way round;
#   - --origin http://... alone (http-only implied by the scheme) serves an
#     HTTPS viewer over plain HTTP to the origin.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl perl sha256sum

cat >"$T/plain.pl" <<'EOF'
# plain.pl PORT: a forking HTTP/1.1 origin without TLS, keep-alive.
use strict;
use warnings;
use IO::Socket::INET;
use Digest::SHA qw(sha256_hex);
$SIG{CHLD} = 'IGNORE';
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $ARGV[0],
	Listen => 64, ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
print "listening on $ARGV[0]\n";
$| = 1;
while (1) {
	my $c = $l->accept or next;
	my $pid = fork;
	if (!defined $pid) { close $c; next; }
	if ($pid) { close $c; next; }
	close $l;
	binmode $c;
	serve($c);
	exit 0;
}
sub readline_crlf {
	my ($c) = @_;
	my $line = <$c>;
	return undef unless defined $line;
	$line =~ s/\r?\n\z//;
	return $line;
}
sub serve {
	my ($c) = @_;
	my $n = 0;
	while (1) {
		my $rl = readline_crlf($c);
		return unless defined $rl && $rl ne '';
		my ($method, $target) = split / /, $rl;
		my %h;
		while (defined(my $f = readline_crlf($c))) {
			last if $f eq '';
			my ($k, $v) = $f =~ /^([^:]+):\s*(.*?)\s*$/ or next;
			$h{lc $k} = $v;
		}
		my $body = '';
		if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
			while (1) {
				my $sz = hex(readline_crlf($c) // '0');
				if ($sz == 0) { while (defined(my $t = readline_crlf($c))) { last if $t eq ''; } last; }
				my $d = '';
				while (length $d < $sz) { my $r = read($c, $d, $sz - length $d, length $d); return unless $r; }
				$body .= $d;
				readline_crlf($c);
			}
		} elsif (my $len = $h{'content-length'}) {
			while (length $body < $len) { my $r = read($c, $body, $len - length $body, length $body); return unless $r; }
		}
		$n++;
		my $out = "plain\nmethod=$method\ntarget=$target\nhost=" . ($h{host} // '') .
			"\nxfp=" . ($h{'x-forwarded-proto'} // '') . "\nbody_len=" . length($body) .
			"\nbody_sha=" . sha256_hex($body) . "\npeer_port=" . $c->peerport . "\nrequests=$n\n";
		my $head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: plain.pl\r\n" .
			"Content-Length: " . length($out) . "\r\n\r\n";
		print $c $head;
		print $c $out unless $method eq 'HEAD';
		$c->flush;
	}
}
EOF

start_www_origind origin
HTTPS_PORT=$ORIGIN_PORT
HTTP_PORT=$(free_port)
start_bg plain perl "$T/plain.pl" "$HTTP_PORT"
wait_port "$HTTP_PORT"

# hcurl [curl args...] PATH: plain HTTP to the edge's HTTP listener
hcurl() {
	local path=${*: -1}
	local args=("${@:1:$#-1}")
	timeout "$CMD_TIMEOUT" curl -sS --resolve "edge.test:$EDGE_HTTP:127.0.0.1" \
		"${args[@]}" "http://edge.test:$EDGE_HTTP$path"
}
hget() {
	CURL_FN=hcurl cget "$@"
}

head -c 300000 /dev/urandom >"$T/up.bin"
UP_SHA=$(file_sha "$T/up.bin")

# ---- match-viewer from an https:// origin URL ----
EDGE_HTTP=$(free_port)
start_edged mv --origin-protocol-policy match-viewer --origin "https://127.0.0.1:$HTTPS_PORT" \
	--origin-http-port "$HTTP_PORT" --listen-http "127.0.0.1:$EDGE_HTTP" \
	--viewer-protocol-policy allow-all
wait_port "$EDGE_HTTP"
expect_contains "$(cat "$T/mv.log")" "origin_policy=match-viewer"

eget /
expect_eq "$CODE" 200 "HTTPS viewer, match-viewer"
expect_eq "$BODY" healthy "HTTPS viewer: the HTTPS origin (origind) answers"
eget /cgi-bin/env.cgi
expect_eq "$(var HTTPS)" on "HTTPS as origind's CGI saw it for an HTTPS viewer"
expect_eq "$(var HTTP_X_FORWARDED_PROTO)" https "X-Forwarded-Proto at the HTTPS origin"
hget /some/path?q=1
expect_eq "$CODE" 200 "HTTP viewer, match-viewer"
expect_eq "$(var method)" GET "method at the plain origin"
expect_eq "$(head -n 1 <<<"$BODY")" plain "HTTP viewer: the plain-HTTP origin answers"
expect_eq "$(var target)" "/some/path?q=1" "target at the plain origin"
expect_eq "$(var host)" "127.0.0.1:$HTTP_PORT" "Host sent to the plain origin"
expect_eq "$(var xfp)" http "X-Forwarded-Proto at the plain origin"
expect_eq "$(header Server)" plain.pl "Server from the plain origin"
expect_eq "$(header Via)" "1.1 edge-mv (edged)" "Via on the plain origin's answer"
pass "match-viewer: HTTPS viewer -> origind over TLS, HTTP viewer -> plain origin (Host 127.0.0.1:$HTTP_PORT, X-Forwarded-Proto http)"

hget --data-binary "@$T/up.bin" /upload
expect_eq "$(var method)" POST "method of the POST at the plain origin"
expect_eq "$(var body_len)" 300000 "body length at the plain origin"
expect_eq "$(var body_sha)" "$UP_SHA" "body sha256 at the plain origin"
hget -H 'Transfer-Encoding: chunked' --data-binary "@$T/up.bin" /upload
expect_eq "$(var body_len)" 300000 "chunked body length at the plain origin"
expect_eq "$(var body_sha)" "$UP_SHA" "chunked body sha256 at the plain origin"
hget -I /head
expect_eq "$CODE" 200 "HEAD from an HTTP viewer"
pass "HTTP viewer bodies (300 KB, Content-Length and chunked) reach the plain origin intact; HEAD works"

hget /a
p1=$(var peer_port)
r1=$(var requests)
hget /b
p2=$(var peer_port)
r2=$(var requests)
expect_eq "$p2" "$p1" "plain-origin connection of two sequential HTTP-viewer requests"
expect_eq "$r2" $((r1 + 1)) "requests on the pooled plain connection"
# HTTPS viewers still go to origind in between, and back
eget /
expect_eq "$BODY" healthy "HTTPS viewer after HTTP viewers"
hget /c
expect_eq "$(var peer_port)" "$p1" "plain-origin connection after an HTTPS-viewer request"
pass "plain-origin connections are pooled (port $p1 for 3 requests, HTTPS requests in between)"

# no HTTP-viewer request reached origind: its stats know only the paths
# the HTTPS viewers asked for
S=$(ocurl /_origind/stats) || fail "origind's stats"
for p in /some/path /upload /head /a /b /c; do
	expect_eq "$(json_raw "$S" "$p")" "" "origind's count of $p (asked by HTTP viewers only)"
done
expect_eq "$(json_raw "$S" /)" 2 "origind's count of / (HTTPS viewers)"
pass "origind saw none of the HTTP viewers' paths"
stop_bg mv

# ---- match-viewer from an http:// origin URL ----
EDGE_HTTP=$(free_port)
start_edged mv2 --origin-protocol-policy match-viewer --origin "http://127.0.0.1:$HTTP_PORT" \
	--origin-https-port "$HTTPS_PORT" --listen-http "127.0.0.1:$EDGE_HTTP" \
	--viewer-protocol-policy allow-all
wait_port "$EDGE_HTTP"
eget /
expect_eq "$BODY" healthy "HTTPS viewer, match-viewer from an http:// URL"
hget /x
expect_eq "$(head -n 1 <<<"$BODY")" plain "HTTP viewer, match-viewer from an http:// URL"
expect_eq "$(var host)" "127.0.0.1:$HTTP_PORT" "Host at the plain origin"
pass "match-viewer from http://...:$HTTP_PORT with --origin-https-port $HTTPS_PORT: the same split"
stop_bg mv2

# ---- --origin http://... : http-only by the scheme ----
start_edged plainonly --origin "http://127.0.0.1:$HTTP_PORT"
expect_contains "$(cat "$T/plainonly.log")" "origin_policy=http-only"
eget /over/tls
expect_eq "$CODE" 200 "HTTPS viewer with an http:// origin"
expect_eq "$(head -n 1 <<<"$BODY")" plain "HTTPS viewer with an http:// origin: the plain origin answers"
expect_eq "$(var xfp)" https "X-Forwarded-Proto for an HTTPS viewer over a plain origin leg"
expect_eq "$(var host)" "127.0.0.1:$HTTP_PORT" "Host at the plain origin"
eget --data-binary "@$T/up.bin" /upload
expect_eq "$(var body_sha)" "$UP_SHA" "POST body over the plain origin leg"
pass "--origin http://127.0.0.1:$HTTP_PORT (http-only implied): an HTTPS viewer is served over plain HTTP; bodies intact"

# every edged stops on SIGTERM; under the sanitizer build none of them
# reported anything (LeakSanitizer runs at exit)
stop_bg plainonly
for n in mv mv2 plainonly; do
	if grep -q -E 'Sanitizer|runtime error' "$T/$n.log"; then
		fail "edged ($n) reported: $(grep -m 3 -E 'Sanitizer|runtime error' "$T/$n.log" | tr '\n' '|')"
	fi
done
pass "every edged stopped on SIGTERM without a sanitizer report"
