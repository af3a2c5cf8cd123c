#!/usr/bin/env bash
# t0110: concurrency.  Runs in one directory are serialised with flock(2)
# on DIR/.edgecert.lock: concurrent issues all succeed; a held lock makes
# edgecert wait.  Files are replaced atomically: a reader never sees a
# half-written file, and no *.tmp.* files are left behind.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tool openssl flock

D=$T/pki
ec 0 ca --dir "$D"

# ---- concurrent issues for different names (and a renew) ----
ec 0 issue first.test --dir "$D" # so that renew always has a leaf to look at
N=6
for i in $(seq 1 $N); do
	start_bg "issue$i" "$EDGECERT" issue "host$i.test" --dir "$D" --key rsa-2048 --ip "10.0.0.$i"
done
start_bg renew "$EDGECERT" renew --dir "$D" --within 1d
for i in $(seq 1 $N); do
	wait_bg "issue$i"
	expect_eq "$RC" 0 "exit code of concurrent issue $i ($(tr '\n' ' ' <"$T/issue$i.log"))"
	expect_contains "$(cat "$T/issue$i.log")" "issue: host$i.test: wrote"
done
wait_bg renew
expect_eq "$RC" 0 "exit code of the concurrent renew ($(tr '\n' ' ' <"$T/renew.log"))"
for i in $(seq 1 $N); do
	expect_rc 0 openssl verify -CAfile "$D/ca.pem" -purpose sslserver "$D/host$i.test.pem"
	expect_rc 0 openssl x509 -in "$D/host$i.test.pem" -noout -ext subjectAltName
	expect_contains "$STDOUT" "IP Address:10.0.0.$i"
	expect_eq "$(file_sha "$D/host$i.test.chain.pem")" \
		"$(cat "$D/host$i.test.pem" "$D/ca.pem" | sha256sum | cut -d' ' -f1)" "host$i chain file"
	expect_rc 0 openssl pkey -in "$D/host$i.test.key" -pubout
	pub=$STDOUT
	expect_rc 0 openssl x509 -in "$D/host$i.test.pem" -noout -pubkey
	expect_eq "$STDOUT" "$pub" "host$i.test.key matches host$i.test.pem"
	expect_eq "$(file_mode "$D/host$i.test.key")" 600 "mode of host$i.test.key"
done
expect_eq "$(find "$D" -name '*.tmp.*' | wc -l)" 0 "leftover *.tmp.* files"
pass "$N concurrent issues + a renew in one dir: all succeed, all consistent, no *.tmp.*"

# the same NAME from two processes at once: both exit 0, one writes, the
# other then finds it valid (serialised, not interleaved)
start_bg same1 "$EDGECERT" issue same.test --dir "$D" --key rsa-3072
start_bg same2 "$EDGECERT" issue same.test --dir "$D" --key rsa-3072
wait_bg same1
rc1=$RC
wait_bg same2
expect_eq "$rc1/$RC" 0/0 "exit codes of two concurrent issues of one NAME"
logs=$(cat "$T/same1.log" "$T/same2.log")
expect_eq "$(grep -c 'wrote' <<<"$logs")" 1 "runs that wrote same.test"
expect_eq "$(grep -c 'unchanged' <<<"$logs")" 1 "runs that found same.test valid"
expect_rc 0 openssl verify -CAfile "$D/ca.pem" "$D/same.test.pem"
pass "two concurrent issues of one NAME: one writes, the other sees it unchanged"

# ---- a held lock makes edgecert wait ----
start_bg holder flock "$D/.edgecert.lock" sleep 1.5
sleep 0.3 # let flock take it
t0=$(date +%s%N)
ec 0 issue late.test --dir "$D"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 900)) || fail "issue finished in ${ms} ms while another process held $D/.edgecert.lock"
wait_bg holder
expect_contains "$STDOUT" "issue: late.test: wrote"
start_bg holder2 flock "$D/.edgecert.lock" sleep 1.5
sleep 0.3
t0=$(date +%s%N)
ec 0 renew --dir "$D" --within 1d
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 900)) || fail "renew finished in ${ms} ms while the lock was held"
wait_bg holder2
pass "issue and renew wait for $D/.edgecert.lock"

# ---- readers never see a partial file ----
cat >"$T/reader.sh" <<'READER'
# Read NAME's three files in a tight loop until told to stop (bash reads,
# thousands a second, to hit any window where a file is partly written);
# every read must be complete PEM.
d=$1 n=$2 bad=0 reads=0
whole() { # CONTENT FIRST-LINE LAST-LINE
	[[ $1 == "$2"$'\n'* && $1 == *$'\n'"$3" ]]
}
while [[ ! -e $d/../stop ]]; do
	reads=$((reads + 1))
	k=$(<"$d/$n.key") c=$(<"$d/$n.pem") ch=$(<"$d/$n.chain.pem")
	whole "$k" "-----BEGIN PRIVATE KEY-----" "-----END PRIVATE KEY-----" ||
		{ echo "partial $n.key (${#k} bytes)"; bad=$((bad + 1)); }
	whole "$c" "-----BEGIN CERTIFICATE-----" "-----END CERTIFICATE-----" ||
		{ echo "partial $n.pem (${#c} bytes)"; bad=$((bad + 1)); }
	whole "$ch" "-----BEGIN CERTIFICATE-----" "-----END CERTIFICATE-----" &&
		[[ $(grep -c 'BEGIN CERTIFICATE' <<<"$ch") == 2 ]] ||
		{ echo "partial $n.chain.pem (${#ch} bytes)"; bad=$((bad + 1)); }
done
echo "reads=$reads bad=$bad"
[[ $bad -eq 0 ]]
READER
ec 0 issue hot.test --dir "$D" --key rsa-2048
start_bg reader bash "$T/reader.sh" "$D" hot.test
serials=$(cert_serial "$D/hot.test.pem")
for i in $(seq 1 20); do
	ec 0 issue hot.test --dir "$D" --key rsa-2048 --force
	serials+=" $(cert_serial "$D/hot.test.pem")"
done
touch "$T/stop"
wait_bg reader
log=$(cat "$T/reader.log")
expect_eq "$RC" 0 "reader exit code ($(_show "$log"))"
expect_match "$log" 'reads=[1-9][0-9]* bad=0'
expect_eq "$(tr ' ' '\n' <<<"$serials" | sort -u | wc -l)" 21 "distinct serials over 21 issues"
expect_eq "$(find "$D" -name '*.tmp.*' | wc -l)" 0 "leftover *.tmp.* files"
expect_eq "$(file_mode "$D/hot.test.key")" 600 "mode of hot.test.key after rewrites"
pass "20 forced reissues under a concurrent reader: no partial file ever seen ($log)"
