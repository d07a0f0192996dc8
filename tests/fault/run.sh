#!/bin/sh
# Fault injection under load, end to end. A steady stream of uniquely
# tagged messages (tests/fault/load.py: SMTP, and one in five submitted
# with sendmail(1)) goes through a real Postfix to modmilterd, detached,
# with wiretap (Maildir archive), spf, cbv, mime and dspam (Redis store)
# in one chain, and on to an smtp-sink that dumps every delivery, while
# these faults are injected one after the other:
#   dns     the DNS server stops answering (SIGSTOP), then resumes
#   redis   the Redis store is killed (SIGKILL) and started again
#   disk    the disk of the archive, mime's saved originals and Redis's
#           append-only file fills up, then is freed
#   chmod   the archive becomes unwritable, then writable again
#   reload  the daemon is reloaded 20 times (SIGUSR1 through the pidfile)
#   kill    the daemon is killed (SIGKILL) and started again
# A message refused with 4xx is sent again once its fault is over; a
# local submission the milter refuses stays in Postfix's maildrop and
# Postfix tries it again. At the end the queue is flushed and every
# message is accounted for (tests/fault/count.py): nothing accepted may be
# lost, delivered or archived twice, delivered without the milter's
# headers or without its archive copy. Everything runs in a private
# network and mount namespace: nsd on 127.0.0.1:53 serving the senders'
# SPF and MX records, the senders' MXes (smtp-sinks answering cbv's
# callbacks, one of them slowly) on 192.0.2.25 and .26, Redis, Postfix and
# the daemon on loopback, the small disk a tmpfs. See doc/RELIABILITY.md.
#
# Environment: FAULT_RATE (messages per second, default 4), FAULT_SECS
# (length of each fault, default 12), FAULT_TABLE (also write the table
# to this file), E2E_KEEP=1 (keep the directory).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
PATH=$PATH:/usr/sbin:/sbin
export PATH
: "${FAULT_RATE:=4}" "${FAULT_SECS:=12}"
LEAD=2          # seconds of normal load before each fault
RECOVER=4       # seconds of load after it, counted in its phase
RELOADS=20

if [ -z "${FAULT_NETNS-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespace, Postfix)"; exit 77; }
	need_cmd unshare ip mount umount nsd postfix postqueue postcat postkick sendmail smtp-sink \
		redis-server python3 dd
	id nobody > /dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
	[ -x "$MODMILTERD" ] || { echo "SKIP: modmilterd is not built"; exit 77; }
	for p in spf cbv mime dspam wiretap; do
		[ -f "$PLUGINS/$p.so" ] || { echo "SKIP: the $p plugin is not built"; exit 77; }
	done
	grep -q '^#define HAVE_HIREDIS 1' "$top_builddir/config.h" 2>/dev/null ||
		{ echo "SKIP: built without hiredis (Redis store)"; exit 77; }
	unshare -mn true 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
	FAULT_NETNS=1 exec unshare -mn sh "$0" "$@"
fi

. "$top_srcdir/tests/e2e/lib.sh"
HERE=$top_srcdir/tests/fault
e2e_init
T=$E2E_DIR
L=$T/load
DISK=$T/disk
ARCH=$DISK/archive
MAILDIR=$ARCH/bob@example.com
CONF=$T/modmilter.yaml
PIDF=$T/modmilterd.pid
DLOG=$T/modmilterd.log
NSD_PID='' REDIS_PID='' MPID='' LOAD_PID='' DISK_MOUNTED=0
mkdir -p "$L/ended" "$DISK" "$T/dns"
: > "$L/events"

descendants() {	# descendants PID...: those processes and all their children
	for d__p in "$@"; do
		echo "$d__p"
		# shellcheck disable=SC2046
		descendants $(ps -o pid= --ppid "$d__p")
	done
}

