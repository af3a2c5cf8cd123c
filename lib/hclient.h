/*
 * hclient.h: edged's HTTP/1.1 client to origins, over lib/tconn (plain TCP
 * or verified TLS) with a keep-alive pool per origin.
 *
 * One struct hc_origin describes one origin endpoint (scheme, host, port,
 * TLS settings, timeouts) and owns its pool of idle connections.  One
 * struct hc_exchange is one request/response on one connection, used by
 * one thread:
 *
 *     hc_begin(&x, origin, head, head_len, retryable, &e)     connect/reuse,
 *                                                             send the head
 *     hc_send_body(&x, data, n, &e) ...                       request body
 *     hc_send_end(&x, &e)                                     (chunked: 0 CRLF)
 *     hc_read_head(&x, &e)                                    final response head
 *     while ((n = hc_read_body(&x, buf, sizeof buf, &e)) > 0) stream it on
 *     hc_end(&x)                                              pool or close
 *
 * The caller writes the request head (request line, fields, blank line)
 * itself; hclient frames the body: with body_chunked set by
 * hc_set_body_chunked() it chunk-encodes what hc_send_body gets, else the
 * caller's Content-Length must match what it sends.
 *
 * Retry: when the head was sent on a reused pooled connection and the
 * origin closed it before sending any response byte (keep-alive race),
 * and the request is retryable (GET/HEAD, no body), hc_read_head opens a
 * fresh connection and sends the head again, once.  Never otherwise.
 *
 * Timeouts: connect_timeout_ms covers TCP connect + TLS handshake of one
 * attempt, connection_attempts attempts in all; response_timeout_ms is the
 * longest wait for the first response byte and between any two reads of
 * the response (CloudFront's origin response timeout); keepalive_timeout_ms
 * is how long an idle pooled connection may be reused.
 *
 * Connection limit: max_conns bounds the connections open to one origin
 * endpoint, busy and idle together (0: no bound).  hc_begin needing a new
 * connection when all are in use waits for one to be pooled or closed, up
 * to connect_timeout_ms, then fails with HC_BUSY without touching the
 * network: a burst (or slow uploads holding connections) cannot push more
 * connections at the origin than it was sized for.
 */
#ifndef EDGED_HCLIENT_H
#define EDGED_HCLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hresp.h"
#include "tconn.h"

/* Why an exchange failed: what the edge answers (502 or 504) and logs. */
enum hc_fail {
	HC_OK = 0,
	HC_CONNECT,   /* resolve/refused/unreachable after every attempt: 502 */
	HC_TLS,       /* handshake failed (protocol, renegotiation): 502 */
	HC_VERIFY,    /* certificate untrusted / wrong name / expired: 502 */
	HC_TIMEOUT,   /* connect or response deadline passed: 504 */
	HC_PROTOCOL,  /* malformed response, 101, head too large: 502 */
	HC_CLOSED,    /* origin closed before a complete response: 502 */
	HC_IO,        /* other socket error: 502 */
	HC_BUSY,      /* max_conns connections in use, none freed in time: 503 */
};

const char *hc_fail_name(enum hc_fail f);   /* "connect", "tls", ... */

struct hc_idle {              /* a pooled connection */
	struct tconn c;
	int64_t idle_since_ms;
};

struct hc_origin_opts {
	bool https;
	const char *host;         /* DNS name or IP literal (no brackets) */
	int port;
	/* TLS only (ignored for plain HTTP): */
	const char *ca_file;      /* NULL: the system trust store */
	const char *cert_file, *key_file; /* client certificate: both or neither */
	const char *min_tls;      /* "TLSv1.2" (NULL) or "TLSv1.3" */
	const char *priority;     /* NULL: tconn's default */
	const char *sni;          /* NULL: host (no SNI for an IP) */
	int connect_timeout_ms;
	int connection_attempts;  /* >= 1 */
	int response_timeout_ms;
	int keepalive_timeout_ms; /* 0: no pooling */
	size_t max_idle;          /* pooled connections kept at most */
	size_t max_conns;         /* open connections, busy + idle (0: no limit) */
};

