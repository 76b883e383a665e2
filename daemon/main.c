// SPDX-License-Identifier: GPL-2.0
/*
 * kuifd: setup, signals and the loop. Sources feed the bus, the bus feeds
 * the server; this file only wires them together and talks to systemd.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "kuifd.h"

struct kuifd {
	struct event_base	*base;
	struct config		 conf;
	const char		*conf_path;
	struct bus		*bus;
	struct server		*server;
	struct src_netlink	*netlink;
	struct src_ring		*ring;		/* NULL: not configured */
	struct src_signal	*signal;	/* NULL: not configured */
	struct src_inotify	*inotify;	/* NULL: not configured */
	struct src_testfeed	*testfeed;	/* NULL: not asked for */
	const char		*testfeed_path;
	struct event		*ev_watchdog;
	struct persist		*persist;
	struct actions		*actions;
	bool			 ready;
	uint64_t		 upcalls;
	int			 debug;		/* -d: debug logging always */
	const char		*socket_override;	/* -s */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: kuifd [-dhnV] [-c file] [-s socket] "
	    "[--test-feed path]\n"
	    "  -c, --config file  configuration (default " KUIFD_CONF_PATH
	    ")\n"
	    "  -d, --debug        debug logging\n"
	    "  -h, --help         print this help and exit\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -s, --socket path  listen on this path instead of the "
	    "configured one\n"
	    "  -V, --version      print the version and exit\n"
	    "  --test-feed path   for tests: take raw netlink messages, ring\n"
	    "                     records and signal values on this datagram "
	    "socket\n"
	    "Exit status: 0 on success, 1 on a runtime failure, 2 on a usage "
	    "error.\n");
	exit(f == stdout ? 0 : 2);
}

static void
kuifd_status(struct kuifd *k)
{
	sd_notifyf(0, "STATUS=%s; %zu clients; %llu events published",
	    src_netlink_attached(k->netlink) ? "netlink attached" :
	    "degraded: the kuif module is not loaded; waiting for it",
	    server_client_count(k->server),
	    (unsigned long long)bus_stats(k->bus)->published);
}

static void
kuifd_source_state(const char *source, bool up, void *arg)
{
	struct kuifd *k = arg;

	(void)source;
	/* The ring follows the module, which netlink sees come and go. */
	if (k->ring != NULL && up)
		src_ring_attach(k->ring);
	else if (k->ring != NULL)
		src_ring_detach(k->ring);
	if (k->inotify != NULL && up)
		src_inotify_attach(k->inotify);
	if (k->signal != NULL && up)
		src_signal_register(k->signal, k->netlink);
	else if (k->signal != NULL)
		src_signal_lost(k->signal);
	if (up && !k->ready && k->server != NULL) {
		k->ready = true;
		sd_notify(0, "READY=1");
		log_lifecycle("ready", "kuifd %s ready", KUIFD_VERSION);
	}
	if (k->netlink != NULL)
		kuifd_status(k);
}

static int
kuifd_upcall(const struct request *req, void *arg)
{
	struct kuifd *k = arg;

	k->upcalls++;
	return src_upcall_deliver(k->bus, req);
}

static json_t *
kuifd_source_stats(void *arg)
{
	struct kuifd *k = arg;
	uint64_t received, overruns, dropped, malformed;
	json_t *o;

	src_netlink_counters(k->netlink, &received, &overruns);
	o = json_pack("{s:{s:b, s:I, s:I}, s:{s:I}}",
	    "netlink",
	    "attached", src_netlink_attached(k->netlink),
	    "received", (json_int_t)received,
	    "overruns", (json_int_t)overruns,
	    "upcall",
	    "received", (json_int_t)k->upcalls);
	if (o != NULL && k->inotify != NULL)
		json_object_set_new(o, "inotify", json_pack("{s:I, s:I}",
		    "watches", (json_int_t)src_inotify_watches(k->inotify),
		    "received", (json_int_t)src_inotify_received(k->inotify)));
	if (o != NULL && k->signal != NULL)
		json_object_set_new(o, "signal", json_pack("{s:b, s:I}",
		    "attached", src_signal_attached(k->signal),
		    "received", (json_int_t)src_signal_received(k->signal)));
	if (o != NULL && k->ring != NULL) {
		src_ring_counters(k->ring, &received, &dropped, &malformed);
		json_object_set_new(o, "ring", json_pack("{s:b, s:I, s:I, s:I}",
		    "attached", src_ring_attached(k->ring),
		    "received", (json_int_t)received,
		    "kernel_dropped", (json_int_t)dropped,
		    "malformed", (json_int_t)malformed));
	}
	return o;
}

static json_t *
kuifd_actions_json(void *arg)
{
	struct kuifd *k = arg;

	return actions_json(k->actions);
}

/*
 * (Re)reads the action rules; the bus calls them only while there are
 * some, so that events cost nothing more without rules.
 */
static void
kuifd_load_actions(struct kuifd *k)
{
	actions_set_max_running(k->actions, k->conf.actions_max_running);
	actions_load(k->actions);
	bus_set_observer(k->bus, actions_count(k->actions) > 0 ?
	    actions_event : NULL, k->actions);
}

