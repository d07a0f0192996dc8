#!/bin/bash
# The Debian packages, end to end, on this machine (make check-deb; not
# part of make check: it takes minutes and installs system-wide):
# dpkg-buildpackage -b in a scratch copy of the tree (make distdir);
# lintian without errors; the packages' contents; dpkg -i; the user and
# directories the postinst makes; modmilterd -t on the conffile; the daemon
# started detached, listening, stopped; the hello example built against
# the installed SDK; dpkg --purge leaves nothing behind. Needs root and
# the packages of scripts/deps.sh (debhelper, lintian). An existing
# /var/lib/modmilter or /run/modmilter (a build tree's ./run.sh) is saved
# and put back after the purge. MM_DEB_KEEP=1 keeps the scratch directory.
. "${top_srcdir:-.}/tests/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg -i)"; exit 77; }
need_cmd dpkg-buildpackage dh lintian ss
if dpkg-query -W -f '${Status}' modmilter 2>/dev/null | grep -q "ok installed"; then
	echo "SKIP: a modmilter package is installed here already; not touched"
	exit 77
fi
tmp=$(mktemp -d /tmp/mmdeb.XXXXXX)
chmod 755 "$tmp"
installed=
cleanup() {
	[ -s /run/modmilter/modmilterd.pid ] && [ -n "$installed" ] &&
		kill "$(cat /run/modmilter/modmilterd.pid)" 2>/dev/null
	[ -n "$installed" ] && dpkg --purge modmilter-dev modmilter > /dev/null 2>&1
	for d in /var/lib/modmilter /run/modmilter; do
		if [ -d "$tmp/saved$d" ] && [ ! -e "$d" ]; then
			cp -a "$tmp/saved$d" "$d"
		fi
	done
	if [ -n "$MM_DEB_KEEP" ]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fails=0
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

cd "$top_builddir" || exit 1
version=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
src=$tmp/modmilter-$version
make -s distdir distdir="$src" top_distdir="$src" > "$tmp/distdir.log" 2>&1 ||
	{ cat "$tmp/distdir.log"; echo "FAIL make distdir"; exit 1; }

# --- the postinst where systemd-sysusers is missing: adduser --system ---
mkdir "$tmp/fakebin"
printf '#!/bin/sh\nexit 2\n' > "$tmp/fakebin/getent"
printf '#!/bin/sh\necho "adduser $*" >> %s/calls\n' "$tmp" > "$tmp/fakebin/adduser"
printf '#!/bin/sh\necho "install $*" >> %s/calls\n' "$tmp" > "$tmp/fakebin/install"
chmod +x "$tmp"/fakebin/*
PATH=$tmp/fakebin /bin/sh "$top_srcdir/debian/modmilter.postinst" configure
check "postinst without systemd-sysusers runs adduser --system" \
	grep -q '^adduser --system --group --home /var/lib/modmilter .*modmilter$' "$tmp/calls"

# --- build ---
echo "dpkg-buildpackage -b -us -uc (log: $tmp/build.log while it runs)"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -b -us -uc) > "$tmp/build.log" 2>&1 ||
	{ tail -40 "$tmp/build.log"; echo "FAIL dpkg-buildpackage"; exit 1; }
ok "dpkg-buildpackage -b -us -uc"
grep -E '^dpkg-deb: building' "$tmp/build.log"
deb=$(ls "$tmp"/modmilter_"$version"_*.deb)
devdeb=$(ls "$tmp"/modmilter-dev_"$version"_*.deb)
changes=$(ls "$tmp"/modmilter_"$version"_*.changes)

# --- lintian ---
lintian -I --pedantic --tag-display-limit 0 "$changes" > "$tmp/lintian.log" 2>&1
echo "lintian:"
sed 's/^/  /' "$tmp/lintian.log"
check "lintian: no errors" test -z "$(grep '^E:' "$tmp/lintian.log")"
echo "lintian: $(grep -c '^E:' "$tmp/lintian.log") errors, $(grep -c '^W:' "$tmp/lintian.log") warnings"

# --- contents ---
dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$tmp/files"
dpkg -c "$devdeb" | awk '{print $6}' | sed 's|^\./|/|' > "$tmp/devfiles"
for f in files devfiles; do
	echo "$(basename "$([ $f = files ] && echo "$deb" || echo "$devdeb")"): $(grep -cv '/$' "$tmp/$f") files"
	grep -v '/$' "$tmp/$f" | sed 's/^/  /'
done
has() { grep -qxE "$2" "$tmp/$1"; }
for f in /usr/sbin/modmilterd /usr/bin/modmilter-test /usr/bin/modmilter-bench \
	/usr/bin/modmilter-cbv /usr/bin/modmilter-dspam /usr/bin/modmilter-srs /usr/bin/modmilter-policy \
	/etc/modmilter/modmilter.yaml '/usr/share/doc/modmilter/plugins/policy\.md(\.gz)?' \
	/lib/systemd/system/modmilterd.service /usr/lib/sysusers.d/modmilter.conf \
	/usr/lib/tmpfiles.d/modmilter.conf /usr/share/man/man8/modmilterd.8.gz \
	/usr/share/man/man5/modmilter.yaml.5.gz /usr/share/doc/modmilter/examples/spf.yaml \
	/usr/share/modmilter/cbv/softfail; do
	check "modmilter has $f" has files "$f"
done
for p in spf cbv wiretap mime dspam srs policy; do
	check "modmilter has plugin $p.so" has files "/usr/lib/[^/]+/modmilter/$p\.so"
done
check "modmilter: no .la, no hello.so" test -z "$(grep -E '\.la$|hello\.so$' "$tmp/files")"
for f in /usr/include/modmilter/plugin.h /usr/include/modmilter/store.h '/usr/lib/[^/]+/pkgconfig/modmilter\.pc' \
	/usr/include/modmilter/util.h '/usr/lib/[^/]+/pkgconfig/modmilter-util\.pc' \
	'/usr/lib/[^/]+/libmodmilter-util\.a' \
	'/usr/lib/[^/]+/pkgconfig/modmilter-host\.pc' '/usr/lib/[^/]+/libmodmilter-host\.a' \
	'/usr/share/doc/modmilter-dev/fuzzing\.md(\.gz)?' \
	'/usr/share/doc/modmilter-dev/plugin-guide\.md(\.gz)?' /usr/share/modmilter/examples/hello/hello.c \
	/usr/share/modmilter/examples/hello/Makefile; do
	check "modmilter-dev has $f" has devfiles "$f"
done
check "the configuration is a conffile" \
	sh -c "dpkg-deb -I '$deb' conffiles | grep -qx /etc/modmilter/modmilter.yaml"
dpkg-deb -x "$deb" "$tmp/x"
man8=$(zcat "$tmp/x/usr/share/man/man8/modmilterd.8.gz")
check "modmilterd.8: /etc/modmilter/modmilter.yaml" grep -qF /etc/modmilter/modmilter.yaml <<< "$man8"
check "man pages: no /usr/local" \
	test -z "$(zgrep -l /usr/local "$tmp"/x/usr/share/man/man*/*.gz)"

