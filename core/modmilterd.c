/*
 * NAME
 *	modmilterd - one milter daemon, many plugins
 * SYNOPSIS
 *	modmilterd [-c FILE] [-f] [-t] [-l SOCKET] [-P PLUGINDIR] [-S] [-V]
 * DESCRIPTION
 *	Loads the configuration (conf.c), opens the milter socket, sets
 *	TCP_NODELAY on it (an end-of-message answer is several packets;
 *	without it each message waits on Nagle and delayed ACKs), drops
 *	privileges, detaches unless -f, and serves the MTA through
 *	libmilter. SIGUSR1 reloads the configuration; a configuration that
 *	fails validation is logged and the running one stays.
 *	-t checks the configuration (every plugin's options included) and
 *	exits; -S prints the counters of a running daemon.
 * DIAGNOSTICS
 *	Configuration errors as FILE:LINE:COL: message, exit status 1.
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
#include "log.h"
#include "milter.h"
#include "nodelay.h"
#include "stats.h"
#include "util.h"

static const char *conf_path = SYSCONFDIR "/modmilter.yaml";
static const char *listen_override;	/* -l, kept across reloads */

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
	    "  -V         print the version\n", conf_path);
	exit(2);
}

static void
reload(void)
{
	char *errs = NULL;
	size_t errlen = 0;
	FILE *fp = open_memstream(&errs, &errlen);
	struct conf *c, *old;

	log_notice("reloading %s", conf_path);
	c = conf_load(conf_path, fp);
	fclose(fp);
	if (c == NULL) {
		char *save, *line;
		for (line = strtok_r(errs, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			log_err("%s", line);
		log_err("reload failed; the running configuration stays");
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
	if (old)
		conf_unref(old);
	milter_set_conf(c);
	log_notice("reloaded %s: %zu plugin instances, %zu chains; new connections use it",
	    conf_path, c->ninst, c->nchains);
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

static int
write_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		log_err("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	return fclose(fp);
}

static int
detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int ch, foreground = 0, check = 0, query = 0;
	const char *sock = NULL;
	struct conf *c;
	sigset_t set;
	pthread_t tid;
	char err[512], *pidfile;
	int r;

	while ((ch = getopt(argc, argv, "c:ftl:P:SVh")) != -1) {
		switch (ch) {
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
	if (optind != argc)
		usage();

	log_open(LOG_DEST_STDERR, MM_LOG_INFO, "modmilterd");
	if ((c = conf_load(conf_path, stderr)) == NULL)
		return 1;
	if (check) {
		printf("%s: configuration OK (%zu plugin instances, %zu chains)\n",
		    conf_path, c->ninst, c->nchains);
		conf_unref(c);
		return 0;
	}
	if (query) {
		if (c->stats_socket == NULL) {
			fprintf(stderr, "%s: no stats_socket configured\n", conf_path);
			conf_unref(c);
			return 1;
		}
		r = stats_query(c->stats_socket, stdout);
		if (r < 0)
			fprintf(stderr, "%s: %s\n", c->stats_socket, strerror(errno));
		conf_unref(c);
		return r < 0 ? 1 : 0;
	}
	if (sock) {
		listen_override = sock;
		free(c->listen);
		c->listen = xstrdup(sock);
	}
	log_open(c->log_dest, c->log_level, "modmilterd");

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

	milter_set_conf(c);
	if (milter_register() < 0 || smfi_setconn(c->listen) != MI_SUCCESS) {
		log_err("cannot register with libmilter on %s", c->listen);
		return 1;
	}
	smfi_setbacklog(128);
	if (smfi_opensocket(1) != MI_SUCCESS) {
		log_err("cannot open milter socket %s", c->listen);
		return 1;
	}
	if ((r = mm_listen_nodelay(err, sizeof(err))) < 0)
		log_warn("TCP_NODELAY: %s", err);
	if (!foreground && detach() < 0) {
		log_err("cannot detach: %s", strerror(errno));
		return 1;
	}
	/* after detaching: a thread does not survive fork() */
	if (c->stats_socket && stats_serve(c->stats_socket, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	if (c->pidfile && write_pidfile(c->pidfile) < 0)
		return 1;
	if (drop_privileges(c) < 0)
		return 1;
	if (pthread_create(&tid, NULL, signal_thread, &set) != 0) {
		log_err("cannot start the signal thread");
		return 1;
	}
	log_notice("listening on %s: %zu plugin instances, %zu chains",
	    c->listen, c->ninst, c->nchains);
	pidfile = c->pidfile ? xstrdup(c->pidfile) : NULL;
	r = smfi_main();	/* after a reload c may be gone: use copies */
	log_notice("stopping");
	if (pidfile)
		unlink(pidfile);
	free(pidfile);
	milter_set_conf(NULL);	/* plugins' fini, once the last connection is gone */
	return r == MI_SUCCESS ? 0 : 1;
}
