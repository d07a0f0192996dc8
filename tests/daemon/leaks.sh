#!/bin/bash
# modmilterd -t frees everything it read, on success and on every kind of
# configuration error (a leak checker in front of a long-running daemon
# must see nothing from start-up): valgrind's memcheck, definite and
# indirect leaks count as errors. Skipped without valgrind and in
# sanitizer builds (the two do not mix).
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd valgrind
if nm "$MODMILTERD" 2>/dev/null | grep -q __asan_init; then
	echo "SKIP: built with AddressSanitizer"
	exit 77
fi
tmp=$(mktemp -d /tmp/mmleaks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/arch"
fails=0
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }

# check NAME EXPECTED-RC EXPECTED-MESSAGE: runs -t on $tmp/NAME.yaml
check() {
	local name=$1 want=$2 msg=$3 rc out
	out=$(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect --error-exitcode=99 \
	    "$MODMILTERD" -t -c "$tmp/$name.yaml" 2>&1)
	rc=$?
	if [ $rc = "$want" ] && echo "$out" | grep -q -- "$msg"; then
		ok "$name"
	else
		bad "$name (exit $rc, wanted $want)"
		echo "$out" | head -40
	fi
}
preamble() { printf 'plugin_dir: %s\nstore: %s/store\nplugins:\n' "$PLUGINS" "$tmp"; }

{ preamble; cat <<EOC; } > "$tmp/valid.yaml"
  hello: { module: hello, options: { greeting: world } }
  spf: { module: spf }
  mime: { module: mime }
  dspam: { module: dspam }
  policy: { module: policy }
  srs: { module: srs, options: { fwdomain: fwd.example, secret: s3cret } }
  wiretap: { module: wiretap, options: { groups: [ { name: hold, watch: [a@corp.example], archive: $tmp/arch } ] } }
chains: [ { name: all, plugins: [hello, spf, mime, dspam, policy, srs, wiretap] } ]
EOC
{ preamble; echo '  hello: { module: hello, options: { greting: x } }'; } > "$tmp/option.yaml"
{ preamble; echo '  hello: { module: no-such-module }'; } > "$tmp/module.yaml"
{ preamble; echo '  hello: { module: hello'; } > "$tmp/syntax.yaml"
{ preamble; echo "  wiretap: { module: wiretap, options: { archive_dir: $tmp/arch } }"; } > "$tmp/init.yaml"
{ preamble; echo '  hello: { module: hello }'; echo 'chains: [ { name: all, plugins: [nobody] } ]'; } > "$tmp/chain.yaml"
printf 'store: { backend: nosuch }\n' > "$tmp/store.yaml"

check valid 0 "configuration OK"
check option 1 "unknown option 'greting'"
check module 1 "no-such-module"
check syntax 1 "YAML syntax error"
check init 1 "wiretap"
check chain 1 "nobody"
check store 1 "nosuch"
[ $fails = 0 ]
