#!/usr/bin/env bash
# t0186: a 1 MiB file arrives intact (sha256, TLS 1.3 and 1.2, and a range
# across its middle); keep-alive: two requests in one curl invocation
# share one connection (curl says "Re-using existing connection", the same
# client port), and pipelined requests are answered in order.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl openssl sha256sum dd

W=$T/www
mkdir -p "$W"
head -c 1048576 /dev/urandom >"$W/big.bin"
echo "small one" >"$W/small.txt"
echo "small two" >"$W/two.txt"
WANT=$(file_sha "$W/big.bin")
start_origind origind --docroot "$W"

for v in --tlsv1.3 "--tls-max 1.2"; do
	rm -f "$T/big.out"
	# shellcheck disable=SC2086 # $v is one or two words
	len=$(ocurl $v -o "$T/big.out" -w '%{size_download}' /big.bin)
	expect_eq "$len" 1048576 "bytes downloaded ($v)"
	expect_eq "$(file_sha "$T/big.out")" "$WANT" "sha256 of the 1 MiB download ($v)"
done
ocurl -r 500000-600000 -o "$T/part.out" /big.bin
dd if="$W/big.bin" of="$T/part.want" bs=1000 skip=500 count=101 2>/dev/null
head -c 100001 "$T/part.want" >"$T/part.want1"
cmp -s "$T/part.out" "$T/part.want1" || fail "bytes 500000-600000 of big.bin differ"
pass "1 MiB file: sha256 matches over TLS 1.3 and 1.2; a 100001-byte range from its middle matches"

# ---- keep-alive ----
U=https://origin.test:$ORIGIN_PORT
OUT=$(ocurl -v -o /dev/null -o /dev/null "$U/small.txt" /two.txt 2>&1) || fail "curl failed: $(_show "$OUT")"
expect_contains "$OUT" "Re-using existing connection"
expect_eq "$(grep -c '^< HTTP/1.1 200 OK' <<<"$OUT")" 2 "200 answers in the keep-alive run"
expect_eq "$(grep -c 'TLS handshake, Client hello' <<<"$OUT")" 1 "TLS handshakes for two requests"
BOTH=$(ocurl "$U/_origind/session" /_origind/session)
ports=$(grep -o '"remote_port":[0-9]*' <<<"$BOTH" | sort -u | wc -l)
expect_eq "$(grep -o '"remote_port":[0-9]*' <<<"$BOTH" | wc -l)" 2 "session answers"
expect_eq "$ports" 1 "distinct client ports over two requests"
pass "two requests in one curl: one handshake, 'Re-using existing connection', the same client port"

RAW=$(printf 'GET /small.txt HTTP/1.1\r\nHost: origin.test\r\n\r\nGET /two.txt HTTP/1.1\r\nHost: origin.test\r\n\r\nHEAD /small.txt HTTP/1.1\r\nHost: origin.test\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n' |
	timeout 8 openssl s_client -quiet -ign_eof -connect "127.0.0.1:$ORIGIN_PORT" \
		-servername origin.test -CAfile "$T/pki/ca.pem" 2>/dev/null) || true
expect_eq "$(grep -c '^HTTP/1.1 200 OK' <<<"$RAW")" 4 "answers to 4 pipelined requests"
expect_eq "$(grep -E '^small|^two' <<<"$RAW" | tr '\n' ' ')" "small one small two small one " "bodies in order"
pass "4 pipelined requests (GET, GET, HEAD, GET): answered in order, HEAD without body"
