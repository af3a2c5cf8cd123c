/*
 * fuzz_values.c: libFuzzer target for the small parsers of user input: the
 * config value parsers (int, bool, duration, size, address) and edgecert's
 * (DNS name, IP, NAME, time).  The first byte picks the parser; the rest,
 * NUL-terminated, is the input.  Each must accept or refuse, never crash.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, host[256], out[256];
	long long v;
	bool b;
	int port;
	unsigned char ip[16];
	size_t len;
	time_t t;
	struct err e;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 9) {
	case 0: (void)cfg_parse_int(s, &v, &e); break;
	case 1: (void)cfg_parse_bool(s, &b, &e); break;
	case 2: (void)cfg_parse_duration(s, &v, &e); break;
	case 3: (void)cfg_parse_size(s, &v, &e); break;
	case 4: (void)cfg_parse_addr(s, host, sizeof host, &port, &e); break;
	case 5: (void)pki_check_dns(s, out, &e); break;
	case 6: (void)pki_parse_ip(s, ip, &len, &e); break;
	case 7: (void)pki_check_name(s, &e); break;
	case 8: (void)pki_parse_time(s, &t, &e); break;
	}
	free(s);
	return 0;
}
