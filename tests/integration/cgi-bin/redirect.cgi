#!/bin/sh
# redirect.cgi: a Location and nothing else (RFC 3875 6.2.3 client
# redirect), or with ?local a local path (6.2.2 local redirect).
if [ "$QUERY_STRING" = local ]; then
	printf 'Location: /cgi-bin/env.cgi?from=redirect\n\n'
else
	printf 'Location: https://example.test/elsewhere?x=1\n\n'
fi
