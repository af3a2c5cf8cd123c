#!/usr/bin/perl
# t0452-state.cgi: a response the test changes between requests to one URL.
# The query is a NAME (word characters); DOCUMENT_ROOT/state.NAME holds the
# answer: the status on the first line, then response fields one a line;
# a line "SLEEP n" is no field but a wait of n seconds before answering.
# No file: 200 without fields.  The body is a line unique to this run
# ("state <time> <pid> <method>"); every request appends "METHOD INM" to
# DOCUMENT_ROOT/count.NAME (INM: its If-None-Match, or -).  A request whose
# If-None-Match holds the ETag field's value gets 304 with the fields.
use strict;
use warnings;
use Time::HiRes qw(time sleep);

my $name = $ENV{QUERY_STRING} // '';
$name = 'default' unless $name =~ /^\w+$/;
my $dir = $ENV{DOCUMENT_ROOT} // '.';
my $method = $ENV{REQUEST_METHOD} // '-';
my ($status, $nap, @fields) = (200, 0);
if (open(my $fh, '<', "$dir/state.$name")) {
	chomp(my @lines = <$fh>);
	close $fh;
	$status = shift @lines if @lines;
	for (@lines) {
		if (/^SLEEP (\S+)$/) { $nap = $1 }
		elsif ($_ ne '') { push @fields, $_ }
	}
}
if (open(my $fh, '>>', "$dir/count.$name")) {
	print $fh "$method ", ($ENV{HTTP_IF_NONE_MATCH} // '-'), "\n";
	close $fh;
}
# a request body (POST, PUT) is read and dropped
if (($ENV{CONTENT_LENGTH} // 0) > 0) {
	read(STDIN, my $drop, $ENV{CONTENT_LENGTH});
}
sleep($nap) if $nap > 0;
$| = 1;
my $inm = $ENV{HTTP_IF_NONE_MATCH} // '';
for (@fields) {
	next unless /^ETag:\s*(\S.*)$/i;
	if ($inm ne '' && index($inm, $1) >= 0) {
		print "Status: 304\r\n";
		print "$_\r\n" for @fields;
		print "\r\n";
		exit 0;
	}
}
print "Status: $status\r\nContent-Type: text/plain\r\n";
print "$_\r\n" for @fields;
printf "\r\nstate %.6f %d %s\n", time, $$, $method;
