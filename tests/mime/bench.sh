#!/bin/bash
# CPU per message and scan throughput of modmilterd with the mime plugin,
# against the bare libmilter filter (tests/bench/bare-filter) measured in
# the same run with modmilter-bench over the milter protocol; medians
# over RUNS rounds, the filters alternating so that machine noise hits
# all. A third filter, modmilterd with a plugin that only asks for the
# message (tests/mime/dumpplug.so without a file), shows what the core's
# buffering of headers and body costs any such plugin: "buf us" and the
# ratio mime/buf are the mime plugin's own share. One line per class:
#   plain-5k      the 5 KB text newsletter of tests/bench/messages
#   multipart     text + HTML alternative + a 20 KB PDF (base64)
#   zip-clean     text + a 60 KB zip of text files (opened and listed)
#   zip-banned    text + a zip holding an .exe (saved, replaced)
#   attach-1m     text + a 1 MB PDF (base64): decode throughput
#
#   tests/mime/bench.sh [-r RUNS] [-n MESSAGES] [-c CONCURRENCY] [-d SAVE_DIR]
#       [-m 'CLASS...']
#
# CPU is utime+stime of the filter process, all its threads. MB/s is
# message bytes per CPU second of modmilterd. SAVE_DIR defaults to a
# directory under /dev/shm, so that the zip-banned figure is the
# plugin's work and not the disk's fsync.
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"
RUNS=5 N=4000 CONC=8 SAVE=
CLASSES="plain-5k multipart zip-clean zip-banned attach-1m"
while getopts r:n:c:d:m: o; do
	case $o in r) RUNS=$OPTARG ;; n) N=$OPTARG ;; c) CONC=$OPTARG ;; d) SAVE=$OPTARG ;;
	m) CLASSES=$OPTARG ;; *) exit 2 ;; esac
