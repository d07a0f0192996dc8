#!/bin/sh
# The SPF community's test suites (RFC 7208: 203 cases, RFC 4408: 191)
# run through the spf plugin's evaluator (tests/spf/conformance.c).
# Cases expected to fail are listed, with the reason, in
# tests/spf/KNOWN-FAILURES; any other failure fails this test.
# The suites are read from ../shared/conformance/spf (or $SPF_SUITE_DIR).
. "${top_srcdir:-.}/tests/lib.sh"
dir=
for d in ${SPF_SUITE_DIR:+"$SPF_SUITE_DIR"} "$top_srcdir/../shared/conformance/spf" \
    "$top_srcdir/../../shared/conformance/spf" "$top_srcdir/../../../shared/conformance/spf"; do
	if [ -f "$d/rfc7208-tests.yml" ] && [ -f "$d/rfc4408-tests.yml" ]; then
		dir=$d
		break
	fi
done
[ -n "$dir" ] || { echo "SKIP: SPF test suites not found (../shared/conformance/spf)"; exit 77; }
set --
[ -f "$top_srcdir/tests/spf/KNOWN-FAILURES" ] && set -- -k "$top_srcdir/tests/spf/KNOWN-FAILURES"
out=$("$top_builddir/tests/spf/test_spf_conformance" "$@" "$dir/rfc7208-tests.yml" "$dir/rfc4408-tests.yml")
rc=$?
printf '%s\n' "$out"
# a truncated or different suite must not pass unnoticed
printf '%s\n' "$out" | grep -q '^rfc7208-tests.yml: 203 cases' || { echo "FAIL: rfc7208 suite: not 203 cases"; rc=1; }
printf '%s\n' "$out" | grep -q '^rfc4408-tests.yml: 191 cases' || { echo "FAIL: rfc4408 suite: not 191 cases"; rc=1; }
exit $rc
