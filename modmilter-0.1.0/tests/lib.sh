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

stop_daemon() {
	kill -TERM $DAEMON_PID 2>/dev/null
	wait $DAEMON_PID
}
