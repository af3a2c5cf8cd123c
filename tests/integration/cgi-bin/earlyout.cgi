#!/bin/sh
# earlyout.cgi: writes its head and 256 KiB (more than a pipe holds)
# before it reads its input, then the input's sha256.  A server that
# writes the whole body before it reads stdout deadlocks here.
printf 'Content-Type: text/plain\n\n'
head -c 262144 /dev/zero | tr '\0' 'x'
printf '\n'
sha256sum | cut -d' ' -f1
