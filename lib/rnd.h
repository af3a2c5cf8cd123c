/*
 * rnd.h: GnuTLS's random numbers from the kernel (see rnd.c).
 */
#ifndef EDGED_RND_H
#define EDGED_RND_H

#include "err.h"

/* 0 when getrandom(2) works (the kernel's generator is seeded), else -1
 * with e filled.  tls_init() calls it, which also links rnd.c (and so its
 * gnutls_rnd) into every program that uses TLS. */
int rnd_ready(struct err *e);

#endif
