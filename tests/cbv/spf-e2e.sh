#!/bin/sh
# End to end, in a private network namespace: swaks (from 203.0.113.9) ->
# Postfix -> modmilterd with the real spf and cbv plugins in one chain ->
# the next hop. nsd serves the cbv peers' zone (example.net, tests/cbv/lib.sh)
# and the senders' zone (example.org, with SPF records).
# - an SPF softfail sender whose MX (an smtp-sink peer) accepts the RCPT is
#   verified by callback and delivered with Received-SPF: softfail and
#   Authentication-Results spf=softfail;
# - an SPF softfail sender whose MX refuses the RCPT (-f RCPT) is refused
#   with 550 5.1.7 quoting the peer's answer;
# - an SPF pass sender (its MX the same accepting peer) is delivered and
#   never probed: the peer (smtp-sink -v) had no RCPT for it and no
#   connection but the first sender's probe, cbv logged no probe and
#   modmilter-cbv finds no entry.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/cbv/lib.sh"
for so in spf cbv; do
	[ -f "$PLUGINS/$so.so" ] || { echo "SKIP: $so plugin not built"; exit 77; }
done
cbv_enter_netns "$@"
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/spf/netns.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks
e2e_init
mkdir -p "$E2E_DIR/cbv"
cbv_net_setup "$E2E_DIR/cbv"
# sink() leaves $sinkNN naming the smtp-sink process itself
peers=''
track() { # track PID...
	for t in "$@"; do
		echo "$t cbvnet" >> "$E2E_PIDS"
		peers="$peers $t"
	done
}
listeners25() { inpeer ss -ltn | grep -c '192\.0\.2\.25:25 '; }
track $pids
spf_netns_up 203.0.113.9 || e2e_die "cannot add the client's address"

# the accepting peer again, showing its SMTP conversations (who was probed)
kill "$sink25"; wait "$sink25" 2>/dev/null
i=0
while [ "$(listeners25)" != 0 ]; do
	i=$((i + 1)); [ $i -le 50 ] || e2e_die "smtp-sink on 192.0.2.25 did not stop"
	sleep 0.1
done
sink 25 -v
i=0
while [ "$(listeners25)" != 1 ]; do
	i=$((i + 1)); [ $i -le 50 ] || e2e_die "smtp-sink -v on 192.0.2.25 did not start"
	sleep 0.1
done
track "$sink25"
stop_peers() { # smtp-sink takes a while to go: all at once, not one by one
	kill $peers 2>/dev/null
	for p in $peers; do wait "$p" 2>/dev/null; done
}

# The senders' zone, served together with the peers' zone: the nsd of
# cbv_net_setup gives way to one that serves both.
cat > "$E2E_DIR/example.org.zone" <<'EOZ'
$ORIGIN example.org.
$TTL 300
@        SOA  ns.example.org. hostmaster.example.org. 1 3600 600 86400 60
@        NS   ns.example.org.
ns       A    127.0.0.1
softok   TXT  "v=spf1 ip4:192.0.2.0/24 ~all"
softok   MX   10 mx-ok.example.net.
softbad  TXT  "v=spf1 ~all"
softbad  MX   10 mx-bad.example.net.
pass     TXT  "v=spf1 ip4:203.0.113.0/24 -all"
pass     MX   10 mx-ok.example.net.
EOZ
kill "$nsdpid"; wait "$nsdpid" 2>/dev/null
umount /etc/resolv.conf
spf_dns_start "$E2E_DIR/dns" "example.net:$tmp/example.net.zone" \
	"example.org:$E2E_DIR/example.org.zone" || e2e_die "nsd did not start"
echo "$SPF_NSD_PID nsd" >> "$E2E_PIDS"

cat > "$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
store: $E2E_DIR/store
log: { level: info }
authserv_id: mx.example.com
networks: { internal: [10.0.0.0/8] }
plugins:
  spf: { module: spf, options: { policy: { pass: accept, softfail: verify },
         time_limit: 5s, dns: { timeout: 1s, retries: 1 } } }
  cbv: { module: cbv, options: { verify: flagged, helo_name: mx.example.com,
         local_domains: [example.com], step_timeout: 3s, probe_timeout: 6s,
         dns_timeout: 1s, allow_networks: [192.0.2.0/24] } }
