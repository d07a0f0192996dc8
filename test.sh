#!/bin/sh
# Install what is missing, build, and run the whole suite: unit tests,
# modmilter-test cases, miltertest protocol scripts, Postfix end to end,
# libFuzzer targets (20 s each).
# Then make distcheck, which builds the release tarball out of tree with
# AddressSanitizer and UBSan, runs the same suite again, installs it and
# builds the example plugin against the installed SDK. MM_TEST_DEB=1 also
# builds, lintians, installs and purges the Debian packages (make check-deb).
set -e
cd "$(dirname "$0")"
. ./scripts/deps.sh
# shellcheck disable=SC2086
deps_install $BUILD_PKGS $TEST_PKGS
umask 022
build_tree
make -j"$(nproc)" check || { cat test-suite.log; exit 1; }
# the fuzz targets ran 20 s each in the check above; distcheck only
# builds them and replays their seeds and crashers
FUZZ_SECONDS=0 make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-asan --enable-ubsan" ||
	{ find modmilter-*/_build -name test-suite.log -exec cat {} + 2>/dev/null; exit 1; }
# the Debian packages (minutes; installs them here and purges them): on demand
if [ "${MM_TEST_DEB:-0}" = 1 ]; then
	make check-deb
fi
echo "all tests passed"
