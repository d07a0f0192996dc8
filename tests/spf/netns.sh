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
