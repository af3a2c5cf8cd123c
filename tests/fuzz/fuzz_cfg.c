/*
 * fuzz_cfg.c: libFuzzer target for the configuration parser.  The first
 * byte picks the mode: even = the rest is a config file; odd = the rest is
 * a NUL-separated command line.  Either way the parser must return 0 or -1
 * with a message, never crash, leak or read out of bounds.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

#define F_KEYS(X) \
	X(name, CFG_STR, "S", "dflt", 0, 0, NULL, 0, "a string") \
	X(count, CFG_INT, "N", "3", 1, 10, NULL, 0, "an int") \
	X(trace, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, "a bool") \
	X(timeout, CFG_DURATION, "D", "30s", 1, 86400000, NULL, 0, "a duration") \
	X(max_size, CFG_SIZE, "SIZE", "32MiB", 0, 0, NULL, 0, "a size") \
	X(policy, CFG_ENUM, "P", "a", 0, 0, "a|bb|ccc", 0, "an enum") \
	X(headers, CFG_LIST, "H", "x,y", 0, 0, NULL, 0, "a list") \
	X(listen, CFG_ADDR, "ADDR", ":8443", 0, 0, NULL, 0, "an address") \
	X(secret, CFG_STR, "S", NULL, 0, 0, NULL, CFG_NOFILE, "flag only")

struct f_opts { F_KEYS(CFG_FIELD) };
#define F_ROW(...) CFG_ROW(struct f_opts, __VA_ARGS__)
static const struct cfg_key f_keys[] = { F_KEYS(F_ROW) };
static const struct cfg_spec spec = {
	"fuzz", "[options]", NULL, f_keys, sizeof f_keys / sizeof f_keys[0], 0, 2, false, NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct f_opts o;
	struct err e;

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof o);
	if ((data[0] & 1) == 0) {
		FILE *f = fmemopen((void *)(data + 1), size - 1, "r");

		if (f == NULL)
			return 0;
		if (cfg_defaults(&spec, &o, &e) == 0)
			(void)cfg_load_stream(&spec, &o, f, "fuzz.conf", &e);
		fclose(f);
	} else {
		/* NUL-separated arguments; a copy so each ends in NUL */
		char *copy = malloc(size), **argv = calloc(size + 1, sizeof *argv), **pos = NULL;
		int argc = 0, npos = 0;
		size_t i, start = 1;

		if (copy == NULL || argv == NULL) {
			free(copy);
			free(argv);
			return 0;
		}
		memcpy(copy, data, size);
		copy[size - 1] = '\0';
		for (i = 1; i < size; i++)
			if (copy[i] == '\0') {
				argv[argc++] = copy + start;
				start = i + 1;
			}
		/* --help/--version print and return; keep them out of the way */
		for (i = 0; i < (size_t)argc; i++)
			if (strstr(argv[i], "-h") == argv[i] || strstr(argv[i], "--v") == argv[i])
				argv[i] = (char *)"x";
		if (cfg_parse_argv(&spec, &o, argc, argv, &pos, &npos, &e) == CFG_OK)
			free(pos);
		free(argv);
		free(copy);
	}
	cfg_free(&spec, &o);
	return 0;
}
