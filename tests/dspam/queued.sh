#!/bin/bash
# durability: queued. The daemon answers a message once its training is
# queued for the store's writer thread, not once it is committed. The
# store's commits are stalled at will by holding LMDB's write lock from
# another process (tests/store/lmdb-hold), so each case is exact; the
# command line's stats reads the store while it is held (an existing
# database opens without the writer's lock):
# - with durability: commit, a stalled store holds the answer;
# - queued: messages are answered while the store is stalled, and
#   counted once it commits, not before;
# - queue_max bounds what waits: the message after it waits for room;
# - detached (as deployed, no -f): a reload while the store is stalled
#   keeps answering, and the old instance's queue is committed, not
#   lost; SIGTERM commits the queue before the daemon exits;
# - SIGKILL loses the queued training (at most queue_max messages) and
#   nothing else: the store opens and the daemon classifies again.
. "${top_srcdir:-.}/tests/lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
BENCH="$top_builddir/modmilter-bench"
HOLD="$top_builddir/tests/store/lmdb-hold"
[ -x "$DSPAM" ] && [ -f "$PLUGINS/dspam.so" ] || { echo "SKIP: the dspam plugin is not built"; exit 77; }
[ -x "$HOLD" ] || { echo "SKIP: tests/store/lmdb-hold is not built"; exit 77; }
need_cmd python3
M="$top_srcdir/tests/dspam/messages"
checks_init
trap 'exec 7>&- 2>/dev/null; kill -9 $DAEMON_PID $HOLD_PID 2>/dev/null; rm -rf "$tmp"' EXIT
"$DSPAM" --store "$tmp/store" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$tmp/store" train --ham "$M"/ham[1-4].eml 2>/dev/null || { echo "FAIL training"; exit 1; }

