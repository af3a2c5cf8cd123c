#!/usr/bin/perl
# resp.cgi: a response shaped by its query string, for the cache tests.
#   s=CODE          status (default 200)
#   h=Name:Value    a response field (repeatable; %-encoded)
#   h304=Name:Value a field of the 304 only (repeatable; %-encoded)
#   b=TEXT          the body (default: a line unique to this run of the
#                   script, "resp <time> <pid> <method>", so that a test
#                   can tell a cached answer from a fresh one)
#   etag=TAG        ETag "TAG"; a request whose If-None-Match holds it gets 304
#   lm=EPOCH        Last-Modified; If-Modified-Since at or after it gets 304
#   sleep=SECONDS   wait before answering
#   stall=SECONDS   print the head and the body, then stall this long before
#                   ending the response (an edge with a shorter
#                   origin_response_timeout sees it cut short)
#   count=NAME      append a line to DOCUMENT_ROOT/count.NAME per request
# Anything else (n=1, ...) only makes the URL distinct.
use strict;
use warnings;
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

my ($status, $body, $etag, $lm, $cut, $count, @fields, @f304) = (200);
my $nap = 0;
for my $kv (split /&/, $ENV{QUERY_STRING} // '') {
	my ($k, $v) = split /=/, $kv, 2;
	$v //= '';
	$v =~ s/\+/ /g;
	$v =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
	if ($k eq 's') { $status = $v }
	elsif ($k eq 'h') { push @fields, $v }
	elsif ($k eq 'h304') { push @f304, $v }
	elsif ($k eq 'b') { $body = $v }
	elsif ($k eq 'etag') { $etag = $v }
	elsif ($k eq 'lm') { $lm = $v }
	elsif ($k eq 'sleep') { $nap = $v }
	elsif ($k eq 'stall') { $cut = $v }
	elsif ($k eq 'count') { $count = $v }
}
if (defined $count && $count =~ /^\w+$/ && defined $ENV{DOCUMENT_ROOT}) {
	if (open(my $fh, '>>', "$ENV{DOCUMENT_ROOT}/count.$count")) {
		print $fh ($ENV{REQUEST_METHOD} // '-'), " ", ($ENV{HTTP_IF_NONE_MATCH} // '-'), "\n";
		close $fh;
	}
}
sleep($nap) if $nap > 0;
my $head = '';
my $inm = $ENV{HTTP_IF_NONE_MATCH} // '';
my $ims = $ENV{HTTP_IF_MODIFIED_SINCE} // '';
my $lm_text = defined $lm ? strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($lm)) : undef;
$status = 304 if defined $etag && $inm ne '' && index($inm, "\"$etag\"") >= 0;
$status = 304 if defined $lm_text && $inm eq '' && $ims eq $lm_text;
$head .= "ETag: \"$etag\"\r\n" if defined $etag;
$head .= "Last-Modified: $lm_text\r\n" if defined $lm_text;
$head .= "$_\r\n" for @fields;
$| = 1;
if ($status == 304) {
	$head .= "$_\r\n" for @f304;
	print "Status: 304\r\n$head\r\n";
	exit 0;
}
$body = defined $body ? "$body\n" :
	sprintf("resp %.6f %d %s\n", time, $$, $ENV{REQUEST_METHOD} // '-');
print "Status: $status\r\nContent-Type: text/plain\r\n$head";
print "\r\n", $body;
sleep($cut) if defined $cut;
