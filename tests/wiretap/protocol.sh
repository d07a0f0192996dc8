#!/bin/sh
# wiretap through miltertest (a real milter client) against modmilterd:
# the negotiation, ACCEPT at DATA when nothing matches, a copy and a gag
# at end of message, and the archived copy on disk. The
# daemon must stop cleanly (exit 0: under ASan, no leaks either).
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd miltertest
tmp=$(mktemp -d /tmp/wiretap-proto.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/archive"
fill_config "$top_srcdir/tests/wiretap/protocol.yaml" "$tmp" > "$tmp/conf.yaml"
start_daemon "$tmp/conf.yaml" "unix:$tmp/milter.sock" "$tmp/daemon.log" ||
	{ echo "FAIL: daemon did not start"; cat "$tmp/daemon.log"; exit 1; }
rc=0
MILTER_SOCKET="unix:$tmp/milter.sock" miltertest -s "$top_srcdir/tests/wiretap/protocol.lua" \
	> "$tmp/out" 2>&1 || rc=1
# miltertest may end a script silently: it must have reached its last line
grep -q '^wiretap protocol ok$' "$tmp/out" || { echo "FAIL: the script did not finish"; rc=1; }
stop_daemon || { echo "FAIL: daemon did not stop cleanly"; rc=1; }
if grep -q Sanitizer "$tmp/daemon.log"; then echo "FAIL: sanitizer report"; rc=1; fi
n=$(find "$tmp/archive/alice@corp.example/new" -type f 2>/dev/null | wc -l)
[ "$n" = 1 ] || { echo "FAIL: $n archived copies, wanted 1"; rc=1; }
if grep -q '^body line$' "$tmp"/archive/alice@corp.example/new/* 2>/dev/null; then :; else
	echo "FAIL: archived copy without its body"; rc=1; fi
if [ $rc = 0 ]; then echo "PASS wiretap protocol"; else
	cat "$tmp/out"; echo "--- daemon log"; cat "$tmp/daemon.log"; fi
exit $rc
