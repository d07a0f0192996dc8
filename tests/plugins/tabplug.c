/*
 * NAME
 *	tabplug - a plugin whose options are read through its table
 * SYNOPSIS
 *	t: { module: .../tabplug.so, options: { level: 1..9, tag: word } }
 * DESCRIPTION
 *	Proves that the daemon reads a plugin's options through
 *	api->opt_table (errors at FILE:LINE:COL, unknown keys still
 *	reported). Built a second time as badtable.so with a default its
 *	own table cannot parse: the core must refuse that module when it
 *	loads it. Not installed.
 */
#include <stddef.h>
#include <stdlib.h>

#include <modmilter/plugin.h>

struct tconf {
	long long level;
	char *tag;
};

static const struct mm_option table[] = {
#ifdef BAD_TABLE
	{ "level", MM_OT_INT, offsetof(struct tconf, level), "eleven", 1, 9, NULL,
	  "how much", NULL },
#else
	{ "level", MM_OT_INT, offsetof(struct tconf, level), "5", 1, 9, NULL,
	  "how much", NULL },
#endif
	{ "tag", MM_OT_STRING, offsetof(struct tconf, tag), "t", 0, 0, NULL,
	  "a word", NULL },
	{ NULL }
};

static const struct mm_api *tapi;

static int
tab_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *o, void **inst,
    char **err)
{
	struct tconf *c = calloc(1, sizeof(*c));

	(void)ctx;
	(void)err;
	tapi = api;
	if (c == NULL || api->opt_table(o, table, c) < 0) {
		if (c)
			api->opt_table_free(table, c);
		free(c);
		return -1;
	}
	*inst = c;
	return 0;
}

static void
tab_fini(void *inst)
{
	tapi->opt_table_free(table, inst);
	free(inst);
}

MM_PLUGIN(tabplug, "1.0", "options by table, for the tests",
	.options = table,
	.init = tab_init, .fini = tab_fini);
