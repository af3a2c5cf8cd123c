# shellcheck shell=bash
# lib_redis.sh: a throw-away redis-server for the shared-cache tests;
# source after lib.sh.
#
#   start_redis NAME [PORT]
#                          redis-server on 127.0.0.1:PORT (default: a free
#                          port), nothing persisted (--save '' --appendonly
#                          no), its files in $T/NAME.d; waits until it
#                          answers PING; sets REDIS_PORT, REDIS_URL
#                          (redis://127.0.0.1:PORT) and REDIS_PID.  PORT
#                          given: a restart on the same port
#   start_redis_unix NAME  the same on a unix socket only (--port 0):
#                          REDIS_SOCK, REDIS_URL (unix://$T/NAME.d/redis.sock),
#                          REDIS_PID
#   rcli [args...]         redis-cli against the last started server
#                          (RCLI_PORT / RCLI_SOCK pick another), raw output
#   redis_keys PATTERN     the keys matching PATTERN, sorted, one a line
#
# Processes go through start_bg, so they are stopped when the test ends
# (and their logs shown if it fails).

need_tool redis-server redis-cli

# shellcheck disable=SC2034 # REDIS_URL and REDIS_PID are for the tests
start_redis() {
	local name=$1 port=${2:-} n
	[[ -n $port ]] || port=$(free_port)
	mkdir -p "$T/$name.d"
	start_bg "$name" redis-server --save '' --appendonly no --bind 127.0.0.1 \
		--port "$port" --dir "$T/$name.d" --daemonize no
	REDIS_PID=${_BG_PIDS[-1]}
	REDIS_PORT=$port
	REDIS_URL="redis://127.0.0.1:$port"
	RCLI_PORT=$port
	RCLI_SOCK=
	wait_port "$port"
	for ((n = 0; n < 50; n++)); do
		[[ $(redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null) == PONG ]] && return 0
		sleep 0.1
	done
	fail "redis-server $name (port $port) did not answer PING within 5 s"
}

# shellcheck disable=SC2034
start_redis_unix() {
	local name=$1 n
	mkdir -p "$T/$name.d"
	REDIS_SOCK="$T/$name.d/redis.sock"
	start_bg "$name" redis-server --save '' --appendonly no --port 0 \
		--unixsocket "$REDIS_SOCK" --unixsocketperm 700 --dir "$T/$name.d" --daemonize no
	REDIS_PID=${_BG_PIDS[-1]}
	REDIS_URL="unix://$REDIS_SOCK"
	RCLI_SOCK=$REDIS_SOCK
	for ((n = 0; n < 50; n++)); do
		[[ -S $REDIS_SOCK && $(redis-cli -s "$REDIS_SOCK" PING 2>/dev/null) == PONG ]] &&
			return 0
		kill -0 "$REDIS_PID" 2>/dev/null ||
			fail "redis-server $name exited: $(tail -n 5 "$T/$name.log" | tr '\n' ' ')"
		sleep 0.1
	done
	fail "redis-server $name (unix socket $REDIS_SOCK) did not answer PING within 5 s"
}

rcli() {
	if [[ -n ${RCLI_SOCK:-} ]]; then
		timeout 10 redis-cli -s "$RCLI_SOCK" --raw "$@"
	else
		timeout 10 redis-cli -h 127.0.0.1 -p "$RCLI_PORT" --raw "$@"
	fi
}

redis_keys() {
	rcli --scan --pattern "$1" | sort
}
