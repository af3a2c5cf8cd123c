/*
 * centry.h: the versioned binary format of one cache entry, as stored in
 * Redis and held by the memory tier.
 *
 * An entry is one contiguous blob: a fixed head, the stored header fields,
 * the Vary names, then the body.  The body is the blob's last bytes, so a
 * decoded entry's body span can be handed to libmicrohttpd as the response
 * buffer without copying, and a response can be stored by appending the
 * body right after the encoded head (centry_encode_head, then centry_seal).
 * Every name and value is followed by a NUL, so the hit path passes them
 * to MHD_add_response_header as they are.
 *
 * Byte layout, version 1 (integers little-endian, times in seconds since
 * the epoch, durations in seconds):
 *
 *   off  size  field
 *     0     4  magic "EDGC"
 *     4     2  version: 1 (another version is reported, never parsed)
 *     6     2  kind: 1 response, 2 variant index
 *     8     4  CRC-32C (Castagnoli) of every byte of the blob except these 4
 *    12     4  flags: CENTRY_F_* (others must be 0)
 *    16     8  total length of the blob, these 144 bytes included
 *    24     2  status: 200-599 for a response, 0 for a variant index
 *    26     2  0
 *    28     4  nfields: header fields, at most CENTRY_MAX_FIELDS
 *    32     4  nvary: Vary names, at most CENTRY_MAX_VARY
 *    36     4  gen: the invalidation generation the entry was fetched under
 *              (lib/banlist.h; 0 before any invalidation)
 *    40     8  request_time   (RFC 9111 4.2.3, int64)
 *    48     8  response_time  (int64)
 *    56     8  date           (date_value: Date, or response_time; int64)
 *    64     8  age            (age_value: the origin's Age, >= 0)
 *    72     8  lifetime       (freshness_lifetime, 4.2.1, >= 0)
 *    80     8  stale_while_revalidate window (RFC 5861, >= 0)
 *    88     8  stale_if_error window (>= 0)
 *    96     8  vary_id        (the variant index's id; see ckey_variant)
 *   104     8  body_len
 *   112    32  key: the ckey digest the entry is stored under
 *   144        nfields x { u32 nlen, u32 vlen, name, NUL, value, NUL }:
 *              name a token of 1..CENTRY_MAX_NAME bytes; value at most
 *              CENTRY_MAX_VALUE bytes of HTAB, SP, VCHAR or obs-text
 *              nvary x { u32 len, name, NUL }: lower-case tokens of
 *              1..CENTRY_MAX_NAME bytes, strictly ascending (as
 *              ckey_vary_parse gives them)
 *              body_len bytes of body
 *
 * Two kinds share the layout.  A response (kind 1) is a stored response:
 * its header fields as received minus hop-by-hop ones (the caller
 * filters), its Vary names if it varies (then it is stored under a variant
 * key and vary_id is its index's), and its body.  A variant index (kind 2)
 * is what the primary key holds when the response varies: status 0, no
 * fields, no body, no flags, one or more Vary names and the vary_id that
 * the variants' keys are built with.
 *
 * The decoder checks everything before it answers: magic, version, the
 * length against the blob's, the checksum, every count, length, byte and
 * order above, and that the parts end exactly where the blob does.  So a
 * value written by another version, truncated or corrupted is reported,
 * never misread, and any blob it accepts re-encodes to the same bytes.
 * CRC-32C catches accidents (a cut or flipped value), not forgeries.  The
 * CRC uses SSE4.2 where the CPU has it.
 *
 * Forgeries: whoever can write Redis can write a well-formed blob.  With a
 * secret shared by the nodes (edged's cache_secret_file), the value stored
 * in Redis is the blob followed by a CENTRY_MAC_LEN-byte tag:
 *
 *   HMAC-SHA256(secret, "edged-entry-mac-1" NUL, u32 klen, key, blob)
 *
 * key being the Redis key the value is stored under (klen its length,
 * little-endian), so a valid value copied under another key does not
 * verify.  centry_mac makes the tag, centry_mac_check checks a value read
 * back (constant time) and says where the blob ends.  The layout above is
 * unchanged (the body is still the blob's last bytes; the tag follows the
 * blob, outside it), so the 4-byte CRC at offset 8 still identifies a
 * stored value for the memory tier's recheck.  A value without a tag
 * fails the check; a tagged value read without a secret fails
 * centry_decode (its length field).  What a tag cannot stop: a value
 * once validly stored under a key put back under the same key later
 * (replay of an older response for the same URL), and values deleted.
 *
 * No allocation and no global state, but for a CRC table built once,
 * thread-safely, on CPUs without SSE4.2, a switch for tests, and GnuTLS's
 * HMAC state in centry_mac and centry_mac_check.
 */
