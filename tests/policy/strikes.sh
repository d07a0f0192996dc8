#!/bin/sh
# The three strikes against real DNS: modmilter-test (the core and the
# spf and policy plugins in-process) with nsd serving the zone in a
# private network namespace. The client 203.0.113.9 sends for a domain
# without SPF; it passes with a HELO whose SPF passes, whose A or MX host
# is in its /24, or with a forward-confirmed PTR that is not dynamic;
# it is refused with a HELO far away and a PTR that is missing, does not
# confirm or looks dynamic; a domain that publishes SPF is not struck.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/spf/netns.sh"
spf_test_start policy-strikes "spf policy" "$@"
{ spf_zone_head example.org; cat <<'EOF'; } >"$tmp/example.org.zone"
withspf        TXT   "v=spf1 ?all"
spfhelo        TXT   "v=spf1 ip4:203.0.113.0/24 -all"
helo-a         A     203.0.113.10
helo-mx        MX    10 mx.elsewhere.example.org.
mx.elsewhere   A     203.0.113.77
helo-far       A     198.51.100.1
good           A     203.0.113.9
fake           A     198.51.100.2
dsl-203-0-113-9 A    203.0.113.9
EOF
spf_dns_start "$tmp/dns" "example.org:$tmp/example.org.zone" || { echo "ERROR: nsd"; exit 99; }
cat >"$tmp/c.yaml" <<EOF
plugin_dir: $PLUGINS
store: $tmp/store
plugins:
  spf: { module: spf, options: { best_guess: "", dns: { timeout: 1s, retries: 1 } } }
  policy: { module: policy, options: { reject_noptr: true, dns_timeout: 1s } }
chains:
  - name: inbound
    plugins: [spf, policy]
EOF
printf 'From: x@nospf.example.org\r\nSubject: hello\r\n\r\nbody\r\n' > "$tmp/m.eml"
fails=0
t() {	# t NAME WANT-EXIT HOST HELO [FROM]
	"$MODMILTER_TEST" -c "$tmp/c.yaml" --client-ip 203.0.113.9 --client-host "$3" \
	    --helo "$4" --from "${5:-x@nospf.example.org}" --rcpt bob@example.com \
	    "$tmp/m.eml" > "$tmp/out" 2>&1
	rc=$?
	if [ $rc = "$2" ]; then echo "PASS $1"; else
		echo "FAIL $1: exit $rc, wanted $2"; cat "$tmp/out"; fails=$((fails + 1)); fi
}
t "no PTR, HELO far away: struck out" 2 '[203.0.113.9]' helo-far.example.org
grep -q '550 5.7.1 You need a valid PTR, a valid HELO name or SPF' "$tmp/out" || { echo "FAIL reply text"; fails=$((fails + 1)); }
t "HELO with SPF pass" 0 '[203.0.113.9]' spfhelo.example.org
t "HELO's A in the client's /24" 0 '[203.0.113.9]' helo-a.example.org
t "HELO's MX host in the client's /24" 0 '[203.0.113.9]' helo-mx.example.org
t "forward-confirmed PTR" 0 good.example.org helo-far.example.org
t "PTR that does not confirm" 2 fake.example.org helo-far.example.org
t "dynamic PTR, even confirmed" 2 dsl-203-0-113-9.example.org helo-far.example.org
t "HELO without A or MX" 2 '[203.0.113.9]' nothing.example.org
t "the domain publishes SPF: not struck" 0 '[203.0.113.9]' helo-far.example.org x@withspf.example.org
[ $fails = 0 ]
