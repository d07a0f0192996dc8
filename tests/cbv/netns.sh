#!/bin/sh
# Callback verification against real parts, in a private network namespace:
# nsd serves the sender domains on 127.0.0.1, smtp-sink peers listen on
# documentation addresses in a second namespace reached over a veth pair
# (so that they are not our own addresses), and modmilter-test runs a
# chain "flag the sender (testplug) -> cbv" in-process.
#   accepting peer -> accepted, cached (a second message makes no probe,
#   even with the peer gone); -f RCPT peer -> 550 5.1.7; -r RCPT peer ->
#   451 4.4.3 and DEFER cached; a hanging peer -> the deadline holds;
#   null MX -> 550; an MX answer over 4 KB (TCP) -> the right MX list;
#   MX on 127.0.0.1 or on our own address -> refused;
#   no such domain -> 550; DNS down -> 451; a DSN reaches the peer and a
#   refused DSN is a 550; notices only to senders with SPF pass for their
#   domain, within the caps shared through the store; the headers quoted
#   are whole fields within dsn_headers_max; our own domain is never
#   probed, however the sender or local_domains write it.
. "${top_srcdir:-.}/tests/lib.sh"
PATH=$PATH:/usr/sbin:/sbin

. "$top_srcdir/tests/cbv/lib.sh"
cbv_enter_netns "$@"
cbv_net_setup

# --- the chain ---
mkconf() { # mkconf FILE EXTRA-CBV-OPTIONS [PLUGINS-BEFORE-CBV]
	cat > "$1" <<EOC
plugin_dir: $PLUGINS
store: $tmp/store
log: { level: info }
authserv_id: mx.example.com
networks: { internal: [10.0.0.0/8] }
plugins:
  flag: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.verify, value: "1" } } }
  spfpass: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.result, value: pass } } }
  spfdom: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.domain, value: dsn.example.net } } }
  cbv: { module: cbv, options: { helo_name: mx.example.com, local_domains: [example.com],
         step_timeout: 2s, probe_timeout: 4s, dns_timeout: 1s, rate: 100,
         allow_networks: [192.0.2.0/24],
         template_dir: $top_srcdir/plugins/cbv/templates $2 } }
chains:
  - name: in
    plugins: [flag, ${3-}cbv]
EOC
}
mkconf "$tmp/c.yaml" ""
mkconf "$tmp/dsn.yaml" ", action: dsn, template: softfail, db: cbvdsn, dsn_senders: any"
printf 'From: <x@example.net>\r\nTo: <bob@example.com>\r\nSubject: hello there\r\n\r\nHi.\r\n' > "$tmp/m.eml"

# check NAME CONFIG FROM WANT-EXIT [PATTERN...]
check() {
	name=$1 conf=$2 from=$3 want=$4; shift 4
	t0=$(date +%s)
	"$MODMILTER_TEST" -c "$conf" --from "$from" --rcpt bob@example.com \
	    --client-ip 198.51.100.9 --helo client.example.org --verbose "${msg:-$tmp/m.eml}" > "$tmp/out" 2>&1
	rc=$?
	elapsed=$(($(date +%s) - t0))
	good=1
	[ "$rc" = "$want" ] || { echo "  exit $rc, wanted $want"; good=0; }
	for p in "$@"; do
		grep -qE -- "$p" "$tmp/out" || { echo "  missing: $p"; good=0; }
	done
	if [ $good = 1 ]; then ok "$name (${elapsed}s)"; else ko "$name"; sed 's/^/  | /' "$tmp/out"; fi
}

check "accepting peer: accepted" "$tmp/c.yaml" alice@ok.example.net 0 \
	'probe of alice@ok.example.net: OK' '^verdict: (accept|continue)'
kill "$sink25"; wait "$sink25" 2>/dev/null
check "second message: cached, no probe (peer gone)" "$tmp/c.yaml" alice@ok.example.net 0 \
	'alice@ok.example.net: verified \(cached\)'
