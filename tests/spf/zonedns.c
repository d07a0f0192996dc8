/*
 * NAME
 *	zonedns - a libspf2 DNS layer answering from test zone data
 * SYNOPSIS
 *	See zonedns.h.
 * DESCRIPTION
 *	A list of names, each with its entries in the order given; a
 *	lookup walks the entries of the name as pyspf's test driver does.
 *	Lookups may run from many threads at once; adding and clearing
 *	may not run alongside them.
 * DIAGNOSTICS
 *	See zonedns.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zonedns.h"

#define TYPE_TIMEOUT	(-1)
#define MAX_CNAMES	8

struct entry {
	int type;
	int prio;
	char *data;
	struct entry *next;
};

struct zname {
	char *name;
	struct entry *first, *last;
	struct zname *next;
};

struct zone {
	struct zname *names;
	void (*hook)(const char *name);
	int queries;
};

static char *
norm(const char *s)
{
	size_t n = strlen(s);
	char *r;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if ((r = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		r[i] = (char)tolower((unsigned char)s[i]);
	r[n] = 0;
	return r;
}

static struct zname *
find(struct zone *z, const char *name)
{
	for (struct zname *n = z->names; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static int
add(SPF_dns_server_t *s, const char *name, int type, const char *data, int prio)
{
	struct zone *z = s->hook;
	char *key = norm(name);
	struct zname *n;
	struct entry *e;

	if (key == NULL)
		return -1;
	if ((n = find(z, key)) == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL) {
			free(key);
			return -1;
		}
		n->name = key;
		n->next = z->names;
		z->names = n;
	} else
		free(key);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->type = type;
	e->prio = prio;
	if (data && (e->data = strdup(data)) == NULL) {
		free(e);
		return -1;
	}
	if (n->last)
		n->last->next = e;
	else
		n->first = e;
	n->last = e;
	return 0;
}

int
zonedns_add(SPF_dns_server_t *z, const char *name, ns_type type,
    const char *data, int prio)
{
	return add(z, name, (int)type, data, prio);
}

int
zonedns_add_timeout(SPF_dns_server_t *z, const char *name)
{
	return add(z, name, TYPE_TIMEOUT, NULL, 0);
}

static int
put(SPF_dns_rr_t *rr, int i, ns_type type, const char *data)
{
	if (type == ns_t_a || type == ns_t_aaaa) {
		unsigned char a[16];
		int fam = type == ns_t_a ? AF_INET : AF_INET6;
		if (inet_pton(fam, data, a) != 1 ||
		    SPF_dns_rr_buf_realloc(rr, i, 16) != SPF_E_SUCCESS)
			return -1;
		memcpy(rr->rr[i], a, fam == AF_INET ? 4 : 16);
		return 0;
	}
	if (SPF_dns_rr_buf_realloc(rr, i, strlen(data) + 1) != SPF_E_SUCCESS)
		return -1;
	strcpy(rr->rr[i]->txt, data);
	return 0;
}

static SPF_dns_rr_t *
answer(SPF_dns_server_t *s, const char *qname, const char *name, ns_type type,
    int depth)
{
	struct zone *z = s->hook;
	struct zname *n = find(z, name);
	const char *cname = NULL;
	SPF_dns_rr_t *rr;
	int seen = 0, count = 0;

	if (n == NULL)
		return SPF_dns_rr_new_init(s, qname, type, 0, HOST_NOT_FOUND);
	if ((rr = SPF_dns_rr_new_init(s, qname, type, 0, NETDB_SUCCESS)) == NULL)
		return NULL;
	for (struct entry *e = n->first; e; e = e->next) {
		if (e->type == TYPE_TIMEOUT) {
			if (!seen) {
				rr->herrno = TRY_AGAIN;
				rr->num_rr = 0;
				return rr;
			}
			break;
		}
		if (e->type == ns_t_cname && type != ns_t_cname)
			cname = e->data;
		if (e->type != (int)type)
			continue;
		seen = 1;
		if (put(rr, count, type, e->data) < 0) {
			rr->herrno = NO_RECOVERY;
			rr->num_rr = count;
			return rr;
		}
		rr->num_rr = ++count;
	}
	if (count == 0 && cname) {
		char *target = norm(cname);
		SPF_dns_rr_t *r2;

		SPF_dns_rr_free(rr);
		if (target == NULL)
			return NULL;
		if (depth >= MAX_CNAMES)	/* a loop: what a resolver calls SERVFAIL */
			r2 = SPF_dns_rr_new_init(s, qname, type, 0, TRY_AGAIN);
		else
			r2 = answer(s, qname, target, type, depth + 1);
		free(target);
		return r2;
	}
	if (count == 0)
		rr->herrno = NO_DATA;
	return rr;
}

static SPF_dns_rr_t *
lookup(SPF_dns_server_t *s, const char *domain, ns_type type, int should_cache)
{
	struct zone *z = s->hook;
	char *key;
	SPF_dns_rr_t *rr;

	(void)should_cache;
	__atomic_add_fetch(&z->queries, 1, __ATOMIC_RELAXED);
	if (z->hook)
		z->hook(domain);	/* may unwind: nothing allocated yet */
	if ((key = norm(domain)) == NULL)
		return NULL;
	rr = answer(s, domain, key, type, 0);
	free(key);
	return rr;
}

void
zonedns_clear(SPF_dns_server_t *s)
{
	struct zone *z = s->hook;

	while (z->names) {
		struct zname *n = z->names;
		z->names = n->next;
		while (n->first) {
			struct entry *e = n->first;
			n->first = e->next;
			free(e->data);
			free(e);
		}
		free(n->name);
		free(n);
	}
	z->queries = 0;
}

static void
destroy(SPF_dns_server_t *s)
{
	zonedns_clear(s);
	free(s->hook);
	free(s);
}

void
zonedns_set_hook(SPF_dns_server_t *s, void (*hook)(const char *name))
{
	((struct zone *)s->hook)->hook = hook;
}

int
zonedns_queries(SPF_dns_server_t *s)
{
	return __atomic_load_n(&((struct zone *)s->hook)->queries, __ATOMIC_RELAXED);
}

SPF_dns_server_t *
zonedns_new(void)
{
	SPF_dns_server_t *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->hook = calloc(1, sizeof(struct zone))) == NULL) {
		free(s);
		return NULL;
	}
	s->destroy = destroy;
	s->lookup = lookup;
	s->name = "zonedns";
	return s;
}
