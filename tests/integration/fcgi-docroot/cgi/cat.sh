#!/bin/sh
# The body back (fcgiwrap feeds FastCGI STDIN to the script's stdin).
echo "Content-Type: application/octet-stream"
echo
exec cat
