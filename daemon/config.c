// SPDX-License-Identifier: GPL-2.0
/*
 * /etc/kuifd/kuifd.conf, an INI file parsed by libinih. Unknown sections,
 * unknown keys and bad values are errors reported with file and line; a
 * failed load leaves the caller's configuration untouched.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "kuifd.h"

#define CONFIG_JOURNAL_DEFAULT "netdev.* module.* inet.* inet6.* power.*"

static int config_set_patterns(struct filter *, const char *);

struct config_parse {
	struct config	 conf;
	char		 err[256];
};

void
config_defaults(struct config *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->socket_path = xstrdup(KUIFD_SOCKET_PATH);
	conf->max_clients = 256;
	conf->client_buffer = 1024 * 1024;
	conf->client_timeout = 60;
	conf->history = 4096;
	conf->reorder_ms = 100;
	conf->ring = 1;
	conf->signal = 1;
	conf->inotify = 1;
	conf->verbose = 0;
	conf->emit_group = NULL;
	conf->emit_gid = (gid_t)-1;
	conf->actions_dir = xstrdup(ACTIONS_DIR);
	conf->actions_max_running = 16;
	config_set_patterns(&conf->journal, CONFIG_JOURNAL_DEFAULT);
}

void
config_free(struct config *conf)
{
	free(conf->socket_path);
	conf->socket_path = NULL;
	free(conf->emit_group);
	conf->emit_group = NULL;
	free(conf->actions_dir);
	conf->actions_dir = NULL;
	filter_clear(&conf->journal);
}

static int
parse_uint(const char *v, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || *out < min || *out > max)
		return -1;
	return 0;
}

/* A list of event globs separated by spaces or commas. */
static int
config_set_patterns(struct filter *f, const char *value)
{
	char buf[1024], *p, *save = NULL;

	filter_clear(f);
	if (strlen(value) >= sizeof(buf))
		return -1;
	strcpy(buf, value);
	for (p = strtok_r(buf, " ,\t", &save); p != NULL;
	    p = strtok_r(NULL, " ,\t", &save)) {
		if (f->nevents == FILTER_MAX_PATTERNS ||
		    strlen(p) > FILTER_MAX_PATTERN_LEN) {
			filter_clear(f);
			return -1;
		}
		f->events[f->nevents++] = xstrdup(p);
	}
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* inih reports the first bad line: keep the first message to match it. */
static void __attribute__((format(printf, 2, 3)))
config_error(struct config_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

static int
config_handler(void *arg, const char *section, const char *key,
    const char *value)
{
	struct config_parse *p = arg;
	struct config *c = &p->conf;
	unsigned long long n;

#define KEY(s, k) (strcmp(section, s) == 0 && strcmp(key, k) == 0)
	if (KEY("server", "socket")) {
		if (value[0] != '/' || strlen(value) >= 108) {
			config_error(p, "[server] socket "
			    "must be an absolute path under 108 bytes");
			return 0;
		}
		free(c->socket_path);
		c->socket_path = xstrdup(value);
	} else if (KEY("server", "emit_group")) {
		struct group *gr;

		free(c->emit_group);
		c->emit_group = NULL;
		c->emit_gid = (gid_t)-1;
		if (value[0] == '\0')
			return 1;	/* empty: root alone */
		gr = getgrnam(value);
		if (gr == NULL) {
			config_error(p, "[server] emit_group: no group \"%.64s\"",
			    value);
			return 0;
		}
		c->emit_group = xstrdup(value);
		c->emit_gid = gr->gr_gid;
	} else if (KEY("server", "max_clients")) {
		if (parse_uint(value, 1, 65536, &n) == -1) {
			config_error(p, "[server] "
			    "max_clients must be an integer in 1..65536");
			return 0;
		}
		c->max_clients = (unsigned int)n;
	} else if (KEY("server", "client_buffer")) {
		if (parse_uint(value, 4096, 1ULL << 30, &n) == -1) {
			config_error(p, "[server] "
			    "client_buffer must be bytes in 4096..1073741824");
			return 0;
		}
		c->client_buffer = (size_t)n;
	} else if (KEY("server", "client_timeout")) {
		if (parse_uint(value, 1, 86400, &n) == -1) {
			config_error(p, "[server] client_timeout must be "
			    "seconds in 1..86400");
			return 0;
		}
		c->client_timeout = (unsigned int)n;
	} else if (KEY("events", "history")) {
		if (parse_uint(value, 16, 1048576, &n) == -1) {
			config_error(p, "[events] history must be records in "
			    "16..1048576");
			return 0;
		}
		c->history = (size_t)n;
	} else if (KEY("events", "reorder_ms")) {
		if (parse_uint(value, 0, 10000, &n) == -1) {
			config_error(p, "[events] reorder_ms must be in "
			    "0..10000");
			return 0;
		}
		c->reorder_ms = (unsigned int)n;
	} else if (KEY("journal", "events")) {
		if (config_set_patterns(&c->journal, value) == -1) {
			config_error(p, "[journal] events: at most %d patterns "
			    "of at most %d bytes", FILTER_MAX_PATTERNS,
			    FILTER_MAX_PATTERN_LEN);
			return 0;
		}
	} else if (KEY("sources", "ring")) {
		if (parse_bool(value, &c->ring) == -1) {
			config_error(p, "[sources] ring must be yes or no");
			return 0;
		}
	} else if (KEY("sources", "signal")) {
		if (parse_bool(value, &c->signal) == -1) {
			config_error(p, "[sources] signal must be yes or no");
			return 0;
		}
	} else if (KEY("sources", "inotify")) {
		if (parse_bool(value, &c->inotify) == -1) {
			config_error(p, "[sources] inotify must be yes or no");
			return 0;
		}
	} else if (KEY("actions", "directory")) {
		if (value[0] != '/' || strlen(value) >= 256) {
			config_error(p, "[actions] directory must be an "
			    "absolute path under 256 bytes");
			return 0;
		}
		free(c->actions_dir);
		c->actions_dir = xstrdup(value);
	} else if (KEY("actions", "max_running")) {
		if (parse_uint(value, 1, ACTIONS_MAX_RUNNING, &n) == -1) {
			config_error(p, "[actions] max_running must be an "
			    "integer in 1..%d", ACTIONS_MAX_RUNNING);
			return 0;
		}
		c->actions_max_running = (unsigned int)n;
	} else if (KEY("log", "verbose")) {
		if (parse_bool(value, &c->verbose) == -1) {
			config_error(p,
			    "[log] verbose must be yes or no");
			return 0;
		}
	} else {
		config_error(p, "unknown key \"%s\" in "
		    "section [%s]", key, section);
		return 0;
	}
#undef KEY
	return 1;
}

/* The same from a string, for tests and fuzzing; name is for messages. */
int
config_load_string(const char *name, const char *text, struct config *conf)
{
	struct config_parse p;
	int rc;

	memset(&p, 0, sizeof(p));
	config_defaults(&p.conf);
	rc = ini_parse_string(text, config_handler, &p);
	if (rc != 0) {
		log_warnx("%s:%d: %s", name, rc,
		    p.err[0] != '\0' ? p.err : "syntax error");
		config_free(&p.conf);
		return -1;
	}
	config_free(conf);
	*conf = p.conf;
	return 0;
}

/*
 * Loads path over the defaults. On success replaces *conf and returns 0;
 * on failure logs why and returns -1 with *conf unchanged.
 */
int
config_load(const char *path, struct config *conf)
{
	struct config_parse p;
	int rc;

	memset(&p, 0, sizeof(p));
	config_defaults(&p.conf);
	rc = ini_parse(path, config_handler, &p);
	if (rc == -1) {
		log_warn("%s", path);
		config_free(&p.conf);
		return -1;
	}
	if (rc != 0) {
		log_warnx("%s:%d: %s", path, rc,
		    p.err[0] != '\0' ? p.err : "syntax error");
		config_free(&p.conf);
		return -1;
	}
	config_free(conf);
	*conf = p.conf;
	return 0;
}
