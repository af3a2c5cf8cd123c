/*
 * edgecert: scripted certificate provisioning for edged, origind and
 * their clients.
 *
 *   edgecert ca      --dir D [--cn NAME] [--days N] [--key TYPE] [--force]
 *   edgecert issue   NAME --dir D [--dns H]... [--ip A]... [--client] ...
 *   edgecert renew   --dir D [--within 30d] [--dry-run]
 *   edgecert inspect FILE [--dir D] [--json]
 *
 * The directory is the contract: ca.pem and ca.key, and per NAME the leaf
 * NAME.pem, its key NAME.key and NAME.chain.pem (leaf + CA).  Keys are
 * written 0600 and every file through a temporary file and rename(2), so
 * a reader (or a crash) never sees half a file.  Runs in one directory are
 * serialised with flock(2) on D/.edgecert.lock, so cron's renew and a
 * manual issue cannot interleave.
 *
 * Exit codes: 0 done (also "nothing to do"), 1 failed, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "pki.h"
#include "tls.h"
#include "version.h"

#define DAY 86400
#define SKEW 3600 /* leaves and CAs start an hour early: clock skew */

/* ---- options: one table per subcommand -------------------------------- */

#define VALIDITY_KEYS(X, dflt) \
	X(days, CFG_INT, "N", dflt, 1, 36500, NULL, 0, \
	  "validity in days, from now (or from --not-before)") \
	X(not_before, CFG_STR, "TIME", NULL, 0, 0, NULL, 0, \
	  "start of validity, UTC: 2026-01-31 or 2026-01-31T12:00:00Z " \
	  "[default: now - 1h, for clock skew]") \
	X(not_after, CFG_STR, "TIME", NULL, 0, 0, NULL, 0, \
	  "end of validity, UTC (overrides --days); may be in the past, to " \
	  "make an expired certificate for tests")

#define CA_KEYS(X) \
	X(dir, CFG_STR, "DIR", NULL, 0, 0, NULL, CFG_REQUIRED, \
	  "directory for ca.pem and ca.key (created if missing)") \
	X(cn, CFG_STR, "NAME", "edged CA", 0, 0, NULL, 0, "the CA's common name") \
	X(key, CFG_ENUM, "TYPE", "ecdsa-p256", 0, 0, PKI_KEYTYPES, 0, "key type") \
	VALIDITY_KEYS(X, "3650") \
	X(force, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "replace a valid existing CA (certificates it issued stop verifying)")

#define ISSUE_KEYS(X) \
	X(dir, CFG_STR, "DIR", NULL, 0, 0, NULL, CFG_REQUIRED, \
	  "directory holding ca.pem and ca.key; NAME.pem, NAME.key and " \
	  "NAME.chain.pem are written there") \
	X(dns, CFG_LIST, "HOST", NULL, 0, 0, NULL, 0, \
	  "DNS subjectAltName (repeat, or comma-separate); *.example.com " \
	  "allowed. Default for a server certificate with no --dns/--ip: NAME") \
	X(ip, CFG_LIST, "ADDR", NULL, 0, 0, NULL, 0, "IP address subjectAltName") \
	X(client, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "a client certificate (clientAuth) instead of a server one (serverAuth)") \
	X(cn, CFG_STR, "NAME", NULL, 0, 0, NULL, 0, "common name [default: NAME]") \
	X(key, CFG_ENUM, "TYPE", "ecdsa-p256", 0, 0, PKI_KEYTYPES, 0, "key type") \
	VALIDITY_KEYS(X, "397") \
	X(force, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "reissue even when a valid certificate for NAME exists")

#define RENEW_KEYS(X) \
	X(dir, CFG_STR, "DIR", NULL, 0, 0, NULL, CFG_REQUIRED, "directory to renew in") \
	X(within, CFG_DURATION, "DURATION", "30d", 0, 0, NULL, 0, \
	  "renew leaves that expire within this window (e.g. 30d, 12h)") \
	X(dry_run, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "say what would be renewed, change nothing")

#define INSPECT_KEYS(X) \
	X(dir, CFG_STR, "DIR", NULL, 0, 0, NULL, 0, \
	  "also check that the certificate chains to DIR/ca.pem (exit 1 if not)") \
	X(json, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, "print JSON")

struct ca_opts { CA_KEYS(CFG_FIELD) };
struct issue_opts { ISSUE_KEYS(CFG_FIELD) };
struct renew_opts { RENEW_KEYS(CFG_FIELD) };
struct inspect_opts { INSPECT_KEYS(CFG_FIELD) };

#define CA_ROW(...) CFG_ROW(struct ca_opts, __VA_ARGS__)
#define ISSUE_ROW(...) CFG_ROW(struct issue_opts, __VA_ARGS__)
#define RENEW_ROW(...) CFG_ROW(struct renew_opts, __VA_ARGS__)
#define INSPECT_ROW(...) CFG_ROW(struct inspect_opts, __VA_ARGS__)

static const struct cfg_key ca_keys[] = { CA_KEYS(CA_ROW) };
static const struct cfg_key issue_keys[] = { ISSUE_KEYS(ISSUE_ROW) };
static const struct cfg_key renew_keys[] = { RENEW_KEYS(RENEW_ROW) };
static const struct cfg_key inspect_keys[] = { INSPECT_KEYS(INSPECT_ROW) };

#define NKEYS(a) (sizeof a / sizeof a[0])

