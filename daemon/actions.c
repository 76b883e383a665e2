// SPDX-License-Identifier: GPL-2.0
/*
 * Actions: rules in the .conf files of /etc/kuifd/actions.d that start a
 * systemd unit for each matching event.
 *
 * A rule is a section of an INI file (libinih, as kuifd.conf):
 *
 *	[netdev-up]
 *	event = netdev.up
 *	unit = kuif-action-netlog@.service
 *
 * The unit is a template named kuif-action-NAME@.service; for the event
 * of seq N kuifd starts kuif-action-NAME@N.service through systemd's
 * D-Bus API (StartUnit, async, on the libevent loop), so the action runs
 * as systemd runs any unit: sandboxed as its unit file says, in the
 * journal, accounted, never a child of kuifd. A template, not a transient
 * unit: systemd asks polkit about StartUnit with the unit's name and the
 * verb, so the polkit rule kuif ships lets user kuifd start instances of
 * kuif-action-*@.service templates and nothing else; StartTransientUnit
 * carries no name to decide on, and would let kuifd run any command as
 * root.
 *
 * StartUnit carries no environment: before it asks, kuifd writes the
 * event to /run/kuifd/actions/UNIT.env (EnvironmentFile= syntax) and the
 * template reads it with EnvironmentFile=/run/kuifd/actions/%n.env. The
 * start job of a Type=oneshot unit ends when the action exits: systemd's
 * JobRemoved signal then says how it went, the file is removed and the
 * rule's slot is free again.
 *
 * Every rule has a token bucket (rate_limit, burst) and a cap on its
 * running actions (max_running); [actions] max_running caps them all.
 * What is dropped is counted per rule and logged at most every 10 s per
 * rule. A file with an error is reported with file:line and skipped;
 * the other files load.
 *
 * Without rules kuifd does not connect to the bus and the bus does not
 * call in here. When the system bus cannot be reached, kuifd runs on,
 * says so, counts the actions it could not start and tries again every
 * few seconds.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ini.h>
#include <jansson.h>
#include <systemd/sd-bus.h>

#include "kuifd.h"

#define ACTIONS_FILE_MAX	(64 * 1024)	/* bytes of one rule file */
#define ACTIONS_LINE_MAX	1024
#define ACTIONS_NAME_MAX	32
#define ACTIONS_UNIT_MAX	128
#define ACTIONS_INSTANCE_MAX	(ACTIONS_UNIT_MAX + 24)
#define ACTIONS_DROP_LOG_MS	10000		/* one drop message per rule */
#define ACTIONS_RETRY_S		5		/* to reach the bus again */
#define ACTIONS_ERR_MAX		256

#define ACTIONS_UNIT_PREFIX	"kuif-action-"
#define ACTIONS_UNIT_SUFFIX	"@.service"

struct action_rule {
	TAILQ_ENTRY(action_rule) entry;
	char		*file;		/* base name, for messages */
	unsigned int	 line;		/* of its [section] */
	char		 name[ACTIONS_NAME_MAX + 1];
	struct filter	 match;		/* events, sources */
	char		*payload;	/* glob, or NULL */
	char		 unit[ACTIONS_UNIT_MAX];	/* the template */
	unsigned int	 rate_count;	/* rate_limit = COUNT/SECONDS */
	unsigned int	 rate_seconds;
	unsigned int	 burst;
	unsigned int	 max_running;

	/* State; carried over a reload to the rule of the same file and
	 * name. */
	double		 tokens;
	uint64_t	 refilled_ms;
	unsigned int	 running;
	uint64_t	 matched;
	uint64_t	 started;
	uint64_t	 succeeded;
	uint64_t	 failed;	/* the unit's start job did not end "done" */
	uint64_t	 start_failed;	/* never started */
	uint64_t	 rate_limited;
	uint64_t	 capped;
	uint64_t	 drops_unlogged;
	uint64_t	 drop_logged_ms;
	uint64_t	 fail_logged_ms;
};
TAILQ_HEAD(action_rules, action_rule);

/* An action kuifd asked systemd to start, until its start job ends. */
struct action_job {
	TAILQ_ENTRY(action_job) entry;
	struct actions	*actions;
	struct action_rule *rule;	/* NULL: its rule went at a reload */
	char		 unit[ACTIONS_INSTANCE_MAX];	/* the instance */
	sd_bus_slot	*slot;		/* StartUnit, until it is answered */
	bool		 removed;	/* JobRemoved came before the answer */
	bool		 ok;		/* ... with result "done" */
};
TAILQ_HEAD(action_jobs, action_job);

/* A file that did not load, for `kuifctl actions`. */
struct action_error {
	TAILQ_ENTRY(action_error) entry;
	char		*file;
	unsigned int	 line;
	char		*message;
};
TAILQ_HEAD(action_errors, action_error);

struct actions {
	struct event_base	*base;		/* NULL: no bus (tests) */
	char			*dir;		/* the rules */
	char			*rundir;	/* the environment files */
	unsigned int		 max_running;	/* all rules together */
	struct action_rules	 rules;
	size_t			 nrules;
	struct action_errors	 errors;
	struct action_jobs	 jobs;
	unsigned int		 running;
	actions_clock_fn	 clock;
	void			*clock_arg;
	actions_start_fn	 start;		/* tests replace StartUnit */
	void			*start_arg;

	sd_bus			*bus;
	sd_bus_slot		*match_slot;
	struct event		*ev_bus;
	struct event		*ev_retry;
	struct event		*ev_droplog;	/* drops held back, said */
	bool			 bus_warned;	/* once per outage */
	char			 bus_error[128];
};

static int	actions_bus_start(struct actions *, struct action_job *,
		    const struct event *, char *, size_t);
