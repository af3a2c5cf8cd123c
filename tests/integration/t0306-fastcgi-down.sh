#!/usr/bin/env bash
# t0306: the application is not there.  A missing socket, a stale socket
# file nobody listens on and a refused TCP port each give 502 at once,
# with the reason in origind's log ("connect unix:PATH: No such file or
# directory") and not in the answer; no descriptor leaks; static files are
# still served; once php-fpm starts, the same origind serves PHP.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"
need_tool perl

PHP_PORT=$(free_port)
stale=$T/stale.sock
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 1) or die "$!\n"' \
	"$stale"
[[ -S $stale ]] || fail "could not make a stale socket file"
start_origind origind --docroot "$DOCROOT" --fastcgi "/php/=unix:$PHP_SOCK" \
	--fastcgi "/tcp/=127.0.0.1:$PHP_PORT" --fastcgi "/stale/=unix:$stale"

t0=$(date +%s%3N)
fget /php/env.php
ms=$(($(date +%s%3N) - t0))
expect_eq "$CODE" 502 "socket missing"
expect_not_contains "$BODY" "$PHP_SOCK"
wait_log origind "event=fcgi.fail"
wait_log origind "backend=unix:$PHP_SOCK status=502 why=\"connect unix:$PHP_SOCK: No such file or directory\""
[[ $ms -lt 2000 ]] || fail "502 took ${ms} ms"
pass "socket missing: 502 in ${ms} ms; log: connect unix:$PHP_SOCK: No such file or directory"

fget /stale/env.php
expect_eq "$CODE" 502 "stale socket file"
wait_log origind "why=\"connect unix:$stale: Connection refused\""
pass "a socket file nobody listens on: 502, connection refused"

fget /tcp/env.php
expect_eq "$CODE" 502 "TCP port refused"
wait_log origind "backend=127.0.0.1:$PHP_PORT status=502 why=\"connect 127.0.0.1:$PHP_PORT: Connection refused\""
pass "TCP port with no listener: 502, connection refused"

fds=$(origind_fds)
for i in $(seq 1 20); do
	fget /php/env.php
	expect_eq "$CODE" 502 "socket missing, try $i"
	fget /tcp/env.php
	expect_eq "$CODE" 502 "port refused, try $i"
done
expect_eq "$(origind_fds)" "$fds" "origind's descriptors after 40 failed requests"
pass "40 failed connects: no descriptor leaked ($fds open)"

fget /index.html
expect_eq "$CODE" 200 "a static file while the application is down"
pass "static files still served"

start_phpfpm
for p in /php /tcp; do
	fget "$p/env.php"
	expect_eq "$CODE" 200 "$p/env.php once php-fpm runs"
	expect_eq "$(fvar HTTPS)" on "HTTPS from PHP ($p)"
done
pass "php-fpm started later: served by the same origind, unix and TCP"