struct hc_origin {
	bool https;
	char host[256];
	int port;
	char label[300];          /* "https://host:port", for logs */
	struct tconn_tls tls;     /* when https */
	int connect_timeout_ms, connection_attempts, response_timeout_ms,
	    keepalive_timeout_ms;
	pthread_mutex_t mu;       /* guards the pool and counters */
	pthread_cond_t freed;     /* a connection was pooled or closed */
	struct hc_idle *idle;     /* newest last */
	size_t nidle, max_idle;
	size_t nopen, max_conns;  /* connections open (busy + idle), the limit */
	unsigned long long opened, reused, retried; /* counters */
	unsigned long long waited, busy; /* hc_begin waited for a free slot; it
	                                  * gave up (HC_BUSY) */
};

/* Set up an origin (TLS credentials loaded here; errors name the file). */
int hc_origin_init(struct hc_origin *o, const struct hc_origin_opts *opts, struct err *e);
/* Close the pooled connections and free everything. */
void hc_origin_free(struct hc_origin *o);

#define HC_BUF 16384

struct hc_exchange {
	struct hc_origin *o;
	struct tconn c;
	bool have_conn;
	bool reused;              /* this connection came from the pool */
	bool slot;                /* counted in o->nopen (released by hc_end) */
	bool retryable;
	bool body_chunked;        /* hc_send_body chunk-encodes */
	bool body_sent;           /* any body byte was sent */
	bool head_request;        /* the request was HEAD (no response body) */
	bool send_failed;         /* sending the body failed: a response may
	                           * still be waiting to be read */
	bool body_abandoned;      /* the request body was not sent in full:
	                           * never reuse this connection */
	const char *req_head;     /* the caller's head, kept for one retry */
	size_t req_head_len;
	enum hc_fail fail;

	/* response */
	char *buf;                /* head, then body bytes as read (malloc'd) */
	size_t cap, len;          /* allocated, filled */
	size_t off;               /* first unconsumed body byte in buf */
	struct hresp resp;        /* spans point into buf[0..resp.head_len) */
	enum hresp_body body;
	uint64_t left;            /* HRESP_BODY_LENGTH: bytes still to come */
	struct hchunk chunk;
	bool body_done;           /* the whole body was read */
	uint64_t body_bytes;      /* decoded body bytes handed out */
	int64_t t_connect_ms, t_first_byte_ms; /* for logs/metrics, from begin */
	int64_t t_begin;
};

/* Get a connection (a live pooled one, else a new one with up to
 * connection_attempts tries, once the origin's max_conns allows it) and
 * send the request head.  The head
 * (head[0..head_len)) must stay valid until hc_read_head returns.
 * head_request: the method is HEAD.  retryable: GET/HEAD without a body.
 * Returns 0, or -1 with x->fail and e saying why (x needs hc_end still). */
int hc_begin(struct hc_exchange *x, struct hc_origin *o, const char *head,
             size_t head_len, bool head_request, bool retryable, struct err *e);

/* Request bodies: chunk-encode what hc_send_body sends (the head said
 * "Transfer-Encoding: chunked"). */
void hc_set_body_chunked(struct hc_exchange *x);
int hc_send_body(struct hc_exchange *x, const void *data, size_t len, struct err *e);
/* After the last body byte: the last chunk for a chunked body, else nothing. */
int hc_send_end(struct hc_exchange *x, struct err *e);

/* Has the origin begun to answer (or hung up) while the request body is
 * still being sent, as an origin refusing a large upload does (RFC 9112
 * 9.5)?  Never blocks; bytes read here are kept for hc_read_head.  A TLS
 * 1.3 session ticket is not an answer. */
bool hc_answer_started(struct hc_exchange *x);

/* The rest of the request body will not be sent (the origin answered
 * early, or sending failed): hc_read_head may still read the origin's
 * answer, and the connection is not reused afterwards. */
void hc_abandon_body(struct hc_exchange *x);

/* Read until the final response head (1xx skipped; 101 is an error).
 * x->resp is then valid until hc_end.  0, or -1 with x->fail and e. */
int hc_read_head(struct hc_exchange *x, struct err *e);

/* Decoded body bytes into buf: >0, 0 at the end of the body (then the
 * connection may go back to the pool), -1 with x->fail and e (the body
 * was cut short or malformed: the viewer's copy must be cut too). */
ssize_t hc_read_body(struct hc_exchange *x, void *buf, size_t len, struct err *e);

/* Finish: a connection whose response was read completely and may be
 * reused goes back to the pool; anything else is closed (and its place
 * under max_conns freed).  Frees buffers.  Safe to call after any
 * failure, and twice. */
void hc_end(struct hc_exchange *x);

/* The origin's connections now: open (busy + idle) and idle. */
void hc_origin_counts(struct hc_origin *o, size_t *open, size_t *idle);

#endif