conf() {	# conf DURABILITY QUEUE_MAX
	cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
log: { level: info, to: stderr, file: $tmp/detached.log }
pidfile: $tmp/d.pid
store: $tmp/store
plugins:
  dspam: { module: dspam, options: { training: teft, durability: $1, queue_max: $2 } }
chains: [ { name: all, plugins: [dspam] } ]
EOC
}
classified() {	# read while the store is held too: 10 s at most
	timeout 10 "$DSPAM" --store "$tmp/store" stats |
		awk -F: '/^(spam|innocent) classified/ { n += $2 } END { print n + 0 }'
}
hold() {	# stall the store's commits until release
	rm -f "$tmp/hold.in"; mkfifo "$tmp/hold.in"
	"$HOLD" "$tmp/store" < "$tmp/hold.in" > "$tmp/hold.out" 2>&1 &
	HOLD_PID=$!
	exec 7> "$tmp/hold.in"
	for i in $(seq 1 100); do
		grep -q held "$tmp/hold.out" && return 0
		sleep 0.1
	done
	cat "$tmp/hold.out"; return 1
}
release() { exec 7>&-; wait $HOLD_PID; HOLD_PID=; }
bench() {	# bench N TIMEOUT: N messages, one connection at a time; prints "accepted errors"
	"$BENCH" -s "unix:$tmp/sock" -c 1 -n "$1" --warmup 0 -t "$2" --json \
		"$M"/spam5.eml "$M"/ham5.eml > "$tmp/bench.json" 2>/dev/null
	python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
print(sum(n for k, n in o["verdicts"].items() if k in ("accept", "continue")), o["errors"])' "$tmp/bench.json"
}
wait_classified() {	# wait_classified N: up to 10 s
	for i in $(seq 1 50); do
		[ "$(classified)" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
start() {	# start [detached]: the first message opens the store
	rm -f "$tmp/sock" "$tmp/d.pid"
	if [ "$1" = detached ]; then	# returns once the daemon is ready
		"$MODMILTERD" -c "$tmp/c.yaml" -l "unix:$tmp/sock" > "$tmp/daemon.log" 2>&1 &&
			DAEMON_PID=$(cat "$tmp/d.pid") ||
			{ cat "$tmp/daemon.log" "$tmp/detached.log"; echo "FAIL: detached daemon"; exit 1; }
	else
		start_daemon "$tmp/c.yaml" "unix:$tmp/sock" "$tmp/daemon.log" || { cat "$tmp/daemon.log"; echo "FAIL: daemon"; exit 1; }
	fi
	[ "$(bench 1 10)" = "1 0" ] || { cat "$tmp/daemon.log"; echo "FAIL: first message"; exit 1; }
}
# queue_held N WHAT [PASS]: hold the store, then N messages must all be
# answered (queued, not committed); n0 is the count before them
queue_held() {
	n0=$(classified)
	hold || ko "hold the store"
	r=$(bench "$1" 5)
	if [ "$r" = "$1 0" ]; then
		[ -z "$3" ] || ok "$3"
	else
		ko "$2: accepted/errors $r, wanted $1 0"
	fi
}

# --- commit: the answer waits for the commit ---
conf commit 16
start
n0=$(classified)
hold || ko "hold the store"
r=$(bench 1 3)
[ "$r" = "0 1" ] && ok "durability commit: no answer while the store cannot commit" || ko "commit with a stalled store: accepted/errors $r"
release
wait_classified $((n0 + 1)) && ok "commit: counted once the store commits" || ko "commit: counted $(classified), wanted $((n0 + 1))"
stop_daemon

# --- queued: answered before the commit, counted after it ---
conf queued 16
start
queue_held 12 queued "queued: 12 messages answered while the store cannot commit"
[ "$(classified)" = "$n0" ] && ok "queued: not counted before the commit (stats reads a held store)" || ko "queued, held: counted '$(classified)', wanted $n0"
release
wait_classified $((n0 + 12)) && ok "queued: all 12 counted once the store commits" || ko "queued: counted $(classified), wanted $((n0 + 12))"

# --- queue_max: the 17th message waits for room ---
n0=$(classified)
hold || ko "hold the store"
r=$(bench 18 2)
[ "$r" = "16 2" ] && ok "queue_max 16: 16 answered, the next ones wait" || ko "queue_max: accepted/errors $r"
release
# the two whose clients gave up are counted once there is room, as a
# message in flight would be
wait_classified $((n0 + 18)) && ok "queue_max: what waited is committed after" || ko "queue_max: counted $(classified), wanted $((n0 + 18))"

stop_daemon

# --- detached: a reload while the store is stalled ---
start detached
queue_held 10 "before the reload"
kill -USR1 $DAEMON_PID
sleep 1
# the old instance's fini waits to commit its queue; the new one serves
r=$(bench 4 5)
[ "$r" = "4 0" ] && ok "detached: answers during a reload while the old instance's queue waits" || ko "during the reload: accepted/errors $r"
release
wait_classified $((n0 + 14)) && ok "detached reload: the old instance's 10 and the new one's 4 are counted" || ko "reload: counted $(classified), wanted $((n0 + 14))"
grep -q "reloaded" "$tmp/detached.log" && ok "detached: the reload is done" || ko "reload not logged"

# --- detached: SIGTERM commits the queue before the exit ---
queue_held 10 "before SIGTERM"
kill -TERM $DAEMON_PID
sleep 2
kill -0 $DAEMON_PID 2>/dev/null && ok "detached SIGTERM: the daemon waits for the queued commits" || ko "SIGTERM: exited with its queue uncommitted"
grep -q "committing the training of 10 queued messages before the instance stops" "$tmp/detached.log" &&
	ok "detached SIGTERM: the wait is logged" || ko "SIGTERM: the wait for the queue is not logged"
release
gone $DAEMON_PID 30 || ko "SIGTERM: still running 30 s after the release"
[ "$(classified)" = $((n0 + 10)) ] && ok "detached SIGTERM: the 10 queued messages are counted" || ko "SIGTERM: counted $(classified), wanted $((n0 + 10))"

# --- SIGKILL loses the queue, and nothing else ---
start
queue_held 10 "before SIGKILL"
kill -9 $DAEMON_PID; wait $DAEMON_PID 2>/dev/null
release
[ "$(classified)" = "$n0" ] && ok "SIGKILL: the 10 queued messages' training is lost (at most queue_max)" || ko "SIGKILL: counted $(classified), wanted $n0"
start
r=$(bench 4 5)
[ "$r" = "4 0" ] && ok "after SIGKILL: the daemon classifies again" || ko "after SIGKILL: accepted/errors $r"
stop_daemon
# start()'s first message and these 4
[ "$(classified)" = $((n0 + 5)) ] && ok "after SIGKILL: the store counts again" || ko "after SIGKILL: counted $(classified), wanted $((n0 + 5))"
[ "$fails" = 0 ]
