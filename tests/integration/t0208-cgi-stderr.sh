#!/usr/bin/env bash
# t0208: what a script writes on stderr goes to origind's log, one
# cgi.stderr line per line (quoted, CR stripped, the last line even
# without a newline), with the request id; 1 MB of stderr before the
# head does not block the script, and the log gets at most 1000 lines of
# it per request.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind --cgi-timeout 20s

cget /cgi-bin/stderr.cgi
expect_eq "$CODE" 200 "stderr.cgi status"
expect_eq "$BODY" ok "stderr.cgi body"
wait_log origind 'script=/cgi-bin/stderr.cgi line="first line to stderr"'
wait_log origind 'line="second \"quoted\" = line"'
wait_log origind 'line="no newline at the end"'
log=$(grep 'event=cgi.stderr' "$T/origind.log")
expect_eq "$(printf '%s\n' "$log" | wc -l)" 3 "cgi.stderr lines"
expect_match "$log" 'level=warn prog=origind event=cgi.stderr id=[^ ]+ script='
expect_not_contains "$log" '\r'
pass "three stderr lines logged as cgi.stderr, quoted, CR stripped, the unterminated one too"

start=$SECONDS
cget /cgi-bin/noisy.cgi
expect_eq "$CODE" 200 "noisy.cgi status"
expect_eq "$BODY" "quiet now" "noisy.cgi body"
[[ $((SECONDS - start)) -lt 10 ]] || fail "noisy.cgi took $((SECONDS - start))s"
wait_log origind 'script=/cgi-bin/noisy.cgi dropped=more_than_1000_lines'
n=$(grep -c 'event=cgi.stderr.*script=/cgi-bin/noisy.cgi line=' "$T/origind.log")
expect_eq "$n" 1000 "noisy.cgi lines logged"
wait_log origind 'line="noise line 999 ....'
pass "1 MB of stderr before the head: no deadlock; 1000 lines logged, then one 'dropped' line"
