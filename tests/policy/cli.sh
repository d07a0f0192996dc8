#!/bin/sh
# modmilter-policy: add, query, list and del on an LMDB store; bad
# addresses and usage errors exit 2, a query that finds nothing 1.
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
[ $fails = 0 ]
