#!/bin/sh
# Group commit (plugins/dspam/gcommit.c) keeps every answer durable: the
# daemon, classifying with TEFT on LMDB for 8 clients at once, is killed
# (SIGKILL) in the middle of its writes; every message the client saw
# accepted must be counted in the dictionary, and no message counted
# more than once: accepted <= counted <= accepted + the messages still
# in flight (8). Then the store opens and the daemon classifies again.
. "${top_srcdir:-.}/tests/lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
BENCH="$top_builddir/modmilter-bench"
[ -x "$DSPAM" ] && [ -f "$PLUGINS/dspam.so" ] || { echo "SKIP: the dspam plugin is not built"; exit 77; }
need_cmd python3
M="$top_srcdir/tests/dspam/messages"
tmp=$(mktemp -d /tmp/mmdspamgc.XXXXXX)
trap 'kill -9 $DAEMON_PID 2>/dev/null; rm -rf "$tmp"' EXIT
"$DSPAM" --store "$tmp/store" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$tmp/store" train --ham "$M"/ham[1-4].eml 2>/dev/null || { echo "FAIL training"; exit 1; }
cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
log: { level: warning }
store: $tmp/store
plugins:
  dspam: { module: dspam, options: { training: teft } }
chains: [ { name: all, plugins: [dspam] } ]
EOC
classified() {
	"$DSPAM" --store "$tmp/store" stats |
		awk -F: '/^(spam|innocent) classified/ { n += $2 } END { print n + 0 }'
}
before=$(classified)
start_daemon "$tmp/c.yaml" "unix:$tmp/sock" "$tmp/daemon.log" || { cat "$tmp/daemon.log"; echo "FAIL: daemon"; exit 1; }
"$BENCH" -s "unix:$tmp/sock" -c 8 -n 20000 --warmup 0 -t 5 --json \
	"$M"/spam5.eml "$M"/ham5.eml "$M"/spam6.eml "$M"/ham6.eml > "$tmp/bench.json" 2>/dev/null &
bench=$!
# kill once some hundreds are answered, in the middle of the stream
sleep 2
kill -9 $DAEMON_PID
wait $DAEMON_PID 2>/dev/null
wait $bench
after=$(classified)
python3 - "$tmp/bench.json" "$before" "$after" <<'PY' || exit 1
import json, sys
o = json.load(open(sys.argv[1]))
before, after = int(sys.argv[2]), int(sys.argv[3])
v = o["verdicts"]
accepted = sum(n for k, n in v.items() if k in ("accept", "continue"))
others = {k: n for k, n in v.items() if k not in ("accept", "continue")}
counted = after - before
print("accepted %d, counted %d, other verdicts %s, errors %d" % (accepted, counted, others, o["errors"]))
if accepted == 0 or o["errors"] == 0:
    sys.exit("FAIL: the daemon was not killed mid-stream")
if others:
    sys.exit("FAIL: verdicts other than accept before the kill")
if counted < accepted:
    sys.exit("FAIL: %d accepted messages not counted (lost)" % (accepted - counted))
if counted > accepted + 8:
    sys.exit("FAIL: %d more counted than accepted or in flight" % (counted - accepted - 8))
PY
# the store is whole: the daemon starts and classifies again
start_daemon "$tmp/c.yaml" "unix:$tmp/sock2" "$tmp/daemon2.log" || { cat "$tmp/daemon2.log"; echo "FAIL: restart"; exit 1; }
"$BENCH" -s "unix:$tmp/sock2" -c 2 -n 20 --warmup 0 "$M"/spam5.eml > "$tmp/bench2.out" 2>&1 ||
	{ cat "$tmp/bench2.out" "$tmp/daemon2.log"; echo "FAIL: after restart"; exit 1; }
stop_daemon
[ "$(classified)" -eq "$((after + 20))" ] || { echo "FAIL: after restart: $(classified), wanted $((after + 20))"; exit 1; }
echo "PASS: group commit: nothing accepted was lost, nothing counted twice"
