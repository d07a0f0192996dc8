#!/bin/sh
# The dspam plugin in a chain, in-process with modmilter-test: headers,
# tagging, quarantine, rejection at end of message and by header triage,
# max_size, innocent senders, training by forwarding to spam@ (internal
# senders only), honeypots, the forms of an address that must not hide an
# innocent sender or a honeypot, and option errors at their line and column.
. "${top_srcdir:-.}/tests/lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
[ -x "$DSPAM" ] && [ -f "$PLUGINS/dspam.so" ] || { echo "SKIP: the dspam plugin is not built"; exit 77; }
M="$top_srcdir/tests/dspam/messages"
tmp=$(mktemp -d /tmp/mmdspamplug.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
"$DSPAM" --store "$tmp/store" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$tmp/store" train --ham "$M"/ham[1-4].eml 2>/dev/null || { echo "FAIL training"; exit 1; }

conf() {	# conf 'OPTIONS'
	cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
store: $tmp/store
networks: { internal: [10.0.0.0/8] }
plugins:
  dspam: { module: dspam, options: { $1 } }
chains:
  - name: inbound
    plugins: [dspam]
EOC
}
stat() { "$DSPAM" --store "$tmp/store" stats | sed -n "s/^$1: *//p"; }

conf 'tag_above: 0.9, quarantine_above: 0.95'
check "spam: headers, tag, quarantine" 0 '^header-add: X-DSPAM-Result: Spam$' \
	'^header-add: X-DSPAM-Probability: (0\.9|1\.0)' '^header-add: X-DSPAM-Confidence: ' \
	'^header-add: X-DSPAM-Signature: [0-9a-f]{32}$' \
	'^header-change: Subject\[1\]: \[SPAM\] Limited offer 5' '^quarantine: dspam: spam probability' \
	-- --from deals5@promo.example.net --rcpt bob@example.com "$M/spam5.eml"
sed '1i X-DSPAM-Result: Whitelisted' "$M/ham5.eml" > "$tmp/forged.eml"
check "ham: innocent, forged header removed" 0 '^header-add: X-DSPAM-Result: Innocent$' \
	'^header-delete: X-DSPAM-Result\[1\]$' '!^header-change: Subject' '!^quarantine' \
	-- --from alice5@corp.example --rcpt bob@example.com "$tmp/forged.eml"

conf 'reject_above: 0.9'
check "reject above" 2 '^verdict: reject 550 5\.7\.1 Message refused as spam' \
	-- --rcpt bob@example.com "$M/spam6.eml"
conf 'triage_reject_above: 0.9'
check "header triage rejects at end of header" 2 '^verdict: reject 550 5\.7\.1 .*\(at eoh\)' \
	-- --rcpt bob@example.com "$M/spam6.eml"
check "header triage passes a ham" 0 '^header-add: X-DSPAM-Result: Innocent$' \
	-- --rcpt bob@example.com "$M/ham6.eml"
conf 'max_size: 100'
check "above max_size: not classified" 0 '!X-DSPAM' -- --rcpt bob@example.com "$M/spam6.eml"

conf 'innocent_senders: [alice6@corp.example]'
before=$(stat "innocent corpus-fed")
check "innocent sender" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
	-- --from alice6@corp.example --rcpt bob@example.com "$M/ham6.eml"
[ "$(stat "innocent corpus-fed")" = $((before + 1)) ] && echo "PASS innocent sender trained" ||
	{ echo "FAIL innocent sender trained"; fails=$((fails + 1)); }
# the forms of an address that must not hide it: a trailing dot, a
# source route, needless quotes, an upper-case domain
for f in alice6@corp.example. @relay.example:alice6@corp.example '"alice6"@corp.example' \
	alice6@CORP.EXAMPLE; do
	check "innocent sender written $f" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
		-- --from "$f" --rcpt bob@example.com "$M/ham6.eml"
done
check "not an innocent sender: alice6@corp.example.evil" 0 '!X-DSPAM-Result: Whitelisted' \
	-- --from alice6@corp.example.evil --rcpt bob@example.com "$M/ham6.eml"
conf 'innocent_senders: ["Alice6@Corp.Example."]'
check "innocent sender configured in another form" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
	-- --from alice6@corp.example --rcpt bob@example.com "$M/ham6.eml"

conf 'spam_addresses: [spam@example.com], honeypots: [trap@example.com]'
"$MODMILTER_TEST" -c "$tmp/c.yaml" --rcpt bob@example.com "$M/ham5.eml" > "$tmp/out" 2>&1
sig=$(sed -n 's/^header-add: X-DSPAM-Signature: //p' "$tmp/out")
{ printf 'Subject: Fwd: this is spam\n\n---- forwarded ----\nX-DSPAM-Signature: %s\n' "$sig"; cat "$M/ham5.eml"; } > "$tmp/fwd.eml"
missed=$(stat "spam missed")
check "forward to spam@ from outside: ordinary mail" 0 '^header-add: X-DSPAM-Result: ' \
	-- --client-ip 192.0.2.1 --rcpt spam@example.com "$tmp/fwd.eml"
[ "$(stat "spam missed")" = "$missed" ] && echo "PASS outsiders do not train" ||
	{ echo "FAIL outsiders do not train"; fails=$((fails + 1)); }
check "forward to spam@ from inside: retrained, discarded" 4 '^verdict: discard' \
	-- --client-ip 10.1.2.3 --rcpt spam@example.com "$tmp/fwd.eml"
[ "$(stat "spam missed")" = $((missed + 1)) ] && echo "PASS signature $sig retrained" ||
	{ echo "FAIL signature retrained"; fails=$((fails + 1)); }
corpus=$(stat "spam corpus-fed")
check "honeypot alone: discarded" 4 '^verdict: discard' -- --rcpt trap@example.com "$M/spam6.eml"
check "honeypot among others: removed" 0 '^delete-rcpt: <trap@example.com>$' \
	'^header-add: X-DSPAM-Result: Spam$' -- --rcpt trap@example.com --rcpt bob@example.com "$M/spam6.eml"
[ "$(stat "spam corpus-fed")" = $((corpus + 2)) ] && echo "PASS honeypot mail trained" ||
	{ echo "FAIL honeypot mail trained"; fails=$((fails + 1)); }
for f in trap@example.com. @relay.example:trap@example.com '"trap"@example.com' \
	trap@EXAMPLE.COM; do
	corpus=$(stat "spam corpus-fed")
	check "honeypot written $f: discarded" 4 '^verdict: discard' \
		-- --rcpt "$f" "$M/spam6.eml"
	check "honeypot written $f among others: removed" 0 '^delete-rcpt: <.*trap"?@' \
		'!^delete-rcpt: <bob@' -- --rcpt "$f" --rcpt bob@example.com "$M/spam6.eml"
	[ "$(stat "spam corpus-fed")" = $((corpus + 2)) ] && echo "PASS honeypot $f trained" ||
		{ echo "FAIL honeypot $f trained"; fails=$((fails + 1)); }
done
conf 'honeypots: ["Trap@Example.COM."]'
check "honeypot configured in another form" 4 '^verdict: discard' \
	-- --rcpt trap@example.com "$M/spam6.eml"

# option errors: file, line and column
for bad in 'threshold: 2' 'algorithm: naive' 'training: always' 'tokenizer: trigram' \
	'spam_addresses: { a: b }' 'database: "a:b"' 'purge_hits: -1' \
	'honeypots: ["trap@example..com"]' 'innocent_senders: [alice]'; do
	conf "$bad"
	"$MODMILTER_TEST" -c "$tmp/c.yaml" "$M/ham5.eml" > "$tmp/out" 2>&1
	rc=$?
	key=${bad%%:*}
	if [ $rc = 1 ] && grep -qE "^$tmp/c.yaml:5:[0-9]+: .*$key" "$tmp/out"; then
		echo "PASS option error: $bad"
	else
		echo "FAIL option error: $bad (exit $rc)"; cat "$tmp/out"; fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
