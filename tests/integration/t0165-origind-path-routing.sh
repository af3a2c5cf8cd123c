#!/usr/bin/env bash
# t0165: origind routes on the normalized path, and never serves a script
# as a static file, whatever the spelling.
#   - each spelling of a PHP page (php-fpm, /php/), a shell script
#     (fcgiwrap, /cgi/) and a CGI script (/cgi-bin/): "//", "///", "/./",
#     "/x/../", "%70hp" (an unreserved escape), "%2f", "%2e", "/x/%2e%2e/",
#     absolute-form with "//": the script RUNS; a path above the root: 400;
#   - the same files reached through the static handler by another name: a
#     symlink to the FastCGI directory, a file symlink into it, a FastCGI
#     prefix whose directory is a symlink (the real directory named
#     directly), the cgi_bin directory inside the docroot, a symlink to it,
#     a plain file in it: 403;
#   - a .php (or .phtml, any case) file outside every prefix: 403 under the
#     default static_deny; static_deny replaced: only its suffixes;
#   - start-up refuses a cgi_bin that holds the docroot, a static_deny
#     item with a '/', a fastcgi prefix above the root, naming the key;
# and the scripts' source (SRC-MARK) never appears in any answer.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

MARK=SRC-MARK
D=$DOCROOT
mkdir -p "$D/scripts" "$D/data"
cat >"$D/php/mark.php" <<'EOF'
<?php
// SRC-MARK: this comment is the source; running it prints PHP-RAN
echo "PHP-RAN\n";
EOF
cat >"$D/data/app.php" <<'EOF'
<?php
// SRC-MARK
echo "APP-RAN\n";
EOF
echo "db_password=SRC-MARK" >"$D/data/secret.inc"
for f in "$D/cgi/mark.sh:SH-RAN" "$D/scripts/mark.cgi:CGI-RAN"; do
	printf '#!/bin/sh\n# SRC-MARK\nprintf "Content-Type: text/plain\\n\\n%s\\n"\n' "${f#*:}" >"${f%:*}"
	chmod 755 "${f%:*}"
done
echo "SRC-MARK in a plain file of cgi_bin" >"$D/scripts/config.txt"
echo "plain" >"$D/plain.txt"
ln -s php "$D/phplink"             # a directory symlink to the FastCGI directory
ln -s php/mark.php "$D/alias.txt"  # an innocent name for a script
ln -s cgi "$D/cgilink"             # to fcgiwrap's directory
ln -s scripts "$D/scriptlink"      # to cgi_bin
ln -s data "$D/app"                # the /app/ prefix's directory is a symlink

start_phpfpm
start_fcgiwrap
# static_deny emptied: each directory rule is proven on its own
start_origind a --docroot "$D" --cgi-bin "$D/scripts" --static-deny '' \
	--fastcgi "/php/=unix:$PHP_SOCK" --fastcgi "/cgi/=unix:$WRAP_SOCK" \
	--fastcgi "/app/=unix:$PHP_SOCK"

TRIED=0
# try TARGET WANT: GET TARGET exactly as written; WANT is run:TEXT (200
# with TEXT in the body) or a status; the source is never in the answer
try() {
	local t=$1 want=$2
	TRIED=$((TRIED + 1))
	if [[ $t == https://* ]]; then
		raw "GET $t HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n"
		CODE=$(awk 'NR == 1 { print $2 }' <<<"$STATUS")
		BODY=$RAW
	else
		cget --path-as-is "$t"
	fi
	expect_not_contains "$BODY" "$MARK"
	case $want in
	run:*)
		expect_eq "$CODE" 200 "status of $t"
		expect_contains "$BODY" "${want#run:}"
		;;
	*) expect_eq "$CODE" "$want" "status of $t" ;;
	esac
}

# spellings DIR FILE: ways to write /DIR/FILE that normalize to it
spellings() {
	local d=$1 f=$2 e
	e=$(printf '%%%02x' "'${d:0:1}")${d:1}
	printf '%s\n' "/$d/$f" "//$d/$f" "///$d///$f" "/$d//$f" "/./$d/$f" "/x/../$d/$f" \
		"/$e/$f" "/$d%2f$f" "/$d%2F$f?q=1" "/%2e/$d/$f" "/$d/./$f" "/$d/%2e/$f" \
		"/x/%2e%2e/$d/$f" "/x/.%2E/$d/$f" "/%2F$d/$f" "https://origin.test//$d/$f" \
		"https://origin.test/x/../$d/$f"
}

