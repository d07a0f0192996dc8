#!/bin/sh
# The spf plugin's access_file (bms.py's SPF-<Result>: entries), through
# modmilter-test against nsd in a private network namespace: an entry
# for the sender, for its domain and the bare default override the
# policy (OK accepts a fail, REJECT refuses a softfail, CBV flags a
# neutral for the cbv plugin); the file is read again when it changes;
# a bad line at start is a configuration error naming file and line.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/spf/netns.sh"
spf_test_start spfaccess spf "$@"
{ spf_zone_head example.org; cat <<'EOF'; } >"$tmp/example.org.zone"
mail       A     192.0.2.25
mail       TXT   "v=spf1 a -all"
fail       TXT   "v=spf1 ip4:198.51.100.0/24 -all"
fail2      TXT   "v=spf1 ip4:198.51.100.0/24 -all"
soft       TXT   "v=spf1 ~all"
neutral    TXT   "v=spf1 ?all"
EOF
spf_dns_start "$tmp/dns" "example.org:$tmp/example.org.zone" || { echo "ERROR: nsd"; exit 99; }
cat >"$tmp/access" <<'EOF'
# SPF policy overrides, Sendmail's format
SPF-Fail:fail.example.org	OK
SPF-Fail:boss@fail2.example.org	OK
SPF-Softfail:soft.example.org	REJECT
SPF-Neutral:	CBV
Connect:192.0.2	RELAY
EOF
cat >"$tmp/c.yaml" <<EOF
plugin_dir: $PLUGINS
store: $tmp/store
plugins:
  spf: { module: spf, options: { receiver: mx.example.com, access_file: $tmp/access,
      policy: { neutral: accept, softfail: accept } } }
  f2: { module: $TESTPLUGINS/testplug.so, options: { show_fact: spf.verify } }
chains:
  - name: inbound
    plugins: [spf, f2]
EOF
msg="$top_srcdir/tests/tools/sample.eml"
fails=0
run() {	# run WANT-EXIT FROM PATTERN...
	want=$1 from=$2; shift 2
	"$MODMILTER_TEST" -c "$tmp/c.yaml" --client-ip 203.0.113.9 --helo ns.example.org \
	    --from "$from" --rcpt bob@example.com "$msg" >"$tmp/out" 2>&1
	rc=$?
	ok=1
	[ "$rc" = "$want" ] || { echo "  exit $rc, wanted $want"; ok=0; }
	for p in "$@"; do grep -qE -- "$p" "$tmp/out" || { echo "  missing: $p"; ok=0; }; done
	if [ $ok = 1 ]; then echo "PASS $name"; else
		echo "FAIL $name"; sed 's/^/    /' "$tmp/out"; fails=$((fails + 1)); fi
}
name="SPF-Fail:domain OK accepts a fail"; run 0 x@fail.example.org 'X-Fact-spf.verify: \(unset\)'
name="SPF-Fail:sender OK accepts that sender"; run 0 boss@fail2.example.org
name="... and only that sender"; run 2 other@fail2.example.org '^verdict: reject 550'
name="SPF-Softfail:domain REJECT refuses a softfail"; run 2 x@soft.example.org '^verdict: reject 550'
name="SPF-Neutral: CBV flags every neutral for cbv"; run 0 x@neutral.example.org \
	'X-Fact-spf.verify: yes'
# changed: read again (a second later at most)
sleep 1.1
printf 'SPF-Fail:fail.example.org REJECT\n' > "$tmp/access"
name="changed file read again"; run 2 x@fail.example.org '^verdict: reject 550'
# a bad line at start: the configuration is refused with file:line
printf 'SPF-Fail:fail.example.org PERHAPS\n' > "$tmp/access"
"$MODMILTER_TEST" -c "$tmp/c.yaml" --from x@fail.example.org --rcpt b@example.com "$msg" \
	> "$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "access_file: $tmp/access:1: value must be" "$tmp/out"; then
	echo "PASS bad line: configuration error at file:line"
else echo "FAIL bad line"; cat "$tmp/out"; fails=$((fails + 1)); fi
[ $fails = 0 ]
