#!/bin/sh
# badhead.cgi: output that is not a CGI response head.
printf 'this is not a header\n\nbody\n'
