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
/* the SDK minor this core speaks; lower only in tests */
static unsigned core_minor = MM_SDK_MINOR;

unsigned
loader_sdk_minor(void)
{
	return __atomic_load_n(&core_minor, __ATOMIC_RELAXED);
}

int
loader_pretend_sdk_minor(unsigned minor)
{
	if (minor > MM_SDK_MINOR)
		return -1;
	__atomic_store_n(&core_minor, minor, __ATOMIC_RELAXED);
	return 0;
}

static void
lt_start(void)
{
	lt_ok = lt_dlinit() == 0;
}

/* One component of the path to a plugin: owned by root or us, and not
   writable by group or others (a sticky directory such as /tmp is
   allowed: nobody else may replace what root or we own in it). */
static int
component_safe(const char *p, const struct stat *st, int is_dir,
    const char *file, char *err, size_t errlen)
{
	const char *what = is_dir ? "directory" : "file";

	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(err, errlen, "plugin %s %s is owned by uid %ld, neither "
		    "root nor us: refusing to load %s", what, p, (long)st->st_uid, file);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(is_dir && (st->st_mode & S_ISVTX))) {
		snprintf(err, errlen, "plugin %s %s is writable by %s: refusing "
		    "to load %s (chmod go-w)", what, p,
		    (st->st_mode & S_IWOTH) ? "others" : "its group", file);
		return -1;
	}
	return 0;
}

int
module_file_safe(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *real, *slash;
	int r = 0;

	/* every directory up to /, of the path with its links resolved:
	   whoever may rename one of them may swap the file between this
	   check and dlopen */
	if ((real = realpath(path, NULL)) == NULL) {
		snprintf(err, errlen, "plugin file %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(real, &st) < 0) {
		snprintf(err, errlen, "plugin file %s: %s", path, strerror(errno));
		free(real);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "plugin file %s is not a regular file", path);
		free(real);
		return -1;
	}
	r = component_safe(real, &st, 0, path, err, errlen);
	while (r == 0 && (slash = strrchr(real, '/')) != NULL) {
		if (slash == real)
			slash[1] = 0;
		else
			*slash = 0;
		if (stat(real, &st) < 0) {
			snprintf(err, errlen, "plugin directory %s: %s", real, strerror(errno));
			r = -1;
		} else
			r = component_safe(real, &st, 1, path, err, errlen);
		if (slash == real)
			break;
	}
	free(real);
	return r;
}

struct module *
module_load(const char *dir, const char *name, char *err, size_t errlen)
{
	struct module *m;
	char *path;
	lt_dlhandle h;
	const struct mm_plugin *d;
	unsigned minor;

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
	minor = loader_sdk_minor();
	if (d->sdk_major != MM_SDK_MAJOR) {
		snprintf(err, errlen, "plugin %s was built for SDK %u.%u; this "
		    "modmilterd speaks SDK %d.%u (major versions must match)",
		    path, d->sdk_major, d->sdk_minor, MM_SDK_MAJOR, minor);
		goto bad;
	}
	if (d->sdk_minor > minor) {
		snprintf(err, errlen, "plugin %s needs SDK %u.%u; this modmilterd "
		    "speaks SDK %d.%u: upgrade modmilterd, or build the plugin "
		    "with MM_SDK_NEED set to the minor it really needs", path,
		    d->sdk_major, d->sdk_minor, MM_SDK_MAJOR, minor);
		goto bad;
	}
	/* the descriptor of SDK 1.0 ends with unknown */
	if (d->size < offsetof(struct mm_plugin, unknown) + sizeof(d->unknown) ||
	    d->name == NULL || d->init == NULL) {
		snprintf(err, errlen, "plugin %s has a malformed descriptor", path);
		goto bad;
	}
	m = xcalloc(1, sizeof(*m));
	m->path = path;
	m->handle = h;
	/* never read past the plugin's size: hooks its (older) headers did
	   not have stay NULL in our copy; a newer descriptor's tail, which
	   we do not know, is left out */
	memcpy(&m->copy, d, d->size < sizeof(m->copy) ? d->size : sizeof(m->copy));
	m->copy.size = d->size;
	m->desc = &m->copy;
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
