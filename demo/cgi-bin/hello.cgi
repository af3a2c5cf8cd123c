#!/bin/sh
# hello.cgi: a dynamic answer that is never cached
printf 'Content-Type: text/plain\r\nCache-Control: no-store\r\n\r\n'
printf 'hello from origind CGI at %s (pid %s), over %s\n' "$(date -u +%H:%M:%S)" "$$" \
	"${HTTPS:+HTTPS}"
