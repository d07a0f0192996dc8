/*
 * NAME
 *	sdkshort - a descriptor as headers older than msg_end made it
 * DESCRIPTION
 *	Its size ends before msg_end, the hook SDK 1.3 added; what lies
 *	there is not part of the descriptor, and the core must never call
 *	it: here it is a function that aborts the process. Not installed.
 */
#include <stdlib.h>
#include <modmilter/plugin.h>

static int
short_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *o, void **inst,
    char **err)
{
	(void)ctx; (void)api; (void)o; (void)err;
	*inst = 0;
	return 0;
}

static mm_verdict
short_envfrom(mm_ctx *ctx, void *inst, char *const *argv)
{
	(void)ctx; (void)inst; (void)argv;
	return MM_CONTINUE;
}

static void
not_a_hook(mm_ctx *ctx, void *inst, const struct mm_outcome *o)
{
	(void)ctx; (void)inst; (void)o;
	abort();
}

MM_PLUGIN_EXPORT const struct mm_plugin mm_plugin_descriptor = {
	.sdk_major = MM_SDK_MAJOR,
	.sdk_minor = 0,
	.size = offsetof(struct mm_plugin, msg_end),
	.name = "sdkshort",
	.version = "1.0",
	.init = short_init,
	.envfrom = short_envfrom,
	.msg_end = not_a_hook,
};