static void	actions_bus_close(struct actions *, const char *);

static uint64_t
actions_monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
action_rule_free(struct action_rule *r)
{
	if (r == NULL)
		return;
	free(r->file);
	free(r->payload);
	filter_clear(&r->match);
	free(r);
}

static void
actions_rules_free(struct action_rules *rules)
{
	struct action_rule *r;

	while ((r = TAILQ_FIRST(rules)) != NULL) {
		TAILQ_REMOVE(rules, r, entry);
		action_rule_free(r);
	}
}

static void
actions_errors_free(struct action_errors *errors)
{
	struct action_error *e;

	while ((e = TAILQ_FIRST(errors)) != NULL) {
		TAILQ_REMOVE(errors, e, entry);
		free(e->file);
		free(e->message);
		free(e);
	}
}

/* Environment files a previous run left behind. */
static void
actions_clean_rundir(struct actions *a)
{
	struct dirent *de;
	size_t len;
	DIR *d;

	if ((d = opendir(a->rundir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".env") == 0 &&
		    unlinkat(dirfd(d), de->d_name, 0) == -1)
			log_warn("%s/%s", a->rundir, de->d_name);
	}
	closedir(d);
}

struct actions *
actions_create(struct event_base *base, const char *dir, const char *rundir,
    unsigned int max_running)
{
	struct actions *a = xcalloc(1, sizeof(*a));

	a->base = base;
	a->dir = xstrdup(dir);
	a->rundir = xstrdup(rundir);
	a->max_running = max_running;
	a->clock = actions_monotonic_ms;
	TAILQ_INIT(&a->rules);
	TAILQ_INIT(&a->errors);
	TAILQ_INIT(&a->jobs);
	if (base != NULL)
		actions_clean_rundir(a);
	return a;
}

void
actions_set_clock(struct actions *a, actions_clock_fn fn, void *arg)
{
	a->clock = fn != NULL ? fn : actions_monotonic_ms;
	a->clock_arg = arg;
}

void
actions_set_starter(struct actions *a, actions_start_fn fn, void *arg)
{
	a->start = fn;
	a->start_arg = arg;
}

void
actions_set_max_running(struct actions *a, unsigned int max_running)
{
	a->max_running = max_running;
}

static void
actions_env_unlink(struct actions *a, const struct action_job *job)
{
	char path[PATH_MAX];

	if (a->start != NULL)
		return;		/* tests: no files */
	snprintf(path, sizeof(path), "%s/%s.env", a->rundir, job->unit);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);
}

/* The job is over: its slot is free, its file gone. */
static void
actions_job_free(struct actions *a, struct action_job *job)
{
	TAILQ_REMOVE(&a->jobs, job, entry);
	if (job->rule != NULL)
		job->rule->running--;
	a->running--;
	sd_bus_slot_unref(job->slot);
	actions_env_unlink(a, job);
	free(job);
}

void
actions_free(struct actions *a)
{
	struct action_job *job;

	if (a == NULL)
		return;
	while ((job = TAILQ_FIRST(&a->jobs)) != NULL)
		actions_job_free(a, job);
	actions_bus_close(a, NULL);
	if (a->ev_retry != NULL)
		event_free(a->ev_retry);
	if (a->ev_droplog != NULL)
		event_free(a->ev_droplog);
	actions_rules_free(&a->rules);
	actions_errors_free(&a->errors);
	free(a->dir);
	free(a->rundir);
	free(a);
}

size_t
actions_count(const struct actions *a)
{
	return a->nrules;
}

/* --- Rule files --------------------------------------------------------- */

struct actions_parse {
	const char		*file;
	const char		*text;		/* what is left to read */
	unsigned int		 lineno;	/* of the line read last */
	unsigned int		 section_line;
	unsigned int		 nsections;	/* headers read */
	unsigned int		 cur_section;	/* cur's, of those */
	bool			 too_long;
	struct action_rules	 rules;
	size_t			 nrules;
	struct action_rule	*cur;
	unsigned int		 err_line;
	char			 err[ACTIONS_ERR_MAX];
};

static void __attribute__((format(printf, 3, 4)))
actions_parse_error(struct actions_parse *p, unsigned int line,
    const char *fmt, ...)
{
	va_list ap;

	if (p->err[0] != '\0')
		return;
	p->err_line = line;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

/*
 * libinih's reader: one line at a time from the text, counted, so that
 * a rule's errors found at its end can name the line of its [section].
 */
static char *
actions_reader(char *str, int num, void *arg)
{
	struct actions_parse *p = arg;
	const char *nl, *s;
	size_t len;

	if (*p->text == '\0')
		return NULL;
	nl = strchr(p->text, '\n');
	len = nl != NULL ? (size_t)(nl - p->text) + 1 : strlen(p->text);
	p->lineno++;
	if (len >= (size_t)num && !p->too_long) {
		p->too_long = true;
		actions_parse_error(p, p->lineno, "line longer than %d bytes",
		    num - 2);
	}
	if (len > (size_t)num - 1)
		len = (size_t)num - 1;
	memcpy(str, p->text, len);
	str[len] = '\0';
	p->text = nl != NULL ? nl + 1 : p->text + strlen(p->text);
	for (s = str; *s == ' ' || *s == '\t'; s++)
		;
	if (*s == '[') {
		p->section_line = p->lineno;
		p->nsections++;
	}
	return str;
}

static int
actions_parse_uint(const char *v, unsigned long min, unsigned long max,
    unsigned int *out)
{
	unsigned long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned int)n;
	return 0;
}

