#!/bin/sh
# wiretap through modmilter-test, one case per rule: directions, a forged
# sender, blind copies and Cc, discard (outgoing and incoming), smart
# aliases with and without a domain wildcard and with case rules, the
# forms of an address that must not hide it, several
# groups and instances adding the same monitor once, the archive layout
# and content, the interplay with plugins that reject or discard, archive
# failures (tempfail, or continue), the audit log and option errors.
. "${top_srcdir:-.}/tests/lib.sh"
tmp=$(mktemp -d /tmp/wiretap-rules.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/archive"
: > "$tmp/not-a-directory"
fill_config "$top_srcdir/tests/wiretap/rules.yaml" "$tmp" > "$tmp/c.yaml"
msgs="$top_srcdir/tests/wiretap/messages"
fails=0
INTERNAL="--client-ip 10.1.2.3"

# check NAME EXPECTED-EXIT PATTERN... -- ARGS
#   PATTERN   an ERE some output line must match
#   !PATTERN  an ERE no output line may match
#   N*PATTERN exactly N output lines match
check() {
	name=$1 want=$2; shift 2
	pats=
	while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
	shift
	"$MODMILTER_TEST" -c "$tmp/c.yaml" --verbose "$@" > "$tmp/out" 2>&1
	rc=$?
	ok=1
	[ "$rc" = "$want" ] || { echo "  exit $rc, wanted $want"; ok=0; }
	echo "$pats" | while IFS= read -r p; do
		case $p in
		"") ;;
		!*) if grep -qE -- "${p#!}" "$tmp/out"; then echo "  present: ${p#!}"; exit 1; fi ;;
		[0-9]\**) n=${p%%\**}; got=$(grep -cE -- "${p#*\*}" "$tmp/out")
			[ "$got" = "$n" ] || { echo "  $got times, wanted $n: ${p#*\*}"; exit 1; } ;;
		*) grep -qE -- "$p" "$tmp/out" || { echo "  missing: $p"; exit 1; } ;;
		esac
	done || ok=0
	if [ $ok = 1 ]; then echo "PASS $name"; else
		echo "FAIL $name"; sed 's/^/    /' "$tmp/out"; fails=$((fails + 1)); fi
}

# files NAME ADDRESS N: the Maildir of ADDRESS holds N files in new/, none in tmp/
files() {
	d="$tmp/archive/$2"
	n=$(find "$d/new" -type f 2>/dev/null | wc -l)
	t=$(find "$d/tmp" -type f 2>/dev/null | wc -l)
	if [ "$n" = "$3" ] && [ "$t" = 0 ]; then echo "PASS $1"; else
		echo "FAIL $1: $d has $n files in new/ (wanted $3), $t in tmp/"
		fails=$((fails + 1)); fi
}

plain="$msgs/plain.eml"

# --- directions ---
check "outgoing: internal client, watched sender" 0 \
	'^add-rcpt: <monitor@corp.example>$' '!delete-rcpt' '!header-' \
	'audit: group=legal-hold outgoing from=<alice@corp.example>' \
	'audit: group=legal-hold copy to=<monitor@corp.example>' \
	-- $INTERNAL --from alice@corp.example --rcpt bob@example.net "$plain"
files "outgoing: one archived copy for the sender" alice@corp.example 1
check "outgoing: SMTP-authenticated client from outside" 0 \
	'^add-rcpt: <monitor@corp.example>$' \
	-- --auth alice --from alice@corp.example --rcpt bob@example.net "$plain"
check "outgoing: address extension and case" 0 '^add-rcpt: <monitor@corp.example>$' \
	-- $INTERNAL --from Alice+News@CORP.example --rcpt bob@example.net "$plain"
files "extension and case: same Maildir" alice@corp.example 3
check "forged sender: external, unauthenticated" 0 \
	'!add-rcpt' '!archive address' \
	'group=legal-hold sender <alice@corp.example> is watched, but the client is neither internal nor authenticated: not outgoing' \
	-- --from alice@corp.example --rcpt bob@example.net "$plain"
files "forged sender: nothing archived" alice@corp.example 3
check "incoming: watched domain as recipient" 0 \
	'^add-rcpt: <monitor@corp.example>$' \
	'group=legal-hold incoming rcpt=<x@subsidiary.example>' \
	-- --from someone@example.net --rcpt x@subsidiary.example --rcpt y@example.org "$plain"