static const struct cfg_spec ca_spec = {
	"edgecert ca", "--dir DIR [options]",
	"Create the CA that signs every certificate in DIR: a key (ca.key, "
	"0600) and a self-signed certificate (ca.pem) with basicConstraints "
	"CA:TRUE, pathlen 0, keyUsage keyCertSign and cRLSign. Does nothing "
	"when DIR already holds a valid CA, unless --force.",
	ca_keys, NKEYS(ca_keys), 0, 0, false, NULL,
};
static const struct cfg_spec issue_spec = {
	"edgecert issue", "NAME --dir DIR [options]",
	"Issue NAME.key (0600), NAME.pem and NAME.chain.pem (leaf + CA), signed "
	"by DIR's CA, with the subjectAltNames given, serverAuth (or clientAuth "
	"with --client), a random 16-byte serial and subject/authority key "
	"identifiers. Does nothing when a valid certificate for NAME with the "
	"same names and key type exists, unless --force.",
	issue_keys, NKEYS(issue_keys), 1, 1, false, NULL,
};
static const struct cfg_spec renew_spec = {
	"edgecert renew", "--dir DIR [--within 30d] [--dry-run]",
	"Reissue every leaf in DIR that expires within the window, or no longer "
	"verifies under DIR's CA, with a new key of the same type, the same "
	"names and usage and the same validity length. Prints what it renewed; "
	"exits 0 also when nothing was due, so it can run from cron.",
	renew_keys, NKEYS(renew_keys), 0, 0, false, NULL,
};
static const struct cfg_spec inspect_spec = {
	"edgecert inspect", "FILE [--dir DIR] [--json]",
	"Print what a certificate file (or key file) holds: subject, "
	"subjectAltNames, issuer, serial, validity, key type and size, usage, "
	"SHA-256 fingerprint; with --dir, whether it chains to DIR's CA.",
	inspect_keys, NKEYS(inspect_keys), 1, 1, false, NULL,
};

/* ---- helpers ------------------------------------------------------------ */

static void
die_msg(const struct err *e)
{
	fprintf(stderr, "edgecert: %s\n", e->msg);
}

static void
path_of(char *buf, size_t len, const char *dir, const char *name, const char *ext)
{
	snprintf(buf, len, "%s/%s%s", dir, name, ext);
}

static int
file_exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* Take D/.edgecert.lock for the rest of the process. */
static int
lock_dir(const char *dir, struct err *e)
{
	char p[PATH_MAX];
	int fd;

	path_of(p, sizeof p, dir, ".edgecert", ".lock");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_FAIL, "%s: cannot write in %s: %s", p, dir,
		               strerror(errno));
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return err_set(e, ERR_FAIL, "%s: cannot lock: %s", p, strerror(errno));
	}
	return 0; /* fd stays open: released at exit */
}

static int
make_dir(const char *dir, struct err *e)
{
	char p[PATH_MAX];
	size_t i;

	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return err_set(e, ERR_USAGE, "%s: path too long", dir);
	for (i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return err_set(e, ERR_FAIL, "%s: cannot create directory: %s", p,
			               strerror(errno));
		p[i] = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return err_set(e, ERR_FAIL, "%s: cannot create directory: %s", p,
		               strerror(errno));
	return 0;
}

static int
check_dir(const char *dir, struct err *e)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return err_set(e, ERR_FAIL, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_FAIL, "%s: not a directory", dir);
	return 0;
}

/* Resolve the validity window from --days / --not-before / --not-after. */
static int
validity(long long days, const char *nb, const char *na, time_t *from, time_t *to,
         struct err *e)
{
	time_t now = time(NULL);

	*from = now - SKEW;
	if (nb != NULL && pki_parse_time(nb, from, e) < 0)
		return err_prefix(e, "--not-before: ");
	*to = (nb != NULL ? *from : now) + (time_t)days * DAY;
	if (na != NULL && pki_parse_time(na, to, e) < 0)
		return err_prefix(e, "--not-after: ");
	if (na != NULL && nb == NULL && *to <= *from)
		*from = *to - (time_t)days * DAY; /* a past end alone: count back */
	if (*to <= *from)
		return err_set(e, ERR_USAGE, "--not-after must be later than --not-before");
	return 0;
}

struct ca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

static void
ca_free(struct ca *ca)
{
	if (ca->crt != NULL)
		gnutls_x509_crt_deinit(ca->crt);
	if (ca->key != NULL)
		gnutls_x509_privkey_deinit(ca->key);
	ca->crt = NULL;
	ca->key = NULL;
}

