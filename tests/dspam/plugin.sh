#!/bin/sh
# The dspam plugin in a chain, in-process with modmilter-test: headers,
# tagging, quarantine, rejection at end of message and by header triage,
# max_size, noise reduction (bnr), innocent senders, training by forwarding to spam@ (internal
# senders only), honeypots, trust by sender only for an authenticated
# sender (SPF pass for its domain, simulated by test plugins publishing
# the spf facts; internal client; SMTP AUTH), the forms of an address
# that must not hide an innocent sender or a honeypot, and option
# errors at their line and column.
. "${top_srcdir:-.}/tests/lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
[ -x "$DSPAM" ] && [ -f "$PLUGINS/dspam.so" ] || { echo "SKIP: the dspam plugin is not built"; exit 77; }
M="$top_srcdir/tests/dspam/messages"
tmp=$(mktemp -d /tmp/mmdspamplug.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
"$DSPAM" --store "$tmp/store" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$tmp/store" train --ham "$M"/ham[1-4].eml 2>/dev/null || { echo "FAIL training"; exit 1; }

conf() {	# conf 'OPTIONS' [SPF-RESULT SPF-DOMAIN [SPF-GUESSED]]: facts as the spf plugin sets them
	cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
store: $tmp/store
networks: { internal: [10.0.0.0/8] }
plugins:
  dspam: { module: dspam, options: { $1 } }
  r: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.result, value: "${2:-}" } } }
  d: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.domain, value: "${3:-}" } } }
  g: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.guessed, value: "${4:-no}" } } }
chains:
  - name: inbound
    plugins: [${2:+r, d, g, }dspam]
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

conf 'headers: result'
check "headers: result: the result and the signature only" 0 '^header-add: X-DSPAM-Result: Spam$' \
	'^header-add: X-DSPAM-Signature: [0-9a-f]{32}$' '!X-DSPAM-Probability' '!X-DSPAM-Confidence' \
	-- --from deals5@promo.example.net --rcpt bob@example.com "$M/spam5.eml"

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

# noise reduction in the milter: classified as before, and TEFT learns
# the message's patterns (spam5's words are counted already: new tokens
# are patterns)
conf 'bnr: true, bnr_threshold: 0.25, tag_above: 0.9'
before=$(stat tokens)
check "bnr: spam classified and tagged" 0 '^header-add: X-DSPAM-Result: Spam$' \
	'^header-change: Subject\[1\]: \[SPAM\] ' -- --rcpt bob@example.com "$M/spam5.eml"
[ "$(stat tokens)" -gt "$before" ] && echo "PASS bnr: patterns learned ($before, $(stat tokens) tokens)" ||
	{ echo "FAIL bnr: no pattern learned ($before tokens)"; fails=$((fails + 1)); }

# trust by sender: only for a sender that is authenticated
counted() {	# counted NAME STAT BEFORE INCREMENT
	if [ "$(stat "$2")" = $(($3 + $4)) ]; then echo "PASS $1"; else
		echo "FAIL $1: $2 $(stat "$2"), wanted $(($3 + $4))"; fails=$((fails + 1)); fi
}
inno='innocent_senders: [alice6@corp.example], tag_above: 0.9'
conf "$inno" pass corp.example
before=$(stat "innocent corpus-fed")
check "innocent sender, SPF pass for its domain: trusted" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
	'innocent sender <alice6@corp.example> \(SPF pass for corp.example\): trained' \
	-- --verbose --from alice6@corp.example --rcpt bob@example.com "$M/ham6.eml"
counted "innocent sender trained" "innocent corpus-fed" "$before" 1
conf "$inno"
before=$(stat "innocent corpus-fed")
check "forged innocent sender (no SPF, external): classified and tagged" 0 \
	'^header-add: X-DSPAM-Result: Spam$' '^header-change: Subject\[1\]: \[SPAM\] ' \
	'innocent sender <alice6@corp.example> not trusted \(external client, not authenticated, no SPF result\): classified' \
	-- --verbose --from alice6@corp.example --rcpt bob@example.com "$M/spam6.eml"
counted "forged innocent sender not trained as innocent" "innocent corpus-fed" "$before" 0
conf "$inno" softfail corp.example
check "innocent sender with SPF softfail: classified" 0 '^header-add: X-DSPAM-Result: Spam$' \
	'not trusted \(external client, not authenticated, SPF softfail for corp.example\)' \
	-- --verbose --from alice6@corp.example --rcpt bob@example.com "$M/spam6.eml"