files "incoming: archived under the recipient" x@subsidiary.example 1
check "outgoing-only group ignores the user as recipient" 0 \
	'!add-rcpt' '!delete-rcpt' '^data: accept$' \
	-- --from someone@example.net --rcpt dave@corp.example --rcpt bigmouth@corp.example "$plain"
check "outgoing-only group: the user as sender" 0 '^add-rcpt: <monitor@corp.example>$' \
	-- $INTERNAL --from dave@corp.example --rcpt x@example.net "$plain"
check "incoming-only group ignores the user as sender" 0 '!add-rcpt' '^data: accept$' \
	-- $INTERNAL --from carol@corp.example --rcpt x@example.net "$plain"
check "no group matches: accepted at DATA, nothing queued" 0 \
	'^data: accept$' '!add-rcpt' '!delete-rcpt' '!header-' '!audit: group=' \
	-- $INTERNAL --from eve@corp.example --rcpt x@example.net "$plain"

# --- blind and Cc ---
check "blind: false adds a Cc header naming the copies" 0 \
	'^add-rcpt: <monitor@corp.example>$' '^add-rcpt: <boss@corp.example>$' \
	'^header-add: Cc: monitor@corp.example, boss@corp.example$' \
	'audit: group=open Cc: boss@corp.example' \
	-- --from someone@example.net --rcpt carol@corp.example "$plain"
check "blind: false appends to an existing Cc" 0 \
	'^header-change: Cc\[1\]: Frank <frank@example.org>, monitor@corp.example, boss@corp.example$' \
	'!header-add: Cc' \
	-- --from eve@example.net --rcpt carol@corp.example "$msgs/with-cc.eml"

sed 's/^Cc: .*/Cc: Monitor <MONITOR@corp.example>/' "$msgs/with-cc.eml" > "$tmp/cc-monitor.eml"
check "blind: false does not name a monitor twice" 0 \
	'^header-change: Cc\[1\]: Monitor <MONITOR@corp.example>, boss@corp.example$' \
	-- --from eve@example.net --rcpt carol@corp.example "$tmp/cc-monitor.eml"

# --- discard ---
check "discard: outgoing mail of a gagged user goes to the monitor only" 0 \
	'^verdict: accept' '^delete-rcpt: <x@example.net>$' '^delete-rcpt: <y@example.org>$' \
	'^add-rcpt: <spy@corp.example>$' \
	'audit: group=gag discard rcpt=<x@example.net>' \
	-- $INTERNAL --from bigmouth@corp.example --rcpt x@example.net --rcpt y@example.org "$plain"
check "discard: gagged recipient removed, the others kept" 0 \
	'^delete-rcpt: <mallory@corp.example>$' '!delete-rcpt: <tom@corp.example>' \
	'^add-rcpt: <spy@corp.example>$' \
	-- --from someone@example.net --rcpt mallory@corp.example --rcpt tom@corp.example "$plain"
check "discard: forged gagged sender is not discarded" 0 '!delete-rcpt' '!add-rcpt' \
	-- --from bigmouth@corp.example --rcpt x@example.net "$plain"

# --- smart aliases ---
check "smart alias: sender and recipient replaced" 0 \
	'^delete-rcpt: <sue@corp.example>$' '^add-rcpt: <copycust@corp.example>$' \
	'!delete-rcpt: <tom@corp.example>' \
	'audit: group=smart_alias from=<client@clientcorp.example> replace rcpt=<sue@corp.example>' \
	-- --from client@clientcorp.example --rcpt sue@corp.example --rcpt tom@corp.example "$plain"
check "smart alias: case-insensitive by default" 0 \
	'^delete-rcpt: <Sue@CORP.example>$' '^add-rcpt: <copycust@corp.example>$' \
	-- --from CLIENT@ClientCorp.Example --rcpt Sue@CORP.example "$plain"
check "smart alias: @domain sender" 0 \
	'^delete-rcpt: <sue@corp.example>$' '^add-rcpt: <partners@corp.example>$' \
	'^add-rcpt: <sue-partner@corp.example>$' \
	-- --from anyone@partner.example --rcpt sue@corp.example "$plain"
check "smart alias: other sender, nothing" 0 '!delete-rcpt' '!add-rcpt' \
	-- --from other@clientcorp.example --rcpt sue@corp.example "$plain"
check "smart alias: case-sensitive local part" 0 '!delete-rcpt' '!add-rcpt' \
	-- --daemon strict --from CLIENT@clientcorp.example --rcpt sue@corp.example "$plain"