if grep -q 'probe of' "$tmp/out"; then ko "a cached sender was probed again"; else ok "no new probe"; fi
sink 25
check "rejecting peer (-f RCPT): 550 5.1.7" "$tmp/c.yaml" bob@bad.example.net 2 \
	'reject 550 5\.1\.7 Sender address <bob@bad.example.net> rejected: .*RCPT TO: 5[0-9][0-9]'
check "soft peer (-r RCPT): 451 4.4.3" "$tmp/c.yaml" carol@soft.example.net 3 \
	'tempfail 451 4\.4\.3 .*RCPT TO: 4[0-9][0-9]'
check "soft peer: DEFER cached" "$tmp/c.yaml" carol@soft.example.net 3 \
	'carol@soft.example.net: 451 4\.4\.3 .*\(cached\)'
t0=$(date +%s)
check "hanging peer (-W RCPT:30): deadline" "$tmp/c.yaml" dave@hang.example.net 3 \
	'tempfail 451 4\.4\.3'
[ "$elapsed" -le 6 ] && ok "hanging peer: answered in ${elapsed}s (probe_timeout 4s)" ||
	ko "hanging peer took ${elapsed}s"
check "null MX: 550" "$tmp/c.yaml" eve@nullmx.example.net 2 'reject 550 5\.1\.7 .*null MX'
check "MX on 127.0.0.1: refused" "$tmp/c.yaml" fred@loop.example.net 2 \
	'reject 550 .*127\.0\.0\.1.*loopback'
check "MX on our own address: refused" "$tmp/c.yaml" gina@self.example.net 2 \
	'reject 550 .*192\.0\.2\.1\].*our own'
# without allow_networks the lab's documentation addresses are what they
# are in the wild: special-purpose, never probed
mkconf "$tmp/nolab.yaml" ", db: cbvnolab"
sed -i '/allow_networks/d' "$tmp/nolab.yaml"
check "MX on a documentation address (RFC 5737): refused" "$tmp/nolab.yaml" amy@ok.example.net 2 \
	'reject 550 .*192\.0\.2\.25\].*RFC 5737'
mkconf "$tmp/badnet.yaml" ""
sed -i 's|allow_networks: \[192.0.2.0/24\]|allow_networks: [192.0.2.1/24]|' "$tmp/badnet.yaml"
check "allow_networks with host bits: configuration error at its line" "$tmp/badnet.yaml" \
	amy@ok.example.net 1 'badnet\.yaml:[0-9]+:[0-9]+: .*allow_networks: .192\.0\.2\.1/24. is not a network'
check "no such domain: 550" "$tmp/c.yaml" hal@nosuch.example.net 2 'reject 550 .*does not exist'
check "implicit MX (A only): accepted" "$tmp/c.yaml" ian@implicit.example.net 0 'probe of ian@implicit.example.net: OK'
check "first MX dead, second answers" "$tmp/c.yaml" jo@backup.example.net 0 'probe of jo@backup.example.net: OK'
check "dead MX: 451" "$tmp/c.yaml" kim@dead.example.net 3 'tempfail 451 4\.4\.3 .*[Cc]onnect'
# an MX answer larger than the first 4 KB buffer (truncated over UDP, so
# the resolver asks over TCP): the whole list is read, the best MX wins
check "MX answer over 4 KB: right MX list" "$tmp/c.yaml" zed@big.example.net 0 \
	'probe of zed@big.example.net: OK'
# the per-domain rate is kept in the store: separate processes (here,
# one modmilter-test each) share it, as hosts sharing a store would
mkconf "$tmp/rate.yaml" ", db: cbvrate"
sed -i 's/rate: 100,/rate: 1,/' "$tmp/rate.yaml"
check "rate 1/min: first probe of a domain" "$tmp/rate.yaml" una@implicit.example.net 0 \
	'probe of una@implicit.example.net: OK'
