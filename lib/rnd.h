/*
 * rnd.h: GnuTLS's random numbers from the kernel (see rnd.c).
 */
#ifndef EDGED_RND_H
#define EDGED_RND_H

#include "err.h"

/* 0 when getrandom(2) works (it waits for the kernel's generator to be
 * seeded), else -1 with e filled (a kernel without it).  tls_init() calls
 * it, which also links rnd.c (and so its gnutls_rnd) into every program
 * that uses TLS. */
int rnd_ready(struct err *e);

#endif
