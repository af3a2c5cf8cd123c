#!/usr/bin/env bash
# t0470: edged's access log (access_log) in CloudFront's standard format:
#   - the file starts with "#Version: 1.0" and the "#Fields:" line of the
#     33 fields, then one line per request, 33 tab-separated fields each,
#     "-" for empty values, never a CR;
#   - the values, by request id (x-edge-request-id is the X-Edge-Request-Id
#     the viewer got): Miss then Hit, a 404 (Error), the query without '?'
#     as sent, User-Agent / Referer / Cookie with blanks and quotes
#     URL-encoded, the viewer's X-Forwarded-For, HEAD (no body in sc-bytes),
#     a Range (206, sc-range-start/end), TLSv1.3 and TLSv1.2 with their
#     ciphers, a refused request (400 InvalidRequest, 501
#     InvalidRequestMethod), the plain-HTTP redirect (Redirect, http, no
#     TLS), time-taken and time-to-first-byte of a slow origin, an origin
#     that cannot be reached (502 OriginConnectError); sc-bytes = body +
#     an estimate of the head no larger than the head curl saw;
#   - SIGUSR1 after `mv access.log access.log.1` while requests are running:
#     later lines go to a new access.log that starts with #Version, and
#     every request is in exactly one of the files; a reopen that fails
#     (the path is a directory) keeps writing to the old file, the next
#     SIGUSR1 succeeds;
#   - a log that cannot be written fast enough (a pipe whose reader is
#     stopped, access_log_queue 16) never holds up a request: lines are
#     dropped, counted and warned about, and written + dropped = requests;
#   - access_log "-" writes to standard output; a path that cannot be
#     opened stops edged at start with a message naming the key;
#   - GoAccess (Debian's goaccess, its CLOUDFRONT log, date and time
#     formats) reads every line of the files: total requests = lines, no
#     failed ones.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib_origind.sh
. "$(dirname "$0")/lib_origind.sh"
# shellcheck source=lib_edged.sh
. "$(dirname "$0")/lib_edged.sh"
need_tool curl openssl
command -v goaccess >/dev/null 2>&1 ||
	fail "goaccess is not installed (it reads edged's access log in this test): run 'make deps'"

R=/cgi-bin/resp.cgi
LOG=$T/access.log
IDS=()   # every request made in the main run whose id we know