#ifndef EDGED_CENTRY_H
#define EDGED_CENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ckey.h"
#include "err.h"

#define CENTRY_MAGIC      "EDGC"
#define CENTRY_VERSION    1
#define CENTRY_HEAD_FIXED 144 /* bytes before the first header field */

#define CENTRY_MAX_FIELDS 1024
#define CENTRY_MAX_VARY   CKEY_MAX_NAMES
#define CENTRY_MAX_NAME   1024
#define CENTRY_MAX_VALUE  65536

enum centry_kind {
	CENTRY_RESPONSE = 1,
	CENTRY_VARIANTS = 2, /* variant index */
};

/* Response flags (what the header fields alone would make the hit path
 * parse again). */
#define CENTRY_F_NO_CACHE        0x1u /* validate before every use (no-cache) */
#define CENTRY_F_MUST_REVALIDATE 0x2u /* never served stale: must-revalidate,
                                       * proxy-revalidate, s-maxage */
#define CENTRY_F_HEURISTIC       0x4u /* lifetime is heuristic or ttl_default */
#define CENTRY_F_HEAD            0x8u /* the answer to a HEAD: no body stored,
                                       * serves HEAD only */
#define CENTRY_F_ALL             0xfu

/* Decoder results (negative; e says more). */
#define CENTRY_ENOTENTRY (-1) /* not an edged entry: wrong magic */
#define CENTRY_EVERSION  (-2) /* an entry of another format version */
#define CENTRY_ECORRUPT  (-3) /* truncated, checksum mismatch, or malformed */
#define CENTRY_EMAC      (-4) /* centry_mac_check: no valid tag */

#define CENTRY_MAC_LEN    32   /* HMAC-SHA256 */
#define CENTRY_SECRET_MIN 32   /* bytes of secret, at least */
#define CENTRY_SECRET_MAX 1024

/* Everything in the fixed head but the lengths and counts. */
struct centry_meta {
	enum centry_kind kind;
	uint32_t flags;
	unsigned status;
	int64_t request_time;
	int64_t response_time;
	int64_t date;
	int64_t age;
	int64_t lifetime;
	int64_t stale_while_revalidate;
	int64_t stale_if_error;
	uint64_t vary_id;
	uint32_t gen;            /* invalidation generation (lib/banlist.h) */
	unsigned char key[CKEY_DIGEST_LEN];
};

/* What to encode.  Spans are only read during the call. */
struct centry_src {
	struct centry_meta m;
	const struct ckey_field *fields;
	size_t nfields;
	const struct ckey_span *vary; /* lower-case, strictly ascending */
	size_t nvary;
	const void *body;             /* centry_encode copies body_len bytes */
	size_t body_len;
};

/* A decoded entry: a view into the blob, valid as long as the blob is. */
struct centry {
	struct centry_meta m;
	size_t nfields;
	size_t nvary;
	const char *body;       /* body_len bytes inside the blob (never NULL) */
	size_t body_len;
	const unsigned char *blob;
	size_t len;
	size_t fields_at;       /* private: offsets of the two lists */
	size_t vary_at;
};

