#!/bin/sh
# The mime plugin through modmilter-test: each fixture (generated here)
# with its expected verdict and actions, then the replaced message
# re-parsed to prove that every other part is intact.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/mime/lib.sh"
F=$tmp/f
mkdir -p "$F"
mk() { "$MKFIXTURE" "$@" || { echo "FAIL: cannot build fixture $2"; exit 1; }; }
rlo=$(printf '\342\200\256')

# --- fixtures ---
printf '%%PDF-1.4\n%% a harmless document\n' > "$F/doc.pdf"
mk zip "$F/exe.zip" readme.txt=text:hello invoice.exe=exe
mk zip "$F/clean.zip" a.txt=text:hello b/report.pdf=file:"$F/doc.pdf"
mk zip "$F/inner.zip" evil.scr=exe
mk zip "$F/nested.zip" notes.txt=text:hi inner.zip=file:"$F/inner.zip"
mk zip "$F/d1.zip" clean.txt=text:deep
for i in 2 3 4 5 6 7; do mk zip "$F/d$i.zip" "d$((i - 1)).zip=file:$F/d$((i - 1)).zip"; done
mk zipcrypt "$F/enc.zip" contract.txt=text:secret
mk zip "$F/sniff.zip" photo.jpg=elf
mk 7z "$F/setup.7z" setup.exe=exe readme.txt=text:x
mk tgz "$F/tools.tgz" notes.txt=script
mk iso "$F/disk.iso" SETUP.EXE=exe
mk zip "$F/rlo.zip" "invoice${rlo}fdp.scr=text:x"
mk tgz "$F/big.tgz" big.bin=zero:25165824
mk zip "$F/bomb.zip" data.tar.gz=file:"$F/big.tgz"
printf 'PK\003\004\024\000\000\000this is not really a zip file at all' > "$F/corrupt.zip"
printf 'just some text, not an archive\n' > "$F/notzip.zip"
printf 'PK\005\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' > "$F/empty.zip"
mk zip "$F/seven.zip" x=exe
cp "$F/seven.zip" "$F/exe.bin"	# overwritten below
mk gz "$F/bin.gz" x=exe
"$MKFIXTURE" zip "$F/tmp.zip" x=exe && rm -f "$F/tmp.zip"
printf 'MZ\220\000\003\000\000\000\004\000\000\000\377\377\000\000' > "$F/exe.bin"
printf '\177ELF\002\001\001\000\000\000\000\000' > "$F/elf.bin"

# outmsg NAME PATTERN... : the message the next plugin saw (lines, ERE;
# "!PATTERN" must not match), where re-parsing cannot say which of two
# Content-Type fields a reader would take
outmsg() {
	name=$1
	shift
	ok=1
	tr -d '\r' < "$tmp/out.eml" > "$tmp/out.txt" 2>/dev/null || ok=0
	for p in "$@"; do
		case $p in
		!*) if grep -qE -- "${p#!}" "$tmp/out.txt"; then echo "  unexpected: ${p#!}"; ok=0; fi ;;
		*) grep -qE -- "$p" "$tmp/out.txt" || { echo "  missing: $p"; ok=0; } ;;
		esac
	done
	result "$name (result)" $ok "$tmp/out.txt"
}

