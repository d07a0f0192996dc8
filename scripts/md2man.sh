#!/bin/sh
# NAME
#	md2man.sh - a man page from one of our Markdown documents
# SYNOPSIS
#	md2man.sh -n NAME -s SECTION -d "ONE-LINE DESCRIPTION" [-v VERSION]
#		[-D DATE] [NAME=VALUE]... < doc.md > page.SECTION
# DESCRIPTION
#	Converts the Markdown subset our documents use (headings, paragraphs,
#	"- " lists, fenced code, pipe tables, `code`, **bold**, [links](x))
#	into man(7) roff, so the page needs no pandoc. Each NAME=VALUE turns
#	"$NAME" in the text into VALUE (the configured directories, e.g.
#	sysconfdir=/etc). The first "# " heading becomes DESCRIPTION, "## "
#	headings sections, "### " subsections; a table row becomes a tagged
#	paragraph: the first cell the tag, the middle cells "header: cell",
#	the last cell the text.
# DIAGNOSTICS
#	Exit 2 on a usage error.
set -e
name= sect= desc= version= date=
while getopts n:s:d:v:D: o; do
	case $o in
	n) name=$OPTARG ;;
	s) sect=$OPTARG ;;
	d) desc=$OPTARG ;;
	v) version=$OPTARG ;;
	D) date=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$name" ] && [ -n "$sect" ] && [ -n "$desc" ] ||
	{ echo "usage: md2man.sh -n NAME -s SECTION -d DESCRIPTION [NAME=VALUE]..." >&2; exit 2; }
[ -n "$date" ] || date=$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%d)
subst=
for kv in "$@"; do
	subst="$subst$kv
"
done

exec awk -v name="$name" -v sect="$sect" -v desc="$desc" -v version="$version" \
	-v date="$date" -v subst="$subst" '
# backslashes, and the typographic characters our documents use, which
# roff spells in ASCII
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/—/, "\\(em", s)
	gsub(/–/, "\\(en", s)
	gsub(/−/, "\\-", s)
	gsub(/≠/, "\\(!=", s)
	gsub(/→/, "\\(->", s)
	gsub(/§/, "\\(sc", s)
	gsub(/…/, "...", s)
	return s
}
# in code, a dash that starts a word is the minus sign of an option (-c,
# --store); a hyphen inside a word (a path, modmilter-dspam) stays one
function dashes(s,    out, i, c, prev) {
	out = ""; prev = " "
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "-" && (prev ~ /[ (\/[|=]/ || prev == "\\-")) {
			out = out "\\-"; prev = "\\-"
		} else {
			out = out c; prev = c
		}
	}
	return out
}
# `code`, **bold**, [text](target), $dir variables
function inline(s,    out, pre, code, n, i, k) {
	for (i = 1; i <= nsub; i++) {
		k = "$" skey[i]
		while ((n = index(s, k)) > 0)
			s = substr(s, 1, n - 1) sval[i] substr(s, n + length(k))
	}
	s = esc(s)
	out = ""
	while (match(s, /`[^`]*`/)) {
		pre = substr(s, 1, RSTART - 1)
		code = substr(s, RSTART + 1, RLENGTH - 2)
		code = dashes(code)
		out = out pre "\\fB" code "\\fR"
		s = substr(s, RSTART + RLENGTH)
	}
	s = out s
	while (match(s, /\*\*[^*]+\*\*/))
		s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR" substr(s, RSTART + RLENGTH)
	while (match(s, /\[[^]]*\]\([^)]*\)/)) {
		n = index(substr(s, RSTART), "](")
		s = substr(s, 1, RSTART - 1) substr(s, RSTART + 1, n - 2) substr(s, RSTART + RLENGTH)
	}
	return s
}
# a text line must not start with a control character
function line(s) {
	if (s ~ /^[.\047]/)
		s = "\\&" s
	print s
}
function cells(s, arr,    n, i) {
	gsub(/\\\|/, "\001", s)
	sub(/^[ \t]*\|/, "", s)
	sub(/\|[ \t]*$/, "", s)
	n = split(s, arr, "|")
	for (i = 1; i <= n; i++) {
		gsub(/\001/, "|", arr[i])
		gsub(/^[ \t]+|[ \t]+$/, "", arr[i])
	}
	return n
}
BEGIN {
	nsub = split(subst, kv, "\n")
	for (i = 1; i <= nsub; i++) {
		n = index(kv[i], "=")
		skey[i] = substr(kv[i], 1, n - 1)
		sval[i] = substr(kv[i], n + 1)
	}
	nsub--   # the list ends with a newline
	printf ".TH %s %s \"%s\" \"modmilter %s\"\n", toupper(name), sect, date, version
	print ".SH NAME"
	printf "%s \\- %s\n", name, desc
	fence = 0; table = 0; para = 0
}
/^```/ {
	if (!fence) { print ".PP"; print ".RS 4"; print ".nf"; fence = 1 }
	else { print ".fi"; print ".RE"; fence = 0; para = 0 }
	next
}
fence { line(esc($0)); next }
/^\|/ {
	n = cells($0, c)
	if (!table) { for (i = 1; i <= n; i++) head[i] = c[i]; table = 1; next }
	if ($0 ~ /^\|[-:| ]+\|$/) next
	printf ".TP\n"
	line(inline(c[1]))
	for (i = 2; i < n; i++)
		line(inline(head[i]) ": " inline(c[i]) (i < n - 1 ? ";" : "."))
	if (n > 1 && c[n] != "") line(inline(c[n]))
	para = 0
	next
}
{ table = 0 }
/^# / { print ".SH DESCRIPTION"; para = 0; next }
/^## / { t = substr($0, 4); print ".SH " toupper(inline(t)); para = 0; next }
/^### / { print ".SS " inline(substr($0, 5)); para = 0; next }
/^- / { print ".IP \\(bu 2"; line(inline(substr($0, 3))); para = 1; next }
/^[ \t]*$/ { para = 0; next }
{
	s = $0
	sub(/^[ \t]+/, "", s)
	if (!para) { print ".PP"; para = 1 }
	line(inline(s))
}
'
