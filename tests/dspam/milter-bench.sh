#!/bin/bash
# The dspam plugin inside modmilterd, over the milter protocol
# (modmilter-bench), against modmilterd with the hello plugin in the same
# run: CPU per message of the daemon, latency and rate, medians over RUNS
# rounds, the daemons taking turns so that machine noise hits all.
#
#   tests/dspam/milter-bench.sh [-r RUNS] [-n MESSAGES] [-c CONCURRENCY] [-B OLD.so]
#
# A dictionary is trained with modmilter-dspam on 2,000 messages of the
# SpamAssassin corpus (fetched as tests/dspam/bench.sh does); 200 other
# messages are cycled. Daemons, each with its own copy of the dictionary:
#   hello          hello alone (the baseline: the bare milter floor)
#   msg            the test plugin msgplug alone: reads the whole message
#                  through the core and adds a header (the floor of any
#                  plugin that reads the message: every header and body
#                  chunk is a milter event; built by make check)
#   bare, bare-msg tests/bench/bare-filter, plain libmilter without
#                  modmilterd: adding a header at end of message, and
#                  with -M also receiving every header field and body
#                  chunk with no reply (SMFIP_NR_HDR/NR_BODY): the floor
#                  of any libmilter content filter, libmilter's own cost
#                  of reading a message (built by make check)
#   notrain        dspam classifying only, LMDB
#   toe            dspam, TOE (a signature written per message), LMDB
#   teft           dspam, TEFT (tokens and signature written), LMDB
#   toe-redis      dspam, TOE, on a redis-server over a unix socket
#   toe-q, teft-q, toe-redis-q
#                  the same with durability: queued (answered once the
#                  writes are queued, not committed)
#   notrain-r, teft-qr
#                  notrain, and TEFT queued, with headers: result (two
#                  X-DSPAM headers instead of four)
# LMDB commits are flushed to disk; the plugin commits the writes of all
# the messages waiting at once together (group commit), so the rates
# follow the disk's flush latency divided by the concurrency. The store
# lives under $TMPDIR (default /var/tmp). -B adds notrain, toe and teft
# with another build of the plugin (OLD.so), for a before/after in one run.
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
RUNS=3 N=3000 CONC=8 OLD=
while getopts r:n:c:B: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CONC=$OPTARG ;; B) OLD=$OPTARG ;; *) exit 2 ;; esac
done
for c in npm redis-server python3; do
	command -v $c >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
done
DSPAM="$top_builddir/modmilter-dspam"
spam_corpus
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/dspam-mbench.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")"; rm -rf "$tmp"' EXIT