/* "COUNT/SECONDS", the seconds with an optional "s": 5/10s. */
static int
actions_parse_rate(const char *v, unsigned int *count, unsigned int *seconds)
{
	char buf[32], *slash;
	size_t n;

	if (strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	n = strlen(slash + 1);
	if (n > 0 && slash[n] == 's')
		slash[n] = '\0';
	if (actions_parse_uint(buf, 1, 10000, count) == -1 ||
	    actions_parse_uint(slash + 1, 1, 86400, seconds) == -1)
		return -1;
	return 0;
}

/* A list of globs separated by spaces or commas, into events or
 * sources. */
static int
actions_parse_globs(const char *value, char **list, size_t *n)
{
	char buf[1024], *p, *save = NULL;

	if (strlen(value) >= sizeof(buf))
		return -1;
	strcpy(buf, value);
	for (p = strtok_r(buf, " ,\t", &save); p != NULL;
	    p = strtok_r(NULL, " ,\t", &save)) {
		if (*n == FILTER_MAX_PATTERNS ||
		    strlen(p) > FILTER_MAX_PATTERN_LEN)
			return -1;
		list[(*n)++] = xstrdup(p);
	}
	return *n > 0 ? 0 : -1;
}

/* kuif-action-NAME@.service, NAME of [a-z0-9-]: what the polkit rule
 * lets kuifd start instances of. */
static bool
actions_unit_valid(const char *unit)
{
	size_t plen = strlen(ACTIONS_UNIT_PREFIX);
	size_t slen = strlen(ACTIONS_UNIT_SUFFIX);
	size_t len = strlen(unit), i;

	if (len <= plen + slen || len >= ACTIONS_UNIT_MAX ||
	    strncmp(unit, ACTIONS_UNIT_PREFIX, plen) != 0 ||
	    strcmp(unit + len - slen, ACTIONS_UNIT_SUFFIX) != 0)
		return false;
	for (i = plen; i < len - slen; i++) {
		if (!((unit[i] >= 'a' && unit[i] <= 'z') ||
		    (unit[i] >= '0' && unit[i] <= '9') || unit[i] == '-'))
			return false;
	}
	return true;
}

static bool
actions_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > ACTIONS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '-' || name[i] == '_' || name[i] == '.'))
			return false;
	}
	return true;
}

/* The rule being read is complete: checked, then kept. */
static void
actions_parse_end_rule(struct actions_parse *p)
{
	struct action_rule *r = p->cur;

	if (r == NULL)
		return;
	p->cur = NULL;
	if (p->err[0] == '\0' && r->match.nevents == 0)
		actions_parse_error(p, r->line, "rule [%s] has no \"event\"",
		    r->name);
	if (p->err[0] == '\0' && r->unit[0] == '\0')
		actions_parse_error(p, r->line, "rule [%s] has no \"unit\"",
		    r->name);
	if (p->err[0] != '\0') {
		action_rule_free(r);
		return;
	}
	if (r->burst == 0)
		r->burst = r->rate_count;
	r->tokens = r->burst;
	TAILQ_INSERT_TAIL(&p->rules, r, entry);
	p->nrules++;
}

static int
actions_handler(void *arg, const char *section, const char *key,
    const char *value)
{
	struct actions_parse *p = arg;
	struct action_rule *r;

	if (p->err[0] != '\0')
		return 0;
	if (p->cur == NULL || p->cur_section != p->nsections) {
		actions_parse_end_rule(p);
		if (p->err[0] != '\0')
			return 0;
		if (section[0] == '\0') {
			actions_parse_error(p, p->lineno,
			    "\"%s\" outside of a [rule] section", key);
			return 0;
		}
		if (!actions_name_valid(section)) {
			actions_parse_error(p, p->section_line, "rule name "
			    "\"%.40s\": 1 to %d of A-Z a-z 0-9 - _ .", section,
			    ACTIONS_NAME_MAX);
			return 0;
		}
		TAILQ_FOREACH(r, &p->rules, entry) {
			if (strcmp(r->name, section) == 0) {
				actions_parse_error(p, p->section_line,
				    "rule [%s] defined twice", section);
				return 0;
			}
		}
		if (p->nrules == ACTIONS_MAX_RULES) {
			actions_parse_error(p, p->section_line,
			    "more than %d rules", ACTIONS_MAX_RULES);
			return 0;
		}
		r = xcalloc(1, sizeof(*r));
		r->file = xstrdup(p->file);
		r->line = p->section_line;
		strcpy(r->name, section);
		r->rate_count = ACTIONS_DEFAULT_RATE_COUNT;
		r->rate_seconds = ACTIONS_DEFAULT_RATE_SECONDS;
		r->max_running = ACTIONS_DEFAULT_MAX_RUNNING;
		p->cur = r;
		p->cur_section = p->nsections;
	}
	r = p->cur;
#define KEY(k) (strcmp(key, k) == 0)
	if (KEY("event")) {
		if (r->match.nevents > 0 || actions_parse_globs(value,
		    r->match.events, &r->match.nevents) == -1)
			goto bad_globs;
	} else if (KEY("source")) {
		if (r->match.nsources > 0 || actions_parse_globs(value,
		    r->match.sources, &r->match.nsources) == -1)
			goto bad_globs;
	} else if (KEY("payload")) {
		if (r->payload != NULL || value[0] == '\0' ||
		    strlen(value) > 2 * KUIF_PAYLOAD_MAX) {
			actions_parse_error(p, p->lineno, "payload: one glob of "
			    "1 to %d bytes", 2 * KUIF_PAYLOAD_MAX);
			return 0;
		}
		r->payload = xstrdup(value);
	} else if (KEY("unit")) {
		if (!actions_unit_valid(value)) {
			actions_parse_error(p, p->lineno, "unit \"%.60s\": "
			    "must be a template named " ACTIONS_UNIT_PREFIX
			    "NAME" ACTIONS_UNIT_SUFFIX ", NAME of a-z 0-9 -",
			    value);
			return 0;
		}
		strcpy(r->unit, value);
	} else if (KEY("rate_limit")) {
		if (actions_parse_rate(value, &r->rate_count,
		    &r->rate_seconds) == -1) {
			actions_parse_error(p, p->lineno, "rate_limit must be "
			    "COUNT/SECONDS, COUNT in 1..10000, SECONDS in "
			    "1..86400 (e.g. 5/10s)");
			return 0;
		}
	} else if (KEY("burst")) {
		if (actions_parse_uint(value, 1, 10000, &r->burst) == -1) {
			actions_parse_error(p, p->lineno,
			    "burst must be an integer in 1..10000");
			return 0;
		}
	} else if (KEY("max_running")) {
		if (actions_parse_uint(value, 1, ACTIONS_MAX_RUNNING,
		    &r->max_running) == -1) {
			actions_parse_error(p, p->lineno, "max_running must be "
			    "an integer in 1..%d", ACTIONS_MAX_RUNNING);
			return 0;
		}
	} else {
		actions_parse_error(p, p->lineno, "unknown key \"%.40s\" in "
		    "rule [%s]", key, r->name);
		return 0;
	}
#undef KEY
	return 1;

bad_globs:
	actions_parse_error(p, p->lineno, "%s: given twice, empty, or more "
	    "than %d globs of at most %d bytes", key, FILTER_MAX_PATTERNS,
	    FILTER_MAX_PATTERN_LEN);
	return 0;
}

