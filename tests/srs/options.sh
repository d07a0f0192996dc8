#!/bin/sh
# The srs options through the plugin's table: a bad value of each type
# is reported at FILE:LINE:COL with its key, by modmilterd -t and by
# modmilter-srs -c alike (modmilter/host.h), all of them in one run;
# what the table cannot say (fwdomain required, secret or secret_file,
# hashmin absent = hashlength) is still checked; modmilterd --describe
# srs prints the table.
. "$(dirname "$0")/../lib.sh"
SRS="$top_builddir/modmilter-srs"
[ -x "$MODMILTERD" ] && [ -x "$SRS" ] && [ -f "$PLUGINS/srs.so" ] ||
	{ echo "SKIP: srs is not built"; exit 77; }
checks_init

conf() { instance_conf "$1" srs "$2"; }

# line 6 is the first option
conf "$tmp/bad.yaml" '      fwdomain: [a.example, b.example]
      secret: s3cret
      maxage: 2000
      hashlength: six
      separator: "*"
      sign: sometimes
      reject_spoofed: maybe
      local_domains: [corp.example, "bad..example"]
      banned_users: { postmaster: 1 }'
bad="$tmp/bad.yaml"
# each type: string, integer (range, syntax), enum (its own message and
# the table'"'"'s), boolean, domain list, list
set -- \
	"6:17: 'fwdomain' must be a string, not a list" \
	"8:15: 'maxage' must be between 1 and 1023" \
	"9:19: 'hashlength' must be an integer, not 'six'" \
	'10:18: separator must be "=", "+" or "-" (quoted)' \
	"11:13: sign must be always, relayed or never, not 'sometimes'" \
	"12:23: 'reject_spoofed' must be true or false" \
	"13:37: local_domains: 'bad..example' is not a domain: " \
	"14:21: 'banned_users' must be a list"
for tool in modmilterd modmilter-srs; do
	if [ $tool = modmilterd ]; then
		"$MODMILTERD" -t -c "$bad" > "$tmp/out" 2>&1
	else
		"$SRS" -c "$bad" forward alice@example.net > "$tmp/out" 2>&1
	fi
	rc=$?
	[ $rc != 0 ] || ko "$tool accepted bad values"
	for want in "$@"; do
		grep -qF -- "$bad:$want" "$tmp/out" && ok "$tool: $bad:$want" ||
			{ ko "$tool: missing $bad:$want"; cat "$tmp/out"; }
	done
done

# what the table cannot say
conf "$tmp/nofw.yaml" '      secret: s3cret'
"$MODMILTERD" -t -c "$tmp/nofw.yaml" > "$tmp/out" 2>&1 &&
	ko "-t accepted no fwdomain"
grep -qF "nofw.yaml:6:7: fwdomain is required" "$tmp/out" &&
	ok "fwdomain is required" || { ko "no fwdomain"; cat "$tmp/out"; }
conf "$tmp/both.yaml" '      fwdomain: fw.example
      secret: s3cret
      secret_file: /nonexistent'
"$MODMILTERD" -t -c "$tmp/both.yaml" > "$tmp/out" 2>&1 &&
	ko "-t accepted secret and secret_file"
grep -qF "both.yaml:7:15: give either secret or secret_file" "$tmp/out" &&
	ok "secret or secret_file" || { ko "secret and secret_file"; cat "$tmp/out"; }
conf "$tmp/dot.yaml" '      fwdomain: .fw.example
      secret: s3cret'
"$MODMILTERD" -t -c "$tmp/dot.yaml" > "$tmp/out" 2>&1 &&
	ko "-t accepted a leading dot in fwdomain"
grep -qF "dot.yaml:6:17: fwdomain: '.fw.example' is not a domain: a leading dot" \
	"$tmp/out" && ok "fwdomain with a leading dot" ||
	{ ko "fwdomain with a leading dot"; cat "$tmp/out"; }

# good values: hashmin defaults to hashlength, a list of secrets
conf "$tmp/good.yaml" '      fwdomain: FW.Example.
      secret: [new, old]
      hashlength: 5
      separator: "-"
      sign: Relayed
      banned_users: MAILER-DAEMON'
"$MODMILTERD" -t -c "$tmp/good.yaml" > "$tmp/out" 2>&1 && ok "-t accepts good values" ||
	{ ko "-t refused good values"; cat "$tmp/out"; }
a=$("$SRS" -c "$tmp/good.yaml" -t 1700000000 forward alice@example.net 2>"$tmp/out")
case $a in
SRS0-?????=??=example.net=alice@fw.example) ok "modmilter-srs -c: $a" ;;
*) ko "modmilter-srs -c forward: '$a'"; cat "$tmp/out" ;;
esac
b=$("$SRS" -c "$tmp/good.yaml" -t 1700000000 reverse "$a" 2>"$tmp/out")
[ "$b" = alice@example.net ] && ok "reversed with hashmin = hashlength" ||
	{ ko "reverse: '$b'"; cat "$tmp/out"; }

# --describe
"$MODMILTERD" -P "$PLUGINS" --describe srs > "$tmp/out" 2>&1
grep -q '^  separator$' "$tmp/out" && grep -q 'one of =, +, -; default: =$' "$tmp/out" &&
	grep -q 'integer from 4 to 27; default: 8$' "$tmp/out" &&
	ok "--describe srs" || { ko "--describe srs"; cat "$tmp/out"; }
"$MODMILTERD" -P "$PLUGINS" --describe srs --markdown > "$tmp/out" 2>&1
grep -qF '| `banned_users` | list of strings | `postmaster mailer-daemon clamav` |' \
	"$tmp/out" && grep -qF '| `sign` | one of `always`, `relayed`, `never` | `always` |' \
	"$tmp/out" && ok "--describe srs --markdown" ||
	{ ko "--describe srs --markdown"; cat "$tmp/out"; }
[ $fails = 0 ]
