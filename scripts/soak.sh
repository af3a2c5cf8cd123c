#!/usr/bin/env bash
# scripts/soak.sh (make soak): a bounded mixed load with faults against one
# edged, reporting failed requests, RSS and open descriptors over time.
# Not part of `make test` or CI: it runs for minutes.
#
#   scripts/soak.sh [BIN_DIR [TESTBIN_DIR]]
#
#   SOAK_MINUTES=N     how long (default 10)
#   SOAK_INTERVAL=S    a table row every S seconds (default 30)
#   SOAK_WORKERS=N     concurrent keep-alive viewers (default 8)
#   SOAK_FAULT_EVERY=S a fault every S seconds (default 40), in turn:
#                      origind restarted (down 2 s), Redis stopped
#                      (SIGSTOP 3 s), origind hung (SIGSTOP 3 s), Redis
#                      restarted (down 2 s, the shared cache emptied)
#   SOAK_DIR=DIR       keep everything (logs, pki) there instead of a
#                      temporary directory removed at the end
#
# The stack: edgecert's certificates, redis-server, origind (small files,
# a 4 MiB one, no-store copies, tests/integration/cgi-bin for uploads) and
# edged with the Redis tier.  The load and the table: scripts/soak_load.py
# (python3).  Exit status: 1 when a request got a wrong answer ("bad"),
# edged died, or it did not stop cleanly; clean 502/504s and cut transfers
# while the origin is down are counted and shown, not failures.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${1:-$root/bin}
testbin=${2:-$root/build/release/tests}
minutes=${SOAK_MINUTES:-10}
interval=${SOAK_INTERVAL:-30}
workers=${SOAK_WORKERS:-8}
every=${SOAK_FAULT_EVERY:-40}

