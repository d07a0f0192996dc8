# shellcheck shell=sh
#
# tests/e2e/lib.sh - end-to-end test harness for modmilterd.
#
# Sourced by the end-to-end tests (POSIX sh: dash or bash).  It runs a
# private Postfix instance on loopback, an smtp-sink that dumps every relayed
# message to a file, and whatever milter the test starts, all inside one
# temporary directory that is removed at exit.
#
#   . "$(dirname "$0")/lib.sh"
#   skip_unless_root
#   skip_unless_cmd postfix smtp-sink swaks
#   e2e_init
#   sink_start
#   e2e_start_modmilterd modmilterd CONFIG     # detached, on $E2E_MILTER_SOCKET
#   pf_start
#   send_mail a@example.org b@example.com
#   wait_sink_count 1
#   assert_grep '^X-Test: yes' "$(sink_last)"
#   e2e_done
#
# Exit status follows the automake convention: 0 pass, 1 fail, 77 skip,
# 99 hard error (the harness itself could not set up).  Set E2E_TAP=1 to get
# TAP output ("ok N - ..." lines and a plan printed by e2e_done).
# See tests/e2e/README.

PATH=$PATH:/usr/sbin:/sbin
export PATH

: "${E2E_TIMEOUT:=30}"          # default timeout (seconds) for waits
: "${E2E_TAP:=0}"
: "${E2E_KEEP:=0}"
: "${E2E_STOP_GRACE:=10}"       # seconds a process gets between TERM and KILL

E2E_FAILS=0
E2E_COUNT=0
E2E_PF_STARTED=0
# Never inherit these from a calling process: e2e_cleanup removes E2E_DIR.
E2E_DIR=
E2E_PIDS=
E2E_PF_LOG=
E2E_SINK_PID=

# Configuration directory of the default Postfix instance, where
# alternate_config_directories has to list our private instance.
E2E_PF_DEFAULT_CONF=${E2E_PF_DEFAULT_CONF:-/etc/postfix}

# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

# diag MSG... : diagnostic line (stderr; "# " prefixed so TAP ignores it)
diag() {
    printf '# %s\n' "$*" >&2
}

# e2e_die MSG... : the harness itself failed; exit 99 (automake ERROR)
e2e_die() {
    printf 'ERROR: %s\n' "$*" >&2
    if [ "$E2E_TAP" = 1 ]; then
        printf 'Bail out! %s\n' "$*"
    fi
    exit 99
}

# skip MSG... : skip the whole test (exit 77; under TAP a "1..0 # SKIP"
# plan and exit 0, which is what a TAP driver expects)
skip() {
    if [ "$E2E_TAP" = 1 ]; then
        printf '1..0 # SKIP %s\n' "$*"
        exit 0
    fi
    printf 'SKIP: %s\n' "$*"
    exit 77
}

# pass MSG... : record a passed check
pass() {
    E2E_COUNT=$((E2E_COUNT + 1))
    if [ "$E2E_TAP" = 1 ]; then
        printf 'ok %d - %s\n' "$E2E_COUNT" "$*"
    else
        printf 'PASS: %s\n' "$*"
    fi
    return 0
}

# fail MSG... : record a failed check; returns 1 (the test goes on unless
# it chooses to stop; e2e_done exits 1 if anything failed)
fail() {
    E2E_COUNT=$((E2E_COUNT + 1))
    E2E_FAILS=$((E2E_FAILS + 1))
    if [ "$E2E_TAP" = 1 ]; then
        printf 'not ok %d - %s\n' "$E2E_COUNT" "$*"
    else
        printf 'FAIL: %s\n' "$*"
    fi
    return 1
}

# e2e_done : end of test; exit 0 if every check passed, 1 otherwise
e2e_done() {
    if [ "$E2E_TAP" = 1 ]; then
        printf '1..%d\n' "$E2E_COUNT"
    fi
    if [ "$E2E_FAILS" -gt 0 ]; then
        diag "$E2E_FAILS of $E2E_COUNT checks failed"
        exit 1
    fi
    exit 0
}

