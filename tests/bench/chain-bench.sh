#!/bin/bash
# CPU per message of modmilterd running a chain of the mime and dspam
# plugins, for this build and (-b) another build of modmilter measured
# in the same run, over the milter protocol (modmilter-bench); medians
# over RUNS rounds, the daemons taking turns so that machine noise hits
# both. It shows what reading each message once, for both plugins, saves.
#
#   tests/bench/chain-bench.sh [-r RUNS] [-n MESSAGES] [-c CONCURRENCY]
#       [-b OTHER_BUILDDIR]
#
# Each build's modmilter-dspam trains its own dictionary (LMDB) on 1,000
# spam and 1,000 ham of the SpamAssassin corpus (fetched as
# tests/dspam/bench.sh does); dspam classifies only (notrain), mime tags
# (action: tag). Two message sets, cycled:
#   corpus     200 other corpus messages (100 spam, 100 ham): mostly
#              single-part mail
#   multipart  the multipart messages among the next 2,000 of the corpus
#              (at most 200)
# CPU is utime+stime of the daemon process, all its threads. The store
# lives under /dev/shm (else $TMPDIR, /var/tmp), so that the signature
# dspam writes per message costs no disk flush: what is left is the
# plugins' reading of the message.
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
RUNS=5 N=2000 CONC=2 OTHER=
while getopts r:n:c:b: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CONC=$OPTARG ;;
	b) OTHER=$(cd "$OPTARG" && pwd) ;; *) exit 2 ;; esac
done
for c in npm python3; do
	command -v $c >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
done
spam_corpus
tmp=$(mktemp -d /dev/shm/chain-bench.XXXXXX 2>/dev/null ||
	mktemp -d "${TMPDIR:-/var/tmp}/chain-bench.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT

ls "$DATA"/spam-2/*.txt | head -1000 > "$tmp/train.spam"
ls "$DATA"/easy-ham-1/*.txt | head -1000 > "$tmp/train.ham"
mkdir "$tmp/corpus" "$tmp/multipart"
for f in $(ls "$DATA"/spam-2/*.txt | sed -n 1001,1100p) $(ls "$DATA"/easy-ham-1/*.txt | sed -n 1001,1100p); do
	cp "$f" "$tmp/corpus/$(basename "$(dirname "$f")")-$(basename "$f" .txt).eml"
done
ls "$DATA"/spam-1/*.txt "$DATA"/easy-ham-2/*.txt "$DATA"/hard-ham-1/*.txt | head -2000 |
	xargs grep -li '^content-type:[[:space:]]*multipart' | head -200 |
	while read -r f; do
		cp "$f" "$tmp/multipart/$(basename "$(dirname "$f")")-$(basename "$f" .txt).eml"
	done

declare -A PID SOCK
BUILDS=(this)
[ -n "$OTHER" ] && BUILDS+=(other)
for b in "${BUILDS[@]}"; do
	dir=$top_builddir
	[ "$b" = other ] && dir=$OTHER
	xargs "$dir/modmilter-dspam" --store "$tmp/lmdb-$b" train --spam < "$tmp/train.spam" 2>/dev/null
	xargs "$dir/modmilter-dspam" --store "$tmp/lmdb-$b" train --ham < "$tmp/train.ham" 2>/dev/null
	cat > "$tmp/$b.yaml" <<EOC
plugin_dir: $dir/.libs
log: { level: warning }
store: $tmp/lmdb-$b
plugins:
  mime: { module: mime, options: { action: tag } }
  dspam: { module: dspam, options: { training: notrain } }
chains: [ { name: all, plugins: [mime, dspam] } ]
EOC
	p=$(port)
	"$dir/modmilterd" -f -c "$tmp/$b.yaml" -l "inet:$p@127.0.0.1" 2>"$tmp/$b.log" &
	PID[$b]=$!
	SOCK[$b]="inet:$p@127.0.0.1"
	pids+=($!)
done
sleep 1
for b in "${BUILDS[@]}"; do
	kill -0 "${PID[$b]}" 2>/dev/null || { cat "$tmp/$b.log"; exit 1; }
done
for set in corpus multipart; do
	for ((r = 0; r < RUNS; r++)); do
		for b in "${BUILDS[@]}"; do
			bench_round "${PID[$b]}" "$N" "$tmp/$set.$b" - -s "${SOCK[$b]}" \
			    -c "$CONC" --warmup 100 "$tmp/$set"/*.eml
		done
	done
done
for b in "${BUILDS[@]}"; do
	grep -qi 'error\|fail' "$tmp/$b.log" && { echo "$b: errors:"; cat "$tmp/$b.log"; exit 1; }
done
python3 - "$tmp" "$RUNS" "$N" "$CONC" "${BUILDS[@]}" <<'EOP'
import os, statistics, sys
tmp, runs, n, conc = sys.argv[1:5]
builds = sys.argv[5:]
def load(p):
    rows = [list(map(float, l.split())) for l in open(p)]
    return [statistics.median(c) for c in zip(*rows)]
print("chain [mime, dspam]: medians of %s runs, %s messages per set and round, concurrency %s"
      % (runs, n, conc))
print("%-10s %5s | %-6s %10s %8s %8s %7s" % ("set", "msgs", "build", "CPU us/msg", "p50 ms",
      "p99 ms", "msg/s"))
for s in ("corpus", "multipart"):
    count = len(os.listdir(os.path.join(tmp, s)))
    base = None
    for b in builds:
        x = load(os.path.join(tmp, "%s.%s" % (s, b)))
        base = base or x[0]
        print("%-10s %5d | %-6s %10.1f %8.3f %8.3f %7.0f   %.3fx this" % (s, count, b, x[0], x[1],
              x[2], x[3], x[0] / base))
EOP
