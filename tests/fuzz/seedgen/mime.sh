#!/bin/sh
# Seeds for the mime target that are made, not kept: archives written
# by tests/mime/mkfixture (zip, 7z, tar.gz, a zip in a zip, a zip as a
# base64 attachment) and pymilter's test messages from ../shared when
# they are there (GPL-2.0: read at test time, never copied in).
#   sh tests/fuzz/seedgen/mime.sh CORPUS SCRATCH
out=$1 tmp=$2
MK=$top_builddir/tests/mime/mkfixture
if [ -x "$MK" ]; then
	printf 'Content-Type: application/zip; name="a.zip"\nContent-Transfer-Encoding: base64\n\n' > "$out/zip"
	"$MK" zip "$tmp/a.zip" x.exe=exe y.txt=text:y && base64 < "$tmp/a.zip" >> "$out/zip" &&
		cp "$tmp/a.zip" "$out/raw.zip"
	"$MK" 7z "$out/raw.7z" x.exe=exe
	"$MK" tgz "$out/raw.tgz" run.txt=script
	"$MK" zip "$tmp/in.zip" e.scr=exe && "$MK" zip "$out/nested.zip" in.zip=file:"$tmp/in.zip"
fi
CORPUS=$top_srcdir/../shared/corpus/pymilter
[ -d "$CORPUS" ] && for f in "$CORPUS"/*; do
	[ "$(basename "$f")" = README ] || [ "$(wc -c < "$f")" -gt 100000 ] || cp "$f" "$out/pym-$(basename "$f")"
done
exit 0
