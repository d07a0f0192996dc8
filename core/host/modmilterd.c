/*
 * NAME
 *	modmilterd - one milter daemon, many plugins
 * SYNOPSIS
 *	modmilterd [-c FILE] [-f] [-t] [-l SOCKET] [-P PLUGINDIR] [-S] [-V]
 * DESCRIPTION
 *	Start-up order, each step for a reason:
 *	1. the core's own keys are read (no plugin yet);
 *	2. unless -f, the process detaches (detach.c) before any thread or
 *	   plugin exists, so fork is invisible to plugins; the parent waits
 *	   and prints what goes wrong until the daemon is listening;
 *	3. the pidfile is claimed (locked: one daemon per file), then the
 *	   milter socket is opened as root and TCP_NODELAY set on it (an
 *	   end-of-message answer is several packets; without it each
 *	   message waits on Nagle and delayed ACKs), and the stats socket;
 *	4. privileges are dropped;
 *	5. plugins are loaded and initialised as the daemon's user, as on
 *	   every reload, so a plugin never creates root-owned state;
 *	6. the parent is told "listening" and exits 0.
 *	SIGUSR1 reloads the configuration; a configuration that fails
 *	validation is logged and the running one stays. SIGTERM stops
 *	accepting connections, lets open ones finish (shutdown_timeout),
 *	then runs the plugins' fini. An LMDB store is swept of expired
 *	records every store.sweep_interval.
 *	-t checks the configuration (every plugin's options included, as
 *	the daemon's user) and exits; -S prints the counters of a running
 *	daemon.
 * DIAGNOSTICS
 *	Configuration errors as FILE:LINE:COL: message, exit status 1,
 *	on the terminal even when detaching.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "detach.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "notify.h"
#include "opttab.h"
#include "nodelay.h"
#include "pidfile.h"
#include "stats.h"
#include "stopwake.h"
#include "store.h"
#include "util.h"

static const char *conf_path = SYSCONFDIR "/modmilter/modmilter.yaml";
static const char *listen_override;	/* -l, kept across reloads */
static int detached;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: modmilterd [-c FILE] [-f] [-t] [-l SOCKET] [-P DIR] [-S] [-V]\n"
	    "  -c FILE    configuration (default %s)\n"
	    "  -f         stay in the foreground\n"
	    "  -t         check the configuration and exit\n"
	    "  -l SOCKET  listen here instead of the configured socket\n"
	    "  -P DIR     load plugins from DIR when the file sets no plugin_dir\n"
	    "  -S         print the counters of the running daemon\n"
	    "  -V         print the version\n"
	    "usage: modmilterd [-P DIR] --describe PLUGIN [--markdown]\n"
	    "  --describe PLUGIN  print a plugin's options (a module name, looked\n"
	    "                     up in DIR, or a path to its .so)\n"
	    "  --markdown         as the Markdown table of doc/plugins/NAME.md\n",
	    conf_path);
	exit(2);
}

/* The configured log destination; detached, an unset one is syslog
   (stderr is /dev/null by then). */
static void
apply_log(const struct conf *c, int reopen)
{
	enum log_dest d = c->log_dest;
	char err[512];

	if (detached && !c->log_explicit)
		d = LOG_DEST_SYSLOG;
	/* a reload reopens the file (after log rotation); the daemon's
	   user must then be able to write where it is */
	if (reopen && log_set_file(c->log_file, err, sizeof(err)) < 0)
		log_err("%s: logging stays where it was", err);
	log_open(d, c->log_level, "modmilterd");
}

