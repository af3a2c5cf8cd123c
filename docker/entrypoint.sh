#!/bin/sh
# edged-demo: the entrypoint of the edged images (docker-compose.yml).
#
#   edged-demo certs              CA, $EDGE_HOST, $ORIGIN_HOST and edge-client in
#                                 $PKI (edgecert; idempotent: a valid certificate
#                                 with the same names is kept)
#   edged-demo origind FLAGS...   php-fpm on a unix socket when installed, then
#                                 origind FLAGS --fastcgi /php/=unix:SOCKET
#   edged-demo check ARGS...      edgecheck ARGS, where --resolve HOST:PORT:NAME
#                                 may name a compose service (edgecheck wants an
#                                 IP address: NAME is looked up here)
#   edged-demo CMD...             runs CMD (edged, edgecert inspect, cat, ...)
set -eu
PKI=${PKI:-/pki}

die() { echo "edged-demo: $*" >&2; exit 1; }

# resolve NAME: its first address (IPv4 first), or NAME itself if an address
resolve() {
	case $1 in
	*[!0-9.]*) ;;
	*) echo "$1"; return 0 ;;
	esac
	case $1 in *:*) echo "$1"; return 0 ;; esac
	a=$(getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }')
	[ -n "$a" ] || a=$(getent hosts "$1" | awk 'NR == 1 { print $1 }')
	[ -n "$a" ] || die "cannot resolve '$1'"
	echo "$a"
}

role=${1:-help}
[ $# -eq 0 ] || shift
case $role in
certs)
	: "${EDGE_HOST:?}" "${ORIGIN_HOST:?}"
	umask 077
	[ -f "$PKI/ca.pem" ] || edgecert ca --dir "$PKI" --cn "edged demo CA" >/dev/null
	# the names viewers and edges use; the compose service names too, so
	# https://edge-a:PORT/ and https://origind:PORT/ verify inside the network
	edgecert issue "$EDGE_HOST" --dir "$PKI" --dns "$EDGE_HOST" \
		--dns edge-a --dns edge-b --dns localhost --ip 127.0.0.1 >/dev/null
	edgecert issue "$ORIGIN_HOST" --dir "$PKI" --dns "$ORIGIN_HOST" \
		--dns origind --dns localhost --ip 127.0.0.1 >/dev/null
	edgecert issue edge-client --dir "$PKI" --client >/dev/null
	chmod 0644 "$PKI/ca.pem" "$PKI"/*.chain.pem
	for n in "$EDGE_HOST" "$ORIGIN_HOST" edge-client; do
		echo "$PKI/$n.pem"
		edgecert inspect "$PKI/$n.pem" --dir "$PKI" 2>/dev/null |
			grep -E '^ +(subject|not after|dns|ip|ext key usage):' | sed 's/^ */    /' || true
	done
	echo "certificates in $PKI: ca.pem, $EDGE_HOST, $ORIGIN_HOST, edge-client (.pem .chain.pem .key)"
	;;
origind)
	fpm=$(command -v php-fpm8.2 || true)
	if [ -n "$fpm" ]; then
		run=/tmp/php-fpm
		mkdir -p "$run"
		cat >"$run/php-fpm.conf" <<CONF
[global]
pid = $run/php-fpm.pid
error_log = $run/php-fpm.log
daemonize = no
[www]
listen = $run/php.sock
listen.mode = 0600
pm = static
pm.max_children = 2
CONF
		"$fpm" -F -O -y "$run/php-fpm.conf" -p "$run" </dev/null &
		i=0
		while [ ! -S "$run/php.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		[ -S "$run/php.sock" ] || { cat "$run/php-fpm.log" >&2 2>/dev/null; die "php-fpm made no socket"; }
		echo "edged-demo: php-fpm (pid $!) on $run/php.sock for /php/"
		exec origind "$@" --fastcgi "/php/=unix:$run/php.sock"
	fi
	echo "edged-demo: php-fpm8.2 not installed: no PHP page"
	exec origind "$@"
	;;
check)
	n=$#
	i=0
	while [ $i -lt $n ]; do
		a=$1
		shift
		i=$((i + 1))
		if [ "$a" = --resolve ] && [ $i -lt $n ]; then
			r=$1
			shift
			i=$((i + 1))
			hp=${r%:*}
			a="--resolve=$hp:$(resolve "${r##*:}")"
		fi
		set -- "$@" "$a"
	done
	echo "edged-demo: edgecheck $*"
	exec edgecheck "$@"
	;;
help | -h | --help)
	sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	;;
*)
	exec "$role" "$@"
	;;
esac
