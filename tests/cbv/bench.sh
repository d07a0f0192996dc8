#!/bin/sh
# CPU per message of a cached cbv verdict against the same daemon without
# cbv, measured in one run with modmilter-bench over the milter protocol
# (medians over RUNS rounds, the two daemons alternating), and the latency
# of a real probe (nsd + an smtp-sink peer in a private network namespace).
#
#   tests/cbv/bench.sh [-r RUNS] [-n MESSAGES] [-c CONCURRENCY]
#
# The baseline chain is the plugin that flags the sender for verification
# (it stands for spf); the measured chain is the same plugin then cbv, with
# the sender's verdict in the cache after the first message.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/cbv/lib.sh"
cbv_enter_netns "$@"
RUNS=5 N=20000 CONC=8
while getopts r:n:c: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CONC=$OPTARG ;; *) exit 2 ;; esac
done
need_cmd python3
cbv_net_setup
BENCH="$top_builddir/modmilter-bench"
MSG="$top_srcdir/tests/bench/messages/plain-2k.eml"
TICK=$(getconf CLK_TCK)

for which in base cbv; do
	{
		echo "plugin_dir: $PLUGINS"
		echo "store: $tmp/store"
		echo "log: { level: warning }"
		echo "networks: { internal: [10.0.0.0/8] }"
		echo "plugins:"
		echo "  flag: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.verify, value: \"1\" } } }"
		echo "  cbv: { module: cbv, options: { helo_name: mx.example.com, allow_networks: [192.0.2.0/24] } }"
		echo "chains:"
		[ $which = base ] && echo "  - { name: in, plugins: [flag] }" ||
			echo "  - { name: in, plugins: [flag, cbv] }"
	} > "$tmp/$which.yaml"
done
"$MODMILTERD" -f -c "$tmp/base.yaml" -l inet:8891@127.0.0.1 2> "$tmp/base.log" &
BPID=$!; pids="$pids $BPID"
"$MODMILTERD" -f -c "$tmp/cbv.yaml" -l inet:8892@127.0.0.1 2> "$tmp/cbv.log" &
CPID=$!; pids="$pids $CPID"
sleep 1

# the probe's latency, first message from a new sender each time
: > "$tmp/probe"
for i in 1 2 3 4 5; do
	"$BENCH" -s inet:8892@127.0.0.1 -c 1 -n 1 -f "new$i@ok.example.net" --json "$MSG" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["latency_ms"]["p50"])' >> "$tmp/probe"
done
# warm the cache for the measured sender
"$BENCH" -s inet:8892@127.0.0.1 -c 1 -n 1 -f alice@ok.example.net "$MSG" > /dev/null

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
run_one() { # NAME PID PORT
	t0=$(cpu "$2")
	out=$("$BENCH" -s "inet:$3@127.0.0.1" -c "$CONC" -n "$N" --warmup 200 \
	    -f alice@ok.example.net --json "$MSG")
	t1=$(cpu "$2")
	python3 -c '
import json, sys
o = json.loads(sys.argv[1]); t0, t1, tick, n = map(float, sys.argv[2:])
if o["errors"]: sys.exit("bench errors: %s" % o["errors"])
print("%.2f %.3f %.0f" % ((t1 - t0) / tick * 1e6 / n, o["latency_ms"]["p50"], o["messages_per_second"]))
' "$out" "$t0" "$t1" "$TICK" "$N" >> "$tmp/$1"
}
r=0
while [ $r -lt "$RUNS" ]; do
	run_one cbv "$CPID" 8892
	run_one base "$BPID" 8891
	r=$((r + 1))
done
grep -c 'probe of' "$tmp/cbv.log" > "$tmp/nprobes" || :
python3 - "$tmp" "$RUNS" "$N" "$CONC" <<'EOP'
import statistics, sys
d, runs, n, conc = sys.argv[1:]
def load(p):
    rows = [list(map(float, l.split())) for l in open(p)]
    return [statistics.median(c) for c in zip(*rows)]
c, b = load(d + "/cbv"), load(d + "/base")
probe = [float(l) for l in open(d + "/probe")]
print("medians of %s runs, %s messages each, concurrency %s" % (runs, n, conc))
print("%-28s %12s %9s %10s" % ("", "CPU us/msg", "p50 ms", "msg/s"))
print("%-28s %12.1f %9.3f %10.0f" % ("flag + cbv (cached verdict)", c[0], c[1], c[2]))
print("%-28s %12.1f %9.3f %10.0f" % ("flag only (baseline)", b[0], b[1], b[2]))
print("CPU ratio cached cbv/baseline: %.2f" % (c[0] / b[0]))
print("probe latency (new sender, accepting peer), median of %d: %.1f ms" % (len(probe), statistics.median(probe)))
EOP