check "smart alias: case-sensitive, domain still case-insensitive" 0 \
	'^delete-rcpt: <sue@corp.example>$' '^add-rcpt: <copycust@corp.example>$' \
	-- --daemon strict --from client@CLIENTCORP.EXAMPLE --rcpt sue@corp.example "$plain"

# --- forms of an address that must not hide it: a trailing dot, a
# source route, needless quotes, an upper-case domain ---
for form in 'U@corp.example.' '@relay.example:U@corp.example' '"U"@corp.example' 'U@CORP.EXAMPLE'; do
	a=$(echo "$form" | sed 's/U/alice/') m=$(echo "$form" | sed 's/U/mallory/')
	s=$(echo "$form" | sed 's/U/sue/') c=$(echo "$form" | sed 's/U/client/; s/corp/clientcorp/; s/CORP/CLIENTCORP/')
	x=$(echo "$form" | sed 's/U/x/; s/corp/subsidiary/; s/CORP/SUBSIDIARY/')
	check "watched sender written $a" 0 '^add-rcpt: <monitor@corp.example>$' \
		'audit: group=legal-hold outgoing from=' \
		-- $INTERNAL --from "$a" --rcpt bob@example.net "$plain"
	check "watched domain, recipient written $x" 0 '^add-rcpt: <monitor@corp.example>$' \
		'audit: group=legal-hold incoming rcpt=' \
		-- --from someone@example.net --rcpt "$x" "$plain"
	check "gagged recipient written $m" 0 '1*^delete-rcpt: ' '^add-rcpt: <spy@corp.example>$' \
		-- --from someone@example.net --rcpt "$m" --rcpt tom@corp.example "$plain"
	check "smart alias written $c to $s" 0 '1*^delete-rcpt: ' \
		'^add-rcpt: <copycust@corp.example>$' \
		-- --from "$c" --rcpt "$s" --rcpt tom@corp.example "$plain"
done
check "a forged sender written with a source route is still forged" 0 '!add-rcpt' \
	'group=legal-hold sender <@relay.example:alice@corp.example> is watched, but the client' \
	-- --from @relay.example:alice@corp.example --rcpt bob@example.net "$plain"

# --- the same monitor from several groups and instances ---
check "two groups, one monitor: added once" 0 \
	'1*^add-rcpt: <monitor@corp.example>$' '^add-rcpt: <boss@corp.example>$' \
	'audit: group=open copy to=<monitor@corp.example> \(already added for legal-hold\)' \
	-- $INTERNAL --from alice@corp.example --rcpt carol@corp.example "$plain"
check "two instances, one monitor: added once" 0 \
	'1*^add-rcpt: <monitor@corp.example>$' '^add-rcpt: <second@corp.example>$' \
	-- --daemon two $INTERNAL --from alice@corp.example --rcpt bob@example.net "$plain"
check "monitor already a recipient: not added again" 0 '!add-rcpt: <monitor' \
	-- $INTERNAL --from alice@corp.example --rcpt monitor@corp.example "$plain"

# --- archive layout and content ---
rm -rf "$tmp/archive"/*
check "archive: sender and watched recipient" 0 \
	'group=legal-hold archive address=<alice@corp.example> file=.*/alice@corp.example/new/' \
	'group=legal-hold archive address=<bob@subsidiary.example> file=' \
	-- $INTERNAL --from alice@corp.example --rcpt bob@subsidiary.example --rcpt carol@example.net "$plain"
files "archive: one file for the sender" alice@corp.example 1
files "archive: one file for the watched recipient" bob@subsidiary.example 1
if [ -d "$tmp/archive/alice@corp.example/cur" ] && [ "$(ls "$tmp/archive" | wc -l)" = 2 ]; then
	echo "PASS archive: Maildir layout, one per watched address"
else echo "FAIL archive layout"; ls -lR "$tmp/archive"; fails=$((fails + 1)); fi
f=$(find "$tmp/archive/alice@corp.example/new" -type f)
sed -n '1,/^$/p' "$plain" | tr -d '\r' > "$tmp/hdrs"
{ printf 'Return-Path: <alice@corp.example>\n'
  printf 'X-Wiretap-Group: legal-hold (outgoing; queue id TEST0001)\n'
  printf 'X-Wiretap-Envelope-To: <bob@subsidiary.example>, <carol@example.net>\n'
  cat "$plain"; } > "$tmp/want"
