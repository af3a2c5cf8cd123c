# shellcheck shell=bash
# lib_fcgi.sh: helpers for the FastCGI tests (t03NN-fastcgi-*) against real
# Debian FastCGI servers; source after lib.sh and lib_origind.sh.
#
#   DOCROOT               $T/docroot, a copy of tests/integration/fcgi-docroot
#                         (php/ also copied as tcp/ for the TCP backend)
#   start_phpfpm [NAME]   php-fpm with a private config in $T: pool "www" on
#                         unix:$PHP_SOCK, pool "tcp" on 127.0.0.1:$PHP_PORT,
#                         each pm static with 2 workers, output_buffering off
#                         (PHP_PORT: a port chosen before, else a free one),
#                         access log $T/php-access.log; waits until both
#                         listen; sets PHP_PID (the master)
#   stop_phpfpm_hard [NAME]  SIGKILL php-fpm's master and workers (a crash)
#                         and reap the master
#   start_fcgiwrap [NAME] fcgiwrap -f (CGI stderr over FastCGI) on
#                         unix:$WRAP_SOCK
#   start_fake [NAME]     tests/integration/fcgi-fake.pl on unix:$FAKE_SOCK
#   fget [curl args...] PATH
#                         ocurl saving the head in $T/head and the body in
#                         $T/body; sets CODE (000 if none), CRC (curl's exit
#                         code), BODY (the body as text)
#   fheader NAME          a response field's value(s), one a line
#   fvar NAME             NAME's value in an env.php/env.sh answer ($BODY)
#   unix_conns SOCK       accepted connections open on unix socket SOCK,
#                         as "inode" lines (ss -x, the server's ends)
#   tcp_conns PORT        established connections to 127.0.0.1:PORT, as
#                         "local-port" lines (ss -t, the clients' ends)
#   origind_fds           descriptors origind has open
#   wait_eq CMD WANT [SECONDS]  until CMD's output is WANT

DOCROOT=$T/docroot
PHP_SOCK=$T/php.sock
WRAP_SOCK=$T/fcgiwrap.sock
FAKE_SOCK=$T/fake.sock
need_tool curl ss php-fpm8.2 fcgiwrap

rm -rf "$DOCROOT"
cp -r "$TEST_DIR/fcgi-docroot" "$DOCROOT"
cp -r "$DOCROOT/php" "$DOCROOT/tcp"

# shellcheck disable=SC2120 # NAME is optional
start_phpfpm() {
	local name=${1:-phpfpm} root=()
	[[ -n ${PHP_PORT:-} ]] || PHP_PORT=$(free_port)
	cat >"$T/php-fpm.conf" <<EOF
[global]
pid = $T/php-fpm.pid
error_log = $T/php-fpm.err
daemonize = no

[www]
listen = $PHP_SOCK
listen.mode = 0600
pm = static
pm.max_children = 2
access.log = $T/php-access.log
access.format = "%m %r%Q%q %s pid=%p"
catch_workers_output = yes
php_admin_value[output_buffering] = 0
php_admin_value[memory_limit] = 256M

[tcp]
listen = 127.0.0.1:$PHP_PORT
pm = static
pm.max_children = 2
php_admin_value[output_buffering] = 0
php_admin_value[memory_limit] = 256M
EOF
	# as root php-fpm wants a user to switch to, or -R to stay root
	[[ $(id -u) -ne 0 ]] || root=(-R)
	rm -f "$PHP_SOCK"
	start_bg "$name" php-fpm8.2 -F -O "${root[@]}" -y "$T/php-fpm.conf" -p "$T"
	PHP_PID=${_BG_PIDS[-1]}
	wait_port "$PHP_PORT"
	local n
	for ((n = 0; n < 50; n++)); do
		[[ -S $PHP_SOCK ]] && return 0
		sleep 0.1
	done
	fail "php-fpm made no socket $PHP_SOCK: $(tail -n 5 "$T/$name.log" | tr '\n' ' ')"
}

# shellcheck disable=SC2120
stop_phpfpm_hard() {
	local name=${1:-phpfpm} kids
	kids=$(pgrep -P "$PHP_PID" || true)
	# shellcheck disable=SC2086 # one pid per word
	kill -9 "$PHP_PID" $kids 2>/dev/null || true
	# reaped, and off the list of processes that wait_port watches (the
	# shell's "Killed" notice muted)
	{ wait_bg "$name" 5; } 2>/dev/null
}

# shellcheck disable=SC2120
start_fcgiwrap() {
	local name=${1:-fcgiwrap}
	rm -f "$WRAP_SOCK"
	start_bg "$name" fcgiwrap -f -s "unix:$WRAP_SOCK"
	local n
	for ((n = 0; n < 50; n++)); do
		[[ -S $WRAP_SOCK ]] && return 0
		sleep 0.1
	done
	fail "fcgiwrap made no socket $WRAP_SOCK"
}

# shellcheck disable=SC2120
start_fake() {
	local name=${1:-fake}
	need_tool perl
	rm -f "$FAKE_SOCK"
	start_bg "$name" perl "$TEST_DIR/fcgi-fake.pl" "$FAKE_SOCK"
	wait_log "$name" "listening"
}

fget() { cget "$@"; }

fheader() { header "$@"; }

fvar() { var "$@"; }

unix_conns() {
	ss -xHn state connected 2>/dev/null |
		awk -v p="$1" '{ for (i = 1; i < NF; i++) if ($i == p) print $(i + 1) }' | sort
}

tcp_conns() {
	ss -tHn state established "( dport = :$1 )" 2>/dev/null |
		awk -v d="127.0.0.1:$1" '{ for (i = 2; i <= NF; i++) if ($i == d) {
			n = split($(i - 1), a, ":"); print a[n] } }' | sort
}

origind_fds() {
	find "/proc/$ORIGIN_PID/fd" -mindepth 1 -maxdepth 1 | wc -l
}

wait_eq() {
	local cmd=$1 want=$2 secs=${3:-5} n got=
	for ((n = 0; n < secs * 10; n++)); do
		got=$(eval "$cmd")
		[[ $got == "$want" ]] && return 0
		sleep 0.1
	done
	fail "$cmd: got '$(_show "$got")', want '$want' (after ${secs}s)"
}
