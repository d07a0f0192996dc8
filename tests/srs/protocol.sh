#!/bin/sh
# The srs plugin inside modmilterd, driven over the milter protocol by
# tests/srs/srs-client (tools/milterclient): senders of relayed mail
# signed (CHGFROM), SRS recipients reversed (DELRCPT + ADDRCPT), bad ones
# and forged bounces refused at RCPT with 550 5.7.1, and what is left
# alone. The addresses are checked with modmilter-srs. Then modmilterd -t
# with a secret file others may read, and without one. The daemon must
# stop cleanly (exit 0: under ASan, no leaks either).
. "${top_srcdir:-.}/tests/lib.sh"
CLIENT="$top_builddir/tests/srs/srs-client"
SRS="$top_builddir/modmilter-srs"
tmp=$(mktemp -d /tmp/srs-proto.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'protocol test secret\n# an older one, still verifying\nold secret\n' > "$tmp/srs.secret"
chmod 600 "$tmp/srs.secret"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
S="-S $tmp/srs.secret -l 6 -p +"
refused=$($SRS $S -d corp.example forward frank@example.net)
fill_config "$top_srcdir/tests/srs/protocol.yaml" "$tmp" | sed "s|@REFUSED@|$refused|" > "$tmp/conf.yaml"
echo "metrics: { listen: 127.0.0.1:$port }" >> "$tmp/conf.yaml"
start_daemon "$tmp/conf.yaml" "unix:$tmp/milter.sock" "$tmp/daemon.log" ||
	{ echo "FAIL: daemon did not start"; cat "$tmp/daemon.log"; exit 1; }
fails=0
# run NAME CLIENT-IP FROM RCPT... -- PATTERN... (ERE; !PATTERN: must not match)
run() {
	name=$1; shift
	args=
	while [ "$1" != "--" ]; do args="$args '$1'"; shift; done
	shift
	eval "\"\$CLIENT\" \"unix:\$tmp/milter.sock\" $args" > "$tmp/out" 2>&1 ||
		{ echo "FAIL $name: client failed"; cat "$tmp/out"; fails=$((fails + 1)); return; }
	for p in "$@"; do
		case $p in
		!*) if grep -qE -- "${p#!}" "$tmp/out"; then echo "FAIL $name: present: ${p#!}"
			cat "$tmp/out"; fails=$((fails + 1)); return; fi ;;
		*) if ! grep -qE -- "$p" "$tmp/out"; then echo "FAIL $name: missing: $p"
			cat "$tmp/out"; fails=$((fails + 1)); return; fi ;;
		esac
	done
	echo "PASS $name"
}

# sign: mail from an internal client, leaving
run "sign relayed mail" 10.1.2.3 "<alice@example.net>" "<bob@remote.example>" -- \
	'^chgfrom <SRS0\+[^=]{6}=[A-Z2-7]{2}=example\.net=alice@corp\.example>' '^verdict continue'
srs0=$(sed -n 's/^chgfrom <\(.*\)>.*/\1/p' "$tmp/out")
back=$($SRS $S reverse "$srs0")
[ "$back" = alice@example.net ] && echo "PASS modmilter-srs reverses the signed sender" ||
	{ echo "FAIL: modmilter-srs reverse of $srs0 gave '$back'"; fails=$((fails + 1)); }
# the same, with everything from the daemon's file
back=$("$SRS" -c "$tmp/conf.yaml" reverse "$srs0")
[ "$back" = alice@example.net ] && echo "PASS modmilter-srs -c reverses the signed sender" ||
	{ echo "FAIL: modmilter-srs -c reverse of $srs0 gave '$back'"; fails=$((fails + 1)); }
again=$("$SRS" -c "$tmp/conf.yaml" -i srs forward alice@example.net)
[ "$again" = "$srs0" ] && echo "PASS modmilter-srs -c signs as the daemon did" ||
	{ echo "FAIL: modmilter-srs -c forward gave '$again', the daemon '$srs0'"; fails=$((fails + 1)); }