chains:
  - name: inbound
    plugins: [spf, cbv]
EOC
sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" ||
	e2e_die "modmilterd did not start"
pf_setup
pf_conf "mynetworks = 127.0.0.0/8 203.0.113.0/24" "smtpd_peername_lookup = no"
pf_start

send() { # send FROM SUBJECT: from the external client 203.0.113.9
	send_mail "$1" bob@example.com --local-interface 203.0.113.9 \
		--helo client.example.org --header "Subject: $2"
}
# peer_saw ADDRESS: the accepting peer got a RCPT TO naming ADDRESS
peer_saw() {
	grep -qiF "RCPT TO:<$1>" "$tmp/sink25.log"
}
CBV="$top_builddir/modmilter-cbv"

# --- softfail, the sender's MX accepts: verified, delivered ---
rc=0; code=$(send alice@softok.example.org 'softfail verified') || rc=$?
assert_eq "$code" 250 "SPF softfail, MX accepts the sender: accepted"
if wait_sink_count 1 20; then
	f=$(sink_last)
	assert_grep '^Subject: softfail verified' "$f" "delivered to the next hop"
	assert_grep '^Received-SPF: softfail \(mx\.example\.com: .*alice@softok\.example\.org' \
		"$f" "Received-SPF: softfail at the next hop"
	assert_grep 'spf=softfail smtp\.mailfrom=softok\.example\.org' "$f" \
		"Authentication-Results: spf=softfail"
fi
assert_grep 'result=softfail .*action=verify' "$E2E_DIR/modmilterd.log" "spf asked for verification"
assert_grep 'probe of alice@softok\.example\.org: OK' "$E2E_DIR/modmilterd.log" "cbv probed the sender"
if peer_saw alice@softok.example.org; then
	pass "the sender's MX got the callback"
else
	fail "the sender's MX got no callback for alice@softok.example.org"
fi

# --- softfail, the sender's MX refuses the RCPT: 550 5.1.7 ---
rc=0; code=$(send bob@softbad.example.org 'softfail refused') || rc=$?
assert_eq "$code" 550 "SPF softfail, MX refuses the sender: 550"
assert_match "$(last_reply)" '^550 5\.1\.7 Sender address <bob@softbad\.example\.org> rejected: .*RCPT TO: 5[0-9][0-9]' \
	"550 5.1.7 quoting the peer's answer"

# --- pass: delivered, never probed ---
rc=0; code=$(send carol@pass.example.org 'spf pass') || rc=$?
assert_eq "$code" 250 "SPF pass: accepted"
if wait_sink_count 2 20; then
	f=$(sink_last)
	assert_grep '^Subject: spf pass' "$f" "SPF pass: delivered to the next hop"
	assert_grep '^Received-SPF: pass ' "$f" "Received-SPF: pass at the next hop"
fi
if peer_saw carol@pass.example.org; then
	fail "the pass sender's MX was called back"
else
	pass "the pass sender's MX got no callback"
fi
assert_eq "$(grep -c '^smtp-sink: connect ' "$tmp/sink25.log")" 1 \
	"the accepting peer had one connection in all (alice's probe)"
assert_not_grep 'probe of carol@|carol@pass\.example\.org: verified' "$E2E_DIR/modmilterd.log" \
	"cbv logged no probe of the pass sender"
if [ -x "$CBV" ]; then
	if "$CBV" -c "$E2E_DIR/modmilter.yaml" query carol@pass.example.org > "$E2E_DIR/query.out" 2>&1; then
		fail "modmilter-cbv has an entry for the pass sender: $(cat "$E2E_DIR/query.out")"
	else
		pass "modmilter-cbv: no entry for the pass sender"
	fi
	if "$CBV" -c "$E2E_DIR/modmilter.yaml" query alice@softok.example.org > "$E2E_DIR/query.out" 2>&1 &&
	   grep -q OK "$E2E_DIR/query.out"; then
		pass "modmilter-cbv: the verified sender is cached OK"
	else
		fail "modmilter-cbv: the verified sender is not cached OK: $(cat "$E2E_DIR/query.out")"
	fi
fi
stop_peers
e2e_done
