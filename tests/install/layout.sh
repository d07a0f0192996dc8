#!/bin/sh
# make install DESTDIR=TMP from the build tree, then the layout: binaries;
# the enabled plugins without .la files, no hello.so and no test plugin;
# the configuration, kept over a second install; one valid example per
# plugin; man pages with the configured directories (and no @var@ left,
# no /usr/local unless the prefix is there); modmilter.yaml(5); the SDK
# and the hello example; the systemd files; make uninstall leaves an
# edited configuration alone.
# Works in a plain build and under make distcheck (the install goes to a
# DESTDIR of its own; the build tree is only read).
. "${top_srcdir:-.}/tests/lib.sh"
tmp=$(mktemp -d /tmp/mmlayout.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

cd "$top_builddir" || exit 1
MAKE=${MAKE:-make}
# our makes are not the suite's: no jobserver, no "Entering directory"
unset MAKEFLAGS MFLAGS MAKELEVEL
# the configured directories, expanded as make expands them
printf '%s\n' 'mm-layout-dirs:' \
	'	@echo "prefix=$(prefix) bindir=$(bindir) sbindir=$(sbindir) sysconfdir=$(sysconfdir)"' \
	'	@echo "localstatedir=$(localstatedir) pkglibdir=$(pkglibdir) pkgdatadir=$(pkgdatadir)"' \
	'	@echo "docdir=$(docdir) mandir=$(mandir) includedir=$(includedir) pkgconfigdir=$(pkgconfigdir) libdir=$(libdir)"' \
	'	@echo "systemdsystemunitdir=$(systemdsystemunitdir) sysusersdir=$(sysusersdir) tmpfilesdir=$(tmpfilesdir)"' \
	'	@echo "plugins=\"$(pkglib_LTLIBRARIES)\" bins=\"$(bin_PROGRAMS)\""' > "$tmp/dirs.mk"
dirs=$($MAKE -s --no-print-directory -f Makefile -f "$tmp/dirs.mk" mm-layout-dirs | grep '^[a-z]*=') ||
	{ echo "FAIL cannot read the configured directories"; exit 1; }
eval "$dirs"
echo "prefix=$prefix sysconfdir=$sysconfdir pkglibdir=$pkglibdir"

D=$tmp/root
$MAKE -s install DESTDIR="$D" > "$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; echo "FAIL make install"; exit 1; }

# --- binaries ---
check "sbin: modmilterd" test -x "$D$sbindir/modmilterd"
for b in $bins; do
	b=${b%"$EXEEXT"}
	check "bin: $b" test -x "$D$bindir/$b"
done

# --- plugins ---
[ -n "$plugins" ] || bad "no plugin enabled"
for la in $plugins; do
	check "plugin: ${la%.la}.so" test -f "$D$pkglibdir/${la%.la}.so"
done
check "no .la in the plugin directory" test -z "$(find "$D$pkglibdir" -name '*.la')"
check "no hello.so among the plugins" test ! -e "$D$pkglibdir/hello.so"
check "no test plugin installed" \
	test -z "$(find "$D" \( -name 'testplug*' -o -name 'badabi*' -o -name 'msgplug*' -o -name 'endplug*' -o -name 'sdkold*' -o -name 'sdkfuture*' -o -name 'sdkshort*' -o -name 'dumpplug*' -o -name '*.la' \))"
check "nothing else in the plugin directory" \
	test "$(find "$D$pkglibdir" -type f | wc -l)" -eq "$(echo $plugins | wc -w)"

# --- configuration and examples ---
conf=$D$sysconfdir/modmilter/modmilter.yaml
check "configuration installed" cmp -s "$top_srcdir/etc/modmilter.yaml" "$conf"
for p in modmilter spf cbv wiretap mime dspam srs policy; do
	check "example: $p.yaml" test -s "$D$docdir/examples/$p.yaml"
done
# each example a valid configuration for the installed daemon and plugins
# (its directories moved below TMP); plugins are only loaded from files
# root owns, so this part runs as root
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$tmp/state/store" "$tmp/state/mime-saved"
	# srs reads its secret from a file only its user may read
	(umask 077 && echo "layout test secret" > "$tmp/state/srs.secret")
	for la in $plugins; do
		p=${la%.la}
		sed -e "s|/var/lib/modmilter|$tmp/state|g" -e "s|/run/modmilter|$tmp/state|g" \
			-e "s|/etc/modmilter/srs.secret|$tmp/state/srs.secret|" \
			"$D$docdir/examples/$p.yaml" > "$tmp/$p.yaml"
		if "$D$sbindir/modmilterd" -t -c "$tmp/$p.yaml" -P "$D$pkglibdir" > "$tmp/t.log" 2>&1; then
			ok "example $p.yaml: modmilterd -t"
		else
			cat "$tmp/t.log"; bad "example $p.yaml: modmilterd -t"
		fi
	done
else
	echo "SKIP modmilterd -t of the examples: needs root (plugin ownership)"
fi

echo "# local change $$" >> "$conf"
$MAKE -s install DESTDIR="$D" > "$tmp/install2.log" 2>&1 ||
	{ cat "$tmp/install2.log"; bad "second make install"; }
check "an existing configuration is not overwritten" grep -q "^# local change $$\$" "$conf"

# --- man pages ---
for m in man8/modmilterd.8 man5/modmilter.yaml.5 man1/modmilter-test.1 man1/modmilter-bench.1; do
	check "man page $m" test -s "$D$mandir/$m"
done
for b in $bins; do
	b=${b%"$EXEEXT"}
	check "man page for $b" test -s "$D$mandir/man1/$b.1"
done
check "modmilterd.8 names $sysconfdir/modmilter/modmilter.yaml" \
	grep -qF "$sysconfdir/modmilter/modmilter.yaml" "$D$mandir/man8/modmilterd.8"
check "modmilterd.8 names $pkglibdir" grep -qF "$pkglibdir/" "$D$mandir/man8/modmilterd.8"
check "modmilter.yaml.5 names $sysconfdir/modmilter/modmilter.yaml" \
	grep -qF "$sysconfdir/modmilter/modmilter.yaml" "$D$mandir/man5/modmilter.yaml.5"
check "modmilter.yaml.5 names $pkglibdir" grep -qF "$pkglibdir" "$D$mandir/man5/modmilter.yaml.5"
check "modmilter.yaml.5 is a man page" grep -q '^\.TH MODMILTER\.YAML 5 ' "$D$mandir/man5/modmilter.yaml.5"
check "no @dir@ left in the man pages" \
	test -z "$(grep -lE '@[a-z]+dir@' "$D$mandir"/man*/* 2>/dev/null)"
case "$prefix$sysconfdir$localstatedir$pkglibdir" in
*/usr/local*) echo "(/usr/local is configured: not looked for)" ;;
*) check "no /usr/local in the man pages" \
	test -z "$(grep -l /usr/local "$D$mandir"/man*/* 2>/dev/null)" ;;
