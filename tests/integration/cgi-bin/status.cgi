#!/bin/sh
# status.cgi: Status 201, a custom field, two Set-Cookie, CRLF line ends,
# and framing fields the server must drop (it frames the response itself).
printf 'Status: 201 Created\r\n'
printf 'Content-Type: text/x-test; charset=utf-8\r\n'
printf 'X-Custom: yes, it is\r\n'
printf 'Set-Cookie: a=1\r\n'
printf 'Set-Cookie: b=2\r\n'
printf 'Content-Length: 9999\r\n'
printf 'Connection: close\r\n'
printf 'Transfer-Encoding: gzip\r\n'
printf '\r\n'
printf 'created\n'
