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
 *	Reads every option, with its default, into a struct mime_conf
 *	that is read-only afterwards (shared by all connections):
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

static const char *const default_ext[] = {
	"ade", "adp", "bas", "bat", "chm", "cmd", "com", "cpl", "crt", "dll",
	"exe", "hlp", "hta", "inf", "ins", "isp", "jar", "js", "jse", "lnk",
	"msc", "msi", "msp", "mst", "pif", "ps1", "reg", "scr", "sct", "shs",
	"url", "vb", "vbe", "vbs", "wsc", "wsf", "wsh",
};

static const enum mime_kind default_kinds[] = {
	MIME_KIND_EXE, MIME_KIND_ELF, MIME_KIND_MACHO, MIME_KIND_SCRIPT,
	MIME_KIND_LNK, MIME_KIND_CHM,
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
		char *e;

		if (api->opt_type(it) != MM_OPT_SCALAR || s == NULL || *s == 0) {
			api->opt_error(it, "%s: each item must be a non-empty word", key);
			return -1;
		}
		e = ext_item(s);
		if (*e == 0 || strpbrk(e, " \t/\\")) {
			api->opt_error(it, "%s: '%s' is not an extension or a kind", key, s);
			free(e);
			return -1;
		}
		out->v = mime_xrealloc(out->v, (out->n + 1) * sizeof(char *));
		out->v[out->n++] = e;
	}
	return 0;
}

/* One of several words; -1 after reporting. */
static int
choice(const struct mm_api *api, const mm_opt *opts, const char *key,
    const char *const *words, int def, int *out)
{
	const char *v;
	struct mime_buf list = { 0 };

	if (api->opt_str(opts, key, words[def], &v) < 0)
		return -1;
	for (int i = 0; words[i]; i++)
		if (strcasecmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
	for (int i = 0; words[i]; i++)
		mime_buf_printf(&list, "%s%s", i ? ", " : "", words[i]);
	api->opt_error(api->opt_get(opts, key), "%s must be one of: %s", key, list.data);
	mime_buf_free(&list);
	return -1;
}

/* "64MB", "512K", 1048576 */
static int
size_opt(const struct mm_api *api, const mm_opt *opts, const char *key,
    size_t def, size_t *out)
{
	const mm_opt *n = api->opt_get(opts, key);
	const char *s;
	char *end;
	unsigned long long v;

	if (n == NULL || api->opt_type(n) == MM_OPT_NONE) {
		*out = def;
		return 0;
	}
	s = api->opt_scalar(n);
	if (api->opt_type(n) != MM_OPT_SCALAR || s == NULL)
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		goto bad;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v < 1024 || v > ((unsigned long long)1 << 40))
		goto bad;
	*out = (size_t)v;
	return 0;
bad:
	api->opt_error(n, "%s must be a size between 1K and 1024G (e.g. 64M)", key);
	return -1;
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
	static const char *const actions[] = { "replace", "reject", "quarantine",
		"tag", NULL };
	static const char *const policies[] = { "ban", "allow", NULL };
	static const char *const malformed[] = { "tag", "accept", "reject",
		"tempfail", NULL };
	static const char *const onlimit[] = { "tempfail", "reject", "ban", NULL };
	struct mime_conf *c = calloc(1, sizeof(*c));
	const mm_opt *node;
	const char *dir;
	long long v;
	int b, e;
	struct stat st;

	if (c == NULL)
		return NULL;
	node = api->opt_get(opts, "banned_extensions");
	if (node && api->opt_type(node) != MM_OPT_NONE) {
		struct mime_strv l = { 0 };
		if (str_list(api, node, "banned_extensions", &l) < 0) {
			mime_strv_free(&l);
			goto fail;
		}
		c->banned_ext = l.v;
		c->nbanned_ext = l.n;
	} else {
		c->nbanned_ext = sizeof(default_ext) / sizeof(default_ext[0]);
		c->banned_ext = mime_xmalloc(c->nbanned_ext * sizeof(char *));
		for (size_t i = 0; i < c->nbanned_ext; i++)
			c->banned_ext[i] = mime_xstrdup(default_ext[i]);
	}
	node = api->opt_get(opts, "banned_types");
	if (node && api->opt_type(node) != MM_OPT_NONE) {
		struct mime_strv l = { 0 };
		if (str_list(api, node, "banned_types", &l) < 0) {
			mime_strv_free(&l);
			goto fail;
		}
		for (size_t i = 0; i < l.n; i++) {
			enum mime_kind k = mime_kind_by_name(l.v[i]);
			if (k == MIME_KIND_NONE) {
				api->opt_error(api->opt_at(node, i), "banned_types: unknown "
				    "kind '%s' (exe, elf, macho, script, lnk, chm, zip, 7z, "
				    "rar, gzip, bzip2, xz, zstd, tar, iso, cab)", l.v[i]);
				mime_strv_free(&l);
				goto fail;
			}
			c->banned_kinds |= 1u << k;
		}
		mime_strv_free(&l);
	} else
		for (size_t i = 0; i < sizeof(default_kinds) / sizeof(default_kinds[0]); i++)
			c->banned_kinds |= 1u << default_kinds[i];

	if (choice(api, opts, "action", actions, 0, &e) < 0)
		goto fail;
	c->action = (enum mime_action)e;
	if (api->opt_bool(opts, "scan_archives", 1, &b) < 0)
		goto fail;
	c->scan_archives = b;
	if (api->opt_int(opts, "max_depth", 1, 100, 5, &v) < 0)
		goto fail;
	c->max_depth = (int)v;
	if (api->opt_int(opts, "max_parts", 1, 1000000, 1000, &v) < 0)
		goto fail;
	c->max_parts = (long)v;
	if (size_opt(api, opts, "max_size", (size_t)64 << 20, &c->max_size) < 0)
		goto fail;
	if (choice(api, opts, "encrypted", policies, 0, &e) < 0)
		goto fail;
	c->encrypted = (enum mime_policy)e;
	if (choice(api, opts, "corrupt", policies, 0, &e) < 0)
		goto fail;
	c->corrupt = (enum mime_policy)e;
	if (choice(api, opts, "partial", policies, 0, &e) < 0)
		goto fail;
	c->partial = (enum mime_policy)e;
	if (choice(api, opts, "malformed", malformed, 0, &e) < 0)
		goto fail;
	c->malformed = (enum mime_malformed)e;
	if (choice(api, opts, "on_limit", onlimit, 0, &e) < 0)
		goto fail;
	c->on_limit = (enum mime_onlimit)e;
	if (api->opt_str(opts, "save_dir", "/var/lib/modmilter/mime-saved", &dir) < 0)
		goto fail;
	c->save_dir = mime_xstrdup(dir);
	if (c->action == MIME_ACT_REPLACE &&
	    (stat(c->save_dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		node = api->opt_get(opts, "save_dir");
		api->opt_error(node ? node : opts, "save_dir %s is not a directory "
		    "(create it, writable by the daemon's user only)", c->save_dir);
		goto fail;
	}
	if (exceptions(api, opts, c) < 0)
		goto fail;
	return c;
fail:
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