check "rate 1/min: another process, same domain: 451" "$tmp/rate.yaml" vic@implicit.example.net 3 \
	'tempfail 451 4\.4\.3 .*probe rate limit'
check "rate 1/min: another domain is probed" "$tmp/rate.yaml" wes@backup.example.net 0 \
	'probe of wes@backup.example.net: OK'
check "our own domain: never probed" "$tmp/c.yaml" me@example.com 0
if grep -q 'probe of' "$tmp/out"; then ko "own domain probed"; else ok "own domain not probed"; fi
# our own domain written so that a byte comparison misses it: a trailing
# dot, a source route, needless quotes, upper case; and listed that way
sed 's/local_domains: \[example.com\]/local_domains: [Example.COM.]/' "$tmp/c.yaml" > "$tmp/own.yaml"
for f in me@example.com. @relay.example.net:me@example.com '"me"@example.com' me@EXAMPLE.COM; do
	for conf in c own; do
		check "our own domain written $f ($conf.yaml): never probed" "$tmp/$conf.yaml" "$f" 0
		if grep -q 'probe of' "$tmp/out"; then ko "own domain written $f probed"
		else ok "own domain written $f not probed"; fi
	done
done
sed 's/local_domains: \[example.com\]/local_domains: [example..com]/' "$tmp/c.yaml" > "$tmp/bad.yaml"
"$MODMILTER_TEST" -c "$tmp/bad.yaml" "$tmp/m.eml" > "$tmp/out" 2>&1
if [ $? = 1 ] && grep -qE "^$tmp/bad.yaml:[0-9]+:[0-9]+: local_domains: 'example\.\.com' is not a domain" "$tmp/out"
then ok "a malformed local domain is a configuration error"
else ko "a malformed local domain is a configuration error"; sed 's/^/  | /' "$tmp/out"; fi
check "null sender: never probed" "$tmp/c.yaml" "" 0
if grep -q 'probe of' "$tmp/out"; then ko "null sender probed"; else ok "null sender not probed"; fi

# DSN mode: the notice reaches the peer, RFC 3464 shaped
rm -f "$tmp"/dumps/25.*
check "dsn: notice accepted" "$tmp/dsn.yaml" mia@dsn.example.net 0 'notice to mia@dsn.example.net: OK'
f=$(ls "$tmp"/dumps/25.* 2>/dev/null | head -1)
if [ -n "$f" ] && grep -q '^Auto-Submitted: auto-replied' "$f" &&
   grep -q 'report-type=delivery-status' "$f" && grep -q '^Final-Recipient: rfc822; bob@example.com' "$f" &&
   grep -q 'Subject: hello there' "$f" && grep -q '^Content-Type: message/delivery-status' "$f"; then
	ok "dsn: the peer got a multipart/report notice"
else
	ko "dsn: no proper notice at the peer"; [ -n "$f" ] && sed 's/^/  | /' "$f"
fi
check "dsn: second message, no second notice" "$tmp/dsn.yaml" mia@dsn.example.net 0 'verified \(cached\)'
check "dsn refused at end of DATA: 550" "$tmp/dsn.yaml" ned@nodsn.example.net 2 'reject 550 5\.1\.7 .*end of DATA: 5'

# notices go only to authenticated senders (SPF pass for their own domain)
mkconf "$tmp/dsnauth.yaml" ", action: dsn, template: softfail, db: cbvauth"
check "dsn: sender without SPF pass: no notice, logged" "$tmp/dsnauth.yaml" rex@dsn.example.net 0 \
	'no notice to rex@dsn\.example\.net: sender not authenticated: SPF not checked'
if grep -q 'notice to rex@dsn.example.net: OK' "$tmp/out"; then ko "dsn: notice sent to an unauthenticated sender"; fi
mkconf "$tmp/dsnpass.yaml" ", action: dsn, template: softfail, db: cbvauth" "spfpass, spfdom, "
check "dsn: SPF pass for the sender's domain: notice sent" "$tmp/dsnpass.yaml" rex@dsn.example.net 0 \
	'notice to rex@dsn\.example\.net: OK'
