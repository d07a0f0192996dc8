#!/bin/sh
# Build the libFuzzer targets listed in tests/fuzz/targets with clang
# (ASan + UBSan) and run each for a bounded time:
#   tests/fuzz/run.sh [SECONDS] [NAME...]
# SECONDS defaults to $FUZZ_SECONDS, else 20; 0 builds each target and
# replays its seeds and crashers without fuzzing. NAMEs pick targets.
#
# A line of tests/fuzz/targets is "NAME PKGS SOURCES...": the target is
# tests/fuzz/fuzz_NAME.c, PKGS comma-separated pkg-config modules or
# "-", SOURCES the files it is linked with (paths from the top source
# directory; a word starting with "-", such as -lspf2, goes to the
# compiler as it is). Each target first runs every input of
# tests/fuzz/crashers/NAME/ once (old findings must stay fixed; file
# names without spaces), then
# fuzzes a scratch corpus made of tests/fuzz/seeds/NAME/, what
# tests/fuzz/seedgen/NAME.sh writes there, and the crashers. A finding
# is kept with the binary under $top_builddir/tests/fuzz/findings/NAME/.
# Skips (77) without clang or libFuzzer; a target whose pkg-config
# modules are missing is skipped.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
SECS=${FUZZ_SECONDS:-20}
case ${1:-} in
''|*[!0-9]*) ;;
*) SECS=$1; shift ;;
esac
case $SECS in
''|*[!0-9]*) echo "usage: $0 [SECONDS] [NAME...] (SECONDS, FUZZ_SECONDS: a number)" >&2; exit 2 ;;
esac
CLANG=${CLANG:-clang}
FUZZ=$top_srcdir/tests/fuzz
command -v "$CLANG" >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
tmp=$(mktemp -d /tmp/mmfuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$tmp/probe.c"
"$CLANG" -fsanitize=fuzzer "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null ||
	{ echo "SKIP: clang cannot link libFuzzer (libclang-rt-dev)"; exit 77; }

# wanted NAME: no NAME on the command line, or NAME among them
wanted() {
	[ -z "$ONLY" ] && return 0
	for w in $ONLY; do [ "$w" = "$1" ] && return 0; done
	return 1
}
ONLY="$*"

# build NAME PKGS SOURCES...: the binary is $tmp/NAME/fuzz_NAME
build() {
	name=$1 pkgs=$2; shift 2
	mods=
	[ "$pkgs" = - ] || mods=$(echo "$pkgs" | tr , ' ')
	srcs= incs= libs=
	for s in "$@"; do
		case $s in
		-*) libs="$libs $s" ;;
		*) srcs="$srcs $top_srcdir/$s"
		   d=$(dirname "$top_srcdir/$s")
		   case " $incs " in *" -I$d "*) ;; *) incs="$incs -I$d" ;; esac ;;
		esac
	done
	# the installation paths the Makefile gives the core lead nowhere
	# here: a target never reads an installed file
	# shellcheck disable=SC2086
	"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Wall -Wextra -I"$top_builddir" -I"$top_srcdir/core" -I"$top_srcdir/core/mta" -I"$top_srcdir/core/engine" \
		-I"$top_srcdir/core/host" -I"$top_srcdir/core/store" -I"$top_srcdir/sdk/include" \
		-DSYSCONFDIR='"/nonexistent"' -DPLUGINDIR='"/nonexistent"' \
		-DLOCALSTATEDIR='"/nonexistent"' $incs $([ -n "$mods" ] && pkg-config --cflags $mods) \
		"$FUZZ/fuzz_$name.c" $srcs \
		$([ -n "$mods" ] && pkg-config --libs $mods) $libs -lpthread -lm \
		-o "$tmp/$name/fuzz_$name"
}

# keep NAME: a finding's inputs, log and binary go to the build dir
keep() {
	out=$top_builddir/tests/fuzz/findings/$1
	mkdir -p "$out"
	cp "$tmp/$1"/crash-* "$tmp/$1"/leak-* "$tmp/$1"/timeout-* "$tmp/$1"/oom-* \
		"$out/" 2>/dev/null
	cp "$tmp/$1/fuzz_$1" "$tmp/$1/log" "$out/"
	echo "FAIL $1: input, log and binary kept in $out/"
}

pass=0 fail=0 skip=0
while read -r name pkgs rest <&3; do
	case $name in ''|'#'*) continue ;; esac
	wanted "$name" || continue
	# shellcheck disable=SC2086
	set -- $rest
	if [ "$pkgs" != - ] && ! pkg-config --exists $(echo "$pkgs" | tr , ' ') 2>/dev/null; then
		echo "SKIP $name: pkg-config modules $pkgs missing"
		skip=$((skip + 1))
		continue
	fi
	mkdir -p "$tmp/$name/corpus"
	if ! build "$name" "$pkgs" "$@" > "$tmp/$name/build.log" 2>&1; then
		cat "$tmp/$name/build.log"
		echo "FAIL $name: does not build"
		fail=$((fail + 1))
		continue
	fi
	cat "$tmp/$name/build.log"	# warnings
	bin=$tmp/$name/fuzz_$name
	opts="-rss_limit_mb=2048 -max_len=65536 -timeout=10 -artifact_prefix=$tmp/$name/"
	[ -f "$FUZZ/$name.dict" ] && opts="$opts -dict=$FUZZ/$name.dict"
	crashers=$(find "$FUZZ/crashers/$name" -type f 2>/dev/null | sort)
	if [ -n "$crashers" ]; then
		# shellcheck disable=SC2086
		if ! UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		    "$bin" $opts $crashers > "$tmp/$name/log" 2>&1; then
			tail -n 30 "$tmp/$name/log"
			echo "FAIL $name: a kept crasher fails again"
			keep "$name"
			fail=$((fail + 1))
			continue
		fi
		cp $crashers "$tmp/$name/corpus/"
	fi
	[ -d "$FUZZ/seeds/$name" ] && cp "$FUZZ/seeds/$name"/* "$tmp/$name/corpus/" 2>/dev/null
	if [ -f "$FUZZ/seedgen/$name.sh" ]; then
		sh "$FUZZ/seedgen/$name.sh" "$tmp/$name/corpus" "$tmp/$name" ||
			echo "note $name: seedgen/$name.sh failed; fuzzing the fixed seeds only"
	fi
	if [ "$SECS" -eq 0 ]; then
		# the corpus, each input once: what a release build must still pass
		run="-runs=0"
	else
		run="-max_total_time=$SECS"
	fi
	# shellcheck disable=SC2086
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	"$bin" $opts $run -print_final_stats=1 "$tmp/$name/corpus" > "$tmp/$name/log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		grep -v '^#[0-9]' "$tmp/$name/log" | tail -n 40
		keep "$name"
		fail=$((fail + 1))
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$name/log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/$name/log")
	cov=$(sed -n 's/^#[0-9]*[ 	]*DONE *cov: \([0-9]*\).*corp: \([0-9]*\).*/cov \1, corpus \2/p' "$tmp/$name/log")
	if [ "$SECS" -eq 0 ]; then
		echo "PASS $name: replayed ${runs:-?} inputs, ${cov:-no stats}"
	else
		echo "PASS $name: ${runs:-?} runs in ${SECS} s (${speed:-?} exec/s), ${cov:-no stats}"
	fi
	pass=$((pass + 1))
done 3< "$FUZZ/targets" < /dev/null

[ $((pass + fail)) -eq 0 ] && [ $skip -gt 0 ] && { echo "SKIP: no target could be built"; exit 77; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
