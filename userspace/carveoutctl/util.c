// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl: the one-line error format, argument parsing and the
 * --watch loop shared by the commands.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

const char *dev_path;
volatile sig_atomic_t stop_signal;

void errline(const char *reason, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", reason);
}

int usage_error(const char *what, const char *arg)
{
	const char *reason = "see '" PROG " --help'";

	if (arg)
		errline(reason, "%s '%s'", what, arg);
	else
		errline(reason, "%s", what);
	return 2;
}

int bad_option(char **argv, const char *optstring, const char *cmd)
{
	const char *arg = argv[optind - 1];
	char what[96];

	if (optopt && optopt != ':' && strchr(optstring, optopt)) {
		snprintf(what, sizeof(what), "%s: option needs an argument", cmd);
		return usage_error(what, arg);
	}
	snprintf(what, sizeof(what), "%s: unknown option", cmd);
	return usage_error(what, arg);
}

int help_or_bad(int opt, char **argv, const char *optstring, const char *cmd)
{
	if (opt == 'h') {
		fputs(usage_text, stdout);
		return 0;
	}
	return bad_option(argv, optstring, cmd);
}

char *fmt_size(uint64_t v, char *buf)
{
	return carveout_format_size(v, buf, 24, 0);
}

char *fmt_round(uint64_t v, char *buf)
{
	return carveout_format_size(v, buf, 24, CARVEOUT_SIZE_ROUND);
}

int parse_size_arg(const char *what, const char *s, uint64_t *v)
{
	int ret = carveout_parse_size(s, v);

	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_PARSE),
			"%s '%s'", what, s);
		return 2;
	}
	return 0;
}

int parse_node_arg(const char *s, int *node)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 65535) {
		errline("not a node number", "node '%s'", s);
		return 2;
	}
	*node = (int)v;
	return 0;
}

int parse_secs_arg(const char *s, double *secs)
{
	char *end;

	errno = 0;
	*secs = strtod(s, &end);
	if (!*s || *end || errno || !(*secs >= 0.1) || *secs > 86400) {
		errline("give seconds between 0.1 and 86400", "watch interval '%s'", s);
		return 2;
	}
	return 0;
}

struct carveout_ctx *open_ctx(void)
{
	struct carveout_ctx *ctx = carveout_open(dev_path);

	if (!ctx)
		errline(carveout_strerror_op(errno, CARVEOUT_OP_OPEN), "open %s",
			dev_path ? dev_path : CARVEOUT_DEV_PATH);
	return ctx;
}

int get_info(struct carveout_ctx *ctx, struct carveout_sysinfo *info)
{
	int ret = carveout_get_info(ctx, info);

	if (ret) {
		errline(carveout_strerror_op(ret, CARVEOUT_OP_INFO), "info");
		return 1;
	}
	return 0;
}

static void on_stop(int sig)
{
	stop_signal = sig;
}

void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Sleeps @secs unless a stop signal comes; returns false when it came. */
bool watch_sleep(double secs)
{
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9),
	};

	fflush(stdout);
	while (!stop_signal && nanosleep(&ts, &ts) && errno == EINTR)
		;
	return !stop_signal;
}

void watch_header(const char *what, double secs)
{
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	printf("\033[H\033[2J" PROG " %s, every %gs, %s (Ctrl-C quits)\n\n",
	       what, secs, when);
}

int term_width(void)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}
