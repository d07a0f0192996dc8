#!/bin/bash
# CPU per message of modmilterd with the wiretap plugin against modmilterd
# with the hello plugin (the core-with-hello figure of doc/PERFORMANCE.md),
# measured in one run with modmilter-bench over the milter protocol;
# medians over RUNS rounds, the daemons taking turns so that machine noise
# hits all of them.
#
#   tests/wiretap/bench.sh [-r RUNS] [-n MESSAGES] [-a ARCHIVED] [-c CONCURRENCY]
#
# Daemons, each with its own configuration:
#   hello            hello alone (the baseline)
#   wiretap          wiretap alone, the issue's configuration (two groups,
#                    one with an archive, a smart alias); no group matches
#   hello+wiretap    both in one chain; no group matches
#   copy             a matching group with copy_to only      (ARCHIVED messages)
#   copy+archive     the same group also archiving (Maildir)  (ARCHIVED messages)
# The cost of archiving is copy+archive minus copy: one Maildir file written,
# fsync'ed and moved per message. Archives go to a directory under $TMPDIR
# (default /var/tmp: a disk, not a tmpfs), emptied between rounds.
# CPU is utime+stime of each daemon process (all threads, /proc/PID/stat).
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
RUNS=5 N=20000 NA=5000 CONC=8
while getopts r:n:a:c: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; a) NA=$OPTARG ;; c) CONC=$OPTARG ;; *) exit 2 ;; esac
done
MSGS=("$top_srcdir"/tests/bench/messages/*.eml)
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/wiretap-bench.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/archive"


WIRETAP="{ module: wiretap, options: {
      groups: [
        { name: legal-hold, watch: [alice@corp.example, \"@subsidiary.example\"],
          direction: both, copy_to: [monitor@corp.example], blind: true,
          archive: $tmp/archive },
        { name: gag, watch: [bigmouth@corp.example], direction: outgoing,
          discard: true, copy_to: [spy@corp.example] } ],
      smart_alias: [ { from: client@clientcorp.example, to: sue@corp.example,
                       deliver_to: [copycust@corp.example] } ] } }"
COPY="{ module: wiretap, options: { groups: [ { name: tap,
      watch: [alice@corp.example], copy_to: [monitor@corp.example] } ] } }"
ARCHIVE="{ module: wiretap, options: { groups: [ { name: tap,
      watch: [alice@corp.example], copy_to: [monitor@corp.example],
      archive: $tmp/archive } ] } }"
declare -A PID SOCK

# run_one NAME COUNT [BENCH-ARGS]: appends "cpu_us p50 p99 rate" to $tmp/NAME.out
run_one() {
	local name=$1 n=$2
	shift 2
	bench_round "${PID[$name]}" "$n" "$tmp/$name.out" - -s "${SOCK[$name]}" \
	    -c "$CONC" --warmup 200 "$@" "${MSGS[@]}"
}

bench_chain hello hello
bench_chain wiretap audit audit "$WIRETAP"
bench_chain hello+wiretap "hello, audit" audit "$WIRETAP"
bench_chain copy tap tap "$COPY"
bench_chain copy+archive tap tap "$ARCHIVE"
sleep 1
for name in "${!PID[@]}"; do
	kill -0 "${PID[$name]}" 2>/dev/null || { cat "$tmp/$name.log"; exit 1; }
done
for ((r = 0; r < RUNS; r++)); do
	run_one hello "$N"
	run_one wiretap "$N"
	run_one hello+wiretap "$N"
	run_one copy "$NA" -r alice@corp.example
	run_one copy+archive "$NA" -r alice@corp.example
	rm -rf "${tmp:?}/archive/"*
done
python3 -c '
import statistics, sys
tmp, runs, n, na, conc = sys.argv[1:6]
def load(name):
    rows = [list(map(float, l.split())) for l in open("%s/%s.out" % (tmp, name))]
    return [statistics.median(c) for c in zip(*rows)]
v = {k: load(k) for k in ("hello", "wiretap", "hello+wiretap", "copy", "copy+archive")}
print("medians of %s runs, concurrency %s; %s messages per round (copy runs: %s)" % (runs, conc, n, na))
print("%-40s %12s %9s %9s %10s" % ("", "CPU us/msg", "p50 ms", "p99 ms", "msg/s"))
labels = (("hello", "modmilterd + hello"),
          ("wiretap", "modmilterd + wiretap, no match"),
          ("hello+wiretap", "modmilterd + hello + wiretap, no match"),
          ("copy", "wiretap, match, copy_to"),
          ("copy+archive", "wiretap, match, copy_to + archive"))
for k, label in labels:
    x = v[k]
    print("%-40s %12.1f %9.3f %9.3f %10.0f" % (label, x[0], x[1], x[2], x[3]))
h = v["hello"][0]
print("CPU ratio wiretap (no match) / hello:          %.2f" % (v["wiretap"][0] / h))
print("CPU ratio hello+wiretap (no match) / hello:    %.2f" % (v["hello+wiretap"][0] / h))
print("archiving: +%.1f us CPU/msg, +%.3f ms p50 latency per message" % (
    v["copy+archive"][0] - v["copy"][0], v["copy+archive"][1] - v["copy"][1]))
' "$tmp" "$RUNS" "$N" "$NA" "$CONC"
