#!/bin/sh
# The spf plugin's decisions, through modmilter-test (the real core and
# plugin in-process), against nsd serving a test zone in a private
# network namespace: policy and helo_policy, overrides, the verify action
# and its fact, the best guess, trusted forwarders, skip.senders and
# skip.clients, permerror and its fact, the null sender (HELO identity)
# and an IPv6 client. A test plugin after spf shows the facts it set.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/spf/netns.sh"
spf_test_start spfplug spf "$@"
{ spf_zone_head example.org; cat <<'EOF'; } >"$tmp/example.org.zone"
@          TXT   "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
mail       A     192.0.2.25
mail       TXT   "v=spf1 a -all"
badhelo    TXT   "v=spf1 -all"
fail       TXT   "v=spf1 ip4:198.51.100.0/24 -all"
soft       TXT   "v=spf1 ~all"
neutral    TXT   "v=spf1 ?all"
broken     TXT   "v=spf1 ip4:192.0.2.0/24 moo -all"
noguess    A     203.0.113.9
nothing    A     198.51.100.99
fwd        TXT   "v=spf1 ip4:192.0.2.128/25 -all"
skipme     TXT   "v=spf1 -all"
EOF
spf_dns_start "$tmp/dns" "example.org:$tmp/example.org.zone" || { echo "ERROR: nsd"; exit 99; }
cat >"$tmp/c.yaml" <<EOF
plugin_dir: $PLUGINS
store: $tmp/store
authserv_id: mx.example.com
plugins:
  spf: { module: spf, options: {
      receiver: mx.example.com,
      overrides: { neutral.example.org: { neutral: reject } },
      trusted_forwarders: [fwd.example.org],
      skip: { clients: [198.51.100.0/24], senders: [skipme.example.org] } } }
  f1: { module: $TESTPLUGINS/testplug.so, options: { show_fact: spf.result } }
  f2: { module: $TESTPLUGINS/testplug.so, options: { show_fact: spf.verify } }
  f3: { module: $TESTPLUGINS/testplug.so, options: { show_fact: spf.guessed } }
  f4: { module: $TESTPLUGINS/testplug.so, options: { show_fact: spf.perm_error } }
  f5: { module: $TESTPLUGINS/testplug.so, options: { show_fact: spf.trusted_forwarder } }
  f6: { module: $TESTPLUGINS/testplug.so, options: { show_fact: spf.helo_result } }
chains:
  - name: inbound
    plugins: [spf, f1, f2, f3, f4, f5, f6]
EOF
msg="$top_srcdir/tests/tools/sample.eml"
fails=0
# check NAME EXIT CLIENT HELO FROM PATTERN... [-- !PATTERN...]
check() {
	name=$1 want=$2 ip=$3 helo=$4 from=$5
	shift 5
	"$MODMILTER_TEST" -c "$tmp/c.yaml" --client-ip "$ip" --helo "$helo" \
	    --from "$from" --rcpt bob@example.com "$msg" >"$tmp/out" 2>&1
	rc=$?
	ok=1
	[ "$rc" = "$want" ] || { echo "  exit $rc, wanted $want"; ok=0; }
	for p in "$@"; do
		case $p in
		!*) grep -qE -- "${p#!}" "$tmp/out" && { echo "  unexpected: ${p#!}"; ok=0; } ;;
		*) grep -qE -- "$p" "$tmp/out" || { echo "  missing: $p"; ok=0; } ;;
		esac
	done
	if [ $ok = 1 ]; then
		echo "PASS $name"
	else
		echo "FAIL $name"
		sed 's/^/    /' "$tmp/out"
		fails=$((fails + 1))
	fi
}

check "pass: headers and facts" 0 192.0.2.25 mail.example.org alice@example.org \
	'^header-insert: Received-SPF\[[0-9]+\]: pass \(mx.example.com: domain of alice@example.org designates 192.0.2.25' \
	'spf=pass smtp.mailfrom=example.org' '^header-add: X-Fact-spf.result: pass$' \
	'^header-add: X-Fact-spf.guessed: no$' '^header-add: X-Fact-spf.helo_result: pass$' \
	'^header-add: X-Fact-spf.verify: \(unset\)$'
check "fail: 550 5.7.1, nothing added" 2 192.0.2.25 mail.example.org m@fail.example.org \
	'^verdict: reject 550 5.7.1 192.0.2.25 is not allowed to send mail for fail.example.org' \
	'!Received-SPF'
check "softfail: verify, fact for cbv" 0 203.0.113.9 neutral.example.org s@soft.example.org \
	'^header-add: X-Fact-spf.result: softfail$' '^header-add: X-Fact-spf.verify: yes$' \
	'Received-SPF\[[0-9]+\]: softfail'
check "override: neutral refused for that domain" 2 203.0.113.9 neutral.example.org n@neutral.example.org \
	'^verdict: reject 550 5.7.1 SPF neutral: neutral.example.org neither permits nor denies 203.0.113.9'
check "permerror: 550 5.5.2 with the problem" 2 192.0.2.25 mail.example.org b@broken.example.org \
	"^verdict: reject 550 5.5.2 SPF permanent error for broken.example.org: broken.example.org: unknown mechanism 'moo'"
check "best guess: a guessed pass, headers say none" 0 203.0.113.9 neutral.example.org g@noguess.example.org \
	'Received-SPF\[[0-9]+\]: none \(.*; best guess record: pass\)' \
	'spf=none \(best guess record: pass\) smtp.mailfrom=noguess.example.org' \
	'^header-add: X-Fact-spf.result: pass$' '^header-add: X-Fact-spf.guessed: yes$'
check "HELO fail refused when MAIL FROM does not pass" 2 203.0.113.9 badhelo.example.org s@soft.example.org \
	'^verdict: reject 550 5.7.1 HELO badhelo.example.org: 203.0.113.9 is not allowed'
check "HELO fail ignored when MAIL FROM passes" 0 192.0.2.25 badhelo.example.org alice@example.org \
	'^header-add: X-Fact-spf.helo_result: fail$' '^header-add: X-Fact-spf.result: pass$'
check "null sender: the HELO identity" 0 192.0.2.25 mail.example.org "" \
	'Received-SPF\[[0-9]+\]: pass \(mx.example.com: domain of postmaster@mail.example.org' \
	'identity=helo;' 'spf=pass smtp.helo=mail.example.org'
check "trusted forwarder: sender not checked" 0 192.0.2.200 mail.example.org m@fail.example.org \
	'^header-add: X-Fact-spf.trusted_forwarder: fwd.example.org$' '!Received-SPF' \
	'^header-add: X-Fact-spf.result: \(unset\)$'
check "skip.senders" 0 203.0.113.9 neutral.example.org x@skipme.example.org \
	'!Received-SPF' '^header-add: X-Fact-spf.result: \(unset\)$'
check "skip.clients" 0 198.51.100.7 mail.example.org m@fail.example.org \
	'!Received-SPF' '^header-add: X-Fact-spf.result: \(unset\)$'
check "IPv6 client" 0 2001:db8::25 mail.example.org alice@example.org \
	'Received-SPF\[[0-9]+\]: pass \(mx.example.com: domain of alice@example.org designates 2001:db8::25' \
	'client-ip="2001:db8::25";' 'mechanism="ip6:2001:db8::/32";'
check "IPv4-mapped IPv6 client is IPv4" 2 ::ffff:203.0.113.77 neutral.example.org alice@example.org \
	'^verdict: reject 550 5.7.1 203.0.113.77 is not allowed'
[ $fails -eq 0 ]