/* Keys that a reload cannot apply: each change is named in the log. */
static void
kuifd_reload_needs_restart(const struct config *old, const struct config *new)
{
#define RESTART(changed, key) do {					\
	if (changed)							\
		log_warnx("reload: %s changed; it takes effect at the next "\
		    "start (systemctl restart kuifd)", key);		\
} while (0)
	RESTART(strcmp(old->socket_path, new->socket_path) != 0,
	    "[server] socket");
	RESTART(old->history != new->history, "[events] history");
	RESTART(old->reorder_ms != new->reorder_ms, "[events] reorder_ms");
	RESTART(old->ring != new->ring, "[sources] ring");
	RESTART(old->signal != new->signal, "[sources] signal");
	RESTART(old->inotify != new->inotify, "[sources] inotify");
	RESTART(strcmp(old->actions_dir, new->actions_dir) != 0,
	    "[actions] directory");
#undef RESTART
}

/*
 * SIGHUP: the [server] limits, [journal] events and [log] verbose apply
 * at once; the other keys need a restart, and the log says which.
 */
static void
kuifd_reload(struct kuifd *k)
{
	struct config conf;

	sd_notify(0, "RELOADING=1");
	config_defaults(&conf);
	if (config_load(k->conf_path, &conf) == -1) {
		config_free(&conf);
		log_warnx("reload failed; keeping the running configuration");
		sd_notify(0, "READY=1");
		return;
	}
	if (k->socket_override != NULL) {
		free(conf.socket_path);
		conf.socket_path = xstrdup(k->socket_override);
	}
	log_init(k->debug || conf.verbose, "kuifd");
	kuifd_reload_needs_restart(&k->conf, &conf);
	server_reconfigure(k->server, &conf);
	/* What keeps running, as it runs now, for the debug log. */
	conf.history = k->conf.history;
	conf.reorder_ms = k->conf.reorder_ms;
	conf.ring = k->conf.ring;
	conf.signal = k->conf.signal;
	conf.inotify = k->conf.inotify;
	free(conf.socket_path);
	conf.socket_path = xstrdup(k->conf.socket_path);
	free(conf.actions_dir);
	conf.actions_dir = xstrdup(k->conf.actions_dir);
	config_free(&k->conf);
	k->conf = conf;
	bus_set_journal(k->bus, &k->conf.journal);
	kuifd_load_actions(k);
	log_debug("running configuration: max_clients %u, client_buffer "
	    "%zu, client_timeout %u, %zu journal patterns, verbose %s",
	    k->conf.max_clients, k->conf.client_buffer,
	    k->conf.client_timeout, k->conf.journal.nevents,
	    k->conf.verbose ? "yes" : "no");
	log_lifecycle("reload", "configuration %s reloaded", k->conf_path);
	sd_notify(0, "READY=1");
}

static void
kuifd_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct kuifd *k = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		kuifd_reload(k);
		break;
	case SIGTERM:
	case SIGINT:
		sd_notify(0, "STOPPING=1");
		log_lifecycle("stop", "kuifd stopping on signal %d", (int)sig);
		event_base_loopbreak(k->base);
		break;
	}
}

static void
kuifd_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct kuifd *k = arg;

	(void)fd;
	(void)what;
	sd_notify(0, "WATCHDOG=1");
	kuifd_status(k);
}

/*
 * Descriptors from systemd: the listening socket (socket activation) and
 * the history memfd from the store. Anything else is closed.
 */
static void
kuifd_listen_fds(int *listen_fd, int *history_fd)
{
	char **names = NULL;
	int i, n, fd;

	*listen_fd = *history_fd = -1;
	n = sd_listen_fds_with_names(1, &names);
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		if (names != NULL && strcmp(names[i], "history") == 0 &&
		    *history_fd == -1)
			*history_fd = fd;
		else if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0 &&
		    *listen_fd == -1)
			*listen_fd = fd;
		else {
			log_warnx("closing unexpected descriptor %d from "
			    "systemd (%s)", fd, names != NULL ? names[i] : "?");
			close(fd);
		}
	}
	if (names != NULL) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
}

