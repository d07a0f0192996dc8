#!/bin/bash
# CPU per message of modmilterd with the hello plugin against a bare
# libmilter filter doing the same work (tests/bench/bare-filter), measured
# in one run with modmilter-bench over the milter protocol; medians over
# RUNS rounds, alternating the two so that machine noise hits both.
#
#   tests/bench/run.sh [-r RUNS] [-n MESSAGES] [-c CONCURRENCY] [-k 'INSTANCE KEYS']
#
# -k adds core keys to the hello instance, e.g. -k 'timeout: 10s'.
# CPU is utime+stime of the filter process (all its threads, /proc/PID/stat).
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
RUNS=5 N=20000 CONC=8 KEYS=
while getopts r:n:c:k: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CONC=$OPTARG ;; k) KEYS=$OPTARG ;; *) exit 2 ;; esac
done
MSGS=("$top_srcdir"/tests/bench/messages/*.eml)
tmp=$(mktemp -d /tmp/mmbench.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT


# run_one NAME PID SOCKET: appends "cpu_us p50 p99 rate" to $tmp/NAME
run_one() {
	bench_round "$2" "$N" "$tmp/$1" - -s "$3" -c "$CONC" --warmup 200 "${MSGS[@]}"
}

P1=$(port); P2=$(port)
{
	echo "plugin_dir: $top_builddir/.libs"
	echo "log: { level: warning }"
	echo "plugins:"
	echo "  hello: { module: hello, ${KEYS:+$KEYS, }options: { greeting: world } }"
} > "$tmp/hello.yaml"
"$top_builddir/modmilterd" -f -c "$tmp/hello.yaml" -l "inet:$P1@127.0.0.1" 2>"$tmp/d.log" &
MPID=$!; pids+=($MPID)
"$top_builddir/tests/bench/bare-filter" -p "inet:$P2@127.0.0.1" 2>"$tmp/b.log" &
BPID=$!; pids+=($BPID)
sleep 1
for ((r = 0; r < RUNS; r++)); do
	run_one modmilterd "$MPID" "inet:$P1@127.0.0.1"
	run_one bare "$BPID" "inet:$P2@127.0.0.1"
done
python3 -c '
import statistics, sys
def load(p):
    rows = [list(map(float, l.split())) for l in open(p)]
    return [statistics.median(c) for c in zip(*rows)]
m, b = load(sys.argv[1]), load(sys.argv[2])
print("medians of %s runs, %s messages each, concurrency %s, hello keys: %s" % tuple(sys.argv[3:7]))
print("%-22s %12s %9s %9s %10s" % ("", "CPU us/msg", "p50 ms", "p99 ms", "msg/s"))
for name, v in (("modmilterd + hello", m), ("bare libmilter filter", b)):
    print("%-22s %12.1f %9.3f %9.3f %10.0f" % (name, v[0], v[1], v[2], v[3]))
print("CPU ratio modmilterd/bare: %.2f" % (m[0] / b[0]))
' "$tmp/modmilterd" "$tmp/bare" "$RUNS" "$N" "$CONC" "${KEYS:-none}"
