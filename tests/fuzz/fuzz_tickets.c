/*
 * fuzz_tickets.c: libFuzzer target for lib/tickets.c's ClientHello
 * scanner (tickets_in_client_hello).  The input is a ClientHello body as a
 * GnuTLS handshake hook gets it.  Every ticket handed to the callback must
 * lie inside the input and be at least 16 bytes; the count returned must
 * be the callback's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tickets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	const uint8_t *base;
	size_t size;
	int n;
};

static int
cb(void *p, const unsigned char *t, size_t len)
{
	struct ctx *c = p;

	if (len < 16 || t < c->base || len > c->size || t - c->base > (ptrdiff_t)(c->size - len))
		abort();
	c->n++;
	return c->n == 8; /* stop after eight, to cover the early stop */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { data, size, 0 };
	int rc = tickets_in_client_hello(data, size, cb, &c);

	if (rc >= 0 && rc != c.n)
		abort();
	if (rc < -1)
		abort();
	return 0;
}
