/*
 * edg_inval.h: invalidations shared by every node through Redis (see
 * edg_inval.c), checked against entry generations on use.
 */
#ifndef EDGED_EDG_INVAL_H
#define EDGED_EDG_INVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rstore;
struct edg_inval;

#define EDG_INVAL_ID_LEN 14   /* "I" + 13 of [A-Z0-9], as CloudFront's ids */

enum { EDG_INVAL_OK, EDG_INVAL_BAD, EDG_INVAL_UNAVAILABLE, EDG_INVAL_NOT_FOUND, EDG_INVAL_FULL };

/* Start the invalidation state: with rs, read what other nodes made and
 * poll every poll_ms; without, this node alone. */
int edg_inval_init(struct edg_inval **out, struct rstore *rs, const char *node, int64_t poll_ms,
                   int64_t retention_ms, struct err *e);
void edg_inval_free(struct edg_inval *iv);

/* The generation an entry fetched from now on records. */
uint32_t edg_inval_stamp(struct edg_inval *iv);
/* A number that grows whenever a ban is added or the floor rises: an
 * entry found clear at epoch E stays clear while the epoch is E. */
uint64_t edg_inval_epoch(struct edg_inval *iv);
/* Is an entry of generation gen, for a request-target, invalidated? */
bool edg_inval_banned(struct edg_inval *iv, const char *target, uint32_t gen);

/* POST /invalidations: paths checked (EDG_INVAL_BAD naming the path),
 * shared, applied here at once.  With more than max_active paths in force
 * across the nodes afterwards, nothing is made: EDG_INVAL_FULL naming the
 * limit.  id (EDG_INVAL_ID_LEN + 1 bytes): the new invalidation's id;
 * *json: its record with its status. */
int edg_inval_create(struct edg_inval *iv, const char *const *paths, size_t n,
                     size_t max_active, char *id, char **json, struct err *e);
/* GET /invalidations/<id> and GET /invalidations (recent first). */
int edg_inval_get(struct edg_inval *iv, const char *id, char **json);
int edg_inval_list(struct edg_inval *iv, char **json);
void edg_inval_counts(struct edg_inval *iv, unsigned long long *created, size_t *bans,
                      unsigned long long *poll_failures);

#endif
