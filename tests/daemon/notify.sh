#!/bin/sh
# sd_notify as systemd's Type=notify sees it, with a fake NOTIFY_SOCKET:
# READY=1 once listening, RELOADING=1 then READY=1 around a reload,
# STATUS with the counts, STOPPING=1 at SIGTERM, exit 0.
. "${top_srcdir:-.}/tests/lib.sh"
need_cmd python3
grep -q '^#define HAVE_SYSTEMD 1' "$top_builddir/config.h" 2>/dev/null ||
	{ echo "SKIP: built without libsystemd"; exit 77; }
tmp=$(mktemp -d /tmp/mmnotify.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/c.yaml" <<EOC
listen: unix:$tmp/m.sock
plugin_dir: $PLUGINS
store: $tmp/store
plugins:
  hello: { module: hello, options: { greeting: hi } }
EOC
python3 - "$MODMILTERD" "$tmp" <<'EOP'
import os, signal, socket, subprocess, sys, time
daemon, tmp = sys.argv[1], sys.argv[2]
path = os.path.join(tmp, "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(15)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([daemon, "-f", "-c", os.path.join(tmp, "c.yaml")], env=env,
                     stderr=open(os.path.join(tmp, "log"), "w"))
fails = 0
def expect(what):
    global fails
    end = time.time() + 15
    seen = []
    while time.time() < end:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            break
        seen.append(m)
        if what in m.split("\n"):
            print("PASS", what)
            return m
    print("FAIL", what, "not received; got", seen)
    fails += 1
    return None
def status():
    global fails
    end = time.time() + 15
    while time.time() < end:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            break
        for l in m.split("\n"):
            if l.startswith("STATUS=") and "messages answered" in l:
                print("PASS", l)
                return
    print("FAIL no STATUS with counts")
    fails += 1
expect("READY=1")
status()
p.send_signal(signal.SIGUSR1)
expect("RELOADING=1")
expect("READY=1")
p.send_signal(signal.SIGTERM)
expect("STOPPING=1")
rc = p.wait(timeout=20)
print("PASS exit 0" if rc == 0 else "FAIL exit %d" % rc)
fails += rc != 0
sys.exit(1 if fails else 0)
EOP
rc=$?
[ $rc = 0 ] || cat "$tmp/log"
exit $rc
