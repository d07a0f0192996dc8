#!/bin/bash
# The daemon as an admin runs it: -t, pidfile, privilege drop, stats
# socket and -S, reload on SIGUSR1 (good and bad), clean stop on SIGTERM.
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd miltertest
tmp=$(mktemp -d /tmp/mmdaemon.XXXXXX)
chmod 755 "$tmp"
trap 'kill $DAEMON_PID 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }

conf() {	# conf GREETING [extra yaml]
	cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
store: $tmp/store
pidfile: $tmp/modmilterd.pid
stats_socket: $tmp/stats.sock
plugins:
  hello: { module: hello, options: { greeting: $1 } }
$2
EOC
}
greet() { MILTER_SOCKET="unix:$tmp/m.sock" GREETING="$1" miltertest -s "$top_srcdir/tests/daemon/greet.lua"; }

# -t
conf first
out=$("$MODMILTERD" -t -c "$tmp/c.yaml" 2>&1) && echo "$out" | grep -q "configuration OK" && ok "-t valid" || bad "-t valid: $out"
printf 'plugins:\n  hello: { module: hello, options: { greting: x } }\n' > "$tmp/bad.yaml"
out=$("$MODMILTERD" -t -c "$tmp/bad.yaml" -P "$PLUGINS" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "^$tmp/bad.yaml:2:38: unknown option 'greting'" && ok "-t invalid" || bad "-t invalid ($rc): $out"

# start as root, drop to nobody (the socket directory must let it in)
conf first "user: nobody"
start_daemon "$tmp/c.yaml" "unix:$tmp/m.sock" "$tmp/log" || { bad start; cat "$tmp/log"; exit 1; }
greet first && ok "serves" || bad "serves"
[ "$(cat "$tmp/modmilterd.pid" 2>/dev/null)" = "$DAEMON_PID" ] && ok pidfile || bad pidfile
uid=$(awk '/^Uid:/ { print $2 }' /proc/$DAEMON_PID/status)
[ "$uid" = "$(id -u nobody)" ] && ok "privileges dropped" || bad "privileges dropped (uid $uid)"

# stats
"$MODMILTERD" -S -c "$tmp/c.yaml" > "$tmp/stats" 2>&1
grep -q "^hello eom calls=1 continue=1" "$tmp/stats" && ok "stats" || { bad stats; cat "$tmp/stats"; }

# reload with a new greeting
conf second "user: nobody"
kill -USR1 $DAEMON_PID; sleep 0.5
greet second && ok "reload" || { bad reload; cat "$tmp/log"; }
# a broken file is reported and the running configuration stays
printf 'plugins: [\n' > "$tmp/c.yaml"
kill -USR1 $DAEMON_PID; sleep 0.5
greet second && ok "bad reload keeps the old configuration" || bad "bad reload"
grep -q "reload failed" "$tmp/log" && grep -q "c.yaml:2:1: YAML syntax error" "$tmp/log" &&
	ok "bad reload logged" || { bad "bad reload logged"; cat "$tmp/log"; }

stop_daemon; rc=$?
[ $rc = 0 ] && ok "clean stop" || bad "clean stop (exit $rc)"
grep -q Sanitizer "$tmp/log" && { bad "sanitizer"; cat "$tmp/log"; }
[ $fails = 0 ]
