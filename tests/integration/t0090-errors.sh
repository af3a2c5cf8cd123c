#!/usr/bin/env bash
# t0090: usage errors exit 2 with a clear message on stderr (and touch
# nothing); --help works per command; failures exit 1 and name what failed
# and where.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

cd "$T" # relative paths below stay inside the test's directory
D=$T/pki
ec 0 ca --dir "$D"
state0=$(dir_state "$D")

# usage2 NEEDLE ARGS...: exit 2, NEEDLE on stderr, nothing on stdout
usage2() {
	local needle=$1
	shift
	ec 2 "$@"
	expect_contains "$STDERR" "$needle"
	expect_contains "$STDERR" "edgecert"
	expect_eq "$STDOUT" "" "stdout of 'edgecert $*'"
}

# ---- usage errors: exit 2 ----
usage2 "Usage: edgecert COMMAND" # no arguments at all
expect_contains "$STDERR" "Commands:"
usage2 "unknown command 'frob'" frob
expect_contains "$STDERR" "commands: ca, issue, renew, inspect"
usage2 "unknown option '--dri' (did you mean --dir?)" ca --dri "$D"
usage2 "unknown option '--colour'" issue x.test --dir "$D" --colour
# a transposition typo should suggest the option it is a typo of
# (known bug: edgecert suggests --dir, which comes first in the table)
usage2 "unknown option '--dsn'" issue x.test --dir "$D" --dsn x.test
soft expect_contains "$STDERR" "did you mean --dns?"
usage2 "options are spelled --name" issue x.test --dir "$D" -f
pass "no args, unknown command, unknown flag (with suggestion): exit 2"

for cmd in ca "issue x.test" renew; do
	# shellcheck disable=SC2086 # split "issue x.test" on purpose
	usage2 "missing required --dir" $cmd
done
usage2 "missing argument (usage: edgecert inspect FILE" inspect
usage2 "missing argument (usage: edgecert issue NAME" issue --dir "$D"
usage2 "option '--dir' needs a value" issue x.test --dir
pass "missing --dir / NAME / FILE / option value: exit 2"

usage2 "'rsa-1024' is not one of ecdsa-p256|ecdsa-p384|rsa-2048|rsa-3072|ed25519" \
	issue x.test --dir "$D" --key rsa-1024
usage2 "'dsa' is not one of" ca --dir "$T/newca" --key dsa
expect_no_file "$T/newca"
pass "unknown --key type: exit 2, lists the types, creates nothing"

usage2 "bad DNS name 'bad_name!': character '_' is not allowed" issue x --dir "$D" --dns 'bad_name!'
usage2 "bad DNS name '-lead.test': a label starts with '-'" issue x --dir "$D" --dns -lead.test
usage2 "bad DNS name 'a..b': empty label" issue x --dir "$D" --dns a..b
usage2 "bad DNS name 'trail-.test': a label ends with '-'" issue x --dir "$D" --dns trail-.test
usage2 "bad DNS name 'dot.test.': empty label (no trailing dot)" issue x --dir "$D" --dns dot.test.
usage2 "'*' only as the whole first label" issue x --dir "$D" --dns 'a.*.test'
usage2 "a wildcard needs two labels" issue x --dir "$D" --dns '*.test'
usage2 "longer than 63 characters" issue x --dir "$D" --dns "$(printf 'a%.0s' {1..64}).test"
usage2 "bad DNS name 'bad!': character '!' is not allowed" issue x --dir "$D" --dns ok.test,'bad!'
pass "bad --dns: exit 2 naming the name and the problem"

usage2 "--ip: bad IP address '300.1.1.1'" issue x --dir "$D" --ip 300.1.1.1
usage2 "--ip: bad IP address '10.0.0'" issue x --dir "$D" --ip 10.0.0
usage2 "--ip: bad IP address 'edge.test'" issue x --dir "$D" --ip edge.test
pass "bad --ip: exit 2"

usage2 "bad NAME '../x'" issue ../x --dir "$D"
usage2 "bad NAME 'a/b'" issue a/b --dir "$D"
usage2 "bad NAME 'ca': reserved" issue ca --dir "$D"
usage2 "must not end in '.chain'" issue x.chain --dir "$D"
usage2 "bad NAME 'bad_name!'" issue 'bad_name!' --dir "$D"
usage2 "NAME 'under_score' is not a DNS name or IP address" issue under_score --dir "$D"
expect_no_file "$T/x.pem"
pass "bad NAME (path escapes, reserved, not a host without --dns): exit 2"

usage2 "option '--days': '0' is out of range (1..36500)" issue x --dir "$D" --days 0
usage2 "'abc' is not an integer" issue x --dir "$D" --days abc
usage2 "--not-after must be later than --not-before" \
	issue x --dir "$D" --not-before 2026-01-10 --not-after 2026-01-01