if cmp -s "$f" "$tmp/want"; then echo "PASS archive: the message as received plus the group"
else echo "FAIL archive content"; diff "$tmp/want" "$f" | sed 's/^/    /'; fails=$((fails + 1)); fi
if grep -q '^X-Wiretap-Group: legal-hold (incoming; queue id TEST0001)$' \
	"$(find "$tmp/archive/bob@subsidiary.example/new" -type f)"; then
	echo "PASS archive: the recipient's copy says incoming"
else echo "FAIL archive: incoming header"; fails=$((fails + 1)); fi
mode=$(stat -c %a "$f")
if [ "$mode" = 600 ] && [ "$(stat -c %a "$tmp/archive/alice@corp.example")" = 700 ]; then
	echo "PASS archive: files 0600, directories 0700"
else echo "FAIL archive modes: $mode"; fails=$((fails + 1)); fi
rm -rf "$tmp/archive"/*
# a body the core spills to a file, longer than the writer's buffer
{ sed -n '1,/^$/p' "$plain"; i=0; while [ $i -lt 3000 ]; do
	printf 'line %d of a long body, with some text to make it longer\n' $i; i=$((i + 1)); done
} > "$tmp/big.eml"
check "archive: a big body" 0 '1*archive address=' \
	-- $INTERNAL --from alice@corp.example --rcpt bob@example.net "$tmp/big.eml"
f=$(find "$tmp/archive/alice@corp.example/new" -type f)
if [ "$(sed '1,/^$/d' "$f" | cksum)" = "$(sed '1,/^$/d' "$tmp/big.eml" | cksum)" ]; then
	echo "PASS archive: a big body complete"
else echo "FAIL archive: big body differs"; fails=$((fails + 1)); fi
rm -rf "$tmp/archive"/*
check "archive_mode 0640" 0 '^verdict: accept' \
	-- --daemon readable $INTERNAL --from alice@corp.example --rcpt bob@example.net "$plain"
f=$(find "$tmp/archive/alice@corp.example/new" -type f)
if [ "$(stat -c %a "$f")" = 640 ] && [ "$(stat -c %a "$tmp/archive/alice@corp.example")" = 750 ]; then
	echo "PASS archive_mode: files 0640, directories 0750"
else echo "FAIL archive_mode 0640"; fails=$((fails + 1)); fi
rm -rf "$tmp/archive"/*
check "archive: to oneself, one copy saying both directions" 0 '1*archive address=' \
	-- $INTERNAL --from alice@corp.example --rcpt alice@corp.example "$plain"
if grep -q '^X-Wiretap-Group: legal-hold (outgoing, incoming; queue id TEST0001)$' \
	"$tmp"/archive/alice@corp.example/new/*; then echo "PASS archive: both directions in one copy"
else echo "FAIL archive: both directions"; fails=$((fails + 1)); fi
rm -rf "$tmp/archive"/*

# --- interplay with other plugins ---
check "rejected later in the chain: no copy, archive withdrawn" 2 \
	'^verdict: reject 550 5.7.1 Refused by policy' '!add-rcpt' \
	'audit: message not accepted: 1 archived copy withdrawn' \
	-- --daemon reject-after $INTERNAL --from alice@corp.example --rcpt bob@example.net "$plain"
files "rejected later: nothing in the archive" alice@corp.example 0
check "discarded later in the chain: no copy, archive withdrawn" 4 \
	'^verdict: discard' '!add-rcpt' 'archived copy withdrawn' \
	-- --daemon discard-after $INTERNAL --from alice@corp.example --rcpt bob@example.net "$plain"
files "discarded later: nothing in the archive" alice@corp.example 0
check "rejected earlier in the chain: archive withdrawn" 2 '^verdict: reject' \
	'!add-rcpt' 'archived copy withdrawn' -- --daemon reject-before $INTERNAL \
	--from alice@corp.example --rcpt bob@example.net "$plain"
files "rejected earlier: nothing in the archive" alice@corp.example 0
check "a gag does not win over a reject" 2 '^verdict: reject' '!delete-rcpt' \
	-- --daemon reject-after $INTERNAL --from bigmouth@corp.example --rcpt x@example.net "$plain"

# --- archive failures ---
check "archive failure: the message is tempfailed, nothing queued" 3 \
	'^verdict: tempfail 451 4.3.0 Temporary local problem' '!add-rcpt' \
	'error: TEST0001: broken: group=lost archive address=<alice@corp.example> failed: archive directory .*not-a-directory: Not a directory; message tempfailed' \
	-- --daemon broken $INTERNAL --from alice@corp.example --rcpt bob@example.net "$plain"
check "archive failure with archive_failure: continue" 0 \
	'^add-rcpt: <monitor@corp.example>$' \
	'warning: TEST0001: broken-continue: group=lost archive address=<alice@corp.example> failed: .*archive_failure is continue' \
	-- --daemon broken-continue $INTERNAL --from alice@corp.example --rcpt bob@example.net "$plain"

# --- option errors: FILE:LINE:COL, the daemon refuses to start ---
bad() {	# bad NAME OPTIONS-YAML ERE
	printf 'plugin_dir: %s\nplugins:\n  w: { module: wiretap, options: %s }\nchains:\n  - { name: c, plugins: [w] }\n' \
		"$PLUGINS" "$2" > "$tmp/bad.yaml"
	"$MODMILTER_TEST" -c "$tmp/bad.yaml" "$plain" > "$tmp/out" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -qE -- "^$tmp/bad.yaml:[0-9]+:[0-9]+: $3" "$tmp/out"; then
		echo "PASS option error: $1"
	else echo "FAIL option error: $1 (exit $rc)"; sed 's/^/    /' "$tmp/out"; fails=$((fails + 1)); fi
}
bad "no groups, no aliases" '{ case_sensitive_localpart: false }' 'wiretap needs groups or smart_alias'
bad "direction" '{ groups: [ { name: g, watch: [a@b.example], direction: sideways, copy_to: [m@b.example] } ] }' \
	"direction must be outgoing, incoming or both, not 'sideways'"
bad "watch missing" '{ groups: [ { name: g, copy_to: [m@b.example] } ] }' "group 'g' watches nobody"
bad "group does nothing" '{ groups: [ { name: g, watch: [a@b.example] } ] }' "group 'g' does nothing"
bad "bad address" '{ groups: [ { name: g, watch: ["a b@x"], copy_to: [m@b.example] } ] }' "watch: 'a b@x': white space"
bad "copy_to is no domain" '{ groups: [ { name: g, watch: [a@b.example], copy_to: ["@b.example"] } ] }' \
	"copy_to: '@b.example': a whole domain"
bad "group name" '{ groups: [ { name: "a b", watch: [a@b.example], copy_to: [m@b.example] } ] }' 'a group needs a name'
bad "duplicate group" '{ groups: [ { name: g, watch: [a@b.example], copy_to: [m@b.example] }, { name: g, watch: [c@b.example], copy_to: [m@b.example] } ] }' \
	"duplicate group name 'g'"
bad "relative archive" '{ groups: [ { name: g, watch: [a@b.example], archive: archive } ] }' \
	'archive must be an absolute directory path'
bad "archive_failure" '{ archive_failure: ignore, groups: [ { name: g, watch: [a@b.example], copy_to: [m@b.example] } ] }' \
	"archive_failure must be tempfail or continue, not 'ignore'"
bad "smart alias without deliver_to" '{ smart_alias: [ { from: a@b.example, to: c@b.example } ] }' \
	'a smart alias needs deliver_to'
bad "smart alias to a domain" '{ smart_alias: [ { from: a@b.example, to: "@b.example", deliver_to: [x@b.example] } ] }' \
	"to: '@b.example': a whole domain"
bad "archive_mode" '{ archive_mode: "0755", groups: [ { name: g, watch: [a@b.example], copy_to: [m@b.example] } ] }' \
	"archive_mode must be octal permissions between 0600 and 0666"
bad "reserved group name" '{ groups: [ { name: smart_alias, watch: [a@b.example], copy_to: [m@b.example] } ] }' \
	'the group name smart_alias is reserved'
bad "unknown key" '{ groups: [ { name: g, watch: [a@b.example], copy_to: [m@b.example], bcc: yes } ] }' \
	"unknown option 'bcc'"
bad "malformed watched address" '{ groups: [ { name: g, watch: ["a@b..example"], copy_to: [m@b.example] } ] }' \
	"watch: 'a@b..example': empty label in the domain"
bad "malformed watched domain" '{ groups: [ { name: g, watch: ["@.b.example"], copy_to: [m@b.example] } ] }' \
	"watch: '@.b.example': a whole domain is written @domain"
[ $fails -eq 0 ]
