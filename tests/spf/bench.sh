#!/bin/bash
# CPU per message and latency of modmilterd with only the spf plugin,
# against pyspf-milter (Debian package) configured alike and against the
# bare libmilter filter of tests/bench/run.sh (the floor), measured in one
# run with modmilter-bench over the milter protocol. Everything runs in a
# private network namespace where nsd serves the zones, so both SPF
# daemons ask the same real DNS server; modmilterd's answers come from
# libspf2's cache after the first message. Medians over RUNS rounds,
# alternating the daemons so that machine noise hits all of them.
#
#   tests/spf/bench.sh [-r RUNS] [-n MESSAGES] [-p PYSPF_MESSAGES] [-c CONCURRENCY]
#
# Two cases: a sender whose domain passes (the message is accepted, with
# an Authentication-Results header) and one whose domain fails (refused
# at MAIL FROM). A third modmilterd, with both headers turned off, shows
# the cost of the check alone: it accepts the message at MAIL FROM, so
# the MTA sends nothing more of it. The client is modmilter-bench's 192.0.2.1, HELO
# client.example.com, which passes SPF. CPU is utime+stime of the daemon
# process, all threads (/proc/PID/stat).
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
export top_srcdir top_builddir
. "$top_srcdir/tests/spf/netns.sh"
RUNS=5 N=20000 NPY=2000 CONC=8
while getopts r:n:p:c: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; p) NPY=$OPTARG ;; c) CONC=$OPTARG ;;
	*) exit 2 ;; esac
done
for c in pyspf-milter python3; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
[ -x "$top_builddir/tests/bench/bare-filter" ] ||
	{ echo "SKIP: tests/bench/bare-filter not built (make check builds it)"; exit 77; }
spf_netns_enter "$0" "$@"
spf_netns_up

MSGS=("$top_srcdir"/tests/bench/messages/*.eml)
tmp=$(mktemp -d /tmp/spfbench.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; spf_dns_stop; [ -n "${SPF_BENCH_KEEP-}" ] || rm -rf "$tmp"' EXIT

spf_bench_dns 'pass  TXT "v=spf1 ip4:192.0.2.0/24 -all"
fail  TXT "v=spf1 ip4:198.51.100.0/24 -all"'

wait_listen() {	# wait_listen PORT PID
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

P1=$(port); P2=$(port); P3=$(port); P4=$(port)
cat >"$tmp/spf.yaml" <<EOF
plugin_dir: $top_builddir/.libs
store: $tmp/store
authserv_id: mx.example.com
log: { level: warning }
plugins:
  spf: { module: spf, options: { received_spf: false, authentication_results: true } }
chains:
  - name: inbound
    plugins: [spf]
EOF
sed -e 's/received_spf: false, authentication_results: true/received_spf: false, authentication_results: false/' \
    -e "s|store: .*|store: $tmp/store2|" "$tmp/spf.yaml" >"$tmp/spf-nohdr.yaml"
# pyspf-milter alike: HELO and MAIL FROM checked, fail rejected, an
# Authentication-Results header otherwise
cat >"$tmp/pyspf.conf" <<EOF
debugLevel = 0
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = True
TempError_Defer = True
skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1
Socket = inet:$P2@127.0.0.1
PidFile = $tmp/pyspf/pyspf-milter.pid
UserID = root
Authserv_Id = mx.example.com
EOF
mkdir -p "$tmp/pyspf"
"$top_builddir/modmilterd" -f -c "$tmp/spf.yaml" -l "inet:$P1@127.0.0.1" 2>"$tmp/modmilterd.log" &
MPID=$!; pids+=("$MPID")
pyspf-milter "$tmp/pyspf.conf" >"$tmp/pyspf.log" 2>&1 &
YPID=$!; pids+=("$YPID")
"$top_builddir/tests/bench/bare-filter" -p "inet:$P3@127.0.0.1" 2>"$tmp/bare.log" &
BPID=$!; pids+=("$BPID")
"$top_builddir/modmilterd" -f -c "$tmp/spf-nohdr.yaml" -l "inet:$P4@127.0.0.1" 2>"$tmp/modmilterd2.log" &
NPID=$!; pids+=("$NPID")
wait_listen "$P1" "$MPID" || { cat "$tmp/modmilterd.log"; exit 1; }
wait_listen "$P2" "$YPID" || { cat "$tmp/pyspf.log"; exit 1; }
wait_listen "$P3" "$BPID" || { cat "$tmp/bare.log"; exit 1; }
wait_listen "$P4" "$NPID" || { cat "$tmp/modmilterd2.log"; exit 1; }

# run_one NAME PID PORT COUNT FROM EXPECT: appends "cpu_us p50 p99 rate" to
# $tmp/NAME; EXPECT is the verdict every message must get (a: accept /
# continue at end of message, r: reject)
run_one() {
	bench_round "$2" "$4" "$tmp/$1" "$6" -s "inet:$3@127.0.0.1" -c "$CONC" \
	    --warmup 100 -f "$5" "${MSGS[@]}"
}

for ((r = 0; r < RUNS; r++)); do
	run_one spf-pass "$MPID" "$P1" "$N" user@pass.example.org a
	run_one pyspf-pass "$YPID" "$P2" "$NPY" user@pass.example.org a
	run_one bare "$BPID" "$P3" "$N" user@pass.example.org a
	run_one spf-fail "$MPID" "$P1" "$N" user@fail.example.org r
	run_one pyspf-fail "$YPID" "$P2" "$NPY" user@fail.example.org r
	run_one spf-nohdr "$NPID" "$P4" "$N" user@pass.example.org a
done
python3 - "$tmp" "$RUNS" "$N" "$NPY" "$CONC" <<'EOF'
import statistics, sys
tmp, runs, n, npy, conc = sys.argv[1:]
def load(name):
    rows = [list(map(float, l.split())) for l in open("%s/%s" % (tmp, name))]
    return [statistics.median(c) for c in zip(*rows)]
r = {k: load(k) for k in ("spf-pass", "pyspf-pass", "bare", "spf-fail", "pyspf-fail", "spf-nohdr")}
print("medians of %s rounds, concurrency %s; %s messages per round (pyspf-milter: %s)" % (runs, conc, n, npy))
print("%-36s %11s %8s %8s %9s" % ("", "CPU us/msg", "p50 ms", "p99 ms", "msg/s"))
for k, label in (("spf-pass", "modmilterd + spf, SPF pass"), ("pyspf-pass", "pyspf-milter, SPF pass"),
                 ("spf-fail", "modmilterd + spf, SPF fail"), ("pyspf-fail", "pyspf-milter, SPF fail"),
                 ("spf-nohdr", "modmilterd + spf, pass, no headers"),
                 ("bare", "bare libmilter filter (floor)")):
    v = r[k]
    print("%-36s %11.1f %8.3f %8.3f %9.0f" % (label, v[0], v[1], v[2], v[3]))
for case in ("pass", "fail"):
    print("CPU ratio modmilterd+spf / pyspf-milter, %s: %.3f" % (case, r["spf-" + case][0] / r["pyspf-" + case][0]))
for case in ("pass", "fail"):
    print("CPU ratio modmilterd+spf / bare filter, %s: %.2f" % (case, r["spf-" + case][0] / r["bare"][0]))
print("CPU ratio modmilterd+spf without headers / bare filter, pass: %.2f" % (r["spf-nohdr"][0] / r["bare"][0]))
EOF
