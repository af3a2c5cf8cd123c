#!/bin/sh
# moved.cgi: Location with an explicit Status (and a body).
printf 'Status: 301 Moved Permanently\nLocation: https://example.test/new\n'
printf 'Content-Type: text/html\n\n<a href="https://example.test/new">moved</a>\n'
