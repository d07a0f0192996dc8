#!/bin/sh
# The option tables of doc/plugins/*.md are what the built plugins'
# tables say (scripts/gen-option-docs.sh --check): a change to a
# plugin's options without make option-docs fails here.
. "$(dirname "$0")/../lib.sh"
[ -x "$MODMILTERD" ] || { echo "SKIP: modmilterd is not built"; exit 77; }
names=
for n in cbv dspam mime policy spf srs wiretap; do
	[ -f "$PLUGINS/$n.so" ] && names="$names $n"
done
[ -n "$names" ] || { echo "SKIP: no plugin built"; exit 77; }
# shellcheck disable=SC2086
"$top_srcdir/scripts/gen-option-docs.sh" --check "$MODMILTERD" "$PLUGINS" \
	"$top_srcdir/doc/plugins" $names || exit 1
# --describe names a plugin by module name or by path, in text too
"$MODMILTERD" -P "$PLUGINS" --describe spf | grep -q '^  time_limit$' || exit 1
"$MODMILTERD" --describe "$PLUGINS/spf.so" | grep -q 'duration, at least 1s; default: 20s' || exit 1
"$MODMILTERD" -P "$PLUGINS" --describe nosuch 2>&1 | grep -q 'nosuch' || exit 1
echo "PASS: the option tables of$names are up to date"