# e2e__show FILE : print the tail of FILE to stderr as diagnostics
e2e__show() {
    if [ -f "$1" ]; then
        diag "---- $1 (last ${2:-25} lines) ----"
        tail -n "${2:-25}" "$1" | sed 's/^/#   /' >&2
    else
        diag "---- $1: no such file ----"
    fi
}

# ---------------------------------------------------------------------------
# Assertions: each reports through pass/fail and returns non-zero on failure.
# Note: inside $(...) a failure is not counted (subshell); call them directly.
# ---------------------------------------------------------------------------

# assert_grep PATTERN FILE [MSG] : FILE has a line matching the ERE PATTERN
assert_grep() {
    e2e__msg=${3:-"grep '$1' $2"}
    if [ ! -f "$2" ]; then
        fail "$e2e__msg: file '$2' does not exist"
        return 1
    fi
    if grep -Eq -- "$1" "$2"; then
        pass "$e2e__msg"
    else
        fail "$e2e__msg: pattern '$1' not found in $2"
        e2e__show "$2" 40
        return 1
    fi
}

# assert_not_grep PATTERN FILE [MSG] : no line of FILE matches PATTERN
assert_not_grep() {
    e2e__msg=${3:-"! grep '$1' $2"}
    if [ ! -f "$2" ]; then
        fail "$e2e__msg: file '$2' does not exist"
        return 1
    fi
    if grep -Eq -- "$1" "$2"; then
        fail "$e2e__msg: pattern '$1' unexpectedly found in $2:"
        grep -En -- "$1" "$2" | head -n 10 | sed 's/^/#   /' >&2
        return 1
    fi
    pass "$e2e__msg"
}

# assert_eq ACTUAL EXPECTED [MSG]
assert_eq() {
    e2e__msg=${3:-"'$1' = '$2'"}
    if [ "$1" = "$2" ]; then
        pass "$e2e__msg"
    else
        fail "$e2e__msg: got '$1', expected '$2'"
    fi
}

# assert_ne ACTUAL UNEXPECTED [MSG]
assert_ne() {
    e2e__msg=${3:-"'$1' != '$2'"}
    if [ "$1" != "$2" ]; then
        pass "$e2e__msg"
    else
        fail "$e2e__msg: got '$1', expected anything else"
    fi
}

# assert_match STRING ERE [MSG] : STRING matches the ERE
assert_match() {
    e2e__msg=${3:-"'$1' =~ '$2'"}
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        pass "$e2e__msg"
    else
        fail "$e2e__msg: '$1' does not match '$2'"
    fi
}

# ---------------------------------------------------------------------------
# Preconditions
# ---------------------------------------------------------------------------

skip_unless_root() {
    if [ "$(id -u)" != 0 ]; then
        skip "needs root (runs a private Postfix instance)"
    fi
}

