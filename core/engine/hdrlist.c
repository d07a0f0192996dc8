/*
 * NAME
 *	hdrlist - the working header list and its minimal diff
 * DESCRIPTION
 *	See hdrlist.h. Names compare case-insensitively (RFC 5322 §1.2.2).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hdrlist.h"
#include "util.h"

static void
grow(struct hdr **h, size_t *cap, size_t need)
{
	if (need > *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if (*cap < need)
			*cap = need;
		*h = xrealloc(*h, *cap * sizeof(**h));
	}
}

void
hdrlist_received(struct hdrlist *l, const char *name, const char *value)
{
	grow(&l->orig, &l->capo, l->norig + 1);
	l->orig[l->norig].name = xstrdup(name);
	l->orig[l->norig].value = xstrdup(value);
	l->orig[l->norig].orig = (int)l->norig;
	l->orig[l->norig].appended = 0;
	grow(&l->h, &l->cap, l->n + 1);
	/* the working entry shares the received strings until changed */
	l->h[l->n].name = l->orig[l->norig].name;
	l->h[l->n].value = l->orig[l->norig].value;
	l->h[l->n].orig = (int)l->norig;
	l->h[l->n].appended = 0;
	l->n++;
	l->norig++;
}

static void
bury(struct hdrlist *l, char *p)
{
	l->dead = xrealloc(l->dead, (l->ndead + 1) * sizeof(char *));
	l->dead[l->ndead++] = p;
}

void
hdrlist_insert(struct hdrlist *l, size_t idx, const char *name,
    const char *value)
{
	size_t at = idx;

	if (l->blind)
		idx = l->n;	/* keep the order of the calls */
	if (idx > l->n)
		idx = l->n;
	grow(&l->h, &l->cap, l->n + 1);
	memmove(&l->h[idx + 1], &l->h[idx], (l->n - idx) * sizeof(l->h[0]));
	l->h[idx].name = xstrdup(name);
	l->h[idx].value = xstrdup(value);
	l->h[idx].orig = -1;
	l->h[idx].appended = 0;
	l->h[idx].at = at;
	l->n++;
}

void
hdrlist_add(struct hdrlist *l, const char *name, const char *value)
{
	hdrlist_insert(l, l->n, name, value);
	l->h[l->n - 1].appended = 1;
}

static long
find(const struct hdr *h, size_t n, const char *name, size_t nth)
{
	size_t seen = 0;

	if (nth == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0 && ++seen == nth)
			return (long)i;
	return -1;
}

int
hdrlist_change(struct hdrlist *l, const char *name, size_t nth,
    const char *value)
{
	long i = find(l->h, l->n, name, nth);

	if (i < 0)
		return -1;
	if (value == NULL) {
		if (l->h[i].orig < 0) {
			bury(l, l->h[i].name);
			bury(l, l->h[i].value);
		} else if (l->h[i].value != l->orig[l->h[i].orig].value)
			bury(l, l->h[i].value);
		memmove(&l->h[i], &l->h[i + 1], (l->n - (size_t)i - 1) * sizeof(l->h[0]));
		l->n--;
	} else {
		if (l->h[i].orig < 0 || l->h[i].value != l->orig[l->h[i].orig].value)
			bury(l, l->h[i].value);
		l->h[i].value = xstrdup(value);
	}
	return 0;
}

const char *
hdrlist_get(const struct hdrlist *l, const char *name, size_t nth)
{
	long i = find(l->h, l->n, name, nth);
	return i < 0 ? NULL : l->h[i].value;
}

/* 1-based index of received header i among received headers of its name. */
static size_t
orig_nth(const struct hdrlist *l, int i)
{
	size_t k = 0;

	for (int j = 0; j <= i; j++)
		if (strcasecmp(l->orig[j].name, l->orig[i].name) == 0)
			k++;
	return k;
}

size_t
hdrlist_diff(const struct hdrlist *l, struct hdrop **opsp)
{
	struct hdrop *ops = xcalloc(l->norig + l->n + 1, sizeof(*ops));
	const struct hdr **kept = xcalloc(l->norig + 1, sizeof(*kept));
	size_t nops = 0, tail;

	for (size_t i = 0; i < l->n; i++)
		if (l->h[i].orig >= 0)
			kept[l->h[i].orig] = &l->h[i];

	/* changes and deletes, last original first */
	for (size_t k = l->norig; k-- > 0;) {
		const struct hdr *w = kept[k];
		if (w != NULL && strcmp(w->value, l->orig[k].value) == 0)
			continue;
		ops[nops].kind = w ? HDROP_CHANGE : HDROP_DELETE;
		ops[nops].name = l->orig[k].name;
		ops[nops].value = w ? w->value : NULL;
		ops[nops].index = orig_nth(l, (int)k);
		nops++;
	}

	if (l->blind) {
		for (size_t i = 0; i < l->n; i++) {
			ops[nops].kind = l->h[i].appended ? HDROP_ADD : HDROP_INSERT;
			ops[nops].name = l->h[i].name;
			ops[nops].value = l->h[i].value;
			ops[nops].index = l->h[i].at;
			nops++;
		}
		free(kept);
		*opsp = ops;
		return nops;
	}

	/* trailing new headers are plain adds */
	tail = l->n;
	while (tail > 0 && l->h[tail - 1].orig < 0 && l->h[tail - 1].appended)
		tail--;
	for (size_t i = 0; i < tail; i++)
		if (l->h[i].orig < 0) {
			ops[nops].kind = HDROP_INSERT;
			ops[nops].name = l->h[i].name;
			ops[nops].value = l->h[i].value;
			ops[nops].index = i;
			nops++;
		}
	for (size_t i = tail; i < l->n; i++) {
		ops[nops].kind = HDROP_ADD;
		ops[nops].name = l->h[i].name;
		ops[nops].value = l->h[i].value;
		nops++;
	}
	free(kept);
	*opsp = ops;
	return nops;
}

void
hdrlist_reset(struct hdrlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->h[i].orig < 0)
			free(l->h[i].name);
		if (l->h[i].orig < 0 || l->h[i].value != l->orig[l->h[i].orig].value)
			free(l->h[i].value);
	}
	for (size_t i = 0; i < l->norig; i++) {
		free(l->orig[i].name);
		free(l->orig[i].value);
	}
	for (size_t i = 0; i < l->ndead; i++)
		free(l->dead[i]);
	free(l->dead);
	free(l->h);
	free(l->orig);
	memset(l, 0, sizeof(*l));
}
