/*
 * tickets.h: session-ticket keys that rotate, for the TLS servers (edged's
 * viewer side, origind).
 *
 * One master key (GnuTLS's 64-byte STEK) encrypts the tickets this
 * process issues.  Every `rotation` a new one is made at random and the
 * one it replaces becomes the previous key: tickets made under it still
 * resume; the key before it is wiped from memory, so no ticket older than
 * two rotations can be decrypted again, even with a copy of the process's
 * memory.  See tickets.c for why GnuTLS's own time-step derivation does
 * not give this, and how the previous key is found for a ticket.
 *
 * Process-wide state (one key schedule per process), safe from any thread
 * once tickets_start() has returned.
 */
#ifndef EDGED_TICKETS_H
#define EDGED_TICKETS_H

#include <gnutls/gnutls.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Ticket lifetime, seconds: GnuTLS's default (gnutls_db_set_cache_expiration),
 * set on every session so the key names computed here match GnuTLS's. */
#define TICKETS_LIFETIME_S 21600

/* Make the first key and start the thread that rotates it every
 * rotation_ms (> 0).  Logs ticket_key.rotated at each rotation. */
int tickets_start(int64_t rotation_ms, struct err *e);

/* Stop the thread and wipe every key.  Safe when never started. */
void tickets_stop(void);

/* Enable tickets on a new server session (before its handshake): the
 * current key issues, and a ClientHello carrying a ticket made under the
 * previous key gets that key for this handshake.  0 or a GnuTLS error. */
int tickets_enable(gnutls_session_t s);

/* Rotate now (the thread's work; tests call it to rotate on demand). */
void tickets_rotate(void);

/* Rotations so far (1 after tickets_start). */
unsigned long long tickets_generation(void);

/* Call cb for each ticket a ClientHello body (no record or handshake
 * header, as a GnuTLS handshake hook gets it) offers: the TLS 1.2
 * SessionTicket extension's data and each TLS 1.3 pre_shared_key
 * identity, when at least 16 bytes (a GnuTLS ticket starts with its
 * 16-byte key name).  cb returns nonzero to stop.  Returns the number of
 * tickets passed to cb, or -1 for a malformed message (GnuTLS then
 * refuses the handshake by itself). */
int tickets_in_client_hello(const unsigned char *msg, size_t len,
                            int (*cb)(void *ctx, const unsigned char *ticket, size_t len),
                            void *ctx);

#endif