/*
 * Parses one file's text into rules (appended to *rules, *nrules
 * counted). Returns 0, or -1 with the line and the message of the first
 * error, and nothing appended.
 */
static int
actions_parse_string(const char *file, const char *text,
    struct action_rules *rules, size_t *nrules, unsigned int *line,
    char *err, size_t errlen)
{
	struct actions_parse p;
	struct action_rule *r;
	int rc;

	memset(&p, 0, sizeof(p));
	p.file = file;
	p.text = text;
	TAILQ_INIT(&p.rules);
	rc = ini_parse_stream(actions_reader, &p, actions_handler, &p);
	actions_parse_end_rule(&p);
	if (rc != 0 && p.err[0] == '\0')
		actions_parse_error(&p, rc > 0 ? (unsigned int)rc : p.lineno,
		    "syntax error");
	if (p.err[0] == '\0' && *nrules + p.nrules > ACTIONS_MAX_RULES)
		actions_parse_error(&p, p.lineno, "more than %d rules in all",
		    ACTIONS_MAX_RULES);
	if (p.err[0] != '\0') {
		*line = p.err_line;
		snprintf(err, errlen, "%s", p.err);
		actions_rules_free(&p.rules);
		return -1;
	}
	while ((r = TAILQ_FIRST(&p.rules)) != NULL) {
		TAILQ_REMOVE(&p.rules, r, entry);
		TAILQ_INSERT_TAIL(rules, r, entry);
	}
	*nrules += p.nrules;
	return 0;
}

/* Parses text as the file named; the rules are counted, not kept. For
 * tests and kuifd -n. */
int
actions_check_string(const char *file, const char *text, size_t *nrules,
    unsigned int *line, char *err, size_t errlen)
{
	struct action_rules rules;

	TAILQ_INIT(&rules);
	*nrules = 0;
	if (actions_parse_string(file, text, &rules, nrules, line, err,
	    errlen) == -1)
		return -1;
	actions_rules_free(&rules);
	return 0;
}

static void
actions_add_error(struct action_errors *errors, const char *file,
    unsigned int line, const char *message)
{
	struct action_error *e = xcalloc(1, sizeof(*e));

	e->file = xstrdup(file);
	e->line = line;
	e->message = xstrdup(message);
	TAILQ_INSERT_TAIL(errors, e, entry);
}

static int
actions_name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The whole file, at most ACTIONS_FILE_MAX bytes, NUL-terminated. */
static char *
actions_read_file(int dfd, const char *name, char *err, size_t errlen)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	buf = xcalloc(1, ACTIONS_FILE_MAX + 1);
	while ((n = read(fd, buf + len, ACTIONS_FILE_MAX + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(buf);
		return NULL;
	}
	if (len > ACTIONS_FILE_MAX) {
		snprintf(err, errlen, "larger than %d bytes", ACTIONS_FILE_MAX);
		free(buf);
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "holds a NUL byte");
		free(buf);
		return NULL;
	}
	return buf;
}

