/*
 * NAME
 *	hello - the example modmilter plugin
 * SYNOPSIS
 *	plugins:
 *	  hello: { module: hello, options: { greeting: world,
 *	                                     reject_sender: spammer@example.com } }
 * DESCRIPTION
 *	Adds "X-Hello: <greeting>" to every message, and rejects at MAIL
 *	FROM a sender equal (case-insensitively) to reject_sender.
 *	It shows the whole life of a plugin: options with errors at their
 *	line and column, an instance, a verdict with a reply, and an action
 *	queued for the end of the message. It uses SDK 1.0 calls only and
 *	says so (MM_SDK_NEED), so it loads in every 1.x modmilterd.
 */
#define MM_SDK_NEED 0		/* the SDK minor this plugin needs */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <modmilter/plugin.h>

struct hello {
	const struct mm_api *api;
	char *greeting;
	char *reject_sender;
};

static int
hello_init(mm_ctx *ctx, const struct mm_api *api, const mm_opt *opts,
    void **instance, char **err)
{
	struct hello *h;
	const char *greeting, *reject;

	(void)ctx;
	(void)err;
	if (api->opt_str(opts, "greeting", "world", &greeting) < 0 ||
	    api->opt_str(opts, "reject_sender", NULL, &reject) < 0)
		return -1;	/* the core reports the option's position */
	if (strpbrk(greeting, "\r\n")) {
		api->opt_error(api->opt_get(opts, "greeting"),
		    "greeting must be one line");
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->api = api;
	h->greeting = strdup(greeting);
	h->reject_sender = reject ? strdup(reject) : NULL;
	*instance = h;
	return 0;
}

static void
hello_fini(void *instance)
{
	struct hello *h = instance;

	free(h->greeting);
	free(h->reject_sender);
	free(h);
}

static mm_verdict
hello_envfrom(mm_ctx *ctx, void *instance, char *const *argv)
{
	struct hello *h = instance;
	const char *from = h->api->mail_from(ctx);

	(void)argv;
	if (h->reject_sender && from && strcasecmp(from, h->reject_sender) == 0) {
		h->api->set_reply(ctx, "550", "5.7.1", "Sender refused by hello");
		return MM_REJECT;
	}
	return MM_CONTINUE;
}

static mm_verdict
hello_eom(mm_ctx *ctx, void *instance)
{
	struct hello *h = instance;

	if (h->api->add_header(ctx, "X-Hello", h->greeting) < 0)
		return MM_ERROR;
	return MM_CONTINUE;
}

MM_PLUGIN(hello, "1.0", "adds X-Hello: <greeting>; rejects one sender",
	.actions = MM_ACT_ADDHDRS,
	.init = hello_init,
	.fini = hello_fini,
	.envfrom = hello_envfrom,
	.eom = hello_eom);