n0=$TRIED
for d in php:mark.php:PHP-RAN cgi:mark.sh:SH-RAN cgi-bin:mark.cgi:CGI-RAN app:app.php:APP-RAN; do
	IFS=: read -r dir file ran <<<"$d"
	while read -r t; do
		try "$t" "run:$ran"
	done < <(spellings "$dir" "$file")
	try "/../$dir/$file" 400
	try "/%2e%2e/$dir/$file" 400
	try "/$dir/../../$dir/$file" 400
done
pass "$((TRIED - n0)) spellings of 4 scripts (php-fpm, fcgiwrap, CGI, a symlinked FastCGI dir): each runs or is 400, no source"

n0=$TRIED
try /phplink/mark.php 403
try //phplink/mark.php 403
try /alias.txt 403
try /%61lias.txt 403
try /cgilink/mark.sh 403
try /data/app.php 403
try /data/secret.inc 403
try //data//secret.inc 403
try /scripts/mark.cgi 403
try //scripts/mark.cgi 403
try /scriptlink/mark.cgi 403
try /scripts/config.txt 403
try /cgi-bin/config.txt 403   # CGI: not executable
try /plain.txt 200
try //plain.txt 200
expect_eq "$BODY" plain "body of //plain.txt"
cget --path-as-is -H 'Range: bytes=0-5' /phplink/mark.php
expect_eq "$CODE" 403 "a Range request for /phplink/mark.php"
expect_not_contains "$BODY" "$MARK"
wait_log a 'why="file under cgi_bin"'
wait_log a 'why="file where a fastcgi prefix maps"'
pass "$((TRIED - n0)) static names for script files (symlinks to and from the FastCGI dirs, cgi_bin in the docroot): 403; plain files 200"

# ---- static_deny ----
W=$T/www2
mkdir -p "$W/other"
echo '<?php // SRC-MARK' >"$W/other/mark.php"
echo '<?php // SRC-MARK' >"$W/other/UPPER.PHP"
echo '<?php // SRC-MARK' >"$W/other/page.phtml"
echo 'notes' >"$W/other/notes.txt"
echo 'conf' >"$W/other/conf.inc"
ln -s mark.php "$W/other/link.txt"
start_origind b --docroot "$W"
n0=$TRIED
for t in /other/mark.php //other/mark.php /other/UPPER.PHP /other/page.phtml /other/link.txt \
	/other/%6dark.php; do
	try "$t" 403
done
try /other/notes.txt 200
try /other/conf.inc 200 # (not in the default list)
wait_log b 'why="file name in static_deny"'
start_origind c --docroot "$W" --static-deny .inc --static-deny .txt
cget /other/conf.inc
expect_eq "$CODE" 403 "conf.inc with --static-deny .inc"
cget /other/notes.txt
expect_eq "$CODE" 403 "notes.txt with --static-deny .txt"
cget /other/mark.php
expect_eq "$CODE" 200 "mark.php when static_deny lists .inc and .txt only"
pass "static_deny: $((TRIED - n0)) names of .php/.phtml files (any case, through a symlink) 403 by default; a given list replaces it"

# ---- refused at start ----
od() {
	expect_rc 2 "$ORIGIND" --listen-https "127.0.0.1:$(free_port)" \
		--cert "$T/pki/origin.test.chain.pem" --key "$T/pki/origin.test.key" "$@"
}
od --docroot "$D/php" --cgi-bin "$D"
expect_contains "$STDERR" "key 'cgi_bin'"
od --docroot "$D" --static-deny 'x/.php'
expect_contains "$STDERR" "key 'static_deny'"
od --docroot "$D" --fastcgi "/../php/=unix:$PHP_SOCK"
expect_contains "$STDERR" "key 'fastcgi'"
pass "start refused (exit 2, key named): cgi_bin holding the docroot, a static_deny item with '/', a fastcgi prefix above the root"
note "requests tried: $TRIED"