/* The rule of the last load of the same file and name, or NULL. */
static struct action_rule *
actions_find_rule(struct action_rules *rules, const char *file,
    const char *name)
{
	struct action_rule *r;

	TAILQ_FOREACH(r, rules, entry) {
		if (strcmp(r->file, file) == 0 && strcmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}

/*
 * Reads every *.conf of the directory, in name order. A file with an
 * error is logged as file:line and skipped; the others replace the rules
 * in force. A rule of the same file and name as before keeps its
 * counters, bucket and running actions. Returns the number of files
 * skipped; a missing directory is no rules.
 */
int
actions_load(struct actions *a)
{
	struct action_rules rules;
	struct action_errors errors;
	struct action_rule *r, *old;
	struct action_job *job;
	struct dirent *de;
	char **names = NULL, *text, err[ACTIONS_ERR_MAX];
	size_t nnames = 0, i, nrules = 0, len;
	unsigned int line;
	int nbad = 0;
	DIR *d;

	TAILQ_INIT(&rules);
	TAILQ_INIT(&errors);
	d = opendir(a->dir);
	if (d == NULL && errno != ENOENT) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		log_warnx("%s: %s; no actions", a->dir, err);
		actions_add_error(&errors, a->dir, 0, err);
		nbad++;
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (nnames == ACTIONS_MAX_FILES) {
			log_warnx("%s: more than %d files; the rest are "
			    "ignored", a->dir, ACTIONS_MAX_FILES);
			break;
		}
		if (nnames % 16 == 0) {
			names = realloc(names, (nnames + 16) * sizeof(*names));
			if (names == NULL)
				fatal("realloc");
		}
		names[nnames++] = xstrdup(de->d_name);
	}
	if (nnames > 0)
		qsort(names, nnames, sizeof(*names), actions_name_cmp);
	for (i = 0; i < nnames; i++) {
		text = actions_read_file(dirfd(d), names[i], err, sizeof(err));
		line = 0;
		if (text == NULL || actions_parse_string(names[i], text, &rules,
		    &nrules, &line, err, sizeof(err)) == -1) {
			log_warnx("%s/%s:%u: %s; file skipped", a->dir,
			    names[i], line, err);
			actions_add_error(&errors, names[i], line, err);
			nbad++;
		}
		free(text);
		free(names[i]);
	}
	free(names);
	if (d != NULL)
		closedir(d);

	/* What the old rules carried on to the new ones of the same name. */
	TAILQ_FOREACH(r, &rules, entry) {
		if ((old = actions_find_rule(&a->rules, r->file, r->name)) ==
		    NULL)
			continue;
		r->running = old->running;
		r->matched = old->matched;
		r->started = old->started;
		r->succeeded = old->succeeded;
		r->failed = old->failed;
		r->start_failed = old->start_failed;
		r->rate_limited = old->rate_limited;
		r->capped = old->capped;
		r->drops_unlogged = old->drops_unlogged;
		r->drop_logged_ms = old->drop_logged_ms;
		r->refilled_ms = old->refilled_ms;
		r->tokens = old->tokens < r->burst ? old->tokens : r->burst;
		old->running = 0;
	}
	TAILQ_FOREACH(job, &a->jobs, entry) {
		if (job->rule != NULL)
			job->rule = actions_find_rule(&rules, job->rule->file,
			    job->rule->name);
	}
	actions_rules_free(&a->rules);
	actions_errors_free(&a->errors);
	TAILQ_CONCAT(&a->rules, &rules, entry);
	TAILQ_CONCAT(&a->errors, &errors, entry);
	a->nrules = nrules;
	log_info("actions: %zu rules from %s%s", nrules, a->dir,
	    nbad > 0 ? ", some files skipped" : "");
	if (nrules > 0 && a->bus == NULL && a->base != NULL &&
	    a->start == NULL)
		actions_connect(a);
	return nbad;
}

/* --- Events ------------------------------------------------------------- */

/* Text: valid UTF-8 without control characters; hex otherwise. */
static bool
actions_payload_text(const struct event *ev)
{
	size_t i;

	for (i = 0; i < ev->len; i++) {
		if (ev->payload[i] < 0x20 || ev->payload[i] == 0x7f)
			return false;
	}
	return utf8_valid(ev->payload, ev->len);
}

static void
actions_hex(const struct event *ev, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < ev->len; i++) {
		out[2 * i] = hex[ev->payload[i] >> 4];
		out[2 * i + 1] = hex[ev->payload[i] & 0xf];
	}
	out[2 * ev->len] = '\0';
}

static bool
actions_rule_match(const struct action_rule *r, const struct event *ev)
{
	char buf[2 * KUIF_PAYLOAD_MAX + 1];

	if (!filter_match(&r->match, ev->source, ev->name))
		return false;
	if (r->payload == NULL)
		return true;
	if (actions_payload_text(ev)) {
		memcpy(buf, ev->payload, ev->len);
		buf[ev->len] = '\0';
	} else
		actions_hex(ev, buf);
	return fnmatch(r->payload, buf, 0) == 0;
}

/*
 * value, double-quoted for an EnvironmentFile=: inside double quotes
 * systemd takes a backslash before " \ ` $ as that character.
 */
