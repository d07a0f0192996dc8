#!/bin/bash
# The daemon as a mail host runs it: detached (no -f). Start-up errors
# reach the terminal and the exit status; plugins start after the fork
# and after the privilege drop; one daemon per pidfile; reloads under
# load lose no message; SIGTERM lets open sessions finish; the stats
# socket is born 0660; the loader refuses a plugin below a writable
# directory; a relative -c survives chdir("/") at reload.
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd miltertest
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (privilege drop)"; exit 77; }
tmp=$(mktemp -d /tmp/mmdetach.XXXXXX)
chmod 755 "$tmp"
pids=
cleanup() {
	for f in "$tmp"/*.pid; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
BENCH=$top_builddir/modmilter-bench
mkdir -m 1777 "$tmp/w"

conf() {	# conf NAME GREETING [TOP-LEVEL-YAML] [MORE-PLUGINS-YAML]
	cat > "$tmp/$1.yaml" <<EOC
listen: unix:$tmp/$1.sock
plugin_dir: $PLUGINS
store: $tmp/w/store
pidfile: $tmp/$1.pid
stats_socket: $tmp/$1.stats
log: { to: stderr, file: $tmp/$1.log }
$3
plugins:
  hello: { module: hello, options: { greeting: $2 } }
$4
EOC
}
greet() { MILTER_SOCKET="unix:$tmp/$1.sock" GREETING="$2" miltertest -s "$top_srcdir/tests/daemon/greet.lua"; }
pid_of() { cat "$tmp/$1.pid" 2>/dev/null; }

# --- start-up errors reach the terminal ---
printf 'plugins:\n  hello: { module: hello, options: { greting: x } }\n' > "$tmp/bad.yaml"
out=$(timeout 20 "$MODMILTERD" -c "$tmp/bad.yaml" -P "$PLUGINS" -l "unix:$tmp/bad.sock" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "^$tmp/bad.yaml:2:38: unknown option 'greting'" &&
	ok "bad option: on the terminal, exit 1" || bad "bad option ($rc): $out"
[ -e "$tmp/bad.sock" ] && bad "a failed start leaves its socket" || ok "a failed start removes its socket"
conf failinit x "" "  t: { module: $TESTPLUGINS/testplug.so, options: { fail_init: \"cannot reach the frobnicator\" } }"
out=$(timeout 20 "$MODMILTERD" -c "$tmp/failinit.yaml" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "cannot reach the frobnicator" &&
	ok "plugin init failure: on the terminal, exit 1" || bad "init failure ($rc): $out"
conf busy x
sed -i "s|^listen:.*|listen: inet:1@127.0.0.1|" "$tmp/busy.yaml"
out=$(timeout 20 "$MODMILTERD" -c "$tmp/busy.yaml" -l "unix:/nonexistent/dir/s.sock" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "cannot open milter socket" &&
	ok "socket failure: on the terminal, exit 1" || bad "socket failure ($rc): $out"

# --- a good start: exit 0 once listening; plugins initialised after the
# fork and the privilege drop ---
conf d1 first "user: nobody" "  t: { module: $TESTPLUGINS/testplug.so, options: { init_file: $tmp/w/init-ran } }"
out=$(timeout 20 "$MODMILTERD" -c "$tmp/d1.yaml" 2>&1); rc=$?
[ $rc = 0 ] && [ -z "$out" ] && ok "detached start: exit 0, silent" || bad "detached start ($rc): $out"
pid=$(pid_of d1)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ok "pidfile names the daemon" || bad "pidfile: '$pid'"
[ "$(awk '{ print $6 }' "/proc/$pid/stat")" = "$pid" ] && ok "session leader" || bad "not a session leader"
[ "$(readlink "/proc/$pid/fd/2")" = /dev/null ] && ok "stderr is /dev/null" || bad "stderr is $(readlink "/proc/$pid/fd/2")"
[ "$(readlink "/proc/$pid/cwd")" = / ] && ok "cwd is /" || bad "cwd $(readlink "/proc/$pid/cwd")"
[ "$(stat -c %U "$tmp/w/init-ran" 2>/dev/null)" = nobody ] &&
	ok "plugin init runs as the daemon's user" || bad "init ran as $(stat -c %U "$tmp/w/init-ran" 2>&1)"
greet d1 first && ok "serves" || bad "serves"
[ "$(stat -c %a "$tmp/d1.stats")" = 660 ] && ok "stats socket 0660" || bad "stats socket $(stat -c %a "$tmp/d1.stats")"
grep -q "listening on unix:$tmp/d1.sock" "$tmp/d1.log" && ok "log file" || bad "log file: $(cat "$tmp/d1.log")"

# --- one daemon per pidfile ---
out=$(timeout 20 "$MODMILTERD" -c "$tmp/d1.yaml" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "locked by another modmilterd (pid $pid)" &&
	ok "second daemon on the pidfile refused" || bad "second daemon ($rc): $out"
greet d1 first && ok "the first one still serves on its socket" || bad "first daemon lost its socket"
ln -s "$tmp/victim" "$tmp/link.pid"
echo keep > "$tmp/victim"
conf sl x
sed -i "s|^pidfile:.*|pidfile: $tmp/link.pid|" "$tmp/sl.yaml"
out=$(timeout 20 "$MODMILTERD" -c "$tmp/sl.yaml" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "symbolic link" && [ "$(cat "$tmp/victim")" = keep ] &&
	ok "pidfile that is a symlink refused" || bad "symlink pidfile ($rc): $out"

# --- reloads under load: every message answered, none with an error ---
"$BENCH" -s "unix:$tmp/d1.sock" -c 4 -n 10000 "$top_srcdir/tests/tools/sample.eml" > "$tmp/bench" 2>&1 &
bench=$!
pids="$pids $bench"
for i in $(seq 1 20); do
	conf d1 "g$i" "user: nobody"
	kill -USR1 "$pid"
	sleep 0.15
done
wait $bench; brc=$?
[ $brc = 0 ] && grep -q "^errors: *0$" "$tmp/bench" && grep -q "^verdicts: *continue 10000$" "$tmp/bench" &&
	ok "20 reloads under load: 10000 messages, all answered" || { bad "reloads under load ($brc)"; cat "$tmp/bench"; }
sleep 0.5
[ "$(grep -c 'reloaded' "$tmp/d1.log")" = 20 ] && ok "20 reloads logged" || bad "reloads logged: $(grep -c reloaded "$tmp/d1.log")"
greet d1 g20 && ok "the last generation serves" || bad "last generation"
kill -0 "$pid" && ok "alive after the reloads" || bad "died during reloads"

# --- SIGTERM: open sessions finish, then the daemon exits ---
conf d1 slow "user: nobody
shutdown_timeout: 30s" "  t: { module: $TESTPLUGINS/testplug.so, options: { sleep_at: eom, sleep: 7s, add_header: { name: X-Slow, value: done } } }"
kill -USR1 "$pid"; sleep 0.5
cat > "$tmp/slow.lua" <<'EOL'
local conn = mt.connect(os.getenv("MILTER_SOCKET"))
assert(conn, "connect")
assert(mt.conninfo(conn, "client.example.net", "192.0.2.1") == nil)
assert(mt.helo(conn, "client.example.net") == nil)
assert(mt.mailfrom(conn, "<a@example.net>") == nil)
assert(mt.rcptto(conn, "<b@example.com>") == nil)
assert(mt.eom(conn) == nil)
assert(mt.eom_check(conn, MT_HDRADD, "X-Slow", "done"), "no X-Slow")
mt.disconnect(conn)
EOL
MILTER_SOCKET="unix:$tmp/d1.sock" miltertest -s "$tmp/slow.lua" > "$tmp/slow.out" 2>&1 &
mt=$!
pids="$pids $mt"
sleep 1
kill -TERM "$pid"
wait $mt && ok "SIGTERM: the open session finished with its answer" || { bad "SIGTERM cut the session"; cat "$tmp/slow.out"; }
gone "$pid" 15 && ok "then the daemon exits" || bad "daemon still running after SIGTERM"
grep -q "waiting up to 30s for 1 open connection" "$tmp/d1.log" && grep -q "notice: stopped" "$tmp/d1.log" &&
	ok "shutdown logged" || { bad "shutdown log"; tail -5 "$tmp/d1.log"; }
[ -s "$tmp/d1.pid" ] && bad "pidfile still names a pid" || ok "pidfile removed (or emptied: the directory is root's)"

# --- shutdown_timeout bounds the wait ---
conf d2 x "shutdown_timeout: 1s" "  t: { module: $TESTPLUGINS/testplug.so, options: { sleep_at: eom, sleep: 30s } }"
"$MODMILTERD" -c "$tmp/d2.yaml" || bad "d2 start"
pid=$(pid_of d2)
MILTER_SOCKET="unix:$tmp/d2.sock" miltertest -s "$tmp/slow.lua" > "$tmp/slow2.out" 2>&1 &
mt=$!
pids="$pids $mt"
sleep 1
kill -TERM "$pid"
gone "$pid" 12 && ok "shutdown_timeout: exits while a hook still runs" || bad "shutdown_timeout ignored"
wait $mt && bad "the cut session got an answer" || ok "the cut session got none (the MTA retries)"
grep -q "1 connection still open after shutdown_timeout" "$tmp/d2.log" &&
	ok "cut sessions logged" || { bad "cut sessions log"; tail -5 "$tmp/d2.log"; }

# --- a connection idle between commands does not hold the stop: libmilter
# reads no more of it once stopped, so waiting for its QUIT would take
# the whole shutdown_timeout ---
conf d3 x "shutdown_timeout: 30s" "  t: { module: $TESTPLUGINS/testplug.so, options: { sleep_at: eom, sleep: 2s, add_header: { name: X-Slow, value: done } } }"
sed 's/^mt.disconnect(conn)$/io.stdout:write("answered\\n"); io.stdout:flush(); mt.sleep(20); mt.disconnect(conn)/' "$tmp/slow.lua" > "$tmp/linger.lua"
grep -q 'mt.sleep(20)' "$tmp/linger.lua" || bad "linger.lua not made"
"$MODMILTERD" -c "$tmp/d3.yaml" || bad "d3 start"
pid=$(pid_of d3)
MILTER_SOCKET="unix:$tmp/d3.sock" miltertest -s "$tmp/linger.lua" > "$tmp/linger.out" 2>&1 &
mt=$!
pids="$pids $mt"
sleep 1
t0=$(date +%s)
kill -TERM "$pid"
gone "$pid" 10 && ok "an idle connection: the daemon exits without waiting for its QUIT ($(( $(date +%s) - t0 ))s)" ||
	{ bad "an idle connection held the stop"; tail -5 "$tmp/d3.log"; }
grep -q "^answered" "$tmp/linger.out" && ok "the message before it got its answer" || { bad "no answer before the stop"; cat "$tmp/linger.out"; }
grep -q "stopping: 1 connection idle" "$tmp/d3.log" && ! grep -q "still open after shutdown_timeout" "$tmp/d3.log" &&
	ok "idle connection logged" || { bad "idle connection log"; tail -5 "$tmp/d3.log"; }
kill "$mt" 2>/dev/null

# --- relative -c: reload after chdir("/") reads the same file ---
conf rel one
(cd "$tmp" && "$MODMILTERD" -c rel.yaml) || bad "relative start"
pid=$(pid_of rel)
conf rel two
kill -USR1 "$pid"; sleep 0.5
greet rel two && ok "relative -c: reload reads the file" || { bad "relative -c reload"; cat "$tmp/rel.log"; }
kill -TERM "$pid"; gone "$pid" 10

# --- a stop does not wait for libmilter's listener to time out: it looks
# at its stop flag every 5 s; the daemon wakes it (core/host/stopwake.c) ---
if grep -q "define HAVE_MI_STOP 1" "$top_builddir/config.h"; then
	conf quick x
	"$MODMILTERD" -c "$tmp/quick.yaml" || bad "quick start"
	pid=$(pid_of quick)
	t0=$(date +%s%N)
	kill -TERM "$pid"
	gone "$pid" 10
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $ms -lt 2500 ] && ok "an idle daemon stops at once (${ms} ms; 5 s without the wake)" ||
		bad "an idle daemon took ${ms} ms to stop"
else
	echo "SKIP: this libmilter does not export mi_stop: stops wait for its listener"
fi

# --- log rotation: the daemon's user reopens its log file at reload ---
conf rot x "user: nobody"
sed -i "s|^log:.*|log: { to: stderr, file: $tmp/w/rot.log }|" "$tmp/rot.yaml"
"$MODMILTERD" -c "$tmp/rot.yaml" || bad "rot start"
pid=$(pid_of rot)
[ "$(stat -c %U "$tmp/w/rot.log")" = nobody ] && ok "log file owned by the daemon's user" || bad "log file owner $(stat -c %U "$tmp/w/rot.log")"
mv "$tmp/w/rot.log" "$tmp/w/rot.log.1"
kill -USR1 "$pid"; sleep 0.5
grep -q "reloaded" "$tmp/w/rot.log" 2>/dev/null && ! grep -q "Permission denied" "$tmp/w/rot.log.1" &&
	ok "after rotation and a reload, the new file is written" || { bad "log rotation"; cat "$tmp/w/rot.log.1"; }
kill -TERM "$pid"; gone "$pid" 10

# --- the loader: a plugin below a group-writable directory is refused ---
mkdir -p "$tmp/gw/plugins"
cp "$PLUGINS/hello.so" "$tmp/gw/plugins/"
chmod 775 "$tmp/gw"
conf gw x
sed -i "s|^plugin_dir:.*|plugin_dir: $tmp/gw/plugins|" "$tmp/gw.yaml"
out=$("$MODMILTERD" -t -c "$tmp/gw.yaml" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "plugin directory $tmp/gw is writable by its group" &&
	ok "plugin under a group-writable directory refused" || bad "loader ($rc): $out"
chmod 755 "$tmp/gw"
out=$("$MODMILTERD" -t -c "$tmp/gw.yaml" 2>&1) && ok "the same plugin loads once the directory is safe" ||
	bad "loader, safe directory: $out"

grep -q Sanitizer "$tmp"/*.log && { bad "sanitizer"; grep -A20 Sanitizer "$tmp"/*.log; }
echo "$fails failed"
[ $fails = 0 ]