# skip_unless_cmd CMD... : skip unless every CMD is found in PATH
skip_unless_cmd() {
    for e2e__c in "$@"; do
        if ! command -v "$e2e__c" >/dev/null 2>&1; then
            skip "'$e2e__c' not installed"
        fi
    done
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# e2e__tcp_ports STATE : print the local TCP ports (decimal), one per line;
# STATE is a /proc/net/tcp state in hex ("0A" = LISTEN) or "any"
e2e__tcp_ports() {
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v st="$1" '
        function hex(s,   i, n) {
            n = 0
            for (i = 1; i <= length(s); i++)
                n = n * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1
            return n
        }
        NR > 0 && $2 ~ /:/ && (st == "any" || $4 == st) {
            split($2, a, ":"); print hex(a[2])
        }'
}

# port_listening PORT : true if something listens on TCP PORT
port_listening() {
    e2e__tcp_ports 0A | grep -qx -- "$1"
}

# e2e_free_ports N : print N distinct TCP ports that nothing uses now.
# They are drawn from 20000-32767, below Linux's ephemeral range, so
# outgoing connections made during the test cannot take them.
# shellcheck disable=SC2086
e2e_free_ports() {
    e2e__n=${1:-1}
    e2e__used=$(e2e__tcp_ports any | sort -un)
    e2e__got=
    e2e__k=0
    e2e__tries=0
    while [ "$e2e__k" -lt "$e2e__n" ]; do
        e2e__tries=$((e2e__tries + 1))
        [ "$e2e__tries" -gt 1000 ] && return 1
        e2e__r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        e2e__p=$((20000 + e2e__r % 12768))
        if printf '%s\n' $e2e__used $e2e__got | grep -qx -- "$e2e__p"; then
            continue
        fi
        e2e__got="$e2e__got $e2e__p"
        e2e__k=$((e2e__k + 1))
    done
    printf '%s\n' $e2e__got
}

# wait_port PORT [TIMEOUT] : wait until something listens on PORT
wait_port() {
    e2e__deadline=$(($(date +%s) + ${2:-$E2E_TIMEOUT}))
    while ! port_listening "$1"; do
        if [ "$(date +%s)" -ge "$e2e__deadline" ]; then
            diag "nothing listens on port $1 after ${2:-$E2E_TIMEOUT}s"
            return 1
        fi
        sleep 0.1
    done
    return 0
}

# ---------------------------------------------------------------------------
# Setup and cleanup
# ---------------------------------------------------------------------------

# e2e_init : private directory, free ports, exit trap
e2e_init() {
    e2e__base=${TMPDIR:-/tmp}
    E2E_DIR=$(mktemp -d "$e2e__base/modmilter-e2e.XXXXXX") ||
        e2e_die "cannot create a temporary directory under $e2e__base"
    # Postfix and smtp-sink run as user postfix and must reach into it.
    chmod 755 "$E2E_DIR"
    E2E_PIDS=$E2E_DIR/pids
    E2E_PF_DIR=$E2E_DIR/postfix
    E2E_PF_CONF=$E2E_PF_DIR/etc
    E2E_PF_LOG=$E2E_PF_DIR/maillog
    E2E_SINK_DIR=$E2E_DIR/sink
    : >"$E2E_PIDS"
    trap 'e2e__on_exit' EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 &&
        id postfix >/dev/null 2>&1 &&
        ! runuser -u postfix -- test -x "$E2E_DIR"; then
        e2e_die "user postfix cannot reach $E2E_DIR (is ${TMPDIR:-/tmp} or a parent mode 700?); set TMPDIR to a world-searchable directory"
    fi

    # shellcheck disable=SC2046
    set -- $(e2e_free_ports 3)
    [ $# -eq 3 ] || e2e_die "cannot find free TCP ports"
    E2E_SMTP_PORT=$1
    E2E_SINK_PORT=$2
    E2E_MILTER_PORT=$3
    E2E_MILTER_SOCKET=inet:$E2E_MILTER_PORT@127.0.0.1
    export E2E_DIR E2E_SMTP_PORT E2E_SINK_PORT E2E_MILTER_PORT \
        E2E_PF_DIR E2E_PF_CONF E2E_PF_LOG E2E_SINK_DIR E2E_MILTER_SOCKET
    diag "E2E_DIR=$E2E_DIR smtp=$E2E_SMTP_PORT sink=$E2E_SINK_PORT milter=$E2E_MILTER_PORT"
}

e2e__on_exit() {
    e2e__rc=$?
    trap - EXIT HUP INT TERM
    if [ "$e2e__rc" -ne 0 ] && [ "$e2e__rc" -ne 77 ] && [ -n "$E2E_DIR" ] &&
        [ -d "$E2E_DIR" ]; then
        if [ -f "$E2E_PF_LOG" ]; then
            e2e__show "$E2E_PF_LOG" 30
        fi
        for e2e__f in "$E2E_DIR"/*.log; do
            [ -f "$e2e__f" ] && e2e__show "$e2e__f" 15
        done
    fi
    e2e_cleanup
    exit "$e2e__rc"
}

# e2e_cleanup : stop Postfix, the sink and every tracked process, remove
# the directory (kept when E2E_KEEP=1).  Safe to call more than once.
e2e_cleanup() {
    [ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ] || return 0
    pf_stop
    if [ -f "$E2E_PIDS" ]; then
        while read -r e2e__pid e2e__name; do
            e2e__stop_pid "$e2e__pid"
        done <"$E2E_PIDS"
        : >"$E2E_PIDS"
    fi
    if [ "$E2E_KEEP" = 1 ]; then
        diag "kept $E2E_DIR"
    else
        rm -rf "$E2E_DIR"
    fi
    E2E_DIR=
    return 0
}

# e2e__stop_pid PID : TERM, wait up to E2E_STOP_GRACE seconds, then KILL.
# (libmilter-based milters take up to ~5 s to leave after SIGTERM: their
# listener only notices the stop request when its poll times out.)
e2e__stop_pid() {
    kill -0 "$1" 2>/dev/null || return 0
    kill -TERM "$1" 2>/dev/null || :
    e2e__i=0
    while kill -0 "$1" 2>/dev/null && [ "$e2e__i" -lt $((E2E_STOP_GRACE * 10)) ]; do
        sleep 0.1
        e2e__i=$((e2e__i + 1))
    done
    kill -KILL "$1" 2>/dev/null || :
    wait "$1" 2>/dev/null || :
    return 0
}

# e2e_bg NAME CMD [ARG...] : run CMD in the background, output to
# $E2E_DIR/NAME.log, killed at cleanup.  Sets E2E_LAST_PID.
e2e_bg() {
    e2e__name=$1
    shift
    "$@" >"$E2E_DIR/$e2e__name.log" 2>&1 &
    E2E_LAST_PID=$!
    echo "$E2E_LAST_PID $e2e__name" >>"$E2E_PIDS"
}

# e2e_kill NAME : stop the background process(es) started as NAME
e2e_kill() {
    [ -f "$E2E_PIDS" ] || return 0
    while read -r e2e__pid e2e__name; do
        [ "$e2e__name" = "$1" ] && e2e__stop_pid "$e2e__pid"
    done <"$E2E_PIDS"
    grep -v " $1\$" "$E2E_PIDS" >"$E2E_PIDS.new" || :
    mv "$E2E_PIDS.new" "$E2E_PIDS"
}

# e2e_start_milter NAME CMD [ARG...] : start a milter in the background and
# wait until it listens on $E2E_MILTER_PORT (fails if it died)
e2e_start_milter() {
    e2e_bg "$@"
    e2e__deadline=$(($(date +%s) + E2E_TIMEOUT))
    while ! port_listening "$E2E_MILTER_PORT"; do
        if ! kill -0 "$E2E_LAST_PID" 2>/dev/null; then
            diag "milter '$1' exited before listening"
            e2e__show "$E2E_DIR/$1.log"
            return 1
        fi
        if [ "$(date +%s)" -ge "$e2e__deadline" ]; then
            diag "milter '$1' does not listen on $E2E_MILTER_PORT"
            e2e__show "$E2E_DIR/$1.log"
            return 1
        fi
        sleep 0.1
    done
}

# e2e_start_modmilterd NAME CONFIG [ARG...] : start modmilterd the way a
# mail host runs it: detached (no -f), listening on $E2E_MILTER_SOCKET.
# A copy of CONFIG gets a pidfile ($E2E_DIR/NAME.pid) and a log file
# ($E2E_DIR/NAME.log; an existing one-line 'log:' map keeps its keys).
# The command returns only once the daemon listens, or fails with its
# start-up errors, which are shown. Sets E2E_LAST_PID to the daemon's pid.
e2e_start_modmilterd() {
    e2e__name=$1 e2e__conf=$2
    shift 2
    e2e__run=$E2E_DIR/$e2e__name.run.yaml
    awk -v pid="$E2E_DIR/$e2e__name.pid" -v lf="$E2E_DIR/$e2e__name.log" '
        /^pidfile:/ { next }
        /^log: *\{/ { sub(/\{/, "{ file: " lf ", "); seen = 1 }
        /^log: *[a-z]+ *$/ { sub(/log: */, "log: { file: " lf ", to: "); $0 = $0 " }"; seen = 1 }
        { print }
        END { print "pidfile: " pid; if (!seen) print "log: { file: " lf " }" }
    ' "$e2e__conf" >"$e2e__run" || return 1
    rm -f "$E2E_DIR/$e2e__name.pid"
    if ! "${MODMILTERD:?}" -c "$e2e__run" -l "$E2E_MILTER_SOCKET" "$@" \
        >"$E2E_DIR/$e2e__name.start" 2>&1; then
        diag "modmilterd '$e2e__name' did not start"
        e2e__show "$E2E_DIR/$e2e__name.start"
        return 1
    fi
    E2E_LAST_PID=$(cat "$E2E_DIR/$e2e__name.pid")
    echo "$E2E_LAST_PID $e2e__name" >>"$E2E_PIDS"
    case $E2E_MILTER_SOCKET in
    unix:*) [ -S "${E2E_MILTER_SOCKET#unix:}" ] ;;
    *) port_listening "$E2E_MILTER_PORT" ;;
    esac || { diag "modmilterd '$e2e__name' said it listens, but does not"; return 1; }
}

