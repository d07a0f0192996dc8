#!/bin/sh
# A milter connection reused for several SMTP connections (SMFIC_QUIT_NC,
# as Postfix and Sendmail send it): every SMTP connection gets its own
# verdicts and modifications from a clean session - the chain chosen
# again by its client address, each plugin's conn_open and conn_close
# called once per SMTP connection, no state carried over - and a milter
# connection that ends right after a QUIT_NC is no trouble. After a
# reload between two SMTP connections, the next one uses the new
# configuration if it asks the MTA for nothing else, and is tempfailed
# at connect if it does (the MTA would not send what it needs). The
# daemon must stop cleanly (exit 0: under ASan, no leaks either).
. "${top_srcdir:-.}/tests/lib.sh"
CLIENT="$top_builddir/tests/protocol/reuse-client"
tmp=$(mktemp -d /tmp/mmreuse.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fill_config "$top_srcdir/tests/protocol/reuse.yaml" "$tmp" > "$tmp/conf.yaml"
start_daemon "$tmp/conf.yaml" "unix:$tmp/milter.sock" "$tmp/daemon.log" ||
	{ echo "FAIL: daemon did not start"; cat "$tmp/daemon.log"; exit 1; }
rc=0
"$CLIENT" "unix:$tmp/milter.sock" 10.1.2.3 192.0.2.7 10.9.9.9 > "$tmp/out" 2>&1 || rc=1
"$CLIENT" "unix:$tmp/milter.sock" 192.0.2.8 hangup > "$tmp/out2" 2>&1 || rc=1

# reload_between NAME SED-SCRIPT: one SMTP connection, a reload with the
# edited configuration, another SMTP connection on the same milter connection
reload_between() {
	rm -f "$tmp/go"
	"$CLIENT" "unix:$tmp/milter.sock" 10.1.2.3 "wait:$tmp/go" 192.0.2.9 \
		> "$tmp/out-$1" 2>&1 &
	cpid=$!
	i=0; while [ $i -lt 100 ] && ! grep -q quit_nc "$tmp/out-$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	before=$(grep -c "reloaded" "$tmp/daemon.log")
	sed "$2" "$tmp/conf.yaml" > "$tmp/conf.new" && mv "$tmp/conf.new" "$tmp/conf.yaml"
	kill -USR1 $DAEMON_PID
	i=0; while [ $i -lt 100 ] && [ "$(grep -c reloaded "$tmp/daemon.log")" = "$before" ]; do
		sleep 0.1; i=$((i + 1)); done
	touch "$tmp/go"
	wait $cpid || rc=1
}
# the same stages, actions and macros: the new generation serves
reload_between same 's/X-Both/X-Again/'
# no plugins left, so fewer stages: not on this milter connection
reload_between other '/^  [a-z]*: *{ module:.*testplug/d; /^ *options: { trace: X-In/d;
	/^chains:/,$d'
sleep 0.5	# the hangup's close runs after the client is gone
stop_daemon || { echo "FAIL: daemon did not stop cleanly"; rc=1; }
if grep -q Sanitizer "$tmp/daemon.log"; then echo "FAIL: sanitizer report"; rc=1; fi

trace=connect,helo,envfrom,envrcpt,envrcpt,data,header,eoh,body,eom
smtp() {	# smtp N IP REJECT-BAD CHAIN-HEADER
	echo "smtp $1 from $2"
	for s in connect helo mail "rcpt good"; do echo "$s continue"; done
	if [ "$3" = yes ]; then echo "rcpt bad replycode 550 5.1.1 No such user here"
	else echo "rcpt bad continue"; fi
	for s in data header header eoh body; do echo "$s continue"; done
	echo "addheader X-Both: $trace"
	echo "addheader $4: $trace"
	echo "verdict continue"
}
{ smtp 1 10.1.2.3 no X-Out; echo quit_nc; smtp 2 192.0.2.7 yes X-In; echo quit_nc
  smtp 3 10.9.9.9 no X-Out; echo quit; } > "$tmp/want"
{ smtp 1 192.0.2.8 yes X-In; echo quit_nc; echo hangup; } > "$tmp/want2"
{ smtp 1 10.1.2.3 no X-Out; echo quit_nc; smtp 2 192.0.2.9 yes X-In | sed 's/X-Both/X-Again/'
  echo quit; } > "$tmp/want-same"
{ smtp 1 10.1.2.3 no X-Out | sed 's/X-Both/X-Again/'; echo quit_nc
  echo "smtp 2 from 192.0.2.9"; echo "connect tempfail"; echo quit; } > "$tmp/want-other"
diff "$tmp/want" "$tmp/out" > "$tmp/diff" || { echo "FAIL: replies"; cat "$tmp/diff"; rc=1; }
for r in same other; do
	diff "$tmp/want-$r" "$tmp/out-$r" > "$tmp/diff" ||
		{ echo "FAIL: replies (reload: $r)"; cat "$tmp/diff"; rc=1; }
done
grep -q "now needs other stages, actions or macros" "$tmp/daemon.log" ||
	{ echo "FAIL: the refused reuse is not logged"; rc=1; }
diff "$tmp/want2" "$tmp/out2" > "$tmp/diff" || { echo "FAIL: replies (hangup)"; cat "$tmp/diff"; rc=1; }

# conn_open and conn_close alternate, once per SMTP connection (7 with
# both, 4 with out, 3 with in, over all the runs above), and
# each conn_close saw one SMTP connection's hooks only
for p in both:7 out:4 in:3; do
	name=${p%:*} n=${p#*:}
	seq=$(grep -o " $name: conn_[a-z]*" "$tmp/daemon.log" | sed 's/.*conn_//' | tr '\n' ' ')
	want=$(i=0; while [ $i -lt $n ]; do printf 'open close '; i=$((i + 1)); done)
	[ "$seq" = "$want" ] || { echo "FAIL: $name: conn_* calls '$seq', wanted '$want'"; rc=1; }
	c=$(grep -c " $name: conn_close after $trace\$" "$tmp/daemon.log")
	[ "$c" = "$n" ] || { echo "FAIL: $name: $c clean conn_close traces, wanted $n"; rc=1; }
done

if [ $rc = 0 ]; then echo "PASS protocol reuse (QUIT_NC)"; else
	echo "--- client"; cat "$tmp"/out*; echo "--- daemon log"; cat "$tmp/daemon.log"; fi
exit $rc
