/*
 * NAME
 *	badabi - a plugin built for an SDK major this core does not speak
 * DESCRIPTION
 *	The core must refuse it with a clear message. Not installed.
 */
#include <modmilter/plugin.h>

static int
bad_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *o, void **inst,
    char **err)
{
	(void)ctx; (void)api; (void)o; (void)err;
	*inst = 0;
	return 0;
}

MM_PLUGIN_EXPORT const struct mm_plugin mm_plugin_descriptor = {
	.sdk_major = MM_SDK_MAJOR + 1,
	.sdk_minor = 0,
	.size = sizeof(struct mm_plugin),
	.name = "badabi",
	.version = "1.0",
	.init = bad_init,
};
