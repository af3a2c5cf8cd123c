#!/bin/sh
# fail.cgi: exits 3 before any output (saying why on stderr).
echo "fail.cgi: giving up" >&2
exit 3
