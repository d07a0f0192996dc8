#!/bin/sh
# Install what is missing, build, create the modmilter user and its
# directories, and run modmilterd in the foreground with the default
# configuration (etc/modmilter.yaml: spf, cbv, mime and dspam on
# inet:8890@127.0.0.1).
set -e
cd "$(dirname "$0")"
. ./scripts/deps.sh
# shellcheck disable=SC2086
deps_install $BUILD_PKGS
build_tree
./scripts/setup-state.sh
# the plugins from the build tree; the modmilter user must be able to
# reach them (the build tree's directories are not writable by others)
exec ./modmilterd -f -c etc/modmilter.yaml -P "$PWD/.libs" "$@"
