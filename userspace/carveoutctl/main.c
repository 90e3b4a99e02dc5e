// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl: look at and use carveout from the shell.
 *
 *   info    regions per node, pieces, capabilities, limits, what the
 *           caller's user holds, sub-page size classes   (info.c)
 *   stats   per-node usage, counters, free blocks per order
 *           (--json for scripts, --watch for a top-style view)  (stats.c)
 *   alloc   allocate (and optionally DMA-map) a buffer, print where it is,
 *           free it again or hold it until SIGINT/SIGTERM      (alloc.c)
 *   map     a picture per piece of used and free memory        (map.c)
 *   top     live view: nodes, used/free, rates, top owners     (top.c)
 *   resize  a node's floor, ceiling, watermarks (root)       (resize.c)
 *
 * Everything goes through libcarveout and the ioctl ABI, so every command
 * works for any user who may open the device.  debugfs is not read: it is
 * for root and for humans, and its text is no interface.
 *
 * Errors print one line, "carveoutctl: <what>: <reason>", and exit 1;
 * usage errors exit 2 (util.c).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

const char usage_text[] =
"Usage: " PROG " [--dev PATH] COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  info                      regions per node, pieces, capabilities, limits,\n"
"                            what your user holds, sub-page size classes\n"
"  stats [--json] [--node N] [--watch SECS]\n"
"                            usage, counters and free blocks per node\n"
"  alloc SIZE [--node N | --policy local|strict|preferred|device]\n"
"        [--device NAME] [--align A] [--cache cached|wc|uncached]\n"
"        [--pages] [--map DEVICE] [--dir bidi|to-device|from-device] [--hold]\n"
"                            allocate a buffer and print where it is\n"
"  map [--node N] [--width COLS] [--watch SECS]\n"
"                            picture of used and free memory per piece\n"
"  top [-d SECS] [-n COUNT] [--owners N] [--bytes]\n"
"                            live view: nodes, used and free memory, largest\n"
"                            block, rates, the processes mapping the most\n"
"  resize [--node N] [--floor SIZE] [--ceiling SIZE] [--low SIZE]\n"
"         [--high SIZE] [--piece SIZE] [--delay MS] [--shrink]\n"
"                            a region's floor, ceiling, watermarks, idle\n"
"                            delay; --shrink gives free pieces back now\n"
"\n"
"Global options:\n"
"  --dev PATH        device node (default /dev/carveout)\n"
"  -h, --help        this text (also after a command)\n"
"  -V, --version     print the version\n"
"\n"
"Sizes take K, M, G, T suffixes (powers of 1024): 4096, 64K, 1.5M, 2G.\n"
"See carveoutctl(1).\n";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "info", cmd_info },
	{ "stats", cmd_stats },
	{ "alloc", cmd_alloc },
	{ "map", cmd_map },
	{ "top", cmd_top },
	{ "resize", cmd_resize },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	const char *cmd;
	unsigned int i;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'D':
			dev_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf(PROG " %s\n", carveout_version());
			return 0;
		default:
			return bad_option(argv, "+hV", PROG);
		}
	}
	if (optind >= argc)
		return usage_error("missing command", NULL);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: start over, forget the "+" mode */
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc, argv);
	if (!strcmp(cmd, "help"))
		return fputs(usage_text, stdout) == EOF;
	return usage_error("unknown command", cmd);
}
