#!/usr/bin/env bash
# t0184: directories, missing files and symlinks under the docroot: a
# directory without the slash gets 301 to the slash form (query kept, name
# still percent-encoded); a directory serves its index file (--index), or
# 404 without one; a missing file 404; a symlink that leaves the docroot
# 403 (also a directory symlink, or an index that is such a symlink: never
# the outside file), a symlink inside it 200.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl

W=$T/www
mkdir -p "$W/sub" "$W/noindex" "$W/my dir" "$W/leaky" "$T/outside"
echo "sub index" >"$W/sub/index.html"
echo "sub start" >"$W/sub/start.html"
echo "a file" >"$W/noindex/file.txt"
echo "spaced index" >"$W/my dir/index.html"
echo "inside target" >"$W/target.txt"
echo "OUTSIDE secret" >"$T/outside/secret.txt"
echo "OUTSIDE index" >"$T/outside/index.html"
ln -s "$T/outside/secret.txt" "$W/out-link.txt"
ln -s ../outside/secret.txt "$W/out-rel.txt"
ln -s "$T/outside" "$W/outdir"
ln -s "$T/outside/index.html" "$W/leaky/index.html"
ln -s target.txt "$W/in-link.txt"
ln -s sub "$W/sub-link"
start_origind origind --docroot "$W"

get() {
	rm -f "$T/head" "$T/body"
	CODE=$(ocurl -D "$T/head" -o "$T/body" -w '%{http_code}' "$@") || fail "curl failed: $*"
	[[ -f $T/body ]] || : >"$T/body"
	BODY=$(<"$T/body")
}
header() {
	grep -i "^$1:" "$T/head" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

get /sub
expect_eq "$CODE" 301 "status of /sub"
expect_eq "$(header Location)" "/sub/" "Location for /sub"
get '/sub?x=1&y=a%20b'
expect_eq "$CODE" 301 "status of /sub?x=1&y=a%20b"
expect_eq "$(header Location)" "/sub/?x=1&y=a%20b" "Location for /sub?x=1&y=a%20b"
get -L '/sub?x=1'
expect_eq "$CODE" 200 "status after following the redirect"
expect_eq "$BODY" "sub index" "body after following the redirect"
pass "/sub: 301 to /sub/ (query kept), which serves index.html"

# the Location must still be a valid URI: the name percent-encoded as sent
# (known bug: "Location: /my dir/", a raw space)
get '/my%20dir'
expect_eq "$CODE" 301 "status of /my%20dir"
soft expect_eq "$(header Location)" "/my%20dir/" "Location for /my%20dir"
get '/my%20dir/'
expect_eq "$CODE" 200 "status of /my%20dir/"
expect_eq "$BODY" "spaced index" "body of /my%20dir/"
pass "/my%20dir/ serves its index; redirect Location checked (see soft failures)"

# the redirect must stay on this host: "//sub/" in Location is a
# network-path reference, which a browser follows to the host "sub"
# (known bug: open redirect "Location: //sub/" for //sub and /%2fsub)
for p in //sub /%2fsub //example.test; do
	[[ $p == //example.test ]] && mkdir -p "$W/example.test"
	get --path-as-is "$p"
	expect_eq "$CODE" 301 "status of $p"
	loc=$(header Location)
	[[ $loc =~ ^/[^/] ]] || soft fail "Location for $p leaves this host: '$loc'"
done
pass "redirects of //dir and /%2fdir checked to stay on this host (see soft failures)"

get /sub/
expect_eq "$CODE" 200 "status of /sub/"
expect_eq "$BODY" "sub index" "body of /sub/"
expect_eq "$(header Content-Type)" "text/html; charset=utf-8" "Content-Type of /sub/"
get /
expect_eq "$CODE" 404 "status of / (the docroot has no index.html)"
get /noindex/
expect_eq "$CODE" 404 "status of /noindex/ (no index.html)"
expect_not_contains "$BODY" "file.txt" # no directory listing
get /noindex/file.txt
expect_eq "$CODE" 200 "status of /noindex/file.txt"
pass "directory with index.html: 200 with it; without: 404 (no listing)"

for p in /missing.txt /missing/ /missing/deeper.txt /sub/missing.html /noindex/file.txt/x; do
	get "$p"
	expect_eq "$CODE" 404 "status of $p"
done
pass "missing files and directories: 404"

for p in /out-link.txt /out-rel.txt /outdir/secret.txt /outdir/ /sub/../out-link.txt; do
	get "$p"
	expect_eq "$CODE" 403 "status of $p"
	expect_not_contains "$BODY" "OUTSIDE"
done
get /leaky/
expect_not_contains "$BODY" "OUTSIDE"
[[ $CODE == 403 || $CODE == 404 ]] || fail "status of /leaky/ (index is a symlink out): $CODE, want 403 or 404"
pass "symlinks out of the docroot (absolute, relative, directory, as index): 403, never the file"

get /in-link.txt
expect_eq "$CODE" 200 "status of /in-link.txt"
expect_eq "$BODY" "inside target" "body of /in-link.txt"
get /sub-link/
expect_eq "$CODE" 200 "status of /sub-link/"
expect_eq "$BODY" "sub index" "body of /sub-link/"
pass "symlinks to a file and a directory inside the docroot: 200"

# --index names the file served for a directory
start_origind index --docroot "$W" --index start.html
get /sub/
expect_eq "$CODE" 200 "status of /sub/ with --index start.html"
expect_eq "$BODY" "sub start" "body of /sub/ with --index start.html"
get /my%20dir/
expect_eq "$CODE" 404 "status of /my%20dir/ with --index start.html (it has none)"
pass "--index start.html is served for /sub/; a directory without it 404"
