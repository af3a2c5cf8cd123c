#!/usr/bin/perl
# fcgi-fake.pl: a scripted FastCGI responder for origind's protocol tests
# (t0309).  perl-base only (IO::Socket::UNIX).
#
#   perl fcgi-fake.pl SOCKET_PATH
#
# Serves one connection at a time, each for as many requests as the client
# sends (it honours FCGI_KEEP_CONN unless told not to).  It prints
# "listening", then "conn N" per accepted connection and "request MODE"
# per request, so a test can count connections.  The last segment of
# SCRIPT_NAME picks what it does:
#
#   params      answer with what it received: role, flags, the PARAMS and
#               STDIN record counts and sizes, and every variable
#   echo        answer with STDIN as the body, in STDOUT records of
#               varied sizes with padding
#   early       answer and end BEFORE reading STDIN, then read it all
#   neverread   answer and end without reading STDIN, then close
#   split       a response written one byte per write, with padding
#   mgmt        an FCGI_UNKNOWN_TYPE management record, then an answer
#   stderr      STDERR lines split across records, then an answer
#   nokeep      answer, then close despite FCGI_KEEP_CONN
#   overloaded  END_REQUEST with protocolStatus OVERLOADED, no output
#   cantmpx     END_REQUEST with CANT_MPX_CONN
#   unknownrole END_REQUEST with UNKNOWN_ROLE
#   endnohead   END_REQUEST (complete) with no output at all
#   badhead     a malformed CGI head on STDOUT
#   http        an HTTP response instead of FastCGI records
#   wrongid     a STDOUT record for request id 2
#   closeearly  close without a byte
#   halfhead    half a head, then close
#   midbody     a head and part of the body, then close
#   appstatus   a normal answer with appStatus 3 (still a success)
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket;

$| = 1;
my $path = shift or die "usage: fcgi-fake.pl SOCKET_PATH\n";
unlink $path;
my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path, Listen => 16)
	or die "listen $path: $!\n";
$SIG{PIPE} = 'IGNORE';
print "listening $path\n";

my $nconn = 0;
while (1) {
	my $c = $srv->accept or next;
	$nconn++;
	print "conn $nconn\n";
	eval { serve($c) };
	print "error: $@" if $@;
	close $c;
}

sub readn {
	my ($c, $n) = @_;
	my $buf = '';
	while (length($buf) < $n) {
		my $r = sysread($c, $buf, $n - length($buf), length($buf));
		return undef unless $r;
	}
	return $buf;
}

# one record: (type, id, content), or () at EOF
sub rec {
	my ($c) = @_;
	my $h = readn($c, 8);
	return () unless defined $h;
	my ($v, $t, $id, $len, $pad) = unpack('CCnnC', $h);
	die "bad version $v\n" unless $v == 1;
	my $body = $len + $pad ? readn($c, $len + $pad) : '';
	return () unless defined $body;
	return ($t, $id, substr($body, 0, $len));
}

sub record {
	my ($t, $id, $data, $pad) = @_;
	$pad //= 0;
	return pack('CCnnCC', 1, $t, $id, length $data, $pad, 0) . $data . ("\0" x $pad);
}

sub put {
	my ($c, $bytes) = @_;
	my $off = 0;
	while ($off < length $bytes) {
		my $w = syswrite($c, $bytes, length($bytes) - $off, $off);
		die "write: $!\n" unless defined $w;
		$off += $w;
	}
}

sub stdout_all {
	my ($c, $data, $id) = @_;
	$id //= 1;
	my $out = '';
	for (my $off = 0; $off < length $data; $off += 65535) {
		$out .= record(6, $id, substr($data, $off, 65535));
	}
	put($c, $out . record(6, $id, ''));
}

