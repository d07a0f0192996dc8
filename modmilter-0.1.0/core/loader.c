/*
 * NAME
 *	loader - load plugin modules through libltdl, safely
 * DESCRIPTION
 *	See loader.h.
 */
#include "config.h"

#include <errno.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "util.h"

static pthread_once_t lt_once = PTHREAD_ONCE_INIT;
static int lt_ok;

static void
lt_start(void)
{
	lt_ok = lt_dlinit() == 0;
}

int
module_file_safe(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *dir, *slash;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "plugin file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "plugin file %s is not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "plugin file %s is owned by uid %ld, "
		    "neither root nor us: refusing to load it", path, (long)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "plugin file %s is writable by %s: refusing "
		    "to load it (chmod go-w)", path,
		    (st.st_mode & S_IWOTH) ? "others" : "its group");
		return -1;
	}
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = 0;
		else
			*slash = 0;
		if (stat(dir, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(st.st_mode & S_ISVTX)) {
			snprintf(err, errlen, "plugin directory %s is writable by "
			    "%s: refusing to load %s", dir,
			    (st.st_mode & S_IWOTH) ? "others" : "its group", path);
			free(dir);
			return -1;
		}
	}
	free(dir);
	return 0;
}

struct module *
module_load(const char *dir, const char *name, char *err, size_t errlen)
{
	struct module *m;
	char *path;
	lt_dlhandle h;
	const struct mm_plugin *d;

	pthread_once(&lt_once, lt_start);
	if (!lt_ok) {
		snprintf(err, errlen, "cannot initialise libltdl: %s", lt_dlerror());
		return NULL;
	}
	if (strchr(name, '/'))
		path = xstrdup(name);
	else
		path = xasprintf("%s/%s.so", dir, name);
	if (module_file_safe(path, err, errlen) < 0) {
		free(path);
		return NULL;
	}
	if ((h = lt_dlopen(path)) == NULL) {
		snprintf(err, errlen, "cannot load plugin %s: %s", path, lt_dlerror());
		free(path);
		return NULL;
	}
	d = lt_dlsym(h, MM_PLUGIN_SYMBOL);
	if (d == NULL) {
		snprintf(err, errlen, "%s is not a modmilter plugin (no %s symbol)",
		    path, MM_PLUGIN_SYMBOL);
		goto bad;
	}
	if (d->sdk_major != MM_SDK_MAJOR) {
		snprintf(err, errlen, "plugin %s was built for SDK %u.%u; this "
		    "modmilterd speaks SDK %d.%d (major versions must match)",
		    path, d->sdk_major, d->sdk_minor, MM_SDK_MAJOR, MM_SDK_MINOR);
		goto bad;
	}
	if (d->sdk_minor > MM_SDK_MINOR) {
		snprintf(err, errlen, "plugin %s needs SDK %u.%u; this modmilterd "
		    "speaks SDK %d.%d: upgrade modmilterd", path, d->sdk_major,
		    d->sdk_minor, MM_SDK_MAJOR, MM_SDK_MINOR);
		goto bad;
	}
	if (d->size < offsetof(struct mm_plugin, unknown) + sizeof(d->unknown) ||
	    d->name == NULL || d->init == NULL) {
		snprintf(err, errlen, "plugin %s has a malformed descriptor", path);
		goto bad;
	}
	m = xcalloc(1, sizeof(*m));
	m->path = path;
	m->handle = h;
	m->desc = d;
	return m;
bad:
	lt_dlclose(h);
	free(path);
	return NULL;
}

void
module_unload(struct module *m)
{
	if (m == NULL)
		return;
	lt_dlclose(m->handle);
	free(m->path);
	free(m);
}
