/*
 * srv.c: see srv.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"
#include "srv.h"

int
srv_listen_addr(const char *key, const char *value, struct sockaddr_storage *ss,
                unsigned *flags, int *port_out, struct err *e)
{
	char host[256];
	int port;

	if (cfg_parse_addr(value, host, sizeof host, &port, e) < 0)
		return err_prefix(e, "key '%s': ", key);
	memset(ss, 0, sizeof *ss);
	*port_out = port;
	if (host[0] == '\0') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((uint16_t)port);
		*flags |= MHD_USE_DUAL_STACK;
	} else if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return err_set(e, ERR_USAGE, "key '%s': '%s' is not an IP address", key, host);
		*flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return err_set(e, ERR_USAGE, "key '%s': '%s' is not an IP address", key, host);
	}
	return 0;
}

void
srv_addr_text(const struct sockaddr *sa, char *buf, size_t len, unsigned *port)
{
	char serv[16] = "0";

	buf[0] = '\0';
	if (port != NULL)
		*port = 0;
	if (sa == NULL)
		return;
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                                sizeof(struct sockaddr_in),
	                buf, (socklen_t)len, serv, sizeof serv,
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		buf[0] = '\0';
	if (port != NULL)
		*port = (unsigned)atoi(serv);
	if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, ':') == NULL)
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

const char *
srv_reason(unsigned status)
{
	switch (status) {
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 508: return "Loop Detected";
	default: return "Error";
	}
}

void
srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	LOG_DEBUG("mhd", "msg=%s", log_q(buf));
}

size_t
srv_no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}
