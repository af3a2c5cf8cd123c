#!/bin/sh
# proc.cgi: the process facts origind promises a script: a process group
# of its own, no blocked or ignored signal, only fds 0-2 open, the
# script's directory as working directory.  The signal state is read
# here, by the script's own process, before perl (which ignores SIGFPE)
# replaces it to list the descriptors (dash keeps the script open).
printf 'Content-Type: text/plain\n\n'
grep -E '^Sig(Blk|Ign):' "/proc/$$/status" | tr -d ' \t' | tr ':' '='
exec perl -e '
use strict;
use warnings;
use Cwd qw(getcwd);
print "PID=$$\n";
print "PGRP=", getpgrp(), "\n";
opendir(my $d, "/proc/self/fd") or die "fd: $!";
my $dfd = fileno($d);
my @fds;
for my $fd (sort { $a <=> $b } grep { /^\d+$/ } readdir $d) {
	next if defined $dfd && $fd == $dfd;
	push @fds, "$fd:" . (readlink("/proc/self/fd/$fd") // "?");
}
closedir $d;
print "FDS=@fds\n";
print "CWD=", getcwd(), "\n";
'