# 1,000 spam and 1,000 ham to train, 100 + 100 others to send
ls "$DATA"/spam-2/*.txt | head -1000 > "$tmp/train.spam"
ls "$DATA"/easy-ham-1/*.txt | head -1000 > "$tmp/train.ham"
mkdir "$tmp/msgs"
for f in $(ls "$DATA"/spam-2/*.txt | sed -n 1001,1100p) $(ls "$DATA"/easy-ham-1/*.txt | sed -n 1001,1100p); do
	cp "$f" "$tmp/msgs/$(basename "$(dirname "$f")")-$(basename "$f" .txt).eml"
done
MSGS=("$tmp"/msgs/*.eml)
redis-server --port 0 --unixsocket "$tmp/redis.sock" --save '' --appendonly no \
	--daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
for i in $(seq 100); do [ -S "$tmp/redis.sock" ] && break; sleep 0.05; done
for store in "$tmp/lmdb" "redis://$tmp/redis.sock"; do
	xargs "$DSPAM" --store "$store" train --spam < "$tmp/train.spam" 2>/dev/null
	xargs "$DSPAM" --store "$store" train --ham < "$tmp/train.ham" 2>/dev/null
done

declare -A PID SOCK
# start NAME STORE-YAML DSPAM-OPTIONS [MODULE] (empty: hello alone; "msg": msgplug)
start() {
	local name=$1 store=$2 opts=$3 module=${4:-dspam}
	{
		echo "plugin_dir: $top_builddir/.libs"
		echo "log: { level: warning }"
		echo "store: $store"
		echo "plugins:"
		if [ "$opts" = msg ]; then
			echo "  msg: { module: $top_builddir/tests/plugins/.libs/msgplug.so }"
			echo "chains: [ { name: all, plugins: [msg] } ]"
		elif [ -n "$opts" ]; then
			echo "  dspam: { module: $module, options: { $opts } }"
			echo "chains: [ { name: all, plugins: [dspam] } ]"
		else
			echo "  hello: { module: hello, options: { greeting: world } }"
			echo "chains: [ { name: all, plugins: [hello] } ]"
		fi
	} > "$tmp/$name.yaml"
	bench_daemon "$name" "$tmp/$name.yaml"
}
for m in notrain toe teft toe-q teft-q notrain-r teft-qr old-notrain old-toe old-teft; do cp -r "$tmp/lmdb" "$tmp/lmdb-$m"; done
NAMES="hello msg bare bare-msg notrain toe teft toe-q teft-q notrain-r teft-qr toe-redis toe-redis-q"
if [ -n "$OLD" ]; then
	for m in notrain toe teft; do start "old-$m" "$tmp/lmdb-old-$m" "training: $m" "$OLD"; done
	NAMES="$NAMES old-notrain old-toe old-teft"
fi
start hello "$tmp/lmdb-hello" ""
[ -f "$top_builddir/tests/plugins/.libs/msgplug.so" ] || { echo "SKIP: make check builds tests/plugins/msgplug.la"; exit 77; }
start msg "$tmp/lmdb-msg" msg
[ -x "$top_builddir/tests/bench/bare-filter" ] || { echo "SKIP: make check builds tests/bench/bare-filter"; exit 77; }
for name in bare bare-msg; do
	p=$(port)
	"$top_builddir/tests/bench/bare-filter" -p "inet:$p@127.0.0.1" \
	    $([ $name = bare-msg ] && echo -M) 2>"$tmp/$name.log" &
	PID[$name]=$!
	SOCK[$name]="inet:$p@127.0.0.1"
	pids+=($!)
done
start notrain "$tmp/lmdb-notrain" "training: notrain"
start toe "$tmp/lmdb-toe" "training: toe"
start teft "$tmp/lmdb-teft" "training: teft"
start toe-q "$tmp/lmdb-toe-q" "training: toe, durability: queued"
start teft-q "$tmp/lmdb-teft-q" "training: teft, durability: queued"
start notrain-r "$tmp/lmdb-notrain-r" "training: notrain, headers: result"
start teft-qr "$tmp/lmdb-teft-qr" "training: teft, durability: queued, headers: result"
start toe-redis "{ backend: redis, socket: $tmp/redis.sock }" "training: toe"
start toe-redis-q "{ backend: redis, socket: $tmp/redis.sock }" "training: toe, durability: queued"
sleep 1
for name in "${!PID[@]}"; do
	kill -0 "${PID[$name]}" 2>/dev/null || { cat "$tmp/$name.log"; exit 1; }
done
for ((r = 0; r < RUNS; r++)); do
	for name in $NAMES; do
		bench_round "${PID[$name]}" "$N" "$tmp/$name.out" a -s "${SOCK[$name]}" \
		    -c "$CONC" --warmup 200 "${MSGS[@]}"
	done
done
for name in ${NAMES#hello msg bare bare-msg }; do
	grep -qi 'error\|fail' "$tmp/$name.log" && { echo "$name: errors:"; cat "$tmp/$name.log"; exit 1; }
done
python3 -c '
import os, statistics, sys
tmp, runs, n, conc = sys.argv[1:5]
def load(name):
    rows = [list(map(float, l.split())) for l in open("%s/%s.out" % (tmp, name))]
    return [statistics.median(c) for c in zip(*rows)]
print("medians of %s runs, concurrency %s, %s messages per round (200 corpus messages cycled)" % (runs, conc, n))
print("%-34s %12s %9s %9s %10s" % ("", "CPU us/msg", "p50 ms", "p99 ms", "msg/s"))
h, m = load("hello")[0], load("msg")[0]
f = load("bare-msg")[0] if os.path.exists("%s/bare-msg.out" % tmp) else float("nan")
for k, label in (("hello", "modmilterd + hello (baseline)"),
                 ("msg", "modmilterd + msgplug (reads msg)"),
                 ("bare", "libmilter bare-filter (no modmilterd)"),
                 ("bare-msg", "bare-filter -M (reads msg, no reply)"),
                 ("notrain", "dspam notrain, LMDB"),
                 ("toe", "dspam toe, LMDB"), ("teft", "dspam teft, LMDB"),
                 ("toe-q", "dspam toe, LMDB, queued"), ("teft-q", "dspam teft, LMDB, queued"),
                 ("notrain-r", "dspam notrain, headers: result"),
                 ("teft-qr", "dspam teft, queued, headers: result"),
                 ("toe-redis", "dspam toe, Redis (unix socket)"),
                 ("toe-redis-q", "dspam toe, Redis, queued"),
                 ("old-notrain", "before: dspam notrain, LMDB"), ("old-toe", "before: dspam toe, LMDB"),
                 ("old-teft", "before: dspam teft, LMDB")):
    if not os.path.exists("%s/%s.out" % (tmp, k)):
        continue
    x = load(k)
    print("%-34s %12.1f %9.3f %9.3f %10.0f   CPU %.2fx hello, %.2fx msgplug, %.2fx bare-msg" % (
        label, x[0], x[1], x[2], x[3], x[0] / h, x[0] / m, x[0] / f))
' "$tmp" "$RUNS" "$N" "$CONC"
