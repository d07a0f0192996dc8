#!/bin/sh
# dspam honours the policy plugin's marks (fact policy.dspam), in-process
# with modmilter-test: an auto-whitelisted sender with SPF pass (facts as
# the spf plugin sets them) is trained into the shared dictionary as
# innocent and never refused; the same sender without SPF pass, or with
# a banned attachment (fact mime.banned), is classified and refused;
# dspam_exempt recipients and dspam_whitelist senders are not screened.
. "${top_srcdir:-.}/tests/lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
[ -x "$DSPAM" ] && [ -f "$PLUGINS/dspam.so" ] || { echo "SKIP: the dspam plugin is not built"; exit 77; }
M="$top_srcdir/tests/dspam/messages"
tmp=$(mktemp -d /tmp/policy-dspam.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
"$DSPAM" --store "$tmp/store" train --spam "$M"/spam[1-4].eml 2>/dev/null &&
	"$DSPAM" --store "$tmp/store" train --ham "$M"/ham[1-4].eml 2>/dev/null || { echo "FAIL training"; exit 1; }
"$top_builddir/modmilter-policy" -s "$tmp/store" whitelist add deals@promo.example.net ||
	{ echo "FAIL whitelist add"; exit 1; }

conf() {	# conf SPF-RESULT [banned]
	cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
store: $tmp/store
networks: { internal: [10.0.0.0/8] }
plugins:
  policy: { module: policy, options: { auto_whitelist: true,
      dspam_exempt: [getitall@example.com], dspam_whitelist: ["@news.example.org"] } }
  dspam: { module: dspam, options: { reject_above: 0.9 } }
  r: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.result, value: "$1" } } }
  d: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: spf.domain, value: promo.example.net } } }
  b: { module: $TESTPLUGINS/testplug.so, options: { set_fact: { key: mime.banned, value: "${2:-}" } } }
chains:
  - name: inbound
    plugins: [r, d, ${2:+b, }policy, dspam]
EOC
}
stat() { "$DSPAM" --store "$tmp/store" stats | sed -n "s/^$1: *//p"; }

conf pass
before=$(stat "innocent corpus-fed")
check "whitelisted with SPF pass: trained innocent, not refused" 0 \
	'^header-add: X-DSPAM-Result: Whitelisted$' '!reject' \
	-- --from deals@promo.example.net --rcpt bob@example.com "$M/spam5.eml"
after=$(stat "innocent corpus-fed")
[ "$after" -gt "$before" ] || { echo "FAIL not trained as innocent ($before -> $after)"; fails=$((fails + 1)); }
conf softfail
check "whitelisted without SPF pass: classified, refused" 2 \
	'^verdict: reject 550 5\.7\.1 Message refused as spam' \
	-- --from deals@promo.example.net --rcpt bob@example.com "$M/spam5.eml"
conf pass evil.exe
check "whitelisted, banned attachment: classified, refused" 2 \
	'^verdict: reject 550 5\.7\.1 Message refused as spam' \
	-- --from deals@promo.example.net --rcpt bob@example.com "$M/spam5.eml"
conf softfail
check "dspam_exempt recipient: not screened" 0 '!X-DSPAM' \
	-- --from x@spam.example --rcpt getitall@example.com "$M/spam5.eml"
check "dspam_whitelist sender: not screened" 0 '!X-DSPAM' \
	-- --from letter@news.example.org --rcpt bob@example.com "$M/spam5.eml"
check "anyone else: refused" 2 '^verdict: reject' \
	-- --from x@spam.example --rcpt bob@example.com "$M/spam5.eml"
[ $fails = 0 ]
