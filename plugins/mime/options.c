/*
 * NAME
 *	options - read the mime plugin's options
 * SYNOPSIS
 *	#include <modmilter/plugin.h>
 *	#include "mime.h"
 *
 *	struct mime_conf *c = mime_options(api, opts);
 *	mime_conf_free(c);
 * DESCRIPTION
 *	The core reads the options of mime_option_table (modmilterd
 *	--describe mime prints it) with their defaults; this turns them
 *	into a struct mime_conf that is read-only afterwards (shared by
 *	all connections), and reads exceptions:
 *
 *	banned_extensions (list), banned_types (list of content kinds:
 *	exe elf macho script lnk chm, or an archive kind), action
 *	(replace reject quarantine tag), scan_archives (bool), max_depth,
 *	max_parts, max_size (bytes, or with a K, M or G suffix), encrypted
 *	and corrupt and partial (ban allow), malformed (tag accept reject
 *	tempfail), on_limit (tempfail reject ban), save_dir, exceptions
 *	(map of domain to a list of extensions or kinds).
 *
 *	With action replace, save_dir must be an existing directory.
 * DIAGNOSTICS
 *	A bad value is reported at its line and column through
 *	api->opt_error() and NULL is returned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <modmilter/plugin.h>
#include "mime.h"
#include "options.h"

/* what the option table reads; mime_options() turns it into a mime_conf */
struct mime_opts {
	struct mm_strv banned_ext, banned_types;
	int action, scan_archives, encrypted, corrupt, partial, malformed, on_limit;
	long long max_depth, max_parts;
	size_t max_size;
	char *save_dir;
};

#define O(f)	offsetof(struct mime_opts, f)
#define POLICY	MM_OPT_WORDS("ban", "allow")

/*
 * The options the core reads (modmilterd --describe mime; the table of
 * doc/plugins/mime.md is generated from it). The enum words are in the
 * order of enum mime_action, mime_policy, mime_malformed and
 * mime_onlimit. exceptions, a map of domain to a list, is read here.
 */
const struct mm_option mime_option_table[] = {
	{ "banned_extensions", MM_OT_LIST, O(banned_ext), "ade adp bas bat chm cmd "
	  "com cpl crt dll exe hlp hta inf ins isp jar js jse lnk msc msi msp mst "
	  "pif ps1 reg scr sct shs url vb vbe vbs wsc wsf wsh", 0, 0, NULL,
	  "last extension of a normalised name, case-insensitive", NULL },
	{ "banned_types", MM_OT_LIST, O(banned_types), "exe elf macho script lnk chm",
	  0, 0, NULL, "content kinds banned whatever the name; archive kinds "
	  "(`zip`, `7z`, `rar`, `gzip`, `bzip2`, `xz`, `zstd`, `tar`, `iso`, `cab`) "
	  "may be added", NULL },
	{ "action", MM_OT_ENUM, O(action), "replace", 0, 0,
	  MM_OPT_WORDS("replace", "reject", "quarantine", "tag"),
	  "what to do with a message holding a banned file, see below",
	  "action must be one of: replace, reject, quarantine, tag" },
	{ "scan_archives", MM_OT_BOOL, O(scan_archives), "true", 0, 0, NULL,
	  "look inside archives", NULL },
	{ "max_depth", MM_OT_INT, O(max_depth), "5", 1, 100, NULL,
	  "nesting of forwarded messages and archives (multipart nesting is "
	  "bounded by `max_parts` and by GMime)", NULL },
	{ "max_parts", MM_OT_INT, O(max_parts), "1000", 1, 1000000, NULL,
	  "MIME parts plus archive members, per message", NULL },
	{ "max_size", MM_OT_SIZE, O(max_size), "64M", 1024, (double)(1ULL << 40),
	  NULL, "bytes decoded or decompressed per message (`K`, `M`, `G` "
	  "suffixes)", NULL },
	{ "encrypted", MM_OT_ENUM, O(encrypted), "ban", 0, 0, POLICY,
	  "an encrypted archive or member (its visible names are still checked)",
	  NULL },
	{ "corrupt", MM_OT_ENUM, O(corrupt), "ban", 0, 0, POLICY, "an archive (by "
	  "content or by name) that does not open or breaks half-way", NULL },
	{ "partial", MM_OT_ENUM, O(partial), "ban", 0, 0, POLICY,
	  "`message/partial` fragments", NULL },
	{ "malformed", MM_OT_ENUM, O(malformed), "tag", 0, 0,
	  MM_OPT_WORDS("tag", "accept", "reject", "tempfail"),
	  "malformed MIME: `tag` (accept, add a field), `accept`, `reject`, "
	  "`tempfail`", NULL },
	{ "on_limit", MM_OT_ENUM, O(on_limit), "tempfail", 0, 0,
	  MM_OPT_WORDS("tempfail", "reject", "ban"), "a limit reached: `tempfail`, "
	  "`reject`, or `ban` (the whole message is replaced by a notice, the "
	  "original saved)", NULL },
	{ "save_dir", MM_OT_STRING, O(save_dir), "/var/lib/modmilter/mime-saved", 0, 0,
	  NULL, "where originals are kept; must exist when `action` is `replace`",
	  NULL },
	{ "exceptions", MM_OT_HAND, 0, NULL, 0, 0, NULL, "per domain, extensions or "
	  "content kinds allowed, e.g. `{ \"partner.example\": [exe], "
	  "\".corp.example\": [js] }`", NULL },
	{ NULL }
};

