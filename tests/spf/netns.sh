# shellcheck shell=sh
#
# tests/spf/netns.sh - a private network namespace with a real DNS server
# for the spf plugin's end-to-end test and benchmark (sourced).
#
#   . "$top_srcdir/tests/spf/netns.sh"
#   spf_netns_enter "$0" "$@"        # re-runs the script inside unshare -mn, or exits 77
#   spf_netns_up 192.0.2.25 ...      # lo up, test addresses on lo
#   spf_dns_start DIR ZONEFILE...    # nsd on 127.0.0.1:53, /etc/resolv.conf -> it
#   spf_dns_stop
#   spf_test_start NAME "PLUGIN..." "$@"   # all of the above for a test
#   spf_zone_head ORIGIN [TTL]             # a zone file's first lines
#   spf_bench_dns "RECORDS"                # the benchmarks' two zones, served
#
# A process inside keeps the namespace alive, so nsd is stopped by pid:
# spf_dns_stop, or the e2e harness's cleanup (tests/e2e/lib.sh), which
# spf_dns_start tells of it when the harness runs.

# spf_netns_enter SCRIPT ARG... : unless already inside, re-execute the
# script in a new network and mount namespace (root only; skip otherwise)
spf_netns_enter() {
    [ -n "${SPF_NETNS-}" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (private network namespace)"
        exit 77
    fi
    for c in unshare ip nsd mount; do
        command -v "$c" >/dev/null 2>&1 ||
            PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null 2>&1 ||
            { echo "SKIP: $c not installed"; exit 77; }
    done
    if ! unshare -mn true 2>/dev/null; then
        echo "SKIP: cannot create a network namespace here"
        exit 77
    fi
    SPF_NETNS=1
    export SPF_NETNS
    spf__script=$1
    shift
    if [ -n "${BASH_VERSION-}" ]; then
        exec unshare -mn -- bash "$spf__script" "$@"
    fi
    exec unshare -mn -- sh "$spf__script" "$@"
}

# spf_netns_up ADDR... : loopback up, with the given IPv4 test addresses
spf_netns_up() {
    PATH=$PATH:/usr/sbin:/sbin
    ip link set lo up || return 1
    for a in "$@"; do
        ip addr add "$a/32" dev lo || return 1
    done
}

# spf_dns_start DIR ZONE:FILE... : serve each zone from its file with nsd
# on 127.0.0.1:53 and point /etc/resolv.conf (bind mount) at it
spf_dns_start() {
    spf__dir=$1
    shift
    mkdir -p "$spf__dir" || return 1
    cat >"$spf__dir/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1
  port: 53
  username: ""
  database: ""
  zonelistfile: "$spf__dir/zone.list"
  pidfile: "$spf__dir/nsd.pid"
  xfrdfile: "$spf__dir/xfrd.state"
  logfile: "$spf__dir/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
  verbosity: 1
EOF
    for z in "$@"; do
        printf 'zone:\n  name: %s\n  zonefile: %s\n' "${z%%:*}" "${z#*:}" >>"$spf__dir/nsd.conf"
    done
    printf 'nameserver 127.0.0.1\n' >"$spf__dir/resolv.conf"
    mount --bind "$spf__dir/resolv.conf" /etc/resolv.conf || return 1
    nsd -d -c "$spf__dir/nsd.conf" >"$spf__dir/nsd.out" 2>&1 &
    SPF_NSD_PID=$!
    if [ -n "${E2E_PIDS-}" ]; then
        echo "$SPF_NSD_PID nsd" >>"$E2E_PIDS"
    fi
    spf__i=0
    # nsd answers TCP too: wait for its listening socket (port 53 = 0035)
    while ! grep -q ':0035 00000000:0000 0A' /proc/net/tcp 2>/dev/null; do
        spf__i=$((spf__i + 1))
        if [ "$spf__i" -gt 100 ] || ! kill -0 "$SPF_NSD_PID" 2>/dev/null; then
            cat "$spf__dir/nsd.out" "$spf__dir/nsd.log" >&2 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
}

spf_dns_stop() {
    [ -n "${SPF_NSD_PID-}" ] || return 0
    kill "$SPF_NSD_PID" 2>/dev/null
    wait "$SPF_NSD_PID" 2>/dev/null
    SPF_NSD_PID=
}

# spf_test_start NAME "PLUGIN..." SCRIPT-ARG... : the set-up of a test in
# the namespace: skip unless each plugin is built, enter the namespace
# (re-running the script), loopback up, $tmp a new /tmp/NAME.XXXXXX,
# nsd stopped and $tmp removed at exit
spf_test_start() {
    spf__name=$1 spf__plugins=$2
    shift 2
    for spf__so in $spf__plugins; do
        [ -f "$PLUGINS/$spf__so.so" ] || { echo "SKIP: $spf__so plugin not built"; exit 77; }
    done
    spf_netns_enter "$0" "$@"
    spf_netns_up || { echo "ERROR: namespace addresses"; exit 99; }
    tmp=$(mktemp -d "/tmp/$spf__name.XXXXXX")
    trap 'spf_dns_stop; rm -rf "$tmp"' EXIT
}

# spf_zone_head ORIGIN [TTL] : $ORIGIN, $TTL, the SOA, NS ns.ORIGIN and
# ns A 127.0.0.1; TTL is the records' and the negative answers' (default
# 300 and 60: tests; benchmarks give 3600, so nothing expires in a run)
spf_zone_head() {
    printf '$ORIGIN %s.\n$TTL %s\n' "$1" "${2:-300}"
    printf '@          SOA   ns.%s. hostmaster.%s. 1 3600 600 86400 %s\n' "$1" "$1" "${2:-60}"
    printf '@          NS    ns.%s.\nns         A     127.0.0.1\n' "$1"
}

# spf_bench_dns "EXAMPLE.ORG-RECORDS" : the benchmarks' zones in $tmp,
# served: example.org with these records, example.com with a client
# host whose SPF record passes its own address (192.0.2.1)
spf_bench_dns() {
    { spf_zone_head example.org 3600; printf '%s\n' "$1"; } >"$tmp/example.org.zone"
    { spf_zone_head example.com 3600
      printf 'client     A     192.0.2.1\nclient     TXT   "v=spf1 a -all"\n'; } >"$tmp/example.com.zone"
    spf_dns_start "$tmp/dns" "example.org:$tmp/example.org.zone" "example.com:$tmp/example.com.zone"
}
