# Shared by the script tests: locate the build, fill config templates,
# start and stop a modmilterd. Exit status 77 means "skipped" to automake.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MODMILTERD="$top_builddir/modmilterd"
MODMILTER_TEST="$top_builddir/modmilter-test"
PLUGINS="$top_builddir/.libs"
TESTPLUGINS="$top_builddir/tests/plugins/.libs"
umask 022

need_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
	done
}

# fill_config TEMPLATE TMPDIR
fill_config() {
	sed -e "s|@PLUGINS@|$PLUGINS|g" -e "s|@TESTPLUGINS@|$TESTPLUGINS|g" \
	    -e "s|@TMP@|$2|g" "$1"
}

# start_daemon CONFIG SOCKET LOG: runs in the foreground in the background
start_daemon() {
	"$MODMILTERD" -f -c "$1" -l "$2" > "$3" 2>&1 &
	DAEMON_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		case "$2" in
		unix:*) [ -S "${2#unix:}" ] && return 0 ;;
		inet:*) port=${2#inet:}; port=${port%@*}
			(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0 ;;
		esac
		kill -0 $DAEMON_PID 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# gone PID SECONDS: wait until PID has exited. A zombie has: a detached
# daemon's parent is PID 1, which may reap it seconds later.
gone() {
	local i=0
	while kill -0 "$1" 2>/dev/null &&
	    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
		[ $i -ge $(($2 * 10)) ] && return 1
		sleep 0.1; i=$((i + 1))
	done
}

stop_daemon() {
	kill -TERM $DAEMON_PID 2>/dev/null
	wait $DAEMON_PID
}

# check NAME EXPECTED-EXIT PATTERN... -- ARGS: runs modmilter-test with
# $tmp/c.yaml and ARGS; every ERE PATTERN must match its output (a
# pattern starting with ! must not); counts failures in $fails.
check() {	# check NAME EXPECTED-EXIT PATTERN... -- ARGS
	name=$1 want=$2; shift 2
	pats=
	while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
	shift
	"$MODMILTER_TEST" -c "$tmp/c.yaml" "$@" > "$tmp/out" 2>&1
	rc=$?
	ok=1
	[ "$rc" = "$want" ] || { echo "  exit $rc, wanted $want"; ok=0; }
	echo "$pats" | while IFS= read -r p; do
		[ -z "$p" ] && continue
		case $p in
		!*) ! grep -qE -- "${p#!}" "$tmp/out" || { echo "  present: ${p#!}"; exit 1; } ;;
		*) grep -qE -- "$p" "$tmp/out" || { echo "  missing: $p"; exit 1; } ;;
		esac
	done || ok=0
	if [ $ok = 1 ]; then echo "PASS $name"; else
		echo "FAIL $name"; cat "$tmp/out"; fails=$((fails + 1)); fi
}

# instance_conf FILE MODULE OPTION-LINES: a configuration with one
# instance of MODULE (named after it) with these options, indented by six
# spaces (the first is on line 6), and a chain of it
instance_conf() {
	{ printf 'plugin_dir: %s\nplugins:\n  %s:\n    module: %s\n    options:\n' \
		"$PLUGINS" "$2" "$2"
	  printf '%s\n' "$3"
	  printf 'chains:\n  - name: all\n    plugins: [%s]\n' "$2"; } > "$1"
}

# checks_init: a scratch directory $tmp, removed at exit, and fails=0
# for ok/ko, which print one PASS or FAIL line each and count failures
checks_init() {
	tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$tmp"' EXIT
	fails=0
}
ok() { echo "PASS: $*"; }
ko() { echo "FAIL: $*"; fails=$((fails + 1)); }
