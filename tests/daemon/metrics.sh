#!/bin/bash
# The Prometheus endpoint of a detached daemon, scraped while
# modmilter-bench loads it: the figures match what was sent (messages
# by chain and verdict, plugin verdicts, hook latency histograms,
# connections), they only grow while scraped under load, and they
# survive a reload.
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd python3
tmp=$(mktemp -d /tmp/mmmetrics.XXXXXX)
chmod 755 "$tmp"
trap 'kill "$(cat "$tmp/pid" 2>/dev/null)" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
BENCH=$top_builddir/modmilter-bench
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/c.yaml" <<EOC
listen: unix:$tmp/m.sock
plugin_dir: $PLUGINS
store: $tmp/store
pidfile: $tmp/pid
log: { file: $tmp/log }
stats_socket: $tmp/stats
metrics: { listen: 127.0.0.1:$port }
plugins:
  hello: { module: hello, options: { greeting: m, reject_sender: spammer@example.org } }
  t: { module: $TESTPLUGINS/testplug.so, options: { metrics: true } }
chains:
  - name: inbound
    plugins: [hello, t]
EOC
"$MODMILTERD" -c "$tmp/c.yaml" || { bad start; exit 1; }
scrape() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "http://127.0.0.1:$port/metrics"; }
val() {	# val FILE SERIES: the value of one series line, 0 if absent
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"
}
M='modmilter_messages_total{chain="inbound",verdict="accept"}'
R='modmilter_messages_total{chain="inbound",verdict="reject"}'

"$BENCH" -s "unix:$tmp/m.sock" -c 4 -n 15000 --warmup 0 "$top_srcdir/tests/tools/sample.eml" > "$tmp/bench1" 2>&1 &
b=$!
prev=0 n=0 mono=1
while kill -0 $b 2>/dev/null; do
	scrape > "$tmp/s" 2>/dev/null || continue
	cur=$(val "$tmp/s" "$M")
	[ "$cur" -ge "$prev" ] || mono=0
	prev=$cur n=$((n + 1))
	sleep 0.05
done
wait $b || bad "bench"
[ $n -ge 2 ] && [ $mono = 1 ] && ok "scraped $n times under load, counts only grow" || bad "scrapes under load ($n, monotonic $mono)"
"$BENCH" -s "unix:$tmp/m.sock" -c 2 -n 200 --warmup 0 -f spammer@example.org "$top_srcdir/tests/tools/sample.eml" > "$tmp/bench2" 2>&1
grep -q "^verdicts: *replycode 200$" "$tmp/bench2" || { bad "bench of refused senders"; cat "$tmp/bench2"; }
sleep 0.3
scrape > "$tmp/s1" || bad "scrape"
[ "$(val "$tmp/s1" "$M")" = 15000 ] && ok "15000 accepted messages counted" || bad "accepted: $(val "$tmp/s1" "$M")"
[ "$(val "$tmp/s1" "$R")" = 200 ] && ok "200 refused messages counted" || bad "refused: $(val "$tmp/s1" "$R")"
[ "$(val "$tmp/s1" 'modmilter_plugin_verdicts_total{instance="hello",module="hello",stage="envfrom",verdict="reject"}')" = 200 ] &&
	ok "plugin verdicts by stage" || bad "plugin verdicts"
c=$(val "$tmp/s1" 'modmilter_hook_duration_seconds_count{instance="hello",module="hello",stage="eom"}')
i=$(val "$tmp/s1" 'modmilter_hook_duration_seconds_bucket{instance="hello",module="hello",stage="eom",le="+Inf"}')
[ "$c" = 15000 ] && [ "$i" = 15000 ] && ok "eom latency histogram: 15000 observations" || bad "histogram count $c inf $i"
grep -q '^modmilter_build_info{version=' "$tmp/s1" && ok "build info" || bad "build info"
conns=$(val "$tmp/s1" 'modmilter_connections_total{chain="inbound",outcome="closed"}')
[ "$conns" = 15200 ] && ok "connections counted" || bad "connections $conns"
grep -q '^# TYPE modmilter_hook_duration_seconds histogram' "$tmp/s1" && ok "types declared" || bad "types"
# a plugin's own metrics, registered through the SDK
[ "$(val "$tmp/s1" 'modmilter_testplug_eom_total{instance="t",class="external"}')" = 15000 ] &&
	ok "plugin counter" || { bad "plugin counter"; grep testplug "$tmp/s1"; }
