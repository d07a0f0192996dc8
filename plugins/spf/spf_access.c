/*
 * NAME
 *	spf_access - SPF policy overrides from a Sendmail-style access file
 * SYNOPSIS
 *	See spf_access.h.
 * DESCRIPTION
 *	The parsed map is a sorted array of (result, key, action); lookups
 *	are binary searches. The file wrapper swaps in a new map under a
 *	read-write lock when the file changed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spf_access.h"

#define MAX_FILE	(16u << 20)	/* an access file is text, not a database */

struct entry {
	int result;
	char *key;		/* lower case; "" for the bare prefix */
	signed char act;
};

struct spf_access {
	struct entry *e;
	size_t n, cap;
};

struct spf_access_file {
	char *path;
	pthread_rwlock_t lock;
	pthread_mutex_t check;
	struct spf_access *map;
	time_t checked;
	struct stat st;
};

static const struct {
	const char *name;
	int result;
} prefixes[] = {
	{ "spf-pass:", SPFR_PASS }, { "spf-neutral:", SPFR_NEUTRAL },
	{ "spf-softfail:", SPFR_SOFTFAIL }, { "spf-fail:", SPFR_FAIL },
	{ "spf-permerror:", SPFR_PERMERROR }, { "spf-none:", SPFR_NONE },
	{ "spf-temperror:", SPFR_TEMPERROR },
};

static int
cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->result != y->result)
		return x->result < y->result ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void
report_line(spf_access_report report, void *arg, const char *name,
    size_t line, const char *what, const char *s, size_t len)
{
	char msg[512];

	if (report == NULL)
		return;
	snprintf(msg, sizeof(msg), "%s:%zu: %s: %.*s", name, line, what,
	    (int)(len > 200 ? 200 : len), s);
	for (char *p = msg; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	report(arg, msg);
}

static int
action_of(const char *v, size_t len)
{
	if (len == 2 && strncasecmp(v, "OK", 2) == 0)
		return SPF_ACT_ACCEPT;
	if (len == 3 && (strncasecmp(v, "CBV", 3) == 0 || strncasecmp(v, "DSN", 3) == 0))
		return SPF_ACT_VERIFY;
	if (len == 6 && strncasecmp(v, "REJECT", 6) == 0)
		return SPF_ACT_REJECT;
	return SPF_ACT_UNSET;
}

/* One line; 1 entry added, 0 not SPF's or blank, -1 bad, -2 memory */
static int
parse_line(struct spf_access *m, const char *s, size_t len, const char **why)
{
	size_t i = 0, ks, ke, vs, ve;
	int result = -1, act;
	struct entry *e;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	ks = i;
	while (i < len && !isspace((unsigned char)s[i]))
		i++;
	ke = i;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	vs = i;
	ve = len;
	while (ve > vs && isspace((unsigned char)s[ve - 1]))
		ve--;
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		size_t pl = strlen(prefixes[p].name);
		if (ke - ks >= pl && strncasecmp(s + ks, prefixes[p].name, pl) == 0) {
			result = prefixes[p].result;
			ks += pl;
			break;
		}
	}
	if (result < 0) {
		if (ke - ks >= 4 && strncasecmp(s + ks, "spf-", 4) == 0) {
			*why = "unknown SPF result";
			return -1;
		}
		return 0;	/* another map's entry */
	}
	if (vs == ve) {
		*why = "no value";
		return -1;
	}
	if ((act = action_of(s + vs, ve - vs)) == SPF_ACT_UNSET) {
		*why = "value must be OK, CBV, DSN or REJECT";
		return -1;
	}
	for (size_t k = ks; k < ke; k++)
		if ((unsigned char)s[k] < 0x21 || s[k] == '<' || s[k] == '>' ||
		    s[k] == ':') {
			*why = "bad character in the address or domain";
			return -1;
		}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 16;
		struct entry *ne = realloc(m->e, nc * sizeof(*ne));
		if (ne == NULL)
			return -2;
		m->e = ne;
		m->cap = nc;
	}
	e = &m->e[m->n];
	if ((e->key = strndup(s + ks, ke - ks)) == NULL)
		return -2;
	for (char *p = e->key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (ke > ks && e->key[ke - ks - 1] == '.' && strchr(e->key, '@') == NULL)
		e->key[ke - ks - 1] = '\0';	/* "example.com." */
	e->result = result;
	e->act = (signed char)act;
	m->n++;
	return 1;
}

struct spf_access *
spf_access_parse(const char *text, size_t len, const char *name,
    spf_access_report report, void *arg, int *bad)
{
	struct spf_access *m = calloc(1, sizeof(*m));
	size_t line = 0, i = 0, j = 0;

	if (bad)
		*bad = 0;
	if (m == NULL)
		return NULL;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i), *why = NULL;
		size_t end = nl ? (size_t)(nl - text) : len;
		int r;

		line++;
		r = parse_line(m, text + i, end - i, &why);
		if (r == -2) {
			spf_access_free(m);
			return NULL;
		}
		if (r == -1) {
			report_line(report, arg, name, line, why, text + i, end - i);
			if (bad)
				(*bad)++;
		}
		i = end + 1;
	}
	if (m->n > 1)
		qsort(m->e, m->n, sizeof(*m->e), cmp);
	/* the first of equal keys wins, as a later line would in Sendmail's
	   makemap: keep one */
	for (i = 0; i < m->n; i++) {
		if (j > 0 && cmp(&m->e[j - 1], &m->e[i]) == 0) {
			free(m->e[i].key);
			continue;
		}
		m->e[j++] = m->e[i];
	}
	m->n = j;
	return m;
}

