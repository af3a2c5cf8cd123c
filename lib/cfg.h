/*
 * cfg.h: one configuration model for every edged program.
 *
 * A program describes its settings once, as an X-macro table of keys
 * (name, type, placeholder, default, bounds, choices, flags, help).  From
 * that table come the C struct holding the values, the INI-file parser
 * (inih), the command-line flags with the same names (`--origin-ca FILE`
 * is `origin_ca = FILE`), the defaults and the --help text, so the four
 * can never disagree.  Flags win over the file.
 *
 *   #define MY_KEYS(X) \
 *     X(dir,  CFG_STR, "DIR", NULL, 0, 0, NULL, CFG_REQUIRED, "where files go") \
 *     X(days, CFG_INT, "N",   "825", 1, 36500, NULL, 0, "validity in days")
 *   struct my_opts { MY_KEYS(CFG_FIELD) };
 *   #define MY_ROW(...) CFG_ROW(struct my_opts, __VA_ARGS__)
 *   static const struct cfg_key my_keys[] = { MY_KEYS(MY_ROW) };
 *
 * Values live in the program's struct: CFG_STR/CFG_ENUM/CFG_ADDR as a
 * malloc'd char * (NULL when unset), CFG_INT as long long, CFG_BOOL as
 * bool, CFG_DURATION as long long milliseconds, CFG_SIZE as long long
 * bytes, CFG_LIST as struct cfg_list (repeatable; a flag given on the
 * command line replaces the file's list).  cfg_free() releases them.
 *
 * Not thread-safe; programs parse their configuration before starting
 * threads (and on SIGHUP, into a fresh struct).
 */
#ifndef EDGED_CFG_H
#define EDGED_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum cfg_type {
	CFG_STR,
	CFG_INT,
	CFG_BOOL,
	CFG_DURATION,
	CFG_SIZE,
	CFG_ENUM,
	CFG_LIST,
	CFG_ADDR,
};

struct cfg_list {
	char **v;
	size_t n;
};

/* Key flags. */
#define CFG_REQUIRED 0x1u /* must be set by the file or a flag */
#define CFG_NOFILE   0x2u /* command line only (e.g. --force) */
#define CFG_RELOAD   0x4u /* may change on reload (documented in --help) */
#define CFG_NOSPLIT  0x8u /* CFG_LIST whose items may hold commas: one per line/flag */

struct cfg_key {
	const char *name;    /* file key; the flag is --name with '_' as '-' */
	enum cfg_type type;
	size_t off;          /* offset of the value in the program's struct */
	const char *meta;    /* placeholder in --help: FILE, N, ADDR... */
	const char *def;     /* default, written as in the file; NULL: none */
	long long min, max;  /* bounds (ms for durations, bytes for sizes); 0, 0: none */
	const char *choices; /* CFG_ENUM: "a|b|c" */
	unsigned flags;
	const char *help;
};

struct cfg_spec {
	const char *prog;    /* "edged", "edgecert issue": used in messages */
	const char *usage;   /* after prog in the usage line */
	const char *summary; /* one paragraph printed by --help */
	const struct cfg_key *keys;
	size_t nkeys;
	int args_min, args_max; /* positional arguments allowed */
	bool config_file;    /* accept -c/--config FILE */
	/* optional: a program's own check of a value as it is set (from the
	 * file, a flag or cfg_set), so its errors carry FILE:LINE or the flag
	 * like the table's own; e says what is wrong, without the key */
	int (*check)(const char *key, const char *value, struct err *e);
};

/* C types of the values, selected by token pasting on the type name. */
#define CFG_CTYPE_CFG_STR      char *
#define CFG_CTYPE_CFG_INT      long long
#define CFG_CTYPE_CFG_BOOL     bool
#define CFG_CTYPE_CFG_DURATION long long
#define CFG_CTYPE_CFG_SIZE     long long
#define CFG_CTYPE_CFG_ENUM     char *
#define CFG_CTYPE_CFG_LIST     struct cfg_list
#define CFG_CTYPE_CFG_ADDR     char *

#define CFG_FIELD(name, type, meta, def, min, max, choices, flags, help) \
	CFG_CTYPE_##type name;
#define CFG_ROW(st, name, type, meta, def, min, max, choices, flags, help) \
	{ #name, type, offsetof(st, name), meta, def, min, max, choices, flags, help },

/* Outcome of cfg_parse_argv besides errors. */
#define CFG_OK   0
#define CFG_EXIT 1 /* --help or --version was printed: exit 0 */

/* Parse a whole command line (argv[0] excluded: pass argc-1, argv+1).
 * Applies defaults, then -c/--config FILE when the spec allows it, then the
 * flags.  Positional arguments are returned through pos_argv and pos_argc: a
 * malloc'd array of pointers into argv that the caller frees (pos_argv may
 * be NULL when args_max is 0).  Returns CFG_OK,
 * CFG_EXIT after printing help (to stdout), or -1 with e->code ERR_USAGE
 * and a message naming the flag or FILE:LINE and key.  On error the struct
 * still holds only owned memory: call cfg_free() either way. */
int cfg_parse_argv(const struct cfg_spec *spec, void *out, int argc,
                   char **argv, char ***pos_argv, int *pos_argc,
                   struct err *e);

/* Set every key to its default (the struct must be zeroed or freed). */
int cfg_defaults(const struct cfg_spec *spec, void *out, struct err *e);

/* Load an INI file over the current values.  Errors are
 * "FILE:LINE: key 'name': why". */
int cfg_load_file(const struct cfg_spec *spec, void *out, const char *path,
                  struct err *e);

/* Same, from an already open stream; name is used in messages. */
int cfg_load_stream(const struct cfg_spec *spec, void *out, FILE *f,
                    const char *name, struct err *e);

/* Set one key from text, as the file or a flag would.  For CFG_LIST the
 * value is appended. */
int cfg_set(const struct cfg_spec *spec, void *out, const char *name,
            const char *value, struct err *e);

/* Check CFG_REQUIRED keys. */
int cfg_check_required(const struct cfg_spec *spec, const void *out,
                       struct err *e);

/* Free every string and list held in out and zero them. */
void cfg_free(const struct cfg_spec *spec, void *out);

/* Print usage, summary and every key with its default and help. */
void cfg_print_help(const struct cfg_spec *spec, FILE *f);

/* Print the effective configuration as an INI file. */
void cfg_print(const struct cfg_spec *spec, const void *out, FILE *f);

/* Look a key up by file name or flag spelling ("origin_ca", "origin-ca"). */
const struct cfg_key *cfg_find(const struct cfg_spec *spec, const char *name);

/* Value parsers, exported for the tests and the fuzzer.  All reject
 * trailing garbage, empty input and overflow. */
int cfg_parse_int(const char *s, long long *out, struct err *e);
int cfg_parse_bool(const char *s, bool *out, struct err *e);
/* "250ms", "30s", "5m", "2h", "30d", "1h30m"; a bare number is seconds. */
int cfg_parse_duration(const char *s, long long *ms, struct err *e);
/* "512", "64k", "32MiB", "1G"; k/M/G (with optional i and B) are binary. */
int cfg_parse_size(const char *s, long long *bytes, struct err *e);
/* "host:port", "[v6]:port", ":port" (all addresses); port 1-65535.  host
 * (size hostlen) receives the host part without brackets ("" for any). */
int cfg_parse_addr(const char *s, char *host, size_t hostlen, int *port,
                   struct err *e);

#endif
