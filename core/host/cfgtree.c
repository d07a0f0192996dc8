/*
 * NAME
 *	cfgtree - a YAML file as a tree of nodes that remember line and column
 * DESCRIPTION
 *	libyaml's document loader does the parsing (anchors and aliases
 *	included); this module copies the document into mm_opt nodes that
 *	carry their position and a "used" mark per map key. See cfgtree.h.
 *
 *	An alias is copied wherever it is used, so a few lines of nested
 *	aliases can stand for billions of nodes: the copy stops at
 *	CFG_MAX_NODES with an error rather than exhausting memory (which
 *	would end a running daemon on reload).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cfgtree.h"
#include "util.h"

/* far above any real configuration (the sample has about 60 nodes) */
#define CFG_MAX_NODES	200000

void
cfgtree_error_at(struct cfgtree *t, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->errors = xrealloc(t->errors, (t->nerrors + 1) * sizeof(char *));
	t->errors[t->nerrors++] = xasprintf("%s:%d:%d: %s", t->file, line, col, msg);
}

void
cfg_verror(const mm_opt *node, const char *fmt, va_list ap)
{
	char msg[1024];

	if (node == NULL || node->tree == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	cfgtree_error_at(node->tree, node->line, node->col, "%s", msg);
}

void
cfg_error(const mm_opt *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(node, fmt, ap);
	va_end(ap);
}

/* left: nodes that may still be made; at 0 lists and maps stop growing */
static struct mm_opt *
convert(struct cfgtree *t, yaml_document_t *doc, yaml_node_t *yn, int depth,
    size_t *left)
{
	struct mm_opt *o = xcalloc(1, sizeof(*o));

	o->tree = t;
	o->line = (int)yn->start_mark.line + 1;
	o->col = (int)yn->start_mark.column + 1;
	if (*left == 1)
		cfgtree_error_at(t, o->line, o->col, "more than %d values, aliases "
		    "expanded: not a configuration", CFG_MAX_NODES);
	if (*left > 0)
		(*left)--;
	if (depth > 64 || *left == 0) {
		/* once: aliases can make a deep tree of many thousand leaves,
		   and an error each would flood the terminal or the log */
		if (depth > 64 && !t->too_deep) {
			t->too_deep = 1;
			cfgtree_error_at(t, o->line, o->col, "nesting too deep");
		}
		o->type = MM_OPT_SCALAR;
		o->scalar = xstrdup("");
		return o;
	}
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		o->type = MM_OPT_SCALAR;
		o->scalar = xstrndup((char *)yn->data.scalar.value, yn->data.scalar.length);
		o->quoted = yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;
		o->type = MM_OPT_LIST;
		o->n = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
		o->items = xcalloc(o->n ? o->n : 1, sizeof(*o->items));
		size_t i = 0;
		for (it = yn->data.sequence.items.start;
		    it < yn->data.sequence.items.top && *left > 0; it++)
			o->items[i++] = convert(t, doc, yaml_document_get_node(doc, *it),
			    depth + 1, left);
		o->n = i;
		break;
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p;
		o->type = MM_OPT_MAP;
		o->n = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
		o->items = xcalloc(o->n ? o->n : 1, sizeof(*o->items));
		o->keys = xcalloc(o->n ? o->n : 1, sizeof(*o->keys));
		o->used = xcalloc(o->n ? o->n : 1, 1);
		size_t i = 0;
		for (p = yn->data.mapping.pairs.start;
		    p < yn->data.mapping.pairs.top && *left > 0; p++, i++) {
			o->keys[i] = convert(t, doc, yaml_document_get_node(doc, p->key),
			    depth + 1, left);
			o->items[i] = convert(t, doc, yaml_document_get_node(doc, p->value),
			    depth + 1, left);
			if (o->keys[i]->type != MM_OPT_SCALAR)
				cfg_error(o->keys[i], "a key must be a plain string");
			for (size_t j = 0; j < i; j++)
				if (o->keys[j]->scalar && o->keys[i]->scalar &&
				    strcmp(o->keys[j]->scalar, o->keys[i]->scalar) == 0)
					cfg_error(o->keys[i], "duplicate key '%s' (first at line %d)",
					    o->keys[i]->scalar, o->keys[j]->line);
		}
		o->n = i;
		break;
	}
	default:
		o->type = MM_OPT_SCALAR;
		o->scalar = xstrdup("");
		break;
	}
	return o;
}