/* Load D/ca.pem + D/ca.key and check that they are a usable CA. */
static int
ca_load(const char *dir, struct ca *ca, struct err *e)
{
	char cp[PATH_MAX], kp[PATH_MAX];
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;

	memset(ca, 0, sizeof *ca);
	path_of(cp, sizeof cp, dir, "ca", ".pem");
	path_of(kp, sizeof kp, dir, "ca", ".key");
	if (!file_exists(cp))
		return err_set(e, ERR_FAIL, "%s: no CA in %s; create one with "
		               "'edgecert ca --dir %s'", cp, dir, dir);
	if (tls_load_certs(cp, &crts, &n, e) < 0)
		return -1;
	ca->crt = crts[0];
	for (i = 1; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (!pki_is_ca(ca->crt)) {
		ca_free(ca);
		return err_set(e, ERR_FAIL, "%s: not a CA certificate (basicConstraints "
		               "CA:FALSE)", cp);
	}
	if (tls_load_key(kp, &ca->key, e) < 0) {
		ca_free(ca);
		return -1;
	}
	if (!tls_key_matches(ca->crt, ca->key)) {
		ca_free(ca);
		return err_set(e, ERR_FAIL, "%s: key does not belong to %s", kp, cp);
	}
	return 0;
}

static int
write_pem_crt(const char *path, gnutls_x509_crt_t crt, const gnutls_datum_t *extra,
              struct err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	char *buf;
	int rc;

	if (pki_crt_pem(crt, &d, e) < 0)
		return -1;
	buf = malloc(d.size + (extra ? extra->size : 0) + 1);
	if (buf == NULL) {
		gnutls_free(d.data);
		return err_set(e, ERR_FAIL, "out of memory");
	}
	memcpy(buf, d.data, d.size);
	if (extra != NULL)
		memcpy(buf + d.size, extra->data, extra->size);
	rc = pki_write_atomic(path, buf, d.size + (extra ? extra->size : 0), 0644, e);
	free(buf);
	gnutls_free(d.data);
	return rc;
}

static int
write_key(const char *path, gnutls_x509_privkey_t key, struct err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc;

	if (pki_key_pem(key, &d, e) < 0)
		return -1;
	rc = pki_write_atomic(path, d.data, d.size, 0600, e);
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return rc;
}

static const char *
day(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

/* ---- edgecert ca -------------------------------------------------------- */

static int
cmd_ca(struct ca_opts *o, struct err *e)
{
	char cp[PATH_MAX], kp[PATH_MAX], d1[32], cn[256];
	enum pki_keytype kt;
	struct ca old;
	struct pki_req r = { 0 };
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	int ret = -1;

	if (o->cn == NULL || o->cn[0] == '\0')
		return err_set(e, ERR_USAGE, "--cn must not be empty");
	if (pki_keytype_parse(o->key, &kt, e) < 0)
		return -1;
	if (validity(o->days, o->not_before, o->not_after, &r.not_before, &r.not_after,
	             e) < 0)
		return -1;
	if (make_dir(o->dir, e) < 0 || lock_dir(o->dir, e) < 0)
		return -1;
	path_of(cp, sizeof cp, o->dir, "ca", ".pem");
	path_of(kp, sizeof kp, o->dir, "ca", ".key");
	if (!o->force && file_exists(cp) != file_exists(kp))
		return err_set(e, ERR_FAIL, "%s exists without %s; remove it, or use --force "
		               "to create a new CA", file_exists(cp) ? cp : kp,
		               file_exists(cp) ? kp : cp);
	if (!o->force && (file_exists(cp) || file_exists(kp))) {
		struct err le;

		if (ca_load(o->dir, &old, &le) < 0)
			return err_set(e, ERR_FAIL, "%s; refusing to overwrite (use --force to "
			               "create a new CA)", le.msg);
		pki_get_cn(old.crt, cn, sizeof cn);
		if (gnutls_x509_crt_get_expiration_time(old.crt) <= time(NULL)) {
			ca_free(&old);
			return err_set(e, ERR_FAIL, "%s: the CA has expired; create a new one "
			               "with --force (then reissue its certificates)", cp);
		}
		if (strcmp(cn, o->cn) != 0 ||
		    pki_keytype_of_crt(old.crt, NULL) != kt) {
			ca_free(&old);
			return err_set(e, ERR_FAIL, "%s: a CA with another name or key type "
			               "exists (CN=%s); use --force to replace it", cp, cn);
		}
		printf("ca: %s exists, valid until %s; unchanged\n", cp,
		       day(gnutls_x509_crt_get_expiration_time(old.crt), d1, sizeof d1));
		ca_free(&old);
		return 0;
	}
	r.cn = o->cn;
	r.ca = true;
	if (pki_key_new(kt, &key, e) < 0)
		return -1;
	if (pki_sign(&r, key, NULL, NULL, &crt, e) < 0)
		goto out;
	if (write_key(kp, key, e) < 0 || write_pem_crt(cp, crt, NULL, e) < 0)
		goto out;
	printf("ca: created %s and %s (%s, CN=%s, valid until %s)\n", cp, kp, o->key,
	       o->cn, day(r.not_after, d1, sizeof d1));
	if (o->force)
		printf("ca: certificates signed by a previous CA no longer verify; "
		       "reissue them with 'edgecert renew --dir %s'\n", o->dir);
	ret = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

/* ---- edgecert issue ----------------------------------------------------- */

/* Sign and write NAME's three files.  Returns 0 or -1. */
static int
issue_files(const char *dir, const char *name, struct pki_req *req,
            enum pki_keytype kt, struct ca *ca, struct err *e)
{
	char cp[PATH_MAX], kp[PATH_MAX], chp[PATH_MAX];
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t capem = { NULL, 0 };
	struct pki_req r = *req;
	time_t ca_end = gnutls_x509_crt_get_expiration_time(ca->crt);
	int ret = -1;

	if (r.not_after > ca_end) {
		char d1[32];

		fprintf(stderr, "edgecert: warning: %s: validity cut to the CA's end, %s\n",
		        name, day(ca_end, d1, sizeof d1));
		r.not_after = ca_end;
		if (r.not_after <= r.not_before)
			return err_set(e, ERR_FAIL, "%s: the CA expires before the certificate "
			               "would start", name);
	}
	path_of(cp, sizeof cp, dir, name, ".pem");
	path_of(kp, sizeof kp, dir, name, ".key");
	path_of(chp, sizeof chp, dir, name, ".chain.pem");
	if (pki_key_new(kt, &key, e) < 0)
		return -1;
	if (pki_sign(&r, key, ca->crt, ca->key, &crt, e) < 0)
		goto out;
	if (pki_crt_pem(ca->crt, &capem, e) < 0)
		goto out;
	/* key first: a reader that sees the new certificate finds its key */
	if (write_key(kp, key, e) < 0 || write_pem_crt(cp, crt, NULL, e) < 0 ||
	    write_pem_crt(chp, crt, &capem, e) < 0)
		goto out;
	req->not_after = r.not_after; /* what was issued, after any cut */
	ret = 0;
out:
	gnutls_free(capem.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

static int
strv_has(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int
same_set(char **a, size_t na, char **b, size_t nb)
{
	size_t i;

	for (i = 0; i < na; i++)
		if (!strv_has(b, nb, a[i]))
			return 0;
	for (i = 0; i < nb; i++)
		if (!strv_has(a, na, b[i]))
			return 0;
	return 1;
}

/* An existing NAME: 1 if it is valid and matches the request (nothing to
 * do), 0 if it should be (re)issued, -1 if it differs (refuse without
 * --force).  why explains. */
/* Is NAME.chain.pem exactly the leaf followed by the CA? */
static bool
chain_matches(const char *dir, const char *name, gnutls_x509_crt_t leaf, struct ca *ca)
{
	char chp[PATH_MAX];
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	bool ok = false;
	struct err le;

	path_of(chp, sizeof chp, dir, name, ".chain.pem");
	if (tls_load_certs(chp, &crts, &n, &le) < 0)
		return false;
	ok = n == 2 && gnutls_x509_crt_equals(crts[0], leaf) &&
	     gnutls_x509_crt_equals(crts[1], ca->crt);
	tls_free_certs(crts, n);
	return ok;
}

static int
existing_state(const char *dir, const char *name, const struct pki_req *r,
               enum pki_keytype kt, struct ca *ca, char *why, size_t wl,
               bool *chain_ok)
{
	char cp[PATH_MAX], kp[PATH_MAX], cn[256];
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t key = NULL;
	struct pki_sans s = { 0 };
	unsigned n = 0;
	struct err le;
	int state = 0;

	path_of(cp, sizeof cp, dir, name, ".pem");
	path_of(kp, sizeof kp, dir, name, ".key");
	if (!file_exists(cp) && !file_exists(kp))
		return 0;
	if (tls_load_certs(cp, &crts, &n, &le) < 0 || tls_load_key(kp, &key, &le) < 0) {
		snprintf(why, wl, "%s", le.msg);
		goto out;
	}
	if (!tls_key_matches(crts[0], key)) {
		snprintf(why, wl, "%s does not belong to %s", kp, cp);
		goto out;
	}
	if (pki_verify(crts, 1, ca->crt, &le) < 0) {
		snprintf(why, wl, "%s does not verify under the CA: %s", cp, le.msg);
		goto out;
	}
	pki_get_cn(crts[0], cn, sizeof cn);
	if (pki_get_sans(crts[0], &s, &le) < 0) {
		snprintf(why, wl, "%s", le.msg);
		goto out;
	}
	if (strcmp(cn, r->cn) != 0 || !same_set(s.dns, s.ndns, r->dns, r->ndns) ||
	    !same_set(s.ip, s.nip, r->ip, r->nip) ||
	    pki_has_purpose(crts[0], GNUTLS_KP_TLS_WWW_CLIENT) != r->client ||
	    pki_keytype_of_crt(crts[0], NULL) != kt) {
		snprintf(why, wl, "%s exists with other names, usage or key type", cp);
		state = -1;
		goto out;
	}
	snprintf(why, wl, "valid until %s", pki_fmt_time(
		gnutls_x509_crt_get_expiration_time(crts[0]), cn, sizeof cn));
	state = 1;
	*chain_ok = chain_matches(dir, name, crts[0], ca);
out:
	pki_sans_free(&s);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (crts != NULL)
		tls_free_certs(crts, n);
	return state;
}

/* Rewrite NAME.chain.pem from NAME.pem and the CA. */
static int
restore_chain(const char *dir, const char *name, struct ca *ca, struct err *e)
{
	char cp[PATH_MAX], chp[PATH_MAX];
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t capem = { NULL, 0 };
	unsigned n = 0;
	int rc = -1;

	path_of(cp, sizeof cp, dir, name, ".pem");
	path_of(chp, sizeof chp, dir, name, ".chain.pem");
	if (tls_load_certs(cp, &crts, &n, e) < 0)
		return -1;
	if (pki_crt_pem(ca->crt, &capem, e) == 0)
		rc = write_pem_crt(chp, crts[0], &capem, e);
	gnutls_free(capem.data);
	tls_free_certs(crts, n);
	return rc;
}

static void
describe(const char *name, const struct pki_req *r, const char *kt, char *buf,
         size_t len)
{
	size_t i, o = 0;
	char d1[32];

	o += (size_t)snprintf(buf + o, len - o, "%s, %s", kt,
	                      r->client ? "clientAuth" : "serverAuth");
	for (i = 0; i < r->ndns && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, ", DNS:%s", r->dns[i]);
	for (i = 0; i < r->nip && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, ", IP:%s", r->ip[i]);
	if (o < len)
		snprintf(buf + o, len - o, ", until %s", day(r->not_after, d1, sizeof d1));
	(void)name;
}

static int
cmd_issue(struct issue_opts *o, const char *name, struct err *e)
{
	struct pki_req r = { 0 };
	struct ca ca = { 0 };
	enum pki_keytype kt;
	char why[1024], desc[2048];
	char **dns = NULL, **ips = NULL;
	size_t i;
	int ret = -1, st;
	bool chain_ok = true;

	if (pki_check_name(name, e) < 0 || pki_keytype_parse(o->key, &kt, e) < 0)
		return -1;
	if (validity(o->days, o->not_before, o->not_after, &r.not_before, &r.not_after,
	             e) < 0)
		return -1;
	dns = calloc(o->dns.n + 1, sizeof *dns);
	if (dns == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	for (i = 0; i < o->dns.n; i++) {
		dns[i] = malloc(256);
		if (dns[i] == NULL) {
			err_set(e, ERR_FAIL, "out of memory");
			goto out;
		}
		if (pki_check_dns(o->dns.v[i], dns[i], e) < 0) {
			err_prefix(e, "--dns: ");
			goto out;
		}
	}
	r.dns = dns;
	r.ndns = o->dns.n;
	ips = calloc(o->ip.n + 2, sizeof *ips);
	if (ips == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < o->ip.n; i++) {
		unsigned char ip[16];
		char txt[INET6_ADDRSTRLEN];
		size_t l;

		if (pki_parse_ip(o->ip.v[i], ip, &l, e) < 0) {
			err_prefix(e, "--ip: ");
			goto out;
		}
		/* canonical text, so 2001:db8:0::1 and 2001:db8::1 compare equal */
		inet_ntop(l == 4 ? AF_INET : AF_INET6, ip, txt, sizeof txt);
		ips[i] = strdup(txt);
		if (ips[i] == NULL) {
			err_set(e, ERR_FAIL, "out of memory");
			goto out;
		}
	}
	r.ip = ips;
	r.nip = o->ip.n;
	if (r.ndns == 0 && r.nip == 0 && !o->client) {
		unsigned char ip[16];
		size_t l;

		/* a server certificate names its host: default to NAME */
		if (pki_parse_ip(name, ip, &l, NULL) == 0) {
			ips[0] = strdup(name);
			if (ips[0] == NULL) {
				err_set(e, ERR_FAIL, "out of memory");
				goto out;
			}
			r.nip = 1;
		} else if (pki_check_dns(name, NULL, NULL) == 0) {
			dns[0] = malloc(256);
			if (dns[0] == NULL) {
				err_set(e, ERR_FAIL, "out of memory");
				goto out;
			}
			pki_check_dns(name, dns[0], NULL);
			r.ndns = 1;
		} else {
			err_set(e, ERR_USAGE, "NAME '%s' is not a DNS name or IP address; give "
			        "the certificate's names with --dns or --ip", name);
			goto out;
		}
	}
	r.cn = o->cn ? o->cn : name;
	r.client = o->client;
	if (check_dir(o->dir, e) < 0 || lock_dir(o->dir, e) < 0 ||
	    ca_load(o->dir, &ca, e) < 0)
		goto out;
	st = existing_state(o->dir, name, &r, kt, &ca, why, sizeof why, &chain_ok);
	if (st == 1 && !o->force && !chain_ok) {
		if (restore_chain(o->dir, name, &ca, e) < 0)
			goto out;
		printf("issue: %s: %s; restored %s/%s.chain.pem\n", name, why, o->dir, name);
		ret = 0;
		goto out;
	}
	if (st == 1 && !o->force) {
		printf("issue: %s: %s; unchanged (--force reissues)\n", name, why);
		ret = 0;
		goto out;
	}
	if (st == -1 && !o->force) {
		err_set(e, ERR_FAIL, "%s; use --force to reissue", why);
		goto out;
	}
	if (issue_files(o->dir, name, &r, kt, &ca, e) < 0)
		goto out;
	describe(name, &r, o->key, desc, sizeof desc);
	printf("issue: %s: wrote %s/%s.pem, %s.key, %s.chain.pem (%s)\n", name, o->dir,
	       name, name, name, desc);
	ret = 0;
out:
	ca_free(&ca);
	for (i = 0; i < o->dns.n + 1; i++)
		free(dns[i]);
	free(dns);
	for (i = 0; ips != NULL && i < o->ip.n + 1; i++)
		free(ips[i]);
	free(ips);
	return ret;
}

/* ---- edgecert renew ----------------------------------------------------- */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Renew one leaf if due.  Returns 1 renewed (or would be), 0 not due, -1
 * error. */
static int
renew_one(const char *dir, const char *name, struct ca *ca, long long within_ms,
          bool dry, time_t *next, char *next_name, size_t nnl, struct err *e)
{
	char cp[PATH_MAX], why[512], cn[256], d1[32], d2[32];
	char issuer[1024], casubj[1024];
	size_t il = sizeof issuer, sl = sizeof casubj;
	gnutls_x509_crt_t *crts = NULL;
	struct pki_sans s = { 0 };
	struct pki_req r = { 0 };
	enum pki_keytype kt;
	unsigned n = 0;
	time_t now = time(NULL), end, start;
	long long days;
	struct err le;
	int ret = -1;

	path_of(cp, sizeof cp, dir, name, ".pem");
	if (tls_load_certs(cp, &crts, &n, e) < 0)
		return -1;
	if (gnutls_x509_crt_get_issuer_dn(crts[0], issuer, &il) < 0 ||
	    gnutls_x509_crt_get_dn(ca->crt, casubj, &sl) < 0 || strcmp(issuer, casubj) != 0) {
		fprintf(stderr, "edgecert: renew: %s: not issued by %s/ca.pem; skipped\n", cp,
		        dir);
		ret = 0;
		goto out;
	}
	end = gnutls_x509_crt_get_expiration_time(crts[0]);
	start = gnutls_x509_crt_get_activation_time(crts[0]);
	if (pki_verify(crts, 1, ca->crt, &le) < 0 && end > now)
		snprintf(why, sizeof why, "does not verify under the CA (%s)", le.msg);
	else if (end <= now)
		snprintf(why, sizeof why, "expired on %s", day(end, d1, sizeof d1));
	else if ((long long)(end - now) * 1000 <= within_ms)
		snprintf(why, sizeof why, "expires on %s", day(end, d1, sizeof d1));
	else {
		if (*next == 0 || end < *next) {
			*next = end;
			snprintf(next_name, nnl, "%s", name);
		}
		ret = 0;
		goto out;
	}
	kt = pki_keytype_of_crt(crts[0], NULL);
	if (kt == PKI_KEY_OTHER) {
		err_set(e, ERR_FAIL, "%s: %s, but its key type is not one edgecert makes; "
		        "reissue it with 'edgecert issue %s --force --key TYPE'", cp, why, name);
		goto out;
	}
	if (pki_get_sans(crts[0], &s, e) < 0)
		goto out;
	pki_get_cn(crts[0], cn, sizeof cn);
	days = (long long)(end - start - SKEW + DAY / 2) / DAY;
	if (days < 1)
		days = 1;
	r.cn = cn;
	r.dns = s.dns;
	r.ndns = s.ndns;
	r.ip = s.ip;
	r.nip = s.nip;
	r.client = pki_has_purpose(crts[0], GNUTLS_KP_TLS_WWW_CLIENT) &&
	           !pki_has_purpose(crts[0], GNUTLS_KP_TLS_WWW_SERVER);
	r.not_before = now - SKEW;
	r.not_after = now + (time_t)days * DAY;
	if ((long long)days * DAY * 1000 <= within_ms)
		fprintf(stderr, "edgecert: warning: renew: %s lasts %lld days, not longer than "
		        "the window: it will be reissued on every run; reissue it with a "
		        "longer --days\n", name, days);
	if (dry) {
		printf("renew: %s: %s; would reissue for %lld days (dry run)\n", name, why,
		       days);
		ret = 1;
		goto out;
	}
	if (issue_files(dir, name, &r, kt, ca, e) < 0)
		goto out;
	printf("renew: %s: %s; reissued, valid until %s (%s)\n", name, why,
	       day(r.not_after, d2, sizeof d2), pki_keytype_name(kt));
	ret = 1;
out:
	pki_sans_free(&s);
	tls_free_certs(crts, n);
	return ret;
}

static int
cmd_renew(struct renew_opts *o, struct err *e)
{
	struct ca ca = { 0 };
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, next_name[256] = "", d1[32];
	size_t nn = 0, i;
	time_t next = 0, ca_end;
	int renewed = 0, failed = 0, checked = 0, ret = -1;

	if (check_dir(o->dir, e) < 0 || lock_dir(o->dir, e) < 0 ||
	    ca_load(o->dir, &ca, e) < 0)
		return -1;
	ca_end = gnutls_x509_crt_get_expiration_time(ca.crt);
	if ((long long)(ca_end - time(NULL)) * 1000 <= o->within)
		fprintf(stderr, "edgecert: warning: %s/ca.pem expires on %s, within the "
		        "window; leaves cannot outlive it: create a new CA with 'edgecert "
		        "ca --dir %s --force' and distribute it\n", o->dir,
		        day(ca_end, d1, sizeof d1), o->dir);
	d = opendir(o->dir);
	if (d == NULL) {
		err_set(e, ERR_FAIL, "%s: %s", o->dir, strerror(errno));
		goto out;
	}
	/* leaves are NAME.pem with a NAME.key beside them */
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char kp[PATH_MAX], stem[256], **nv;

		if (l < 5 || l - 4 >= sizeof stem || strcmp(de->d_name + l - 4, ".pem") != 0)
			continue;
		memcpy(stem, de->d_name, l - 4);
		stem[l - 4] = '\0';
		if (strcmp(stem, "ca") == 0 || pki_check_name(stem, NULL) < 0)
			continue;
		path_of(kp, sizeof kp, o->dir, stem, ".key");
		if (!file_exists(kp))
			continue;
		nv = realloc(names, (nn + 1) * sizeof *names);
		if (nv == NULL || (nv[nn] = strdup(stem)) == NULL) {
			if (nv != NULL)
				names = nv;
			err_set(e, ERR_FAIL, "out of memory");
			goto out;
		}
		names = nv;
		nn++;
	}
	if (nn > 1)
		qsort(names, nn, sizeof *names, name_cmp);
	for (i = 0; i < nn; i++) {
		struct err le;
		int rc = renew_one(o->dir, names[i], &ca, o->within, o->dry_run, &next,
		                   next_name, sizeof next_name, &le);

		checked++;
		if (rc < 0) {
			fprintf(stderr, "edgecert: renew: %s\n", le.msg);
			failed++;
		} else {
			renewed += rc;
		}
	}
	if (renewed == 0 && failed == 0) {
		if (next != 0)
			printf("renew: nothing due in %s (%d checked; next expiry %s on %s)\n",
			       o->dir, checked, next_name, day(next, d1, sizeof d1));
		else
			printf("renew: nothing due in %s (%d checked)\n", o->dir, checked);
	} else {
		printf("renew: %d %s, %d failed, %d checked\n", renewed,
		       o->dry_run ? "due" : "renewed", failed, checked);
	}
	if (failed > 0) {
		err_set(e, ERR_FAIL, "renew: %d certificate(s) could not be renewed", failed);
		goto out;
	}
	ret = 0;
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	ca_free(&ca);
	return ret;
}

/* ---- edgecert inspect --------------------------------------------------- */

static const char *
purpose_name(const char *oid)
{
	if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
		return "serverAuth";
	if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
		return "clientAuth";
	if (strcmp(oid, GNUTLS_KP_CODE_SIGNING) == 0)
		return "codeSigning";
	if (strcmp(oid, GNUTLS_KP_EMAIL_PROTECTION) == 0)
		return "emailProtection";
	if (strcmp(oid, GNUTLS_KP_OCSP_SIGNING) == 0)
		return "OCSPSigning";
	return oid;
}

static cJSON *
crt_json(gnutls_x509_crt_t crt)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char buf[1024], t1[32];
	size_t len;
	unsigned bits = 0, usage = 0, crit, i;
	enum pki_keytype kt = pki_keytype_of_crt(crt, &bits);
	struct pki_sans s = { 0 };
	time_t nb = gnutls_x509_crt_get_activation_time(crt);
	time_t na = gnutls_x509_crt_get_expiration_time(crt), now = time(NULL);
	static const struct { unsigned bit; const char *name; } ku[] = {
		{ GNUTLS_KEY_DIGITAL_SIGNATURE, "digitalSignature" },
		{ GNUTLS_KEY_NON_REPUDIATION, "nonRepudiation" },
		{ GNUTLS_KEY_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ GNUTLS_KEY_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ GNUTLS_KEY_KEY_AGREEMENT, "keyAgreement" },
		{ GNUTLS_KEY_KEY_CERT_SIGN, "keyCertSign" },
		{ GNUTLS_KEY_CRL_SIGN, "cRLSign" },
	};

	len = sizeof buf;
	if (gnutls_x509_crt_get_dn(crt, buf, &len) < 0)
		buf[0] = '\0';
	cJSON_AddStringToObject(o, "subject", buf);
	len = sizeof buf;
	if (gnutls_x509_crt_get_issuer_dn(crt, buf, &len) < 0)
		buf[0] = '\0';
	cJSON_AddStringToObject(o, "issuer", buf);
	pki_serial_hex(crt, buf, sizeof buf);
	cJSON_AddStringToObject(o, "serial", buf);
	cJSON_AddStringToObject(o, "not_before", pki_fmt_time(nb, t1, sizeof t1));
	cJSON_AddStringToObject(o, "not_after", pki_fmt_time(na, t1, sizeof t1));
	cJSON_AddNumberToObject(o, "days_left",
	                        na > now ? (double)((na - now + DAY - 1) / DAY) :
	                                   -(double)((now - na + DAY - 1) / DAY));
	cJSON_AddBoolToObject(o, "expired", na <= now);
	cJSON_AddBoolToObject(o, "not_yet_valid", nb > now);
	if (kt != PKI_KEY_OTHER) {
		cJSON_AddStringToObject(o, "key_type", pki_keytype_name(kt));
	} else {
		int pk = gnutls_x509_crt_get_pk_algorithm(crt, NULL);

		cJSON_AddStringToObject(o, "key_type", gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) ?
		                        gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) : "unknown");
	}
	cJSON_AddNumberToObject(o, "key_bits", bits);
	cJSON_AddBoolToObject(o, "ca", pki_is_ca(crt));
	a = cJSON_AddArrayToObject(o, "dns");
	if (pki_get_sans(crt, &s, NULL) == 0) {
		for (i = 0; i < s.ndns; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(s.dns[i]));
		a = cJSON_AddArrayToObject(o, "ip");
		for (i = 0; i < s.nip; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(s.ip[i]));
		pki_sans_free(&s);
	} else {
		cJSON_AddArrayToObject(o, "ip");
	}
	a = cJSON_AddArrayToObject(o, "key_usage");
	if (gnutls_x509_crt_get_key_usage(crt, &usage, &crit) >= 0)
		for (i = 0; i < sizeof ku / sizeof ku[0]; i++)
			if (usage & ku[i].bit)
				cJSON_AddItemToArray(a, cJSON_CreateString(ku[i].name));
	a = cJSON_AddArrayToObject(o, "ext_key_usage");
	for (i = 0;; i++) {
		char oid[128];
		size_t ol = sizeof oid;

		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &ol, NULL) < 0)
			break;
		cJSON_AddItemToArray(a, cJSON_CreateString(purpose_name(oid)));
	}
	pki_fingerprint(crt, buf, sizeof buf);
	cJSON_AddStringToObject(o, "sha256_fingerprint", buf);
	return o;
}

static void
print_list(const char *label, cJSON *arr)
{
	cJSON *it;
	int first = 1;

	printf("  %-16s", label);
	cJSON_ArrayForEach(it, arr) {
		printf("%s%s", first ? "" : ", ", it->valuestring);
		first = 0;
	}
	printf("%s\n", first ? "-" : "");
}

static void
print_crt_text(cJSON *c, int idx, int total)
{
	double days = cJSON_GetObjectItem(c, "days_left")->valuedouble;

	printf("certificate %d of %d\n", idx, total);
	printf("  %-16s%s\n", "subject:", cJSON_GetObjectItem(c, "subject")->valuestring);
	printf("  %-16s%s\n", "issuer:", cJSON_GetObjectItem(c, "issuer")->valuestring);
	printf("  %-16s%s\n", "serial:", cJSON_GetObjectItem(c, "serial")->valuestring);
	printf("  %-16s%s\n", "not before:",
	       cJSON_GetObjectItem(c, "not_before")->valuestring);
	printf("  %-16s%s (%s%.0f days%s)\n", "not after:",
	       cJSON_GetObjectItem(c, "not_after")->valuestring,
	       days < 0 ? "EXPIRED " : "", days < 0 ? -days : days,
	       days < 0 ? " ago" : " left");
	printf("  %-16s%s, %d bits\n", "key:", cJSON_GetObjectItem(c, "key_type")->valuestring,
	       cJSON_GetObjectItem(c, "key_bits")->valueint);
	printf("  %-16s%s\n", "ca:", cJSON_IsTrue(cJSON_GetObjectItem(c, "ca")) ? "yes" : "no");
	print_list("dns:", cJSON_GetObjectItem(c, "dns"));
	print_list("ip:", cJSON_GetObjectItem(c, "ip"));
	print_list("key usage:", cJSON_GetObjectItem(c, "key_usage"));
	print_list("ext key usage:", cJSON_GetObjectItem(c, "ext_key_usage"));
	printf("  %-16s%s\n", "sha256:",
	       cJSON_GetObjectItem(c, "sha256_fingerprint")->valuestring);
}

/* FILE holds no certificate: maybe it is a key. */
static int
inspect_key(const char *file, bool json, struct err *e)
{
	gnutls_x509_privkey_t key = NULL;
	unsigned bits = 0;
	int pk;
	unsigned char id[64];
	size_t idl = sizeof id, i, o = 0;
	char hex[200];
	struct err le;

	if (tls_load_key(file, &key, &le) < 0)
		return err_set(e, ERR_FAIL, "%s: neither a certificate nor a private key",
		               file);
	pk = gnutls_x509_privkey_get_pk_algorithm2(key, &bits);
	if (gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, id, &idl) < 0)
		idl = 0;
	for (i = 0; i < idl && o + 3 < sizeof hex; i++)
		o += (size_t)snprintf(hex + o, sizeof hex - o, "%02x", id[i]);
	hex[o] = '\0';
	if (json) {
		cJSON *j = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(j, "file", file);
		cJSON_AddStringToObject(j, "kind", "private_key");
		cJSON_AddStringToObject(j, "algorithm",
		                        gnutls_pk_get_name((gnutls_pk_algorithm_t)pk));
		cJSON_AddNumberToObject(j, "key_bits", bits);
		cJSON_AddStringToObject(j, "key_id_sha256", hex);
		s = cJSON_Print(j);
		puts(s);
		free(s);
		cJSON_Delete(j);
	} else {
		printf("%s: private key\n  %-16s%s, %u bits\n  %-16s%s\n", file, "algorithm:",
		       gnutls_pk_get_name((gnutls_pk_algorithm_t)pk), bits, "key id:", hex);
	}
	gnutls_x509_privkey_deinit(key);
	return 0;
}