static void
reload(void)
{
	char *errs = NULL;
	size_t errlen = 0;
	FILE *fp = open_memstream(&errs, &errlen);
	struct conf *c, *old;

	log_notice("reloading %s", conf_path);
	notify_reloading();
	c = conf_load(conf_path, fp);
	fclose(fp);
	if (c == NULL) {
		char *save, *line;
		for (line = strtok_r(errs, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			log_err("%s", line);
		log_err("reload failed; the running configuration stays");
		metrics_reload(0);
		notify_status("reload failed: the running configuration stays (see the log)");
		notify_ready();
		free(errs);
		return;
	}
	free(errs);
	if (listen_override) {
		free(c->listen);
		c->listen = xstrdup(listen_override);
	}
	old = milter_conf();
	if (old && strcmp(old->listen, c->listen) != 0)
		log_warn("listen changed to %s: takes effect only at restart", c->listen);
	if (old && (old->user ? !c->user || strcmp(old->user, c->user) : c->user != NULL))
		log_warn("user changed: takes effect only at restart");
	if (old && (old->metrics_listen ? !c->metrics_listen ||
	    strcmp(old->metrics_listen, c->metrics_listen) : c->metrics_listen != NULL))
		log_warn("metrics listen changed: takes effect only at restart");
	metrics_reload(1);
	if (old)
		conf_unref(old);
	apply_log(c, 1);
	milter_set_conf(c);
	log_notice("reloaded %s: %zu plugin instances, %zu chains; new connections use it",
	    conf_path, c->ninst, c->nchains);
	notify_ready();
}

static void *
signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;)
		if (sigwait(set, &sig) == 0 && sig == SIGUSR1)
			reload();
	return NULL;
}

/* Expired records leave an LMDB store only when somebody sweeps it. */
static void *
sweep_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct conf *c = milter_conf();
		double every = c ? c->store.sweep_interval : 0;
		long n;

		if (c)
			conf_unref(c);
		if (!(every > 0)) {
			sleep(60);	/* switched off; a reload may switch it on */
			continue;
		}
		sleep(every < 1 ? 1 : (unsigned)every);
		if ((n = store_sweep()) < 0)
			log_warn("store sweep: a database could not be walked");
		else if (n > 0)
			log_info("store sweep: %ld expired records removed", n);
	}
	return NULL;
}

/* What systemctl status shows, refreshed while a service manager
   listens. */
static void *
status_thread(void *arg)
{
	(void)arg;
	for (;;) {
		unsigned n = milter_active();
		notify_status("%u connection%s open, %llu messages answered",
		    n, n == 1 ? "" : "s", milter_messages());
		sleep(5);
	}
	return NULL;
}

