#!/bin/sh
# neverread.cgi: answers without reading its input, and exits.
printf 'Content-Type: text/plain\n\nignored your body\n'