static int
cmd_inspect(struct inspect_opts *o, const char *file, struct err *e)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;
	struct ca ca = { 0 };
	cJSON *root = NULL, *arr, *it;
	struct err le = { 0, "" };
	int verified = -1, ret = -1;

	if (tls_load_certs(file, &crts, &n, &le) < 0) {
		if (!file_exists(file) || access(file, R_OK) != 0)
			return err_set(e, ERR_FAIL, "%s", le.msg);
		return inspect_key(file, o->json, e);
	}
	if (o->dir != NULL) {
		char cp[PATH_MAX];
		gnutls_x509_crt_t *cas = NULL;
		unsigned nc = 0;

		path_of(cp, sizeof cp, o->dir, "ca", ".pem");
		if (tls_load_certs(cp, &cas, &nc, e) < 0)
			goto out;
		ca.crt = cas[0];
		for (i = 1; i < nc; i++)
			gnutls_x509_crt_deinit(cas[i]);
		gnutls_free(cas);
		verified = pki_verify(crts, n, ca.crt, &le) == 0;
	}
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "file", file);
	arr = cJSON_AddArrayToObject(root, "certificates");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, crt_json(crts[i]));
	if (verified >= 0) {
		cJSON *v = cJSON_AddObjectToObject(root, "verify");

		cJSON_AddStringToObject(v, "ca", o->dir);
		cJSON_AddBoolToObject(v, "chains_to_ca", verified);
		if (!verified)
			cJSON_AddStringToObject(v, "reason", le.msg);
	}
	if (o->json) {
		char *s = cJSON_Print(root);

		puts(s);
		free(s);
	} else {
		printf("%s\n", file);
		i = 0;
		cJSON_ArrayForEach(it, arr)
			print_crt_text(it, (int)++i, (int)n);
		if (verified >= 0)
			printf("chains to %s/ca.pem: %s%s%s\n", o->dir, verified ? "yes" : "NO (",
			       verified ? "" : le.msg, verified ? "" : ")");
	}
	if (verified == 0) {
		err_set(e, ERR_FAIL, "%s does not chain to %s/ca.pem: %s", file, o->dir, le.msg);
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(root);
	ca_free(&ca);
	tls_free_certs(crts, n);
	return ret;
}