# --- messages ---
M=$tmp/m
mkdir -p "$M"
printf 'From: a@example.org\nTo: b@example.com\nSubject: plain\n\nJust text.\n' > "$M/plain.eml"
{ echo --PART--; attach "$F/exe.zip" files.zip; echo --PART--; attach "$F/doc.pdf" doc.pdf; } | mkmsg "$M/zipexe.eml"
{ echo --PART--; attach "$F/clean.zip" clean.zip; } | mkmsg "$M/zipclean.eml"
{ echo --PART--; attach "$F/nested.zip" nested.zip; echo --PART--; attach "$F/doc.pdf" doc.pdf; } | mkmsg "$M/nested.eml"
{ echo --PART--; attach "$F/d7.zip" deep.zip; } | mkmsg "$M/deep.eml"
{ echo --PART--; attach "$F/enc.zip" contract.zip; } | mkmsg "$M/enc.eml"
{ echo --PART--; attach "$F/sniff.zip" photos.zip; } | mkmsg "$M/sniff.eml"
{ echo --PART--; attach "$F/setup.7z" setup.7z; echo --PART--; attach "$F/doc.pdf" doc.pdf; } | mkmsg "$M/7z.eml"
{ echo --PART--; attach "$F/tools.tgz" tools.tgz; } | mkmsg "$M/tgz.eml"
{ echo --PART--; attach "$F/disk.iso" disk.img; } | mkmsg "$M/iso.eml"
{ echo --PART--; attach "$F/rlo.zip" photos.zip; } | mkmsg "$M/rlozip.eml"
{ echo --PART--; attach "$F/doc.pdf" "invoice${rlo}fdp.exe"; } | mkmsg "$M/rlo.eml"
{ echo --PART--; attach "$F/bomb.zip" bomb.zip; } | mkmsg "$M/bomb.eml"
{ echo --PART--; attach "$F/corrupt.zip" report.zip; echo --PART--; attach "$F/doc.pdf" doc.pdf; } | mkmsg "$M/corrupt.eml"
{ echo --PART--; attach "$F/notzip.zip" data.zip; } | mkmsg "$M/notzip.eml"
{ echo --PART--; attach "$F/empty.zip" empty.zip; } | mkmsg "$M/emptyzip.eml"
{ echo --PART--; attach "$F/bin.gz" report.gz; } | mkmsg "$M/gz.eml"
{ echo --PART--; attach "$F/elf.bin" holiday.jpg; echo --PART--; attach "$F/doc.pdf" doc.pdf; } | mkmsg "$M/elf.eml"
{ echo --PART--; attach "$F/exe.bin" "invoice.pdf          .exe"; } | mkmsg "$M/padded.eml"
{ echo --PART--; part "$F/doc.pdf" "application/octet-stream; name*0*=utf-8''%E2%80%8Bre; name*1=\"port.\"; name*2=ex; name*3=e" "attachment"; } | mkmsg "$M/rfc2231.eml"
{ echo --PART--; part "$F/doc.pdf" "application/octet-stream" "attachment; filename=\"=?utf-8?B?UmVjaG51bmdfTcOkcnouZXhl?=\""; } | mkmsg "$M/rfc2047.eml"
{ echo --PART--; part "$F/doc.pdf" "application/pdf; name=\"a.pdf\"" "attachment; filename=\"a.pdf\"; filename=\"a.exe\""; } | mkmsg "$M/dupparam.eml"
{ echo --PART--; part "$F/doc.pdf" "application/pdf; name=\"a.pdf\"" "attachment; filename=\"a.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}\""; } | mkmsg "$M/clsid.eml"
{ echo --PART--; part "$F/doc.pdf" "application/pdf; name=\"a.pdf\"" "attachment; filename=\"ＲＥＡＤＭＥ．ＥＸＥ\""; } | mkmsg "$M/fullwidth.eml"
{ echo --PART--; part "$F/doc.pdf" "message/partial; id=\"x@y\"; number=1; total=2"; } | mkmsg "$M/partial.eml"
# an executable in a message forwarded inside a forwarded message
{
	printf 'From: c@example.net\nSubject: inner\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="in"\n\n--in\nContent-Type: text/plain\n\ninner text\n--in\n'
	attach "$F/exe.bin" tool.exe
	printf -- '--in--\n'
} > "$F/inner.eml"
{
	printf 'From: b@example.net\nSubject: middle\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="mid"\n\n--mid\nContent-Type: text/plain\n\nmiddle text\n--mid\nContent-Type: message/rfc822\n\n'
	cat "$F/inner.eml"
	printf -- '--mid--\n'
} > "$F/middle.eml"
{ echo --PART--; printf 'Content-Type: message/rfc822\n\n'; cat "$F/middle.eml"; echo --PART--; attach "$F/doc.pdf" doc.pdf; } | mkmsg "$M/rfc822.eml"
# a forwarded message that is itself one executable
{ echo --PART--; printf 'Content-Type: message/rfc822\n\nFrom: x@example.net\nSubject: fw\nMIME-Version: 1.0\n'; part "$F/exe.bin" "application/octet-stream; name=\"a.exe\""; } | mkmsg "$M/fwexe.eml"
# a forwarded message sent base64-encoded
base64 < "$F/inner.eml" > "$F/inner.b64"
{ echo --PART--; printf 'Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n'; cat "$F/inner.b64"; } | mkmsg "$M/rfc822b64.eml"
# a uuencoded executable inside the text
{ printf 'From: a@example.org\nSubject: uu\n\nSee below.\n\nbegin 644 tool.exe\nM35J0\n`\nend\n'; } > "$M/uu.eml"
# the whole message is an executable
{ printf 'From: a@example.org\nTo: b@example.com\nSubject: single\nMIME-Version: 1.0\nContent-Type: application/octet-stream; name="setup.exe"\nContent-Disposition: attachment; filename="setup.exe"\nContent-Transfer-Encoding: base64\n\n'; base64 < "$F/exe.bin"; } > "$M/single.eml"
# malformed: multipart without a boundary; bad base64
{ printf 'From: a@example.org\nSubject: broken\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nhi\n--x--\n'; } > "$M/noboundary.eml"
{ echo --PART--; printf 'Content-Type: application/pdf; name="a.pdf"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK!!!!bad%%%%base64****\n'; } | mkmsg "$M/badb64.eml"
# an executable after a multipart whose boundary never comes
{ printf 'From: a@example.org\nSubject: broken\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="never"\n\n--x\nContent-Type: application/octet-stream; name="a.exe"\nContent-Transfer-Encoding: base64\n\n'; base64 < "$F/exe.bin"; } > "$M/lostboundary.eml"
# repeated Content-Type fields: readers differ in which one they take
# (GMime the last, others the first), so each must be judged.
# The message says text/plain first, multipart second; an unnamed executable inside
{ printf 'From: a@example.org\nTo: b@example.com\nSubject: dup\nMIME-Version: 1.0\nContent-Type: text/plain\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'; base64 < "$F/exe.bin"; printf -- '--b--\n'; } > "$M/dupct-top.eml"
# multipart first, text/plain second (the one GMime takes), named executable inside
{ printf 'From: a@example.org\nTo: b@example.com\nSubject: dup\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\nContent-Type: text/plain\n\n--b\nContent-Type: text/plain\n\nhi\n--b\n'; attach "$F/exe.bin" setup.exe; printf -- '--b--\n'; } > "$M/dupct-top2.eml"
# a part of the message: multipart first, text/plain second, an unnamed executable inside
{ echo --PART--; printf 'Content-Type: multipart/mixed; boundary="in"\nContent-Type: text/plain\n\n--in\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'; base64 < "$F/exe.bin"; printf -- '--in--\n'; echo --PART--; attach "$F/doc.pdf" doc.pdf; } | mkmsg "$M/dupct-part.eml"
# text/plain first, octet-stream second: a uuencoded executable a text reader decodes
{ echo --PART--; printf 'Content-Type: text/plain\nContent-Type: application/octet-stream\n\nbegin 644 tool.exe\nM35J0\n`\nend\n'; } | mkmsg "$M/dupct-uu.eml"
# benign: the same field twice; two types for one harmless document
{ echo --PART--; printf 'Content-Type: application/pdf; name="a.pdf"\n'; part "$F/doc.pdf" 'application/pdf; name="a.pdf"'; } | mkmsg "$M/dupct-same.eml"
{ echo --PART--; printf 'Content-Type: application/octet-stream; name="a.pdf"\n'; part "$F/doc.pdf" 'application/pdf; name="a.pdf"'; } | mkmsg "$M/dupct-benign.eml"
# two Content-Disposition fields with different file names, the message itself
{ printf 'From: a@example.org\nTo: b@example.com\nSubject: dupcd\nMIME-Version: 1.0\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="a.pdf"\nContent-Disposition: attachment; filename="a.exe"\nContent-Transfer-Encoding: base64\n\n'; base64 < "$F/doc.pdf"; } > "$M/dupcd.eml"

