#!/bin/bash
# CPU per message of modmilterd with the chain spf + policy against spf
# alone and against the bare libmilter filter of tests/bench/run.sh (the
# floor), measured in one run with modmilter-bench over the milter
# protocol, in a private network namespace where nsd serves the zones.
# Medians over RUNS rounds, alternating the daemons so that machine noise
# hits all of them. The policy instance has every check configured that
# a message from outside meets: PTR and HELO checks, internal_domains
# (forgery), three strikes (the sender's domain publishes SPF, so no DNS),
# 40 Subject words (RFC 2047 decoding and folding of every Subject),
# supply_sender, dspam_exempt, and the auto-whitelist (one LMDB lookup per
# message, the sender listed: the mark is set).
#
#   tests/policy/bench.sh [-r RUNS] [-n MESSAGES] [-c CONCURRENCY]
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
export top_srcdir top_builddir
. "$top_srcdir/tests/spf/netns.sh"
RUNS=5 N=20000 CONC=8
while getopts r:n:c: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CONC=$OPTARG ;; *) exit 2 ;; esac
done
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -x "$top_builddir/tests/bench/bare-filter" ] ||
	{ echo "SKIP: tests/bench/bare-filter not built (make check builds it)"; exit 77; }
spf_netns_enter "$0" "$@"
spf_netns_up

MSGS=("$top_srcdir"/tests/bench/messages/*.eml)
tmp=$(mktemp -d /tmp/policybench.XXXXXX)
pids=()
declare -A PID SOCK
trap 'kill "${pids[@]}" 2>/dev/null; spf_dns_stop; [ -n "${POLICY_BENCH_KEEP-}" ] || rm -rf "$tmp"' EXIT

spf_bench_dns 'pass  TXT "v=spf1 ip4:192.0.2.0/24 -all"'

conf() {	# conf NAME PLUGINS
	cat >"$tmp/$1.yaml" <<EOF
plugin_dir: $top_builddir/.libs
store: $tmp/store-$1
authserv_id: mx.example.com
log: { level: warning }
networks: { internal: [10.0.0.0/8] }
plugins:
  spf: { module: spf, options: { received_spf: false, authentication_results: true } }
  policy: { module: policy, options: {
      reject_bad_ptr: true, reject_numeric_hello: true, require_hello: true,
      hello_blacklist: [mx.corp.example, corp.example],
      internal_domains: [corp.example], reject_noptr: false, confirm_ptr: false,
      porn_words: [penis, breast, pussy, horse cock, porn, xenical, diet pill, d1ck,
        vi*gra, vi-a-gra, viag, tits, p0rn, hunza, horny, sexy, c0ck, xanaax,
        p-e-n-i-s, hydrocodone, vicodin, xanax, vicod1n, x@nax, diazepam,
        v1@gra, xan@x, cialis, ci@lis, frëe, xãnax, valíum, vãlium, via-gra],
      spam_words: ["\$\$\$", "!!!", XXX, FREE, HGH, rolex],
      supply_sender: true, whitelist_senders: ["@corp.example"],
      dspam_exempt: [getitall@corp.example] } }
chains:
  - name: inbound
    plugins: [$2]
EOF
}
conf spf "spf"
conf policy "spf, policy"
"$top_builddir/modmilter-policy" -s "$tmp/store-policy" whitelist add user@pass.example.org >/dev/null
bench_daemon spf "$tmp/spf.yaml"
bench_daemon policy "$tmp/policy.yaml"
P3=$(port)
"$top_builddir/tests/bench/bare-filter" -p "inet:$P3@127.0.0.1" 2>"$tmp/bare.log" &
PID[bare]=$!; SOCK[bare]="inet:$P3@127.0.0.1"; pids+=($!)
for k in spf policy bare; do
	p=${SOCK[$k]#inet:}; p=${p%@*}
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
		kill -0 "${PID[$k]}" 2>/dev/null || { cat "$tmp/$k.log"; exit 1; }
		sleep 0.1
	done
done

for ((r = 0; r < RUNS; r++)); do
	for k in spf policy bare; do
		bench_round "${PID[$k]}" "$N" "$tmp/$k" a -s "${SOCK[$k]}" -c "$CONC" \
		    --warmup 100 -f user@pass.example.org "${MSGS[@]}"
	done
done
python3 - "$tmp" "$RUNS" "$N" "$CONC" <<'EOF'
import statistics, sys
tmp, runs, n, conc = sys.argv[1:]
def load(name):
    rows = [list(map(float, l.split())) for l in open("%s/%s" % (tmp, name))]
    return [statistics.median(c) for c in zip(*rows)], [r[0] for r in rows]
r = {k: load(k) for k in ("spf", "policy", "bare")}
print("medians of %s rounds, concurrency %s; %s messages per round" % (runs, conc, n))
print("%-34s %11s %8s %8s %9s   %s" % ("", "CPU us/msg", "p50 ms", "p99 ms", "msg/s", "CPU us/msg of each round"))
for k, label in (("spf", "modmilterd + spf"), ("policy", "modmilterd + spf + policy"),
                 ("bare", "bare libmilter filter (floor)")):
    v, each = r[k]
    print("%-34s %11.1f %8.3f %8.3f %9.0f   %s" % (label, v[0], v[1], v[2], v[3],
          " ".join("%.1f" % x for x in each)))
d = r["policy"][0][0] - r["spf"][0][0]
print("policy's CPU per message: %.1f us = %.1f %% of the floor, %.1f %% of spf alone"
      % (d, 100 * d / r["bare"][0][0], 100 * d / r["spf"][0][0]))
pd = statistics.median(p - s for p, s in zip(r["policy"][1], r["spf"][1]))
print("median of the per-round differences: %.1f us = %.1f %% of the floor" %
      (pd, 100 * pd / r["bare"][0][0]))
print("CPU ratio spf+policy / spf: %.3f" % (r["policy"][0][0] / r["spf"][0][0]))
EOF
