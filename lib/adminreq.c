/*
 * adminreq.c: see adminreq.h.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adminreq.h"

bool
adminreq_dns_name(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		           (ch >= '0' && ch <= '9') || ch == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* Is name[0..n) (a DNS name) localhost, under .localhost, or listed? */
static bool
our_name(const char *name, size_t n, const char *const *names, size_t nn)
{
	size_t i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if ((n == 9 || (n > 10 && name[n - 10] == '.')) &&
	    strncasecmp(name + n - 9, "localhost", 9) == 0)
		return true;
	for (i = 0; i < nn; i++) {
		size_t hn = strlen(names[i]);

		if (hn > 0 && names[i][hn - 1] == '.')
			hn--;
		if (hn == n && strncasecmp(names[i], name, n) == 0)
			return true;
	}
	return false;
}

bool
adminreq_host_ok(const char *host, const char *const *names, size_t nn)
{
	const char *colon;
	char lit[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	size_t n;

	if (host[0] == '[') {
		const char *rb = strchr(host, ']');

		if (rb == NULL)
			return false;
		colon = rb + 1;
		if (*colon != '\0' && *colon != ':')
			return false;
		n = (size_t)(rb - host - 1);
		if (n == 0 || n >= sizeof lit)
			return false;
		memcpy(lit, host + 1, n);
		lit[n] = '\0';
		if (inet_pton(AF_INET6, lit, bin) != 1)
			return false;
	} else {
		colon = strchr(host, ':');
		if (colon == NULL)
			colon = host + strlen(host);
		else if (strchr(colon + 1, ':') != NULL)
			return false; /* a bare IPv6 address, or junk */
		n = (size_t)(colon - host);
		if (n < sizeof lit) {
			memcpy(lit, host, n);
			lit[n] = '\0';
		}
		if (!(n < sizeof lit && inet_pton(AF_INET, lit, bin) == 1) &&
		    !(adminreq_dns_name(host, n) && our_name(host, n, names, nn)))
			return false;
	}
	if (*colon == ':') {
		const char *p = colon + 1;
		size_t digits = strspn(p, "0123456789");

		if (digits == 0 || digits > 5 || p[digits] != '\0' || atoi(p) > 65535)
			return false;
	}
	return true;
}

bool
adminreq_json_type(const char *ct)
{
	if (ct == NULL)
		return false;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, "application/json", 16) != 0)
		return false;
	ct += 16;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}
