/*
 * edg_keys.h: every edged setting, once (see lib/cfg.h).  The same table
 * gives edged.conf keys, --flags, defaults and --help.
 */
#ifndef EDGED_EDG_KEYS_H
#define EDGED_EDG_KEYS_H

#define EDG_KEYS(X) \
	X(listen_https, CFG_ADDR, "ADDR", "0.0.0.0:8443", 0, 0, NULL, 0, \
	  "address:port of the HTTPS listener for viewers") \
	X(listen_http, CFG_ADDR, "ADDR", NULL, 0, 0, NULL, 0, \
	  "address:port of an optional plain-HTTP listener (see viewer_protocol_policy)") \
	X(viewer_protocol_policy, CFG_ENUM, "POLICY", "redirect-to-https", 0, 0, \
	  "redirect-to-https|https-only|allow-all", 0, \
	  "what plain-HTTP viewers get: a 301 to the https URL, a 403, or the content") \
	X(cert, CFG_LIST, "FILE", NULL, 0, 0, NULL, CFG_REQUIRED | CFG_NOSPLIT, \
	  "certificate chain (PEM, leaf first); repeat with key for more names, chosen " \
	  "by SNI; the first pair answers unknown or missing SNI") \
	X(key, CFG_LIST, "FILE", NULL, 0, 0, NULL, CFG_REQUIRED | CFG_NOSPLIT, \
	  "private key (PEM) of the cert in the same position") \
	X(security_policy, CFG_ENUM, "POLICY", "TLSv1.2_2021", 0, 0, \
	  "TLSv1_2016|TLSv1.1_2016|TLSv1.2_2018|TLSv1.2_2019|TLSv1.2_2021|" \
	  "TLSv1.2_2025|TLSv1.3_2025", 0, \
	  "viewer TLS protocols and ciphers, by CloudFront's policy names (README)") \
	X(tls_priority, CFG_STR, "STRING", NULL, 0, 0, NULL, 0, \
	  "raw GnuTLS priority string for viewers; overrides security_policy") \
	X(origin, CFG_STR, "URL", NULL, 0, 0, NULL, CFG_REQUIRED, \
	  "the origin: https://host[:port][/path-prefix] or http://...") \
	X(origin_protocol_policy, CFG_ENUM, "POLICY", NULL, 0, 0, \
	  "https-only|http-only|match-viewer", 0, \
	  "how edged talks to the origin [default: the origin URL's scheme]; " \
	  "https-only never falls back to plain HTTP") \
	X(origin_http_port, CFG_INT, "PORT", "0", 0, 65535, NULL, 0, \
	  "origin port for HTTP under match-viewer [0: the URL's, else 80]") \
	X(origin_https_port, CFG_INT, "PORT", "0", 0, 65535, NULL, 0, \
	  "origin port for HTTPS under match-viewer [0: the URL's, else 443]") \
	X(origin_ca, CFG_STR, "FILE", NULL, 0, 0, NULL, 0, \
	  "CA bundle that origin certificates must chain to [default: the system " \
	  "trust store]") \
	X(origin_sni, CFG_STR, "NAME", NULL, 0, 0, NULL, 0, \
	  "name sent as SNI and checked against the origin certificate " \
	  "[default: the origin URL's host]") \
	X(origin_min_tls, CFG_ENUM, "VERSION", "TLSv1.2", 0, 0, "TLSv1.2|TLSv1.3", 0, \
	  "lowest TLS version accepted from the origin") \
	X(origin_client_cert, CFG_STR, "FILE", NULL, 0, 0, NULL, 0, \
	  "client certificate chain for mutual TLS to the origin") \
	X(origin_client_key, CFG_STR, "FILE", NULL, 0, 0, NULL, 0, \
	  "private key of origin_client_cert") \
	X(origin_failover, CFG_STR, "URL", NULL, 0, 0, NULL, 0, \
	  "second origin, used on connection errors and on 500/502/503/504 to " \
	  "GET/HEAD (same TLS settings)") \
	X(origin_connect_timeout, CFG_DURATION, "DURATION", "10s", 100, 600000, NULL, 0, \
	  "TCP connect + TLS handshake of one attempt") \
	X(origin_connection_attempts, CFG_INT, "N", "3", 1, 10, NULL, 0, \
	  "connection attempts before the viewer gets 502 (504 after timeouts)") \
	X(origin_response_timeout, CFG_DURATION, "DURATION", "30s", 100, 3600000, NULL, 0, \
	  "longest wait for the origin's first byte, and between two reads: 504") \
	X(origin_keepalive_timeout, CFG_DURATION, "DURATION", "5s", 0, 3600000, NULL, 0, \
	  "idle origin connections are reused for this long (0: no pooling)") \
	X(origin_max_idle, CFG_INT, "N", "64", 0, 65536, NULL, 0, \
	  "idle connections kept per origin") \
	X(forward_host, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "send the viewer's Host to the origin instead of the origin's host name") \
	X(node_name, CFG_STR, "NAME", NULL, 0, 0, NULL, 0, \
	  "this node's name in Via [default: the machine's host name]") \
	X(max_header_size, CFG_SIZE, "SIZE", "16k", 1024, 1048576, NULL, 0, \
	  "request line + header fields larger than this: 431") \
	X(max_url_length, CFG_INT, "N", "8192", 64, 1048576, NULL, 0, \
	  "request-target longer than this: 414") \
	X(max_body_size, CFG_SIZE, "SIZE", "64MiB", 0, 0, NULL, 0, \
	  "request body larger than this: 413 (before 100-continue); bodies are " \
	  "streamed to the origin, never held whole") \
	X(max_connections, CFG_INT, "N", "1024", 1, 65536, NULL, 0, \
	  "viewer connections served at once (one thread each)") \
	X(max_connections_per_ip, CFG_INT, "N", "256", 0, 65536, NULL, 0, \
	  "viewer connections from one address (0: no limit)") \
	X(connection_timeout, CFG_DURATION, "DURATION", "30s", 1000, 3600000, NULL, 0, \
	  "close a viewer connection idle for this long") \
	X(header_timeout, CFG_DURATION, "DURATION", "10s", 100, 3600000, NULL, 0, \
	  "a viewer must complete the TLS handshake and each request head within " \
	  "this long, however it trickles bytes (slowloris)") \
	X(log_level, CFG_ENUM, "LEVEL", "info", 0, 0, "error|warn|info|debug", 0, \
	  "log verbosity")

#endif
