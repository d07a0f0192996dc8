#!/bin/sh
# End to end: swaks -> Postfix -> modmilterd (mime) -> smtp-sink.
# The delivered message has the notice instead of the executable and
# every other part as sent; the saved original is byte for byte the
# message as sent (CRLF line ends, as on the wire).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
VERIFY="$top_builddir/tests/mime/mime-verify"
[ -f "$PLUGINS/mime.so" ] || skip "the mime plugin is not built"
[ -x "$VERIFY" ] || skip "tests/mime/mime-verify is not built"
skip_unless_root
skip_unless_cmd postfix smtp-sink swaks base64 cmp
e2e_init
mkdir -p "$E2E_DIR/saved"
chmod 700 "$E2E_DIR/saved"
cat > "$E2E_DIR/modmilter.yaml" <<EOC
plugin_dir: $PLUGINS
store: $E2E_DIR/store
plugins:
  mime: { module: mime, options: { save_dir: $E2E_DIR/saved } }
chains:
  - name: inbound
    plugins: [mime]
EOC

# The message: folded fields, a field with a tab after the colon, one
# with two spaces, an empty one; a text part, an executable, a PDF.
printf 'MZ\220\000\003\000\000\000\004\000\000\000\377\377\000\000\270' > "$E2E_DIR/tool.bin"
printf '%%PDF-1.4\n%% report\n' > "$E2E_DIR/report.pdf"
{
	printf 'From: Alice <alice@example.org>\n'
	printf 'To: Bob <bob@example.com>\n'
	printf 'Subject: the tool you asked for,\n\tand the report\n'
	printf 'Date: Wed, 5 Mar 2025 06:00:05 +0000\n'
	printf 'Message-ID: <e2e-mime@example.org>\n'
	printf 'X-Tab:\ttab after the colon\n'
	printf 'X-Spaces:  two spaces\n'
	printf 'X-Empty:\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: multipart/mixed;\n boundary="=_b1"\n\n'
	printf 'Preamble.\n--=_b1\nContent-Type: text/plain; charset=us-ascii\n\nHi Bob,\n.leading dot\n\n--=_b1\n'
	printf 'Content-Type: application/octet-stream; name="tool.exe"\n'
	printf 'Content-Disposition: attachment; filename="tool.exe"\nContent-Transfer-Encoding: base64\n\n'
	base64 < "$E2E_DIR/tool.bin"
	printf -- '--=_b1\nContent-Type: application/pdf; name="report.pdf"\nContent-Transfer-Encoding: base64\n\n'
	base64 < "$E2E_DIR/report.pdf"
	printf -- '--=_b1--\nEpilogue.\n'
} > "$E2E_DIR/sent.eml"
sed 's/$/\r/' "$E2E_DIR/sent.eml" > "$E2E_DIR/sent.crlf"
# swaks ends DATA with CRLF "." CRLF after what it is given: hand it the
# text without its last newline so that the wire carries sent.eml exactly
head -c -1 "$E2E_DIR/sent.eml" > "$E2E_DIR/data.txt"

sink_start
e2e_start_modmilterd modmilterd "$E2E_DIR/modmilter.yaml" ||
	e2e_die "modmilterd did not start"
pf_start

rc=0; code=$(send_mail alice@example.org bob@example.com --data "@$E2E_DIR/data.txt") || rc=$?
assert_eq "$code" 250 "message accepted"
wait_sink_count 1 30
f=$(sink_last)
assert_grep '^X-Modmilter-Mime: removed 1 attachment, original saved as ' "$f" "record field"
assert_grep 'tool.exe \(banned file name extension .exe\)' "$f" "record names the file"
assert_grep 'filename="WARNING.TXT"' "$f" "notice part delivered"
assert_not_grep "$(base64 < "$E2E_DIR/tool.bin" | head -n 1)" "$f" "executable not delivered"
if "$VERIFY" "$E2E_DIR/sent.eml" "$f" > "$E2E_DIR/verify.log" 2>&1; then
	pass "delivered message re-parsed: structure and other parts intact"
else
	fail "delivered message re-parsed"
	e2e__show "$E2E_DIR/verify.log"
fi
assert_grep '^replaced 2 tool.exe$' "$E2E_DIR/verify.log" "the executable's part is the notice"
assert_grep '^kept 3 application/pdf report.pdf$' "$E2E_DIR/verify.log" "the PDF as sent"
assert_grep '^kept 1 text/plain' "$E2E_DIR/verify.log" "the text as sent"

id=$(sed -n 's/^X-Modmilter-Mime: removed 1 attachment, original saved as \([^:]*\):.*/\1/p' "$f" | tr -d '\r')
saved="$E2E_DIR/saved/$id.eml"
if [ -n "$id" ] && [ -f "$saved" ]; then
	pass "original saved under the id in the record ($id)"
else
	fail "no saved original for id '$id'"
	ls -la "$E2E_DIR/saved" >&2
fi
if cmp "$saved" "$E2E_DIR/sent.crlf" >&2; then
	pass "saved original is byte-identical to the message sent"
else
	fail "saved original differs from the message sent"
	diff "$E2E_DIR/sent.crlf" "$saved" | head -n 20 >&2
fi
assert_eq "$(find "$E2E_DIR/saved" -name '.*.tmp' | wc -l)" 0 "no temporary file left"
assert_grep 'WARNING.TXT' "$f" "notice"
assert_grep "id $id" "$f" "the notice gives the id"

# a clean message goes through untouched
rc=0; code=$(send_mail alice@example.org bob@example.com --header 'Subject: clean' --body 'nothing attached') || rc=$?
assert_eq "$code" 250 "clean message accepted"
wait_sink_count 2 30
assert_not_grep '^X-Modmilter-Mime' "$(sink_last)" "clean message not tagged"
e2e_done
