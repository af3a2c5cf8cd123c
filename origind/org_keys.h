/*
 * org_keys.h: every origind setting, once (see lib/cfg.h).  The same table
 * gives origind.conf keys, --flags, defaults and --help.
 */
#ifndef EDGED_ORG_KEYS_H
#define EDGED_ORG_KEYS_H

#include "tls.h"

/* TLS 1.3 and 1.2 only, ECDHE with AEAD ciphers in the server's order
 * (%SERVER_PRECEDENCE: AES-GCM first, ChaCha20 being several times slower
 * in Debian 12's GnuTLS; without it the client's order won), signature
 * algorithms without SHA-1 (TLS_SIGNS).  No renegotiation: origind never calls
 * gnutls_handshake again and libmicrohttpd ends a connection asked to.
 * Not %SAFE_RENEGOTIATION: GnuTLS 3.7 then refuses any ClientHello without
 * renegotiation_info or its SCSV, TLS 1.3 ones included, where the
 * extension means nothing (testssl.sh's TLS 1.3 probe is one). */
#define ORG_DEFAULT_PRIORITY \
	"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:+AES-128-GCM:" \
	"+AES-256-GCM:+CHACHA20-POLY1305:+AEAD:" TLS_SIGNS ":+GROUP-X25519:" \
	"+GROUP-SECP256R1:+GROUP-SECP384R1:+COMP-NULL:+CTYPE-X509:" \
	"%SERVER_PRECEDENCE"

/* Names whose source is secret: what PHP runs (php-fpm's
 * security.limit_extensions allows any of them once configured). */
#define ORG_DEFAULT_STATIC_DENY \
	".php,.php3,.php4,.php5,.php7,.php8,.phtml,.pht,.phar,.phps"

#define ORG_KEYS(X) \
	X(listen_https, CFG_ADDR, "ADDR", ":9443", 0, 0, NULL, 0, \
	  "address:port of the HTTPS listener (:9443 = every address)") \
	X(cert, CFG_STR, "FILE", NULL, 0, 0, NULL, CFG_REQUIRED, \
	  "certificate chain (PEM, leaf first), e.g. edgecert's NAME.chain.pem") \
	X(key, CFG_STR, "FILE", NULL, 0, 0, NULL, CFG_REQUIRED, "private key (PEM)") \
	X(client_ca, CFG_STR, "FILE", NULL, 0, 0, NULL, 0, \
	  "require a client certificate signed by this CA (mutual TLS); requests " \
	  "without one get 403 before any handler runs") \
	X(tls_priority, CFG_STR, "STRING", ORG_DEFAULT_PRIORITY, 0, 0, NULL, 0, \
	  "GnuTLS priority string") \
	X(ticket_key_rotation, CFG_DURATION, "DURATION", "12h", 1000, 604800000, NULL, 0, \
	  "a new session-ticket key this often; tickets under the previous key still " \
	  "resume, older ones get a full handshake (the old key is wiped)") \
	X(docroot, CFG_STR, "DIR", NULL, 0, 0, NULL, 0, \
	  "serve static files from DIR (off when unset)") \
	X(index, CFG_STR, "FILE", "index.html", 0, 0, NULL, 0, \
	  "file served for a directory (empty: none)") \
	X(cache_control, CFG_LIST, "PREFIX=VALUE", NULL, 0, 0, NULL, CFG_NOSPLIT, \
	  "Cache-Control for static files under a URL prefix, e.g. " \
	  "'/static/=public, max-age=86400'; the longest prefix wins") \
	X(static_deny, CFG_LIST, "SUFFIXES", ORG_DEFAULT_STATIC_DENY, 0, 0, NULL, 0, \
	  "a file whose name ends with one of these (any case) is never served as " \
	  "a static file (403): script source must not leak (files under cgi_bin " \
	  "or where a fastcgi prefix maps are never served either; empty: none)") \
	X(cgi_bin, CFG_STR, "DIR", NULL, 0, 0, NULL, 0, \
	  "run CGI/1.1 scripts from DIR under /cgi-bin/ (off when unset)") \
	X(cgi_timeout, CFG_DURATION, "DURATION", "30s", 100, 86400000, NULL, 0, \
	  "a CGI script or FastCGI request running longer is stopped: 504") \
	X(fastcgi, CFG_LIST, "PREFIX=ADDR", NULL, 0, 0, NULL, CFG_NOSPLIT, \
	  "send requests under PREFIX to a FastCGI responder: " \
	  "'/php/=unix:/run/php/php-fpm.sock' or '/app=127.0.0.1:9000'") \
	X(trace, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "log the decrypt, process and encrypt steps of every request") \
	X(introspection, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "serve GET /_origind/session (this connection's TLS facts) and " \
	  "/_origind/stats (requests per path) as JSON, to anyone who can reach " \
	  "origind, edges' viewers included (off: ordinary paths)") \
	X(max_header_size, CFG_SIZE, "SIZE", "16k", 1024, 1048576, NULL, 0, \
	  "request line + header fields larger than this: 431 (or 414)") \
	X(max_url_length, CFG_INT, "N", "8192", 64, 1048576, NULL, 0, \
	  "request-target longer than this: 414") \
	X(max_body_size, CFG_SIZE, "SIZE", "10MiB", 0, 0, NULL, 0, \
	  "request body larger than this: 413 (before 100-continue)") \
	X(max_connections, CFG_INT, "N", "256", 1, 65536, NULL, 0, \
	  "connections served at once (one thread each)") \
	X(max_connections_per_ip, CFG_INT, "N", "64", 0, 65536, NULL, 0, \
	  "connections from one client address (0: no limit)") \
	X(connection_timeout, CFG_DURATION, "DURATION", "30s", 1000, 3600000, NULL, 0, \
	  "close a connection idle for this long") \
	X(server_name, CFG_STR, "NAME", NULL, 0, 0, NULL, 0, \
	  "SERVER_NAME for scripts when the request has no Host [default: the " \
	  "machine's host name]") \
	X(log_level, CFG_ENUM, "LEVEL", "info", 0, 0, "error|warn|info|debug", 0, \
	  "log verbosity")

#endif