/* ---- main --------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: edgecert COMMAND [options]\n\n"
	        "Certificate provisioning for edged, origind and their clients.\n\n"
	        "Commands:\n"
	        "  ca       create the CA in a directory (ca.pem, ca.key)\n"
	        "  issue    issue NAME.pem, NAME.key, NAME.chain.pem signed by that CA\n"
	        "  renew    reissue the leaves that expire within a window (for cron)\n"
	        "  inspect  show what a certificate or key file holds\n\n"
	        "'edgecert COMMAND --help' shows a command's options.\n"
	        "Exit codes: 0 done (also when nothing was due), 1 failed, 2 usage.\n");
}

#define RUN(spec_, opts_type, body) \
	do { \
		opts_type o_; \
		char **pos_ = NULL; \
		int np_ = 0, rc_; \
		memset(&o_, 0, sizeof o_); \
		rc_ = cfg_parse_argv(&(spec_), &o_, argc - 2, argv + 2, &pos_, &np_, &e); \
		if (rc_ == CFG_EXIT) { \
			status = 0; \
		} else if (rc_ < 0) { \
			status = 2; \
		} else { \
			opts_type *o = &o_; \
			char **pos = pos_; \
			(void)pos; \
			status = (body) < 0 ? (e.code == ERR_USAGE ? 2 : 1) : 0; \
		} \
		free(pos_); \
		cfg_free(&(spec_), &o_); \
	} while (0)

int
main(int argc, char **argv)
{
	struct err e = { 0, "" };
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int status = 2;

	if (cmd == NULL) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("edgecert %s (GnuTLS %s)\n", EDGED_VERSION, gnutls_check_version(NULL));
		return 0;
	}
	if (tls_init(&e) < 0) {
		die_msg(&e);
		return 1;
	}
	if (strcmp(cmd, "ca") == 0)
		RUN(ca_spec, struct ca_opts, cmd_ca(o, &e));
	else if (strcmp(cmd, "issue") == 0)
		RUN(issue_spec, struct issue_opts, cmd_issue(o, pos[0], &e));
	else if (strcmp(cmd, "renew") == 0)
		RUN(renew_spec, struct renew_opts, cmd_renew(o, &e));
	else if (strcmp(cmd, "inspect") == 0)
		RUN(inspect_spec, struct inspect_opts, cmd_inspect(o, pos[0], &e));
	else
		err_set(&e, ERR_USAGE, "unknown command '%s' (commands: ca, issue, renew, "
		        "inspect; see edgecert --help)", cmd);
	if (status != 0 && e.msg[0] != '\0')
		die_msg(&e);
	tls_deinit();
	return status;
}
