/*
 * rnd.c: gnutls_rnd() served by the kernel's CSPRNG.
 *
 * GnuTLS 3.7 and 3.8 give every thread that draws a random number its own
 * generator state and keep it on a global list that only
 * gnutls_global_deinit() frees (lib/random.c there): a thread that ends
 * leaves about 230 bytes behind.  edged and origind run each connection on
 * a thread of its own (libmicrohttpd's thread-per-connection mode), so
 * every TLS handshake leaked that much, for ever: 2.4 MB per 10,000
 * connections, in edged and origind alike (tests/integration/t0481).
 *
 * This definition takes the place of GnuTLS's for the whole process: an
 * executable's symbol comes before a shared library's, and libgnutls
 * calls gnutls_rnd through its PLT (35 call sites in 3.7.9, the handshake
 * randoms, key shares and nonces among them), so GnuTLS's per-thread
 * state is never created.  Every level (nonce, random, key) comes from
 * getrandom(2), which keeps no state in the process, is safe across
 * threads and fork(), and is what GnuTLS seeds its own generator from.
 * One system call per draw costs well under a microsecond; a handshake
 * draws a handful.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>
#include <sys/random.h>

#include "rnd.h"

int
gnutls_rnd(gnutls_rnd_level_t level, void *data, size_t len)
{
	unsigned char *p = data;

	(void)level;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return GNUTLS_E_RANDOM_FAILED;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
rnd_ready(struct err *e)
{
	unsigned char b[16];

	/* blocks until the kernel's generator is seeded (early boot only) */
	if (gnutls_rnd(GNUTLS_RND_KEY, b, sizeof b) < 0)
		return err_set(e, ERR_FAIL, "getrandom(): %s", strerror(errno));
	return 0;
}
