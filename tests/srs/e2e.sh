#!/bin/sh
# End to end, in a private network namespace with real DNS (nsd): one
# Postfix plays our MTA (corp.example, 192.0.2.10) and the receiving MTA
# of the outside world (mx.remote.example, 192.0.2.20), each with its own
# modmilterd: ours runs the srs plugin, theirs the spf plugin.
#
#   swaks (203.0.113.5) -> :SMTP (srs: inbound) -> virtual alias
#   fwd@corp.example -> outside@remote.example -> transport: our relay
#   listener 127.0.0.1:RELAY (srs: an internal client, the sender is
#   signed) -> smtp from 192.0.2.10 -> 192.0.2.20:2525 (spf) -> the sink.
#
# - the forwarded message leaves with MAIL FROM SRS0=...@corp.example,
#   which the receiving side's spf plugin checks against corp.example's
#   record (192.0.2.10) and passes; the original sender's domain
#   (origin.example, -all, 203.0.113.0/24 only) would have failed;
# - a bounce from the outside to that SRS address is reversed and
#   reaches alice@origin.example;
# - a forged bounce to an unsigned local address, and a bounce to a
#   tampered SRS address, are refused with 550 5.7.1 (reject_spoofed).
. "${top_srcdir:-.}/tests/lib.sh"
for so in srs spf; do
	[ -f "$PLUGINS/$so.so" ] || { echo "SKIP: $so plugin not built"; exit 77; }
done
. "$top_srcdir/tests/spf/netns.sh"
spf_netns_enter "$0" "$@"
. "$top_srcdir/tests/e2e/lib.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks
e2e_init
spf_netns_up 192.0.2.10 192.0.2.20 203.0.113.5 || e2e_die "cannot add the test addresses"

# --- DNS: the forwarder's and the original sender's SPF records ---
cat > "$E2E_DIR/corp.example.zone" <<'EOZ'
$ORIGIN corp.example.
$TTL 300
@        SOA  ns.corp.example. hostmaster.corp.example. 1 3600 600 86400 60
@        NS   ns.corp.example.
ns       A    127.0.0.1
@        TXT  "v=spf1 ip4:192.0.2.10 -all"
EOZ
cat > "$E2E_DIR/origin.example.zone" <<'EOZ'
$ORIGIN origin.example.
$TTL 300
@        SOA  ns.origin.example. hostmaster.origin.example. 1 3600 600 86400 60
@        NS   ns.origin.example.
ns       A    127.0.0.1
@        TXT  "v=spf1 ip4:203.0.113.0/24 -all"
EOZ
spf_dns_start "$E2E_DIR/dns" "corp.example:$E2E_DIR/corp.example.zone" \
	"origin.example:$E2E_DIR/origin.example.zone" || e2e_die "nsd did not start"
echo "$SPF_NSD_PID nsd" >> "$E2E_PIDS"

# --- our modmilterd: srs ---
umask 077
printf 'e2e secret one\n' > "$E2E_DIR/srs.secret"
umask 022
cat > "$E2E_DIR/ours.yaml" <<EOC
plugin_dir: $PLUGINS
log: { level: info }
networks: { internal: [127.0.0.0/8] }
plugins:
  srs: { module: srs, options: { fwdomain: corp.example,
         secret_file: $E2E_DIR/srs.secret, local_domains: [corp.example],
         sign: relayed, reject_spoofed: true } }
chains:
  - name: all
    plugins: [srs]
EOC
# --- theirs: spf (a fail is refused) ---
cat > "$E2E_DIR/theirs.yaml" <<EOC
plugin_dir: $PLUGINS
log: { level: info }
authserv_id: mx.remote.example
plugins:
  spf: { module: spf, options: { policy: { fail: reject, softfail: reject },
         dns: { timeout: 1s, retries: 1 } } }
chains:
  - name: inbound
    plugins: [spf]
EOC
set -- $(e2e_free_ports 2)
RELAY_PORT=$1
THEIR_PORT=$2
sink_start
e2e_start_modmilterd ours "$E2E_DIR/ours.yaml" || e2e_die "our modmilterd did not start"
OUR_PORT=$E2E_MILTER_PORT
E2E_MILTER_PORT=$THEIR_PORT
E2E_MILTER_SOCKET=inet:$THEIR_PORT@127.0.0.1
e2e_start_modmilterd theirs "$E2E_DIR/theirs.yaml" || e2e_die "their modmilterd did not start"
E2E_MILTER_PORT=$OUR_PORT
E2E_MILTER_SOCKET=inet:$OUR_PORT@127.0.0.1

pf_setup
# mail for remote.example leaves through the relay listener, where our
# milter sees it as an internal client's; everything else goes to the sink
pf_conf "inet_interfaces = 127.0.0.1, 192.0.2.10, 192.0.2.20" \
	"relay_domains = corp.example origin.example remote.example" \
	"smtpd_recipient_restrictions = permit_mynetworks, permit_auth_destination, reject" \
	"smtpd_peername_lookup = no" \
	"virtual_alias_maps = inline:{ fwd@corp.example=outside@remote.example }" \
	"transport_maps = inline:{ remote.example=smtp:[127.0.0.1]:$RELAY_PORT }" \
	"non_smtpd_milters ="
