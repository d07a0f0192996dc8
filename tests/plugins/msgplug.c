/*
 * NAME
 *	msgplug - a plugin that asks the core for the whole message
 * DESCRIPTION
 *	Declares MM_F_MESSAGE; at end of message reads every header and the
 *	body through the API and adds "X-Seen: <headers> headers, <bytes>
 *	bytes, sum <byte sum>", so tests can tell that what the core
 *	buffered (in memory or spilled to a file) is what was sent. It also
 *	adds "X-Received-Names" and "X-Working-Names", the header names of
 *	the list as received (api->received_header_at) and of the working
 *	list (api->header_at), comma-separated. Not installed.
 */
#include <stdio.h>
#include <string.h>

#include <modmilter/plugin.h>

static const struct mm_api *api;

static int
mp_init(mm_ctx *ctx, const struct mm_api *a, const mm_opt *o, void **inst,
    char **err)
{
	(void)ctx; (void)o; (void)err;
	api = a;
	*inst = NULL;
	return 0;
}

/* The names of a header list, "A,B,C", in buf. */
static void
names(mm_ctx *ctx, size_t n, int (*at)(mm_ctx *, size_t, const char **,
    const char **), char *buf, size_t len)
{
	size_t used = 0;

	*buf = 0;
	for (size_t i = 0; i < n && used < len; i++) {
		const char *name, *value;
		if (at(ctx, i, &name, &value) == 0)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    i ? "," : "", name);
	}
}

static mm_verdict
mp_eom(mm_ctx *ctx, void *inst)
{
	char rn[512], wn[512];
	const unsigned char *b;
	size_t len, n = api->header_count(ctx);
	unsigned long sum = 0;
	char v[128];

	(void)inst;
	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		if (api->header_at(ctx, i, &name, &value) < 0)
			return MM_ERROR;
	}
	if (api->body(ctx, &b, &len) < 0)
		return MM_ERROR;
	for (size_t i = 0; i < len; i++)
		sum += b[i];
	names(ctx, api->received_header_count(ctx), api->received_header_at,
	    rn, sizeof(rn));
	names(ctx, n, api->header_at, wn, sizeof(wn));
	if (api->add_header(ctx, "X-Received-Names", *rn ? rn : "-") < 0 ||
	    api->add_header(ctx, "X-Working-Names", *wn ? wn : "-") < 0)
		return MM_ERROR;
	snprintf(v, sizeof(v), "%zu headers, %zu bytes, sum %lu", n, len, sum);
	return api->add_header(ctx, "X-Seen", v) < 0 ? MM_ERROR : MM_CONTINUE;
}

MM_PLUGIN(msgplug, "1.0", "test plugin: reads the whole message",
	.actions = MM_ACT_ADDHDRS,
	.flags = MM_F_MESSAGE,
	.init = mp_init,
	.eom = mp_eom);