# datalines FILE...: request lines (not the # header) in the files
datalines() {
	cat "$@" 2>/dev/null | { grep -vc '^#' || true; }
}
# wait_lines N FILE...: until the files hold N request lines (3 s)
wait_lines() {
	local want=$1 n i
	shift
	for ((i = 0; i < 30; i++)); do
		n=$(datalines "$@")
		[[ $n -ge $want ]] && return 0
		sleep 0.1
	done
	fail "want $want request lines in $*, have $(datalines "$@") after 3 s"
}
# wait_count NAME NEEDLE N: until NAME's log mentions NEEDLE N times (5 s)
wait_count() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(grep -cF -- "$2" "$T/$1.log" 2>/dev/null) -ge $3 ]] && return 0
		sleep 0.1
	done
	fail "log of $1 mentions '$2' fewer than $3 times"
}
# rid: the X-Edge-Request-Id of the last eget into $ID, remembered in IDS
rid() {
	ID=$(header X-Edge-Request-Id)
	[[ -n $ID ]] || fail "no X-Edge-Request-Id in the answer: $(_show "$(cat "$T/head")")"
	IDS+=("$ID")
}
# line ID [FILE...]: the log line of request ID (exactly one)
line() {
	local id=$1 out n
	shift
	[[ $# -gt 0 ]] || set -- "$LOG"
	out=$(cat "$@" | awk -F'\t' -v id="$id" '$15 == id')
	n=$(printf '%s' "$out" | grep -c . || true)
	[[ $n -eq 1 ]] || fail "want one line for request $id, found $n: $(_show "$out")"
	printf '%s\n' "$out"
}
# f N LINE: field N (1-based) of a log line
f() { printf '%s\n' "$2" | cut -f "$1"; }
# expect_fields LINE N=VALUE...: fields of a line
expect_fields() {
	local l=$1 kv
	shift
	for kv in "$@"; do
		expect_eq "$(f "${kv%%=*}" "$l")" "${kv#*=}" "field ${kv%%=*} of: $(_show "$l")"
	done
}
# field numbers, as in the #Fields line
F_DATE=1 F_TIME=2 F_LOC=3 F_SCB=4 F_IP=5 F_METHOD=6 F_HOST=7 F_STEM=8 F_STATUS=9
F_REF=10 F_UA=11 F_QUERY=12 F_COOKIE=13 F_RESULT=14 F_ID=15 F_XHOST=16 F_PROTO=17
F_CSB=18 F_TAKEN=19 F_XFF=20 F_SSLP=21 F_SSLC=22 F_RRESULT=23 F_VER=24 F_FLE=25
F_FLEF=26 F_PORT=27 F_TTFB=28 F_DRESULT=29 F_CTYPE=30 F_CLEN=31 F_RSTART=32 F_REND=33
# expect_head_estimate LINE BODY_BYTES: sc-bytes - body is the head edged
# wrote (edg_queue counts its fields; Date, framing and the status line are
# estimated) within 5 % of the head curl received ($T/head)
expect_head_estimate() {
	local sc real est
	sc=$(f $F_SCB "$1")
	real=$(wc -c <"$T/head")
	est=$((sc - $2))
	[[ $((est * 100)) -le $((real * 105)) && $((est * 100)) -ge $((real * 95)) ]] ||
		fail "sc-bytes $sc - body $2 = head estimate $est, real head $real bytes"
}

start_www_origind origin
printf '%s' 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ >"$T/www/data.txt"
HTTP_PORT=$(free_port)
D0=$(date -u +%F)
start_edged edge --access-log "$LOG" --listen-http "127.0.0.1:$HTTP_PORT" --access-log-cookies=true
wait_port "$HTTP_PORT"
wait_log edge access_log.open

# ---- the header, at once ----
expect_eq "$(sed -n 1p "$LOG")" "#Version: 1.0" "first line of a new access log"
expect_eq "$(sed -n 2p "$LOG")" "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end" \
	"the #Fields line"
expect_eq "$(wc -l <"$LOG")" 2 "lines of the log before any request"
pass "a new access log starts with #Version and the 33 #Fields"

# ---- a mix of requests ----
mh="$R?n=mh&$(cc max-age=60)&b=cached"
eget "$mh"
expect_xc Miss "the first GET"
rid
id_miss=$ID
body_miss=$(wc -c <"$T/body")
cp "$T/head" "$T/head.miss"
eget "$mh"
expect_xc Hit "the second GET"
rid
id_hit=$ID
cp "$T/head" "$T/head.hit"

eget /nope.html
expect_eq "$CODE" 404 "status of a missing file"
rid
id_404=$ID

q='n=q&x=a%20b&y=%22c%22&z'
eget "$R?$q"
rid
id_query=$ID

UA='Mozilla/5.0 (X11; Linux x86_64) "edge test" 100%'
eget -A "$UA" -e 'https://ref.example/a page?from=x' -b 'sid=abc; theme=dark' \
	-H 'X-Forwarded-For: 203.0.113.9' /index.html
expect_eq "$CODE" 200 "status of GET /index.html with a User-Agent"
rid
id_ua=$ID
cp "$T/head" "$T/head.ua"
body_ua=$(wc -c <"$T/body")

eget -I /index.html
expect_eq "$CODE" 200 "status of HEAD /index.html"
rid
id_head=$ID
cp "$T/head" "$T/head.head"

eget -H 'Range: bytes=10-19' /data.txt
expect_eq "$CODE" 206 "status of a Range request"
expect_eq "$BODY" "abcdefghij" "body of the Range request"
rid
id_range=$ID

eget --tls-max 1.2 /index.html
expect_eq "$CODE" 200 "status over TLS 1.2"
rid
id_tls12=$ID

eget "$R?n=slow&sleep=1"
rid
id_slow=$ID

eraw 'GET / HTTP/1.1\r\nHost: edge.test\r\nHost: evil.test\r\nUser-Agent: raw\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 400 Bad Request" "two Host fields"
id_400=$(printf '%s\n' "$RAW" | sed -n 's/^X-Edge-Request-Id: *//Ip' | tr -d '\r')
IDS+=("$id_400")

eraw 'PROPFIND /dav HTTP/1.1\r\nHost: edge.test\r\n\r\n'
expect_eq "$STATUS" "HTTP/1.1 501 Not Implemented" "an unknown method"
id_501=$(printf '%s\n' "$RAW" | sed -n 's/^X-Edge-Request-Id: *//Ip' | tr -d '\r')
IDS+=("$id_501")

# plain HTTP: the 301 to HTTPS
rm -f "$T/head"
hcode=$(timeout "$CMD_TIMEOUT" curl -sS -o /dev/null -D "$T/head" -w '%{http_code}' \
	--resolve "edge.test:$HTTP_PORT:127.0.0.1" "http://edge.test:$HTTP_PORT/old/page?p=1")
expect_eq "$hcode" 301 "status over plain HTTP"
rid
id_301=$ID
D1=$(date -u +%F)

wait_lines "${#IDS[@]}" "$LOG"
expect_eq "$(datalines "$LOG")" "${#IDS[@]}" "request lines after ${#IDS[@]} requests"

# ---- every line: 33 fields, common values ----
bad=$(grep -v '^#' "$LOG" | awk -F'\t' 'NF != 33 { print NR ": " NF " fields" }')
[[ -z $bad ]] || fail "lines without 33 fields: $bad"
grep -q $'\r' "$LOG" && fail "a CR in the access log"
while IFS= read -r l; do
	[[ $(f $F_DATE "$l") == "$D0" || $(f $F_DATE "$l") == "$D1" ]] ||
		fail "date is not today (UTC): $(_show "$l")"
	expect_match "$(f $F_TIME "$l")" '^[0-2][0-9]:[0-5][0-9]:[0-6][0-9]$'
	expect_fields "$l" $F_LOC=edge-edge $F_IP=127.0.0.1 $F_VER=HTTP/1.1 $F_FLE=- $F_FLEF=-
	expect_match "$(f $F_SCB "$l")" '^[0-9]+$'
	expect_match "$(f $F_CSB "$l")" '^[1-9][0-9]*$'
	expect_match "$(f $F_PORT "$l")" '^[1-9][0-9]*$'
	expect_match "$(f $F_TAKEN "$l")" '^[0-9]+\.[0-9]{3}$'
	expect_match "$(f $F_TTFB "$l")" '^[0-9]+\.[0-9]{3}$'
	[[ " ${IDS[*]} " == *" $(f $F_ID "$l") "* ]] || fail "a line for an unknown request: $(_show "$l")"
done < <(grep -v '^#' "$LOG")
pass "every line: 33 tab-separated fields, today's UTC date, node, address, port, times"

# ---- each request's values ----
l=$(line "$id_miss")
expect_fields "$l" $F_METHOD=GET $F_HOST="edge.test:$EDGE_PORT" $F_XHOST="edge.test:$EDGE_PORT" \
	$F_STEM=$R $F_STATUS=200 $F_RESULT=Miss $F_RRESULT=Miss $F_DRESULT=Miss \
	$F_PROTO=https $F_SSLP=TLSv1.3 $F_UA=curl/7.88.1 $F_REF=- $F_COOKIE=- $F_XFF=- \
	$F_QUERY="${mh#*\?}" $F_CTYPE=text/plain $F_RSTART=- $F_REND=-
expect_match "$(f $F_SSLC "$l")" '^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$'
cp "$T/head.miss" "$T/head"
expect_head_estimate "$l" "$body_miss"
l=$(line "$id_hit")
expect_fields "$l" $F_STATUS=200 $F_RESULT=Hit $F_RRESULT=Hit $F_DRESULT=Hit
cp "$T/head.hit" "$T/head"
expect_eq "$(f $F_CLEN "$l")" "$(header Content-Length)" "sc-content-len of the hit"
expect_head_estimate "$l" "$(f $F_CLEN "$l")"
pass "a miss then a hit: Miss / Hit in the three result types, status, stem, query, type, length"

l=$(line "$id_404")
expect_fields "$l" $F_STATUS=404 $F_STEM=/nope.html $F_QUERY=- $F_RESULT=Error $F_RRESULT=Error \
	$F_DRESULT=Error
l=$(line "$id_query")
expect_fields "$l" $F_STEM=$R $F_QUERY="$q"
pass "a 404 is an Error; the query is logged as sent, without '?'"

l=$(line "$id_ua")
expect_fields "$l" \
	$F_UA='Mozilla/5.0%20(X11;%20Linux%20x86_64)%20%22edge%20test%22%20100%25' \
	$F_REF='https://ref.example/a%20page?from=x' $F_COOKIE='sid=abc;%20theme=dark' \
	$F_XFF=203.0.113.9 $F_STEM=/index.html $F_STATUS=200
cp "$T/head.ua" "$T/head"
expect_head_estimate "$l" "$body_ua"
expect_eq "$(f $F_CLEN "$l")" "$body_ua" "sc-content-len of GET /index.html"
# cs-bytes: at least the request line and the fields sent
[[ $(f $F_CSB "$l") -ge $((${#UA} + 60)) ]] || fail "cs-bytes $(f $F_CSB "$l") too small"
pass "User-Agent, Referer, Cookie URL-encoded (blank %20, quote %22, '%' %25); X-Forwarded-For"

l=$(line "$id_head")
expect_fields "$l" $F_METHOD=HEAD $F_STATUS=200 $F_CLEN="$body_ua"
cp "$T/head.head" "$T/head"
expect_head_estimate "$l" 0
l=$(line "$id_range")
expect_fields "$l" $F_STATUS=206 $F_STEM=/data.txt $F_CLEN=10 $F_RSTART=10 $F_REND=19
[[ $(f $F_SCB "$l") -gt 10 ]] || fail "sc-bytes of the range: $(f $F_SCB "$l")"
l=$(line "$id_tls12")
expect_fields "$l" $F_SSLP=TLSv1.2
expect_match "$(f $F_SSLC "$l")" '^ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$'
pass "HEAD (no body bytes), a Range (206, 10-19), TLSv1.2 with an OpenSSL cipher name"

l=$(line "$id_slow")
awk -v t="$(f $F_TAKEN "$l")" -v b="$(f $F_TTFB "$l")" \
	'BEGIN { exit !(t >= 1.0 && t < 10 && b >= 1.0 && b <= t) }' ||
	fail "time-taken $(f $F_TAKEN "$l") / time-to-first-byte $(f $F_TTFB "$l") of a 1 s origin"
pass "a 1 s origin: time-taken and time-to-first-byte over 1.000"

l=$(line "$id_400")
expect_fields "$l" $F_METHOD=GET $F_STATUS=400 $F_STEM=/ $F_UA=raw $F_RESULT=Error \
	$F_RRESULT=Error $F_DRESULT=InvalidRequest $F_HOST=edge.test
l=$(line "$id_501")
expect_fields "$l" $F_METHOD=PROPFIND $F_STATUS=501 $F_STEM=/dav $F_RESULT=Error \
	$F_DRESULT=InvalidRequestMethod
l=$(line "$id_301")
expect_fields "$l" $F_STATUS=301 $F_PROTO=http $F_SSLP=- $F_SSLC=- $F_RESULT=Redirect \
	$F_RRESULT=Redirect $F_DRESULT=Redirect $F_STEM=/old/page $F_QUERY=p=1 \
	$F_HOST="edge.test:$HTTP_PORT"
pass "refused requests (InvalidRequest, InvalidRequestMethod), the plain-HTTP redirect"

# ---- SIGUSR1 after logrotate's move, with requests running ----
n1=$(datalines "$LOG")
(
	for i in $(seq 1 40); do
		ecurl -o /dev/null "/index.html?rot=$i" || exit 1
	done
) &
loop=$!
sleep 0.3
mv "$LOG" "$LOG.1"
kill -USR1 "$EDGE_PID"
wait_log edge access_log.reopened
wait "$loop" || fail "a request failed during the reopen"
for i in 1 2 3; do
	eget "/index.html?after=$i"
	rid
done
wait_lines 3 "$LOG"
wait_lines $((n1 + 43)) "$LOG.1" "$LOG"
expect_eq "$(sed -n 1p "$LOG")" "#Version: 1.0" "first line of the reopened log"
expect_match "$(sed -n 2p "$LOG")" '^#Fields: date time x-edge-location '
expect_eq "$(grep -c '^#' "$LOG.1")" 2 "header lines of the rotated log"
rot=$(cat "$LOG.1" "$LOG" | awk -F'\t' '$12 ~ /^rot=/ { print $12 }')
expect_eq "$(printf '%s\n' "$rot" | sort -u | wc -l)" 40 "distinct rot= requests logged"
expect_eq "$(printf '%s\n' "$rot" | wc -l)" 40 "rot= lines (each request once)"
expect_eq "$(awk -F'\t' '$12 ~ /^after=/' "$LOG" | wc -l)" 3 "requests after the reopen in the new file"
for id in "${IDS[@]:0:$n1}"; do
	line "$id" "$LOG.1" >/dev/null
done
note "rot= lines: $(grep -c 'rot=' "$LOG.1") in the rotated file, $(grep -c 'rot=' "$LOG") in the new one"
pass "SIGUSR1: a new file with the header, every request in exactly one file"

# ---- a reopen that fails keeps the old file ----
mv "$LOG" "$LOG.2"
mkdir "$LOG"
kill -USR1 "$EDGE_PID"
wait_log edge access_log.reopen_failed
n2=$(datalines "$LOG.2")
eget "/index.html?kept=1"
rid
id_kept=$ID
wait_lines $((n2 + 1)) "$LOG.2"
line "$id_kept" "$LOG.2" >/dev/null
rmdir "$LOG"
kill -USR1 "$EDGE_PID"
wait_count edge access_log.reopened 2
eget "/index.html?new=1"
rid
id_new=$ID
wait_lines 1 "$LOG"
line "$id_new" "$LOG" >/dev/null
expect_eq "$(sed -n 1p "$LOG")" "#Version: 1.0" "first line after the second reopen"
pass "a failed reopen (a directory in the way) keeps writing to the old file; the next SIGUSR1 works"

# every request of the run, exactly once over the three files
for id in "${IDS[@]}"; do
	line "$id" "$LOG.1" "$LOG.2" "$LOG" >/dev/null
done
total=$(datalines "$LOG.1" "$LOG.2" "$LOG")
expect_eq "$total" $((${#IDS[@]} + 40)) "request lines over the three files"

# ---- GoAccess reads it all ----
RC=0
timeout "$CMD_TIMEOUT" goaccess "$LOG.1" "$LOG.2" "$LOG" --no-global-config \
	--log-format=CLOUDFRONT --date-format=CLOUDFRONT --time-format=CLOUDFRONT \
	--invalid-requests="$T/goaccess-invalid.log" -o "$T/goaccess.json" \
	>"$T/goaccess.out" 2>&1 </dev/null || RC=$?
[[ $RC -eq 0 ]] || fail "goaccess exit code $RC: $(_show "$(cat "$T/goaccess.out")")"
ga=$(<"$T/goaccess.json")
json_valid "$ga"
expect_eq "$(json_raw "$ga" total_requests)" "$total" "GoAccess total_requests"
expect_eq "$(json_raw "$ga" failed_requests)" 0 \
	"GoAccess failed_requests ($(_show "$(cat "$T/goaccess-invalid.log" 2>/dev/null)"))"
expect_eq "$(json_raw "$ga" valid_requests)" "$total" "GoAccess valid_requests"
pass "GoAccess (CLOUDFRONT formats) parses all $total lines, none failed"

# ---- an origin that cannot be reached ----
DEAD=$(free_port)
start_edged dead --origin "https://127.0.0.1:$DEAD" --origin-connection-attempts 1 \
	--access-log "$T/dead-access.log"
eget /x
expect_eq "$CODE" 502 "status when the origin refuses connections"
id_dead=$(header X-Edge-Request-Id)
wait_lines 1 "$T/dead-access.log"
l=$(line "$id_dead" "$T/dead-access.log")
expect_fields "$l" $F_STATUS=502 $F_RESULT=Error $F_RRESULT=Error $F_DRESULT=OriginConnectError \
	$F_LOC=edge-dead
pass "an unreachable origin: 502, OriginConnectError"

# ---- a writer that cannot keep up never holds a request up ----
mkfifo "$T/fifo"
start_bg reader cat "$T/fifo"
READER=${_BG_PIDS[-1]}
start_edged slow --access-log "$T/fifo" --access-log-queue 16 --cache-key-query none
wait_log slow access_log.open
kill -STOP "$READER"
codes=$(ecurl -o /dev/null -w '%{http_code}\n' "/index.html?n=[1-700]")
expect_eq "$(printf '%s\n' "$codes" | grep -c '^200$')" 700 "answers while the log is stuck"
wait_log slow access_log.dropped
kill -CONT "$READER"
stop_bg slow
line_closed=$(grep 'access_log.closed' "$T/slow.log") || fail "no access_log.closed line"
[[ $line_closed =~ written=([0-9]+)\ dropped=([0-9]+) ]] || fail "no counts in: $line_closed"
written=${BASH_REMATCH[1]}
dropped=${BASH_REMATCH[2]}
expect_eq "$((written + dropped))" 700 "written + dropped"
[[ $dropped -gt 0 ]] || fail "nothing dropped with the reader stopped"
wait_bg reader 5
expect_eq "$(datalines "$T/reader.log")" "$written" "lines the reader got"
expect_eq "$(grep -c 'access_log.dropped' "$T/slow.log")" 1 "drop warnings (at most one per 10 s)"
pass "queue full: 700 answers while the log was stuck, $dropped lines dropped and counted, one warning"

# ---- standard output, and a path that cannot be opened ----
start_edged stdout --access-log -
eget -H 'Cookie: session=secret' /index.html
id_out=$(header X-Edge-Request-Id)
for _ in $(seq 1 30); do
	grep -q "	$id_out	" "$T/stdout.log" && break
	sleep 0.1
done
grep -qx '#Version: 1.0' "$T/stdout.log" || fail "no #Version line on standard output"
l=$(grep "	$id_out	" "$T/stdout.log") || fail "no line for $id_out on standard output"
expect_eq "$(printf '%s\n' "$l" | awk -F'\t' '{ print NF }')" 33 "fields on standard output"
expect_eq "$(printf '%s\n' "$l" | awk -F'\t' '{ print $13 }')" "-" \
	"cs(Cookie) with access_log_cookies off (the default)"
kill -USR1 "$EDGE_PID"
wait_log stdout access_log.reopen_skipped
pass "access_log -: the header and the lines on standard output; SIGUSR1 leaves it alone"

RC=0
out=$(timeout "$CMD_TIMEOUT" "$EDGED" --listen-https "127.0.0.1:$(free_port)" \
	--cert "$T/pki/edge.test.chain.pem" --key "$T/pki/edge.test.key" \
	--origin "https://127.0.0.1:$ORIGIN_PORT" --origin-ca "$T/pki/ca.pem" --admin-listen off \
	--access-log "$T/no/such/dir/access.log" 2>&1 </dev/null) || RC=$?
[[ $RC -ne 0 && $RC -lt 124 ]] || fail "edged with an unopenable access log: exit code $RC"
expect_contains "$out" "key 'access_log': cannot open $T/no/such/dir/access.log: No such file or directory"
pass "an access log that cannot be opened stops edged at start, naming the key and the file"