# --- default options ---
mime_config ''
check "plain text passes untouched" 0 "$M/plain.eml" '^verdict: accept' '!header-add' '!body-replaced'
check "zip with an .exe member" 0 "$M/zipexe.eml" '^verdict: accept' \
	'^header-add: X-Modmilter-Mime: removed 1 attachment, original saved as [0-9]{8}T[0-9]{6}Z-TEST0001-[0-9a-f]{16}:' \
	'files.zip: invoice.exe \(banned file name extension .exe\)' '^body-replaced: [0-9]+ bytes'
verify "zip with an .exe member" '^replaced 2 files.zip$' '^kept 1 text/plain' '^kept 3 application/octet-stream doc.pdf$'
facts '^mime.names=.*files.zip/readme.txt/invoice.exe' '^mime.banned=files.zip: invoice.exe$'
check "clean zip passes" 0 "$M/zipclean.eml" '!header-add' '!body-replaced'
verify "clean zip passes" '^kept 2 application/octet-stream clean.zip$' '!replaced'
check "nested zip" 0 "$M/nested.eml" 'nested.zip: inner.zip: evil.scr \(banned file name extension .scr\)' '^body-replaced'
verify "nested zip" '^replaced 2 nested.zip$' '^kept 3 .* doc.pdf$'
check "zip nested 7 deep: limit, tempfail" 3 "$M/deep.eml" \
	'^verdict: tempfail 451 4.7.0 .*archives nested deeper than 5 levels' '!body-replaced'