static size_t
actions_env_quote(char *out, const char *value, size_t len)
{
	size_t i, o = 0;

	out[o++] = '"';
	for (i = 0; i < len; i++) {
		if (strchr("\"\\`$", value[i]) != NULL)
			out[o++] = '\\';
		out[o++] = value[i];
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

/*
 * The event, as the environment of its action: KUIF_EVENT, KUIF_SEQ,
 * KUIF_KSEQ (empty for events the kernel did not number), KUIF_SOURCE,
 * KUIF_TIME, KUIF_PAYLOAD and KUIF_PAYLOAD_ENCODING (text or hex).
 */
size_t
actions_env_format(const struct event *ev, char *buf, size_t size)
{
	char q[2 * (2 * KUIF_PAYLOAD_MAX) + 3], t[64], hex[2 * KUIF_PAYLOAD_MAX + 1];
	char kseq[24] = "";
	bool text = actions_payload_text(ev);
	int n;

	if (ev->kseq != 0)
		snprintf(kseq, sizeof(kseq), "%llu",
		    (unsigned long long)ev->kseq);
	if (event_format_time(ev->time_ns, t, sizeof(t)) == -1)
		t[0] = '\0';
	n = snprintf(buf, size, "KUIF_SEQ=%llu\nKUIF_KSEQ=%s\nKUIF_TIME=%s\n",
	    (unsigned long long)ev->seq, kseq, t);
	if (n < 0 || (size_t)n >= size)
		return 0;
	actions_env_quote(q, ev->name, strnlen(ev->name, sizeof(ev->name)));
	n += snprintf(buf + n, size - (size_t)n, "KUIF_EVENT=%s\n", q);
	if ((size_t)n >= size)
		return 0;
	actions_env_quote(q, ev->source, strnlen(ev->source,
	    sizeof(ev->source)));
	n += snprintf(buf + n, size - (size_t)n, "KUIF_SOURCE=%s\n", q);
	if ((size_t)n >= size)
		return 0;
	if (text)
		actions_env_quote(q, (const char *)ev->payload, ev->len);
	else {
		actions_hex(ev, hex);
		actions_env_quote(q, hex, 2 * ev->len);
	}
	n += snprintf(buf + n, size - (size_t)n,
	    "KUIF_PAYLOAD=%s\nKUIF_PAYLOAD_ENCODING=%s\n", q,
	    text ? "text" : "hex");
	if ((size_t)n >= size)
		return 0;
	return (size_t)n;
}

static void
actions_drop_log(struct action_rule *r, uint64_t now, const char *why)
{
	log_warnx("action %s/[%s]: %llu events dropped (last: %s; %llu "
	    "rate limited, %llu capped, %llu not started in all)", r->file,
	    r->name, (unsigned long long)r->drops_unlogged, why,
	    (unsigned long long)r->rate_limited,
	    (unsigned long long)r->capped,
	    (unsigned long long)r->start_failed);
	r->drops_unlogged = 0;
	r->drop_logged_ms = now != 0 ? now : 1;
}

/* The drops held back while their rule's message waited: said now. */
static void
actions_droplog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct actions *a = arg;
	struct action_rule *r;
	uint64_t now = a->clock(a->clock_arg);

	(void)fd;
	(void)what;
	TAILQ_FOREACH(r, &a->rules, entry) {
		if (r->drops_unlogged > 0)
			actions_drop_log(r, now, "held back");
	}
}

/*
 * A drop, counted, and logged at most every ACTIONS_DROP_LOG_MS per rule:
 * what comes within that time is said, with its count, when it is over.
 */
static void
actions_drop(struct actions *a, struct action_rule *r, uint64_t now,
    const char *why)
{
	struct timeval tv = { ACTIONS_DROP_LOG_MS / 1000, 0 };

	r->drops_unlogged++;
	if (r->drop_logged_ms == 0 ||
	    now - r->drop_logged_ms >= ACTIONS_DROP_LOG_MS) {
		actions_drop_log(r, now, why);
		return;
	}
	if (a->base == NULL)
		return;
	if (a->ev_droplog == NULL && (a->ev_droplog = evtimer_new(a->base,
	    actions_droplog_cb, a)) == NULL)
		fatalx("cannot create the actions' log timer");
	if (!evtimer_pending(a->ev_droplog, NULL))
		evtimer_add(a->ev_droplog, &tv);
}

static bool
actions_take_token(struct action_rule *r, uint64_t now)
{
	double per_ms = (double)r->rate_count / (r->rate_seconds * 1000.0);

	if (r->refilled_ms == 0)
		r->refilled_ms = now;
	if (now > r->refilled_ms) {
		r->tokens += (double)(now - r->refilled_ms) * per_ms;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
		r->refilled_ms = now;
	}
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}

static void
actions_run(struct actions *a, struct action_rule *r, const struct event *ev,
    uint64_t now)
{
	struct action_job *job;
	char err[160], unit[ACTIONS_INSTANCE_MAX];
	size_t plen;
	int rc;

	/* Capped first: an event that cannot run takes no token. */
	if (r->running >= r->max_running || a->running >= a->max_running) {
		r->capped++;
		actions_drop(a, r, now, r->running >= r->max_running ?
		    "rule's max_running" : "[actions] max_running");
		return;
	}
	if (!actions_take_token(r, now)) {
		r->rate_limited++;
		actions_drop(a, r, now, "rate limit");
		return;
	}
	/* kuif-action-NAME@.service -> kuif-action-NAME@SEQ.service */
	plen = strlen(r->unit) - strlen(".service");
	snprintf(unit, sizeof(unit), "%.*s%llu.service", (int)plen, r->unit,
	    (unsigned long long)ev->seq);
	/* Two rules with one template: the event's instance starts once. */
	TAILQ_FOREACH(job, &a->jobs, entry) {
		if (strcmp(job->unit, unit) == 0) {
			r->start_failed++;
			actions_drop(a, r, now, "its unit was started for this "
			    "event by another rule");
			return;
		}
	}
	job = xcalloc(1, sizeof(*job));
	job->actions = a;
	job->rule = r;
	memcpy(job->unit, unit, sizeof(job->unit));
	TAILQ_INSERT_TAIL(&a->jobs, job, entry);
	r->running++;
	a->running++;
	err[0] = '\0';
	if (a->start != NULL) {
		rc = a->start(job->unit, ev, a->start_arg);
		if (rc == 0)
			r->started++;	/* no answer to wait for */
	} else
		rc = actions_bus_start(a, job, ev, err, sizeof(err));
	if (rc == -1) {
		r->start_failed++;
		actions_job_free(a, job);
		actions_drop(a, r, now, err[0] != '\0' ? err : "not started");
	}
}

/* Called by the bus for each event it publishes, while rules exist. */
void
actions_event(const struct event *ev, void *arg)
{
	struct actions *a = arg;
	struct action_rule *r;
	uint64_t now = 0;

	TAILQ_FOREACH(r, &a->rules, entry) {
		if (!actions_rule_match(r, ev))
			continue;
		if (now == 0)
			now = a->clock(a->clock_arg);
		r->matched++;
		actions_run(a, r, ev, now);
	}
}

/*
 * A start job ended (JobRemoved, or the tests): result is systemd's,
 * "done" when the action ran and succeeded. Returns false for a unit
 * that is not one of ours.
 */
bool
actions_job_done(struct actions *a, const char *unit, const char *result)
{
	struct action_job *job;
	struct action_rule *r;
	uint64_t now;

	TAILQ_FOREACH(job, &a->jobs, entry) {
		if (strcmp(job->unit, unit) == 0)
			break;
	}
	if (job == NULL)
		return false;
	if (job->slot != NULL) {
		/* Before the answer to StartUnit: finished with it. */
		job->removed = true;
		job->ok = strcmp(result, "done") == 0;
		return true;
	}
	r = job->rule;
	if (r != NULL && strcmp(result, "done") == 0)
		r->succeeded++;
	else if (r != NULL) {
		r->failed++;
		now = a->clock(a->clock_arg);
		if (r->fail_logged_ms == 0 ||
		    now - r->fail_logged_ms >= ACTIONS_DROP_LOG_MS) {
			log_warnx("action %s of %s/[%s] ended: %s (%llu failed "
			    "in all; journalctl -u %s)", job->unit, r->file,
			    r->name, result, (unsigned long long)r->failed,
			    job->unit);
			r->fail_logged_ms = now != 0 ? now : 1;
		}
	}
	actions_job_free(a, job);
	return true;
}

/* --- systemd over D-Bus ------------------------------------------------- */

static void	actions_bus_arm(struct actions *);

static void
actions_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	actions_connect(arg);
}

