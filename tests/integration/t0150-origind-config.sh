#!/usr/bin/env bash
# t0150: origind's settings and start-up errors.  Usage errors (unknown or
# malformed keys, flags or values) exit 2 with a message that names the
# key, and FILE:LINE for a config file; failures of the TLS material exit
# 1 and name the file(s); nothing starts listening on a failed start.
# --help lists every key with its default, and a valid -c file works.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
need_tool curl

cd "$T" # relative paths in messages stay short
origind_pki
"$EDGECERT" ca --dir "$T/other" --cn "Other CA" >/dev/null
"$EDGECERT" issue other.test --dir "$T/other" --dns other.test >/dev/null
mkdir -p www
echo "from the config file" >www/index.html
CERT=(--cert pki/origin.test.chain.pem --key pki/origin.test.key)
P=$(free_port)

# od WANT ARGS...: run origind with ARGS; it must exit WANT at once, say
# nothing on stdout, and not be listening on $P afterwards.
od() {
	local want=$1
	shift
	expect_rc "$want" "$ORIGIND" --listen-https "127.0.0.1:$P" "$@"
	expect_eq "$STDOUT" "" "stdout of origind $*"
	expect_contains "$STDERR" "origind: "
	if (exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null; then
		fail "something listens on $P after a failed start: origind $*"
	fi
}

# ---- config file errors: exit 2, FILE:LINE and the key ----
printf '# origind test config\ndocroot = www\nbogus_key = 1\n' >bad1.conf
od 2 -c bad1.conf "${CERT[@]}"
expect_contains "$STDERR" "bad1.conf:3: unknown key 'bogus_key'"
printf 'docroot = www\ndocroots = www\n' >bad2.conf
od 2 -c bad2.conf "${CERT[@]}"
expect_contains "$STDERR" "bad2.conf:2: unknown key 'docroots' (did you mean 'docroot'?)"
pass "-c file with an unknown key: exit 2, FILE:LINE, the key (with a suggestion)"

printf '\n# timeouts\nconnection_timeout = soon\n' >bad3.conf
od 2 -c bad3.conf "${CERT[@]}"
expect_contains "$STDERR" "bad3.conf:3: key 'connection_timeout': 'soon' is not a duration"
printf 'max_connections = 0\n' >bad4.conf
od 2 -c bad4.conf "${CERT[@]}"
expect_contains "$STDERR" "bad4.conf:1: key 'max_connections': '0' is out of range"
printf 'trace = maybe\n' >bad5.conf
od 2 -c bad5.conf "${CERT[@]}"
expect_contains "$STDERR" "bad5.conf:1: key 'trace'"
printf 'log_level = loud\n' >bad6.conf
od 2 -c bad6.conf "${CERT[@]}"
expect_contains "$STDERR" "bad6.conf:1: key 'log_level': 'loud' is not one of error|warn|info|debug"
printf 'docroot = www\ndocroot = www\n' >bad7.conf
od 2 -c bad7.conf "${CERT[@]}"
expect_contains "$STDERR" "bad7.conf:2: key 'docroot' is set twice (first on line 1)"
od 2 -c "$T/nonexistent.conf" "${CERT[@]}"
expect_contains "$STDERR" "nonexistent.conf"
pass "-c file with bad values (duration, range, bool, enum, twice, missing file): exit 2, FILE:LINE"

# ---- flag errors: exit 2, the flag ----
od 2 "${CERT[@]}" --connection-timeout soon
expect_contains "$STDERR" "'--connection-timeout': 'soon' is not a duration"
od 2 "${CERT[@]}" --max-url-length lots
expect_contains "$STDERR" "--max-url-length"
od 2 "${CERT[@]}" --docroot-dir www
expect_contains "$STDERR" "unknown option '--docroot-dir'"
od 2 --key pki/origin.test.key
expect_contains "$STDERR" "missing required --cert"
od 2 --cert pki/origin.test.chain.pem
expect_contains "$STDERR" "missing required --key"
pass "bad flag values, unknown flag, missing --cert / --key: exit 2, the flag named"

od 2 "${CERT[@]}" --tls-priority 'NORMAL:+BOGUS-THING'
expect_contains "$STDERR" "key 'tls_priority'"
expect_contains "$STDERR" "+BOGUS-THING"
od 2 "${CERT[@]}" --docroot "$T/no/such/dir"
expect_contains "$STDERR" "key 'docroot': $T/no/such/dir: No such file or directory"
# a file is not a directory: the message must say so, not a stale errno
# (known bug: "key 'docroot': www/index.html: Invalid argument")
od 2 "${CERT[@]}" --docroot www/index.html
expect_contains "$STDERR" "key 'docroot': www/index.html"
soft expect_contains "$STDERR" "not a directory"
pass "bad --tls-priority, --docroot missing or a file: exit 2, the key named"

od 2 "${CERT[@]}" --fastcgi 'php=unix:/run/x.sock'
expect_contains "$STDERR" "key 'fastcgi': 'php=unix:/run/x.sock' is not PREFIX=VALUE"
od 2 "${CERT[@]}" --fastcgi '/php/=unix:relative.sock'
expect_contains "$STDERR" "key 'fastcgi': '/php/=unix:relative.sock'"
od 2 "${CERT[@]}" --fastcgi '/php/'
expect_contains "$STDERR" "key 'fastcgi'"
od 2 "${CERT[@]}" --fastcgi '/app=127.0.0.1:99999'
expect_contains "$STDERR" "key 'fastcgi'"
od 2 "${CERT[@]}" --cache-control 'static=public'
expect_contains "$STDERR" "key 'cache_control': 'static=public'"
pass "bad --fastcgi rules (no leading /, relative socket, no =, bad port), bad --cache-control: exit 2"

# ---- TLS material: exit 1, the file(s) named ----
od 1 --cert "$T/missing.pem" --key pki/origin.test.key
expect_contains "$STDERR" "$T/missing.pem"
expect_contains "$STDERR" "No such file or directory"
od 1 --cert pki/origin.test.chain.pem --key "$T/missing.key"
expect_contains "$STDERR" "$T/missing.key"
od 1 --cert pki/origin.test.chain.pem --key other/other.test.key
expect_contains "$STDERR" "other/other.test.key"
expect_contains "$STDERR" "pki/origin.test.chain.pem"
expect_contains "$STDERR" "does not belong"
od 1 --cert pki/origin.test.key --key pki/origin.test.key
expect_contains "$STDERR" "pki/origin.test.key"
od 1 "${CERT[@]}" --client-ca "$T/missing-ca.pem"
expect_contains "$STDERR" "$T/missing-ca.pem"
pass "cert/key/client CA missing, key of another cert, a key as cert: exit 1, file(s) named"

# ---- --help: every key, with its default ----
expect_rc 0 "$ORIGIND" --help
expect_eq "$STDERR" "" "stderr of --help"
HELP=$STDOUT
expect_contains "$HELP" "Usage: origind"
declare -A DEF=(
	[listen_https]=":9443" [index]="index.html" [cgi_timeout]="30s"
	[trace]="false" [introspection]="false" [max_header_size]="16k"
	[max_url_length]="8192" [max_body_size]="10MiB" [max_connections]="256"
	[max_connections_per_ip]="64" [connection_timeout]="30s" [log_level]="info"
	[tls_priority]="NONE:+VERS-TLS1.3:+VERS-TLS1.2:" [static_deny]=".php,.php3,"
)
flat=$(tr -s ' \n' ' ' <<<"${HELP#*Options}")
for k in "${!DEF[@]}"; do
	f=--${k//_/-}
	# the flag, then its help text, then "[default: X" before the next flag
	entry=${flat#*" $f "}
	[[ $entry != "$flat" ]] || fail "--help does not list $f"
	entry=${entry%% --[a-z[]*}
	expect_contains "$entry" "[default: ${DEF[$k]}" "default of $k in --help"
done
for k in cert key; do
	entry=${flat#*" --$k FILE "}
	entry=${entry%% --[a-z[]*}
	expect_contains "$entry" "(required)"
done
# every key of origind's table, whatever it is, has a flag in --help
keys=$(sed -n 's/^[[:space:]]*X(\([a-z_]*\),.*/\1/p' "$TEST_DIR/../../origind/org_keys.h")
[[ $(wc -l <<<"$keys") -ge 20 ]] || fail "could not read the keys of origind/org_keys.h: $keys"
for k in $keys; do
	f=${k//_/-}
	[[ $HELP == *" --$f "* || $HELP == *" --[no-]$f "* ]] || fail "--help does not list key $k"
done
expect_contains "$HELP" "-c, --config FILE"
pass "--help: all $(wc -l <<<"$keys") keys, defaults of the $(echo "${!DEF[@]}" | wc -w) keys that have one, cert/key required"

# ---- a good config file is used (and flags win over it) ----
cat >good.conf <<EOF
# comment
listen_https = 127.0.0.1:$P
cert = pki/origin.test.chain.pem
key = pki/origin.test.key
docroot = www
index = nothing.html
connection_timeout = 5s
EOF
start_bg origind "$ORIGIND" -c good.conf --index index.html
ORIGIN_PORT=$P
wait_port "$P"
expect_eq "$(ocurl /)" "from the config file" "GET / with the settings of good.conf"
pass "origind -c good.conf serves its docroot; --index overrides the file's index"