check "dsn: SPF pass for another domain: no notice" "$tmp/dsnpass.yaml" sam@ok.example.net 0 \
	'no notice to sam@ok\.example\.net: sender not authenticated: SPF pass is for dsn\.example\.net'

# the caps are counted in the store: each message here is a separate
# process, as hosts sharing a store would be
mkconf "$tmp/cap.yaml" ", action: dsn, template: softfail, db: cbvcap, dsn_senders: any,
         dsn_limit: { total: 3, per_domain: 2, period: 1h }"
for u in c1 c2; do
	check "dsn cap: notice to $u@dsn.example.net" "$tmp/cap.yaml" $u@dsn.example.net 0 \
		"notice to $u@dsn\\.example\\.net: OK"
done
check "dsn cap: a third notice to one domain: refused, logged" "$tmp/cap.yaml" c3@dsn.example.net 0 \
	'no notice to c3@dsn\.example\.net: 2 notices to dsn\.example\.net within 3600s \(dsn_limit per_domain\)'
check "dsn cap: another domain still gets one" "$tmp/cap.yaml" c4@ok.example.net 0 \
	'notice to c4@ok\.example\.net: OK'
check "dsn cap: the total reached: refused, logged" "$tmp/cap.yaml" c5@ok2.example.net 0 \
	'no notice to c5@ok2\.example\.net: 3 notices within 3600s \(dsn_limit total\)'
