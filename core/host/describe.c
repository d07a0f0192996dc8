/*
 * NAME
 *	describe - print a plugin's option table (modmilterd --describe)
 * SYNOPSIS
 *	#include "opttab.h"
 *
 *	opttab_describe(stdout, module->desc, markdown);
 * DESCRIPTION
 *	Prints the plugin's name, version and description, then each
 *	option of its table (SDK 1.3) with its type, range, default and
 *	documentation line: as indented text for a terminal, or as the
 *	Markdown table doc/plugins/NAME.md carries (scripts/gen-option-docs
 *	puts it there; tests/doc/options.sh fails when one is stale).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "opttab.h"

static void
type_desc(const struct mm_option *o, int md, char *buf, size_t n)
{
	char a[32], b[32];
	size_t len = 0;

	switch (o->type) {
	case MM_OT_STRING: snprintf(buf, n, "string"); break;
	case MM_OT_BOOL: snprintf(buf, n, "boolean"); break;
	case MM_OT_INT:
		snprintf(buf, n, "integer from %.0f to %.0f", o->min, o->max);
		break;
	case MM_OT_NUMBER:
		snprintf(buf, n, "number from %g to %g", o->min, o->max);
		break;
	case MM_OT_DURATION:
		len = (size_t)snprintf(buf, n, "duration");
		if (o->min > 0 && len < n) {
			opttab_fmt_duration(o->min, a, sizeof(a));
			len += (size_t)snprintf(buf + len, n - len, ", at least %s", a);
		}
		if (o->max > 0 && len < n) {
			opttab_fmt_duration(o->max, b, sizeof(b));
			snprintf(buf + len, n - len, ", at most %s", b);
		}
		break;
	case MM_OT_SIZE:
		opttab_fmt_size(o->min, a, sizeof(a));
		opttab_fmt_size(o->max, b, sizeof(b));
		snprintf(buf, n, "size from %s to %s", a, b);
		break;
	case MM_OT_ENUM:
		len = (size_t)snprintf(buf, n, "one of");
		for (int i = 0; o->words[i] && len < n; i++)
			len += (size_t)snprintf(buf + len, n - len, "%s %s%s%s",
			    i ? "," : "", md ? "`" : "", o->words[i], md ? "`" : "");
		break;
	case MM_OT_LIST: snprintf(buf, n, "list of strings"); break;
	case MM_OT_DOMAINS: snprintf(buf, n, "list of domains"); break;
	case MM_OT_ADDRESSES: snprintf(buf, n, "list of addresses"); break;
	case MM_OT_NETWORKS: snprintf(buf, n, "list of networks"); break;
	case MM_OT_HAND: snprintf(buf, n, "map or list (see the text)"); break;
	default: snprintf(buf, n, "?"); break;
	}
}

/* Markdown cell text: '|' escaped */
static void
md_cell(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', fp);
		fputc(*s, fp);
	}
}

void
opttab_describe(FILE *fp, const struct mm_plugin *p, int markdown)
{
	const struct mm_option *tab = opttab_of(p);
	char type[512];

	if (!markdown) {
		fprintf(fp, "%s %s (SDK %u.%u): %s\n", p->name,
		    p->version ? p->version : "?", p->sdk_major, p->sdk_minor,
		    p->description ? p->description : "");
		if (tab == NULL) {
			fprintf(fp, "\nno option table: see the plugin's documentation\n");
			return;
		}
		fprintf(fp, "\noptions:\n");
		for (const struct mm_option *o = tab; o->name; o++) {
			type_desc(o, 0, type, sizeof(type));
			fprintf(fp, "  %s\n      %s; default: %s\n", o->name, type,
			    o->def == NULL ? "none" : *o->def ? o->def : "\"\"");
			if (o->doc && *o->doc)
				fprintf(fp, "      %s\n", o->doc);
		}
		return;
	}
	if (tab == NULL)
		return;
	fprintf(fp, "| option | type | default | meaning |\n|---|---|---|---|\n");
	for (const struct mm_option *o = tab; o->name; o++) {
		type_desc(o, 1, type, sizeof(type));
		fprintf(fp, "| `%s` | ", o->name);
		md_cell(fp, type);
		fprintf(fp, " | ");
		if (o->type == MM_OT_HAND)
			md_cell(fp, o->def ? o->def : "none");	/* words, not YAML */
		else if (o->def && *o->def) {
			fputc('`', fp);
			md_cell(fp, o->def);
			fputc('`', fp);
		} else
			fprintf(fp, o->def ? "`\"\"`" : "none");
		fprintf(fp, " | ");
		md_cell(fp, o->doc ? o->doc : "");
		fprintf(fp, " |\n");
	}
}
