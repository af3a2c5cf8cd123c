#!/usr/bin/env bash
# t0202: RFC 3875 4.4 search words: a query without an unencoded '=' is
# split at '+' and %-decoded into the script's argv[1..]; a query with
# '=', an empty word or a bad escape gives no command-line words at all.
# QUERY_STRING is always the raw query.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"

start_cgi origind

cget '/cgi-bin/env.cgi?hello+big%20world+%2Bplus%3D'
expect_eq "$(var ARGC)" 3 ARGC
expect_eq "$(var ARGV1)" hello ARGV1
expect_eq "$(var ARGV2)" "big world" ARGV2
expect_eq "$(var ARGV3)" "+plus=" "ARGV3 (encoded '+' and '=' are data)"
expect_eq "$(var QUERY_STRING)" 'hello+big%20world+%2Bplus%3D' QUERY_STRING
pass "search words: hello, 'big world', '+plus=' (QUERY_STRING raw)"

cget '/cgi-bin/env.cgi?single'
expect_eq "$(var ARGC)" 1 ARGC
expect_eq "$(var ARGV1)" single ARGV1
pass "one search word"

for q in 'a=1' 'a+b=c' 'a++b' '+a' 'a+' 'x%00y' '+'; do
	cget "/cgi-bin/env.cgi?$q"
	expect_eq "$CODE" 200 "status for ?$q"
	expect_eq "$(var ARGC)" 0 "ARGC for ?$q"
	expect_eq "$(var QUERY_STRING)" "$q" "QUERY_STRING for ?$q"
done
cget /cgi-bin/env.cgi
expect_eq "$(var ARGC)" 0 "ARGC without a query"
pass "no command line for '=', empty words, a %00 escape, or no query (a bad escape is main.c's 400)"