# e2e_reload NAME : SIGUSR1 to the daemon started as NAME; waits until its
# log says the reload is done (or failed)
e2e_reload() {
    e2e__pid=$(cat "$E2E_DIR/$1.pid") || return 1
    e2e__n=$(grep -c 'reloaded\|reload failed' "$E2E_DIR/$1.log" 2>/dev/null)
    kill -USR1 "$e2e__pid" || return 1
    e2e__i=0
    while [ "$(grep -c 'reloaded\|reload failed' "$E2E_DIR/$1.log" 2>/dev/null)" -le "$e2e__n" ]; do
        [ "$e2e__i" -ge $((E2E_TIMEOUT * 10)) ] && { diag "reload of '$1' did not finish"; return 1; }
        sleep 0.1
        e2e__i=$((e2e__i + 1))
    done
}

# ---------------------------------------------------------------------------
# smtp-sink
# ---------------------------------------------------------------------------

# sink_start [SMTP-SINK-OPTION...] : start smtp-sink on $E2E_SINK_PORT,
# dumping each message to its own file in $E2E_SINK_DIR
sink_start() {
    mkdir -p "$E2E_SINK_DIR" || e2e_die "mkdir $E2E_SINK_DIR"
    chown postfix "$E2E_SINK_DIR" || e2e_die "chown postfix $E2E_SINK_DIR"
    e2e_bg sink smtp-sink -u postfix "$@" -d "$E2E_SINK_DIR/%M." \
        "127.0.0.1:$E2E_SINK_PORT" 100
    E2E_SINK_PID=$E2E_LAST_PID
    export E2E_SINK_PID
    wait_port "$E2E_SINK_PORT" ||
        { e2e__show "$E2E_DIR/sink.log"; e2e_die "smtp-sink did not start"; }
}