# --- cleanup: our processes first, then the tmpfs, then the e2e harness ---
fault_stop_pid() {	# like e2e__stop_pid, for processes not our children
	[ -n "$1" ] || return 0
	kill -CONT "$1" 2>/dev/null
	e2e__stop_pid "$1"
}
fault_exit() {
	rc=$?
	trap - EXIT
	[ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
	if [ -n "$NSD_PID" ]; then
		for p in $(descendants "$NSD_PID"); do kill -CONT "$p" 2>/dev/null; done
	fi
	[ -d "$ARCH" ] && find "$ARCH" -type d -exec chmod u+rwx {} + 2>/dev/null
	if [ -f "$PIDF" ]; then
		fault_stop_pid "$(cat "$PIDF")"
	fi
	fault_stop_pid "$MPID"
	fault_stop_pid "$REDIS_PID"
	if [ "$DISK_MOUNTED" = 1 ]; then
		rm -f "$DISK/fill"
		[ "$E2E_KEEP" = 1 ] && cp -a "$DISK" "$T/disk.kept" 2>/dev/null
		umount -l "$DISK" 2>/dev/null
	fi
	(exit "$rc")
	e2e__on_exit
}
trap fault_exit EXIT

# --- the network: loopback, and the senders' MXes on 192.0.2.25 and .26 ---
ip link set lo up || e2e_die "ip link set lo up"
for a in 25 26; do ip addr add "192.0.2.$a/32" dev lo || e2e_die "ip addr add 192.0.2.$a"; done

# --- DNS: every sender domain *.snd.example.net and *.slow.example.net
# passes SPF from 127.0.0.1 (where the load comes from); the first have
# mx1.example.net as their MX, the others mx2, which is slow ---
cat > "$T/dns/example.net.zone" <<'EOZ'
$ORIGIN example.net.
$TTL 60
@        SOA  ns.example.net. hostmaster.example.net. 1 3600 600 86400 60
@        NS   ns.example.net.
ns       A    127.0.0.1
mx1      A    192.0.2.25
mx2      A    192.0.2.26
*.snd    TXT  "v=spf1 ip4:127.0.0.1 -all"
*.snd    MX   10 mx1.example.net.
*.slow   TXT  "v=spf1 ip4:127.0.0.1 -all"
*.slow   MX   10 mx2.example.net.
EOZ
cat > "$T/dns/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1
  port: 53
  username: ""
  database: ""
  zonelistfile: "$T/dns/zone.list"
  pidfile: "$T/dns/nsd.pid"
  xfrdfile: "$T/dns/xfrd.state"
  logfile: "$T/dns/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: example.net
  zonefile: $T/dns/example.net.zone
EOF
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' > "$T/dns/resolv.conf"
mount --bind "$T/dns/resolv.conf" /etc/resolv.conf || e2e_die "cannot bind-mount /etc/resolv.conf"
e2e_bg nsd nsd -d -c "$T/dns/nsd.conf"
NSD_PID=$E2E_LAST_PID
wait_port 53 10 || { e2e__show "$T/nsd.log"; e2e__show "$T/dns/nsd.log"; e2e_die "nsd did not start"; }

# --- the senders' MXes: answer cbv's callbacks, mx2 after a second ---
e2e_bg mx1 smtp-sink -u postfix -h mx1.example.net 192.0.2.25:25 64
e2e_bg mx2 smtp-sink -u postfix -h mx2.example.net -W RCPT:1 192.0.2.26:25 64
i=0
until [ "$(e2e__tcp_ports 0A | grep -cx 25)" = 2 ]; do
	i=$((i + 1)); [ $i -lt 100 ] || e2e_die "smtp-sink on 192.0.2.25-26:25 did not start"
	sleep 0.1
done

# --- the small disk: archive, mime's saved originals, Redis's AOF ---
mount -t tmpfs -o size=16m,mode=755 faultdisk "$DISK" || e2e_die "cannot mount a tmpfs"
DISK_MOUNTED=1
mkdir -p "$ARCH" "$DISK/mime" "$DISK/redis"
chown nobody "$ARCH" "$DISK/mime"
chmod 700 "$ARCH" "$DISK/mime"

# --- Redis, persistent (append-only file), on loopback ---
# shellcheck disable=SC2046
set -- $(e2e_free_ports 1)
RPORT=$1
redis_start() {
	e2e_bg redis redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$DISK/redis" \
		--appendonly yes --appendfsync everysec --save '' --logfile "$T/redis-server.log"
	REDIS_PID=$E2E_LAST_PID
	wait_port "$RPORT" 10 || { e2e__show "$T/redis-server.log"; e2e_die "redis-server did not start"; }
}
redis_start

# --- the daemon: detached, found through its pidfile ---
cat > "$CONF" <<EOF
plugin_dir: $PLUGINS
listen: $E2E_MILTER_SOCKET
pidfile: $PIDF
user: nobody
log: { to: stderr, level: info, file: $DLOG }
authserv_id: mx.example.com
networks: { internal: [10.0.0.0/8] }
store: { backend: redis, host: 127.0.0.1, port: $RPORT, timeout: 1s }
plugins:
  wiretap: { module: wiretap, options: { groups: [ { name: hold, watch: [bob@example.com],
             direction: incoming, archive: $ARCH } ] } }
  spf: { module: spf, options: { dns: { timeout: 1s, retries: 1 }, time_limit: 3s } }
  cbv: { module: cbv, options: { verify: always, helo_name: mx.example.com,
         local_domains: [example.com], own_interfaces: false, rate: 100000,
         allow_networks: [192.0.2.0/24],
         step_timeout: 3s, probe_timeout: 6s, dns_timeout: 1s, cache: { defer: 1s } } }
  mime: { module: mime, options: { save_dir: $DISK/mime } }
  dspam: { module: dspam }
chains:
  - name: inbound
    plugins: [wiretap, spf, cbv, mime, dspam]
EOF
# the daemon (re)opens its log file as user nobody at each reload
: > "$DLOG" && chown nobody "$DLOG"
forget_pid() {	# forget_pid PID: a process that is gone is not stopped at exit
	grep -v "^$1 " "$E2E_PIDS" > "$E2E_PIDS.new"
	mv "$E2E_PIDS.new" "$E2E_PIDS"
}
daemon_start() {	# start detached; wait for its pidfile and its socket
	rm -f "$PIDF"
	"$MODMILTERD" -c "$CONF" 2>> "$DLOG" < /dev/null || return 1
	i=0
	until [ -s "$PIDF" ] && port_listening "$E2E_MILTER_PORT"; do
		i=$((i + 1)); [ $i -lt 200 ] || return 1
		sleep 0.1
	done
	MPID=$(cat "$PIDF")
	echo "$MPID modmilterd" >> "$E2E_PIDS"
	kill -0 "$MPID"
}
daemon_start || { e2e__show "$DLOG"; e2e_die "modmilterd did not start"; }
diag "modmilterd detached as pid $MPID"

sink_start
pf_start

# --- the load ---
echo baseline > "$L/phase"
python3 "$HERE/load.py" "$E2E_SMTP_PORT" "$FAULT_RATE" "$L" 600 "$E2E_PF_CONF" > "$T/load.log" 2>&1 &
LOAD_PID=$!
echo "$LOAD_PID load" >> "$E2E_PIDS"

i=0
until [ -f "$L/outstanding" ]; do	# the first message is on its way
	i=$((i + 1)); [ $i -lt 300 ] || { e2e__show "$T/load.log"; e2e_die "the load generator did not start"; }
	sleep 0.1
done
now() { date +%s; }
T0=$(now)
PHASE=baseline
outstanding() {	# outstanding PHASE: its messages not yet finished
	awk -v p="$1" '$1 == p { n = $2 } END { print n + 0 }' "$L/outstanding" 2>/dev/null || echo 0
}
# phase NAME: label new messages NAME; the previous phase's fault is over:
# its refused messages are retried, and the next fault waits for them
phase() {
	prev=$PHASE
	PHASE=$1
	echo "$PHASE" > "$L/phase.new" && mv "$L/phase.new" "$L/phase"
	: > "$L/ended/$prev"
	i=0
	while [ "$(outstanding "$prev")" -gt 0 ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ $i -lt 600 ] || diag "phase $prev: $(outstanding "$prev") messages still unfinished after 60s"
	sleep "$LEAD"
	diag "$(($(now) - T0))s: fault $PHASE"
	event inject
}
event() {	# event inject|restore: when the fault of this phase began or ended
	echo "$PHASE $1 $(date +%s.%N)" >> "$L/events"
}
recovered() {
	event restore
	diag "$(($(now) - T0))s: fault $PHASE over"
	sleep "$RECOVER"
}
nsd_signal() {	# nsd serves from child processes
	for p in $(descendants "$NSD_PID"); do kill "-$1" "$p"; done
}
reloads() {	# count of completed reloads in the daemon's log
	grep -c 'reloaded .*new connections use it' "$DLOG"
}

sleep 4
phase dns
nsd_signal STOP
sleep "$FAULT_SECS"
nsd_signal CONT
recovered

phase redis
kill -KILL "$REDIS_PID"
sleep "$FAULT_SECS"
redis_start
recovered

phase disk
dd if=/dev/zero of="$DISK/fill" bs=64k 2> /dev/null
diag "disk: $(df -k "$DISK" | awk 'NR == 2 { print $4 }') KiB left"
sleep "$FAULT_SECS"
rm -f "$DISK/fill"
recovered

phase chmod
find "$ARCH" -type d -exec chmod 0500 {} +
sleep "$FAULT_SECS"
find "$ARCH" -type d -exec chmod 0700 {} +
recovered

phase reload
r0=$(reloads)
hung=0
n=1
while [ $n -le $RELOADS ]; do
	kill -USR1 "$(cat "$PIDF")"
	i=0
	while [ "$(reloads)" -lt $((r0 + n)) ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if [ $i -ge 50 ]; then
		diag "reload $n: not done after 5s"
		hung=$n
		break
	fi
	sleep 0.4
	n=$((n + 1))
done
RELOADS_DONE=$(($(reloads) - r0))
# every connection on an old configuration is over within a few seconds,
# and its plugins' fini with it: no thread may be left inside one
sleep 3
STUCK=-
if command -v gdb > /dev/null 2>&1; then
	timeout 30 gdb -p "$MPID" -batch -ex 'thread apply all bt' > "$T/reload.bt" 2>&1
	STUCK=$(grep -c ' in [a-z_]*_fini (' "$T/reload.bt")
	if [ "$STUCK" -gt 0 ]; then
		diag "threads of the daemon inside a plugin's fini (gdb):"
		grep -E ' in [a-z_]*_fini \(|conf_unref|reload \(|session|milter_' "$T/reload.bt" |
			sort | uniq -c | sort -rn | head -n 12 >&2
	fi
fi
recovered

phase kill
KILLED=$MPID
kill -KILL "$MPID"
forget_pid "$MPID"
sleep 3
daemon_start || { e2e__show "$DLOG"; e2e_die "modmilterd did not start again"; }
diag "modmilterd restarted as pid $MPID"
sleep $((FAULT_SECS - 3))
recovered

phase after
sleep 4
: > "$L/ended/after"
echo stop > "$L/phase"
i=0
while kill -0 "$LOAD_PID" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$LOAD_PID" 2>/dev/null && fail "the load generator did not finish"
cat "$T/load.log" >&2
diag "$(($(now) - T0))s: load over; flushing the queue"

# --- drain: flush (the maildrop too) until the queue is empty and the sink quiet ---
i=0
while [ "$(pf_queue_count)" -gt 0 ] && [ $i -lt 60 ]; do
	postkick -c "$E2E_PF_CONF" public pickup W 2> /dev/null
	pf_flush > /dev/null 2>&1
	sleep 1; i=$((i + 1))
done
last=-1
i=0
while [ "$(sink_count)" != "$last" ] && [ $i -lt 20 ]; do
	last=$(sink_count)
	sleep 1; i=$((i + 1))
done
: > "$T/queued"
for id in $(postqueue -c "$E2E_PF_CONF" -j 2>/dev/null | sed -n 's/.*"queue_id": *"\([^"]*\)".*/\1/p'); do
	postcat -c "$E2E_PF_CONF" -q "$id" 2>/dev/null | sed -n 's/^X-Fault-Tag: *\([0-9]*\).*/\1/p' | head -n 1
done >> "$T/queued"
[ -s "$T/queued" ] && diag "still queued: $(wc -l < "$T/queued") messages"

# --- the count ---
python3 "$HERE/count.py" "$L/results.tsv" "$E2E_SINK_DIR" "$MAILDIR" "$T/queued" "$L/events" > "$T/table" 2> "$T/problems"
crc=$?
n=$(grep 'postfix/cleanup.*milter-reject' "$E2E_PF_LOG" | grep -vc 'proto=ESMTP')
echo "local submissions refused by the milter, kept in the maildrop and tried again by Postfix: $n times" >> "$T/table"
cat "$T/table"
[ -n "${FAULT_TABLE-}" ] && cp "$T/table" "$FAULT_TABLE"
sed 's/^/# /' "$T/problems" >&2
if [ $crc = 0 ]; then
	pass "every message accounted for: none lost, none twice, none unchecked"
else
	fail "messages lost, duplicated, unchecked or never accepted (see PROBLEM lines)"
fi

assert_eq "$RELOADS_DONE" "$RELOADS" "$RELOADS reloads under load completed"
[ "$hung" = 0 ] || diag "reload $hung did not complete"
[ "$STUCK" = - ] || assert_eq "$STUCK" 0 "after the reloads no thread is left in a plugin's fini"
if kill -0 "$MPID" 2>/dev/null && [ "$MPID" != "$KILLED" ]; then
	pass "the restarted daemon (pid $MPID) still runs"
else
	fail "the restarted daemon is gone"
fi
diag "daemon log: $(grep -c 'error' "$DLOG") lines with 'error', $(grep -c 'warning' "$DLOG") with 'warning'"
for w in 'cannot connect' 'MISCONF' 'No space left' 'Permission denied' 'temperror' 'reloaded'; do
	diag "  '$w': $(grep -c -- "$w" "$DLOG")"
done

# a clean stop on SIGTERM, within E2E_STOP_GRACE
t=$(now)
kill -TERM "$MPID"
i=0
while kill -0 "$MPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$MPID" 2>/dev/null; then
	fail "modmilterd did not stop within 10s of SIGTERM"
else
	forget_pid "$MPID"
	MPID=
	pass "modmilterd stopped on SIGTERM in $(($(now) - t))s"
fi
diag "$(($(now) - T0))s in all"
e2e_done
