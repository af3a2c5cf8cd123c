/*
 * edg.h: what edged's files share.  main.c owns start-up, the listeners,
 * the slow-client watchdog and the request state machine; edg_tls.c the
 * viewer TLS (security policies, certificates chosen by SNI); edg_proxy.c
 * the origin leg (origin URLs, the request head sent upstream, response
 * header filtering).
 */
#ifndef EDGED_EDG_H
#define EDGED_EDG_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "edg_keys.h"
#include "err.h"
#include "hclient.h"

struct edg_opts {
	EDG_KEYS(CFG_FIELD)
};

/* ---- viewer TLS (edg_tls.c) --------------------------------------------- */

/* The GnuTLS priority string of a CloudFront security policy name, NULL
 * for an unknown name. */
const char *edg_policy_priority(const char *name);

/* Load every cert/key pair (cert[i] with key[i]) for SNI selection; the
 * first is the default.  Errors name the file.  Warns about expired or
 * not-yet-valid certificates. */
int edg_certs_load(const struct cfg_list *certs, const struct cfg_list *keys,
                   struct err *e);
void edg_certs_free(void);

/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK: the pair whose names
 * match the SNI, else the default pair. */
int edg_cert_select(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                    gnutls_pcert_st **pcert, unsigned int *pcert_length,
                    gnutls_privkey_t *pkey);

/* ---- the origin leg (edg_proxy.c) --------------------------------------- */

/* One origin URL and the endpoints the protocol policy may use. */
struct edg_origin {
	const char *key;        /* "origin" or "origin_failover", for messages */
	char url[1024];
	char host[256];         /* without brackets */
	char prefix[1024];      /* path prefix from the URL, no trailing '/' */
	struct hc_origin *https, *http; /* NULL when the policy never uses it */
	char https_host_hdr[300], http_host_hdr[300]; /* Host: host[:port] */
};

enum edg_opp { EDG_OPP_HTTPS, EDG_OPP_HTTP, EDG_OPP_MATCH };

/* Parse url (o->key names it in errors) into o->host and o->prefix, the
 * scheme into *https and the port (explicit or the scheme's) into *port. */
int edg_origin_parse(struct edg_origin *o, const char *url, bool *https, int *port,
                     struct err *e);

/* Parse url into o and set up its endpoints for the policy. */
int edg_origin_init(struct edg_origin *o, const char *key, const char *url,
                    const struct edg_opts *opts, enum edg_opp policy, struct err *e);
void edg_origin_free(struct edg_origin *o);

/* What the request head toward the origin needs to know. */
struct edg_fwd {
	struct MHD_Connection *conn;
	const char *method;
	const char *target;      /* as the viewer sent it */
	const char *prefix;      /* origin path prefix */
	const char *host;        /* Host value to send */
	const char *client_ip;
	bool viewer_tls;
	const char *via;         /* "1.1 node (edged)" */
	const char *request_id;
	long long content_length; /* -1: none */
	bool chunked;            /* the viewer's body is chunked */
	bool head_only;          /* forwarded as HEAD */
};

/* The request head for the origin, malloc'd, in *out / *len: hop-by-hop
 * fields (and those named by Connection) dropped, X-Forwarded-For
 * appended to, X-Forwarded-Proto / Via / X-Edge-Request-Id set.  0 or -1
 * (out of memory, or the result over 256 KiB). */
int edg_build_head(const struct edg_fwd *f, char **out, size_t *len);

/* True for a response field the edge must not pass to the viewer: hop-by-
 * hop fields, the fields the origin's Connection names, and the framing
 * libmicrohttpd writes itself (Content-Length, Transfer-Encoding). */
bool edg_skip_response_field(const struct hresp *r, const struct hresp_field *f);

/* True when a request-target path climbs out of the path prefix ("..")
 * or the target is not origin-form; writes the upstream target. */
int edg_upstream_target(const char *prefix, const char *target, char *out, size_t outlen);

/* A comma-separated list in value (one field line) holds token, case-
 * insensitively. */
bool edg_list_has(const char *value, size_t vlen, const char *token);

#endif
