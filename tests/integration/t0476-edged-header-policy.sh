#!/usr/bin/env bash
# t0476: the response-header policy.
#   - hsts: Strict-Transport-Security on HTTPS answers (replacing the
#     origin's own), never over plain HTTP (RFC 6797 7.2), on cache hits,
#     misses and the edge's own answers alike;
#   - add_header (repeatable, "Name: value"): set on every answer, replacing
#     the origin's field of that name, values with commas kept whole;
#   - remove_header: the named fields are gone from every answer (origin's
#     X-Powered-By, the edge's own Server), case-insensitively;
#   - bad settings are refused at start naming the key: an hsts without
#     max-age, an add_header without a colon or with a framing field, a
#     remove_header of Content-Length.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl

R=/cgi-bin/resp.cgi
start_www_origind origin
HTTP=$(free_port)
start_edged a --listen-http "127.0.0.1:$HTTP" --viewer-protocol-policy allow-all \
	--hsts 'max-age=31536000; includeSubDomains' \
	--add-header 'X-Frame-Options: DENY' \
	--add-header 'Content-Security-Policy: default-src '"'"'self'"'"', img-src *' \
	--remove-header 'x-powered-by,Server'

# fields NAME: the values of NAME in $T/head (one a line)
fields() { tr -d '\r' <"$T/head" | grep -i "^$1:" | sed 's/^[^:]*: *//'; }

u="$R?n=1&$(cc max-age=60)&$(h X-Powered-By PHP/8.2)&$(h X-Frame-Options SAMEORIGIN)&$(h Strict-Transport-Security max-age=1)"
for want in Miss Hit; do
	eget "$u"
	expect_eq "$CODE" 200 "status ($want)"
	expect_xc "$want" "the policy's test URL"
	expect_eq "$(fields Strict-Transport-Security)" "max-age=31536000; includeSubDomains" \
		"HSTS over HTTPS ($want): ours, the origin's replaced"
	expect_eq "$(fields X-Frame-Options)" "DENY" "X-Frame-Options ($want): ours replaces the origin's"
	expect_eq "$(fields Content-Security-Policy)" "default-src 'self', img-src *" \
		"a value with a comma ($want)"
	expect_eq "$(fields X-Powered-By)" "" "X-Powered-By removed ($want)"
	expect_eq "$(fields Server)" "" "Server removed ($want)"
	expect_eq "$(fields Content-Type | head -n 1)" "text/plain" "other fields kept ($want)"
done

# the edge's own answers (a 400 refused request) get the policy too
code=$(ecurl -o /dev/null -D "$T/head" -w '%{http_code}' '/%zz')
expect_eq "$code" 400 "a malformed request-target"
expect_eq "$(fields X-Frame-Options)" "DENY" "X-Frame-Options on the edge's own 400"
expect_eq "$(fields Strict-Transport-Security)" "max-age=31536000; includeSubDomains" \
	"HSTS on the edge's own 400"

# plain HTTP: the added fields, not HSTS
code=$(timeout "$CMD_TIMEOUT" curl -sS -o /dev/null -D "$T/head" -w '%{http_code}' \
	"http://127.0.0.1:$HTTP$u")
expect_eq "$code" 200 "the same URL over plain HTTP"
expect_eq "$(fields Strict-Transport-Security)" "" "no HSTS over plain HTTP, not even the origin's"
expect_eq "$(fields X-Frame-Options)" "DENY" "X-Frame-Options over plain HTTP"

# ---- refused settings ----
# bad WHAT NEEDLE [flags...]: refused as a usage error (exit 2)
bad() {
	bad_start "$@"
	[[ $RC -eq 2 ]] || fail "edged with $1: exit code $RC, want 2: $(_show "$STDERR")"
}
bad "hsts without max-age" "option '--hsts'" --hsts 'includeSubDomains'
bad "hsts with a non-number" "option '--hsts'" --hsts 'max-age=soon'
bad "add_header without a colon" "option '--add-header'" --add-header 'X-Frame-Options DENY'
bad "add_header of Content-Length" "option '--add-header': 'Content-Length'" --add-header 'Content-Length: 5'
bad "add_header with a bad name" "option '--add-header'" --add-header 'X Frame: DENY'
bad "remove_header of Transfer-Encoding" "option '--remove-header'" --remove-header Transfer-Encoding
printf 'origin = https://127.0.0.1:%s\nhsts = max-age=x\n' "$ORIGIN_PORT" >"$T/bad.conf"
bad "hsts in a file" "bad.conf:2: key 'hsts'" --config "$T/bad.conf"
pass