# a trusted relay's mail is signed too; a forwarder's SRS0 sender becomes SRS1
run "sign SRS0 of another forwarder" 172.16.0.9 "<SRS0=abcd=AA=example.net=carol@fwd.example>" \
	"<bob@remote.example>" -- '^chgfrom <SRS1\+[^=]{6}=fwd\.example==abcd=AA=example\.net=carol@corp\.example>'
# left alone: an external client (sign: relayed), a local sender, the null
# sender, mail that stays here
run "external client: not signed" 192.0.2.1 "<alice@example.net>" "<bob@remote.example>" -- \
	'^verdict continue' '!chgfrom'
run "local sender: not signed" 10.1.2.3 "<carol@sub.corp.example>" "<bob@remote.example>" -- \
	'^verdict continue' '!chgfrom'
run "null sender: not signed" 10.1.2.3 "<>" "<bob@remote.example>" -- '^verdict continue' '!chgfrom'
run "local recipients only: not signed" 10.1.2.3 "<alice@example.net>" "<dave@corp.example>" -- \
	'^verdict continue' '!chgfrom'

# reverse: a bounce to the signed address comes back to alice
run "reverse a bounce" 192.0.2.1 "<>" "<$srs0>" -- "^rcpt <$(echo "$srs0" | sed 's/[+.]/\\&/g')> continue" \
	'^delrcpt <SRS0\+' '^addrcpt <alice@example\.net>' '^verdict continue'
# case smashed by a remote MTA, and signed with the older secret
upper=$(echo "$srs0" | tr a-z A-Z)
run "reverse a case-smashed address" 192.0.2.1 "<>" "<$upper>" -- '^addrcpt <ALICE@EXAMPLE\.NET>'
old=$($SRS -s "old secret" -l 6 -d corp.example forward erin@example.org)
run "reverse with the old secret" 192.0.2.1 "<>" "<$old>" -- '^addrcpt <erin@example\.org>'
# SRS1 at our domain: back to the first forwarder
srs1=$($SRS $S -d corp.example forward "SRS0=abcd=AA=example.net=carol@fwd.example")
run "reverse SRS1" 192.0.2.1 "<>" "<$srs1>" -- '^addrcpt <SRS0=abcd=AA=example\.net=carol@fwd\.example>'

# reversed by srs, refused by the plugin after it: not replaced
run "a reversed recipient refused later stays out" 192.0.2.1 "<>" "<$refused>" "<$srs0>" -- \
	"^rcpt <$(echo "$refused" | sed 's/[+.]/\\&/g')> replycode 550" '^addrcpt <alice@example\.net>' \
	'!frank@example\.net' '!delrcpt <SRS0\+[^>]*=frank@'

# refuse: tampered, expired, forged bounces
bad=$(echo "$srs0" | sed 's/=alice@/=mallory@/')
run "refuse a tampered address" 192.0.2.1 "<>" "<$bad>" -- \
	'^rcpt <.*mallory.*> replycode 550 5\.7\.1 .*invalid SRS signature' '^abort' '!addrcpt'
expired=$($SRS $S -d corp.example -t $(( $(date +%s) - 10 * 86400 )) forward alice@example.net)
run "refuse an expired address" 192.0.2.1 "<>" "<$expired>" -- \
	'replycode 550 5\.7\.1 .*expired SRS address \(older than 8 days\)'
run "refuse a forged bounce" 192.0.2.1 "<>" "<dave@corp.example>" -- \
	'^rcpt <dave@corp\.example> replycode 550 5\.7\.1 ' '^abort'
run "refuse mail from a banned user" 192.0.2.1 "<MAILER-DAEMON@remote.example>" "<dave@sub.corp.example>" -- \
	'^rcpt <dave@sub\.corp\.example> replycode 550 5\.7\.1 '
run "one forged, one good recipient" 192.0.2.1 "<>" "<dave@corp.example>" "<$srs0>" -- \
	'^rcpt <dave@corp\.example> replycode 550' '^addrcpt <alice@example\.net>'
run "a bounce from an internal client passes" 10.9.9.9 "<>" "<dave@corp.example>" -- \
	'^rcpt <dave@corp\.example> continue' '!replycode'
