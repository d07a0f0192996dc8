#!/bin/sh
# End to end, in a private network namespace: swaks -> Postfix ->
# modmilterd (spf) -> smtp-sink, with nsd serving the test zone.
# - an SPF pass is delivered with Received-SPF (naming the MTA, from its
#   macro j) and Authentication-Results;
# - an SPF fail is refused at the SMTP client with 550 5.7.1 and the
#   domain's own explanation (exp=);
# - an internal client is not checked;
# - with the zone server stopped (queries refused) the sender gets 451
#   4.4.3, and with a server that never answers too, within the time
#   limit: a DNS outage is a temporary failure, never a pass.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/spf/netns.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks perl
[ -f "$PLUGINS/spf.so" ] || skip "spf plugin not built"
spf_netns_enter "$0" "$@"

spf_netns_up 192.0.2.25 203.0.113.9 || e2e_die "cannot set up the namespace's addresses"
e2e_init
cat >"$E2E_DIR/example.org.zone" <<'EOF'
$ORIGIN example.org.
$TTL 300
@        SOA   ns.example.org. hostmaster.example.org. 1 3600 600 86400 60
@        NS    ns.example.org.
ns       A     127.0.0.1
@        TXT   "v=spf1 ip4:192.0.2.0/24 -all"
mail     A     192.0.2.25
mail     TXT   "v=spf1 a -all"
fail     TXT   "v=spf1 ip4:198.51.100.0/24 -all exp=why.example.org"
why      TXT   "Host %{i} is not a mail server of %{d}, see https://example.org/spf"
down1    TXT   "v=spf1 ip4:192.0.2.0/24 -all"
down2    TXT   "v=spf1 ip4:192.0.2.0/24 -all"
EOF
spf_dns_start "$E2E_DIR/dns" "example.org:$E2E_DIR/example.org.zone" ||
    e2e_die "nsd did not start"

mport=$(e2e_free_ports 1)
cat >"$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
store: $E2E_DIR/store
metrics: { listen: 127.0.0.1:$mport }
authserv_id: mx.example.com
networks: { internal: [127.0.0.0/8] }
plugins:
  spf: { module: spf, options: { time_limit: 3s,
         dns: { timeout: 1s, retries: 1 } } }
chains:
  - name: inbound
    plugins: [spf]
EOC
sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" ||
    e2e_die "modmilterd did not start"
pf_setup
pf_conf "mynetworks = 127.0.0.0/8 192.0.2.0/24 203.0.113.0/24" \
    "smtpd_peername_lookup = no"
pf_start

from_ext() {	# from_ext ADDR FROM: send from that client address
    send_mail "$2" bob@example.com --local-interface "$1" --helo mail.example.org \
        --header 'Subject: spf e2e'
}

rc=0; code=$(from_ext 192.0.2.25 alice@example.org) || rc=$?
assert_eq "$code" 250 "SPF pass: accepted"
wait_sink_count 1 30
f=$(sink_last)
assert_grep '^Received-SPF: pass \(mx\.example\.com: domain of alice@example\.org designates 192\.0\.2\.25 as permitted sender\)' \
    "$f" "Received-SPF: pass at the next hop"
assert_grep 'identity=mailfrom; mechanism="ip4:192\.0\.2\.0/24";' "$f" "Received-SPF names the mechanism"
assert_grep '^Authentication-Results: mx\.example\.com;' "$f" "Authentication-Results header"
assert_grep 'spf=pass smtp\.mailfrom=example\.org' "$f" "spf=pass clause"

rc=0; code=$(from_ext 192.0.2.25 mallory@fail.example.org) || rc=$?
assert_eq "$code" 550 "SPF fail: refused"
assert_match "$(last_reply)" '^550 5\.7\.1 Host 192\.0\.2\.25 is not a mail server of fail\.example\.org, see https://example\.org/spf' \
    "550 5.7.1 with the domain's explanation"

sink_clear
rc=0; code=$(send_mail mallory@fail.example.org bob@example.com --helo mail.example.org) || rc=$?
assert_eq "$code" 250 "internal client with a failing sender: accepted"
wait_sink_count 1 30
assert_not_grep '^Received-SPF:' "$(sink_last)" "internal client: not checked"

spf_dns_stop
rc=0; code=$(from_ext 192.0.2.25 carol@down1.example.org) || rc=$?
assert_eq "$code" 451 "zone server stopped: temporary failure"
assert_match "$(last_reply)" '^451 4\.4\.3 SPF temporary error for down1\.example\.org' "451 4.4.3"

# a server that takes the queries and never answers
perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:53", Proto => "udp") or die "bind: $!";
    my $b;
    while (1) { $s->recv($b, 4096) }
' >"$E2E_DIR/blackhole.log" 2>&1 &
echo "$! blackhole" >>"$E2E_PIDS"
sleep 0.5
t0=$(date +%s)
rc=0; code=$(from_ext 192.0.2.25 dave@down2.example.org) || rc=$?
t1=$(date +%s)
assert_eq "$code" 451 "DNS timeout: temporary failure"
assert_match "$(last_reply)" '^451 4\.4\.3 SPF temporary error for down2\.example\.org' "451 4.4.3 after a timeout"
if [ $((t1 - t0)) -le 8 ]; then
    pass "answered within the time limit ($((t1 - t0))s)"
else
    fail "answered after $((t1 - t0))s, time_limit is 3s"
fi
assert_grep 'result=temperror.*problem=' "$E2E_DIR/modmilterd.log" "temperror logged with its problem"

# the plugin's own metrics, as Prometheus scrapes them
curl -s "http://127.0.0.1:$mport/metrics" > "$E2E_DIR/metrics" || fail "metrics endpoint"
assert_grep '^modmilter_spf_results_total{instance="spf",result="fail"} [1-9]' "$E2E_DIR/metrics" "spf fail results counted"
assert_grep '^modmilter_spf_results_total{instance="spf",result="temperror"} 2$' "$E2E_DIR/metrics" "spf temperrors counted"
assert_grep '^modmilter_spf_dns_timeouts_total{instance="spf"} [1-9]' "$E2E_DIR/metrics" "DNS timeouts counted"
assert_grep '^modmilter_messages_total{chain="inbound",verdict="tempfail"} [1-9]' "$E2E_DIR/metrics" "tempfailed messages counted"
e2e_done
