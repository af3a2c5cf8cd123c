/*
 * fuzz_cflog.c: libFuzzer target for lib/cflog.c.  The input is split at
 * NUL bytes into the string values of a log record (target, User-Agent,
 * Referer, Cookie, X-Forwarded-For, Host, method, Content-Type, node,
 * address, cipher); the first 8 bytes, when there are that many, also
 * seed the numbers.  The line must be exactly one line ("\n" last and
 * nowhere else, no CR) of 33 non-empty tab-separated fields, and
 * percent-decoding the User-Agent field must give the value back.  The
 * escaper is also run with every small buffer size: it must never write
 * past the size, and what it writes must be a prefix of the whole value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cflog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSTR 11

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode f[0..n) into out (n bytes at least); its length, or -1
 * when an escape is malformed. */
static long
decode(const char *f, size_t n, char *out)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		if (f[i] != '%') {
			out[w++] = f[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		if (unhex(f[i + 1]) < 0 || unhex(f[i + 2]) < 0)
			return -1;
		out[w++] = (char)(unhex(f[i + 1]) * 16 + unhex(f[i + 2]));
		i += 2;
	}
	return (long)w;
}

static void
check_escape(const char *s, size_t n)
{
	char full[4096], cut[64];
	size_t need, cap, got, w, i;

	if (n > 1000)
		n = 1000; /* 3 * 1000 fits full */
	need = cflog_escape(full, sizeof full, s, n, CFLOG_ESC_TEXT);
	if (need > sizeof full)
		abort();
	for (cap = 0; cap < sizeof cut - 8; cap++) {
		memset(cut, 0x5a, sizeof cut);
		got = cflog_escape(cut, cap, s, n, CFLOG_ESC_TEXT);
		if (got != need)
			abort();
		/* expected: the longest run of whole units (a byte or a %XX;
		 * every '%' starts an escape in text values) that fits */
		w = 0;
		while (w < need) {
			size_t u = full[w] == '%' ? 3 : 1;

			if (w + u > cap)
				break;
			w += u;
		}
		if (memcmp(cut, full, w) != 0)
			abort();
		for (i = w; i < sizeof cut; i++)
			if (cut[i] != 0x5a)
				abort(); /* written past the cut or past cap */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *s[NSTR], *line, *p, *f[CFLOG_NFIELDS];
	struct cflog_outcome o;
	struct cflog_rec r;
	uint64_t seed = 0;
	size_t i, k, len, nf;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (size >= 8)
		memcpy(&seed, data, 8);
	/* NUL-separated strings; missing ones are empty */
	p = copy;
	for (k = 0; k < NSTR; k++) {
		s[k] = p;
		p += strlen(p);
		if (p < copy + size)
			p++; /* past this string's NUL; at the end, stay on copy[size] */
	}

	memset(&r, 0, sizeof r);
	r.end = (time_t)(seed % 4102444800ULL); /* up to 2100 */
	r.target = s[0];
	r.user_agent = s[1];
	r.referer = s[2];
	r.cookie = s[3];
	r.forwarded_for = s[4];
	r.host = r.host_header = s[5];
	r.method = s[6];
	r.content_type = s[7];
	r.edge_location = s[8];
	r.c_ip = s[9];
	r.ssl_cipher = s[10];
	r.sc_bytes = seed;
	r.cs_bytes = seed >> 3;
	r.status = (unsigned)(seed % 1200);
	r.time_taken_ms = (int64_t)(seed >> 8) - 1000;
	r.ttfb_ms = (int64_t)(seed >> 12) % 100000 - 1;
	r.c_port = (unsigned)(seed % 65536);
	r.content_len = (long long)(seed % 1000) - 1;
	r.range_start = (long long)(seed % 7) - 1;
	r.range_end = (long long)(seed % 11) - 1;
	r.protocol = (seed & 1) ? "https" : "http";
	r.ssl_protocol = (seed & 1) ? "TLSv1.3" : "";
	r.protocol_version = "HTTP/1.1";
	r.request_id = "fuzz";

	memset(&o, 0, sizeof o);
	o.xcache = s[1];
	o.local = (enum cflog_local)(seed % 5);
	o.status = r.status;
	o.origin_error = (seed & 2) ? "OriginCommError" : NULL;
	o.aborted = (seed & 4) != 0;
	cflog_classify(&o, &r.result_type, &r.response_result_type, &r.detailed_result_type);
	if (r.result_type == NULL || r.response_result_type == NULL ||
	    r.detailed_result_type == NULL)
		abort();

	line = cflog_line(&r, &len);
	if (line == NULL) {
		free(copy);
		return 0;
	}
	/* one line, no CR, no NUL inside */
	if (len == 0 || line[len - 1] != '\n' || strlen(line) != len ||
	    memchr(line, '\n', len - 1) != NULL || memchr(line, '\r', len) != NULL)
		abort();
	/* 33 fields, none empty (empty values are "-"), so no stray tab */
	nf = 0;
	p = line;
	for (;;) {
		char *t = memchr(p, '\t', (size_t)(line + len - 1 - p));

		if (nf == CFLOG_NFIELDS)
			abort();
		f[nf++] = p;
		if (t == NULL) {
			if (p == line + len - 1)
				abort(); /* empty last field */
			break;
		}
		if (t == p)
			abort(); /* empty field */
		p = t + 1;
	}
	if (nf != CFLOG_NFIELDS)
		abort();
	/* the User-Agent field (11th) decodes to the value */
	{
		size_t flen = (size_t)(f[11] - f[10]) - 1;
		char *dec = malloc(flen + 1);
		long dl;

		if (dec == NULL)
			abort();
		dl = decode(f[10], flen, dec);
		if (s[1][0] == '\0') {
			if (flen != 1 || f[10][0] != '-')
				abort();
		} else if (dl < 0 || (size_t)dl != strlen(s[1]) || memcmp(dec, s[1], (size_t)dl) != 0) {
			abort();
		}
		free(dec);
	}
	for (i = 0; i < NSTR; i++)
		check_escape(s[i], strlen(s[i]));
	free(line);
	free(copy);
	return 0;
}
