#!/bin/sh
# The policy options through the plugin's table: a bad value of each
# type is reported by modmilterd -t at FILE:LINE:COL with its key, all
# of them in one run; what the plugin normalises itself (domain globs,
# "@domain" addresses, a positive auto_whitelist_ttl) is still checked
# there; modmilterd --describe policy prints the table.
. "$(dirname "$0")/../lib.sh"
[ -x "$MODMILTERD" ] && [ -f "$PLUGINS/policy.so" ] ||
	{ echo "SKIP: policy is not built"; exit 77; }
checks_init

conf() { instance_conf "$1" policy "$2"; }
# refused NAME FILE WANT...: -t refuses FILE, printing FILE:WANT for each
refused() {
	name=$1 f=$2
	shift 2
	"$MODMILTERD" -t -c "$f" > "$tmp/out" 2>&1 && ko "$name: -t accepted it"
	for want in "$@"; do
		grep -qF -- "$f:$want" "$tmp/out" && ok "$name: $want" ||
			{ ko "$name: missing $f:$want"; cat "$tmp/out"; }
	done
}

# each type the table reads: boolean, duration, list, string
conf "$tmp/bad.yaml" '      reject_bad_ptr: perhaps
      dns_timeout: soon
      hello_blacklist: { a: b }
      db: [x, y]
      reject_noptr: sometimes
      porn_words: [ok, [nested]]'
refused "table" "$tmp/bad.yaml" \
	"6:23: 'reject_bad_ptr' must be true or false" \
	"7:20: 'dns_timeout' must be a duration such as 30s, 250ms, 5m, 2h, 1d" \
	"8:24: 'hello_blacklist' must be a list" \
	"9:11: 'db' must be a string, not a list" \
	"10:21: 'reject_noptr' must be true or false" \
	"11:24: porn_words: each item must be a non-empty string"

# what the plugin checks after the table
conf "$tmp/dom.yaml" '      internal_domains: [corp.example, "*.ok.example", "bad..example"]'
refused "domains" "$tmp/dom.yaml" \
	"6:56: internal_domains: 'bad..example' is not a domain: "
conf "$tmp/addr.yaml" '      dspam_whitelist: ["@corp.example", "a@@b"]'
refused "addresses" "$tmp/addr.yaml" \
	"6:42: dspam_whitelist: 'a@@b' is not an address or @domain: "
conf "$tmp/ttl.yaml" '      auto_whitelist_ttl: 0s'
refused "ttl" "$tmp/ttl.yaml" "6:27: auto_whitelist_ttl must be positive"

conf "$tmp/good.yaml" '      reject_bad_ptr: yes
      hello_blacklist: "*.corp.example"
      internal_domains: [corp.example, .corp.example]
      whitelist_senders: [boss@corp.example, "@partner.example", other.example]
      porn_words: [Xxx]
      dns_timeout: 250ms
      auto_whitelist_ttl: 30d
      reject_noptr: false
      db: pol'
"$MODMILTERD" -t -c "$tmp/good.yaml" > "$tmp/out" 2>&1 && ok "-t accepts good values" ||
	{ ko "-t refused good values"; cat "$tmp/out"; }
conf "$tmp/typo.yaml" '      reject_bad_prt: true'
"$MODMILTERD" -t -c "$tmp/typo.yaml" > "$tmp/out" 2>&1 && ko "-t accepted an unknown key"
grep -qF "typo.yaml:6:7:" "$tmp/out" && grep -q "reject_bad_prt" "$tmp/out" &&
	ok "an unknown key is named" || { ko "unknown key"; cat "$tmp/out"; }

# --describe
"$MODMILTERD" -P "$PLUGINS" --describe policy > "$tmp/out" 2>&1
grep -q '^  auto_whitelist_ttl$' "$tmp/out" && grep -q 'duration; default: 60d$' "$tmp/out" &&
	ok "--describe policy" || { ko "--describe policy"; cat "$tmp/out"; }
"$MODMILTERD" -P "$PLUGINS" --describe policy --markdown > "$tmp/out" 2>&1
grep -qF '| `confirm_ptr` | boolean | `true` |' "$tmp/out" &&
	grep -qF '| `reject_noptr` | boolean | none |' "$tmp/out" &&
	ok "--describe policy --markdown" || { ko "--describe policy --markdown"; cat "$tmp/out"; }
[ $fails = 0 ]
