#!/bin/sh
# modmilter-policy: add, query, list and del on an LMDB store; bad
# addresses and usage errors exit 2, a query that finds nothing 1. With
# -c FILE, the database is the policy instance's option db, read as the
# daemon reads it (a bad option is reported at FILE:LINE:COL, exit 2).
. "${top_srcdir:-.}/tests/lib.sh"
tmp=$(mktemp -d /tmp/policy-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
P="$top_builddir/modmilter-policy"
fails=0
t() {	# t NAME WANT-EXIT ARGS...: run, compare the exit status
	name=$1 want=$2; shift 2
	"$P" -s "$tmp/store" "$@" > "$tmp/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then echo "PASS $name"; else
		echo "FAIL $name: exit $got, wanted $want"; cat "$tmp/out"; fails=$((fails + 1)); fi
}
mkdir "$tmp/store"
t "query, empty" 1 whitelist query bob@partner.example
t "add" 0 -t 2 whitelist add '<Bob@Partner.Example>' carol@other.example
t "query, found in normal form" 0 whitelist query BOB@partner.example.
grep -q '^bob@partner.example	learned=[0-9]* by=modmilter-policy	expires=20' "$tmp/out" ||
	{ echo "FAIL query output"; cat "$tmp/out"; fails=$((fails + 1)); }
t "list" 0 whitelist list
[ "$(wc -l < "$tmp/out")" = 2 ] || { echo "FAIL list: not 2 lines"; cat "$tmp/out"; fails=$((fails + 1)); }
t "del" 0 whitelist del bob@partner.example
t "query after del" 1 whitelist query bob@partner.example
t "not a mailbox" 2 whitelist add not-an-address
t "usage" 2 whitelist frobnicate x
t "usage, no command" 2 list

# -c FILE: the instance's db
conf() {	# conf FILE DB
	printf 'store: { backend: lmdb, path: %s/store }\nplugins:\n  policy:\n    module: policy\n    options: { db: %s }\n' \
		"$tmp" "$2" > "$1"
}
conf "$tmp/c.yaml" elsewhere
"$P" -c "$tmp/c.yaml" whitelist add dave@partner.example > "$tmp/out" 2>&1 ||
	{ echo "FAIL -c add"; cat "$tmp/out"; fails=$((fails + 1)); }
t "-c: the instance's db" 0 -d elsewhere whitelist query dave@partner.example
t "-c: not the default db" 1 whitelist query dave@partner.example
conf "$tmp/bad.yaml" '[x]'
"$P" -c "$tmp/bad.yaml" whitelist list > "$tmp/out" 2>&1
got=$?
if [ $got = 2 ] && grep -qF "$tmp/bad.yaml:5:20: 'db' must be a string" "$tmp/out"; then
	echo "PASS -c: a bad option"
else echo "FAIL -c: a bad option (exit $got)"; cat "$tmp/out"; fails=$((fails + 1)); fi
# two instances: -i chooses (or -d names the database)
{ cat "$tmp/c.yaml"; printf '  other:\n    module: policy\n    options: { db: third }\n'; } \
	> "$tmp/two.yaml"
"$P" -c "$tmp/two.yaml" whitelist query dave@partner.example > "$tmp/out" 2>&1
got=$?
if [ $got = 2 ] && grep -q "several policy instances.*-i INSTANCE" "$tmp/out"; then
	echo "PASS -c: several instances, none chosen"
else echo "FAIL -c: several instances (exit $got)"; cat "$tmp/out"; fails=$((fails + 1)); fi
for args in "-i policy" "-d elsewhere"; do
	# shellcheck disable=SC2086
	"$P" -c "$tmp/two.yaml" $args whitelist query dave@partner.example > "$tmp/out" 2>&1 &&
		echo "PASS -c $args" || { echo "FAIL -c $args"; cat "$tmp/out"; fails=$((fails + 1)); }
done
"$P" -c "$tmp/two.yaml" -i other whitelist query dave@partner.example > "$tmp/out" 2>&1
[ $? = 1 ] && echo "PASS -c -i other: its own db" ||
	{ echo "FAIL -c -i other"; cat "$tmp/out"; fails=$((fails + 1)); }
[ $fails = 0 ]