struct cfgtree *
cfgtree_parse(const char *name, const char *text, size_t len)
{
	struct cfgtree *t = xcalloc(1, sizeof(*t));
	yaml_parser_t parser;
	yaml_document_t doc;

	t->file = xstrdup(name);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		cfgtree_error_at(t, (int)parser.problem_mark.line + 1,
		    (int)parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
		    parser.problem ? parser.problem : "unknown",
		    parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return t;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	size_t left = CFG_MAX_NODES + 1;
	if (root)
		t->root = convert(t, &doc, root, 0, &left);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return t;
}

struct cfgtree *
cfgtree_load(const char *path)
{
	char *text, *err = NULL;
	size_t len;
	struct cfgtree *t;

	if ((text = read_file(path, 16 * 1024 * 1024, &len, &err)) == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->file = xstrdup(path);
		cfgtree_error_at(t, 0, 0, "%s", err);
		free(err);
		return t;
	}
	t = cfgtree_parse(path, text, len);
	free(text);
	return t;
}

static void
node_free(struct mm_opt *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n; i++) {
		node_free(o->items[i]);
		if (o->keys)
			node_free(o->keys[i]);
	}
	free(o->items);
	free(o->keys);
	free(o->used);
	free(o->scalar);
	free(o);
}

void
cfgtree_free(struct cfgtree *t)
{
	if (t == NULL)
		return;
	node_free(t->root);
	for (size_t i = 0; i < t->nerrors; i++)
		free(t->errors[i]);
	free(t->errors);
	free(t->file);
	free(t);
}

void
cfgtree_print_errors(const struct cfgtree *t, FILE *fp)
{
	for (size_t i = 0; i < t->nerrors; i++)
		fprintf(fp, "%s\n", t->errors[i]);
}

mm_opt_type
cfg_type(const mm_opt *node)
{
	return node ? node->type : MM_OPT_NONE;
}

int
cfg_is_null(const mm_opt *node)
{
	return node == NULL || (node->type == MM_OPT_SCALAR && !node->quoted &&
	    (node->scalar[0] == 0 || strcmp(node->scalar, "~") == 0 ||
	    strcmp(node->scalar, "null") == 0));
}

