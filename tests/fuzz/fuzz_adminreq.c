/*
 * fuzz_adminreq.c: libFuzzer target for lib/adminreq.c, the admin
 * listener's Host and Content-Type checks.  The first byte picks the
 * check; the rest, NUL-terminated, is the field value.  An accepted Host
 * holds no blank, control byte, '@', '/', '%' or second ':' outside an
 * [IPv6] literal, and ends in a port of at most 5 digits when it has one;
 * an accepted Content-Type starts (after blanks) with application/json.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adminreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "edge1.internal", "metrics.example." };
	char *s;
	size_t i, n;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	n = strlen(s);
	switch (data[0] % 3) {
	case 0:
		if (adminreq_host_ok(s, names, 2)) {
			const char *end = s[0] == '[' ? strchr(s, ']') : s;

			if (n == 0 || end == NULL)
				abort();
			for (i = 0; i < n; i++)
				if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
				    s[i] == '@' || s[i] == '/' || s[i] == '%')
					abort();
			end = strchr(end, ':');
			if (end != NULL && (strchr(end + 1, ':') != NULL || strlen(end + 1) > 5 ||
			                    strspn(end + 1, "0123456789") != strlen(end + 1)))
				abort();
		}
		break;
	case 1:
		if (adminreq_dns_name(s, n))
			for (i = 0; i < n; i++)
				if (s[i] != '.' && s[i] != '-' && !((s[i] >= 'a' && s[i] <= 'z') ||
				                                    (s[i] >= 'A' && s[i] <= 'Z') ||
				                                    (s[i] >= '0' && s[i] <= '9')))
					abort();
		break;
	case 2:
		if (adminreq_json_type(s) &&
		    strncasecmp(s + strspn(s, " \t"), "application/json", 16) != 0)
			abort();
		break;
	}
	free(s);
	return 0;
}
