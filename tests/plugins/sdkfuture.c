/*
 * NAME
 *	sdkfuture - a plugin that needs a newer SDK minor than the core's
 * DESCRIPTION
 *	The core must refuse it, naming the file, the version it needs and
 *	the one the core speaks. Not installed.
 */
#include <modmilter/plugin.h>

static int
fut_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *o, void **inst,
    char **err)
{
	(void)ctx; (void)api; (void)o; (void)err;
	*inst = 0;
	return 0;
}

MM_PLUGIN_EXPORT const struct mm_plugin mm_plugin_descriptor = {
	.sdk_major = MM_SDK_MAJOR,
	.sdk_minor = MM_SDK_MINOR + 1,
	.size = sizeof(struct mm_plugin),
	.name = "sdkfuture",
	.version = "1.0",
	.init = fut_init,
};
