#!/bin/sh
# modmilter-dspam: train, classify, retrain by signature, stats, purge,
# and its errors, on a private store.
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
[ $fails -eq 0 ]
