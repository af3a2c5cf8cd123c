#!/bin/sh
# A shell CGI script run by fcgiwrap.
echo "Content-Type: text/plain"
echo "Status: 201 Created"
echo "X-Script: hello.sh"
echo
echo "hello from hello.sh"
echo "method=$REQUEST_METHOD query=$QUERY_STRING https=$HTTPS script_name=$SCRIPT_NAME"
echo "sni=$SSL_TLS_SNI protocol=$SSL_PROTOCOL"
echo "hello.sh says hi on stderr" >&2