cat >> "$E2E_PF_CONF/master.cf" <<EOF
# our relay: what leaves is signed here, then goes to the receiving MTA
127.0.0.1:$RELAY_PORT inet n - n - - smtpd
  -o smtpd_banner=relay.corp.example
  -o receive_override_options=no_address_mappings
  -o content_filter=smtpout:[192.0.2.20]:2525
smtpout unix - - n - - smtp
  -o smtp_bind_address=192.0.2.10
# the receiving MTA of remote.example, with its own milter (not on port 25:
# Postfix takes its own address and port 25 for a mail loop)
192.0.2.20:2525 inet n - n - - smtpd
  -o smtpd_banner=mx.remote.example
  -o smtpd_milters=inet:127.0.0.1:$THEIR_PORT
  -o smtpd_recipient_restrictions=permit_auth_destination,reject
  -o content_filter=relay:[127.0.0.1]:$E2E_SINK_PORT
EOF
e2e__backdate "$E2E_PF_CONF/master.cf"
pf_start
wait_port 2525 || e2e_die "the receiving listener does not listen"

send() { # send FROM TO SUBJECT: from the outside client 203.0.113.5
	send_mail "$1" "$2" --local-interface 203.0.113.5 --helo client.origin.example \
		--header "Subject: $3"
}

# --- forwarding: SRS0 sender at corp.example, SPF pass on the other side ---
code=$(send alice@origin.example fwd@corp.example 'forwarded') || :
assert_eq "$code" 250 "a message to the forwarding alias is accepted"
srs0=
if wait_sink_count 1 30; then
	f=$(sink_last)
	assert_grep '^Subject: forwarded' "$f" "the forwarded message reached the receiving side"
	assert_grep '^X-Mail-Args: <?SRS0=[^=]{8}=[A-Z2-7]{2}=origin\.example=alice@corp\.example' "$f" \
		"it left with an SRS0 sender at corp.example"
	assert_grep '^Received-SPF: pass .*SRS0=' "$f" "the receiving side's spf plugin passed it"
	assert_grep 'spf=pass smtp\.mailfrom=corp\.example' "$f" "Authentication-Results: spf=pass"
	srs0=$(sed -n 's/^X-Mail-Args: <\{0,1\}\(SRS0=[^> ]*\).*/\1/p' "$f" | head -n 1)
fi
assert_grep 'sender <alice@origin\.example> rewritten to <SRS0=' "$E2E_DIR/ours.log" \
	"our srs plugin logged the rewrite"
assert_grep 'spf=pass' "$E2E_DIR/theirs.log" "their summary line says spf=pass"
# the same sender unsigned, from the same address, fails there: the
# check means something
swaks --server 192.0.2.20 --port 2525 --local-interface 192.0.2.10 \
	--helo mx.example.com --from alice@origin.example --to outside@remote.example \
	--timeout 30 > "$E2E_DIR/unsigned.out" 2>&1
assert_grep '^<\*\* +550 5\.7\.1 .*not allowed to send mail for origin' "$E2E_DIR/unsigned.out" \
	"unsigned, the forwarded sender is refused there (SPF fail)"

# --- a reload in between: the secret is read again, the signature holds ---
if e2e_reload ours; then
	pass "reload (SIGUSR1) of our detached daemon between forwarding and the bounce"
else
	fail "reload between forwarding and the bounce"
fi

# --- the bounce comes back to alice ---
sink_clear
if [ -n "$srs0" ]; then
	code=$(send '<>' "$srs0" 'bounce of forwarded') || :
	assert_eq "$code" 250 "a bounce to the SRS address is accepted"
	if wait_sink_count 1 30; then
		f=$(sink_last)
		assert_grep '^Subject: bounce of forwarded' "$f" "the bounce was delivered"
		assert_grep '^X-Rcpt-Args: <alice@origin\.example>' "$f" "to the original sender"
	fi
	assert_grep "rcpt <SRS0=.*> reversed to <alice@origin\.example>" "$E2E_DIR/ours.log" \
		"our srs plugin logged the reversal"
	bad=$(printf '%s\n' "$srs0" | sed 's/=alice@/=mallory@/')
	code=$(send '<>' "$bad" 'bounce to a tampered address') || :
	assert_eq "$code" 550 "a bounce to a tampered SRS address is refused"
	assert_match "$(last_reply)" '^550 5\.7\.1 .*invalid SRS signature' "550 5.7.1 invalid SRS signature"
else
	fail "no SRS address to bounce to"
fi

# --- a forged bounce to an unsigned local address ---
code=$(send '<>' dave@corp.example 'backscatter') || :
assert_eq "$code" 550 "a bounce to an unsigned local address is refused"
assert_match "$(last_reply)" '^550 5\.7\.1 ' "with 550 5.7.1"
code=$(send alice@origin.example dave@corp.example 'ordinary mail') || :
assert_eq "$code" 250 "ordinary mail to the same address is accepted"
e2e_done