conf "$inno" pass promo.example.net
check "innocent sender, SPF pass for another domain: classified" 0 '^header-add: X-DSPAM-Result: Spam$' \
	'not trusted \(.*SPF pass is for promo.example.net, not corp.example\)' \
	-- --verbose --from alice6@corp.example --rcpt bob@example.com "$M/spam6.eml"
conf "$inno" pass corp.example yes
check "innocent sender, guessed SPF pass: classified" 0 '^header-add: X-DSPAM-Result: Spam$' \
	'not trusted \(.*SPF pass for corp.example is only a best guess\)' \
	-- --verbose --from alice6@corp.example --rcpt bob@example.com "$M/spam6.eml"
conf "$inno"
check "innocent sender from an internal client: trusted" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
	'\(internal client\): trained' \
	-- --verbose --client-ip 10.1.2.3 --from alice6@corp.example --rcpt bob@example.com "$M/ham6.eml"
check "innocent sender, SMTP-authenticated: trusted" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
	'\(SMTP AUTH as alice6\): trained' \
	-- --verbose --auth alice6 --from alice6@corp.example --rcpt bob@example.com "$M/ham6.eml"

# the From: history whitelist: 10 innocent messages from friend@partner.example
# (each its own Message-ID: modmilter-dspam trains a duplicate once)
for i in 1 2 3 4 5 6 7 8 9 10; do
	sed "s/^From: .*/From: Friend <friend@partner.example>/; s/^Subject: .*/Subject: notes $i/;
		s/^Message-ID: </Message-ID: <notes$i./" \
		"$M/ham$(( (i - 1) % 6 + 1 )).eml" > "$tmp/friend$i.eml"
done
"$DSPAM" --store "$tmp/store" train --ham "$tmp"/friend*.eml 2>/dev/null || { echo "FAIL training friend"; exit 1; }
sed 's/^From: .*/From: "Friend" <friend@partner.example>/' "$M/spam6.eml" > "$tmp/friendspam.eml"
hist='training: notrain, tag_above: 0.9'
conf "$hist"
check "From: with an innocent history, forged: classified and tagged" 0 \
	'^header-add: X-DSPAM-Result: Spam$' '^header-change: Subject\[1\]: \[SPAM\] ' \
	'From: <friend@partner.example> has an innocent history but is not whitelisted \(external client, not authenticated, no SPF result\)' \
	-- --verbose --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"
conf "$hist" pass promo.example.net
check "From: with an innocent history, SPF pass for the envelope's other domain: classified" 0 \
	'^header-add: X-DSPAM-Result: Spam$' 'not whitelisted \(.*SPF pass is for promo.example.net, not partner.example\)' \
	-- --verbose --from deals6@promo.example.net --rcpt bob@example.com "$tmp/friendspam.eml"
conf "$hist" pass partner.example
check "From: with an innocent history and SPF pass for its domain: whitelisted" 0 \
	'^header-add: X-DSPAM-Result: Whitelisted$' '!^header-change: Subject' \
	-- --verbose --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"
conf "$hist"
check "From: with an innocent history, internal client: whitelisted" 0 \
	'^header-add: X-DSPAM-Result: Whitelisted$' \
	-- --verbose --client-ip 10.9.9.9 --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"
check "From: with an innocent history, SMTP-authenticated: whitelisted" 0 \
	'^header-add: X-DSPAM-Result: Whitelisted$' \
	-- --verbose --auth friend --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"
conf 'training: teft, tag_above: 0.9'
check "forged From: with an innocent history, trained (teft): spam" 0 '^header-add: X-DSPAM-Result: Spam$' \
	-- --verbose --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"
conf 'training: teft, tag_above: 0.9' pass partner.example
check "after forged spam was trained, the real sender is still whitelisted" 0 \
	'^header-add: X-DSPAM-Result: Whitelisted$' \
	-- --verbose --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"
conf "$hist, triage_reject_above: 0.5"
check "header triage: a forged From: history does not pass" 2 '^verdict: reject 550 5\.7\.1 .*\(at eoh\)' \
	-- --verbose --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"
conf "$hist, triage_reject_above: 0.5" pass partner.example
check "header triage: an authenticated From: history passes" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
	-- --verbose --from friend@partner.example --rcpt bob@example.com "$tmp/friendspam.eml"

