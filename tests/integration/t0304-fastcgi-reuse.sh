#!/usr/bin/env bash
# t0304: kept connections (FCGI_KEEP_CONN).  Sequential requests to
# php-fpm travel over one pooled connection, on the unix socket and over
# TCP: ss shows the same single connection (same inode, same local port)
# after every request, and the same PHP worker answers them all.  With
# php-fpm's two workers, four concurrent slow requests all finish on time:
# an idle kept connection (which holds a worker) is closed, not kept,
# while a new connection waits for a worker.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_fcgi.sh
. "$(dirname "$0")/lib_fcgi.sh"

start_phpfpm
start_origind origind --docroot "$DOCROOT" --cgi-timeout 10s \
	--fastcgi "/php/=unix:$PHP_SOCK" --fastcgi "/tcp/=127.0.0.1:$PHP_PORT"

expect_eq "$(unix_conns "$PHP_SOCK")" "" "connections to php-fpm's socket before any request"
fget /php/pid.php
expect_eq "$CODE" 200 "first request"
worker=$BODY
first=$(unix_conns "$PHP_SOCK")
[[ $first =~ ^[0-9]+$ ]] || fail "want one connection to $PHP_SOCK after a request, have: '$first'"
for i in 2 3 4 5 6; do
	fget /php/pid.php
	expect_eq "$CODE" 200 "request $i"
	expect_eq "$BODY" "$worker" "the PHP worker of request $i"
	expect_eq "$(unix_conns "$PHP_SOCK")" "$first" "connections to the socket after request $i"
done
expect_eq "$(grep -c '^GET /php/pid.php' "$T/php-access.log")" 6 "requests in php-fpm's access log"
pass "unix: 6 requests, one connection (inode $first) and one worker (pid $worker) throughout"

expect_eq "$(tcp_conns "$PHP_PORT")" "" "connections to php-fpm's port before any request"
fget /tcp/pid.php
expect_eq "$CODE" 200 "first TCP request"
worker=$BODY
first=$(tcp_conns "$PHP_PORT")
[[ $first =~ ^[0-9]+$ ]] || fail "want one connection to port $PHP_PORT, have: '$first'"
for i in 2 3 4 5 6; do
	fget /tcp/pid.php
	expect_eq "$CODE" 200 "TCP request $i"
	expect_eq "$BODY" "$worker" "the PHP worker of TCP request $i"
	expect_eq "$(tcp_conns "$PHP_PORT")" "$first" "connections to the port after request $i"
done
pass "TCP: 6 requests, one connection (local port $first) and one worker (pid $worker) throughout"

# keep-alive on the client side too: many requests in one curl
urls=()
for i in $(seq 1 10); do urls+=("https://origin.test:$ORIGIN_PORT/php/pid.php"); done
out=$(ocurl "${urls[@]}" /php/pid.php)
expect_eq "$(printf '%s\n' "$out" | sort -u | wc -l)" 1 "workers answering 11 requests"
expect_eq "$(unix_conns "$PHP_SOCK" | wc -l)" 1 "connections to the socket after 11 more"
pass "11 requests on one HTTPS connection: one FastCGI connection, one worker"

t0=$(date +%s%3N)
pids=()
for i in 1 2 3 4; do
	ocurl -o "$T/par$i.body" -w '%{http_code}' '/php/sleep.php?s=0.5' >"$T/par$i.code" &
	pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent request failed (curl)"; done
ms=$(($(date +%s%3N) - t0))
for i in 1 2 3 4; do
	expect_eq "$(<"$T/par$i.code")" 200 "concurrent request $i"
	expect_eq "$(<"$T/par$i.body")" slept "concurrent request $i body"
done
[[ $ms -lt 4000 ]] || fail "4 concurrent 0.5 s requests on 2 workers took ${ms} ms"
n=$(unix_conns "$PHP_SOCK" | wc -l)
[[ $n -ge 1 && $n -le 2 ]] || fail "want 1 or 2 kept connections (2 workers), have $n"
pass "4 concurrent slow requests on 2 workers: all answered in ${ms} ms; $n connection(s) kept"

fget /php/pid.php
expect_eq "$CODE" 200 "a request after the concurrent ones"
expect_eq "$(unix_conns "$PHP_SOCK" | wc -l)" "$n" "connections after one more request"
pass "the next request reuses a kept connection"
