#!/bin/sh
# The mime plugin on pymilter's test messages, read from
# ../shared/corpus/pymilter beside the source tree (never copied into
# it); skipped when they are not there. Every message must come through
# (no crash, no tempfail) with every part it keeps intact; the ones with
# banned attachments have them replaced.
. "${top_srcdir:-.}/tests/lib.sh"
CORPUS=${MIME_CORPUS:-$top_srcdir/../shared/corpus/pymilter}
[ -f "$CORPUS/zip1" ] || { echo "SKIP: no pymilter corpus in $CORPUS"; exit 77; }
. "$top_srcdir/tests/mime/lib.sh"
mime_config ''

check "zip1: padded double extension in a zip" 0 "$CORPUS/zip1" \
	'zip.zip: zip.doc +.exe \(banned file name extension .exe \(padded double extension\)\)' '^body-replaced'
verify "zip1" '^replaced 2 zip.zip$' '^kept 1 text/plain'
check "zip3: the same zip, its local header damaged" 0 "$CORPUS/zip3" \
	'zip.zip \((corrupt or unreadable archive|banned file name extension .exe)' '^body-replaced'
verify "zip3" '^replaced 2 zip.zip$'
check "ziploop: a zip holding a zip, bounded" 0 "$CORPUS/ziploop" \
	'zip.doc +.exe \(banned file name extension .exe \(padded double extension\)\)' '^body-replaced'
verify "ziploop" '^replaced 2 stuart@bmsi.com.zip$'
check "zip2: an empty zip in a DSN passes" 0 "$CORPUS/zip2" '!body-replaced' '!removed'
verify "zip2" '^kept 2 application/octet-stream Readme.zip$' '!replaced'
check "missingboundary: nothing lost" 0 "$CORPUS/missingboundary" '!body-replaced'
verify "missingboundary" '!replaced'
check "test1: RFC 2231 file name" 0 "$CORPUS/test1" '!body-replaced'
facts '^mime.names=14676 World Transportation Systems OF, from arrival TIA terminal to door and from Durres port to TIA.rtf$'
check "test2: 1.3 MB" 0 "$CORPUS/test2" '^verdict: accept'
verify "test2" '!MISMATCH'
check "honey: .scr attachments" 0 "$CORPUS/honey" 'story\[1\].scr \(banned file name extension .scr\)' '^body-replaced'
verify "honey" '^replaced .* story\[1\].scr$'
for f in "$CORPUS"/*; do
	b=$(basename "$f")
	case $b in README|zip1|zip3|ziploop|zip2|missingboundary|test1|test2|honey) continue ;; esac
	check "$b: accepted" 0 "$f" '^verdict: accept'
	verify "$b" '!MISMATCH'
done
finish
