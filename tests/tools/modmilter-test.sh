#!/bin/sh
# modmilter-test: verdicts, actions and chain selection of a configured
# chain, in-process, in text and JSON.
. "${top_srcdir:-.}/tests/lib.sh"
tmp=$(mktemp -d /tmp/mmtool.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fill_config "$top_srcdir/tests/tools/tools.yaml" "$tmp" > "$tmp/c.yaml"
msg="$top_srcdir/tests/tools/sample.eml"
fails=0

check "external client: hello and actions" 0 \
	'^verdict: accept' '^header-add: X-Hello: tool$' \
	'^add-rcpt: <archive@example.com>$' '^delete-rcpt: <bob@example.com>$' \
	'^change-from: <bounces@example.com>$' '^body-replaced: 10 bytes$' \
	'^quarantine: acts: looks odd$' '^header-delete: X-Remove\[1\]$' \
	'^header-insert: X-Top\[1\]: first$' \
	'^header-insert: Authentication-Results\[0\]: mx.example.com;' \
	'^header-delete: Authentication-Results\[1\]$' \
	-- --rcpt bob@example.com "$msg"
check "sender refused" 2 '^envfrom spammer@example.net: reject 550 5.7.1 Sender refused by hello' \
	'^verdict: reject 550' -- --from spammer@example.net "$msg"
check "internal client: hello only" 0 '^header-add: X-Hello: tool$' -- --client-ip 10.1.2.3 "$msg"
if grep -q "add-rcpt" "$tmp/out"; then echo "FAIL internal chain ran acts"; fails=$((fails + 1)); fi
check "auth chain chosen at MAIL, late plugin replayed" 0 \
	'^header-add: X-Trace-Late: connect,helo,envfrom,envrcpt,data,header,eoh,body,eom$' \
	-- --auth alice "$msg"
check "json" 0 '"verdict":"accept"' '"op":"add","name":"X-Hello"' \
	'"add_rcpt":\["archive@example.com"\]' '"quarantine":"acts: looks odd"' \
	-- --json "$msg"
check "json reject" 2 '"verdict":"reject","stage":"envfrom","reply":\{"code":"550"' \
	-- --json --from spammer@example.net "$msg"

# configuration errors: file, line and column, exit 1
printf 'listen: inet:1@127.0.0.1\nplugins:\n  x: { module: nosuch }\nbogus: 1\n' > "$tmp/bad.yaml"
"$MODMILTER_TEST" -c "$tmp/bad.yaml" -P "$PLUGINS" "$msg" > "$tmp/out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "^$tmp/bad.yaml:3:[0-9]*: plugin 'x': plugin file .*nosuch.so" "$tmp/out" &&
   grep -q "^$tmp/bad.yaml:4:1: unknown key 'bogus'" "$tmp/out"; then
	echo "PASS config errors"
else
	echo "FAIL config errors (exit $rc)"; cat "$tmp/out"; fails=$((fails + 1))
fi
[ $fails -eq 0 ]
