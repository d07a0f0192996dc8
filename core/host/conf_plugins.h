/*
 * NAME
 *	conf_plugins - reading plugins and chains (private to conf.c)
 * SYNOPSIS
 *	#include "conf_plugins.h"
 *
 *	conf_plugins_parse(c, cfg_get(root, "plugins"), cfg_get(root, "chains"));
 *	conf_plugins_free(c);
 * DESCRIPTION
 *	conf.c reads the core's own keys and hands the "plugins:" and
 *	"chains:" nodes to conf_plugins_parse(); conf_unref() releases the
 *	instances (fini, unload) and chains with conf_plugins_free(). The
 *	two share a network list reader and the macro lists.
 */
#ifndef MM_CONF_PLUGINS_H
#define MM_CONF_PLUGINS_H

#include "conf.h"

void conf_plugins_parse(struct conf *c, const mm_opt *plugins,
    const mm_opt *chains);
void conf_plugins_free(struct conf *c);
/* key: a list of networks (errors at its nodes); absent: defaults */
void conf_parse_nets(const mm_opt *root, const char *key, struct mm_cidr **out,
    size_t *n, const char *const *defaults);
/* a macro to a stage's space-separated list, once */
void conf_add_macro(struct conf *c, mm_stage st, const char *name);

#endif
