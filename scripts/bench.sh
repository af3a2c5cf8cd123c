#!/usr/bin/env bash
# scripts/bench.sh BENCH_DIR BIN_DIR [VAR=value...]: run the benchmark
# harness in BENCH_DIR with edged from BIN_DIR as a peer (its EDGED_CMD
# contract: listen on $EDGE_PORT with $EDGE_CERT/$EDGE_KEY, origin
# $ORIGIN_URL verified with $CA_FILE as $ORIGIN_HOST, Redis at
# $REDIS_HOST:$REDIS_PORT).  Prints the harness's summary (medians and
# ratios to nginx measured in the same run).
set -euo pipefail
dir=$1 bin=$2
shift 2
if [[ ! -x $dir/bench.sh ]]; then
	echo "make bench: no benchmark harness at $dir (set BENCH_DIR=/path/to/bench)" >&2
	exit 2
fi
# shellcheck disable=SC2016 # expanded by the harness, not here
cmd="$bin/edged"' --listen-https 127.0.0.1:$EDGE_PORT --cert $EDGE_CERT --key $EDGE_KEY --origin $ORIGIN_URL --origin-ca $CA_FILE --origin-sni $ORIGIN_HOST --redis redis://$REDIS_HOST:$REDIS_PORT --admin-listen off --log-level warn'
cd "$dir"
exec env "$@" EDGED_CMD="$cmd" ./bench.sh
