#!/bin/sh
# closeout.cgi: closes stdout without output but keeps running.
exec >&-
sleep 30
