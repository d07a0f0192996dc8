#!/bin/sh
# The tools read the daemon's configuration through modmilter/host.h:
# loading it runs no plugin's init(). A test plugin whose init() writes a
# marker file sits in the file next to a cbv and a dspam instance;
# modmilterd -t writes the marker (the control), modmilter-dspam and
# modmilter-cbv must not. They still see what the daemon sees: the
# instance's options through the plugin's table (bad values reported at
# FILE:LINE:COL with the key; the cbv instance's db is the database
# opened) and the file's store.
. "$(dirname "$0")/../lib.sh"
DSPAM="$top_builddir/modmilter-dspam"
CBV="$top_builddir/modmilter-cbv"
[ -x "$DSPAM" ] && [ -x "$CBV" ] && [ -f "$TESTPLUGINS/testplug.so" ] ||
	{ echo "SKIP: the tools or the test plugin are not built"; exit 77; }
checks_init

mkdir "$tmp/store"
conf() {	# conf FILE CBV-OPTIONS
	cat > "$1" <<EOF
plugin_dir: $PLUGINS
store: { backend: lmdb, path: $tmp/store }
plugins:
  marker:
    module: $TESTPLUGINS/testplug.so
    options: { init_file: $tmp/marker }
  classifier:
    module: dspam
    options: { dictionary: shared }
  callback:
    module: cbv
    options: $2
EOF
}
conf "$tmp/m.yaml" '{ db: elsewhere }'

# the control: the daemon runs every init, the marker's too
printf 'plugins:\n  marker:\n    module: %s/testplug.so\n    options: { init_file: %s/marker }\n' \
	"$TESTPLUGINS" "$tmp" > "$tmp/only.yaml"
"$MODMILTERD" -t -c "$tmp/only.yaml" > "$tmp/out" 2>&1
[ -e "$tmp/marker" ] && ok "control: modmilterd -t runs the test plugin's init" ||
	{ ko "control: no marker from modmilterd -t"; cat "$tmp/out"; }
rm -f "$tmp/marker"

"$DSPAM" -c "$tmp/m.yaml" stats > "$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && [ ! -e "$tmp/marker" ] &&
	ok "modmilter-dspam -c: no other plugin's init" ||
	{ ko "modmilter-dspam -c (exit $rc, marker: $(ls "$tmp/marker" 2>&1))"; cat "$tmp/out"; }
rm -f "$tmp/marker"

"$CBV" -c "$tmp/m.yaml" list > "$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && [ ! -e "$tmp/marker" ] &&
	ok "modmilter-cbv -c: no plugin's init" ||
	{ ko "modmilter-cbv -c (exit $rc, marker: $(ls "$tmp/marker" 2>&1))"; cat "$tmp/out"; }

# the instance's db option is the database the tool opens: records
# written to database "elsewhere" (by modmilter-dspam) are flushed
# through -c, and none are in the default "cbv"
"$DSPAM" --store "$tmp/store" --database elsewhere train --spam \
	"$top_srcdir/tests/dspam/messages/spam1.eml" > /dev/null 2>&1
"$CBV" -c "$tmp/m.yaml" -d cbv flush > "$tmp/out0" 2>&1
"$CBV" -c "$tmp/m.yaml" flush > "$tmp/out" 2>&1
[ $? = 0 ] && grep -q "^flushed 0 entries" "$tmp/out0" &&
	grep -q "^flushed [1-9][0-9]* entries" "$tmp/out" &&
	ok "modmilter-cbv -c: the instance's database (its db option)" ||
	{ ko "modmilter-cbv -c: the instance's database"; cat "$tmp/out0" "$tmp/out"; }

# bad values: the plugin's table speaks, FILE:LINE:COL and the key
conf "$tmp/bad.yaml" '{ port: 0, rate: many }'
"$CBV" -c "$tmp/bad.yaml" list > "$tmp/out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "^$tmp/bad.yaml:12:[0-9]*: 'port' must be between 1 and 65535" "$tmp/out" &&
	grep -q "^$tmp/bad.yaml:12:[0-9]*: 'rate' must be an integer, not 'many'" "$tmp/out" &&
	[ ! -e "$tmp/marker" ] && ok "modmilter-cbv -c: bad options at FILE:LINE:COL" ||
	{ ko "modmilter-cbv -c: bad options (exit $rc)"; cat "$tmp/out"; }
"$CBV" -c "$tmp/m.yaml" -i classifier list > "$tmp/out" 2>&1
[ $? = 2 ] && grep -q "plugin instance 'classifier' is not a cbv instance" "$tmp/out" &&
	ok "modmilter-cbv -i: not a cbv instance" || { ko "modmilter-cbv -i"; cat "$tmp/out"; }
[ $fails -eq 0 ]