die() { echo "soak: $*" >&2; exit 2; }
[[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SOAK_MINUTES must be a number of minutes"
for t in python3 redis-server redis-cli; do
	command -v "$t" >/dev/null || die "$t is not installed (see deps.txt)"
done
for p in edged origind edgecert; do [[ -x $bin/$p ]] || die "no $bin/$p (make first)"; done
[[ -x $testbin/freeport ]] || die "no $testbin/freeport (make soak builds it)"

if [[ -n ${SOAK_DIR:-} ]]; then
	dir=$SOAK_DIR
	mkdir -p "$dir"
	keep=1
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/edged-soak.XXXXXX")
	keep=0
fi
declare -A pid=()
faulter=

# every process started is in pid[] and in $dir/NAME.pid (the fault loop
# restarts origind and Redis in a subshell: the files say which process is
# the current one)
# shellcheck disable=SC2317 # run by the EXIT trap
stop() {
	local f p
	if [[ -n $faulter ]]; then
		kill "$faulter" 2>/dev/null || true
		wait "$faulter" 2>/dev/null || true
	fi
	for f in "$dir"/*.pid; do
		[[ -f $f ]] || continue
		p=$(<"$f")
		kill -CONT "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
	done
	for f in "$dir"/*.pid; do
		[[ -f $f ]] || continue
		p=$(<"$f")
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		rm -f "$f"
	done
	pid=()
	[[ $keep == 1 ]] || rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: CMD in the background, output in $dir/NAME.log
start() {
	local name=$1
	shift
	"$@" >>"$dir/$name.log" 2>&1 </dev/null &
	pid[$name]=$!
	echo "$!" >"$dir/$name.pid"
}
wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "${pid[$2]}" 2>/dev/null || die "$2 exited: $(tail -n 5 "$dir/$2.log")"
		sleep 0.1
	done
	die "$2 does not listen on 127.0.0.1:$1"
}

# ---- certificates and content ----
umask 077
"$bin/edgecert" ca --dir "$dir/pki" >/dev/null
"$bin/edgecert" issue origin.test --dir "$dir/pki" --dns origin.test --ip 127.0.0.1 >/dev/null
"$bin/edgecert" issue edge.test --dir "$dir/pki" --dns edge.test --ip 127.0.0.1 >/dev/null
mkdir -p "$dir/www/s" "$dir/www/ns"
for i in $(seq 0 19); do
	head -c $((1024 + i * 997)) /dev/urandom >"$dir/www/s/f$i.txt"
	cp "$dir/www/s/f$i.txt" "$dir/www/ns/f$i.txt"
done
head -c $((4 * 1024 * 1024)) /dev/urandom >"$dir/www/s/big.bin"
chmod -R a+rX "$dir/www"

OP=$("$testbin/freeport")
RP=$("$testbin/freeport")
EP=$("$testbin/freeport")
AP=$("$testbin/freeport")

start_redis() {
	start redis redis-server --save '' --appendonly no --bind 127.0.0.1 --port "$RP" \
		--dir "$dir" --daemonize no
	wait_port "$RP" redis
}
start_origind() {
	start origind "$bin/origind" --listen-https "127.0.0.1:$OP" \
		--cert "$dir/pki/origin.test.chain.pem" --key "$dir/pki/origin.test.key" \
		--docroot "$dir/www" --cgi-bin "$root/tests/integration/cgi-bin" \
		--cache-control "/s/=max-age=20, stale-if-error=600" --cache-control /ns/=no-store
	wait_port "$OP" origind
}
start_redis
start_origind
start edged "$bin/edged" --listen-https "127.0.0.1:$EP" --admin-listen "127.0.0.1:$AP" \
	--cert "$dir/pki/edge.test.chain.pem" --key "$dir/pki/edge.test.key" \
	--origin "https://127.0.0.1:$OP" --origin-ca "$dir/pki/ca.pem" --node-name soak \
	--redis "redis://127.0.0.1:$RP" --origin-response-timeout 5s --origin-connect-timeout 2s
wait_port "$EP" edged
epid=${pid[edged]}
echo "soak: ${minutes} min, $workers viewers, a fault every ${every} s; edged pid $epid on 127.0.0.1:$EP, origind :$OP, redis :$RP; files in $dir"

# ---- the faults, in turn ----
faults() {
	local n=0 sl=
	: >"$dir/faults.log"
	trap '[[ -z $sl ]] || kill "$sl" 2>/dev/null; exit 0' TERM
	while :; do
		sleep "$every" &
		sl=$!
		wait "$sl"
		sl=
		case $((n % 4)) in
		0)
			echo "$(date +%s.%N) origind-restart" >>"$dir/faults.log"
			kill "${pid[origind]}"
			sleep 2
			start_origind
			;;
		1)
			echo "$(date +%s.%N) redis-SIGSTOP-3s" >>"$dir/faults.log"
			kill -STOP "${pid[redis]}"
			sleep 3
			kill -CONT "${pid[redis]}"
			;;
		2)
			echo "$(date +%s.%N) origind-SIGSTOP-3s" >>"$dir/faults.log"
			kill -STOP "${pid[origind]}"
			sleep 3
			kill -CONT "${pid[origind]}"
			;;
		3)
			echo "$(date +%s.%N) redis-restart" >>"$dir/faults.log"
			kill "${pid[redis]}"
			sleep 2
			start_redis
			;;
		esac
		n=$((n + 1))
	done
}
faults &
faulter=$!

rc=0
python3 "$root/scripts/soak_load.py" "$dir" "$EP" "$epid" \
	"$(awk -v m="$minutes" 'BEGIN { print m * 60 }')" "$interval" "$workers" "$OP,$RP" "$AP" || rc=$?
kill "$faulter" 2>/dev/null || true
wait "$faulter" 2>/dev/null || true
faulter=
kill -CONT "$(<"$dir/origind.pid")" "$(<"$dir/redis.pid")" 2>/dev/null || true
echo "soak: faults: $(cut -d' ' -f2 "$dir/faults.log" | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')"
echo "soak: edged's warnings and errors: $(grep -c -E 'level=(warn|error)' "$dir/edged.log" || true) (origin.failed $(grep -c 'event=origin.failed' "$dir/edged.log" || true), origin.body_failed $(grep -c 'event=origin.body_failed' "$dir/edged.log" || true))"
# edged must stop cleanly: SIGTERM, exit 0
if kill -0 "$epid" 2>/dev/null; then
	kill -TERM "$epid"
	erc=0
	wait "$epid" || erc=$?
	rm -f "$dir/edged.pid"
	if [[ $erc -ne 0 ]]; then
		echo "soak: edged exited with $erc after SIGTERM"
		rc=1
	fi
else
	echo "soak: edged is not running at the end"
	rc=1
fi
if grep -q -E 'Sanitizer|runtime error' "$dir/edged.log"; then
	echo "soak: sanitizer report in $dir/edged.log"
	rc=1
fi
echo "soak: $([[ $rc -eq 0 ]] && echo PASS || echo FAIL)"
exit "$rc"
