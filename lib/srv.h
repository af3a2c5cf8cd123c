/*
 * srv.h: what edged's and origind's libmicrohttpd front ends share: the
 * listening address, client addresses as text, reason phrases, and the
 * two callbacks both install (log routing, raw request-targets).
 */
#ifndef EDGED_SRV_H
#define EDGED_SRV_H

#include <microhttpd.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#include "err.h"

/* The sockaddr to listen on for setting key = value ("host:port", ":port"
 * for every address, "[v6]:port"), adding MHD_USE_DUAL_STACK or
 * MHD_USE_IPv6 to *flags as needed.  Errors name the key. */
int srv_listen_addr(const char *key, const char *value, struct sockaddr_storage *ss,
                    unsigned *flags, int *port, struct err *e);

/* Numeric text of an address (IPv4-mapped IPv6 shown as IPv4); the port
 * into *port when not NULL.  "" when sa is NULL or unprintable. */
void srv_addr_text(const struct sockaddr *sa, char *buf, size_t len, unsigned *port);

/* The reason phrase of a status edged or origind answers with itself. */
const char *srv_reason(unsigned status);

/* MHD_OPTION_EXTERNAL_LOGGER: libmicrohttpd's messages as debug events. */
void srv_mhd_log(void *cls, const char *fmt, va_list ap);

/* MHD_OPTION_UNESCAPE_CALLBACK that keeps the request-target raw (it is
 * validated and decoded by lib/hreq.c, or forwarded as sent). */
size_t srv_no_unescape(void *cls, struct MHD_Connection *c, char *s);

#endif
