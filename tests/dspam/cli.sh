#!/bin/sh
# modmilter-dspam: train, classify, retrain by signature, stats, purge,
# its message sources (mbox, Maildir, names on stdin), deduplication,
# progress, option checks, the daemon's configuration, noise reduction's
# patterns trained after the words, and its errors,
# on a private store.
. "${top_srcdir:-.}/tests/lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
[ -x "$DSPAM" ] || { echo "SKIP: modmilter-dspam not built"; exit 77; }
M="$top_srcdir/tests/dspam/messages"
tmp=$(mktemp -d /tmp/mmdspamcli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "PASS $1"; }
ko() { echo "FAIL $1"; fails=$((fails + 1)); }
d() { "$DSPAM" --store "$tmp/store" "$@"; }

d train --spam "$M"/spam[1-4].eml 2>/dev/null && d train --ham "$M"/ham[1-4].eml 2>/dev/null &&
	ok "train" || ko "train"
out=$(d classify "$M/spam5.eml" "$M/ham5.eml")
echo "$out" | grep -Eq "spam5.eml spam (0\.9|1\.0)" && ok "spam classified" || { ko "spam classified"; echo "$out"; }
echo "$out" | grep -q "ham5.eml innocent 0\.0" && ok "ham classified" || { ko "ham classified"; echo "$out"; }

d stats > "$tmp/s1"
grep -q "^spam learned: *4$" "$tmp/s1" && grep -q "^innocent learned: *4$" "$tmp/s1" &&
	ok "stats" || { ko "stats"; cat "$tmp/s1"; }

