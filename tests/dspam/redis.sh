#!/bin/sh
# The dspam plugin on the Redis store backend, as several mail hosts
# would share it: a real redis-server on a unix socket; the dictionary is
# trained by modmilter-dspam on one side, used by the plugin in other
# processes (modmilter-test, each its own core and store connection), and
# a signature issued by one "host" is retrained by another. Then Redis
# goes away: the message gets a temporary failure, the log says why, and
# nothing hangs; Redis comes back: the next message is classified again.
. "${top_srcdir:-.}/tests/lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
[ -x "$DSPAM" ] && [ -f "$PLUGINS/dspam.so" ] || { echo "SKIP: the dspam plugin is not built"; exit 77; }
command -v redis-server > /dev/null 2>&1 || { echo "SKIP: redis-server is not installed"; exit 77; }
grep -q '^#define HAVE_HIREDIS 1' "$top_builddir/config.h" 2>/dev/null ||
	{ echo "SKIP: built without hiredis"; exit 77; }
M="$top_srcdir/tests/dspam/messages"
tmp=$(mktemp -d /tmp/mmdspamredis.XXXXXX)
sock=$tmp/redis.sock
redis_up() {
	redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no \
		--daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" || return 1
	i=0; while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -S "$sock" ]
}
redis_down() {
	kill "$(cat "$tmp/redis.pid")" 2>/dev/null
	i=0; while [ -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
trap 'redis_down; rm -rf "$tmp"' EXIT
redis_up || { echo "FAIL redis-server did not start"; cat "$tmp/redis.log"; exit 1; }
fails=0
R="redis://$sock"

"$DSPAM" --store "$R" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$R" train --ham "$M"/ham[1-4].eml 2>/dev/null || { echo "FAIL training into Redis"; exit 1; }
stat() { "$DSPAM" --store "$R" stats | sed -n "s/^$1: *//p"; }
# the same training on LMDB gives the same dictionary
"$DSPAM" --store "$tmp/lmdb" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$tmp/lmdb" train --ham "$M"/ham[1-4].eml 2>/dev/null
"$DSPAM" --store "$tmp/lmdb" stats > "$tmp/stats.lmdb"
"$DSPAM" --store "$R" stats > "$tmp/stats.redis"
[ "$(stat "spam learned")" = 4 ] && [ "$(stat tokens)" -gt 50 ] && cmp -s "$tmp/stats.lmdb" "$tmp/stats.redis" &&
	echo "PASS trained into Redis, as into LMDB" ||
	{ echo "FAIL trained into Redis"; diff "$tmp/stats.lmdb" "$tmp/stats.redis"; fails=$((fails + 1)); }
# the keys are Redis's own, under the configured prefix
if command -v redis-cli > /dev/null 2>&1; then
	n=$(redis-cli -s "$sock" --scan --pattern 'modmilter:dspam:*' | wc -l)
	[ "$n" -gt 50 ] && echo "PASS keys under modmilter:dspam:" ||
		{ echo "FAIL keys under modmilter:dspam: ($n)"; fails=$((fails + 1)); }
fi

cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
store: { backend: redis, socket: $sock, timeout: 1s }
networks: { internal: [10.0.0.0/8] }
plugins:
  dspam: { module: dspam, options: { tag_above: 0.9, spam_addresses: [spam@example.com] } }
chains:
  - name: inbound
    plugins: [dspam]
EOC
check "host A: spam tagged from the shared dictionary" 0 '^header-add: X-DSPAM-Result: Spam$' \
	'^header-change: Subject\[1\]: \[SPAM\]' -- --rcpt bob@example.com "$M/spam5.eml"
check "host A: ham passes" 0 '^header-add: X-DSPAM-Result: Innocent$' \
	-- --rcpt bob@example.com "$M/ham5.eml"
sig=$(sed -n 's/^header-add: X-DSPAM-Signature: //p' "$tmp/out")
[ ${#sig} = 32 ] || { echo "FAIL no signature"; fails=$((fails + 1)); }
missed=$(stat "spam missed")
{ printf 'Subject: Fwd: this is spam\n\n---- forwarded ----\nX-DSPAM-Signature: %s\n' "$sig"; cat "$M/ham5.eml"; } > "$tmp/fwd.eml"
check "host B: forward to spam@ retrains host A's signature" 4 '^verdict: discard' \
	-- --client-ip 10.1.2.3 --rcpt spam@example.com "$tmp/fwd.eml"
[ "$(stat "spam missed")" = $((missed + 1)) ] && echo "PASS signature $sig retrained in Redis" ||
	{ echo "FAIL signature retrained in Redis"; fails=$((fails + 1)); }

# Redis goes away: a deliberate temporary failure, quickly
redis_down
t0=$(date +%s)
check "Redis down: temporary failure" 3 '^verdict: tempfail' -- --rcpt bob@example.com "$M/ham6.eml"
[ $(( $(date +%s) - t0 )) -lt 10 ] && echo "PASS no hang" || { echo "FAIL it hung"; fails=$((fails + 1)); }
grep -q "store redis $sock: cannot connect" "$tmp/out" && echo "PASS the reason is logged" ||
	{ echo "FAIL the reason is logged"; cat "$tmp/out"; fails=$((fails + 1)); }
redis_up || { echo "FAIL redis-server did not restart"; exit 1; }
check "Redis back (empty): classified again" 0 '^header-add: X-DSPAM-Result: Innocent$' \
	-- --rcpt bob@example.com "$M/ham6.eml"
[ $fails -eq 0 ]
