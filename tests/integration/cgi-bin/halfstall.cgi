#!/bin/sh
# halfstall.cgi: "seq 1 N" (N = the first search word, default 400000:
# about 2.6 MB), then a pause of S seconds (second word, default 2), then
# "seq N+1 2N": a long body a store holds half of for a while.
n=${1:-400000}
printf 'Content-Type: text/plain\nCache-Control: max-age=600\n\n'
seq 1 "$n"
sleep "${2:-2}"
seq "$((n + 1))" "$((2 * n))"
