/* SPDX-License-Identifier: GPL-2.0 */
/*
 * carveoutctl's shared pieces: the one-line error format, argument
 * parsing, the --watch loop and one entry point per command.
 */
#ifndef CARVEOUTCTL_H
#define CARVEOUTCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <carveout/libcarveout.h>

#define PROG		"carveoutctl"
#define MAX_ORDERS	40

/* --dev PATH, or NULL for CARVEOUT_DEV_PATH. */
extern const char *dev_path;
extern const char usage_text[];

/* Prints "carveoutctl: <what>: <reason>" on stderr. */
__attribute__((format(printf, 2, 3)))
void errline(const char *reason, const char *fmt, ...);
/* A usage error line; returns 2, the exit code. */
int usage_error(const char *what, const char *arg);
/* Reports a getopt failure (opterr is 0); returns 2. */
int bad_option(char **argv, const char *optstring, const char *cmd);
/* Prints the usage text when @opt is 'h' (returns 0), else reports it. */
int help_or_bad(int opt, char **argv, const char *optstring, const char *cmd);

/* Exact ("1536K") and rounded ("1.5M") sizes into a 24-byte @buf. */
char *fmt_size(uint64_t v, char *buf);
char *fmt_round(uint64_t v, char *buf);

/* Argument parsers: 0, or 2 after printing an error line. */
int parse_size_arg(const char *what, const char *s, uint64_t *v);
int parse_node_arg(const char *s, int *node);
int parse_secs_arg(const char *s, double *secs);

/* Opens the device or prints why not. */
struct carveout_ctx *open_ctx(void);
/* INFO, or an error line; 0 or 1. */
int get_info(struct carveout_ctx *ctx, struct carveout_sysinfo *info);

/* --watch: stop on SIGINT/SIGTERM, clear the screen, sleep. */
extern volatile sig_atomic_t stop_signal;
void catch_stop_signals(void);
bool watch_sleep(double secs);
void watch_header(const char *what, double secs);
int term_width(void);

int cmd_info(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_alloc(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_resize(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif /* CARVEOUTCTL_H */
