#!/bin/sh
# wait.cgi?N: answers "waited N" after N seconds (N: 0-30, default 1).
n=${QUERY_STRING:-1}
case $n in
''|*[!0-9.]*) n=1 ;;
esac
sleep "$n"
printf 'Content-Type: text/plain\n\nwaited %s\n' "$n"
