/*
 * NAME
 *	options - the wiretap instance's options, checked
 * SYNOPSIS
 *	#include "wiretap.h"
 *
 *	struct wt_conf *c;
 *	if (wt_conf_load(api, options, &c) < 0) ... (errors recorded)
 *	wt_conf_free(c);
 * DESCRIPTION
 *	Reads groups, smart_alias, case_sensitive_localpart,
 *	recipient_delimiter, archive_failure and archive_mode (see
 *	doc/plugins/wiretap.md) into a struct wt_conf: the plain keys of
 *	the instance and of each group through option tables (the
 *	instance's is wt_option_table, which modmilterd --describe prints). Every configured
 *	address is checked and stored as an address key (addr.c, from the
 *	core's normal form), so that matching at run time compares
 *	strings; copy_to and deliver_to
 *	addresses are kept as written, for the envelope.
 * DIAGNOSTICS
 *	Every problem is recorded at its node with api->opt_error (the
 *	admin sees FILE:LINE:COL); wt_conf_load() then returns -1 after
 *	reading the rest, so that one mistake does not hide the next.
 */
#include <stdlib.h>
#include <string.h>

#include "maildir.h"
#include "wiretap.h"

struct loader {
	const struct mm_api *api;
	struct wt_conf *c;
	int bad;
};

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Read map[key]: one address or a list of them. as_key: store address
 * keys (for matching), else the addresses as written (for the envelope).
 * A missing key leaves *out empty.
 */