static void
actions_retry_later(struct actions *a)
{
	struct timeval tv = { ACTIONS_RETRY_S, 0 };

	if (a->base == NULL)
		return;
	if (a->ev_retry == NULL &&
	    (a->ev_retry = evtimer_new(a->base, actions_retry_cb, a)) == NULL)
		fatalx("cannot create the actions' retry timer");
	evtimer_add(a->ev_retry, &tv);
}

/*
 * The bus went away (why != NULL) or kuifd stops: the jobs still out are
 * no longer followed; their slots are freed, counted as failed.
 */
static void
actions_bus_close(struct actions *a, const char *why)
{
	struct action_job *job;

	if (a->bus == NULL)
		return;
	if (why != NULL) {
		snprintf(a->bus_error, sizeof(a->bus_error), "%s", why);
		log_warnx("actions: lost the system bus (%s); %u running "
		    "actions no longer followed; trying again in %d s", why,
		    a->running, ACTIONS_RETRY_S);
		while ((job = TAILQ_FIRST(&a->jobs)) != NULL) {
			if (job->rule != NULL)
				job->rule->failed++;
			actions_job_free(a, job);
		}
	}
	if (a->ev_bus != NULL) {
		event_free(a->ev_bus);
		a->ev_bus = NULL;
	}
	a->match_slot = sd_bus_slot_unref(a->match_slot);
	/* Not flushed: that could wait for ever on a bus that stalls. */
	a->bus = sd_bus_close_unref(a->bus);
	if (why != NULL && a->nrules > 0)
		actions_retry_later(a);
}

static void
actions_bus_cb(evutil_socket_t fd, short what, void *arg)
{
	struct actions *a = arg;
	int i, r = 0;
	char why[96];

	(void)fd;
	(void)what;
	/* Bounded: what is left, sd-bus says with a zero timeout. */
	for (i = 0; i < 64; i++) {
		r = sd_bus_process(a->bus, NULL);
		if (r <= 0)
			break;
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", strerror(-r));
		actions_bus_close(a, why);
		return;
	}
	actions_bus_arm(a);
}

/* Wait for what sd-bus wants next: input, output, or its timeout. */
static void
actions_bus_arm(struct actions *a)
{
	struct timeval tv, *tvp = NULL;
	struct timespec ts;
	uint64_t usec, now;
	short what = 0;
	int events, fd;

	if (a->bus == NULL)
		return;
	fd = sd_bus_get_fd(a->bus);
	events = sd_bus_get_events(a->bus);
	if (fd < 0 || events < 0) {
		actions_bus_close(a, strerror(fd < 0 ? -fd : -events));
		return;
	}
	if (events & POLLIN)
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	if (sd_bus_get_timeout(a->bus, &usec) >= 0 && usec != UINT64_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
		usec = usec > now ? usec - now : 0;
		tv.tv_sec = (time_t)(usec / 1000000);
		tv.tv_usec = (suseconds_t)(usec % 1000000);
		tvp = &tv;
	}
	if (a->ev_bus != NULL)
		event_del(a->ev_bus);
	else if ((a->ev_bus = event_new(a->base, fd, what, actions_bus_cb,
	    a)) == NULL)
		fatalx("cannot watch the system bus");
	event_assign(a->ev_bus, a->base, fd, what, actions_bus_cb, a);
	if (event_add(a->ev_bus, tvp) == -1)
		fatalx("cannot watch the system bus");
}

static int
actions_job_removed(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct actions *a = arg;
	const char *path, *unit, *result;
	uint32_t id;

	(void)ret;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	actions_job_done(a, unit, result);
	return 0;
}

static int
actions_start_reply(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct action_job *job = arg;
	struct actions *a;
	const sd_bus_error *e;
	struct action_rule *r = job->rule;

	(void)ret;
	a = job->actions;
	job->slot = sd_bus_slot_unref(job->slot);
	if (sd_bus_message_is_method_error(m, NULL)) {
		e = sd_bus_message_get_error(m);
		if (r != NULL) {
			r->start_failed++;
			actions_drop(a, r, a->clock(a->clock_arg),
			    e != NULL && e->message != NULL ? e->message :
			    "StartUnit failed");
		}
		actions_job_free(a, job);
		return 0;
	}
	if (r != NULL)
		r->started++;
	if (job->removed)
		actions_job_done(a, job->unit, job->ok ? "done" : "failed");
	return 0;
}

