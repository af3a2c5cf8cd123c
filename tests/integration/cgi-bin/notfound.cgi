#!/bin/sh
# notfound.cgi: Status 404 with a body.
printf 'Status: 404 Nothing Here\nContent-Type: text/plain\n\nno such thing\n'
