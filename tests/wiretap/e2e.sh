#!/bin/sh
# wiretap end to end: swaks -> Postfix -> modmilterd (wiretap) -> smtp-sink,
# Postfix relaying one transaction per recipient so that the sink's dumps
# show who received what. The monitor receives its copy, discarded and
# replaced recipients receive nothing, a forged sender is not tapped, the
# archive holds one complete Maildir file per watched address, a message
# another plugin rejects leaves neither copy nor archive, a discard without
# copies is archived and dropped without a bounce, and a read-only
# archive makes Postfix answer 4xx with nothing delivered (nothing lost).
# modmilterd runs as user nobody, so that file permissions hold.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks
id nobody >/dev/null 2>&1 || skip "no user nobody"
e2e_init

A=$E2E_DIR/archive
mkdir "$A" && chown nobody "$A" || e2e_die "cannot make $A"
cat > "$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
user: nobody
networks: { internal: [127.0.0.0/8] }
plugins:
  audit: { module: wiretap, options: {
      groups: [
        { name: legal-hold, watch: [alice@corp.example, "@subsidiary.example"],
          direction: both, copy_to: [monitor@corp.example], blind: true, archive: $A },
        { name: gag, watch: [bigmouth@corp.example], direction: outgoing,
          discard: true, copy_to: [spy@corp.example] },
        { name: silence, watch: [hush@corp.example], direction: outgoing,
          discard: true, archive: $A } ],
      smart_alias: [ { from: client@clientcorp.example, to: sue@corp.example,
                       deliver_to: [copycust@corp.example] } ] } }
  refuse: { module: $TESTPLUGINS/testplug.so, options: { verdicts: { eom: reject },
      reply: { code: "550", xcode: "5.7.1", text: "Refused by policy" } } }
chains:
  - { name: refusing, match: { rcpt_domain: [refuse.example] }, plugins: [audit, refuse] }
  - { name: main, plugins: [audit] }
EOC
sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" ||
	e2e_die "modmilterd did not start"
pf_setup
# one SMTP transaction per recipient: one sink dump per recipient;
# XCLIENT from loopback stands for clients outside our networks
pf_conf "smtp_destination_recipient_limit = 1" "relay_destination_recipient_limit = 1" \
	"relay_domains = example.net example.org corp.example subsidiary.example refuse.example" \
	"smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
	"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination"
pf_start
EXTERNAL="--xclient-addr 192.0.2.10 --xclient-name outside.example.net"

# the recipients the sink received, sorted, one line
received() {
	sink_files | while read -r f; do
		sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f"
	done | sort | tr '\n' ' ' | sed 's/ $//'
}

