/*
 * NAME
 *	metrics_plugin - counters and histograms that plugins register
 * DESCRIPTION
 *	See metrics.h and the metric_* members of the API table. A metric
 *	is one (name, instance) pair; the registry is never emptied, so
 *	the next generation of an instance finds its metrics again after a
 *	reload. Label values are bounded (MAX_VALUES, then "other") because
 *	a plugin might label by something mail controls.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define MAX_VALUES	64
#define MAX_BOUNDS	24

struct series {
	char *lv;			/* label value, "" without a label */
	double sum;			/* counter value, or histogram sum */
	unsigned long long count;
	unsigned long long bucket[MAX_BOUNDS + 1];
};

struct mm_metric {
	struct mm_metric *next;
	char *name, *help, *label, *instance;
	int hist;
	double bounds[MAX_BOUNDS];
	size_t nbounds;
	pthread_mutex_t lock;
	struct series s[MAX_VALUES + 1];	/* the last one is "other" */
	size_t n;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mm_metric *metrics;

static int
valid_name(const char *s)
{
	if (s == NULL || *s == 0 || strlen(s) > 100)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

struct mm_metric *
metrics_plugin(const char *module, const char *instance, const char *name,
    const char *help, const char *label, const double *bounds, size_t nb,
    char *err, size_t errlen)
{
	struct mm_metric *m;
	char *full, *p;
	int hist = bounds != NULL;

	if (!valid_name(name) || (label && (!valid_name(label) ||
	    strcmp(label, "instance") == 0 || strcmp(label, "le") == 0))) {
		snprintf(err, errlen, "metric %s: names and labels are [a-z0-9_] "
		    "(and a label is not 'instance' or 'le')", name ? name : "(null)");
		return NULL;
	}
	if (hist && (nb == 0 || nb > MAX_BOUNDS)) {
		snprintf(err, errlen, "metric %s: 1 to %d histogram bounds", name, MAX_BOUNDS);
		return NULL;
	}
	for (size_t i = 1; hist && i < nb; i++)
		if (!(bounds[i] > bounds[i - 1])) {
			snprintf(err, errlen, "metric %s: bounds must ascend", name);
			return NULL;
		}
	full = xasprintf("modmilter_%s_%s", module, name);
	for (p = full + 10; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p)))
			*p = *p >= 'A' && *p <= 'Z' ? (char)tolower((unsigned char)*p) : '_';
	pthread_mutex_lock(&reg_lock);
	for (m = metrics; m; m = m->next)
		if (strcmp(m->name, full) == 0 && strcmp(m->instance, instance) == 0)
			break;
	if (m) {
		pthread_mutex_unlock(&reg_lock);
		free(full);
		if (m->hist != hist || (m->label == NULL) != (label == NULL) ||
		    (label && strcmp(m->label, label) != 0)) {
			snprintf(err, errlen, "metric %s registered again with another "
			    "type or label", m->name);
			return NULL;
		}
		return m;
	}
	m = xcalloc(1, sizeof(*m));
	m->name = full;
	m->help = xstrdup(help ? help : "");
	m->label = label ? xstrdup(label) : NULL;
	m->instance = xstrdup(instance);
	m->hist = hist;
	m->nbounds = nb;
	for (size_t i = 0; i < nb; i++)
		m->bounds[i] = bounds[i];
	pthread_mutex_init(&m->lock, NULL);
	/* appended: the exposition keeps registration order */
	{
		struct mm_metric **pp = &metrics;
		while (*pp)
			pp = &(*pp)->next;
		*pp = m;
	}
	pthread_mutex_unlock(&reg_lock);
	return m;
}

/* The series of a label value; the caller holds m->lock. */
static struct series *
series_of(struct mm_metric *m, const char *lv)
{
	if (m->label == NULL || lv == NULL)
		lv = "";
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->s[i].lv, lv) == 0)
			return &m->s[i];
	if (m->n < MAX_VALUES) {
		char *c = m->s[m->n].lv = xstrdup(lv);
		/* what the exposition format would have to escape */
		for (; *c; c++)
			if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
				*c = '_';
		return &m->s[m->n++];
	}
	if (m->s[MAX_VALUES].lv == NULL)
		m->s[MAX_VALUES].lv = xstrdup("other");
	return &m->s[MAX_VALUES];
}

void
metrics_plugin_add(struct mm_metric *m, const char *lv, double v)
{
	if (m == NULL || m->hist || !(v >= 0))
		return;
	pthread_mutex_lock(&m->lock);
	series_of(m, lv)->sum += v;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_plugin_observe(struct mm_metric *m, const char *lv, double v)
{
	struct series *s;
	size_t i = 0;

	if (m == NULL || !m->hist || v != v)
		return;
	while (i < m->nbounds && v > m->bounds[i])
		i++;
	pthread_mutex_lock(&m->lock);
	s = series_of(m, lv);
	s->bucket[i]++;
	s->count++;
	s->sum += v;
	pthread_mutex_unlock(&m->lock);
}

static void
labels(struct mm_buf *b, const struct mm_metric *m, const struct series *s)
{
	buf_printf(b, "instance=\"%s\"", m->instance);
	if (m->label)
		buf_printf(b, ",%s=\"%s\"", m->label, s->lv);
}

void
metrics_plugin_format(struct mm_buf *b)
{
	pthread_mutex_lock(&reg_lock);
	for (struct mm_metric *m = metrics; m; m = m->next) {
		int first = 1;
		for (struct mm_metric *o = metrics; o != m; o = o->next)
			if (strcmp(o->name, m->name) == 0)
				first = 0;
		if (first)
			buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
			    m->name, m->hist ? "histogram" : "counter");
		pthread_mutex_lock(&m->lock);
		for (size_t k = 0; k <= MAX_VALUES; k++) {
			const struct series *s = &m->s[k];
			unsigned long long cum = 0;
			if (s->lv == NULL)
				continue;
			if (!m->hist) {
				buf_printf(b, "%s{", m->name);
				labels(b, m, s);
				buf_printf(b, "} %.17g\n", s->sum);
				continue;
			}
			for (size_t i = 0; i <= m->nbounds; i++) {
				cum += s->bucket[i];
				buf_printf(b, "%s_bucket{", m->name);
				labels(b, m, s);
				if (i < m->nbounds)
					buf_printf(b, ",le=\"%g\"} %llu\n", m->bounds[i], cum);
				else
					buf_printf(b, ",le=\"+Inf\"} %llu\n", cum);
			}
			buf_printf(b, "%s_sum{", m->name);
			labels(b, m, s);
			buf_printf(b, "} %.17g\n%s_count{", s->sum, m->name);
			labels(b, m, s);
			buf_printf(b, "} %llu\n", s->count);
		}
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&reg_lock);
}