sink_stop() {
    e2e_kill sink
}

# sink_files : complete dump files, oldest first (a file smtp-sink still
# holds open is a transaction in progress and is left out)
sink_files() {
    [ -d "$E2E_SINK_DIR" ] || return 0
    e2e__open=
    if [ -n "${E2E_SINK_PID-}" ] && [ -d "/proc/$E2E_SINK_PID/fd" ]; then
        e2e__open=$(find "/proc/$E2E_SINK_PID/fd" -mindepth 1 -maxdepth 1 \
            -exec readlink {} \; 2>/dev/null | grep -F "$E2E_SINK_DIR/") || :
    fi
    # shellcheck disable=SC2012
    ls -1tr "$E2E_SINK_DIR" 2>/dev/null | while read -r e2e__f; do
        e2e__f=$E2E_SINK_DIR/$e2e__f
        [ -f "$e2e__f" ] || continue
        if [ -n "$e2e__open" ] &&
            printf '%s\n' "$e2e__open" | grep -qxF -- "$e2e__f"; then
            continue
        fi
        printf '%s\n' "$e2e__f"
    done
}

# sink_count : number of complete dumped messages
sink_count() {
    sink_files | grep -c . || true
}

# sink_last : path of the newest dumped message
sink_last() {
    sink_files | tail -n 1
}

