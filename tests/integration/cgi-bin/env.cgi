#!/bin/sh
# env.cgi: the environment as text, one NAME=value line each (sorted),
# then the command-line words (RFC 3875 4.4) as ARGC/ARGVn, then CWD.
printf 'Content-Type: text/plain\n\n'
env | LC_ALL=C sort
printf 'ARGC=%d\n' "$#"
i=1
for a in "$@"; do
	printf 'ARGV%d=%s\n' "$i" "$a"
	i=$((i + 1))
done
printf 'CWD=%s\n' "$(pwd -P)"
