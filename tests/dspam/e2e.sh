#!/bin/sh
# dspam end to end: swaks -> Postfix -> modmilterd (dspam) -> smtp-sink,
# with a dictionary trained beforehand by modmilter-dspam on the same
# store. A spam is tagged and a ham passes, each with the X-DSPAM-*
# headers; the delivered ham forwarded by an internal user to spam@
# corrects its signature and is not delivered; mail to a honeypot trains
# as spam and is not delivered; forged incoming X-DSPAM-* headers are
# replaced; a store failure while running (full map) gives a logged
# temporary failure, and an unusable store is refused at start; Postfix
# answers 4xx in both cases (nothing lost).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks
DSPAM="$top_builddir/modmilter-dspam"
[ -x "$DSPAM" ] && [ -f "$PLUGINS/dspam.so" ] || skip "the dspam plugin is not built"
M="$top_srcdir/tests/dspam/messages"
e2e_init

S=$E2E_DIR/store
"$DSPAM" --store "$S" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$S" train --ham "$M"/ham[1-4].eml 2>/dev/null || e2e_die "training failed"
cat > "$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
store: { path: $S, map_size: 67108864 }
networks: { internal: [127.0.0.0/8] }
plugins:
  dspam: { module: dspam, options: { tag_above: 0.9,
           spam_addresses: [spam@example.com], ham_addresses: [ham@example.com],
           honeypots: [trap@example.com] } }
chains:
  - name: inbound
    plugins: [dspam]
EOC
sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" ||
	e2e_die "modmilterd did not start"
pf_start

stat() { "$DSPAM" --store "$S" stats | sed -n "s/^$1: *//p"; }

rc=0; code=$(send_mail deals5@promo.example.net bob@example.com --data "$M/spam5.eml") || rc=$?
assert_eq "$code" 250 "spam accepted (tagging only)"
wait_sink_count 1 30
f=$(sink_last)
assert_grep '^X-DSPAM-Result: Spam' "$f" "spam: X-DSPAM-Result"
assert_grep '^X-DSPAM-Probability: (0\.9|1\.0)' "$f" "spam: probability"
assert_grep '^X-DSPAM-Confidence: ' "$f" "spam: confidence"
assert_grep '^X-DSPAM-Signature: [0-9a-f]{32}$' "$f" "spam: signature"
assert_grep '^Subject: \[SPAM\] Limited offer 5' "$f" "spam: subject tagged"

# a ham with a forged verdict header
sed '1i X-DSPAM-Result: Whitelisted' "$M/ham5.eml" > "$E2E_DIR/ham5.eml"
rc=0; code=$(send_mail alice5@corp.example bob@example.com --data "$E2E_DIR/ham5.eml") || rc=$?
assert_eq "$code" 250 "ham accepted"
wait_sink_count 2 30
f=$(sink_last)
assert_grep '^X-DSPAM-Result: Innocent' "$f" "ham: X-DSPAM-Result"
assert_not_grep '^X-DSPAM-Result: Whitelisted' "$f" "ham: forged header removed"
assert_grep '^Subject: Project review 5 agenda' "$f" "ham: subject untouched"
sig=$(sed -n 's/^X-DSPAM-Signature: //p' "$f" | tr -d '\r')

# the user says it was spam: forwarded as it was, to spam@
before=$(stat "spam learned")
missed=$(stat "spam missed")
grep -v '^X-\(Client\|Helo\|Mail\|Rcpt\)-' "$f" > "$E2E_DIR/fwd.eml"
rc=0; code=$(send_mail bob@example.com spam@example.com --data "$E2E_DIR/fwd.eml") || rc=$?
assert_eq "$code" 250 "forward to spam@ accepted"
assert_eq "$(stat "spam missed")" "$((missed + 1))" "signature $sig retrained as spam"
assert_eq "$(stat "spam learned")" "$((before + 1))" "spam learned counted"

# a honeypot
corpus=$(stat "spam corpus-fed")
rc=0; code=$(send_mail deals6@promo.example.net trap@example.com --data "$M/spam6.eml") || rc=$?
assert_eq "$code" 250 "honeypot mail accepted"
assert_eq "$(stat "spam corpus-fed")" "$((corpus + 1))" "honeypot mail trained as spam"

# neither the forward nor the honeypot mail reaches the next hop
rc=0; code=$(send_mail alice6@corp.example bob@example.com --data "$M/ham6.eml") || rc=$?
wait_sink_count 3 30
assert_eq "$(sink_count)" 3 "training and honeypot mail not delivered"
assert_not_grep 'spam@example.com|trap@example.com' "$(sink_last)" "last delivery is the ham"

# a store failure while running (the map is full): logged, and the
# instance's on_error (tempfail) answers; nothing is lost
words() {	# words N SEED: a message of N words never seen before
	awk -v n="$1" -v s="$2" 'BEGIN { srand(s); print "Subject: filler " s; print "";
		for (i = 0; i < n; i++) printf "w%dq%dz%s", int(rand() * 1e9), i, (i % 8 == 7 ? "\n" : " ") }'
}
F=$E2E_DIR/full
i=1
while [ $i -lt 40 ]; do
	words 4000 $i > "$E2E_DIR/filler.eml"
	"$DSPAM" --store "$F" --map-size 1 train --spam "$E2E_DIR/filler.eml" 2>/dev/null || break
	i=$((i + 1))
done
[ $i -lt 40 ] || e2e_die "could not fill a 1 MB store"
sed -e "s|path: $S, map_size: 67108864|path: $F, map_size: 1048576|" "$E2E_DIR/modmilter.yaml" > "$E2E_DIR/full.yaml"
grep -q "path: $F" "$E2E_DIR/full.yaml" || e2e_die "full.yaml not written"
e2e_kill modmilterd
e2e_start_modmilterd modmilterd-full "$E2E_DIR/full.yaml" ||
	e2e_die "modmilterd did not start on the full store"
words 4000 999 > "$E2E_DIR/big.eml"
rc=0; code=$(send_mail alice5@corp.example bob@example.com --data "$E2E_DIR/big.eml") || rc=$?
assert_match "$code" '^4' "store full: temporary failure"
assert_grep 'MDB_MAP_FULL.*raise store map_size' "$E2E_DIR/modmilterd-full.log" \
	"store full: the reason is logged"
assert_grep 'classification: dspam store: write failed' "$E2E_DIR/modmilterd-full.log" \
	"store full: the plugin's failure is logged"
e2e_kill modmilterd-full

# an unusable store (a file where the directory should be): each
# message gets a temporary failure, with the reason in the log
mv "$S" "$S.gone" && : > "$S"
e2e_start_modmilterd modmilterd-bad "$E2E_DIR/modmilter.yaml" ||
	e2e_die "modmilterd did not start"
rc=0; code=$(send_mail alice5@corp.example bob@example.com --data "$M/ham5.eml") || rc=$?
assert_match "$code" '^4' "store unusable: temporary failure, nothing lost"
assert_grep "store database dspam: store $S: (cannot create|Not a directory|File exists)" \
	"$E2E_DIR/modmilterd-bad.log" "the reason is logged"
e2e_kill modmilterd-bad
e2e_done