# classify with learning: a signature; retrain it; counts move
line=$(d classify --learn "$M/ham6.eml")
sig=$(echo "$line" | awk '{print $4}')
echo "$line" | grep -q "innocent" && [ ${#sig} = 32 ] && ok "classify --learn gives a signature" ||
	ko "classify --learn: $line"
d stats | grep -q "^innocent learned: *5$" && ok "TEFT learned it" || ko "TEFT learned it"
d retrain --signature "$sig" --spam > /dev/null && ok "retrain" || ko "retrain"
d stats > "$tmp/s2"
grep -q "^innocent learned: *4$" "$tmp/s2" && grep -q "^spam learned: *5$" "$tmp/s2" &&
	grep -q "^spam missed: *1$" "$tmp/s2" && ok "retrain moved the counts" ||
	{ ko "retrain moved the counts"; cat "$tmp/s2"; }
d retrain --signature "$sig" --spam > /dev/null
d stats | grep -q "^spam learned: *5$" && ok "second retrain changes nothing" ||
	ko "second retrain changes nothing"

# errors
d retrain --signature 0123456789abcdef0123456789abcdef --ham 2>/dev/null
[ $? = 1 ] && ok "unknown signature: exit 1" || ko "unknown signature: exit 1"
d retrain --signature nonsense --ham 2>/dev/null
[ $? = 1 ] && ok "malformed signature: exit 1" || ko "malformed signature: exit 1"
d classify "$tmp/nosuchfile" > /dev/null 2>&1
[ $? = 1 ] && ok "missing file: exit 1" || ko "missing file: exit 1"
d frobnicate > /dev/null 2>&1
[ $? = 2 ] && ok "usage: exit 2" || ko "usage: exit 2"
"$DSPAM" --store /proc/nonexistent/store stats > /dev/null 2>&1
[ $? = 1 ] && ok "store failure: exit 1" || ko "store failure: exit 1"
printf 'store:\n  backend: redis\n  port: 99999\n' > "$tmp/bad.yaml"
"$DSPAM" -c "$tmp/bad.yaml" stats > "$tmp/err" 2>&1
[ $? = 1 ] && grep -q "bad.yaml:3:.*port" "$tmp/err" && ok "bad store in -c FILE: FILE:LINE" ||
	{ ko "bad store in -c FILE"; cat "$tmp/err"; }

# dictionaries are separate
d --dict other classify "$M/spam5.eml" | grep -q " innocent 0\.5" &&
	ok "an empty dictionary knows nothing" || ko "an empty dictionary knows nothing"

# online TOE: errors are trained, so the stream is learned
printf 'spam %s\nham %s\nspam %s\nham %s\nspam %s\nham %s\n' "$M/spam1.eml" "$M/ham1.eml" \
	"$M/spam2.eml" "$M/ham2.eml" "$M/spam6.eml" "$M/ham6.eml" > "$tmp/list"
d --dict online --mode toe online "$tmp/list" > "$tmp/online"
tail -1 "$tmp/online" | grep -q "^# online toe: 6 messages" && grep -q "^spam .*spam6.eml spam " "$tmp/online" &&
	ok "online TOE" || { ko "online TOE"; cat "$tmp/online"; }

d purge | grep -q "^purged 0 expired" && ok "purge keeps fresh tokens" || ko "purge keeps fresh tokens"
# rare tokens expire: trained with a purge period of under a second
d --dict short --purge-days 0.00001 train --spam "$M/spam1.eml" 2>/dev/null
n=$(d --dict short stats | sed -n 's/^tokens: *//p')
sleep 2
n2=$(d --dict short stats | sed -n 's/^tokens: *//p')
p=$(d purge)
[ "$n" -gt 10 ] && [ "$n2" = 0 ] && echo "$p" | grep -Eq "^purged [1-9][0-9]* expired" &&
	[ "$(d stats | sed -n 's/^tokens: *//p')" -gt 0 ] && ok "rare tokens expire, purge removes them" ||
	ko "rare tokens expire ($n -> $n2; $p)"
# --- message sources: an mbox and a Maildir train what the files do ---
mkdir -p "$tmp/src" "$tmp/md/cur" "$tmp/md/new" "$tmp/md/tmp"
for i in 1 2 3 4; do cp "$M/spam$i.eml" "$tmp/src/spam$i.eml"; done
# a body line "From " after an empty line (an mbox writer quotes it) and
# one in running text (some writers do not quote it)
printf '\nFrom the desk of the director: act now\nsent from my phone\nFrom now on, free money\n' >> "$tmp/src/spam2.eml"
for i in 1 2 3 4; do
	echo "From deals$i@promo.example.net Mon Jan  2 10:0$i:00 2023"
	sed 's/^From the desk/>From the desk/' "$tmp/src/spam$i.eml"
	echo
done > "$tmp/spam.mbox"
grep -q '^>From the desk' "$tmp/spam.mbox" && grep -q '^From now on' "$tmp/spam.mbox" ||
	ko "test mbox has its >From and From lines"
cp "$M/ham1.eml" "$tmp/md/cur/1000.1.host:2,S"
cp "$M/ham2.eml" "$tmp/md/cur/1001.1.host:2,"
cp "$M/ham3.eml" "$tmp/md/new/1002.1.host"
cp "$M/ham4.eml" "$tmp/md/new/1003.1.host"
cp "$M/ham6.eml" "$tmp/md/tmp/1004.1.host"		# being delivered: not mail yet
cp "$M/spam6.eml" "$tmp/md/cur/.hidden"
"$DSPAM" --store "$tmp/files" train --spam "$tmp"/src/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$tmp/files" train --ham "$M"/ham[1-4].eml 2>/dev/null || ko "train files"
"$DSPAM" --store "$tmp/boxes" train --spam "$tmp/spam.mbox" 2>"$tmp/err.mbox" &&
	"$DSPAM" --store "$tmp/boxes" train --ham "$tmp/md" 2>"$tmp/err.md" || ko "train mbox and Maildir"
"$DSPAM" --store "$tmp/files" stats > "$tmp/st.files"
"$DSPAM" --store "$tmp/boxes" stats > "$tmp/st.boxes"
grep -q "^spam learned: *4$" "$tmp/st.boxes" && grep -q "^innocent learned: *4$" "$tmp/st.boxes" &&
	cmp -s "$tmp/st.files" "$tmp/st.boxes" && ok "mbox and Maildir train the counts the files do" ||
	{ ko "mbox and Maildir train the counts the files do"; diff "$tmp/st.files" "$tmp/st.boxes"; }
grep -q "^trained 4 messages as spam in .*, 0 duplicates skipped$" "$tmp/err.mbox" &&
	ok "mbox summary" || { ko "mbox summary"; cat "$tmp/err.mbox"; }
"$DSPAM" --store "$tmp/files" classify --score "$M/spam5.eml" "$M/ham5.eml" 2>/dev/null | cut -d' ' -f2- > "$tmp/c.files"
"$DSPAM" --store "$tmp/boxes" classify --score "$M/spam5.eml" "$M/ham5.eml" 2>/dev/null | cut -d' ' -f2- > "$tmp/c.boxes"
cmp -s "$tmp/c.files" "$tmp/c.boxes" && ok "same verdicts and scores" ||
	{ ko "same verdicts and scores"; cat "$tmp/c.files" "$tmp/c.boxes"; }
out=$("$DSPAM" --store "$tmp/boxes" classify "$tmp/spam.mbox" "$tmp/md" 2>/dev/null)
echo "$out" | grep -q "^$tmp/spam.mbox:1 spam " && echo "$out" | grep -q "^$tmp/md/new/1003.1.host innocent " &&
	[ "$(echo "$out" | wc -l)" = 8 ] && ok "classify names mbox messages FILE:LINE, Maildir ones by path" ||
	{ ko "classify of an mbox and a Maildir"; echo "$out"; }
# online takes sources too, and skips duplicates
printf 'spam %s\nham %s\nham %s\n' "$tmp/spam.mbox" "$tmp/md" "$M/ham1.eml" > "$tmp/list2"
"$DSPAM" --store "$tmp/ol2" --mode toe online "$tmp/list2" > "$tmp/online2" 2>/dev/null
tail -1 "$tmp/online2" | grep -q "^# online toe: 8 messages (4 spam, 4 ham), .*, 1 duplicates skipped$" &&
	grep -q "^ham $tmp/md/cur/1000.1.host:2,S " "$tmp/online2" && ok "online: an mbox and a Maildir, a duplicate skipped" ||
	{ ko "online: sources and duplicates"; cat "$tmp/online2"; }
# a directory of Maildirs
mkdir -p "$tmp/mail/alice" "$tmp/mail/bob" "$tmp/mail/notes"
cp -r "$tmp/md/cur" "$tmp/mail/alice/"
cp -r "$tmp/md/new" "$tmp/mail/bob/"
"$DSPAM" --store "$tmp/tree" train --ham "$tmp/mail" 2>/dev/null &&
	"$DSPAM" --store "$tmp/tree" stats | grep -q "^innocent learned: *4$" &&
	ok "a directory of Maildirs" || ko "a directory of Maildirs"
"$DSPAM" --store "$tmp/tree" train --ham "$tmp/mail/notes" > /dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "notes: neither a Maildir" "$tmp/err" && ok "an empty directory: exit 1" ||
	{ ko "an empty directory: exit 1"; cat "$tmp/err"; }

# - : names from standard input, each recognised as above
ls "$tmp"/src/spam[1-4].eml | "$DSPAM" --store "$tmp/stdin" train --spam - 2>/dev/null &&
	printf '%s\n\n' "$tmp/md" | "$DSPAM" --store "$tmp/stdin" train --ham - 2>/dev/null &&
	"$DSPAM" --store "$tmp/stdin" stats > "$tmp/st.stdin" && cmp -s "$tmp/st.files" "$tmp/st.stdin" &&
	ok "- reads names from standard input" || { ko "- reads names from standard input"; cat "$tmp/st.stdin"; }

# --- duplicates by Message-ID, counted once; no Message-ID: never a duplicate ---
mkdir -p "$tmp/sent"
cp "$M/ham1.eml" "$tmp/sent/copy.eml"
sed '/^Message-ID:/d' "$M/ham3.eml" > "$tmp/noid.eml"
"$DSPAM" --store "$tmp/dup" train --ham "$M/ham1.eml" "$tmp/sent/copy.eml" "$M/ham2.eml" \
	"$tmp/noid.eml" "$tmp/noid.eml" 2>"$tmp/err"
"$DSPAM" --store "$tmp/dup" stats | grep -q "^innocent learned: *4$" &&
	grep -q "^trained 4 messages as innocent in .*, 1 duplicates skipped$" "$tmp/err" &&
	ok "a duplicate Message-ID is trained once and reported" ||
	{ ko "duplicate Message-ID"; cat "$tmp/err"; "$DSPAM" --store "$tmp/dup" stats; }
printf 'From a Mon Jan  2 10:00:00 2023\n' > "$tmp/dup.mbox"
sed 's/^Message-ID: </Message-ID:\n  </' "$M/ham1.eml" >> "$tmp/dup.mbox"	# folded
out=$("$DSPAM" --store "$tmp/dup" classify "$M/ham1.eml" "$tmp/dup.mbox" 2>"$tmp/err")
grep -q '^Message-ID:$' "$tmp/dup.mbox" && [ "$(echo "$out" | wc -l)" = 1 ] &&
	grep -q "classified 1 messages .* 1 duplicates skipped" "$tmp/err" &&
	ok "classify skips a duplicate (folded Message-ID)" || { ko "classify duplicate"; echo "$out"; cat "$tmp/err"; }

# --- progress: on a terminal only; the summary always ---
"$DSPAM" --store "$tmp/prog" train --spam "$M/spam1.eml" 2>"$tmp/err"
[ "$(wc -l < "$tmp/err")" = 1 ] && ! grep -q "$(printf '\r')" "$tmp/err" &&
	grep -q "^trained 1 messages as spam" "$tmp/err" &&
	ok "not a terminal: the summary line only" || { ko "not a terminal: summary only"; od -c "$tmp/err"; }
if command -v script > /dev/null 2>&1; then
	# the second message comes 0.6 s after the first: one redraw at least
	script -qec "sh -c '(echo $M/spam1.eml; sleep 0.6; echo $M/spam2.eml) |
		$DSPAM --store $tmp/prog train --spam -'" /dev/null > "$tmp/tty" 2>&1
	# each redraw: CR, the line, erase to its end
	lines() { tr '\r' '\n' < "$tmp/tty" | sed "s/$(printf '\033')\[K//g"; }
	lines | grep -q "^trained 2 messages, [0-9]* msg/s, 0 duplicates skipped$" &&
		lines | grep -q "^trained 2 messages as spam in" &&
		ok "a terminal: a progress line, then the summary" ||
		{ ko "a terminal: progress line"; od -c "$tmp/tty" | head -20; }
	# 300 messages in about a second at most: a few redraws, not 300
	for i in $(seq 300); do echo "$M/ham1.eml"; done > "$tmp/many"
	script -qec "$DSPAM --store $tmp/prog train --ham - < $tmp/many" /dev/null > "$tmp/tty" 2>&1
	n=$(lines | grep -c "msg/s")
	[ "$n" -le 8 ] && grep -q "299 duplicates skipped" "$tmp/tty" && ok "progress redraws are rate-limited ($n)" ||
		{ ko "progress redraws are rate-limited ($n)"; lines | tail -3; }
else
	echo "SKIP progress on a terminal: script(1) not installed"
fi

# --- numeric options: checked whole, a usage error naming the option and range ---
for bad in "--threshold abc" "--threshold 1.5" "--threshold 0.5x" "--threshold ''" "--max-tokens -3" \
	"--max-tokens 2.5" "--purge-hits 5x" "--purge-hits 99999999999999999999" "--purge-days -1" \
	"--robs 0" "--robx 1.01" "--min-dev 0.6" "--map-size 0" "--map-size ' 5'" "--threshold nan" \
	"--bnr-threshold 0.6"; do
	opt=${bad%% *}
	eval "set -- $bad"
	"$DSPAM" --store "$tmp/store" "$@" stats > /dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && grep -q -- "^modmilter-dspam: $opt: '.*' is not .*from .* to " "$tmp/err" &&
		ok "$bad: exit 2" || { ko "$bad: exit $rc"; cat "$tmp/err"; }
done
for bad in "--algorithm bayes" "--tokenizer bigrams" "--mode teach" "--bnr-sides left"; do
	"$DSPAM" --store "$tmp/store" $bad stats > /dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && grep -q -- "^modmilter-dspam: ${bad%% *}: '.*' is not .* or " "$tmp/err" &&
		ok "$bad: exit 2" || { ko "$bad: exit $rc"; cat "$tmp/err"; }
done
d train --source bulk --spam "$M/spam1.eml" > /dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q -- "^modmilter-dspam: --source: 'bulk' is not corpus, error or inoculation" "$tmp/err" &&
	ok "train --source bulk: exit 2" || { ko "train --source bulk"; cat "$tmp/err"; }
d train --only sideways --spam "$M/spam1.eml" > /dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q -- "^modmilter-dspam: --only: 'sideways' is not words or patterns" "$tmp/err" &&
	ok "train --only sideways: exit 2" || { ko "train --only sideways"; cat "$tmp/err"; }
d train --only words --source error --spam "$M/spam1.eml" > /dev/null 2>&1
[ $? = 2 ] && ok "train --only with --source error: exit 2" || ko "train --only with --source error"
"$DSPAM" --store "$tmp/store" --threshold 0.7 --max-tokens 30 --purge-days 0.5 stats > /dev/null &&
	ok "good numbers are taken" || ko "good numbers are taken"

# --- Bayesian noise reduction: the words first, then the patterns (no
# message counted twice); without --bnr there are no patterns ---
d --dict bw --bnr train --spam --only words "$M"/spam[1-4].eml 2>/dev/null &&
	d --dict bw --bnr train --ham --only words "$M"/ham[1-4].eml 2>/dev/null
n1=$(d --dict bw stats | sed -n 's/^tokens: *//p')
d --dict bw --bnr train --spam --only patterns "$M"/spam[1-4].eml 2>/dev/null &&
	d --dict bw --bnr train --ham --only patterns "$M"/ham[1-4].eml 2>/dev/null
d --dict bw stats > "$tmp/s3"
n2=$(sed -n 's/^tokens: *//p' "$tmp/s3")
[ "$n2" -gt "$n1" ] && grep -q "^spam learned: *4$" "$tmp/s3" && grep -q "^innocent learned: *4$" "$tmp/s3" &&
	ok "train --only words, then patterns ($n1, $n2 tokens)" || { ko "train --only patterns ($n1, $n2)"; cat "$tmp/s3"; }
d --dict bw train --spam --only patterns "$M"/spam[1-4].eml 2>/dev/null
n3=$(d --dict bw stats | sed -n 's/^tokens: *//p')
[ "$n3" = "$n2" ] && ok "no patterns without --bnr" || ko "no patterns without --bnr ($n2, $n3)"
out=$(d --dict bw --bnr --bnr-threshold 0.25 --bnr-sides spam classify "$M/spam5.eml" "$M/ham5.eml")
echo "$out" | grep -q "spam5.eml spam" && echo "$out" | grep -q "ham5.eml innocent" &&
	ok "classify --bnr" || { ko "classify --bnr"; echo "$out"; }

# --- -c: the dspam instance's options, as the daemon reads them ---
cat > "$tmp/one.yaml" <<EOF
store: { backend: lmdb, path: $tmp/store }
plugins:
  spf:
    module: spf
    options: { not_an_spf_option: 1 }
  filter:
    module: dspam
    options: { dictionary: empty, threshold: 0.4 }
EOF
out=$("$DSPAM" -c "$tmp/one.yaml" classify "$M/spam5.eml" 2>"$tmp/err")
echo "$out" | grep -q "spam5.eml spam 0\.5" && ok "-c: the instance's dictionary and threshold, no other plugin read" ||
	{ ko "-c: the instance's dictionary and threshold"; echo "$out"; cat "$tmp/err"; }
"$DSPAM" -c "$tmp/one.yaml" --threshold 0.6 classify "$M/spam5.eml" 2>/dev/null | grep -q "spam5.eml innocent 0\.5" &&
	ok "-c: the command line overrides the instance" || ko "-c: the command line overrides the instance"
"$DSPAM" -c "$tmp/one.yaml" --dict shared classify "$M/spam5.eml" 2>/dev/null | grep -Eq "spam5.eml spam (0\.9|1\.0)" &&
	ok "-c: the store of the file" || ko "-c: the store of the file"
cat > "$tmp/two.yaml" <<EOF
store: { backend: lmdb, path: $tmp/store }
plugins:
  lenient:
    module: dspam
    options: { dictionary: empty }
  strict:
    module: dspam
    options: { dictionary: empty, threshold: 0.4, tokenizer: osb }
EOF
"$DSPAM" -c "$tmp/two.yaml" classify "$M/spam5.eml" > /dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "several dspam instances.*--instance" "$tmp/err" &&
	ok "-c: several instances and none named: exit 2" || { ko "-c: several instances"; cat "$tmp/err"; }
"$DSPAM" -c "$tmp/two.yaml" --instance lenient classify "$M/spam5.eml" 2>/dev/null | grep -q "spam5.eml innocent 0\.5" &&
	"$DSPAM" -c "$tmp/two.yaml" --instance strict classify "$M/spam5.eml" 2>/dev/null | grep -q "spam5.eml spam 0\.5" &&
	ok "--instance picks the instance" || ko "--instance picks the instance"
# osb pairs: many more tokens from one message than words alone
"$DSPAM" -c "$tmp/two.yaml" --instance lenient --dict w train --spam "$M/spam1.eml" 2>/dev/null
"$DSPAM" -c "$tmp/two.yaml" --instance strict --dict o train --spam "$M/spam1.eml" 2>/dev/null
nw=$(d --dict w stats | sed -n 's/^tokens: *//p'); no=$(d --dict o stats | sed -n 's/^tokens: *//p')
[ "$no" -gt $((nw * 2)) ] && ok "--instance: the instance's tokenizer ($nw, $no tokens)" ||
	ko "--instance: the instance's tokenizer ($nw, $no tokens)"
cat > "$tmp/bnr.yaml" <<EOF
store: { backend: lmdb, path: $tmp/store }
plugins:
  dspam:
    options: { bnr: true, bnr_threshold: 0.35, bnr_sides: spam }
EOF
"$DSPAM" -c "$tmp/bnr.yaml" --dict b train --spam "$M/spam1.eml" 2>/dev/null
nb=$(d --dict b stats | sed -n 's/^tokens: *//p')
[ "$nb" -gt "$nw" ] && ok "-c: the instance's bnr ($nw, $nb tokens)" || ko "-c: the instance's bnr ($nw, $nb tokens)"
"$DSPAM" -c "$tmp/two.yaml" --instance nosuch stats > /dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "no plugin instance 'nosuch'" "$tmp/err" && ok "--instance unknown: exit 2" ||
	{ ko "--instance unknown"; cat "$tmp/err"; }
"$DSPAM" --store "$tmp/store" --instance strict stats > /dev/null 2>&1
[ $? = 2 ] && ok "--instance without -c: exit 2" || ko "--instance without -c: exit 2"
printf 'plugins:\n  dspam:\n    options:\n      threshold: 2\n' > "$tmp/bad2.yaml"
"$DSPAM" -c "$tmp/bad2.yaml" stats > /dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "bad2.yaml:4:.*threshold" "$tmp/err" && ok "-c: a bad instance option, FILE:LINE" ||
	{ ko "-c: a bad instance option"; cat "$tmp/err"; }
printf 'store: { backend: lmdb, path: %s }\nplugins:\n  dspam:\n    options:\n      colour: blue\n' "$tmp/store" > "$tmp/bad3.yaml"
"$DSPAM" -c "$tmp/bad3.yaml" stats > /dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "bad3.yaml:5:.*unknown option 'colour'" "$tmp/err" && ok "-c: an unknown instance option" ||
	{ ko "-c: an unknown instance option"; cat "$tmp/err"; }
[ $fails -eq 0 ]