static int
find(const struct spf_access *m, spf_result r, const char *key)
{
	struct entry k = { (int)r, (char *)key, 0 };
	const struct entry *e;

	if (m == NULL || m->n == 0)
		return SPF_ACT_UNSET;
	e = bsearch(&k, m->e, m->n, sizeof(*m->e), cmp);
	return e ? e->act : SPF_ACT_UNSET;
}

enum spf_action
spf_access_lookup(const struct spf_access *m, const char *sender,
    const char *domain, spf_result r)
{
	char key[600];
	int a;

	if (m == NULL || m->n == 0)
		return SPF_ACT_UNSET;
	if (sender && *sender && strlen(sender) < sizeof(key)) {
		size_t n = strlen(sender);
		for (size_t i = 0; i <= n; i++)
			key[i] = (char)tolower((unsigned char)sender[i]);
		if ((a = find(m, r, key)) != SPF_ACT_UNSET)
			return (enum spf_action)a;
	}
	if (domain && *domain && strlen(domain) < sizeof(key)) {
		size_t n = strlen(domain);
		for (size_t i = 0; i <= n; i++)
			key[i] = (char)tolower((unsigned char)domain[i]);
		if (n > 0 && key[n - 1] == '.')
			key[n - 1] = '\0';
		if ((a = find(m, r, key)) != SPF_ACT_UNSET)
			return (enum spf_action)a;
	}
	return (enum spf_action)find(m, r, "");
}

size_t
spf_access_size(const struct spf_access *m)
{
	return m ? m->n : 0;
}

void
spf_access_free(struct spf_access *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].key);
	free(m->e);
	free(m);
}

/* Read and parse path; NULL with a report when it cannot be read. */
static struct spf_access *
load(const char *path, struct stat *st, spf_access_report report, void *arg,
    int *bad)
{
	struct spf_access *m = NULL;
	char msg[600], *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0 || fstat(fd, st) < 0 || !S_ISREG(st->st_mode) ||
	    (size_t)st->st_size > MAX_FILE) {
		snprintf(msg, sizeof(msg), "%s: %s", path, fd < 0 ? strerror(errno) :
		    "not a regular file of at most 16 MB");
		goto out;
	}
	if ((buf = malloc((size_t)st->st_size + 1)) == NULL) {
		snprintf(msg, sizeof(msg), "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st->st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st->st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if ((m = spf_access_parse(buf, got, path, report, arg, bad)) == NULL)
		snprintf(msg, sizeof(msg), "%s: out of memory", path);
out:
	if (m == NULL && report)
		report(arg, msg);
	if (fd >= 0)
		close(fd);
	free(buf);
	return m;
}

struct spf_access_file *
spf_access_open(const char *path, spf_access_report report, void *arg, int *bad)
{
	struct spf_access_file *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->path = strdup(path)) == NULL) {
		free(f);
		return NULL;
	}
	if ((f->map = load(path, &f->st, report, arg, bad)) == NULL) {
		free(f->path);
		free(f);
		return NULL;
	}
	f->checked = time(NULL);
	pthread_rwlock_init(&f->lock, NULL);
	pthread_mutex_init(&f->check, NULL);
	return f;
}

/* Read the file again when it changed (one thread checks at a time). */
static void
refresh(struct spf_access_file *f, time_t now, spf_access_report report,
    void *arg)
{
	struct stat st;
	struct spf_access *m, *old;

	if (pthread_mutex_trylock(&f->check) != 0)
		return;
	if (now == f->checked || stat(f->path, &st) < 0 ||
	    (st.st_mtime == f->st.st_mtime && st.st_size == f->st.st_size &&
	    st.st_ino == f->st.st_ino)) {
		f->checked = now;
		pthread_mutex_unlock(&f->check);
		return;
	}
	f->checked = now;
	if ((m = load(f->path, &st, report, arg, NULL)) != NULL) {
		pthread_rwlock_wrlock(&f->lock);
		old = f->map;
		f->map = m;
		f->st = st;
		pthread_rwlock_unlock(&f->lock);
		spf_access_free(old);
	}
	pthread_mutex_unlock(&f->check);
}

enum spf_action
spf_access_file_lookup(struct spf_access_file *f, const char *sender,
    const char *domain, spf_result r, time_t now, spf_access_report report,
    void *arg)
{
	enum spf_action a;

	if (f == NULL)
		return SPF_ACT_UNSET;
	if (now != f->checked)
		refresh(f, now, report, arg);
	pthread_rwlock_rdlock(&f->lock);
	a = spf_access_lookup(f->map, sender, domain, r);
	pthread_rwlock_unlock(&f->lock);
	return a;
}

void
spf_access_close(struct spf_access_file *f)
{
	if (f == NULL)
		return;
	spf_access_free(f->map);
	pthread_rwlock_destroy(&f->lock);
	pthread_mutex_destroy(&f->check);
	free(f->path);
	free(f);
}