static void
kuifd_setup_watchdog(struct kuifd *k)
{
	uint64_t usec;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	k->ev_watchdog = event_new(k->base, -1, EV_PERSIST, kuifd_watchdog, k);
	if (k->ev_watchdog == NULL || event_add(k->ev_watchdog, &tv) == -1)
		fatalx("cannot arm the watchdog timer");
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
	static const struct option longopts[] = {
		{ "test-feed", required_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "check", no_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct event *ev_sig[3];
	struct kuifd k;
	int ch, check_only = 0, conf_given = 0, listen_fd, history_fd;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.conf_path = KUIFD_CONF_PATH;
	while ((ch = getopt_long(argc, argv, "c:dhns:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'T':
			k.testfeed_path = optarg;
			break;
		case 'c':
			k.conf_path = optarg;
			conf_given = 1;
			break;
		case 'd':
			k.debug = 1;
			break;
		case 'n':
			check_only = 1;
			break;
		case 's':
			k.socket_override = optarg;
			break;
		case 'h':
			usage(stdout);
			break;
		case 'V':
			printf("kuifd %s\n", KUIFD_VERSION);
			return 0;
		default:
			/* getopt named the bad option on stderr. */
			usage(stderr);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "kuifd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
	}

	log_init(k.debug, "kuifd");
	config_defaults(&k.conf);
	/*
	 * The default file may be absent (the defaults apply); a file named
	 * with -c must be there, or -n would call a typo "OK".
	 */
	if ((conf_given || access(k.conf_path, F_OK) == 0) &&
	    config_load(k.conf_path, &k.conf) == -1)
		fatalx("bad configuration %s", k.conf_path);
	if (check_only) {
		/* A broken rule file is skipped, not fatal: said (file:line,
		 * and how many rules), not failed. */
		struct actions *a = actions_create(NULL, k.conf.actions_dir,
		    ACTIONS_RUN_DIR, k.conf.actions_max_running);

		actions_load(a);
		actions_free(a);
		printf("configuration OK\n");
		config_free(&k.conf);
		return 0;
	}
	if (k.conf.verbose)
		log_init(1, "kuifd");
	if (k.socket_override != NULL) {
		free(k.conf.socket_path);
		k.conf.socket_path = xstrdup(k.socket_override);
	}

	/* A client that goes away mid-write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	k.base = event_base_new();
	if (k.base == NULL)
		fatalx("cannot create the event loop");
	for (i = 0; i < 3; i++) {
		ev_sig[i] = evsignal_new(k.base, sigs[i], kuifd_on_signal, &k);
		if (ev_sig[i] == NULL || event_add(ev_sig[i], NULL) == -1)
			fatalx("cannot handle signal %d", sigs[i]);
	}

	kuifd_listen_fds(&listen_fd, &history_fd);
	k.bus = bus_create(k.base, k.conf.history, k.conf.reorder_ms);
	bus_set_journal(k.bus, &k.conf.journal);
	k.persist = persist_open(history_fd, k.conf.history);
	bus_set_persist(k.bus, k.persist);
	bus_restore(k.bus);
	k.server = server_create(k.base, k.bus, &k.conf, listen_fd);
	if (k.server == NULL)
		fatalx("cannot open the client socket");
	server_set_hooks(k.server, kuifd_upcall, kuifd_source_stats, &k);
	k.actions = actions_create(k.base, k.conf.actions_dir, ACTIONS_RUN_DIR,
	    k.conf.actions_max_running);
	server_set_actions_hook(k.server, kuifd_actions_json, &k);
	kuifd_load_actions(&k);
	log_lifecycle("start", "kuifd %s starting (pid %d)", KUIFD_VERSION,
	    (int)getpid());
	if (k.conf.ring)
		k.ring = src_ring_create(k.base, k.bus, KUIF_DEVICE_PATH);
	if (k.conf.inotify)
		k.inotify = src_inotify_create(k.base, k.bus);
	if (k.conf.signal) {
		if (src_signal_block() == -1)
			fatal("sigprocmask");
		k.signal = src_signal_create(k.base, k.bus);
	}
	k.netlink = src_netlink_create(k.base, k.bus, kuifd_source_state, &k);
	if (k.netlink == NULL)
		fatalx("cannot open the netlink source");
	bus_set_emitter(k.bus, src_netlink_emit, k.netlink);
	if (k.testfeed_path != NULL &&
	    (k.testfeed = src_testfeed_create(k.base, k.bus,
	    k.testfeed_path)) == NULL)
		fatalx("cannot open the test feed");
	src_netlink_start(k.netlink);
	/*
	 * With the module there, the sources attached in src_netlink_start()
	 * and READY was sent. Without it, kuifd still serves its socket and
	 * attaches when the module comes: READY now, so that systemctl start
	 * neither hangs nor fails, but not as if all were well: a warning,
	 * and a STATUS= that says what is missing (kuifd(8), READY).
	 */
	if (!k.ready) {
		k.ready = true;
		log_warnx("kuif module not loaded: serving clients, no kernel "
		    "events until it is (modprobe kuif)");
		sd_notify(0, "READY=1\nSTATUS=degraded: the kuif module is not "
		    "loaded; waiting for it");
		log_lifecycle("ready", "kuifd %s ready, without the kuif module",
		    KUIFD_VERSION);
	}
	kuifd_setup_watchdog(&k);

	event_base_dispatch(k.base);

	for (i = 0; i < 3; i++)
		event_free(ev_sig[i]);
	if (k.ev_watchdog != NULL)
		event_free(k.ev_watchdog);
	src_testfeed_free(k.testfeed);
	src_signal_free(k.signal);	/* unregisters through netlink */
	src_netlink_free(k.netlink);
	src_ring_free(k.ring);
	src_inotify_free(k.inotify);
	server_free(k.server);
	bus_set_observer(k.bus, NULL, NULL);
	actions_free(k.actions);
	bus_free(k.bus);
	persist_close(k.persist);
	config_free(&k.conf);
	event_base_free(k.base);
	log_lifecycle("stopped", "kuifd stopped");
	return 0;
}