# --- install ---
for d in /var/lib/modmilter /run/modmilter; do
	[ -d "$d" ] && mkdir -p "$tmp/saved$(dirname $d)" && cp -a "$d" "$tmp/saved$d"
done
spool_before=$([ -e /var/spool/postfix/modmilter ] && echo yes)
installed=yes
if dpkg -i "$deb" "$devdeb" > "$tmp/dpkg.log" 2>&1; then
	ok "dpkg -i"
else
	cat "$tmp/dpkg.log"; bad "dpkg -i"
fi
check "user modmilter" getent passwd modmilter
for d in /var/lib/modmilter /var/lib/modmilter/store /var/lib/modmilter/mime-saved /run/modmilter; do
	check "$d is modmilter:modmilter 0750" \
		test "$(stat -c '%U:%G %a' "$d" 2>/dev/null)" = "modmilter:modmilter 750"
done
check "plugin directory is root's, not writable by others" \
	sh -c 'for f in /usr/lib/*/modmilter /usr/lib/*/modmilter/*.so; do
		[ "$(stat -c %U "$f")" = root ] && [ "$(stat -c %A "$f" | cut -c6,9)" = "--" ] || exit 1
	done'
if /usr/sbin/modmilterd -t -c /etc/modmilter/modmilter.yaml > "$tmp/t.log" 2>&1; then
	ok "modmilterd -t -c /etc/modmilter/modmilter.yaml: $(cat "$tmp/t.log")"
else
	cat "$tmp/t.log"; bad "modmilterd -t -c /etc/modmilter/modmilter.yaml"
fi

# a port nobody listens on; the shipped configuration with only -l changed
port=$((20000 + $$ % 20000))
while ss -ltnH "sport = :$port" | grep -q .; do port=$((port + 1)); done
if /usr/sbin/modmilterd -c /etc/modmilter/modmilter.yaml -l "inet:$port@127.0.0.1" > "$tmp/start.log" 2>&1; then
	ok "modmilterd started detached"
else
	cat "$tmp/start.log"; bad "modmilterd started detached"
fi
check "it listens on 127.0.0.1:$port" sh -c "ss -ltnH 'sport = :$port' | grep -q ."
pid=$(cat /run/modmilter/modmilterd.pid 2>/dev/null)
check "it runs as modmilter" test "$(ps -o user= -p "${pid:-0}" 2>/dev/null)" = modmilter
check "modmilterd -S" sh -c "/usr/sbin/modmilterd -S -c /etc/modmilter/modmilter.yaml > /dev/null"
kill "${pid:-0}" 2>/dev/null
i=0
while kill -0 "${pid:-0}" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
check "SIGTERM stops it" sh -c "! kill -0 ${pid:-0} 2>/dev/null"

# the example plugin against the installed SDK
cp -r /usr/share/modmilter/examples/hello "$tmp/hello"
check "hello builds against the installed SDK" \
	sh -c "make -s -C '$tmp/hello' > '$tmp/hello.log' 2>&1 && nm -D '$tmp/hello/hello.so' | grep -q mm_plugin_descriptor"

# --- purge ---
if dpkg --purge modmilter-dev modmilter > "$tmp/purge.log" 2>&1; then
	ok "dpkg --purge"
else
	cat "$tmp/purge.log"; bad "dpkg --purge"
fi
installed=
for f in /usr/sbin/modmilterd /etc/modmilter /var/lib/modmilter /run/modmilter \
	/usr/include/modmilter /lib/systemd/system/modmilterd.service; do
	check "purged: $f" test ! -e "$f"
done
[ -n "$spool_before" ] || check "purged: /var/spool/postfix/modmilter" test ! -e /var/spool/postfix/modmilter

echo "$fails failure(s)"
[ "$fails" = 0 ]