run "ordinary mail to a local address passes" 192.0.2.1 "<alice@example.net>" "<dave@corp.example>" -- \
	'^rcpt <dave@corp\.example> continue' '!replycode'
run "a bounce to another domain passes" 192.0.2.1 "<>" "<bob@remote.example>" -- \
	'^rcpt <bob@remote\.example> continue'

# the counters: two signed, seven reversed (one of them refused later), one bad signature, one
# expired, three forged bounces
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
	"http://127.0.0.1:$port/metrics" > "$tmp/metrics" 2>&1
for want in signed=2 reversed=7 bad_signature=1 expired=1 spoofed_bounce=3; do
	if grep -qE "^modmilter_srs_actions_total\{instance=\"srs\",action=\"${want%=*}\"\} ${want#*=}\$" "$tmp/metrics"; then
		echo "PASS metric $want"
	else
		echo "FAIL: metric $want"; grep srs_actions "$tmp/metrics"; fails=$((fails + 1))
	fi
done
stop_daemon || { echo "FAIL: daemon did not stop cleanly"; fails=$((fails + 1)); }
if grep -q Sanitizer "$tmp/daemon.log"; then echo "FAIL: sanitizer report"; fails=$((fails + 1)); fi
grep -q 'rewritten to <SRS0' "$tmp/daemon.log" && grep -q 'srs=signed' "$tmp/daemon.log" ||
	{ echo "FAIL: no log or summary of the signing"; fails=$((fails + 1)); }

# modmilterd -t: the secret file's permissions are checked
chmod 644 "$tmp/srs.secret"
if "$MODMILTERD" -t -c "$tmp/conf.yaml" > "$tmp/t.out" 2>&1; then
	echo "FAIL: -t accepted a world-readable secret file"; fails=$((fails + 1))
elif grep -q "srs.secret: mode 0644" "$tmp/t.out"; then echo "PASS -t refuses a readable secret file"
else echo "FAIL: -t message"; cat "$tmp/t.out"; fails=$((fails + 1)); fi
chmod 600 "$tmp/srs.secret"
"$MODMILTERD" -t -c "$tmp/conf.yaml" > "$tmp/t.out" 2>&1 && echo "PASS -t accepts mode 0600" ||
	{ echo "FAIL: -t refused mode 0600"; cat "$tmp/t.out"; fails=$((fails + 1)); }
rm "$tmp/srs.secret"
if "$MODMILTERD" -t -c "$tmp/conf.yaml" > "$tmp/t.out" 2>&1; then
	echo "FAIL: -t accepted a missing secret file"; fails=$((fails + 1))
else echo "PASS -t refuses a missing secret file"; fi
sed -e 's|secret_file: .*|secret: inline|' -e 's|separator: "+"|separator: "*"|' "$tmp/conf.yaml" > "$tmp/bad.yaml"
"$MODMILTERD" -t -c "$tmp/bad.yaml" > "$tmp/t.out" 2>&1 &&
	{ echo "FAIL: -t accepted a bad separator"; fails=$((fails + 1)); }
grep -qE 'bad\.yaml:[0-9]+:[0-9]+:.*separator' "$tmp/t.out" && echo "PASS -t names a bad separator" ||
	{ echo "FAIL: -t on a bad separator"; cat "$tmp/t.out"; fails=$((fails + 1)); }
sed -e 's|secret_file: .*|secret: inline|' -e 's|hashlength: 6|hashlength: 6\n      hashmin: 7|' "$tmp/conf.yaml" > "$tmp/bad.yaml"
"$MODMILTERD" -t -c "$tmp/bad.yaml" > "$tmp/t.out" 2>&1 &&
	{ echo "FAIL: -t accepted hashmin > hashlength"; fails=$((fails + 1)); }
grep -qE 'bad\.yaml:[0-9]+:[0-9]+:.*hashmin 7 is more than hashlength 6' "$tmp/t.out" &&
	echo "PASS -t refuses hashmin above hashlength" ||
	{ echo "FAIL: -t on hashmin"; cat "$tmp/t.out"; fails=$((fails + 1)); }
[ $fails = 0 ] || { echo "--- daemon log"; cat "$tmp/daemon.log"; }
[ $fails = 0 ]
