#!/bin/sh
# bighead.cgi: a 70 000-byte header field (the limit is 64 KiB), still
# producing output (the server must not wait for the end of it).
printf 'Content-Type: text/plain\nX-Big: '
head -c 70000 /dev/zero | tr '\0' 'a'
printf '\n\nbody\n'
sleep 30
