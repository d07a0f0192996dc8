#!/bin/sh
# The auto-whitelist on the Redis store backend, as two mail hosts share
# it: a real redis-server on a unix socket; "host A" (modmilter-test, its
# own core and store connection) delivers alice's outgoing mail and
# learns bob; "host B" (another process, another configuration on the
# same store) marks bob's reply with SPF pass (facts as the spf plugin
# sets them) whitelisted; modmilter-policy sees and removes the entry
# there, with the TTL Redis keeps.
. "${top_srcdir:-.}/tests/lib.sh"
[ -f "$PLUGINS/policy.so" ] || { echo "SKIP: the policy plugin is not built"; exit 77; }
command -v redis-server > /dev/null 2>&1 || { echo "SKIP: redis-server is not installed"; exit 77; }
grep -q '^#define HAVE_HIREDIS 1' "$top_builddir/config.h" 2>/dev/null ||
	{ echo "SKIP: built without hiredis"; exit 77; }
tmp=$(mktemp -d /tmp/policy-redis.XXXXXX)
sock=$tmp/redis.sock
redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no \
	--daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" ||
	{ echo "FAIL redis-server did not start"; exit 1; }
trap 'kill "$(cat "$tmp/redis.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
i=0; while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
R="redis://$sock"
P="$top_builddir/modmilter-policy"
fails=0
cat > "$tmp/a.yaml" <<EOF
plugin_dir: $PLUGINS
store: { backend: redis, socket: $sock, timeout: 1s }
networks: { internal: [10.0.0.0/8] }
plugins:
  policy: { module: policy, options: { internal_domains: [corp.example],
      whitelist_senders: ["@corp.example"], auto_whitelist_ttl: 10d } }
chains:
  - name: outbound
    plugins: [policy]
EOF
cat > "$tmp/b.yaml" <<EOF
plugin_dir: $PLUGINS
store: { backend: redis, socket: $sock, timeout: 1s }
plugins:
  policy: { module: policy, options: { auto_whitelist: true } }
  r: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.result, value: pass } } }
  d: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.domain, value: partner.example } } }
  show: { module: $TESTPLUGINS/testplug.so, options: { show_fact: policy.dspam } }
chains:
  - name: inbound
    plugins: [r, d, policy, show]
EOF
cp "$top_srcdir/tests/tools/sample.eml" "$tmp/m.eml"
"$MODMILTER_TEST" -c "$tmp/a.yaml" --client-ip 10.0.0.5 --from alice@corp.example \
	--rcpt bob@partner.example --rcpt carol@corp.example "$tmp/m.eml" > "$tmp/out" 2>&1 ||
	{ echo "FAIL host A: alice's mail not accepted"; cat "$tmp/out"; fails=$((fails + 1)); }
if "$P" -s "$R" whitelist query bob@partner.example > "$tmp/q" 2>&1 &&
	grep -q 'by=alice@corp.example' "$tmp/q"; then echo "PASS host A learnt bob in Redis"
else echo "FAIL bob not in Redis"; cat "$tmp/q"; fails=$((fails + 1)); fi
if "$P" -s "$R" whitelist query carol@corp.example > /dev/null 2>&1; then
	echo "FAIL an internal recipient whitelisted"; fails=$((fails + 1))
else echo "PASS internal recipient not learnt"; fi
ttl=$(redis-cli -s "$sock" --scan | while read -r k; do redis-cli -s "$sock" ttl "$k"; done | sort -n | tail -1)
# the store keeps expiry times in whole seconds, rounded up: 864001 is
# 10 days set a fraction of a second before Redis was asked
if [ -n "$ttl" ] && [ "$ttl" -gt 863000 ] && [ "$ttl" -le 864001 ]; then
	echo "PASS the entry expires in auto_whitelist_ttl (10 days)"
else echo "FAIL TTL in Redis: '$ttl'"; fails=$((fails + 1)); fi
"$MODMILTER_TEST" -c "$tmp/b.yaml" --client-ip 192.0.2.25 --from bob@partner.example \
	--rcpt alice@corp.example "$tmp/m.eml" > "$tmp/out" 2>&1
if grep -q '^header-add: X-Fact-policy.dspam: whitelisted$' "$tmp/out"; then
	echo "PASS host B: bob's reply with SPF pass whitelisted"
else echo "FAIL host B did not whitelist bob"; cat "$tmp/out"; fails=$((fails + 1)); fi
"$P" -s "$R" whitelist del bob@partner.example
"$MODMILTER_TEST" -c "$tmp/b.yaml" --client-ip 192.0.2.25 --from bob@partner.example \
	--rcpt alice@corp.example "$tmp/m.eml" > "$tmp/out" 2>&1
if grep -q '^header-add: X-Fact-policy.dspam: (unset)$' "$tmp/out"; then
	echo "PASS removed by modmilter-policy: no longer whitelisted"
else echo "FAIL still whitelisted after del"; cat "$tmp/out"; fails=$((fails + 1)); fi
[ $fails = 0 ]
