#!/bin/sh
# noisy.cgi: 1 MB of stderr (more than a pipe holds) before its head: a
# server that does not drain stderr while waiting for stdout deadlocks.
i=0
while [ $i -lt 10000 ]; do
	echo "noise line $i ......................................................................................" >&2
	i=$((i + 1))
done
printf 'Content-Type: text/plain\n\nquiet now\n'
