# Shared by the mime plugin's tests: build fixtures and messages, run a
# message through modmilter-test with the mime plugin followed by a
# plugin that dumps what it sees, and compare original and result part
# by part. Sourced after tests/lib.sh.
MKFIXTURE="$top_builddir/tests/mime/mkfixture"
VERIFY="$top_builddir/tests/mime/mime-verify"
DUMPPLUG="$top_builddir/tests/mime/.libs/dumpplug.so"
[ -f "$PLUGINS/mime.so" ] || { echo "SKIP: the mime plugin is not built"; exit 77; }
[ -x "$MKFIXTURE" ] && [ -x "$VERIFY" ] && [ -f "$DUMPPLUG" ] ||
	{ echo "SKIP: test programs not built (make check builds them)"; exit 77; }
need_cmd base64

tmp=$(mktemp -d /tmp/mmmime.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

# mime_config 'OPTIONS' : the mime instance with these options, then dump
mime_config() {
	mkdir -p "$tmp/saved"
	cat > "$tmp/c.yaml" <<EOC
plugin_dir: $PLUGINS
log: { level: warning }
plugins:
  mime: { module: mime, options: { save_dir: ${SAVE_DIR:-$tmp/saved}${1:+, $1} } }
  dump: { module: $DUMPPLUG, options: { file: $tmp/out.eml } }
chains:
  - name: all
    plugins: [mime, dump]
EOC
}

# part FILE 'CONTENT-TYPE VALUE' ['CONTENT-DISPOSITION VALUE'] : one
# base64 part on stdout
part() {
	printf 'Content-Type: %s\n' "$2"
	[ -n "${3-}" ] && printf 'Content-Disposition: %s\n' "$3"
	printf 'Content-Transfer-Encoding: base64\n\n'
	base64 < "$1"
}

# attach FILE NAME : a part for FILE named NAME, both ways
attach() {
	part "$1" "application/octet-stream; name=\"$2\"" "attachment; filename=\"$2\""
}

# mkmsg OUT : multipart/mixed with a text part and the parts read from
# stdin, each introduced by a line "--PART--"
mkmsg() {
	awk -v b="=_mime_test_boundary" '
	BEGIN {
		print "From: Alice <alice@example.org>"
		print "To: Bob <bob@example.com>"
		print "Subject: test message"
		print "Date: Wed, 5 Mar 2025 06:00:05 +0000"
		print "Message-ID: <test@example.org>"
		print "MIME-Version: 1.0"
		print "Content-Type: multipart/mixed; boundary=\"" b "\""
		print ""
		print "This is a multi-part message in MIME format."
		print "--" b
		print "Content-Type: text/plain; charset=us-ascii"
		print ""
		print "Hello Bob, the files you asked for."
	}
	/^--PART--$/ { print "--" b; next }
	{ print }
	END { print "--" b "--"; print "" }' > "$1"
}

# check NAME WANT-EXIT MESSAGE PATTERN... : modmilter-test exit status
# and output lines (ERE); "!PATTERN" must not match
check() {
	name=$1 want=$2 msg=$3
	shift 3
	rm -f "$tmp/out.eml" "$tmp/out.eml.facts" "$tmp"/saved/*
	"$MODMILTER_TEST" -c "$tmp/c.yaml" --from "${FROM:-alice@example.org}" \
		--rcpt "${RCPT:-bob@example.com}" "$msg" > "$tmp/result" 2>&1
	rc=$?
	ok=1
	[ "$rc" = "$want" ] || { echo "  exit $rc, wanted $want"; ok=0; }
	for p in "$@"; do
		case $p in
		!*) if grep -qE -- "${p#!}" "$tmp/result"; then echo "  unexpected: ${p#!}"; ok=0; fi ;;
		*) grep -qE -- "$p" "$tmp/result" || { echo "  missing: $p"; ok=0; } ;;
		esac
	done
	result "$name" $ok "$tmp/result"
}

# verify NAME PATTERN... : the saved original (or, when none was saved,
# the input MESSAGE of the last check) against what the next plugin saw
verify() {
	name=$1
	shift
	orig=$(ls "$tmp"/saved/*.eml 2>/dev/null | head -n 1)
	[ -n "$orig" ] || orig=$msg
	ok=1
	if [ ! -f "$tmp/out.eml" ]; then
		echo "  no message reached the next plugin"
		ok=0
	elif ! "$VERIFY" "$orig" "$tmp/out.eml" > "$tmp/verify" 2>&1; then
		ok=0
	fi
	for p in "$@"; do
		case $p in
		!*) if grep -qE -- "${p#!}" "$tmp/verify"; then echo "  unexpected: ${p#!}"; ok=0; fi ;;
		*) grep -qE -- "$p" "$tmp/verify" || { echo "  missing: $p"; ok=0; } ;;
		esac
	done
	result "$name (re-parsed)" $ok "$tmp/verify"
}

# facts PATTERN... : the facts the next plugin saw
facts() {
	ok=1
	for p in "$@"; do
		grep -qE -- "$p" "$tmp/out.eml.facts" 2>/dev/null || { echo "  missing fact: $p"; ok=0; }
	done
	result "$name (facts)" $ok "$tmp/out.eml.facts"
}

result() {
	if [ "$2" = 1 ]; then
		echo "PASS: $1"
		passes=$((passes + 1))
	else
		echo "FAIL: $1"
		sed 's/^/    /' "$3" 2>/dev/null | head -n 40
		fails=$((fails + 1))
	fi
}

finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" -eq 0 ]
}
