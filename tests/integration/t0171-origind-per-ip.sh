#!/usr/bin/env bash
# t0171: --max-connections-per-ip 2: with two connections open from
# 127.0.0.1 a third from that address is refused (closed without a
# handshake, at once), while another address (127.0.0.2) is still served;
# once one of the two closes, 127.0.0.1 is served again.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl

mkdir -p "$T/www"
echo "healthy" >"$T/www/index.html"
start_origind origind --docroot "$T/www" --max-connections-per-ip 2 --connection-timeout 10s

# try [curl args...]: GET / (curl bounded to 3 s); CRC, BODY and MS set
try() {
	local t0
	t0=$(date +%s%N)
	CRC=0
	BODY=$(ocurl -m 3 "$@" /_origind/session 2>"$T/curl.err") || CRC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}

try
expect_eq "$CRC" 0 "curl's exit code with no other connection"
try
expect_eq "$CRC" 0 "curl's exit code, again (the first connection was released)"
pass "requests one after another are served"

# two connections from 127.0.0.1 that stay open (plain TCP, no TLS yet)
exec 3<>"/dev/tcp/127.0.0.1/$ORIGIN_PORT"
exec 4<>"/dev/tcp/127.0.0.1/$ORIGIN_PORT"
sleep 0.3 # let the server accept both
try
[[ $CRC -ne 0 ]] || fail "a third connection from 127.0.0.1 was served: $(_show "$BODY")"
expect_eq "$BODY" "" "body for the refused third connection"
((MS < 2000)) || fail "the refused connection took ${MS} ms to fail (should be closed at once)"
pass "third connection from 127.0.0.1 refused at once (curl exit $CRC after ${MS} ms)"

try --interface 127.0.0.2
expect_eq "$CRC" 0 "curl's exit code from 127.0.0.2 $(cat "$T/curl.err")"
expect_eq "$(json_str "$BODY" remote_addr)" 127.0.0.2 "remote_addr from 127.0.0.2"
pass "another address (127.0.0.2) is served meanwhile (remote_addr 127.0.0.2)"

exec 3>&-
ok=0
for _ in $(seq 1 20); do
	try
	if [[ $CRC -eq 0 ]]; then
		ok=1
		break
	fi
	sleep 0.1
done
[[ $ok -eq 1 ]] || fail "127.0.0.1 still refused 2 s after one of its two connections closed"
expect_eq "$(json_str "$BODY" remote_addr)" 127.0.0.1 "remote_addr"
exec 4>&-
pass "after one connection closes, 127.0.0.1 is served again"