check "encrypted zip" 0 "$M/enc.eml" 'contract.zip \(encrypted archive\)' '^body-replaced'
verify "encrypted zip" '^replaced 2 contract.zip$'
check "ELF named .jpg inside a zip" 0 "$M/sniff.eml" 'photos.zip: photo.jpg \(ELF executable content\)'
check "7z with an .exe" 0 "$M/7z.eml" 'setup.7z: setup.exe \(banned file name extension .exe\)'
verify "7z with an .exe" '^replaced 2 setup.7z$' '^kept 3 .* doc.pdf$'
check "tar.gz with a script named .txt" 0 "$M/tgz.eml" 'tools.tgz: notes.txt \(script content\)'
check "ISO image named .img" 0 "$M/iso.eml" 'disk.img: SETUP.EXE'
check "RLO in a member name" 0 "$M/rlozip.eml" 'photos.zip: invoicefdp.scr \(bidirectional control'
check "RLO in an attachment name" 0 "$M/rlo.eml" 'invoicefdp.exe \(bidirectional control'
check "corrupt zip" 0 "$M/corrupt.eml" 'report.zip \(corrupt or unreadable archive\)'
verify "corrupt zip" '^replaced 2 report.zip$' '^kept 3 .* doc.pdf$'
check "a .zip that is text" 0 "$M/notzip.eml" 'data.zip \(corrupt or unreadable archive\)'
check "empty zip passes" 0 "$M/emptyzip.eml" '!header-add' '!body-replaced'
check "gzip of an executable" 0 "$M/gz.eml" 'report.gz: report \(Windows executable content\)'
check "ELF named .jpg" 0 "$M/elf.eml" 'holiday.jpg \(ELF executable content\)'
verify "ELF named .jpg" '^replaced 2 holiday.jpg$' '^kept 3 .* doc.pdf$'
check "padded double extension" 0 "$M/padded.eml" 'invoice.pdf +.exe \(banned file name extension .exe \(padded double extension\)\)'
check "RFC 2231 name in pieces, zero-width space" 0 "$M/rfc2231.eml" 'report.exe \(banned file name extension .exe\)'
check "RFC 2047 encoded name" 0 "$M/rfc2047.eml" '=\?[Uu][Tt][Ff]-8\?[bBqQ]\?.*\?= \(banned file name extension .exe\)'
facts '^mime.names=Rechnung_März.exe$'
check "duplicate filename parameters" 0 "$M/dupparam.eml" 'a.exe \(banned file name extension .exe\)'
check "CLSID extension" 0 "$M/clsid.eml" 'CLSID file name extension'
check "full-width letters" 0 "$M/fullwidth.eml" 'README.EXE \(banned file name extension .exe\)'
check "uuencoded executable in the text" 0 "$M/uu.eml" 'tool.exe \(banned file name extension .exe, uuencoded in the text\)' '^body-replaced'
verify "uuencoded executable in the text" '^whole text/plain$'
check "message/partial" 0 "$M/partial.eml" 'message/partial\)'
check "rfc822 in rfc822" 0 "$M/rfc822.eml" 'tool.exe \(banned file name extension .exe\)' '^body-replaced'
verify "rfc822 in rfc822" '^replaced 2.m.2.m.2 tool.exe$' '^kept 2.m.1 text/plain' '^kept 2.m.2.m.1 text/plain' '^kept 3 .* doc.pdf$'
check "forwarded message that is an executable" 0 "$M/fwexe.eml" 'a.exe \(banned'
verify "forwarded message that is an executable" '^replaced 2 -$' '^kept 1 text/plain'
check "base64 message/rfc822" 0 "$M/rfc822b64.eml" 'embedded message: tool.exe'
verify "base64 message/rfc822" '^replaced 2 -$'
check "the message is an executable" 0 "$M/single.eml" 'setup.exe \(banned' \
	'^header-change: Content-Type\[1\]: text/plain; charset=us-ascii$' \
	'^header-change: Content-Transfer-Encoding\[1\]: 7bit$' '^header-delete: Content-Disposition\[1\]$' '^body-replaced'
