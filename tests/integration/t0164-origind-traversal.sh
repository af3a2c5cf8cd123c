#!/usr/bin/env bash
# t0164: path traversal: a target whose path climbs above the docroot,
# literally ("/../") or percent-encoded ("%2e%2e", "%2E%2E", ".%2e",
# "..%2f"), in origin-form or absolute-form, gets 400 and never the file
# beside the docroot; dot-segments that stay inside are resolved (200).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool openssl curl

mkdir -p "$T/www/sub"
echo "healthy" >"$T/www/index.html"
echo "in sub" >"$T/www/sub/page.txt"
echo "SECRET beside the docroot" >"$T/secret.txt"
start_origind origind --docroot "$T/www" --connection-timeout 2s

# get TARGET: GET TARGET (exactly as written) with Connection: close
get() {
	raw "GET $1 HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
}

for t in /sub/../index.html /./index.html /sub/./../sub/page.txt /sub/%2e%2e/index.html \
	/sub/%2E./index.html https://origin.test/sub/../index.html; do
	get "$t"
	expect_eq "$STATUS" "HTTP/1.1 200 OK" "status of $t"
	expect_match "$RAW" "(healthy|in sub)"
done
pass "dot-segments inside the docroot (literal and encoded, also absolute-form) are resolved: 200"

for t in /../secret.txt /%2e%2e/secret.txt /%2E%2E/secret.txt /.%2e/secret.txt \
	/%2e./secret.txt /sub/../../secret.txt /sub/%2e%2e/%2e%2e/secret.txt \
	/..%2fsecret.txt /%2e%2e%2fsecret.txt /sub/..%2f..%2fsecret.txt /.. /%2e%2e \
	https://origin.test/../secret.txt 'https://origin.test/%2e%2e/secret.txt'; do
	get "$t"
	expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "status of $t"
	expect_not_contains "$RAW" "SECRET"
	expect_contains "$RAW" $'\r\nConnection: close\r\n'
done
pass "targets climbing above the docroot (/../, %2e%2e, %2E%2E, .%2e, ..%2f, absolute-form): 400"

# curl normalises "/../" itself; --path-as-is sends it as written
body=$(ocurl --path-as-is -o /dev/null -w '%{http_code}' /../secret.txt) || true
expect_eq "$body" 400 "curl --path-as-is /../secret.txt"
expect_eq "$(ocurl /)" "healthy" "GET / afterwards"
pass "curl --path-as-is /../secret.txt: 400; the server still serves"
