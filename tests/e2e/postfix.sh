#!/bin/sh
# End to end: swaks -> Postfix -> modmilterd (hello) -> smtp-sink.
# The header arrives at the next hop, a refused sender gets a 5xx at the
# SMTP client, and with the daemon gone Postfix answers 4xx (nothing lost).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks
e2e_init
cat > "$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
store: $E2E_DIR/store
authserv_id: mx.example.com
plugins:
  hello: { module: hello, options: { greeting: e2e, reject_sender: spammer@example.org } }
  t: { module: $TESTPLUGINS/testplug.so, options: { reject_rcpt: [nobody@example.com],
       auth_result: "test=pass" } }
chains:
  - name: inbound
    plugins: [hello, t]
EOC
sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" || e2e_die "modmilterd did not start"
pf_start

rc=0; code=$(send_mail alice@example.org bob@example.com --header 'Subject: e2e' \
	--header 'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=forged.example') || rc=$?
assert_eq "$code" 250 "message accepted"
wait_sink_count 1 30
f=$(sink_last)
assert_grep '^X-Hello: e2e' "$f" "X-Hello reached the next hop"
assert_grep '^Authentication-Results: mx.example.com;' "$f" "our Authentication-Results"
assert_grep 'test=pass' "$f" "plugin clause in Authentication-Results"
assert_not_grep 'forged.example' "$f" "forged Authentication-Results removed"
assert_grep '^Subject: e2e' "$f" "message intact"

rc=0; code=$(send_mail spammer@example.org bob@example.com) || rc=$?
assert_eq "$code" 550 "refused sender gets 550"
assert_match "$(last_reply)" '5\.7\.1 Sender refused by hello' "reply text from the plugin"

rc=0; code=$(send_mail alice@example.org nobody@example.com) || rc=$?
assert_eq "$code" 550 "refused recipient gets 550"

e2e_kill modmilterd
rc=0; code=$(send_mail alice@example.org bob@example.com) || rc=$?
assert_match "$code" '^4' "daemon down: temporary failure, nothing lost"

# A unix socket as a mail host sets it up: the daemon runs as nobody, the
# socket is born 0660 with group postfix, and Postfix reaches it.
mkdir -m 755 "$E2E_DIR/milter"
E2E_MILTER_SOCKET=unix:$E2E_DIR/milter/modmilterd.sock
sed -e '/^plugin_dir:/a\
user: nobody\
listen: '"$E2E_MILTER_SOCKET"'\
socket_mode: "0660"\
socket_group: postfix' "$E2E_DIR/modmilter.yaml" > "$E2E_DIR/unix.yaml"
chmod 1777 "$E2E_DIR/store" 2>/dev/null
e2e_start_modmilterd modmilterd-unix "$E2E_DIR/unix.yaml" || e2e_die "modmilterd on a unix socket did not start"
assert_eq "$(stat -c '%a %G' "$E2E_DIR/milter/modmilterd.sock")" "660 postfix" "unix socket born 0660, group postfix"
pf_conf "smtpd_milters = $E2E_MILTER_SOCKET" && pf_reload
sleep 1
rc=0; code=$(send_mail alice@example.org bob@example.com --header 'Subject: via unix socket') || rc=$?
assert_eq "$code" 250 "through the unix socket: accepted"
wait_sink_count 2 30 && assert_grep '^X-Hello: e2e' "$(sink_last)" "filtered through the unix socket"
e2e_done
