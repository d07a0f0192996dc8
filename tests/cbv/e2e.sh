#!/bin/sh
# End to end, in a private network namespace: swaks -> Postfix -> modmilterd
# (a flagging plugin standing for spf's "verify this sender", then cbv) ->
# the sender's MX (smtp-sink peers found through nsd) -> delivered to the
# next hop, or refused with the peer's answer, or deferred.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/cbv/lib.sh"
cbv_enter_netns "$@"
. "$top_srcdir/tests/e2e/lib.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks
e2e_init
mkdir -p "$E2E_DIR/cbv"
cbv_net_setup "$E2E_DIR/cbv"
for p in $pids; do echo "$p cbvnet" >> "$E2E_PIDS"; done

cat > "$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
store: $E2E_DIR/store
authserv_id: mx.example.com
networks: { internal: [10.0.0.0/8] }
plugins:
  spf: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.verify, value: "1" } } }
  cbv: { module: cbv, options: { helo_name: mx.example.com, local_domains: [example.com],
         step_timeout: 3s, probe_timeout: 6s, dns_timeout: 1s,
         allow_networks: [192.0.2.0/24] } }
chains:
  - name: inbound
    plugins: [spf, cbv]
EOC
sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" || e2e_die "modmilterd did not start"
pf_start

rc=0; code=$(send_mail alice@ok.example.net bob@example.com --header 'Subject: cbv e2e') || rc=$?
assert_eq "$code" 250 "verified sender: accepted"
wait_sink_count 1 30 && assert_grep '^Subject: cbv e2e' "$(sink_last)" "delivered to the next hop"

rc=0; code=$(send_mail bob@bad.example.net bob@example.com) || rc=$?
assert_eq "$code" 550 "sender refused by its MX: 550"
assert_match "$(last_reply)" '5\.1\.7 Sender address <bob@bad\.example\.net> rejected: .*RCPT TO: 5' \
	"the peer's answer is quoted"

rc=0; code=$(send_mail carol@soft.example.net bob@example.com) || rc=$?
assert_eq "$code" 451 "sender's MX answers 4xx: 451"
assert_match "$(last_reply)" '4\.4\.3' "enhanced code 4.4.3"

rc=0; code=$(send_mail alice@ok.example.net bob@example.com --header 'Subject: again') || rc=$?
assert_eq "$code" 250 "second message from a verified sender: accepted"
assert_grep 'alice@ok.example.net: verified \(cached\)' "$E2E_DIR/modmilterd.log" "served from the cache"

# Reloads of the detached daemon: each retires a generation whose cbv
# instance stops its refresh worker (it once hung there: the worker,
# started before the fork, did not exist in the daemon).
for i in 1 2 3; do
	e2e_reload modmilterd || fail "reload $i finished"
	rc=0; code=$(send_mail alice@ok.example.net bob@example.com --header "Subject: after reload $i") || rc=$?
	assert_eq "$code" 250 "after reload $i: accepted"
done
assert_eq "$(grep -c 'reloaded' "$E2E_DIR/modmilterd.log")" 3 "three reloads logged"
wait_sink_count 5 30 && assert_grep '^Subject: after reload 3' "$(sink_last)" "delivered after the reloads"
pid=$(cat "$E2E_DIR/modmilterd.pid")
e2e_kill modmilterd
kill -0 "$pid" 2>/dev/null && fail "the daemon stops on SIGTERM" || pass "the daemon stops on SIGTERM"
assert_grep 'notice: stopped' "$E2E_DIR/modmilterd.log" "clean stop logged"
e2e_done