# settle N: N dumps arrived, the queue is empty, and nothing more comes
settle() {
	wait_sink_count "$1" 30 || return 1
	i=0
	while [ "$(pf_queue_count)" != 0 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
	sleep 1
	assert_eq "$(sink_count)" "$1" "exactly $1 deliveries"
}

# archived ADDRESS: files in its Maildir's new/ (tmp/ must be empty)
archived() {
	[ -z "$(ls -A "$A/$1/tmp" 2>/dev/null)" ] || echo "tmp-not-empty"
	ls "$A/$1/new" 2>/dev/null | wc -l
}

body_of() {	# the body of a message file, LF line ends
	tr -d '\r' < "$1" | sed '1,/^$/d'
}

# --- a watched sender: monitor gets a copy, two archive Maildirs ---
rc=0; code=$(send_mail alice@corp.example bob@example.net --to bob@example.net,x@subsidiary.example \
	--header 'Subject: e2e copy' --body "Line one.
Line two, the last.") || rc=$?
assert_eq "$code" 250 "watched sender: accepted"
settle 3
assert_eq "$(received)" "bob@example.net monitor@corp.example x@subsidiary.example" \
	"the recipients and the monitor, once, received it"
mon=$(grep -l '^X-Rcpt-Args: <monitor@corp.example>' $(sink_files))
assert_grep '^Subject: e2e copy' "$mon" "the monitor's copy is the message"
assert_not_grep '^Cc:' "$mon" "blind copy: no Cc header"
assert_eq "$(archived alice@corp.example)" 1 "one archived copy for the sender"
assert_eq "$(archived x@subsidiary.example)" 1 "one archived copy for the watched recipient"
f=$(ls "$A"/alice@corp.example/new/* 2>/dev/null | head -n 1)
assert_grep '^X-Wiretap-Group: legal-hold \(outgoing; queue id [0-9A-Za-z]+\)$' "$f" \
	"archived copy names its group and queue id"
assert_grep '^Subject: e2e copy$' "$f" "archived copy has the message's headers"
assert_eq "$(body_of "$f")" "$(body_of "$mon")" "archived copy is complete (same body as delivered)"
assert_eq "$(stat -c %U "$f")" nobody "archive written by the daemon's user"
assert_grep "info: [0-9A-F]+: audit: group=legal-hold copy to=<monitor@corp.example>" \
	"$E2E_DIR/modmilterd.log" "audit log line with the queue id"

# --- local submission (sendmail(1), the pickup path) of a watched sender ---
sink_clear
send_local alice@corp.example bob@example.net || fail "sendmail(1) submission"
settle 2
assert_eq "$(received)" "bob@example.net monitor@corp.example" \
	"local submission: the monitor gets its copy"
assert_eq "$(archived alice@corp.example)" 2 "local submission: archived"

# --- a gagged sender: only the spy gets it, the sender is told nothing ---
sink_clear
rc=0; code=$(send_mail bigmouth@corp.example carol@example.net --to carol@example.net,dave@example.org \
	--header 'Subject: e2e gag') || rc=$?
assert_eq "$code" 250 "gagged sender: accepted, told nothing"
settle 1
assert_eq "$(received)" "spy@corp.example" "discarded recipients received nothing, the spy did"

# --- a discard without copies: archived, delivered to nobody, no bounce ---
sink_clear
rc=0; code=$(send_mail hush@corp.example carol@example.net --header 'Subject: e2e hush') || rc=$?
assert_eq "$code" 250 "discard without copies: accepted, told nothing"
sleep 1
i=0
while [ "$(pf_queue_count)" != 0 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
assert_eq "$(sink_count)" 0 "discard without copies: nobody received it, no bounce"
assert_eq "$(archived hush@corp.example)" 1 "discard without copies: archived"

# --- smart alias, from an outside client ---
sink_clear
rc=0; code=$(send_mail client@clientcorp.example sue@corp.example $EXTERNAL \
	--header 'Subject: e2e alias') || rc=$?
assert_eq "$code" 250 "smart alias: accepted"
settle 1
assert_eq "$(received)" "copycust@corp.example" "the replaced recipient received nothing"

# --- a forged watched sender from outside: not tapped ---
sink_clear
rc=0; code=$(send_mail alice@corp.example bob@example.net $EXTERNAL \
	--header 'Subject: e2e forged') || rc=$?
assert_eq "$code" 250 "forged sender: accepted"
settle 1
assert_eq "$(received)" "bob@example.net" "forged sender: no copy to the monitor"
assert_eq "$(archived alice@corp.example)" 2 "forged sender: not archived"
assert_grep 'audit: group=legal-hold sender <alice@corp.example> is watched, but the client is neither internal nor authenticated: not outgoing \(queue id [0-9A-F]+\)' \
	"$E2E_DIR/modmilterd.log" "forged sender: logged with the queue id"

# --- rejected by another plugin: neither copied nor archived ---
sink_clear
rc=0; code=$(send_mail alice@corp.example someone@refuse.example \
	--header 'Subject: e2e refused') || rc=$?
assert_eq "$code" 550 "another plugin rejects: 550"
sleep 1
assert_eq "$(sink_count)" 0 "rejected: no copy delivered"
assert_eq "$(archived alice@corp.example)" 2 "rejected: not archived, tmp/ empty"

# --- read-only archive: 4xx, nothing delivered, nothing lost ---
sink_clear
chmod -R a-w "$A"
rc=0; code=$(send_mail alice@corp.example bob@example.net --header 'Subject: e2e read-only') || rc=$?
assert_match "$code" '^4' "read-only archive: Postfix answers 4xx"
assert_match "$(last_reply)" '4\.3\.0' "with the generic 4.3.0 reply"
assert_not_grep 'rchive' "$E2E_DIR/swaks/last.out" "the client learns nothing of the archive"
assert_grep 'group=legal-hold archive address=<alice@corp.example> failed: .*Permission denied; message tempfailed' \
	"$E2E_DIR/modmilterd.log" "the failure is logged"
sleep 1
assert_eq "$(sink_count)" 0 "read-only archive: nothing delivered"
chmod -R u+w "$A"
rc=0; code=$(send_mail alice@corp.example bob@example.net --header 'Subject: e2e retry') || rc=$?
assert_eq "$code" 250 "writable again: the retry is accepted"
settle 2
assert_eq "$(archived alice@corp.example)" 3 "the retry is archived"
e2e_done
