/*
 * NAME
 *	sdkold - a plugin built with today's headers that needs SDK 1.0
 * DESCRIPTION
 *	Declares MM_SDK_NEED 0, so it loads in any 1.x core. At end of
 *	message it adds X-Sdk: "1.<minor the core speaks> full|short"
 *	(whether the core's API table has every member these headers know)
 *	and X-Path: "set_result" when the core has that SDK 1.3 member
 *	(it is then called), else "fallback": MM_API_HAS both ways. A core
 *	that handed it a short table without the check would crash it.
 *	Not installed.
 */
#define MM_SDK_NEED 0
#include <stdio.h>
#include <modmilter/plugin.h>

static int
old_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *o, void **inst,
    char **err)
{
	(void)ctx; (void)o; (void)err;
	*inst = (void *)api;
	return 0;
}

static mm_verdict
old_eom(mm_ctx *ctx, void *inst)
{
	const struct mm_api *api = inst;
	char v[64];

	snprintf(v, sizeof(v), "%u.%u %s", api->sdk_major, api->sdk_minor,
	    api->size >= sizeof(struct mm_api) ? "full" : "short");
	api->add_header(ctx, "X-Sdk", v);
	if (MM_API_HAS(api, set_result)) {
		api->set_result(ctx, "new");
		api->add_header(ctx, "X-Path", "set_result");
	} else
		api->add_header(ctx, "X-Path", "fallback");
	return MM_CONTINUE;
}

MM_PLUGIN(sdkold, "1.0", "test plugin: needs SDK 1.0 only",
	.actions = MM_ACT_ADDHDRS,
	.init = old_init,
	.eom = old_eom);
