# Shared by the cbv script tests: a private network namespace with nsd
# serving the sender domains of example.net on 127.0.0.1 and smtp-sink
# peers on documentation addresses in a second namespace, reached over a
# veth pair from 192.0.2.1 (ours). Source after tests/lib.sh.
#   cbv_enter_netns "$@"   re-executes the test inside unshare -mn (exit 77
#                          when not root or a tool is missing)
#   cbv_net_setup [DIR]    network, DNS, peers; sets $tmp (DIR, or a new
#                          directory removed at exit), $nsdpid, $sinkNN;
#                          the processes started are in $pids
#   sink NN [OPTIONS]      (re)start the peer on 192.0.2.NN:25
PATH=$PATH:/usr/sbin:/sbin

cbv_enter_netns() {
	[ "${CBV_NETNS_INSIDE-}" = 1 ] && return 0
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
	need_cmd unshare nsenter ip nsd smtp-sink ss
	[ -x "$MODMILTER_TEST" ] || { echo "SKIP: $MODMILTER_TEST not built"; exit 77; }
	unshare -mn true 2>/dev/null || { echo "SKIP: cannot unshare a network namespace"; exit 77; }
	CBV_NETNS_INSIDE=1 exec unshare -mn sh "$0" "$@"
}

fails=0
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
inpeer() { nsenter -t "$peerns" -n "$@"; }
sink() { # sink NN OPTIONS...
	a=$1; shift
	# nsenter, not the inpeer function: $! must be smtp-sink itself
	# (nsenter execs it), not a subshell, so that kill stops it
	nsenter -t "$peerns" -n smtp-sink -u postfix -h mx-peer.example.net \
	    -d "$tmp/dumps/$a.%M." "$@" "192.0.2.$a:25" 20 > "$tmp/sink$a.log" 2>&1 &
	pids="$pids $!"
	eval "sink$a=$!"
}

# Everything below runs in the namespace; heredocs are not indented.
cbv_net_setup() {
if [ -n "${1-}" ]; then
	tmp=$1	# the caller's directory; the caller stops $pids
else
	tmp=$(mktemp -d /tmp/cbvns.XXXXXX)
	trap cleanup EXIT
fi
chmod 755 "$tmp"

# --- the network: us 192.0.2.1 on cbv0, the peers 192.0.2.25.. over veth ---
ip link set lo up
ip link add cbv0 type veth peer name cbv1 || { echo "SKIP: no veth support"; exit 77; }
unshare -n sleep 600 &
peerns=$!
pids="$pids $peerns"
sleep 0.2
ip link set cbv1 netns "$peerns"
ip addr add 192.0.2.1/24 dev cbv0
ip link set cbv0 up
inpeer ip link set lo up
for a in 25 26 27 28 29 30; do inpeer ip addr add 192.0.2.$a/24 dev cbv1; done
inpeer ip link set cbv1 up

# --- DNS: nsd on 127.0.0.1 ---
cat > "$tmp/example.net.zone" <<'EOZ'
$ORIGIN example.net.
$TTL 300
@        SOA  ns.example.net. hostmaster.example.net. 1 3600 600 86400 300
@        NS   ns.example.net.
ns       A    127.0.0.1
mx-ok    A    192.0.2.25
mx-bad   A    192.0.2.26
mx-soft  A    192.0.2.27
mx-hang  A    192.0.2.28
mx-dead  A    192.0.2.29
mx-nodsn A    192.0.2.30
mx-lo    A    127.0.0.1
mx-self  A    192.0.2.1
ok       MX   10 mx-ok.example.net.
ok2      MX   10 mx-ok.example.net.
bad      MX   10 mx-bad.example.net.
soft     MX   10 mx-soft.example.net.
hang     MX   10 mx-hang.example.net.
dead     MX   10 mx-dead.example.net.
backup   MX   10 mx-dead.example.net.
backup   MX   20 mx-ok.example.net.
nullmx   MX   0 .
loop     MX   10 mx-lo.example.net.
self     MX   10 mx-self.example.net.
implicit A    192.0.2.25
dsn      MX   10 mx-ok.example.net.
nodsn    MX   10 mx-nodsn.example.net.
big      MX   10 mx-ok.example.net.
EOZ
# big: one good MX and 250 dead ones of lower preference, an MX answer
# of about 10 KB (more than the 4 KB first buffer), sent over TCP
i=0
while [ $i -lt 250 ]; do
	printf 'big MX 20 mx-dead-%03d.example.net.\nmx-dead-%03d A 192.0.2.29\n' $i $i
	i=$((i + 1))
done >> "$tmp/example.net.zone"
cat > "$tmp/nsd.conf" <<EON
server:
	ip-address: 127.0.0.1
	port: 53
	username: ""
	database: ""
	zonesdir: "$tmp"
	pidfile: "$tmp/nsd.pid"
	xfrdfile: "$tmp/xfrd.state"
	zonelistfile: "$tmp/zone.list"
	verbosity: 0
remote-control:
	control-enable: no
zone:
	name: example.net
	zonefile: example.net.zone
EON
echo "nameserver 127.0.0.1" > "$tmp/resolv.conf"
echo "options timeout:1 attempts:1" >> "$tmp/resolv.conf"
mount --bind "$tmp/resolv.conf" /etc/resolv.conf
nsd -d -c "$tmp/nsd.conf" > "$tmp/nsd.log" 2>&1 &
nsdpid=$!
pids="$pids $nsdpid"

# --- SMTP peers ---
mkdir -p "$tmp/dumps"
chown postfix "$tmp/dumps" 2>/dev/null
sink 25
sink 26 -f RCPT
sink 27 -r RCPT
sink 28 -W RCPT:30
sink 30 -f .
i=0
while [ $i -lt 50 ]; do
	n=$(inpeer ss -ltn 2>/dev/null | grep -c ':25 ')
	[ "$n" -ge 5 ] && break
	sleep 0.1; i=$((i + 1))
done
[ "$n" -ge 5 ] || { echo "ERROR: smtp-sink peers did not start"; cat "$tmp"/sink*.log; exit 99; }
}
