#!/bin/sh
# Protocol tests: each NAME.lua is a miltertest script run against a
# modmilterd started with NAME.yaml (placeholders @PLUGINS@, @TESTPLUGINS@
# and @TMP@ filled in). The daemon must survive the script and stop
# cleanly on SIGTERM (exit 0; under ASan that also means no leaks).
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd miltertest

fails=0
for lua in "$top_srcdir"/tests/protocol/*.lua; do
	name=$(basename "$lua" .lua)
	tmp=$(mktemp -d /tmp/mmproto.XXXXXX)
	sock="$tmp/milter.sock"
	fill_config "$top_srcdir/tests/protocol/$name.yaml" "$tmp" > "$tmp/conf.yaml"
	start_daemon "$tmp/conf.yaml" "unix:$sock" "$tmp/daemon.log" || {
		echo "FAIL $name: daemon did not start"; cat "$tmp/daemon.log"
		fails=$((fails + 1)); continue; }
	if MILTER_SOCKET="unix:$sock" miltertest -s "$lua" > "$tmp/out" 2>&1; then
		res=ok
	else
		res=fail
	fi
	stop_daemon || { echo "FAIL $name: daemon did not stop cleanly"; res=fail; }
	if grep -q "Sanitizer" "$tmp/daemon.log"; then
		echo "FAIL $name: sanitizer report"; res=fail
	fi
	if [ $res = ok ]; then
		echo "PASS $name"
		rm -rf "$tmp"
	else
		echo "FAIL $name"; cat "$tmp/out"; echo "--- daemon log"; cat "$tmp/daemon.log"
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