static int
drop_privileges(const struct conf *c)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	gid_t gid;

	if (c->user == NULL)
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_err("user %s: no such user", c->user);
		return -1;
	}
	gid = pw->pw_gid;
	if (c->group) {
		if ((gr = getgrnam(c->group)) == NULL) {
			log_err("group %s: no such group", c->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(0, NULL) < 0 || initgroups(pw->pw_name, gid) < 0 ||
	    setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot become %s: %s", c->user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 && pw->pw_uid != 0) {
		log_err("could regain root after dropping privileges");
		return -1;
	}
	return 0;
}

/* The log file belongs to the daemon's user, who reopens it at each
   reload (after rotation the directory must let that user create it). */
static int
own_log_file(const struct conf *c)
{
	struct passwd *pw;

	if (c->user == NULL)
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_err("user %s: no such user", c->user);
		return -1;
	}
	if (chown(c->log_file, pw->pw_uid, (gid_t)-1) < 0) {
		log_err("log file %s: chown to %s: %s", c->log_file, c->user,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* How long libmilter may go without running a callback before the drain
   takes the connections left as idle: after a reply it waits 1 ms for
   the next command already sent, and runs it at once. */
#define DRAIN_QUIET 1.0

/* Stop accepting (libmilter has closed the socket), then give the open
   connections shutdown_timeout to finish their messages. A libmilter with
   a pool of workers reads no more of a connection once it waits for the
   MTA's next command: when no callback has run for DRAIN_QUIET, what is
   left only waits, and the daemon goes (the MTA applies its milter
   default action to a message not yet at its end). */
static void
drain(void)
{
	struct conf *c = milter_conf();
	double limit = c ? c->shutdown_timeout : 30, end = mono_now() + limit;
	unsigned n = milter_active();

	if (c)
		conf_unref(c);
	notify_stopping();
	if (n) {
		log_notice("stopping: waiting up to %.0fs for %u open connection%s",
		    limit, n, n == 1 ? "" : "s");
		notify_status("stopping: %u connection%s finishing", n, n == 1 ? "" : "s");
	}
	while ((n = milter_active()) > 0 && mono_now() < end) {
#ifdef HAVE_MILTER_WORKERS_POOL
		if (milter_quiet(DRAIN_QUIET))
			break;
#endif
		usleep(20000);
	}
	if (n && mono_now() < end)
		log_notice("stopping: %u connection%s idle, waiting for the "
		    "MTA's next command, which libmilter reads no more after a "
		    "stop", n, n == 1 ? "" : "s");
	else if (n)
		log_warn("stopping: %u connection%s still open after "
		    "shutdown_timeout; the MTA retries what they carried",
		    n, n == 1 ? "" : "s");
}

/* The milter socket; a unix socket is born with socket_mode and
   socket_group (umask and effective group around its creation), so the
   MTA never meets it with other permissions. */
static int
open_socket(const struct conf *c)
{
	int unixsock = strncmp(c->listen, "unix:", 5) == 0 ||
	    strncmp(c->listen, "local:", 6) == 0;
	gid_t egid = getegid();
	mode_t old = 0;
	int r;

	if (unixsock && c->socket_group) {
		struct group *gr = getgrnam(c->socket_group);
		if (gr == NULL) {
			log_err("socket_group %s: no such group", c->socket_group);
			return -1;
		}
		if (setegid(gr->gr_gid) < 0) {
			log_err("socket_group %s: %s", c->socket_group, strerror(errno));
			return -1;
		}
	}
	if (unixsock)
		old = umask((mode_t)(~c->socket_mode & 0777));
	r = smfi_opensocket(1);
	if (unixsock) {
		umask(old);
		if (c->socket_group && setegid(egid) < 0) {
			log_err("cannot restore the group: %s", strerror(errno));
			return -1;
		}
	}
	if (r != MI_SUCCESS) {
		log_err("cannot open milter socket %s", c->listen);
		return -1;
	}
	return 0;
}

/* A unix socket left behind would look like a daemon to the MTA's
   admin; libmilter unlinks a stale one only at the next start. */
static void
remove_socket(const char *listen)
{
	if (strncmp(listen, "unix:", 5) == 0)
		unlink(listen + 5);
	else if (strncmp(listen, "local:", 6) == 0)
		unlink(listen + 6);
}

static void
start_thread(void *(*fn)(void *), void *arg, const char *what)
{
	pthread_t tid;

	if (pthread_create(&tid, NULL, fn, arg) != 0) {
		log_err("cannot start the %s thread", what);
		exit(1);
	}
	pthread_detach(tid);
}

/* --describe PLUGIN: its option table, without any configuration */
static int
describe(const char *name, int markdown)
{
	char err[1024];
	struct module *m = module_load(conf_default_plugin_dir, name, err,
	    sizeof(err));

	if (m == NULL) {
		fprintf(stderr, "modmilterd: %s\n", err);
		return 1;
	}
	if (opttab_check(opttab_of(m->desc), err, sizeof(err)) < 0) {
		fprintf(stderr, "modmilterd: plugin %s: malformed option table: %s\n",
		    m->path, err);
		module_unload(m);
		return 1;
	}
	opttab_describe(stdout, m->desc, markdown);
	module_unload(m);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "describe", required_argument, NULL, 'D' },
		{ "markdown", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 }
	};
	const char *describe_name = NULL;
	int markdown = 0;
	int ch, foreground = 0, check = 0, query = 0;
	const char *sock = NULL;
	struct conf *c0, *c;
	sigset_t set;
	char err[512], *pidfile, *sockpath, *abs;
	int r;

	while ((ch = getopt_long(argc, argv, "c:ftl:P:SVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D': describe_name = optarg; break;
		case 'M': markdown = 1; break;
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': check = 1; break;
		case 'l': sock = optarg; break;
		case 'P': conf_default_plugin_dir = optarg; break;
		case 'S': query = 1; break;
		case 'V': printf("modmilterd %s (SDK %d.%d)\n", PACKAGE_VERSION,
			MM_SDK_MAJOR, MM_SDK_MINOR); return 0;
		default: usage();
		}
	}
	if (optind != argc || (markdown && describe_name == NULL))
		usage();
	if (describe_name)
		return describe(describe_name, markdown);
	/* a reload reads the file again after chdir("/") */
	if ((abs = realpath(conf_path, NULL)) != NULL)
		conf_path = abs;

	log_open(LOG_DEST_STDERR, MM_LOG_INFO, "modmilterd");
	if ((c0 = conf_load_core(conf_path, stderr)) == NULL)
		goto fail;
	if (query) {
		if (c0->stats_socket == NULL) {
			fprintf(stderr, "%s: no stats_socket configured\n", conf_path);
			conf_unref(c0);
			goto fail;
		}
		r = stats_query(c0->stats_socket, stdout);
		if (r < 0)
			fprintf(stderr, "%s: %s\n", c0->stats_socket, strerror(errno));
		conf_unref(c0);
		return r < 0 ? 1 : 0;
	}
	if (check) {
		/* plugins see what the daemon would let them see */
		if (geteuid() == 0 && drop_privileges(c0) < 0)
			goto fail;
		if ((c = conf_load(conf_path, stderr)) == NULL)
			goto fail;
		printf("%s: configuration OK (%zu plugin instances, %zu chains)\n",
		    conf_path, c->ninst, c->nchains);
		conf_unref(c);
		conf_unref(c0);
		return 0;
	}
	if (sock) {
		listen_override = sock;
		free(c0->listen);
		c0->listen = xstrdup(sock);
	}

	/* opened as root, like the sockets: the daemon's user may not be
	   allowed to create it */
	if (c0->log_file && log_set_file(c0->log_file, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto fail;
	}
	if (c0->log_file && geteuid() == 0 && own_log_file(c0) < 0)
		goto fail;
	if (!foreground) {
		if (detach_start() < 0) {
			log_err("cannot detach: %s", strerror(errno));
			goto fail;
		}
		detached = 1;
		if (c0->log_explicit && c0->log_dest != LOG_DEST_SYSLOG &&
		    c0->log_file == NULL)
			log_warn("log: %s without a file while detached: nothing "
			    "will be written after start-up (use syslog or file:)",
			    c0->log_dest == LOG_DEST_JSON ? "json" : "stderr");
	}
	/* until the daemon listens, problems reach the terminal whatever
	   the destination; the destination gets them too */
	apply_log(c0, 0);
	log_also_stderr(1);

	/* SIGUSR1 is ours; libmilter's own thread waits for HUP, TERM and
	   INT, so no other thread may take them */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (c0->pidfile && pidfile_claim(c0->pidfile, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto fail;
	}
	if (milter_register() < 0 || smfi_setconn(c0->listen) != MI_SUCCESS) {
		log_err("cannot register with libmilter on %s", c0->listen);
		goto fail;
	}
	smfi_setbacklog(128);
	if (open_socket(c0) < 0)
		goto fail;
	if ((r = mm_listen_nodelay(err, sizeof(err))) < 0)
		log_warn("TCP_NODELAY: %s", err);
	/* host/ learns what it reports of the MTA side from here */
	if (c0->stats_socket &&
	    stats_serve(c0->stats_socket, milter_conf, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto fail;
	}
	metrics_persist();	/* counters survive reloads */
	if (c0->metrics_listen &&
	    metrics_serve(c0->metrics_listen, milter_active, err, sizeof(err)) < 0) {
		log_err("%s", err);
		remove_socket(c0->listen);
		goto fail;
	}
	if (drop_privileges(c0) < 0 || (c = conf_load(conf_path, stderr)) == NULL) {
		remove_socket(c0->listen);
		goto fail;
	}
	free(c->listen);
	c->listen = xstrdup(c0->listen);
	pidfile = c0->pidfile ? xstrdup(c0->pidfile) : NULL;
	sockpath = xstrdup(c0->listen);
	conf_unref(c0);
	milter_set_conf(c);
	start_thread(signal_thread, &set, "signal");
	start_thread(sweep_thread, NULL, "store sweep");
	apply_log(c, 0);
	log_also_stderr(0);
	log_notice("listening on %s: %zu plugin instances, %zu chains",
	    c->listen, c->ninst, c->nchains);
	detach_ready();
	if (getenv("NOTIFY_SOCKET"))
		start_thread(status_thread, NULL, "status");
	notify_ready();
	stopwake_start(sockpath);
	r = smfi_main();	/* after a reload c may be gone: use copies */
	drain();
	remove_socket(sockpath);
	free(sockpath);
	log_notice("stopped");
	if (pidfile)
		pidfile_remove(pidfile);
	free(pidfile);
	milter_set_conf(NULL);	/* plugins' fini, once the last connection is gone */
	free(abs);
	return r == MI_SUCCESS ? 0 : 1;
fail:
	/* a start-up error: free what was read, for leak checkers */
	conf_unref(c0);
	free(abs);
	return 1;
}
