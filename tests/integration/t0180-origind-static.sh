#!/usr/bin/env bash
# t0180: static files: 200 with the file's bytes, a strong ETag that
# changes with the file, Last-Modified = the file's mtime, Content-Length,
# Accept-Ranges: bytes and a Content-Type by extension (html, css, js,
# json, png, txt; unknown or none: application/octet-stream); HEAD gives
# the same header fields and no body.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl openssl

W=$T/www
mkdir -p "$W"
echo "<!doctype html><p>home</p>" >"$W/index.html"
echo "body { color: red }" >"$W/style.css"
echo "console.log(1);" >"$W/app.js"
echo '{"a": 1}' >"$W/data.json"
printf '\211PNG\r\n\032\n\000\000\000\rIHDR' >"$W/img.png"
echo "plain" >"$W/notes.txt"
echo "what am I" >"$W/thing.xyz"
echo "no extension" >"$W/README"
echo "upper" >"$W/PAGE.HTML"
touch -d "2024-01-02 03:04:05 UTC" "$W"/*
start_origind origind --docroot "$W"

# get [curl args...] PATH: head in $T/head, body in $T/body, CODE
get() {
	rm -f "$T/head" "$T/body"
	CODE=$(ocurl -D "$T/head" -o "$T/body" -w '%{http_code}' "$@") || fail "curl failed: $*"
	[[ -f $T/body ]] || : >"$T/body"
}
# header NAME: the value of response field NAME in $T/head (CR removed)
header() {
	grep -i "^$1:" "$T/head" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

declare -A TYPE=(
	[index.html]="text/html; charset=utf-8" [style.css]="text/css; charset=utf-8"
	[app.js]="text/javascript; charset=utf-8" [data.json]="application/json"
	[img.png]="image/png" [notes.txt]="text/plain; charset=utf-8"
	[thing.xyz]="application/octet-stream" [README]="application/octet-stream"
	[PAGE.HTML]="text/html; charset=utf-8"
)
for f in "${!TYPE[@]}"; do
	get "/$f"
	expect_eq "$CODE" 200 "status of /$f"
	cmp -s "$T/body" "$W/$f" || fail "body of /$f differs from the file"
	expect_eq "$(header Content-Type)" "${TYPE[$f]}" "Content-Type of /$f"
	expect_eq "$(header Content-Length)" "$(stat -c %s "$W/$f")" "Content-Length of /$f"
	expect_eq "$(header Last-Modified)" "Tue, 02 Jan 2024 03:04:05 GMT" "Last-Modified of /$f"
	expect_eq "$(header Accept-Ranges)" "bytes" "Accept-Ranges of /$f"
	expect_match "$(header ETag)" '^"[^"]+"$'
done
pass "${#TYPE[@]} files: 200, exact bytes, Content-Type by extension (unknown/none: octet-stream), Content-Length, Last-Modified, Accept-Ranges, strong ETag"

get /style.css
E1=$(header ETag)
get /app.js
expect_ne "$(header ETag)" "$E1" "ETags of two files with the same mtime"
get /style.css
expect_eq "$(header ETag)" "$E1" "ETag of the same unchanged file"
echo "body { color: blue }" >"$W/style.css"
touch -d "2024-01-02 03:04:05 UTC" "$W/style.css" # same mtime, other size
get /style.css
expect_ne "$(header ETag)" "$E1" "ETag after the file's size changed"
E2=$(header ETag)
touch -d "2024-01-02 03:04:06 UTC" "$W/style.css" # same size, other mtime
get /style.css
expect_ne "$(header ETag)" "$E2" "ETag after the file's mtime changed"
expect_eq "$(header Last-Modified)" "Tue, 02 Jan 2024 03:04:06 GMT" "Last-Modified after touch"
expect_eq "$(<"$T/body")" "body { color: blue }" "body after the change"
pass "ETag: stable for an unchanged file, differs between files, changes with size and with mtime"

# ---- HEAD: the same fields, no body ----
# raw REQUEST: over TLS; answer in $T/raw; $HEADPART the head, BODYLEN
# the number of bytes after the blank line
raw() {
	printf '%b' "$1" | timeout 8 openssl s_client -quiet -ign_eof \
		-connect "127.0.0.1:$ORIGIN_PORT" -servername origin.test \
		-verify_return_error -CAfile "$T/pki/ca.pem" >"$T/raw" 2>/dev/null || true
	HEADPART=$(awk '/^\r$/ { exit } { print }' "$T/raw" | tr -d '\r' | grep -v '^Date:' | sort)
	BODYLEN=$(awk 'f { print } /^\r$/ { f = 1 }' "$T/raw" | wc -c)
}
for f in index.html img.png thing.xyz; do
	raw "GET /$f HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
	GETHEAD=$HEADPART
	((BODYLEN > 0)) || fail "GET /$f: no body in the raw answer"
	raw "HEAD /$f HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
	expect_eq "$HEADPART" "$GETHEAD" "HEAD's fields (sorted, without Date) vs GET's for /$f"
	expect_eq "$BODYLEN" 0 "bytes after HEAD's head for /$f"
done
get -I /index.html
expect_eq "$CODE" 200 "curl -I status"
expect_eq "$(header Content-Length)" "$(stat -c %s "$W/index.html")" "Content-Length of HEAD"
pass "HEAD: the same status and fields as GET (Content-Length too), no body bytes"