# sink_clear : remove all dumps (between sub-tests)
sink_clear() {
    find "$E2E_SINK_DIR" -mindepth 1 -delete 2>/dev/null
    return 0
}

# wait_sink_count N [TIMEOUT] : wait until at least N messages are dumped.
# Flushes the Postfix queue now and then in case a delivery was deferred.
wait_sink_count() {
    e2e__want=$1
    e2e__to=${2:-$E2E_TIMEOUT}
    e2e__start=$(date +%s)
    e2e__next_flush=$((e2e__start + 2))
    while :; do
        e2e__have=$(sink_count)
        [ "$e2e__have" -ge "$e2e__want" ] && return 0
        e2e__now=$(date +%s)
        if [ "$e2e__now" -ge $((e2e__start + e2e__to)) ]; then
            fail "wait_sink_count: $e2e__have of $e2e__want messages reached the sink in ${e2e__to}s"
            if [ "$E2E_PF_STARTED" = 1 ]; then
                postqueue -c "$E2E_PF_CONF" -p 2>&1 | sed 's/^/#   /' >&2
            fi
            e2e__show "$E2E_PF_LOG" 20
            return 1
        fi
        if [ "$E2E_PF_STARTED" = 1 ] && [ "$e2e__now" -ge "$e2e__next_flush" ]; then
            postqueue -c "$E2E_PF_CONF" -f >/dev/null 2>&1 || :
            e2e__next_flush=$((e2e__now + 2))
        fi
        sleep 0.1
    done
}

# ---------------------------------------------------------------------------
# Postfix
# ---------------------------------------------------------------------------

# e2e__backdate FILE... : set the mtime a few seconds back.  Postfix pauses
# about 2 s before reading a main.cf changed within the last second ("let it
# finish changing"); every postconf/postfix call after an edit would pay it.
e2e__backdate() {
    touch -m -d "@$(($(date +%s) - 5))" "$@" 2>/dev/null
    return 0
}

# e2e__pf_altdir add|del DIR : add DIR to (or remove it from)
# alternate_config_directories in the default instance's main.cf, keeping
# whatever else is there.  A main.cf this harness had to create is removed
# again once nothing but its marker is left in it.
e2e__pf_altdir() {
    e2e__lock=/run/lock
    [ -d "$e2e__lock" ] || e2e__lock=${TMPDIR:-/tmp}
    e2e__lock=$e2e__lock/modmilter-e2e-postfix.lock
    (
        if command -v flock >/dev/null 2>&1; then
            flock -w 30 9 || exit 1
        fi
        e2e__main=$E2E_PF_DEFAULT_CONF/main.cf
        e2e__marker='# created by the modmilter e2e harness; removed when empty'
        if [ ! -f "$e2e__main" ]; then
            [ "$1" = add ] || exit 0
            mkdir -p "$E2E_PF_DEFAULT_CONF" || exit 1
            printf '%s\n' "$e2e__marker" >"$e2e__main" || exit 1
            e2e__backdate "$e2e__main"
        fi
        e2e__cur=$(postconf -c "$E2E_PF_DEFAULT_CONF" -h \
            alternate_config_directories 2>/dev/null) || :
        e2e__new=
        for e2e__d in $(printf '%s\n' "$e2e__cur" | tr ',' ' '); do
            [ "$e2e__d" = "$2" ] && continue
            e2e__new="${e2e__new:+$e2e__new, }$e2e__d"
        done
        [ "$1" = add ] && e2e__new="${e2e__new:+$e2e__new, }$2"
        if [ -n "$e2e__new" ]; then
            postconf -c "$E2E_PF_DEFAULT_CONF" -e \
                "alternate_config_directories = $e2e__new" || exit 1
            e2e__backdate "$e2e__main"
        else
            postconf -c "$E2E_PF_DEFAULT_CONF" -X alternate_config_directories || :
            e2e__backdate "$e2e__main"
            if [ "$(grep -v '^[[:space:]]*$' "$e2e__main")" = "$e2e__marker" ]; then
                rm -f "$e2e__main"
            fi
        fi
    ) 9>>"$e2e__lock"
}

