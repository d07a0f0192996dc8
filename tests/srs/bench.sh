#!/bin/bash
# CPU per message of modmilterd with the srs plugin in the chain against
# the same chain without it, measured in one run with modmilter-bench over
# the milter protocol, plus the bare libmilter filter (the floor of
# doc/PERFORMANCE.md); medians over RUNS rounds, the daemons taking turns
# so that machine noise hits all of them.
#
#   tests/srs/bench.sh [-u] [-r RUNS] [-n MESSAGES] [-c CONCURRENCY]
#
# -u: UNIX-domain sockets instead of TCP on loopback.
#
# Daemons and loads:
#   bare          tests/bench/bare-filter (the floor)
#   bare-rcpt-nr  the bare filter receiving RCPT without a reply (-m
#                 rcpt-nr), as modmilterd negotiates it for [hello]
#   bare-rcpt     the bare filter replying at RCPT (-m rcpt): the
#                 protocol work of the pass load
#   bare-chgfrom  and one CHGFROM at end of message (-m chgfrom): that
#                 of the sign load
#   bare-swap     and DELRCPT + ADDRCPT at end of message (-m rcpt-swap):
#                 that of the reverse load
#   hello         modmilterd, chain [hello] (the chain without srs)
#   sign          chain [hello, srs], sign: always; every message is
#                 forwarded mail (a sender elsewhere, a remote recipient):
#                 one HMAC and a CHGFROM per message
#   pass          the same daemon; a local sender: nothing to do
#   reverse       the same daemon; the recipient is a valid SRS0 address:
#                 one HMAC check, DELRCPT + ADDRCPT per message
# CPU is utime+stime of each daemon process (all threads, /proc/PID/stat).
# srs's extra cost is printed both ways: above [hello] as a share of the
# floor, and above what the bare filter pays for the same protocol
# messages ((LOAD - hello) - (bare-MODE - bare-rcpt-nr)): the part that
# is ours rather than the milter protocol's.
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
RUNS=5 N=20000 CONC=8 BENCH_UNIX=0
while getopts ur:n:c: o; do
	case $o in
	u) BENCH_UNIX=1 ;; r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CONC=$OPTARG ;;
	*) exit 2 ;;
	esac
done
MSGS=("$top_srcdir"/tests/bench/messages/*.eml)
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/srs-bench.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
declare -A PID SOCK

SECRET="bench secret"
SRS="{ module: srs, options: { fwdomain: corp.example, secret: \"$SECRET\",
      local_domains: [corp.example], sign: always, reject_spoofed: true } }"
bench_chain hello hello
bench_chain srs "hello, srs" srs "$SRS"
# bare_filter NAME MODE: the bare libmilter filter in MODE
bare_filter() {
	SOCK[$1]=$(bench_socket "$1")
	"$top_builddir/tests/bench/bare-filter" -p "${SOCK[$1]}" -m "$2" 2>"$tmp/$1.log" &
	PID[$1]=$!
	pids+=($!)
}
bare_filter bare hello
bare_filter bare-rcpt-nr rcpt-nr
bare_filter bare-rcpt rcpt
bare_filter bare-chgfrom chgfrom
bare_filter bare-swap rcpt-swap
sleep 1
for name in "${!PID[@]}"; do
	kill -0 "${PID[$name]}" 2>/dev/null || { cat "$tmp/$name.log"; exit 1; }
done
# a valid SRS0 address of today, for the reverse load
rev=$("$top_builddir/modmilter-srs" -s "$SECRET" -d corp.example forward alice@example.net)

# run_one LABEL DAEMON [BENCH-ARGS]: appends "cpu_us p50 p99 rate" to $tmp/LABEL.out
run_one() {
	local label=$1 name=$2
	shift 2
	bench_round "${PID[$name]}" "$N" "$tmp/$label.out" a -s "${SOCK[$name]}" \
	    -c "$CONC" --warmup 200 "$@" "${MSGS[@]}"
}
for ((r = 0; r < RUNS; r++)); do
	run_one bare bare -f alice@example.net -r bob@remote.example
	run_one bare-rcpt-nr bare-rcpt-nr -f carol@corp.example -r bob@remote.example
	run_one bare-rcpt bare-rcpt -f carol@corp.example -r bob@remote.example
	run_one bare-chgfrom bare-chgfrom -f alice@example.net -r bob@remote.example
	run_one bare-swap bare-swap -f alice@example.net -r "$rev"
	run_one hello hello -f alice@example.net -r bob@remote.example
	run_one sign srs -f alice@example.net -r bob@remote.example
	run_one pass srs -f carol@corp.example -r bob@remote.example
	run_one reverse srs -f alice@example.net -r "$rev"
done
# the loads did what they say
grep -q . "$tmp/srs.log" && { echo "daemon log:"; cat "$tmp/srs.log"; }
python3 -c '
import statistics, sys
tmp, runs, n, conc, unix = sys.argv[1:6]
def load(name):
    rows = [list(map(float, l.split())) for l in open("%s/%s.out" % (tmp, name))]
    return [statistics.median(c) for c in zip(*rows)]
v = {k: load(k) for k in ("bare", "hello", "sign", "pass", "reverse",
                          "bare-rcpt-nr", "bare-rcpt", "bare-chgfrom", "bare-swap")}
print("medians of %s runs, concurrency %s; %s messages per round; %s" % (
    runs, conc, n, "UNIX-domain sockets" if unix == "1" else "TCP on loopback"))
print("%-44s %12s %9s %9s %10s" % ("", "CPU us/msg", "p50 ms", "p99 ms", "msg/s"))
labels = (("bare", "bare libmilter filter (the floor)"),
          ("hello", "modmilterd, [hello] (without srs)"),
          ("sign", "modmilterd, [hello, srs]: signed"),
          ("pass", "modmilterd, [hello, srs]: local sender"),
          ("reverse", "modmilterd, [hello, srs]: SRS0 reversed"),
          ("bare-rcpt-nr", "bare filter + RCPT, no reply"),
          ("bare-rcpt", "bare filter + RCPT reply"),
          ("bare-chgfrom", "bare filter + RCPT reply + CHGFROM"),
          ("bare-swap", "bare filter + RCPT reply + DELRCPT/ADDRCPT"))
for k, label in labels:
    x = v[k]
    print("%-44s %12.1f %9.3f %9.3f %10.0f" % (label, x[0], x[1], x[2], x[3]))
h, f = v["hello"][0], v["bare"][0]
for k in ("sign", "pass", "reverse"):
    print("%-8s CPU ratio to [hello]: %.3f   extra CPU %+.1f us = %.1f %% of the floor" % (
        k, v[k][0] / h, v[k][0] - h, 100 * (v[k][0] - h) / f))
# the same protocol messages sent by the bare filter, from the
# negotiation modmilterd has for [hello] (RCPT without a reply): what is
# left is ours
nr = v["bare-rcpt-nr"][0]
for k, b in (("sign", "bare-chgfrom"), ("pass", "bare-rcpt"), ("reverse", "bare-swap")):
    proto = v[b][0] - nr
    ours = (v[k][0] - h) - proto
    print("%-8s protocol (%s - bare-rcpt-nr) %+.1f us = %.1f %% of the floor; "
          "srs above it %+.1f us = %.1f %% of the floor" % (
        k, b, proto, 100 * proto / f, ours, 100 * ours / f))
' "$tmp" "$RUNS" "$N" "$CONC" "$BENCH_UNIX"
