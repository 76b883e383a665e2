// SPDX-License-Identifier: GPL-2.0
/*
 * /etc/kuifd/kuifd.conf, an INI file parsed by libinih. Unknown sections,
 * unknown keys and bad values are errors reported with file and line; a
 * failed load leaves the caller's configuration untouched.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "kuifd.h"

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
	conf->verbose = 0;
}

void
config_free(struct config *conf)
{
	free(conf->socket_path);
	conf->socket_path = NULL;
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
