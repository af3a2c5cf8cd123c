/*
 * edg_reload.c: SIGHUP.  The configuration is read again exactly as at
 * start-up (the same command line, so the same --config file, with the
 * flags still winning over it) into a fresh struct edg_opts, and what can
 * change while running is rebuilt from it:
 *
 *   cert, key, ocsp_file       a new certificate table (edg_tls.c), every
 *                              pair and OCSP response loaded and checked
 *                              first; new
 *                              handshakes get it, open connections carry on
 *   hsts, add_header,
 *   remove_header              a new response-header policy (edg_hpol.c)
 *   log_level                  log_set_level()
 *
 * Everything is built before anything is applied: a configuration that
 * does not parse, a certificate or key that does not load, a header
 * policy that does not hold, and nothing changes (reload.refused names the
 * file, the key and the line).  Every other key whose value differs from
 * the running one is reported (reload.restart_needed) and not applied; the
 * comparison walks the configuration table, so a key added to edg_keys.h
 * is covered without touching this file.
 *
 * srv->o keeps the start-up values: other threads read it without locks,
 * and the live keys' values live in what was built from them.  Runs on
 * the main thread only (main.c's sigwait loop).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "edg.h"
#include "edg_ops.h"
#include "log.h"

/* The keys a reload applies; every other key needs a restart. */
static const char *const live_keys[] = {
	"cert", "key", "ocsp_file", "hsts", "add_header", "remove_header", "log_level",
};

static bool
is_live(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof live_keys / sizeof live_keys[0]; i++)
		if (strcmp(live_keys[i], name) == 0)
			return true;
	return false;
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Do a and b (two struct edg_opts) hold the same value for k? */
static bool
same_value(const struct cfg_key *k, const void *a, const void *b)
{
	const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
	size_t i;

	switch (k->type) {
	case CFG_STR:
	case CFG_ENUM:
	case CFG_ADDR: {
		const char *sa, *sb;

		memcpy(&sa, pa, sizeof sa);
		memcpy(&sb, pb, sizeof sb);
		return same_str(sa, sb);
	}
	case CFG_INT:
	case CFG_DURATION:
	case CFG_SIZE: {
		long long la, lb;

		memcpy(&la, pa, sizeof la);
		memcpy(&lb, pb, sizeof lb);
		return la == lb;
	}
	case CFG_BOOL: {
		bool ba, bb;

		memcpy(&ba, pa, sizeof ba);
		memcpy(&bb, pb, sizeof bb);
		return ba == bb;
	}
	case CFG_LIST: {
		struct cfg_list la, lb;

		memcpy(&la, pa, sizeof la);
		memcpy(&lb, pb, sizeof lb);
		if (la.n != lb.n)
			return false;
		for (i = 0; i < la.n; i++)
			if (!same_str(la.v[i], lb.v[i]))
				return false;
		return true;
	}
	}
	return false;
}

/* The reason, quoted as log_q() does but whole: log_q() cuts at 256
 * bytes, and the file named at the end of a long path must survive. */
static int
refuse(const char *why)
{
	char q[2 * sizeof ((struct err *)0)->msg + 8];
	size_t o = 0;
	const unsigned char *p;

	q[o++] = '"';
	for (p = (const unsigned char *)why; *p != '\0' && o < sizeof q - 6; p++) {
		if (*p == '"' || *p == '\\') {
			q[o++] = '\\';
			q[o++] = (char)*p;
		} else if (*p < ' ' || *p == 0x7f) {
			q[o++] = ' ';
		} else {
			q[o++] = (char)*p;
		}
	}
	q[o++] = '"';
	q[o] = '\0';
	LOG_ERROR("reload.refused", "why=%s", q);
	return -1;
}

int
edg_reload(struct edg_server *srv, int argc, char **argv)
{
	const struct cfg_spec *spec = edg_cfg_spec();
	struct edg_opts *no = calloc(1, sizeof *no);
	struct err e = { 0, "" };
	struct edg_hpol *hp;
	struct edg_certs *certs = NULL;
	size_t i, ncerts;
	unsigned restart = 0;
	int rc, level;
	int64_t t0 = edg_now_ms();

	LOG_INFO("reload.begin", "signal=SIGHUP");
	if (no == NULL)
		return refuse("out of memory");
	rc = cfg_parse_argv(spec, no, argc - 1, argv + 1, NULL, NULL, &e);
	if (rc != CFG_OK) {
		cfg_free(spec, no);
		free(no);
		return refuse(rc < 0 ? e.msg : "the command line asks for --help or --version");
	}
	level = log_level_parse(no->log_level);
	if (level < 0) { /* the table's choices make this unreachable */
		err_set(&e, ERR_USAGE, "key 'log_level': unknown level '%s'", no->log_level);
		goto refused;
	}
	/* build everything; apply nothing until all of it holds (the header
	 * policy last: edg_hpol.c has no way to free one never installed) */
	if ((certs = edg_certs_build(&no->cert, &no->key, &no->ocsp_file, true, &e)) == NULL)
		goto refused;
	if ((hp = edg_hpol_build(no, &e)) == NULL)
		goto refused;

	for (i = 0; i < spec->nkeys; i++) {
		const struct cfg_key *k = &spec->keys[i];

		if (is_live(k->name) || same_value(k, &srv->o, no))
			continue;
		LOG_WARN("reload.restart_needed", "key=%s", k->name);
		restart++;
	}
	ncerts = edg_certs_count(certs);
	/* a handshake that picked a pair from the table being replaced began
	 * before the swap; the watchdog ends it within header_timeout */
	edg_certs_install(certs, srv->o.header_timeout + 60000);
	edg_hpol_install(srv, hp);
	log_set_level((enum log_level)level);
	LOG_INFO("reload.done", "certs=%zu log_level=%s hsts=%s add_header=%zu "
	         "remove_header=%zu restart_needed=%u ms=%lld", ncerts,
	         log_level_name((enum log_level)level), no->hsts != NULL ? "on" : "off",
	         no->add_header.n, no->remove_header.n, restart,
	         (long long)(edg_now_ms() - t0));
	cfg_free(spec, no);
	free(no);
	return 0;
refused:
	edg_certs_discard(certs);
	cfg_free(spec, no);
	free(no);
	return refuse(e.msg);
}
