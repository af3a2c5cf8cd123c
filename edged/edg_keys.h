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
	X(ocsp_file, CFG_LIST, "FILE", NULL, 0, 0, NULL, CFG_NOSPLIT, \
	  "OCSP response (DER) stapled for the cert in the same position (\"-\": none " \
	  "for that one); checked at start and on SIGHUP, reloaded with the certs") \
	X(security_policy, CFG_ENUM, "POLICY", "TLSv1.2_2021", 0, 0, \
	  "TLSv1_2016|TLSv1.1_2016|TLSv1.2_2018|TLSv1.2_2019|TLSv1.2_2021|" \
	  "TLSv1.2_2025|TLSv1.3_2025", 0, \
	  "viewer TLS protocols and ciphers, by CloudFront's policy names (README)") \
	X(tls_priority, CFG_STR, "STRING", NULL, 0, 0, NULL, 0, \
	  "raw GnuTLS priority string for viewers; overrides security_policy") \
	X(ticket_key_rotation, CFG_DURATION, "DURATION", "12h", 1000, 604800000, NULL, 0, \
	  "a new session-ticket key this often; tickets under the previous key still " \
	  "resume, older ones get a full handshake (the old key is wiped)") \
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
	X(origin_max_connections, CFG_INT, "N", "256", 0, 65536, NULL, 0, \
	  "connections open to one origin, busy and idle (0: no limit); a request " \
	  "finding all in use waits up to origin_connect_timeout, then gets 503") \
	X(forward_host, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "send the viewer's Host to the origin instead of the origin's host name") \
	X(node_name, CFG_STR, "NAME", NULL, 0, 0, NULL, 0, \
	  "this node's name in Via [default: the machine's host name]") \
	X(max_header_size, CFG_SIZE, "SIZE", "16k", 1024, 1048576, NULL, 0, \
	  "request line + header fields larger than this: 431") \
	X(max_url_length, CFG_INT, "N", "8192", 64, 1048576, NULL, 0, \
	  "request-target longer than this: 414") \
	X(max_body_size, CFG_SIZE, "SIZE", "64MiB", 0, 0, NULL, 0, \
	  "request body larger than this: 413 (before 100-continue); bodies over " \
	  "body_buffer_size are streamed to the origin, never held whole") \
	X(max_connections, CFG_INT, "N", "1024", 1, 65536, NULL, 0, \
	  "viewer connections served at once (one thread each)") \
	X(max_connections_per_ip, CFG_INT, "N", "256", 0, 65536, NULL, 0, \
	  "viewer connections from one address (0: no limit)") \
	X(connection_timeout, CFG_DURATION, "DURATION", "30s", 1000, 3600000, NULL, 0, \
	  "close a viewer connection idle for this long") \
	X(header_timeout, CFG_DURATION, "DURATION", "10s", 100, 3600000, NULL, 0, \
	  "a viewer must complete the TLS handshake and each request head within " \
	  "this long, however it trickles bytes (slowloris)") \
	X(body_timeout, CFG_DURATION, "DURATION", "10s", 100, 3600000, NULL, 0, \
	  "longest wait for the next byte of a request body (and for the first); " \
	  "then the connection is closed and the origin exchange abandoned") \
	X(body_min_rate, CFG_SIZE, "BYTES", "1k", 0, 1073741824, NULL, 0, \
	  "bytes per second a request body must average once body_timeout has " \
	  "passed (time edged spends on the origin does not count; 0: no minimum)") \
	X(body_buffer_size, CFG_SIZE, "SIZE", "64k", 0, 16777216, NULL, 0, \
	  "request bodies up to this size are read whole before the origin is " \
	  "contacted, so a slow upload holds no origin connection (0: stream all)") \
	X(send_timeout, CFG_DURATION, "DURATION", "30s", 100, 3600000, NULL, 0, \
	  "longest time a viewer may take no response byte while edged has some " \
	  "waiting for it (slow read); then the connection is closed") \
	X(send_min_rate, CFG_SIZE, "BYTES", "1k", 0, 1073741824, NULL, 0, \
	  "bytes per second a viewer must take on average while it is the one " \
	  "holding a response up, once send_timeout has passed (0: no minimum)") \
	X(cache, CFG_BOOL, NULL, "true", 0, 0, NULL, 0, \
	  "cache GET/HEAD responses (RFC 9111 shared cache); false: every request " \
	  "goes to the origin") \
	X(redis, CFG_STR, "URL", NULL, 0, 0, NULL, 0, \
	  "shared cache: redis://[[user]:password@]host[:port][/db] or " \
	  "unix:///path[?db=N]; unset: the memory tier alone") \
	X(redis_timeout, CFG_DURATION, "DURATION", "50ms", 1, 60000, NULL, 0, \
	  "longest wait for Redis on a request; slower or down: fail open to the origin") \
	X(redis_pool_size, CFG_INT, "N", "8", 1, 1024, NULL, 0, \
	  "connections to Redis") \
	X(cache_secret_file, CFG_STR, "FILE", NULL, 0, 0, NULL, 0, \
	  "file holding a secret the nodes share (32 to 1024 bytes; a final newline is " \
	  "not part of it): entries in Redis carry an HMAC-SHA256 of it and their key, " \
	  "and one without a valid MAC is a miss; unset: Redis is trusted (README)") \
	X(memory_cache_size, CFG_SIZE, "SIZE", "64MiB", 0, 0, NULL, 0, \
	  "in-process memory tier in front of Redis (0: off)") \
	X(memory_cache_recheck, CFG_DURATION, "DURATION", "1s", 0, 3600000, NULL, 0, \
	  "a memory-tier entry older than this is checked against Redis (a 4-byte " \
	  "GETRANGE) before use, so invalidations reach every node") \
	X(max_object_size, CFG_SIZE, "SIZE", "32MiB", 0, 1073741824, NULL, 0, \
	  "larger responses stream through uncached") \
	X(store_memory_limit, CFG_SIZE, "SIZE", "256MiB", 0, 0, NULL, 0, \
	  "bytes all responses being stored may hold at once (each up to " \
	  "max_object_size); past it a response streams through uncached") \
	X(ttl_default, CFG_DURATION, "DURATION", "0s", 0, 0, NULL, 0, \
	  "freshness when the origin gives none (where RFC 9111 allows a heuristic); " \
	  "0: strict RFC (10% of the Last-Modified age, else not reused unvalidated)") \
	X(ttl_min, CFG_DURATION, "DURATION", "0s", 0, 0, NULL, 0, \
	  "every freshness lifetime is at least this") \
	X(ttl_max, CFG_DURATION, "DURATION", "365d", 0, 0, NULL, 0, \
	  "every freshness lifetime is at most this") \
	X(error_caching_ttl, CFG_DURATION, "DURATION", "10s", 0, 0, NULL, 0, \
	  "freshness of 4xx/5xx responses without explicit freshness (0: off)") \
	X(error_caching_any_status, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "apply error_caching_ttl to every 4xx/5xx, not only those RFC 9110 lets " \
	  "a cache keep by default (404, 405, 410, 414, 501)") \
	X(stale_if_error, CFG_DURATION, "DURATION", "0s", 0, 0, NULL, 0, \
	  "serve a stale entry this long past its freshness when the origin fails " \
	  "and the origin set no stale-if-error (0: only what the origin allows)") \
	X(cache_set_cookie, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "store responses that carry Set-Cookie") \
	X(cache_key_query, CFG_LIST, "NAMES", "all", 0, 0, NULL, 0, \
	  "query in the cache key: all, none, or the parameter names to keep") \
	X(origin_request_query, CFG_ENUM, "WHICH", "keyed", 0, 0, "keyed|all", 0, \
	  "query parameters sent to the origin on cacheable requests: keyed (only " \
	  "those cache_key_query keeps, as CloudFront) or all (unkeyed ones too: " \
	  "an origin reflecting one poisons the entry)") \
	X(cache_key_headers, CFG_LIST, "NAMES", NULL, 0, 0, NULL, 0, \
	  "request header fields whose values are part of the cache key") \
	X(cache_key_cookies, CFG_LIST, "NAMES", NULL, 0, 0, NULL, 0, \
	  "cookies whose values are part of the cache key") \
	X(admin_listen, CFG_STR, "ADDR", "127.0.0.1:9901", 0, 0, NULL, 0, \
	  "address:port of the admin listener (plain HTTP: /healthz, /metrics, " \
	  "/invalidations); \"off\" for none") \
	X(admin_token, CFG_STR, "TOKEN", NULL, 0, 0, NULL, 0, \
	  "bearer token the admin listener requires (all but /healthz); required " \
	  "when admin_listen is not a loopback address") \
	X(admin_hosts, CFG_LIST, "NAMES", NULL, 0, 0, NULL, 0, \
	  "host names the admin listener accepts in Host besides localhost, " \
	  "*.localhost and IP literals (e.g. the name Prometheus scrapes); any " \
	  "other Host gets 421 (DNS rebinding)") \
	X(invalidation_poll, CFG_DURATION, "DURATION", "200ms", 10, 60000, NULL, 0, \
	  "how often each node reads new invalidations from Redis (they reach every " \
	  "node within about twice this)") \
	X(invalidation_retention, CFG_DURATION, "DURATION", "7d", 60000, 3153600000000LL, NULL, 0, \
	  "invalidations are kept this long; entries stored before the oldest one " \
	  "dropped are refetched once") \
	X(invalidation_max_paths_active, CFG_INT, "N", "10000", 1, 1000000, NULL, 0, \
	  "invalidation paths in force (kept for invalidation_retention) across the " \
	  "nodes sharing Redis; a POST that would go beyond gets 429, nothing applied") \
	X(access_log, CFG_STR, "FILE", NULL, 0, 0, NULL, 0, \
	  "access log in CloudFront's standard format (\"-\": standard output); " \
	  "reopened on SIGUSR1") \
	X(access_log_cookies, CFG_BOOL, NULL, "false", 0, 0, NULL, 0, \
	  "log the viewer's Cookie field in cs(Cookie) (off: \"-\", as CloudFront's " \
	  "default; cookies often carry session tokens)") \
	X(access_log_queue, CFG_INT, "N", "65536", 16, 16777216, NULL, 0, \
	  "access-log lines waiting for the writer thread; more are dropped and counted") \
	X(drain_timeout, CFG_DURATION, "DURATION", "30s", 0, 3600000, NULL, 0, \
	  "SIGTERM: stop accepting, let requests in flight finish for up to this long, " \
	  "then exit") \
	X(hsts, CFG_STR, "VALUE", NULL, 0, 0, NULL, 0, \
	  "Strict-Transport-Security sent on HTTPS answers, e.g. \"max-age=31536000; " \
	  "includeSubDomains\" (replaces the origin's)") \
	X(add_header, CFG_LIST, "\"NAME: VALUE\"", NULL, 0, 0, NULL, CFG_NOSPLIT, \
	  "a field set on every answer, replacing the origin's (repeat the key for more)") \
	X(remove_header, CFG_LIST, "NAMES", NULL, 0, 0, NULL, 0, \
	  "fields removed from every answer (e.g. Server, X-Powered-By)") \
	X(log_level, CFG_ENUM, "LEVEL", "info", 0, 0, "error|warn|info|debug", 0, \
	  "log verbosity")

#endif
