#!/bin/sh
# The body back.  fcgiwrap writes the whole body to the script's stdin
# before it reads the script's stdout, so an echo script must read all
# of its input before it answers (plain `cat` deadlocks fcgiwrap itself
# once the body passes a pipe's capacity).
tmp=$(mktemp) || exit 1
cat >"$tmp"
echo "Content-Type: application/octet-stream"
echo
cat "$tmp"
rm -f "$tmp"
