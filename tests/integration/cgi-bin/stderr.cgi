#!/bin/sh
# stderr.cgi: lines on stderr (one with quotes, '=' and CRLF, a last one
# without a newline) around a normal answer.
echo 'first line to stderr' >&2
printf 'second "quoted" = line\r\n' >&2
printf 'Content-Type: text/plain\n\nok\n'
printf 'no newline at the end' >&2