/* Writes the event's environment file, then asks systemd to start. */
static int
actions_bus_start(struct actions *a, struct action_job *job,
    const struct event *ev, char *err, size_t errlen)
{
	char path[PATH_MAX], env[ACTIONS_ENV_MAX];
	size_t len;
	int fd, r;

	if (a->bus == NULL) {
		snprintf(err, errlen, "no system bus: %s", a->bus_error);
		return -1;
	}
	len = actions_env_format(ev, env, sizeof(env));
	if (len == 0) {
		snprintf(err, errlen, "cannot format the environment");
		return -1;
	}
	if (mkdir(a->rundir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%.100s: %s", a->rundir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.env", a->rundir, job->unit);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		snprintf(err, errlen, "%.100s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0640) == -1 || write(fd, env, len) != (ssize_t)len) {
		snprintf(err, errlen, "%.100s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	r = sd_bus_call_method_async(a->bus, &job->slot,
	    "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	    "org.freedesktop.systemd1.Manager", "StartUnit",
	    actions_start_reply, job, "ss", job->unit, "fail");
	if (r < 0) {
		snprintf(err, errlen, "StartUnit: %s", strerror(-r));
		unlink(path);
		return -1;
	}
	actions_bus_arm(a);
	return 0;
}

/*
 * Connects to the system bus, without waiting: the connection and its
 * authentication go on in the loop. A failure is said once per outage
 * and tried again later.
 */
void
actions_connect(struct actions *a)
{
	char why[96];
	int r;

	if (a->bus != NULL || a->base == NULL || a->nrules == 0)
		return;
	r = sd_bus_open_system_with_description(&a->bus, "kuifd-actions");
	if (r < 0) {
		a->bus = NULL;
		goto fail;
	}
	r = sd_bus_match_signal_async(a->bus, &a->match_slot,
	    "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	    "org.freedesktop.systemd1.Manager", "JobRemoved",
	    actions_job_removed, NULL, a);
	/* systemd sends job signals only while someone subscribed. */
	if (r >= 0)
		r = sd_bus_call_method_async(a->bus, NULL,
		    "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
		    "org.freedesktop.systemd1.Manager", "Subscribe", NULL,
		    NULL, "");
	if (r < 0) {
		a->match_slot = sd_bus_slot_unref(a->match_slot);
		a->bus = sd_bus_close_unref(a->bus);
		goto fail;
	}
	if (a->bus_warned)
		log_info("actions: the system bus is back");
	a->bus_warned = false;
	a->bus_error[0] = '\0';
	actions_bus_arm(a);
	return;

fail:
	snprintf(why, sizeof(why), "%s", strerror(-r));
	snprintf(a->bus_error, sizeof(a->bus_error), "%s", why);
	if (!a->bus_warned)
		log_warnx("actions: cannot reach the system bus (%s); actions "
		    "are not started until it can be; trying every %d s", why,
		    ACTIONS_RETRY_S);
	a->bus_warned = true;
	actions_retry_later(a);
}

/* --- What kuifctl actions shows ----------------------------------------- */

static json_t *
actions_globs_json(char *const *list, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_string(list[i]));
	return arr;
}

/* {"type":"actions", ...}: the rules with their counters, the files
 * skipped, the bus. */
json_t *
actions_json(const struct actions *a)
{
	const struct action_rule *r;
	const struct action_error *e;
	json_t *rules, *errors, *o;

	rules = json_array();
	errors = json_array();
	if (a != NULL) {
		TAILQ_FOREACH(r, &a->rules, entry) {
			o = json_pack("{s:s, s:i, s:s, s:o, s:o, s:s*, s:s,"
			    " s:o, s:i, s:i, s:i}",
			    "file", r->file,
			    "line", (int)r->line,
			    "name", r->name,
			    "event", actions_globs_json(r->match.events,
			    r->match.nevents),
			    "source", actions_globs_json(r->match.sources,
			    r->match.nsources),
			    "payload", r->payload,
			    "unit", r->unit,
			    "rate_limit", json_sprintf("%u/%us", r->rate_count,
			    r->rate_seconds),
			    "burst", (int)r->burst,
			    "max_running", (int)r->max_running,
			    "running", (int)r->running);
			if (o == NULL)
				continue;
			json_object_set_new(o, "counters", json_pack(
			    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			    "matched", (json_int_t)r->matched,
			    "started", (json_int_t)r->started,
			    "succeeded", (json_int_t)r->succeeded,
			    "failed", (json_int_t)r->failed,
			    "start_failed", (json_int_t)r->start_failed,
			    "rate_limited", (json_int_t)r->rate_limited,
			    "capped", (json_int_t)r->capped));
			json_array_append_new(rules, o);
		}
		TAILQ_FOREACH(e, &a->errors, entry)
			json_array_append_new(errors, json_pack("{s:s, s:i, "
			    "s:s}", "file", e->file, "line", (int)e->line,
			    "message", e->message));
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:i, s:i, s:s}",
	    "type", "actions",
	    "directory", a != NULL ? a->dir : "",
	    "bus", a == NULL || a->nrules == 0 ? "unused" :
	    a->bus != NULL ? "connected" : "unreachable",
	    "rules", rules,
	    "errors", errors,
	    "running", a != NULL ? (int)a->running : 0,
	    "max_running", a != NULL ? (int)a->max_running : 0,
	    "bus_error", a != NULL ? a->bus_error : "");
}