verify "the message is an executable" '^whole application/octet-stream$'
check "multipart without a boundary: tagged" 0 "$M/noboundary.eml" \
	'^header-add: X-Modmilter-Mime: malformed MIME: multipart without a boundary' '!body-replaced'
check "bad base64: tagged" 0 "$M/badb64.eml" '^header-add: X-Modmilter-Mime: malformed MIME: invalid base64' '!body-replaced'
check "boundary never found, executable inside" 0 "$M/lostboundary.eml" 'malformed MIME' 'a.exe|Windows executable' '^body-replaced'
verify "boundary never found, executable inside" '^(whole|replaced)'
check "two types, multipart second: its executable found" 0 "$M/dupct-top.eml" \
	'malformed MIME: conflicting Content-Type header fields' 'Windows executable content' '^body-replaced'
verify "two types, multipart second: its executable found" '^replaced 2 -$' '^kept 1 text/plain'
check "two types, multipart first: its executable found" 0 "$M/dupct-top2.eml" \
	'malformed MIME: conflicting Content-Type' 'setup.exe \(banned file name extension .exe\)' '^body-replaced'
outmsg "two types, multipart first: its executable found" 'name="WARNING.TXT"' '!^TVqQ' '^hi$'
check "a part with two types, multipart first: its executable found" 0 "$M/dupct-part.eml" \
	'malformed MIME: conflicting Content-Type' 'Windows executable content' '^body-replaced'
outmsg "a part with two types, multipart first: its executable found" 'name="WARNING.TXT"' '!^TVqQ' \
	"^$(base64 < "$F/doc.pdf" | head -n 1)\$"
check "a part that is text to some readers: uuencoded executable found" 0 "$M/dupct-uu.eml" \
	'tool.exe \(banned file name extension .exe, uuencoded in the text\)' '^body-replaced'
verify "a part that is text to some readers: uuencoded executable found" '^replaced 2 '
check "the same Content-Type twice: untouched" 0 "$M/dupct-same.eml" '!header-add' '!body-replaced'
check "two harmless types: tagged malformed, nothing removed" 0 "$M/dupct-benign.eml" \
	'^header-add: X-Modmilter-Mime: malformed MIME: conflicting Content-Type header fields' '!body-replaced'
check "two Content-Disposition file names: both judged" 0 "$M/dupcd.eml" 'a.exe \(banned file name extension .exe\)' '^body-replaced'
mime_config 'malformed: reject'
check "two types and malformed: reject" 2 "$M/dupct-benign.eml" '^verdict: reject 550 5.6.0 Message refused: malformed MIME'