usage2 "--not-after must be later than --not-before" \
	ca --dir "$T/newca" --not-before 2026-01-10 --not-after 2026-01-10
usage2 "--not-before: bad time 'yesterday'" issue x --dir "$D" --not-before yesterday
usage2 "--not-after: bad time '2026-13-01'" issue x --dir "$D" --not-after 2026-13-01
# a day that does not exist must be refused, not moved to another day
# (known bug: strptime+timegm turn 2026-02-30 into 2026-03-02).  In a
# directory of its own, as the buggy edgecert does write a certificate.
ec 0 ca --dir "$T/dates"
soft usage2 "bad time '2026-02-30'" issue x --dir "$T/dates" --not-before 2026-02-30
usage2 "'3x' is not a duration" renew --dir "$D" --within 3x
usage2 "option '--force' given twice" issue x --dir "$D" --force --force
expect_no_file "$T/newca"
pass "--days 0, bad times, --not-after before --not-before, bad duration: exit 2"

# Empty values are usage errors, not crashes or silent defaults (known
# bugs: --key "" dereferences NULL, SIGSEGV, exit 139; ca --cn "" creates
# a CA with an empty subject, prints "CN=(null)", and the next identical
# run crashes).  Directories of their own: the buggy edgecert writes.
soft usage2 "" issue x --dir "$T/dates" --key ""
soft usage2 "" ca --dir "$T/emptykey" --key ""
soft usage2 "" ca --dir "$T/emptycn" --cn ""
soft usage2 "" ca --dir "$T/emptycn" --cn ""

usage2 "too many arguments: 'b'" issue a b --dir "$D"
usage2 "unexpected argument 'extra'" ca extra --dir "$D"
usage2 "unexpected argument 'extra'" renew extra --dir "$D"
usage2 "too many arguments: 'b'" inspect a b
pass "extra positional arguments: exit 2"

expect_eq "$(dir_state "$D")" "$state0" "files in $D after all the usage errors"
expect_eq "$(ls "$D")" "$(printf 'ca.key\nca.pem')" "files in $D after all the usage errors"
pass "no usage error wrote anything"

# ---- help: exit 0, lists the options ----
ec 0 --help
expect_contains "$STDOUT" "Usage: edgecert COMMAND"
expect_contains "$STDOUT" "Exit codes: 0 done"
ec 0 --version
expect_match "$STDOUT" '^edgecert [0-9]+\.[0-9]+'
declare -A OPTS=(
	[ca]="--dir --cn --key --days --not-before --not-after --force --help"
	[issue]="--dir --dns --ip --client --cn --key --days --not-before --not-after --force --help"
	[renew]="--dir --within --dry-run --help"
	[inspect]="--dir --json --help"
)
for cmd in ca issue renew inspect; do
	ec 0 "$cmd" --help
	expect_contains "$STDOUT" "Usage: edgecert $cmd"
	for o in ${OPTS[$cmd]}; do
		expect_match "$STDOUT" "(^|[[:space:]])$o([[:space:]]|$)"
	done
	expect_eq "$STDERR" "" "stderr of $cmd --help"
	# --help wins over anything else on the line
	ec 0 "$cmd" --bogus --help
	expect_contains "$STDOUT" "Usage: edgecert $cmd"
done
pass "--help of each command exits 0 and lists its options"

# ---- failures: exit 1, naming what and where ----
mkdir "$T/empty"
ec 1 issue x.test --dir "$T/empty"
expect_contains "$STDERR" "no CA in $T/empty"
expect_contains "$STDERR" "$T/empty/ca.pem"
expect_contains "$STDERR" "edgecert ca --dir $T/empty"
expect_eq "$(find "$T/empty" -mindepth 1 ! -name .edgecert.lock)" "" "files left in empty dir"
ec 1 issue x.test --dir "$T/missing"
expect_contains "$STDERR" "$T/missing: No such file or directory"
expect_no_file "$T/missing"
pass "issue without a CA: exit 1, 'no CA' and the path"