# honeypots never train as spam mail that claims a trusted sender
pot='honeypots: [trap@example.com], innocent_senders: [alice6@corp.example], tag_above: 0.9'
conf "$pot"
corpus=$(stat "spam corpus-fed")
check "honeypot, forged innocent sender: not trained, classified for the others" 0 \
	'^delete-rcpt: <trap@example.com>$' '^header-add: X-DSPAM-Result: Spam$' \
	'honeypot: not trained as spam: innocent sender <alice6@corp.example>, a claim only \(external client, not authenticated, no SPF result\)' \
	-- --verbose --from alice6@corp.example --rcpt trap@example.com --rcpt bob@example.com "$M/spam6.eml"
check "honeypot alone, forged innocent sender: discarded, not trained" 4 '^verdict: discard' \
	'honeypot: not trained as spam' -- --verbose --from alice6@corp.example --rcpt trap@example.com "$M/spam6.eml"
check "honeypot, forged From: with an innocent history: not trained" 4 '^verdict: discard' \
	'honeypot: not trained as spam: From: with an innocent history <friend@partner.example>, a claim only' \
	-- --verbose --from friend@partner.example --rcpt trap@example.com "$tmp/friendspam.eml"
counted "honeypot: forged claims not trained" "spam corpus-fed" "$corpus" 0
conf "$pot" pass corp.example
check "honeypot, innocent sender with SPF pass: trusted, not trained" 0 \
	'^delete-rcpt: <trap@example.com>$' '^header-add: X-DSPAM-Result: Whitelisted$' \
	'honeypot: not trained as spam: innocent sender <alice6@corp.example>, trusted \(SPF pass for corp.example\)' \
	-- --verbose --from alice6@corp.example --rcpt trap@example.com --rcpt bob@example.com "$M/ham6.eml"
conf "$pot"
check "honeypot, internal innocent sender: trusted, not trained" 4 '^verdict: discard' \
	'innocent sender <alice6@corp.example>, trusted \(internal client\)' \
	-- --verbose --client-ip 10.1.2.3 --from alice6@corp.example --rcpt trap@example.com "$M/ham6.eml"
counted "honeypot: trusted senders not trained" "spam corpus-fed" "$corpus" 0
# the forms of an address that must not hide a trusted innocent sender:
# a trailing dot, a source route, needless quotes, an upper-case domain
conf "$inno" pass corp.example
for f in alice6@corp.example. @relay.example:alice6@corp.example '"alice6"@corp.example' \
	alice6@CORP.EXAMPLE; do
	check "innocent sender written $f" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
		-- --from "$f" --rcpt bob@example.com "$M/ham6.eml"
done
check "not an innocent sender: alice6@corp.example.evil" 0 '!X-DSPAM-Result: Whitelisted' \
	-- --from alice6@corp.example.evil --rcpt bob@example.com "$M/ham6.eml"
conf 'innocent_senders: ["Alice6@Corp.Example."]' pass corp.example
check "innocent sender configured in another form" 0 '^header-add: X-DSPAM-Result: Whitelisted$' \
	-- --from alice6@corp.example --rcpt bob@example.com "$M/ham6.eml"

conf 'spam_addresses: [spam@example.com], honeypots: [trap@example.com]'
"$MODMILTER_TEST" -c "$tmp/c.yaml" --rcpt bob@example.com "$M/ham5.eml" > "$tmp/out" 2>&1
sig=$(sed -n 's/^header-add: X-DSPAM-Signature: //p' "$tmp/out")
{ printf 'Subject: Fwd: this is spam\n\n---- forwarded ----\nX-DSPAM-Signature: %s\n' "$sig"; cat "$M/ham5.eml"; } > "$tmp/fwd.eml"
missed=$(stat "spam missed")
check "forward to spam@ from outside: ordinary mail" 0 '^header-add: X-DSPAM-Result: ' \
	-- --verbose --client-ip 192.0.2.1 --rcpt spam@example.com "$tmp/fwd.eml"
[ "$(stat "spam missed")" = "$missed" ] && echo "PASS outsiders do not train" ||
	{ echo "FAIL outsiders do not train"; fails=$((fails + 1)); }
check "forward to spam@ from inside: retrained, discarded" 4 '^verdict: discard' \
	-- --verbose --client-ip 10.1.2.3 --rcpt spam@example.com "$tmp/fwd.eml"
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
