#!/bin/sh
# big.cgi: "seq 1 N" as the body (N = the first search word, default
# 1000000: 6.9 MB), so that the client can check every byte.
printf 'Content-Type: text/plain\n\n'
exec seq 1 "${1:-1000000}"
