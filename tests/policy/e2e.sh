#!/bin/sh
# End to end, in a private network namespace: swaks -> Postfix ->
# modmilterd (spf, policy, dspam) -> smtp-sink, nsd serving the
# correspondents' zone. The auto-whitelist round trip:
# - alice@corp.example, on an internal client (10.0.0.5) and one of
#   whitelist_senders, writes to bob@example.org: delivered, and bob is
#   auto-whitelisted in the store (modmilter-policy finds him, learnt
#   from alice);
# - bob's reply from his domain's server (192.0.2.25, SPF pass) is
#   marked whitelisted: dspam says X-DSPAM-Result: Whitelisted;
# - the same From bob from elsewhere (203.0.113.9, SPF neutral) is not
#   trusted: classified like anyone (X-DSPAM-Result: Innocent here);
# - a zombie on the internal network (a foreign MAIL FROM) is refused
#   550 5.7.1 at the SMTP client, and a forgery of corp.example from
#   outside too.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/spf/netns.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks
for so in spf policy dspam; do
	[ -f "$PLUGINS/$so.so" ] || skip "$so plugin not built"
done
spf_netns_enter "$0" "$@"

spf_netns_up 10.0.0.5 192.0.2.25 203.0.113.9 || e2e_die "cannot set up the namespace's addresses"
e2e_init
cat >"$E2E_DIR/example.org.zone" <<'EOF'
$ORIGIN example.org.
$TTL 300
@        SOA   ns.example.org. hostmaster.example.org. 1 3600 600 86400 60
@        NS    ns.example.org.
ns       A     127.0.0.1
@        TXT   "v=spf1 ip4:192.0.2.0/24 ?all"
@        MX    10 mail.example.org.
mail     A     192.0.2.25
EOF
spf_dns_start "$E2E_DIR/dns" "example.org:$E2E_DIR/example.org.zone" ||
	e2e_die "nsd did not start"

cat >"$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
store: $E2E_DIR/store
log: { level: info }
authserv_id: mx.corp.example
networks: { internal: [127.0.0.0/8, 10.0.0.0/8] }
plugins:
  spf: { module: spf, options: { time_limit: 3s, dns: { timeout: 1s, retries: 1 } } }
  policy: { module: policy, options: { internal_domains: [corp.example],
      whitelist_senders: ["@corp.example"], auto_whitelist_ttl: 30d } }
  dspam: { module: dspam }
chains:
  - name: outbound
    match: { client: internal }
    plugins: [policy]
  - name: inbound
    plugins: [spf, policy, dspam]
EOC
sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" ||
	e2e_die "modmilterd did not start"
pf_setup
pf_conf "mynetworks = 127.0.0.0/8 10.0.0.0/8 192.0.2.0/24 203.0.113.0/24" \
	"smtpd_peername_lookup = no"
pf_start
POLICY="$top_builddir/modmilter-policy"

send() {	# send CLIENT FROM TO SUBJECT
	send_mail "$2" "$3" --local-interface "$1" --helo client.example.org \
		--header "Subject: $4" --header "From: <$2>" \
		--body "Shall we meet on Thursday to go through the figures?"
}

# --- outgoing: alice writes to bob ---
rc=0; code=$(send 10.0.0.5 alice@corp.example bob@example.org 'lunch') || rc=$?
assert_eq "$code" 250 "outgoing mail from alice: accepted"
wait_sink_count 1 30
assert_grep 'auto-whitelist: 1 recipient of <alice@corp\.example> added' \
	"$E2E_DIR/modmilterd.log" "bob learnt at the end of alice's message"
if "$POLICY" -c "$E2E_DIR/modmilter.yaml" whitelist query bob@example.org \
	> "$E2E_DIR/q.out" 2>&1 && grep -q 'by=alice@corp.example' "$E2E_DIR/q.out"; then
	pass "modmilter-policy: bob is auto-whitelisted, learnt from alice"
else
	fail "modmilter-policy: bob not in the auto-whitelist: $(cat "$E2E_DIR/q.out")"
fi

# --- a reload in between: what was learnt lives in the store ---
if e2e_reload modmilterd; then
	pass "reload (SIGUSR1) of the detached daemon between learning and the reply"
else
	fail "reload between learning and the reply"
fi

# --- bob's reply from his own server: SPF pass, whitelisted ---
rc=0; code=$(send 192.0.2.25 bob@example.org alice@corp.example 'Re: lunch') || rc=$?
assert_eq "$code" 250 "bob's reply with SPF pass: accepted"
wait_sink_count 2 30
f=$(sink_last)
assert_grep '^Subject: Re: lunch' "$f" "the reply reached the next hop"
assert_grep '^Received-SPF: pass ' "$f" "SPF pass for bob"
assert_grep '^X-DSPAM-Result: Whitelisted' "$f" "bob with SPF pass: whitelisted (dspam)"

# --- the same sender from elsewhere: SPF neutral, not trusted ---
rc=0; code=$(send 203.0.113.9 bob@example.org alice@corp.example 'Re: lunch (2)') || rc=$?
assert_eq "$code" 250 "bob from elsewhere (SPF neutral): accepted"
wait_sink_count 3 30
f=$(sink_last)
assert_grep '^Received-SPF: neutral ' "$f" "SPF neutral for bob from elsewhere"
assert_not_grep '^X-DSPAM-Result: Whitelisted' "$f" "without SPF pass: not whitelisted"
assert_grep '^X-DSPAM-Result: ' "$f" "without SPF pass: classified by dspam"
assert_grep 'auto-whitelisted but SPF did not pass' "$E2E_DIR/modmilterd.log" \
	"the untrusted whitelisted sender logged"

# --- a zombie inside, a forgery outside ---
rc=0; code=$(send 10.0.0.5 winner@lottery.example bob@example.org 'you won') || rc=$?
assert_eq "$code" 550 "zombie: refused"
assert_match "$(last_reply)" '^550 5\.7\.1 ' "zombie: 550 5.7.1"
rc=0; code=$(send 203.0.113.9 ceo@corp.example alice@corp.example 'wire money') || rc=$?
assert_eq "$code" 550 "forged corp.example from outside: refused"
e2e_done