/* Encode s into out (cap bytes).  With out NULL only check s and set *len
 * to the size the blob needs (the first of two passes).  Returns 0 with
 * *len set, or -1 with e filled when s breaks a rule of the layout (a
 * count, length or byte out of range, unknown flags, a duration < 0, Vary
 * names not lower-case or not ascending, a variant index with fields, body
 * or status) or cap is too small. */
int centry_encode(const struct centry_src *s, void *out, size_t cap, size_t *len,
                  struct err *e);

/* The same without the body: writes the head for a body of s->body_len
 * bytes (s->body is not read) and sets *head_len.  The caller then writes
 * the body at out + *head_len and calls centry_seal.  out NULL: size only. */
int centry_encode_head(const struct centry_src *s, void *out, size_t cap,
                       size_t *head_len, struct err *e);

/* Finish a blob made by centry_encode_head: record body_len (which may
 * differ from the s->body_len given then, for a body whose length was not
 * known) and the total length, and write the checksum.  The blob is
 * head_len + body_len bytes. */
void centry_seal(void *blob, size_t head_len, size_t body_len);

/* Check blob[0..len) and fill *c with a view into it.  Returns 0, or
 * CENTRY_ENOTENTRY, CENTRY_EVERSION or CENTRY_ECORRUPT with e filled (the
 * caller treats each as a miss and may overwrite the value). */
int centry_decode(const void *blob, size_t len, struct centry *c, struct err *e);

/* Header field iteration: start with *it = 0; each call fills *f (name and
 * value NUL-terminated inside the blob) and returns true, false after the
 * last:   for (it = 0; centry_field(c, &it, &f); ) ... */
bool centry_field(const struct centry *c, size_t *it, struct ckey_field *f);

/* The first field named name (case-insensitive) into *f; false if none. */
bool centry_get(const struct centry *c, const char *name, struct ckey_field *f);

/* Copy up to max Vary names (NUL-terminated inside the blob) into names;
 * returns c->nvary (all of them fit when max >= CENTRY_MAX_VARY). */
size_t centry_vary(const struct centry *c, struct ckey_span *names, size_t max);

/* Re-encode old with a new header set and meta (a 304 refresh, RFC 9111
 * 4.3.4: which fields to keep, update or add is the caller's choice),
 * keeping old's Vary names and body.  out must not overlap old's blob; out
 * NULL gives the size only.  Returns as centry_encode. */
int centry_refresh(const struct centry *old, const struct centry_meta *m,
                   const struct ckey_field *fields, size_t nfields, void *out, size_t cap,
                   size_t *len, struct err *e);

/* The tag of blob[0..len) stored under the Redis key key[0..klen), with
 * secret[0..slen) (slen >= CENTRY_SECRET_MIN), into tag.  Returns 0, or
 * -1 with e (GnuTLS failed: store nothing). */
int centry_mac(const void *secret, size_t slen, const void *key, size_t klen, const void *blob,
               size_t len, unsigned char tag[CENTRY_MAC_LEN], struct err *e);

/* Check a value val[0..vlen) read from Redis under key[0..klen): a blob
 * followed by its tag.  Returns 0 with *blob_len (vlen - CENTRY_MAC_LEN:
 * decode val[0..*blob_len)), or CENTRY_EMAC with e (too short, or the tag
 * does not match: forged, stored under another key, or by a node with
 * another secret or none). */
int centry_mac_check(const void *secret, size_t slen, const void *key, size_t klen,
                     const void *val, size_t vlen, size_t *blob_len, struct err *e);

/* CRC-32C of p[0..n), continuing from crc (0 to start): as zlib's crc32(),
 * so crc32c(crc32c(0, a), b) is the CRC of a followed by b. */
uint32_t centry_crc32c(uint32_t crc, const void *p, size_t n);

/* Tests only: non-zero makes centry_crc32c use its table code even where
 * the CPU has SSE4.2, so both are checked against each other. */
extern int centry_crc_force_soft;

#endif