# pf_conf 'name = value'... : change the private instance's main.cf
# (before pf_start, or followed by pf_reload)
pf_conf() {
    postconf -c "$E2E_PF_CONF" -e "$@" || return 1
    e2e__backdate "$E2E_PF_CONF/main.cf"
}

pf_reload() {
    postfix -c "$E2E_PF_CONF" reload >/dev/null 2>&1
}

# pf_setup : write the private instance's configuration (pf_start calls it;
# call it yourself and then pf_conf to change settings before starting)
pf_setup() {
    [ -f "$E2E_PF_CONF/main.cf" ] && return 0
    mkdir -p "$E2E_PF_CONF" "$E2E_PF_DIR/spool" "$E2E_PF_DIR/data" ||
        e2e_die "mkdir $E2E_PF_DIR"
    chown postfix "$E2E_PF_DIR/data" || e2e_die "chown postfix $E2E_PF_DIR/data"
    chmod 755 "$E2E_PF_DIR" "$E2E_PF_CONF" "$E2E_PF_DIR/spool"

    cat >"$E2E_PF_CONF/main.cf" <<EOF
# Private Postfix instance for modmilter end-to-end tests.
compatibility_level = 3.6
config_directory = $E2E_PF_CONF
queue_directory = $E2E_PF_DIR/spool
data_directory = $E2E_PF_DIR/data
meta_directory = $E2E_PF_DEFAULT_CONF
maillog_file = $E2E_PF_LOG
maillog_file_prefixes = $E2E_DIR
myhostname = mx.example.com
mydomain = example.com
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_transport = error:local delivery is disabled in this test instance
local_recipient_maps =
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$E2E_SINK_PORT
relay_domains = example.com example.net example.org corp.example
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_banner = \$myhostname ESMTP
smtpd_error_sleep_time = 0
in_flow_delay = 0
biff = no
readme_directory = no
# No DNS: everything goes to the literal relayhost.
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_connect_timeout = 5s
# Retry soon when the sink was not up yet.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 5s
# The milter under test.
smtpd_milters = inet:127.0.0.1:$E2E_MILTER_PORT
non_smtpd_milters = \$smtpd_milters
milter_default_action = tempfail
milter_protocol = 6
milter_connect_macros = j {daemon_name} {daemon_addr} v _ {client_addr} {client_name} {client_port}
milter_helo_macros = {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer} {daemon_name} j _
milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}
milter_end_of_data_macros = i
EOF
    if [ -n "${E2E_PF_MAIN_EXTRA-}" ]; then
        printf '%s\n' "$E2E_PF_MAIN_EXTRA" >>"$E2E_PF_CONF/main.cf"
    fi
    e2e__backdate "$E2E_PF_CONF/main.cf"

    # Every service unchrooted: the private queue has no copy of /etc.
    cat >"$E2E_PF_CONF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$E2E_SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    e2e__backdate "$E2E_PF_CONF/master.cf"
}

# pf_start : configure and start the private Postfix; wait for its SMTP port
pf_start() {
    pf_setup
    e2e__pf_altdir add "$E2E_PF_CONF" ||
        e2e_die "cannot add $E2E_PF_CONF to alternate_config_directories in $E2E_PF_DEFAULT_CONF/main.cf"
    E2E_PF_STARTED=1
    if ! postfix -c "$E2E_PF_CONF" start >"$E2E_PF_DIR/start.log" 2>&1; then
        e2e__show "$E2E_PF_DIR/start.log"
        e2e_die "postfix -c $E2E_PF_CONF start failed"
    fi
    wait_port "$E2E_SMTP_PORT" || e2e_die "Postfix does not listen on $E2E_SMTP_PORT"
}