# Unwritable directory.  Tests run as root, which ignores modes, so use
# paths that fail for root too: a directory "under" a regular file ...
echo "not a directory" >"$T/afile"
ec 1 ca --dir "$T/afile/sub"
expect_contains "$STDERR" "$T/afile/sub: cannot create directory: Not a directory"
ec 1 issue x.test --dir "$T/afile/sub"
expect_contains "$STDERR" "$T/afile/sub"
expect_contains "$STDERR" "Not a directory"
ec 1 issue x.test --dir "$T/afile"
expect_contains "$STDERR" "$T/afile: not a directory"
ec 1 ca --dir "$T/afile"
expect_contains "$STDERR" "$T/afile"
expect_eq "$(cat "$T/afile")" "not a directory" "the regular file afile"
# ... a target that cannot be replaced (NAME.key is a directory) ...
mkdir "$D/blocked.test.key"
ec 1 issue blocked.test --dir "$D"
expect_contains "$STDERR" "$D/blocked.test.key: cannot write: Is a directory"
expect_no_file "$D/blocked.test.pem"
expect_eq "$(find "$D" -name '*.tmp.*' | wc -l)" 0 "temporary files left after a failed write"
rmdir "$D/blocked.test.key"
# ... and a really read-only directory: mode 0555 for a normal user, a
# read-only bind mount in a private mount namespace for root.
RO=$T/ro
ec 0 ca --dir "$RO"
ro_run() { # WANT edgecert-args...: run edgecert with $RO read-only
	local want=$1
	shift
	if [[ $(id -u) -ne 0 ]]; then
		chmod 0555 "$RO"
		ec "$want" "$@"
		chmod 0755 "$RO"
	else
		# shellcheck disable=SC2016 # $1, $@ are the inner shell's
		expect_rc "$want" unshare -m --propagation private sh -c \
			'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && shift && exec "$@"' \
			_ "$RO" "$EDGECERT" "$@"
	fi
}
# shellcheck disable=SC2016 # $1 is the inner shell's
if [[ $(id -u) -ne 0 ]] || unshare -m --propagation private sh -c \
	'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1"' _ "$RO" 2>/dev/null; then
	ro_run 1 issue x.test --dir "$RO"
	expect_contains "$STDERR" "$RO"
	expect_match "$STDERR" "(Read-only file system|Permission denied)"
	expect_no_file "$RO/x.test.pem"
	expect_no_file "$RO/x.test.key"
	ro_run 1 ca --dir "$RO/sub"
	expect_contains "$STDERR" "$RO/sub: cannot create directory"
	pass "read-only directory: exit 1 naming the directory and the reason"
else
	note "root without mount rights here (unshare -m / mount --bind refused):" \
		"read-only directory case not run"
fi
pass "unwritable directory: exit 1 naming the path and the reason"

# corrupt / mismatched CA key
cp -r "$D" "$T/corrupt"
echo "garbage" >"$T/corrupt/ca.key"
ec 1 issue x.test --dir "$T/corrupt"
expect_contains "$STDERR" "$T/corrupt/ca.key: not a private key"
expect_no_file "$T/corrupt/x.test.pem"
ec 1 ca --dir "$T/corrupt"
expect_contains "$STDERR" "$T/corrupt/ca.key: not a private key"
expect_contains "$STDERR" "refusing to overwrite"
expect_eq "$(cat "$T/corrupt/ca.key")" garbage "corrupt ca.key after a refused 'ca'"
cp -r "$D" "$T/truncated"
head -c 100 "$D/ca.key" >"$T/truncated/ca.key"
ec 1 issue x.test --dir "$T/truncated"
expect_contains "$STDERR" "$T/truncated/ca.key"
cp -r "$D" "$T/mismatch"
ec 0 ca --dir "$T/other"
cp "$T/other/ca.key" "$T/mismatch/ca.key"
ec 1 issue x.test --dir "$T/mismatch"
expect_contains "$STDERR" "$T/mismatch/ca.key: key does not belong to $T/mismatch/ca.pem"
cp -r "$D" "$T/badpem"
echo junk >"$T/badpem/ca.pem"
ec 1 issue x.test --dir "$T/badpem"
expect_contains "$STDERR" "$T/badpem/ca.pem"
cp -r "$D" "$T/nokey"
rm "$T/nokey/ca.key"
ec 1 issue x.test --dir "$T/nokey"
expect_contains "$STDERR" "$T/nokey/ca.key: No such file or directory"
# a leaf certificate is not a CA
cp -r "$D" "$T/notca"
ec 0 issue leaf.test --dir "$T/notca"
cp "$T/notca/leaf.test.pem" "$T/notca/ca.pem"
cp "$T/notca/leaf.test.key" "$T/notca/ca.key"
ec 1 issue x.test --dir "$T/notca"
expect_contains "$STDERR" "$T/notca/ca.pem: not a CA certificate"
pass "corrupt, truncated, mismatched, missing CA key / certificate: exit 1 naming the file"

# inspect failures
ec 1 inspect "$T/nothere.pem"
expect_contains "$STDERR" "$T/nothere.pem"
ec 1 inspect "$T/afile"
expect_contains "$STDERR" "$T/afile: neither a certificate nor a private key"
pass "inspect of a missing / non-PEM file: exit 1 naming it"