sub end_req {
	my ($c, $app, $proto) = @_;
	put($c, record(3, 1, pack('NCx3', $app // 0, $proto // 0)));
}

sub parse_nv {
	my ($s) = @_;
	my @kv;
	my $i = 0;
	while ($i < length $s) {
		my @l;
		for (1 .. 2) {
			my $b = ord substr($s, $i, 1);
			if ($b & 0x80) {
				push @l, unpack('N', substr($s, $i, 4)) & 0x7fffffff;
				$i += 4;
			} else {
				push @l, $b;
				$i++;
			}
		}
		push @kv, substr($s, $i, $l[0]), substr($s, $i + $l[0], $l[1]);
		$i += $l[0] + $l[1];
	}
	return @kv;
}

# a PARAMS record holds only whole pairs (php-fpm decodes each record on
# its own): true when its content parses exactly
sub whole_pairs {
	my ($s) = @_;
	my $i = 0;
	while ($i < length $s) {
		my @l;
		for (1 .. 2) {
			return 0 if $i >= length $s;
			my $b = ord substr($s, $i, 1);
			if ($b & 0x80) {
				return 0 if $i + 4 > length $s;
				push @l, unpack('N', substr($s, $i, 4)) & 0x7fffffff;
				$i += 4;
			} else {
				push @l, $b;
				$i++;
			}
		}
		$i += $l[0] + $l[1];
	}
	return $i == length $s;
}

sub read_stdin {
	my ($c, $st) = @_;
	while (1) {
		my ($t, $id, $data) = rec($c);
		die "EOF in STDIN\n" unless defined $t;
		die "record type $t in STDIN\n" unless $t == 5;
		last if $data eq '';
		$st->{stdin} .= $data;
		$st->{nstdin}++;
		$st->{maxstdin} = length $data if length $data > $st->{maxstdin};
	}
}

sub serve {
	my ($c) = @_;
	while (1) {
		my ($t, $id, $data) = rec($c);
		return unless defined $t;
		die "want BEGIN_REQUEST, got type $t\n" unless $t == 1;
		die "request id $id\n" unless $id == 1;
		my ($role, $flags) = unpack('nC', $data);
		my %st = (params => '', nparams => 0, paramlens => [], whole => 1,
			stdin => '', nstdin => 0, maxstdin => 0);
		while (1) {
			($t, $id, $data) = rec($c);
			die "EOF in PARAMS\n" unless defined $t;
			die "record type $t in PARAMS\n" unless $t == 4;
			last if $data eq '';
			$st{params} .= $data;
			$st{nparams}++;
			push @{$st{paramlens}}, length $data;
			$st{whole} = 0 unless whole_pairs($data);
		}
		my @kv = parse_nv($st{params});
		my %p = @kv;
		my $mode = ($p{SCRIPT_NAME} // '') =~ m{([^/]*)$} ? $1 : '';
		print "request $mode\n";
		my $keep = $flags & 1;
		my $ok = "Content-Type: text/plain\r\n\r\n";

		if ($mode eq 'early') {
			stdout_all($c, $ok . "answered before reading\n");
			end_req($c);
			read_stdin($c, \%st);
			print "early read $st{nstdin} records\n";
			next if $keep;
			return;
		}
		if ($mode eq 'neverread') {
			stdout_all($c, $ok . "ignored your body\n");
			end_req($c);
			return;
		}
		if ($mode eq 'closeearly') {
			return;
		}
		read_stdin($c, \%st);

		if ($mode eq 'params') {
			my $body = "role=$role flags=$flags\n";
			$body .= "params_records=$st{nparams} params_bytes=" . length($st{params}) . "\n";
			$body .= "params_lens=" . join(',', @{$st{paramlens}}) . "\n";
			$body .= "params_whole_pairs=$st{whole}\n";
			$body .= "stdin_records=$st{nstdin} stdin_bytes=" . length($st{stdin}) .
				" stdin_max_record=$st{maxstdin}\n";
			for (my $i = 0; $i < @kv; $i += 2) {
				my $v = $kv[$i + 1];
				$v = 'length ' . length($v) if length($v) > 200;
				$body .= "$kv[$i]=$v\n";
			}
			stdout_all($c, $ok . $body);
			end_req($c);
		} elsif ($mode eq 'echo') {
			my $head = "Content-Type: application/octet-stream\r\n" .
				"X-Stdin-Records: $st{nstdin}\r\nX-Stdin-Max-Record: $st{maxstdin}\r\n\r\n";
			my $all = $head . $st{stdin};
			my ($off, $n, $out) = (0, 1, '');
			while ($off < length $all) {
				my $len = $n % 7 == 0 ? 65535 : ($n * 4099) % 30000 + 1;
				$out .= record(6, 1, substr($all, $off, $len), $n % 9);
				$off += $len;
				$n++;
			}
			put($c, $out . record(6, 1, ''));
			end_req($c);
		} elsif ($mode eq 'split') {
			my $bytes = record(6, 1, $ok . "written one byte at a time\n", 5) .
				record(7, 1, "a stderr line\n", 2) . record(6, 1, '') .
				pack('CCnnCC', 1, 3, 1, 8, 0, 0) . pack('NCx3', 0, 0);
			for my $i (0 .. length($bytes) - 1) {
				put($c, substr($bytes, $i, 1));
				select(undef, undef, undef, 0.002) if $i % 16 == 0;
			}
		} elsif ($mode eq 'mgmt') {
			put($c, record(11, 0, pack('Cx7', 42)));
			stdout_all($c, $ok . "after a management record\n");
			end_req($c);
		} elsif ($mode eq 'stderr') {
			put($c, record(7, 1, "first li") . record(7, 1, "ne\nsecond line\r\nthird"));
			put($c, record(7, 1, " line, no newline"));
			stdout_all($c, $ok . "stderr sent\n");
			put($c, record(7, 1, ''));
			end_req($c);
		} elsif ($mode eq 'nokeep') {
			stdout_all($c, $ok . "closing after this\n");
			end_req($c);
			return;
		} elsif ($mode eq 'overloaded') {
			end_req($c, 0, 2);
		} elsif ($mode eq 'cantmpx') {
			end_req($c, 0, 1);
		} elsif ($mode eq 'unknownrole') {
			end_req($c, 0, 3);
		} elsif ($mode eq 'endnohead') {
			end_req($c, 0, 0);
		} elsif ($mode eq 'badhead') {
			stdout_all($c, "this is not a header line\r\n\r\nbody\n");
			end_req($c);
		} elsif ($mode eq 'http') {
			put($c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
			return;
		} elsif ($mode eq 'wrongid') {
			stdout_all($c, $ok . "for someone else\n", 2);
			end_req($c);
		} elsif ($mode eq 'halfhead') {
			put($c, record(6, 1, "Content-Type: text/plain\r\n"));
			return;
		} elsif ($mode eq 'midbody') {
			put($c, record(6, 1, $ok . "the first part\n"));
			select(undef, undef, undef, 0.2);
			return;
		} elsif ($mode eq 'appstatus') {
			stdout_all($c, $ok . "exit status 3\n");
			end_req($c, 3, 0);
		} else {
			stdout_all($c, "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno mode '$mode'\n");
			end_req($c);
		}
		return unless $keep;
	}
}
