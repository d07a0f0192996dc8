/*
 * NAME
 *	dumpplug - test plugin: write the message as a later plugin sees it
 * SYNOPSIS
 *	plugins:
 *	  dump: { module: .../dumpplug.so, options: { file: /tmp/x.eml } }
 *	chains: [ { name: all, plugins: [mime, dump] } ]
 * DESCRIPTION
 *	At end of message, writes the working header list and the body
 *	(api->body: the body as replaced by an earlier plugin) to FILE,
 *	and the facts mime.names and mime.banned to FILE.facts, one
 *	"key=value" line each. The mime tests re-parse FILE to check
 *	what the replacement kept and what it removed. Without a file it
 *	does nothing at all: modmilterd with it alone is the cost of the
 *	core buffering a message for a plugin (tests/mime/bench.sh).
 * DIAGNOSTICS
 *	A write failure returns MM_ERROR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modmilter/plugin.h>

struct dump {
	const struct mm_api *api;
	char *file;
};

static int
dump_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *opts,
    void **instance, char **err)
{
	struct dump *d;
	const char *file;

	(void)ctx;
	(void)err;
	if (api->opt_str(opts, "file", NULL, &file) < 0)
		return -1;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->api = api;
	d->file = file ? strdup(file) : NULL;
	*instance = d;
	return 0;
}

static void
dump_fini(void *instance)
{
	struct dump *d = instance;

	free(d->file);
	free(d);
}

/* a folded value with CRLF line ends */
static void
put_value(FILE *fp, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\n' && (p == v || p[-1] != '\r'))
			fputc('\r', fp);
		fputc(*p, fp);
	}
}

static mm_verdict
dump_eom(mm_ctx *ctx, void *instance)
{
	struct dump *d = instance;
	const struct mm_api *api = d->api;
	const unsigned char *body;
	size_t len, n = api->header_count(ctx);
	char *facts;
	FILE *fp;
	const char *f;
	int ok;

	if (d->file == NULL)
		return MM_CONTINUE;
	if (api->body(ctx, &body, &len) < 0 || (fp = fopen(d->file, "wb")) == NULL)
		return MM_ERROR;
	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		if (api->header_at(ctx, i, &name, &value) < 0)
			continue;
		fprintf(fp, "%s:%s", name, *value == 0 || *value == '\t' ||
		    *value == '\n' ? "" : " ");
		put_value(fp, value);
		fputs("\r\n", fp);
	}
	fputs("\r\n", fp);
	fwrite(body, 1, len, fp);
	ok = fclose(fp) == 0;
	if ((facts = malloc(strlen(d->file) + 7)) == NULL)
		return MM_ERROR;
	sprintf(facts, "%s.facts", d->file);
	if ((fp = fopen(facts, "w")) != NULL) {
		if ((f = api->fact_get(ctx, "mime.names")) != NULL)
			fprintf(fp, "mime.names=%s\n", f);
		if ((f = api->fact_get(ctx, "mime.banned")) != NULL)
			fprintf(fp, "mime.banned=%s\n", f);
		ok &= fclose(fp) == 0;
	} else
		ok = 0;
	free(facts);
	return ok ? MM_CONTINUE : MM_ERROR;
}

MM_PLUGIN(dumpplug, "1.0", "test: write the message as a later plugin sees it",
	.flags = MM_F_MESSAGE,
	.init = dump_init,
	.fini = dump_fini,
	.eom = dump_eom);