# the same on Redis, the store several hosts would share
if command -v redis-server > /dev/null 2>&1 &&
   grep -q '^#define HAVE_HIREDIS 1' "$top_builddir/config.h" 2>/dev/null; then
	redis-server --port 0 --unixsocket "$tmp/redis.sock" --save '' --appendonly no \
		> "$tmp/redis.log" 2>&1 &
	pids="$pids $!"
	i=0; while [ ! -S "$tmp/redis.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	mkconf "$tmp/rcap.yaml" ", action: dsn, template: softfail, db: cbvcap, dsn_senders: any,
         dsn_limit: { total: 3, per_domain: 2, period: 1h }"
	sed -i "s|^store: .*|store: { backend: redis, socket: $tmp/redis.sock }|" "$tmp/rcap.yaml"
	for u in r1 r2; do
		check "dsn cap on Redis: notice to $u@dsn.example.net" "$tmp/rcap.yaml" $u@dsn.example.net 0 \
			"notice to $u@dsn\\.example\\.net: OK"
	done
	check "dsn cap on Redis: a third notice to one domain: refused" "$tmp/rcap.yaml" r3@dsn.example.net 0 \
		'no notice to r3@dsn\.example\.net: 2 notices to dsn\.example\.net within 3600s \(dsn_limit per_domain\)'
else
	echo "SKIP: dsn caps on Redis (no redis-server or hiredis)"
fi
mkconf "$tmp/badcap.yaml" ", action: dsn, template: softfail, dsn_limit: { total: 3, per_domain: 9 }"
check "dsn_limit per_domain over total: configuration error at its line" "$tmp/badcap.yaml" \
	c6@ok.example.net 1 'badcap\.yaml:[0-9]+:[0-9]+: per_domain \(9\) must not exceed total \(3\)'

# only whole header fields of the original, up to dsn_headers_max
{
	printf 'From: <x@example.net>\r\nTo: <bob@example.com>\r\nSubject: big headers\r\n'
	i=10
	while [ $i -lt 99 ]; do printf 'X-Pad-%02d: %090d\r\n' $i 0; i=$((i + 1)); done
	printf '\r\nHi.\r\n'
} > "$tmp/big.eml"
mkconf "$tmp/hdr.yaml" ", action: dsn, template: softfail, db: cbvhdr, dsn_senders: any,
         dsn_headers_max: 1024"
rm -f "$tmp"/dumps/25.*
msg="$tmp/big.eml" check "dsn: message with 9 KB of headers: notice sent" "$tmp/hdr.yaml" \
	hdr@dsn.example.net 0 'notice to hdr@dsn\.example\.net: OK'
f=$(ls "$tmp"/dumps/25.* 2>/dev/null | head -1)
if [ -n "$f" ] && python3 - "$f" > "$tmp/hdrcheck" 2>&1 <<'EOP'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
part = [p for p in m.walk() if p.get_content_type() == 'text/rfc822-headers'][0]
q = part.get_payload(decode=True).decode().replace('\r\n', '\n')
print(len(q), 'bytes quoted')
lines = q.splitlines()
assert len(q) <= 1024, 'over dsn_headers_max'
assert lines[0] == 'From: <x@example.net>', lines[0]
assert all(re.fullmatch(r'X-Pad-\d\d: 0{90}|From: .*|To: .*|Subject: big headers', l) for l in lines), 'a field cut'
assert 'X-Pad-98' not in q
EOP
then ok "dsn: headers quoted whole, within dsn_headers_max ($(head -1 "$tmp/hdrcheck"))"
else ko "dsn: quoted headers"; cat "$tmp/hdrcheck" 2>/dev/null; fi

# DNS down: a deliberate temporary failure
kill "$nsdpid"; wait "$nsdpid" 2>/dev/null
check "DNS down: 451" "$tmp/c.yaml" olga@ok2.example.net 3 'tempfail 451 4\.4\.3 .*DNS'

# the store unusable: a deliberate temporary failure
mkconf "$tmp/nostore.yaml" ""
sed -i "s|^store: .*|store: /proc/nonexistent/store|" "$tmp/nostore.yaml"
check "store unusable: 451" "$tmp/nostore.yaml" pat@ok.example.net 3 'tempfail 451 4\.4\.3 .*cache unavailable'

# modmilter-cbv lists, queries and purges what the plugin cached
if [ -x "$top_builddir/modmilter-cbv" ]; then
	CBV="$top_builddir/modmilter-cbv"
	"$CBV" -c "$tmp/c.yaml" list > "$tmp/list" 2>&1
	if grep -q 'alice@ok.example.net.*OK' "$tmp/list" && grep -q 'bob@bad.example.net.*BOUNCE' "$tmp/list" &&
	   grep -q 'carol@soft.example.net.*DEFER' "$tmp/list"; then ok "modmilter-cbv list"; else
		ko "modmilter-cbv list"; sed 's/^/  | /' "$tmp/list"; fi
	# an OK entry lives 31 days: the expiry column is that date
	exp=$(date -u -d '+31 days' +%Y-%m-%d)
	"$CBV" -c "$tmp/c.yaml" query alice@ok.example.net > "$tmp/q" 2>&1 && grep -q OK "$tmp/q" &&
		awk -F'\t' -v d="$exp" '$5 ~ "^" d "T" { f = 1 } END { exit !f }' "$tmp/q" &&
		ok "modmilter-cbv query (with its expiry)" || { ko "modmilter-cbv query"; cat "$tmp/q"; }
	"$CBV" -c "$tmp/c.yaml" purge alice@ok.example.net > "$tmp/q" 2>&1
	if ! "$CBV" -c "$tmp/c.yaml" query alice@ok.example.net > "$tmp/q" 2>&1; then
		ok "modmilter-cbv purge"; else ko "modmilter-cbv purge"; cat "$tmp/q"; fi
	"$CBV" -c "$tmp/c.yaml" list | grep -q 'bob@bad' && "$CBV" -c "$tmp/c.yaml" flush > "$tmp/q" 2>&1 &&
		"$CBV" -c "$tmp/c.yaml" list > "$tmp/list" 2>&1 && [ ! -s "$tmp/list" ] &&
		ok "modmilter-cbv flush" || { ko "modmilter-cbv flush"; cat "$tmp/q" "$tmp/list"; }
fi

[ $fails -eq 0 ]
