/*
 * adminreq.h: the checks the admin listener (edged/edg_admin.c) makes of a
 * request before it acts on it, so that a web page in a browser on the
 * same host cannot use the API: the Host field must name the listener
 * (a page that rebinds its own DNS name to 127.0.0.1 sends that name),
 * and a POST body must be declared JSON (no HTML form and no cross-origin
 * fetch without a CORS preflight can declare it).  Pure functions.
 */
#ifndef EDGED_ADMINREQ_H
#define EDGED_ADMINREQ_H

#include <stdbool.h>
#include <stddef.h>

/* Is s[0..n) a host name: letters, digits and '-' in labels of 1 to 63
 * bytes joined by '.', 253 bytes at most, a trailing '.' allowed? */
bool adminreq_dns_name(const char *s, size_t n);

/* Does a Host field value (RFC 9110 7.2: uri-host [":" port]) name the
 * admin listener: an IPv4 literal, an [IPv6] literal (no zone), localhost
 * or a name under .localhost (RFC 6761: never resolved off the host), or
 * one of names[0..n) (any case, a trailing '.' ignored)?  Any port, 1 to
 * 5 digits up to 65535, or none. */
bool adminreq_host_ok(const char *host, const char *const *names, size_t n);

/* Is a Content-Type field value's media type application/json (any case,
 * parameters such as charset allowed)?  NULL: no. */
bool adminreq_json_type(const char *content_type);

#endif
