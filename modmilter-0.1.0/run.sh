#!/bin/sh
# Install what is missing, build, and run modmilterd in the foreground
# on inet:8890@127.0.0.1 with etc/modmilter.yaml.
set -e
cd "$(dirname "$0")"
. ./scripts/deps.sh
# shellcheck disable=SC2086
deps_install $BUILD_PKGS
build_tree
exec ./modmilterd -f -c etc/modmilter.yaml -P "$PWD/.libs" "$@"