done
MK="$top_builddir/tests/mime/mkfixture"
[ -x "$MK" ] || { echo "build tests/mime/mkfixture first (make check TESTS=)"; exit 2; }
tmp=$(mktemp -d /tmp/mmmimebench.XXXXXX)
[ -n "$SAVE" ] || SAVE=$(mktemp -d /dev/shm/mmmimesaved.XXXXXX 2>/dev/null || mktemp -d /tmp/mmmimesaved.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp" "$SAVE"' EXIT

# --- messages ---
msg() {	# msg OUT [FILE NAME CTYPE]...
	local out=$1
	shift
	{
		printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.com>\n'
		printf 'Subject: benchmark\nDate: Wed, 5 Mar 2025 06:00:05 +0000\n'
		printf 'Message-ID: <bench@example.org>\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
		printf 'Content-Type: multipart/alternative; boundary="b2"\n\n--b2\n'
		printf 'Content-Type: text/plain; charset=utf-8\n\nHello Bob,\nthe files.\n--b2\n'
		printf 'Content-Type: text/html; charset=utf-8\n\n<p>Hello Bob,<br>the files.</p>\n--b2--\n'
		while [ $# -ge 3 ]; do
			printf -- '--b1\nContent-Type: %s; name="%s"\n' "$3" "$2"
			printf 'Content-Disposition: attachment; filename="%s"\n' "$2"
			printf 'Content-Transfer-Encoding: base64\n\n'
			base64 < "$1"
			shift 3
		done
		printf -- '--b1--\n'
	} > "$out"
}
head -c 20000 /dev/urandom > "$tmp/doc20k.pdf"
head -c 1000000 /dev/urandom > "$tmp/doc1m.pdf"
for i in 1 2 3 4 5 6; do
	(cd "$top_srcdir" && cat README.md doc/plugin-guide.md) > "$tmp/t$i.txt"
done
"$MK" zip "$tmp/clean.zip" a.txt=file:"$tmp/t1.txt" b.txt=file:"$tmp/t2.txt" \
	c.txt=file:"$tmp/t3.txt" d.pdf=file:"$tmp/doc20k.pdf"
"$MK" zip "$tmp/bad.zip" readme.txt=text:hello setup.exe=exe
cp "$top_srcdir/tests/bench/messages/newsletter-5k.eml" "$tmp/plain-5k.eml"
msg "$tmp/multipart.eml" "$tmp/doc20k.pdf" report.pdf application/pdf
msg "$tmp/zip-clean.eml" "$tmp/clean.zip" texts.zip application/zip
msg "$tmp/zip-banned.eml" "$tmp/bad.zip" files.zip application/zip
msg "$tmp/attach-1m.eml" "$tmp/doc1m.pdf" big.pdf application/pdf

# --- filters ---
P1=$(port); P2=$(port); P3=$(port)
cat > "$tmp/mime.yaml" <<EOC
plugin_dir: $top_builddir/.libs
log: { level: warning }
plugins:
  mime: { module: mime, options: { save_dir: $SAVE } }
chains:
  - name: all
    plugins: [mime]
EOC
"$top_builddir/modmilterd" -f -c "$tmp/mime.yaml" -l "inet:$P1@127.0.0.1" 2>"$tmp/d.log" &
MPID=$!; pids+=($MPID)
"$top_builddir/tests/bench/bare-filter" -p "inet:$P2@127.0.0.1" 2>"$tmp/b.log" &
BPID=$!; pids+=($BPID)
cat > "$tmp/buf.yaml" <<EOC
plugin_dir: $top_builddir/.libs
log: { level: warning }
plugins:
  buf: { module: $top_builddir/tests/mime/.libs/dumpplug.so }
chains:
  - name: all
    plugins: [buf]
EOC
"$top_builddir/modmilterd" -f -c "$tmp/buf.yaml" -l "inet:$P3@127.0.0.1" 2>"$tmp/f.log" &
FPID=$!; pids+=($FPID)
sleep 1

# run_one CLASS NAME PID SOCKET N: appends "cpu_us p50 p99 rate" to $tmp/CLASS.NAME
run_one() {
	bench_round "$3" "$5" "$tmp/$1.$2" - -s "$4" -c "$CONC" --warmup 50 "$tmp/$1.eml"
}
for class in $CLASSES; do
	n=$N
	[ "$class" = attach-1m ] && n=$((N / 10))
	for ((r = 0; r < RUNS; r++)); do
		run_one "$class" mime "$MPID" "inet:$P1@127.0.0.1" "$n"
		run_one "$class" bare "$BPID" "inet:$P2@127.0.0.1" "$n"
		run_one "$class" buf "$FPID" "inet:$P3@127.0.0.1" "$n"
		rm -f "$SAVE"/*.eml
	done
done
python3 - "$tmp" "$RUNS" "$N" "$CONC" $CLASSES <<'EOP'
import os, statistics, sys
tmp, runs, n, conc = sys.argv[1:5]
def load(p):
    rows = [list(map(float, l.split())) for l in open(p)]
    return [statistics.median(c) for c in zip(*rows)]
print("medians of %s runs, %s messages per class and round (attach-1m: a tenth), concurrency %s" % (runs, n, conc))
print("%-11s %7s | %8s %7s %6s | %8s %6s | %7s | %10s %8s | %6s" % ("class", "KB",
    "mime us", "p50 ms", "msg/s", "bare us", "msg/s", "buf us", "mime/bare", "mime/buf", "MB/s"))
for c in sys.argv[5:]:
    size = os.path.getsize(os.path.join(tmp, c + ".eml"))
    m, b, f = (load(os.path.join(tmp, c + x)) for x in (".mime", ".bare", ".buf"))
    print("%-11s %7.1f | %8.1f %7.3f %6.0f | %8.1f %6.0f | %7.1f | %10.2f %8.2f | %6.1f" % (
        c, size / 1024, m[0], m[1], m[3], b[0], b[3], f[0], m[0] / b[0], m[0] / f[0],
        size / m[0]))
EOP
