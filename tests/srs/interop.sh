#!/bin/sh
# modmilter-srs against pysrs and Mail::SRS, both ways (tests/srs/interop.py
# holds the table). Skips without Debian's python3-srs or libmail-srs-perl.
. "${top_srcdir:-.}/tests/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 not installed"; exit 77; }
perl -MMail::SRS -e 1 2>/dev/null || { echo "SKIP: Mail::SRS (libmail-srs-perl) not installed"; exit 77; }
# Debian's python, whatever python3 comes first in PATH: pysrs lives there
exec /usr/bin/python3 "$top_srcdir/tests/srs/interop.py" "$top_builddir/modmilter-srs"
