/*
 * NAME
 *	store_cfg - the store's configuration: the "store:" node, or an address
 * SYNOPSIS
 *	#include "store.h"
 *
 *	store_cfg_parse(cfg_get(root, "store"), &cfg);
 *	store_cfg_from_uri("redis://host:6379/2", &cfg, &err);
 *	store_cfg_free(&cfg);
 * DESCRIPTION
 *	Fills a struct store_cfg (store.h) from the daemon's YAML (errors
 *	are recorded at the nodes, cfgtree) or from the address a tool is
 *	given. The store itself (store/) never reads the configuration.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtree.h"
#include "store.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

void
store_cfg_free(struct store_cfg *cfg)
{
	free(cfg->path);
	free(cfg->host);
	free(cfg->socket);
	free(cfg->password);
	free(cfg->prefix);
	memset(cfg, 0, sizeof(*cfg));
}

static void
cfg_defaults(struct store_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = STORE_LMDB;
	cfg->path = xstrdup(LOCALSTATEDIR "/lib/modmilter/store");
	cfg->map_size = 1LL << 30;
	cfg->host = xstrdup("127.0.0.1");
	cfg->port = 6379;
	cfg->prefix = xstrdup("modmilter:");
	cfg->timeout = 1.0;
	cfg->sweep_interval = 3600;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

void
store_cfg_parse(const mm_opt *v, struct store_cfg *cfg)
{
	const char *backend = "lmdb", *s;
	long long n;

	cfg_defaults(cfg);
	if (v == NULL || cfg_is_null(v))
		return;
	if (v->type == MM_OPT_SCALAR) {
		set_str(&cfg->path, v->scalar);
		return;
	}
	if (v->type != MM_OPT_MAP) {
		cfg_error(v, "'store' must be a path or a map (backend: lmdb "
		    "with path, map_size; backend: redis with host, port, socket, "
		    "database, password, prefix, timeout)");
		return;
	}
	cfg_str(v, "backend", "lmdb", &backend);
	if (strcmp(backend, "lmdb") == 0) {
		cfg->backend = STORE_LMDB;
		if (cfg_str(v, "path", NULL, &s) == 0 && s)
			set_str(&cfg->path, s);
		cfg_int(v, "map_size", 1 << 20, 1LL << 40, 1LL << 30, &cfg->map_size);
		cfg_duration(v, "sweep_interval", 3600, &cfg->sweep_interval);
		if (cfg->sweep_interval < 0)
			cfg_error(cfg_get(v, "sweep_interval"),
			    "sweep_interval must be 0 (never) or a duration");
	} else if (strcmp(backend, "redis") == 0) {
#ifndef HAVE_HIREDIS
		cfg_error(cfg_get(v, "backend"), "store backend 'redis' is not "
		    "available: modmilterd was built without hiredis");
#endif
		cfg->backend = STORE_REDIS;
		if (cfg_str(v, "host", NULL, &s) == 0 && s)
			set_str(&cfg->host, s);
		if (cfg_int(v, "port", 1, 65535, 6379, &n) == 0)
			cfg->port = (int)n;
		if (cfg_str(v, "socket", NULL, &s) == 0 && s)
			set_str(&cfg->socket, s);
		if (cfg_int(v, "database", 0, 1 << 20, 0, &n) == 0)
			cfg->database = (int)n;
		if (cfg_str(v, "password", NULL, &s) == 0 && s)
			set_str(&cfg->password, s);
		if (cfg_str(v, "prefix", NULL, &s) == 0 && s)
			set_str(&cfg->prefix, s);
		cfg_duration(v, "timeout", 1.0, &cfg->timeout);
		if (!(cfg->timeout > 0))
			cfg_error(cfg_get(v, "timeout"), "timeout must be above zero");
	} else {
		cfg_error(cfg_get(v, "backend"),
		    "store backend must be lmdb or redis, not '%s'", backend);
	}
}

int
store_cfg_from_uri(const char *uri, struct store_cfg *cfg, char **err)
{
	cfg_defaults(cfg);
	if (strncmp(uri, "lmdb:", 5) == 0)
		uri += 5;
	if (strncmp(uri, "redis://", 8) != 0) {
		if (*uri == 0) {
			*err = xstrdup("empty store path");
			return -1;
		}
		set_str(&cfg->path, uri);
		return 0;
	}
	cfg->backend = STORE_REDIS;
	uri += 8;
	if (*uri == '/') {		/* redis:///run/redis.sock */
		set_str(&cfg->socket, uri);
		return 0;
	}
	const char *at = strrchr(uri, '@'), *slash, *colon;
	if (at) {
		const char *pw = uri;
		if (*pw == ':')
			pw++;
		cfg->password = xstrndup(pw, (size_t)(at - pw));
		uri = at + 1;
	}
	slash = strchr(uri, '/');
	colon = strchr(uri, ':');
	if (colon && slash && colon > slash)
		colon = NULL;
	size_t hl = colon ? (size_t)(colon - uri) : slash ? (size_t)(slash - uri) :
	    strlen(uri);
	if (hl > 0) {
		free(cfg->host);
		cfg->host = xstrndup(uri, hl);
	}
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || p < 1 || p > 65535 || (*end && *end != '/')) {
			*err = xasprintf("bad port in store address '%s'", uri);
			return -1;
		}
		cfg->port = (int)p;
	}
	if (slash && slash[1]) {
		char *end;
		long d = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || d < 0) {
			*err = xasprintf("bad database number in store address '%s'", uri);
			return -1;
		}
		cfg->database = (int)d;
	}
	return 0;
}
