#!/usr/bin/env bash
# t0209: the process a script runs in: its own process group, default
# signal dispositions (origind itself ignores SIGPIPE) and an empty
# signal mask, only descriptors 0-2 open (three pipes; none of origind's
# sockets, keys or log), the script's directory as working directory.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_cgi.sh
. "$(dirname "$0")/lib_cgi.sh"
need_tool perl

start_cgi origind
ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$ORIGIN_PID/status")
(((16#$ign & 0x1000) != 0)) || fail "origind does not ignore SIGPIPE (SigIgn $ign): the check below proves less"

cget /cgi-bin/proc.cgi
expect_eq "$CODE" 200 "proc.cgi status"
expect_eq "$(var PGRP)" "$(var PID)" "process group of the script"
expect_ne "$(var PGRP)" "$(ps -o pgid= -p "$ORIGIN_PID" | tr -d ' ')" "origind's group"
pass "the script leads a process group of its own"

expect_eq "$(var SigBlk)" 0000000000000000 "blocked signals"
expect_eq "$(var SigIgn)" 0000000000000000 "ignored signals"
pass "no blocked and no ignored signal (origind ignores $ign: reset to the defaults)"

expect_match "$(var FDS)" '^0:pipe:\[[0-9]+\] 1:pipe:\[[0-9]+\] 2:pipe:\[[0-9]+\]$'
pass "open descriptors: 0, 1, 2 (pipes), nothing else"

expect_eq "$(var CWD)" "$CGI_REAL" "working directory"
cget /cgi-bin/env.cgi
expect_eq "$(var CWD)" "$CGI_REAL" "env.cgi working directory"
pass "working directory: the script's directory"
