#!/bin/sh
# Build the mime plugin's libFuzzer target with clang (ASan + UBSan)
# from the plugin's sources and run it for a bounded time:
#   tests/mime/fuzz/run.sh [SECONDS]      (default $MIME_FUZZ_SECONDS or 20)
# Seeds: a few messages and archives made here, and pymilter's test
# messages from ../shared when they are there. Skips (77) without clang,
# libFuzzer or the GMime and libarchive development files.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
SECS=${1:-${MIME_FUZZ_SECONDS:-20}}
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
pkg-config --exists gmime-3.0 libarchive 2>/dev/null ||
	{ echo "SKIP: GMime 3 or libarchive development files missing"; exit 77; }
out=$top_builddir/tests/mime/fuzz	# only a failure leaves files there
tmp=$(mktemp -d /tmp/mmfuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$tmp/probe.c"
"$CLANG" -fsanitize=fuzzer "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null ||
	{ echo "SKIP: clang cannot link libFuzzer (libclang-rt-dev)"; exit 77; }

src=$top_srcdir/plugins/mime
# shellcheck disable=SC2046
"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$src" $(pkg-config --cflags gmime-3.0 libarchive) \
	"$top_srcdir/tests/mime/fuzz/fuzz_mime.c" \
	"$src/archive.c" "$src/decode.c" "$src/fields.c" "$src/leaf.c" "$src/names.c" \
	"$src/policy.c" "$src/readings.c" "$src/rewrite.c" "$src/salvage.c" "$src/save.c" \
	"$src/sniff.c" \
	"$src/util.c" "$src/walk.c" \
	$(pkg-config --libs gmime-3.0 libarchive) -lpthread -o "$tmp/fuzz_mime" ||
	{ echo "FAIL: cannot build the fuzz target"; exit 1; }

seeds=$tmp/seeds
mkdir -p "$seeds"
printf 'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream; name="a.exe"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==\n--b--\n' > "$seeds/multipart"
printf 'Content-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Disposition: attachment; filename*0*=utf-8%s%%E2%%80%%AEfdp; filename*1=.exe\n\nx\n--x--\n' "''" > "$seeds/rfc822"
printf 'Content-Type: text/plain\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: multipart/mixed; boundary="c"\nContent-Type: text/plain\n\n--c\nContent-Type: text/plain\nContent-Type: application/octet-stream; name="a.exe"\n\nbegin 644 t.exe\n--c--\n--b--\n' > "$seeds/dup-ct"
printf 'Content-Type: application/zip; name="a.zip"\nContent-Transfer-Encoding: base64\n\n' > "$seeds/zip"
MK=$top_builddir/tests/mime/mkfixture
if [ -x "$MK" ]; then
	"$MK" zip "$tmp/a.zip" x.exe=exe y.txt=text:y && base64 < "$tmp/a.zip" >> "$seeds/zip" &&
		cp "$tmp/a.zip" "$seeds/raw.zip"
	"$MK" 7z "$seeds/raw.7z" x.exe=exe
	"$MK" tgz "$seeds/raw.tgz" run.txt=script
	"$MK" zip "$tmp/in.zip" e.scr=exe && "$MK" zip "$seeds/nested.zip" in.zip=file:"$tmp/in.zip"
fi
printf 'invoice\342\200\256fdp.exe' > "$seeds/rlo-name"
CORPUS=$top_srcdir/../shared/corpus/pymilter
[ -d "$CORPUS" ] && for f in "$CORPUS"/*; do
	[ "$(basename "$f")" = README ] || [ "$(wc -c < "$f")" -gt 100000 ] || cp "$f" "$seeds/pym-$(basename "$f")"
done
mkdir -p "$tmp/work"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
"$tmp/fuzz_mime" -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 \
	-timeout=10 -print_final_stats=1 -artifact_prefix="$tmp/" "$tmp/work" "$seeds" > "$tmp/log" 2>&1
rc=$?
grep -v '^#[0-9]' "$tmp/log" | tail -n 12
if [ $rc -ne 0 ]; then
	mkdir -p "$out"
	cp "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-* "$out/" 2>/dev/null
	cp "$tmp/fuzz_mime" "$out/"
	echo "FAIL: the fuzz target found a problem (input and binary kept in $out/)"
	exit 1
fi
echo "1 passed, 0 failed"
