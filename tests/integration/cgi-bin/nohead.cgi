#!/bin/sh
# nohead.cgi: a head without its blank line, then exit 0.
printf 'Content-Type: text/plain\n'
