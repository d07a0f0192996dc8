# Sourced by run.sh and test.sh: install the Debian packages that are
# missing, with one apt-get update at most. Needs root (or sudo).
BUILD_PKGS="build-essential autoconf automake libtool libtool-bin pkg-config
 libmilter-dev libltdl-dev libyaml-dev liblmdb-dev libspf2-dev libgmime-3.0-dev libarchive-dev libhiredis-dev
 libsystemd-dev libmicrohttpd-dev libssl-dev"
TEST_PKGS="curl libcmocka-dev miltertest postfix swaks lmdb-utils nsd iproute2 clang libclang-rt-14-dev bogofilter-bdb redis-server
 debhelper lintian fakeroot dpkg-dev pysrs-bin libmail-srs-perl valgrind"
# only for the benchmarks (tests/dspam/accuracy.py plots with matplotlib)
BENCH_PKGS="python3-matplotlib"

deps_install() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	SUDO=
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	# postfix must not configure itself as the system MTA
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
}

# configure once, then build
build_tree() {
	[ -x configure ] || autoreconf -fi
	[ -f Makefile ] || ./configure "$@"
	make -j"$(nproc)"
}
