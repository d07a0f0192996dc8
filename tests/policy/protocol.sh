#!/bin/sh
# The policy plugin through miltertest (a real milter client) against
# modmilterd: every refusal and pass (tests/policy/protocol.lua), then
# the auto-whitelist as modmilter-policy sees it in the same store. The
# daemon must stop cleanly (exit 0: under ASan, no leaks either).
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd miltertest
tmp=$(mktemp -d /tmp/policy-proto.XXXXXX)
trap '[ -n "$KEEP" ] || rm -rf "$tmp"' EXIT
fill_config "$top_srcdir/tests/policy/protocol.yaml" "$tmp" > "$tmp/conf.yaml"
start_daemon "$tmp/conf.yaml" "unix:$tmp/milter.sock" "$tmp/daemon.log" ||
	{ echo "FAIL: daemon did not start"; cat "$tmp/daemon.log"; exit 1; }
rc=0
MILTER_SOCKET="unix:$tmp/milter.sock" miltertest -s "$top_srcdir/tests/policy/protocol.lua" \
	> "$tmp/out" 2>&1 || rc=1
grep -q '^policy protocol ok$' "$tmp/out" || { echo "FAIL: the script did not finish"; rc=1; }
stop_daemon || { echo "FAIL: daemon did not stop cleanly"; rc=1; }
if grep -q Sanitizer "$tmp/daemon.log"; then echo "FAIL: sanitizer report"; rc=1; fi
# MAIL without HELO: miltertest always says HELO first, so the session
# engine of modmilterd plays this one (modmilter-test, an empty HELO)
printf 'From: bob@partner.example\r\nSubject: hi\r\n\r\nbody\r\n' > "$tmp/m.eml"
"$top_builddir/modmilter-test" -c "$tmp/conf.yaml" --client-ip 203.0.113.5 \
	--client-host mail.partner.example --helo '' --from bob@partner.example \
	--rcpt alice@corp.example --verbose "$tmp/m.eml" > "$tmp/nohelo" 2>&1
[ $? = 2 ] && grep -q 'Say HELO first' "$tmp/nohelo" ||
	{ echo "FAIL: MAIL without HELO not refused"; cat "$tmp/nohelo"; rc=1; }
grep -q 'REJECT no_hello:' "$tmp/nohelo" || { echo "FAIL: no log of no_hello"; rc=1; }
# every refusal logged with its reason
for why in bad_ptr numeric_hello self_hello zombie forged strikes subject; do
	grep -q "REJECT $why:" "$tmp/daemon.log" || { echo "FAIL: no log of $why"; rc=1; }
done
grep -q 'auto-whitelisted but SPF did not pass' "$tmp/daemon.log" ||
	{ echo "FAIL: no log of the untrusted whitelisted sender"; rc=1; }
# the whitelist as the admin sees it (two policy instances: -i chooses
# whose db)
"$top_builddir/modmilter-policy" -c "$tmp/conf.yaml" -i pol whitelist query bob@partner.example \
	> "$tmp/q" 2>&1 || { echo "FAIL: bob not in the auto-whitelist"; cat "$tmp/q"; rc=1; }
grep -q 'by=alice@corp.example' "$tmp/q" || { echo "FAIL: entry without its sender"; rc=1; }
if "$top_builddir/modmilter-policy" -c "$tmp/conf.yaml" -i pol whitelist query \
	alice@corp.example > /dev/null 2>&1; then echo "FAIL: alice whitelisted"; rc=1; fi
if [ $rc = 0 ]; then echo "PASS policy protocol"; else
	cat "$tmp/out"; echo "--- daemon log"; cat "$tmp/daemon.log"; fi
exit $rc
