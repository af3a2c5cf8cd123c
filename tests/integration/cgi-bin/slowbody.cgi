#!/bin/sh
# slowbody.cgi: a head and part of a body, then stalls.
printf 'Content-Type: text/plain\n\npartial body\n'
sleep 600