# --- policies and actions ---
mime_config 'encrypted: allow, corrupt: allow'
check "encrypted: allow" 0 "$M/enc.eml" '!body-replaced'
check "corrupt: allow" 0 "$M/corrupt.eml" '!body-replaced'
mime_config 'max_size: 16M'
check "zip bomb: over max_size, tempfail" 3 "$M/bomb.eml" '^verdict: tempfail 451 4.7.0 .*more than 16777216 bytes' '!body-replaced'
mime_config 'max_size: 16M, on_limit: ban'
check "on_limit ban: the whole message" 0 "$M/bomb.eml" '\(it could not be scanned: more than 16777216 bytes' '^body-replaced'
verify "on_limit ban: the whole message" '^whole multipart/mixed$'
mime_config 'on_limit: reject'
check "on_limit reject" 2 "$M/deep.eml" '^verdict: reject 550 5.7.1 .*too complex to scan'
mime_config 'max_parts: 3'
check "max_parts" 3 "$M/zipexe.eml" 'more than 3 parts'
mime_config 'action: reject'
check "action reject" 2 "$M/zipexe.eml" '^verdict: reject 550 5.7.1 Message refused: attachment "files.zip: invoice.exe" is not allowed'
mime_config 'action: quarantine'
check "action quarantine" 0 "$M/zipexe.eml" '^quarantine: mime: banned attachment "files.zip: invoice.exe"' \
	'^header-add: X-Modmilter-Mime: quarantined' '!body-replaced'
mime_config 'action: tag'
check "action tag" 0 "$M/zipexe.eml" '^header-add: X-Modmilter-Mime: banned attachments found, not removed:' '!body-replaced'
mime_config 'malformed: reject'
check "malformed: reject" 2 "$M/noboundary.eml" '^verdict: reject 550 5.6.0 Message refused: malformed MIME'
mime_config 'scan_archives: false'
check "scan_archives: false" 0 "$M/nested.eml" '!body-replaced'
mime_config 'banned_types: [exe]'
check "banned_types without elf" 0 "$M/elf.eml" '!body-replaced'
mime_config 'exceptions: { "example.org": [exe] }'
check "exception for the sender's domain" 0 "$M/zipexe.eml" '!body-replaced'
FROM=x@elsewhere.example check "exception does not cover another sender" 0 "$M/zipexe.eml" '^body-replaced'
mime_config 'exceptions: { "example.com": [exe], ".partner.example": [exe] }'
FROM=x@elsewhere.example check "exception for every recipient's domain" 0 "$M/zipexe.eml" '!body-replaced'
FROM=x@elsewhere.example RCPT=c@sub.partner.example check "exception for a subdomain" 0 "$M/zipexe.eml" '!body-replaced'
FROM=x@partner.example check "a '.' key does not match the domain itself" 0 "$M/zipexe.eml" '!body-replaced'
mime_config ''
sed 's/module: mime, /module: mime, mode: monitor, /' "$tmp/c.yaml" > "$tmp/m.yaml" && mv "$tmp/m.yaml" "$tmp/c.yaml"
check "monitor mode: nothing changed" 0 "$M/single.eml" '!body-replaced' '!header-change' '!header-delete'
SAVE_DIR=/proc/self mime_config ''
check "cannot save the original: tempfail" 3 "$M/zipexe.eml" '^verdict: tempfail 451 4.3.0' '!body-replaced'

# --- configuration errors at their line and column ---
printf 'plugin_dir: %s\nplugins:\n  mime: { module: mime, options: { action: delete, save_dir: %s } }\n' \
	"$PLUGINS" "$tmp" > "$tmp/bad.yaml"
"$MODMILTER_TEST" -c "$tmp/bad.yaml" "$M/plain.eml" > "$tmp/result" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "bad.yaml:3:[0-9]*: action must be one of: replace, reject, quarantine, tag" "$tmp/result"
result "bad action reported at its position" $([ $? = 0 ] && echo 1 || echo 0) "$tmp/result"
printf 'plugin_dir: %s\nplugins:\n  mime: { module: mime, options: { save_dir: /nonexistent/dir } }\n' \
	"$PLUGINS" > "$tmp/bad.yaml"
"$MODMILTER_TEST" -c "$tmp/bad.yaml" "$M/plain.eml" > "$tmp/result" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "bad.yaml:3:[0-9]*: save_dir /nonexistent/dir is not a directory" "$tmp/result"
result "missing save_dir reported" $([ $? = 0 ] && echo 1 || echo 0) "$tmp/result"
finish