esac
if command -v groff >/dev/null 2>&1; then
	for f in "$D$mandir"/man*/*; do
		w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" 2>&1)
		check "groff has nothing to say about ${f##*/}" test -z "$w"
		[ -z "$w" ] || echo "$w"
	done
fi

# --- SDK, example plugin, systemd ---
check "SDK header" test -f "$D$includedir/modmilter/plugin.h"
check "SDK store header" test -f "$D$includedir/modmilter/store.h"
check "modmilter.pc" test -f "$D$pkgconfigdir/modmilter.pc"
check "helper library headers" test -f "$D$includedir/modmilter/util.h" -a \
	-f "$D$includedir/modmilter/strbuf.h" -a -f "$D$includedir/modmilter/durable.h"
check "modmilter-util.pc" test -f "$D$pkgconfigdir/modmilter-util.pc"
check "helper library: the archive, no .la" test -f "$D$libdir/libmodmilter-util.a" -a \
	! -e "$D$libdir/libmodmilter-util.la"
check "hello example sources" test -f "$D$pkgdatadir/examples/hello/hello.c" -a \
	-f "$D$pkgdatadir/examples/hello/Makefile"
if command -v pkg-config > /dev/null 2>&1; then
	# the example, out of tree, against the headers as installed
	# (plugin.h and the store.h it includes) and nothing else
	mkdir "$tmp/hello"
	cp "$D$pkgdatadir/examples/hello/hello.c" "$D$pkgdatadir/examples/hello/Makefile" "$tmp/hello/"
	check "hello builds against the installed SDK headers" sh -c \
		"PKG_CONFIG_PATH='$D$pkgconfigdir' $MAKE -s -C '$tmp/hello' \
		PKG_CONFIG='pkg-config --define-variable=prefix=$D$prefix' > '$tmp/hello.log' 2>&1 &&
		nm -D '$tmp/hello/hello.so' | grep -q mm_plugin_descriptor" ||
		cat "$tmp/hello.log"
fi
if [ "$systemdsystemunitdir" != no ]; then
	check "modmilterd.service" grep -qF "ExecStart=$sbindir/modmilterd -f -c $sysconfdir/modmilter/modmilter.yaml" \
		"$D$systemdsystemunitdir/modmilterd.service"
fi
[ "$sysusersdir" = no ] || check "sysusers.d/modmilter.conf" grep -q '^u modmilter ' "$D$sysusersdir/modmilter.conf"
[ "$tmpfilesdir" = no ] || check "tmpfiles.d/modmilter.conf" grep -q '^d /run/modmilter ' "$D$tmpfilesdir/modmilter.conf"

# --- uninstall: the edited configuration stays, the rest goes ---
$MAKE -s uninstall DESTDIR="$D" > "$tmp/uninstall.log" 2>&1 ||
	{ cat "$tmp/uninstall.log"; bad "make uninstall"; }
check "uninstall keeps an edited configuration" test -f "$conf"
rm -f "$conf"
left=$(find "$D" -type f)
check "uninstall removes everything else" test -z "$left"
[ -z "$left" ] || echo "$left"

echo "$fails failure(s)"
[ "$fails" = 0 ]