static int
addr_list(struct loader *l, const mm_opt *map, const char *key,
    int allow_domain, int as_key, char ***out, size_t *n)
{
	const struct mm_api *api = l->api;
	const mm_opt *v = api->opt_get(map, key);
	size_t len;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	len = api->opt_type(v) == MM_OPT_SCALAR ? 1 : api->opt_len(v);
	if (api->opt_type(v) != MM_OPT_SCALAR && api->opt_type(v) != MM_OPT_LIST) {
		api->opt_error(v, "'%s' must be an address or a list of addresses", key);
		return -1;
	}
	if ((*out = calloc(len ? len : 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const mm_opt *it = api->opt_type(v) == MM_OPT_SCALAR ? v : api->opt_at(v, i);
		const char *s = api->opt_scalar(it), *why;
		char *a;

		if (s == NULL) {
			api->opt_error(it, "'%s' must list addresses", key);
			goto fail;
		}
		if (wt_addr_check(s, allow_domain, &why) < 0) {
			api->opt_error(it, "%s: '%s': %s", key, s, why);
			goto fail;
		}
		a = as_key ? wt_pattern_key(api, s, l->c->case_sensitive_local,
		    l->c->delimiters, &why) : strdup(s);
		if (a == NULL) {
			if (as_key && why != NULL)
				api->opt_error(it, "%s: '%s': %s", key, s, why);
			goto fail;
		}
		(*out)[(*n)++] = a;
	}
	return 0;
fail:
	strv_free(*out, *n);
	*out = NULL;
	*n = 0;
	return -1;
}

static int
name_ok(const char *s)
{
	if (*s == 0)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static const char *const failure_words[] = { "tempfail", "continue", NULL };

/* the keys of a group a table can read */
struct group_opts {
	char *name, *archive;
	int direction, blind, discard, archive_continue;
};

static const struct mm_option group_table[] = {
	{ "name", MM_OT_STRING, offsetof(struct group_opts, name), NULL, 0, 0, NULL,
	  NULL, NULL },
	{ "direction", MM_OT_ENUM, offsetof(struct group_opts, direction), "both",
	  0, 0, MM_OPT_WORDS("outgoing", "incoming", "both"), NULL, NULL },
	{ "blind", MM_OT_BOOL, offsetof(struct group_opts, blind), "true", 0, 0,
	  NULL, NULL, NULL },
	{ "discard", MM_OT_BOOL, offsetof(struct group_opts, discard), "false", 0, 0,
	  NULL, NULL, NULL },
	{ "archive", MM_OT_STRING, offsetof(struct group_opts, archive), NULL, 0, 0,
	  NULL, NULL, NULL },
	/* no default: the instance's */
	{ "archive_failure", MM_OT_ENUM, offsetof(struct group_opts,
	  archive_continue), NULL, 0, 0, failure_words, NULL, NULL },
	{ NULL }
};

static int
load_group(struct loader *l, const mm_opt *g, struct wt_group *grp, int cont)
{
	static const unsigned dirs[] = { WT_OUT, WT_IN, WT_OUT | WT_IN };
	const struct mm_api *api = l->api;
	struct group_opts o = { .archive_continue = cont };
	const char *name;
	int bad = 0;

	if (api->opt_type(g) != MM_OPT_MAP) {
		api->opt_error(g, "a group must be a map with name, watch and "
		    "copy_to, discard or archive");
		return -1;
	}
	if (api->opt_table(g, group_table, &o) < 0)
		bad = 1;		/* reported; read the other keys all the same */
	name = o.name;
	if (name != NULL && !name_ok(name)) {
		api->opt_error(api->opt_get(g, "name"),
		    "a group needs a name of letters, digits, '.', '-' and '_'");
		bad = 1;
	} else if (name == NULL && (api->opt_get(g, "name") == NULL ||
	    api->opt_type(api->opt_get(g, "name")) == MM_OPT_SCALAR)) {
		api->opt_error(api->opt_get(g, "name") ? api->opt_get(g, "name") : g,
		    "a group needs a name of letters, digits, '.', '-' and '_'");
		bad = 1;
	} else if (name != NULL && strcmp(name, "smart_alias") == 0) {
		/* the audit log uses it for smart aliases */
		api->opt_error(api->opt_get(g, "name"), "the group name smart_alias "
		    "is reserved");
		bad = 1;
	} else if (name != NULL) {
		grp->name = o.name;
		o.name = NULL;
	}
	if (addr_list(l, g, "watch", 1, 1, &grp->watch, &grp->nwatch) < 0)
		bad = 1;
	else if (grp->nwatch == 0) {
		api->opt_error(g, "group '%s' watches nobody: add watch: [user@domain, "
		    "\"@domain\"]", name ? name : "?");
		bad = 1;
	}
	grp->direction = dirs[o.direction];
	if (addr_list(l, g, "copy_to", 0, 0, &grp->copy_to, &grp->ncopy) < 0)
		bad = 1;
	grp->blind = o.blind;
	grp->discard = o.discard;
	grp->archive_continue = o.archive_continue;
	if (o.archive) {
		size_t n = strlen(o.archive);
		while (n > 1 && o.archive[n - 1] == '/')
			o.archive[--n] = 0;
		if (o.archive[0] != '/' || strpbrk(o.archive, "\r\n") != NULL) {
			api->opt_error(api->opt_get(g, "archive"),
			    "archive must be an absolute directory path");
			bad = 1;
		} else {
			grp->archive = o.archive;
			o.archive = NULL;
		}
	}
	if (!bad && grp->ncopy == 0 && !grp->discard && grp->archive == NULL) {
		api->opt_error(g, "group '%s' does nothing: give it copy_to, "
		    "discard or archive", name);
		bad = 1;
	}
	api->opt_table_free(group_table, &o);
	return bad ? -1 : 0;
}

static int
load_alias(struct loader *l, const mm_opt *a, struct wt_alias *al)
{
	const struct mm_api *api = l->api;
	char **v;
	size_t n;
	int bad = 0;

	if (api->opt_type(a) != MM_OPT_MAP) {
		api->opt_error(a, "a smart alias must be a map: { from: sender, "
		    "to: recipient, deliver_to: [addresses] }");
		return -1;
	}
	if (addr_list(l, a, "from", 1, 1, &v, &n) < 0)
		bad = 1;
	else if (n != 1) {
		api->opt_error(a, "a smart alias needs one 'from' (user@domain or @domain)");
		strv_free(v, n);
		bad = 1;
	} else {
		al->from = v[0];
		free(v);
	}
	if (addr_list(l, a, "to", 0, 1, &v, &n) < 0)
		bad = 1;
	else if (n != 1) {
		api->opt_error(a, "a smart alias needs one 'to' recipient address");
		strv_free(v, n);
		bad = 1;
	} else {
		al->to = v[0];
		free(v);
	}
	if (addr_list(l, a, "deliver_to", 0, 0, &al->deliver_to, &al->ndeliver) < 0)
		bad = 1;
	else if (al->ndeliver == 0) {
		api->opt_error(a, "a smart alias needs deliver_to: [addresses]");
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* the instance's own keys */
struct inst_opts {
	int case_sensitive, archive_continue;
	char *delimiters, *archive_mode;
};

/*
 * The options the core reads (modmilterd --describe wiretap; the table
 * of doc/plugins/wiretap.md is generated from it). Groups and smart
 * aliases are lists of maps: read here, the groups' plain keys through
 * group_table.
 */
const struct mm_option wt_option_table[] = {
	{ "groups", MM_OT_HAND, 0, NULL, 0, 0, NULL, "list of groups (below)", NULL },
	{ "smart_alias", MM_OT_HAND, 0, NULL, 0, 0, NULL,
	  "list of `{ from, to, deliver_to }` (below)", NULL },
	{ "case_sensitive_localpart", MM_OT_BOOL, offsetof(struct inst_opts,
	  case_sensitive), "false", 0, 0, NULL, "compare local parts as written "
	  "(`Alice@` ≠ `alice@`); domains are always compared case-insensitively",
	  NULL },
	{ "recipient_delimiter", MM_OT_STRING, offsetof(struct inst_opts,
	  delimiters), "", 0, 0, NULL, "characters that start an address extension, "
	  "as Postfix's `recipient_delimiter`: with `\"+\"`, "
	  "`alice+news@corp.example` is `alice@corp.example` for matching and for "
	  "the archive directory", NULL },
	{ "archive_failure", MM_OT_ENUM, offsetof(struct inst_opts,
	  archive_continue), "tempfail", 0, 0, failure_words, "what a failed archive "
	  "write does, for groups that do not say: `tempfail` the message, or "
	  "`continue` without the copy", NULL },
	{ "archive_mode", MM_OT_STRING, offsetof(struct inst_opts, archive_mode),
	  "0600", 0, 0, NULL, "octal permissions of archived files, from `0600` to "
	  "`0666` (directories get the matching search bits: 0600 → 0700, 0640 → "
	  "0750), less the daemon's umask", NULL },
	{ NULL }
};

static int
load_instance_keys(struct loader *l, const mm_opt *opts, int *cont)
{
	const struct mm_api *api = l->api;
	struct inst_opts o;
	int bad = 0;

	memset(&o, 0, sizeof(o));
	if (api->opt_table(opts, wt_option_table, &o) < 0)
		bad = 1;
	l->c->case_sensitive_local = o.case_sensitive;
	*cont = o.archive_continue;
	if (o.delimiters && strpbrk(o.delimiters, "@ \t\r\n") != NULL) {
		api->opt_error(api->opt_get(opts, "recipient_delimiter"),
		    "recipient_delimiter must not contain '@' or white space");
		bad = 1;
	} else if ((l->c->delimiters = strdup(o.delimiters ? o.delimiters : "")) == NULL)
		bad = 1;
	if (o.archive_mode) {
		/* octal, as chmod takes it: "0640" and "640" alike */
		char *end;
		long mode = strtol(o.archive_mode, &end, 8);
		if (*o.archive_mode == 0 || *end != 0 || mode < 0 || (mode & ~0666L) ||
		    (mode & 0600) != 0600) {
			api->opt_error(api->opt_get(opts, "archive_mode"),
			    "archive_mode must be octal permissions between 0600 and "
			    "0666 (no execute bits; the owner reads and writes), not '%s'",
			    o.archive_mode);
			bad = 1;
		} else
			l->c->file_mode = (int)mode;
	}
	api->opt_table_free(wt_option_table, &o);
	return bad ? -1 : 0;
}

int
wt_conf_load(const struct mm_api *api, const mm_opt *opts, struct wt_conf **out)
{
	struct loader l = { api, NULL, 0 };
	const mm_opt *groups, *aliases;
	int cont = 0;

	*out = NULL;
	if (!MM_API_HAS(api, opt_table)) {
		api->opt_error(opts, "wiretap needs a modmilterd that reads options "
		    "by table");
		return -1;
	}
	if ((l.c = calloc(1, sizeof(*l.c))) == NULL)
		return -1;
	l.c->api = api;
	md_hostname(l.c->host, sizeof(l.c->host));
	if (load_instance_keys(&l, opts, &cont) < 0)
		l.bad = 1;

	groups = api->opt_get(opts, "groups");
	if (groups && api->opt_type(groups) != MM_OPT_LIST) {
		api->opt_error(groups, "groups must be a list of groups");
		l.bad = 1;
	} else if (groups) {
		size_t n = api->opt_len(groups);
		if ((l.c->groups = calloc(n ? n : 1, sizeof(*l.c->groups))) == NULL)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			const mm_opt *g = api->opt_at(groups, i);
			struct wt_group *grp = &l.c->groups[l.c->ngroups++];
			if (load_group(&l, g, grp, cont) < 0) {
				l.bad = 1;
				continue;
			}
			for (size_t k = 0; k + 1 < l.c->ngroups; k++)
				if (l.c->groups[k].name &&
				    strcmp(l.c->groups[k].name, grp->name) == 0) {
					api->opt_error(api->opt_get(g, "name"),
					    "duplicate group name '%s'", grp->name);
					l.bad = 1;
				}
		}
	}

	aliases = api->opt_get(opts, "smart_alias");
	if (aliases && api->opt_type(aliases) != MM_OPT_LIST) {
		api->opt_error(aliases, "smart_alias must be a list of "
		    "{ from, to, deliver_to }");
		l.bad = 1;
	} else if (aliases) {
		size_t n = api->opt_len(aliases);
		if ((l.c->aliases = calloc(n ? n : 1, sizeof(*l.c->aliases))) == NULL)
			goto nomem;
		for (size_t i = 0; i < n; i++)
			if (load_alias(&l, api->opt_at(aliases, i),
			    &l.c->aliases[l.c->naliases++]) < 0)
				l.bad = 1;
	}

	if (!l.bad && l.c->ngroups == 0 && l.c->naliases == 0) {
		api->opt_error(opts, "wiretap needs groups or smart_alias");
		l.bad = 1;
	}
	if (l.bad) {
		wt_conf_free(l.c);
		return -1;
	}
	*out = l.c;
	return 0;
nomem:
	wt_conf_free(l.c);
	return -1;
}

void
wt_conf_free(struct wt_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ngroups; i++) {
		struct wt_group *g = &c->groups[i];
		free(g->name);
		strv_free(g->watch, g->nwatch);
		strv_free(g->copy_to, g->ncopy);
		free(g->archive);
	}
	free(c->groups);
	for (size_t i = 0; i < c->naliases; i++) {
		struct wt_alias *a = &c->aliases[i];
		free(a->from);
		free(a->to);
		strv_free(a->deliver_to, a->ndeliver);
	}
	free(c->aliases);
	free(c->delimiters);
	free(c);
}