# pf_stop : stop the private Postfix (also done at exit)
pf_stop() {
    [ "$E2E_PF_STARTED" = 1 ] || return 0
    E2E_PF_STARTED=0
    e2e__mpid=
    if [ -f "$E2E_PF_DIR/spool/pid/master.pid" ]; then
        e2e__mpid=$(tr -d ' ' <"$E2E_PF_DIR/spool/pid/master.pid")
    fi
    postfix -c "$E2E_PF_CONF" stop >/dev/null 2>&1 || :
    if [ -n "$e2e__mpid" ]; then
        e2e__i=0
        while kill -0 "$e2e__mpid" 2>/dev/null && [ "$e2e__i" -lt 100 ]; do
            sleep 0.1
            e2e__i=$((e2e__i + 1))
        done
        if kill -0 "$e2e__mpid" 2>/dev/null; then
            postfix -c "$E2E_PF_CONF" abort >/dev/null 2>&1 || :
            kill -KILL "$e2e__mpid" 2>/dev/null || :
        fi
    fi
    e2e__pf_altdir del "$E2E_PF_CONF" || :
    return 0
}

# pf_flush : ask Postfix to deliver whatever is queued
pf_flush() {
    postqueue -c "$E2E_PF_CONF" -f
}

# pf_queue_count : number of messages in the private queue
pf_queue_count() {
    postqueue -c "$E2E_PF_CONF" -j 2>/dev/null | grep -c . || true
}

# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------

# send_mail FROM TO [SWAKS-ARG...] : one SMTP transaction with swaks into the
# private Postfix.  Prints the last SMTP reply code before QUIT (the reply to
# the end of DATA, or to the stage that failed; 000 if the server never
# answered) and returns swaks's exit status (0 ok, 23 MAIL rejected, 24 RCPT,
# 25 DATA, 26 end of DATA; see swaks(1)).  The transcript is in
# $E2E_DIR/swaks/N.out and $E2E_DIR/swaks/last.out, the full last reply line
# in $E2E_DIR/swaks/last.reply (also printed by last_reply).
send_mail() {
    e2e__from=$1
    e2e__to=$2
    shift 2
    mkdir -p "$E2E_DIR/swaks"
    e2e__n=$(find "$E2E_DIR/swaks" -name '[0-9]*.out' | grep -c .) || :
    e2e__out=$E2E_DIR/swaks/$((e2e__n + 1)).out
    e2e__rc=0
    # shellcheck disable=SC2086
    swaks --server 127.0.0.1 --port "$E2E_SMTP_PORT" \
        --from "$e2e__from" --to "$e2e__to" --timeout 60 \
        ${E2E_SWAKS_ARGS-} "$@" >"$e2e__out" 2>&1 || e2e__rc=$?
    cp "$e2e__out" "$E2E_DIR/swaks/last.out"
    # Server lines look like "<-  250 2.0.0 Ok", "<** 550 5.7.1 ...".
    awk '
        /^ *(~|\*)?->  *QUIT/ { quit = 1 }
        !quit && /^<[-~*]+ +[0-9][0-9][0-9]/ { last = $0 }
        END { sub(/^<[-~*]+ +/, "", last); print last }
    ' "$e2e__out" >"$E2E_DIR/swaks/last.reply"
    e2e__code=$(cut -c1-3 "$E2E_DIR/swaks/last.reply")
    case $e2e__code in
    [0-9][0-9][0-9]) ;;
    *) e2e__code=000 ;;
    esac
    printf '%s\n' "$e2e__code"
    return "$e2e__rc"
}

# last_reply : the full last SMTP reply line of the last send_mail
last_reply() {
    cat "$E2E_DIR/swaks/last.reply"
}

# send_local FROM TO [FILE] : submit a message with Postfix's sendmail(1)
# (the pickup path, filtered by non_smtpd_milters).  FILE defaults to a
# small generated message.
send_local() {
    if [ -n "${3-}" ]; then
        sendmail -C "$E2E_PF_CONF" -f "$1" -- "$2" <"$3"
    else
        printf 'From: <%s>\nTo: <%s>\nSubject: local submission\n\nHello.\n' \
            "$1" "$2" | sendmail -C "$E2E_PF_CONF" -f "$1" -- "$2"
    fi
}