/* "exe", ".EXE" -> "exe" */
static char *lower(const char *s);

static char *
ext_item(const char *s)
{
	while (*s == '.')
		s++;
	return lower(s);
}

static char *
lower(const char *s)
{
	char *r = mime_xstrdup(s);

	for (char *p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/* The node of item i of key (a list, or one scalar) for a message. */
static const mm_opt *
item_node(const struct mm_api *api, const mm_opt *opts, const char *key, size_t i)
{
	const mm_opt *n = api->opt_get(opts, key);

	if (n == NULL)
		return opts;
	return api->opt_type(n) == MM_OPT_LIST ? api->opt_at(n, i) : n;
}

/* Extensions or kinds, as written, into out; -1 after reporting. */
static int
words(const struct mm_api *api, const mm_opt *at, const char *key,
    char *const *in, size_t n, struct mime_strv *out)
{
	for (size_t i = 0; i < n; i++) {
		char *e = ext_item(in[i]);

		if (*e == 0 || strpbrk(e, " \t/\\")) {
			api->opt_error(at,
			    "%s: '%s' is not an extension or a kind", key, in[i]);
			free(e);
			return -1;
		}
		out->v = mime_xrealloc(out->v, (out->n + 1) * sizeof(char *));
		out->v[out->n++] = e;
	}
	return 0;
}

/* A list of scalars; -1 after reporting a bad node. */
static int
str_list(const struct mm_api *api, const mm_opt *node, const char *key,
    struct mime_strv *out)
{
	size_t n = api->opt_len(node);

	if (api->opt_type(node) != MM_OPT_LIST) {
		api->opt_error(node, "%s must be a list", key);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const mm_opt *it = api->opt_at(node, i);
		const char *s = api->opt_scalar(it);

		if (api->opt_type(it) != MM_OPT_SCALAR || s == NULL || *s == 0) {
			api->opt_error(it, "%s: each item must be a non-empty word", key);
			return -1;
		}
		if (words(api, it, key, (char *const *)&s, 1, out) < 0)
			return -1;
	}
	return 0;
}

static int
exceptions(const struct mm_api *api, const mm_opt *opts, struct mime_conf *c)
{
	const mm_opt *m = api->opt_get(opts, "exceptions");
	size_t n;

	if (m == NULL || api->opt_type(m) == MM_OPT_NONE)
		return 0;
	if (api->opt_type(m) != MM_OPT_MAP) {
		api->opt_error(m, "exceptions must be a map of domain to a list");
		return -1;
	}
	n = api->opt_len(m);
	c->exc = calloc(n ? n : 1, sizeof(*c->exc));
	if (c->exc == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const mm_opt *v;
		const char *dom = api->opt_key_at(m, i, &v);
		struct mime_strv items = { 0 };

		if (dom == NULL || *dom == 0 || strchr(dom, '@')) {
			api->opt_error(v ? v : m, "exceptions: '%s' is not a domain",
			    dom ? dom : "");
			return -1;
		}
		if (str_list(api, v, "exceptions", &items) < 0) {
			mime_strv_free(&items);
			return -1;
		}
		c->exc[c->nexc].domain = lower(dom);
		c->exc[c->nexc].items = items.v;
		c->exc[c->nexc].nitems = items.n;
		c->nexc++;
	}
	return 0;
}

struct mime_conf *
mime_options(const struct mm_api *api, const mm_opt *opts)
{
	struct mime_conf *c = calloc(1, sizeof(*c));
	struct mime_opts o;
	struct mime_strv l = { 0 };
	const mm_opt *node;
	struct stat st;

	memset(&o, 0, sizeof(o));
	if (c == NULL || !MM_API_HAS(api, opt_table)) {
		free(c);
		return NULL;
	}
	if (api->opt_table(opts, mime_option_table, &o) < 0)
		goto fail;
	for (size_t i = 0; i < o.banned_ext.n; i++)
		if (words(api, item_node(api, opts, "banned_extensions", i),
		    "banned_extensions", &o.banned_ext.v[i], 1, &l) < 0)
			goto fail;
	c->banned_ext = l.v;
	c->nbanned_ext = l.n;
	for (size_t i = 0; i < o.banned_types.n; i++) {
		enum mime_kind k = mime_kind_by_name(o.banned_types.v[i]);
		if (k == MIME_KIND_NONE) {
			api->opt_error(item_node(api, opts, "banned_types", i), "banned_types: "
			    "unknown kind '%s' (exe, elf, macho, script, lnk, chm, zip, 7z, "
			    "rar, gzip, bzip2, xz, zstd, tar, iso, cab)", o.banned_types.v[i]);
			goto fail;
		}
		c->banned_kinds |= 1u << k;
	}
	c->action = (enum mime_action)o.action;
	c->scan_archives = o.scan_archives;
	c->max_depth = (int)o.max_depth;
	c->max_parts = (long)o.max_parts;
	c->max_size = o.max_size;
	c->encrypted = (enum mime_policy)o.encrypted;
	c->corrupt = (enum mime_policy)o.corrupt;
	c->partial = (enum mime_policy)o.partial;
	c->malformed = (enum mime_malformed)o.malformed;
	c->on_limit = (enum mime_onlimit)o.on_limit;
	c->save_dir = mime_xstrdup(o.save_dir);
	if (c->action == MIME_ACT_REPLACE &&
	    (stat(c->save_dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		node = api->opt_get(opts, "save_dir");
		api->opt_error(node ? node : opts, "save_dir %s is not a directory "
		    "(create it, writable by the daemon's user only)", c->save_dir);
		goto fail;
	}
	if (exceptions(api, opts, c) < 0)
		goto fail;
	api->opt_table_free(mime_option_table, &o);
	return c;
fail:
	api->opt_table_free(mime_option_table, &o);
	mime_conf_free(c);
	return NULL;
}

void
mime_conf_free(struct mime_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nbanned_ext; i++)
		free(c->banned_ext[i]);
	free(c->banned_ext);
	for (size_t i = 0; i < c->nexc; i++) {
		free(c->exc[i].domain);
		for (size_t j = 0; j < c->exc[i].nitems; j++)
			free(c->exc[i].items[j]);
		free(c->exc[i].items);
	}
	free(c->exc);
	free(c->save_dir);
	free(c);
}