[ "$(val "$tmp/s1" 'modmilter_testplug_sender_bytes_count{instance="t"}')" = 15000 ] &&
	grep -q '^# TYPE modmilter_testplug_sender_bytes histogram' "$tmp/s1" &&
	ok "plugin histogram" || bad "plugin histogram"

# a reload keeps every counter
kill -USR1 "$(cat "$tmp/pid")"; sleep 0.5
"$BENCH" -s "unix:$tmp/m.sock" -c 2 -n 100 --warmup 0 "$top_srcdir/tests/tools/sample.eml" > /dev/null 2>&1
sleep 0.3
scrape > "$tmp/s2" || bad "scrape after reload"
[ "$(val "$tmp/s2" "$M")" = 15100 ] && ok "messages survive the reload" || bad "after reload: $(val "$tmp/s2" "$M")"
[ "$(val "$tmp/s2" 'modmilter_plugin_verdicts_total{instance="hello",module="hello",stage="envfrom",verdict="reject"}')" = 200 ] &&
	ok "plugin verdicts survive the reload" || bad "plugin verdicts after reload"
[ "$(val "$tmp/s2" 'modmilter_reloads_total{result="ok"}')" = 1 ] && ok "reload counted" || bad "reloads"
[ "$(val "$tmp/s2" 'modmilter_testplug_eom_total{instance="t",class="external"}')" = 15100 ] &&
	ok "plugin counter survives the reload" || bad "plugin counter after reload"
python3 -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 404 else 1)
sys.exit(1)' "http://127.0.0.1:$port/other" && ok "other paths 404" || bad "other paths"
# one summary line per message, with each plugin's result and who decided
acc=$(grep -cE '^modmilterd\[[0-9]+\]: info: [0-9A-F]+: client=[^ ]*\[[0-9.]+\] helo=[^ ]+ from=[^ ]+ nrcpt=1 rcpt=<[^>]+> chain=inbound hello=- t=seen/external verdict=accept by=- size=[0-9]+ time=[0-9.]+$' "$tmp/log")
[ "$acc" = 15100 ] && ok "a summary line per accepted message" || { bad "summary lines of accepted messages: $acc"; grep -m3 'verdict=' "$tmp/log"; }
rej=$(grep -cE ' chain=inbound hello=- t=- verdict=reject by=hello reply="550 5\.7\.1 [^"]*" size=0 ' "$tmp/log")
[ "$rej" = 200 ] && ok "a summary line per refused message, naming who refused" || { bad "summary lines of refused messages: $rej"; grep -m3 'verdict=reject' "$tmp/log"; }
# the same as JSON objects once the log is switched to json by a reload
sed -i "s|^log: .*|log: { to: json, file: $tmp/log }|" "$tmp/c.yaml"
kill -USR1 "$(cat "$tmp/pid")"; sleep 0.5
"$BENCH" -s "unix:$tmp/m.sock" -c 2 -n 50 --warmup 0 "$top_srcdir/tests/tools/sample.eml" > /dev/null 2>&1
sleep 0.3
n=$(python3 -c 'import json, sys
n = 0
for l in open(sys.argv[1]):
    if l.startswith("{"):
        o = json.loads(l)
        n += o.get("verdict") == "accept" and o.get("t") == "seen/external" and o.get("chain") == "inbound" and len(o.get("qid", "")) > 0
print(n)' "$tmp/log")
[ "$n" = 50 ] && ok "json summaries after the reload switched the log" || bad "json summaries: $n"

"$MODMILTERD" -S -c "$tmp/c.yaml" | grep -q "^hello eom calls=15150 " && ok "-S still works, counts survive the reload" || bad "-S"
echo "$fails failed"
[ $fails = 0 ]
