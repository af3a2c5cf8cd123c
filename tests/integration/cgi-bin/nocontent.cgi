#!/bin/sh
# nocontent.cgi: Status only, no Content-Type.
printf 'Status: 204 No Content\n\n'