const mm_opt *
cfg_get(const mm_opt *map, const char *key)
{
	if (map == NULL || map->type != MM_OPT_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (map->keys[i]->scalar && strcmp(map->keys[i]->scalar, key) == 0) {
			map->used[i] = 1;
			return map->items[i];
		}
	return NULL;
}

size_t
cfg_len(const mm_opt *node)
{
	return node && node->type != MM_OPT_SCALAR ? node->n : 0;
}

const mm_opt *
cfg_at(const mm_opt *list, size_t i)
{
	if (list == NULL || list->type != MM_OPT_LIST || i >= list->n)
		return NULL;
	return list->items[i];
}

const char *
cfg_key_at(const mm_opt *map, size_t i, const mm_opt **value)
{
	if (map == NULL || map->type != MM_OPT_MAP || i >= map->n)
		return NULL;
	map->used[i] = 1;
	if (value)
		*value = map->items[i];
	return map->keys[i]->scalar;
}

const char *
cfg_scalar(const mm_opt *node)
{
	return node && node->type == MM_OPT_SCALAR ? node->scalar : NULL;
}

void
cfg_mark_used(const mm_opt *node)
{
	if (node == NULL)
		return;
	for (size_t i = 0; i < node->n; i++) {
		if (node->type == MM_OPT_MAP)
			node->used[i] = 1;
		cfg_mark_used(node->items[i]);
	}
}

/* Report keys nobody asked for, once: reported keys count as used. */
void
cfg_check_unknown(const mm_opt *node, const char *what)
{
	if (node == NULL)
		return;
	if (node->type == MM_OPT_MAP) {
		for (size_t i = 0; i < node->n; i++) {
			if (!node->used[i]) {
				cfg_error(node->keys[i], "unknown %s '%s'", what,
				    node->keys[i]->scalar ? node->keys[i]->scalar : "?");
				node->used[i] = 1;
				cfg_mark_used(node->items[i]);
			} else
				cfg_check_unknown(node->items[i], what);
		}
	} else if (node->type == MM_OPT_LIST) {
		for (size_t i = 0; i < node->n; i++)
			cfg_check_unknown(node->items[i], what);
	}
}

static const char *
type_name(mm_opt_type t)
{
	return t == MM_OPT_LIST ? "a list" : t == MM_OPT_MAP ? "a map" : "a scalar";
}

int
cfg_str(const mm_opt *map, const char *key, const char *def, const char **out)
{
	const mm_opt *v = cfg_get(map, key);

	*out = def;
	if (v == NULL || cfg_is_null(v))
		return 0;
	if (v->type != MM_OPT_SCALAR) {
		cfg_error(v, "'%s' must be a string, not %s", key, type_name(v->type));
		return -1;
	}
	*out = v->scalar;
	return 0;
}

int
cfg_int(const mm_opt *map, const char *key, long long min, long long max,
    long long def, long long *out)
{
	const mm_opt *v = cfg_get(map, key);
	char *end;
	long long n;

	*out = def;
	if (v == NULL || cfg_is_null(v))
		return 0;
	if (v->type != MM_OPT_SCALAR) {
		cfg_error(v, "'%s' must be an integer, not %s", key, type_name(v->type));
		return -1;
	}
	errno = 0;
	n = strtoll(v->scalar, &end, 0);
	if (errno || end == v->scalar || *end) {
		cfg_error(v, "'%s' must be an integer, not '%s'", key, v->scalar);
		return -1;
	}
	if (n < min || n > max) {
		cfg_error(v, "'%s' must be between %lld and %lld", key, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int
cfg_bool(const mm_opt *map, const char *key, int def, int *out)
{
	const mm_opt *v = cfg_get(map, key);
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };

	*out = def;
	if (v == NULL || cfg_is_null(v))
		return 0;
	if (v->type == MM_OPT_SCALAR) {
		for (int i = 0; yes[i]; i++)
			if (strcasecmp(v->scalar, yes[i]) == 0)
				return *out = 1, 0;
		for (int i = 0; no[i]; i++)
			if (strcasecmp(v->scalar, no[i]) == 0)
				return *out = 0, 0;
	}
	cfg_error(v, "'%s' must be true or false", key);
	return -1;
}

int
cfg_parse_duration(const char *s, double *out)
{
	char *end;
	double n, mult = 1;

	errno = 0;
	n = strtod(s, &end);
	if (errno || end == s || n < 0 || !isfinite(n))
		return -1;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "ms") == 0)
		mult = 0.001;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else
		return -1;
	*out = n * mult;
	return 0;
}

int
cfg_duration(const mm_opt *map, const char *key, double def, double *out)
{
	const mm_opt *v = cfg_get(map, key);

	*out = def;
	if (v == NULL || cfg_is_null(v))
		return 0;
	if (v->type != MM_OPT_SCALAR || cfg_parse_duration(v->scalar, out) < 0) {
		cfg_error(v, "'%s' must be a duration such as 30s, 250ms, 5m, 2h, 1d", key);
		*out = def;
		return -1;
	}
	return 0;
}

int
cfg_strlist(const mm_opt *map, const char *key, const char ***out)
{
	const mm_opt *v = cfg_get(map, key);
	const char **l;

	*out = NULL;
	if (v == NULL || cfg_is_null(v))
		return 0;
	if (v->type == MM_OPT_SCALAR) {
		l = xcalloc(2, sizeof(*l));
		l[0] = v->scalar;
		*out = l;
		return 1;
	}
	if (v->type != MM_OPT_LIST) {
		cfg_error(v, "'%s' must be a list of strings", key);
		return -1;
	}
	l = xcalloc(v->n + 1, sizeof(*l));
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i]->type != MM_OPT_SCALAR) {
			cfg_error(v->items[i], "'%s' must be a list of strings", key);
			free(l);
			return -1;
		}
		l[i] = v->items[i]->scalar;
	}
	*out = l;
	return (int)v->n;
}
