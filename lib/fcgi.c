/*
 * fcgi.c: see fcgi.h.  Big-endian fields are put together byte by byte,
 * so nothing depends on the host's byte order or alignment.  The reader
 * is a small state machine: header bytes, then content and padding bytes
 * into its own buffer, then one record handed out; no state is global.
 */
#include <string.h>

#include "fcgi.h"

int
fcgi_header_encode(uint8_t *out, unsigned type, unsigned request_id,
                   size_t content_length, size_t padding_length, struct err *e)
{
	if (type > 255)
		return err_set(e, ERR_FAIL, "fcgi: record type %u does not fit a byte", type);
	if (request_id > 65535)
		return err_set(e, ERR_FAIL, "fcgi: request id %u is over 65535", request_id);
	if (content_length > FCGI_MAX_CONTENT)
		return err_set(e, ERR_FAIL, "fcgi: content length %zu is over %d",
		               content_length, FCGI_MAX_CONTENT);
	if (padding_length > FCGI_MAX_PADDING)
		return err_set(e, ERR_FAIL, "fcgi: padding length %zu is over %d",
		               padding_length, FCGI_MAX_PADDING);
	out[0] = FCGI_VERSION_1;
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(request_id >> 8);
	out[3] = (uint8_t)request_id;
	out[4] = (uint8_t)(content_length >> 8);
	out[5] = (uint8_t)content_length;
	out[6] = (uint8_t)padding_length;
	out[7] = 0;
	return 0;
}

int
fcgi_header_decode(const uint8_t *in, struct fcgi_header *h, struct err *e)
{
	h->version = in[0];
	h->type = in[1];
	h->request_id = (unsigned)in[2] << 8 | in[3];
	h->content_length = (size_t)in[4] << 8 | in[5];
	h->padding_length = in[6];
	if (h->version != FCGI_VERSION_1)
		return err_set(e, ERR_FAIL, "fcgi: record version %u, want 1 (type %u, "
		               "request id %u)", h->version, h->type, h->request_id);
	return 0;
}

int
fcgi_begin_request_encode(uint8_t *out, unsigned request_id, unsigned role,
                          unsigned flags, struct err *e)
{
	if (role > 65535)
		return err_set(e, ERR_FAIL, "fcgi: role %u is over 65535", role);
	if (flags > 255)
		return err_set(e, ERR_FAIL, "fcgi: flags %#x do not fit a byte", flags);
	if (fcgi_header_encode(out, FCGI_BEGIN_REQUEST, request_id, 8, 0, e) < 0)
		return -1;
	out[8] = (uint8_t)(role >> 8);
	out[9] = (uint8_t)role;
	out[10] = (uint8_t)flags;
	memset(out + 11, 0, 5);
	return 0;
}

int
fcgi_end_request_decode(const uint8_t *content, size_t len,
                        struct fcgi_end_request *er, struct err *e)
{
	if (len != 8)
		return err_set(e, ERR_FAIL, "fcgi: END_REQUEST body of %zu bytes, want 8", len);
	er->app_status = (uint32_t)content[0] << 24 | (uint32_t)content[1] << 16 |
	                 (uint32_t)content[2] << 8 | content[3];
	er->protocol_status = content[4];
	return 0;
}

const char *
fcgi_protocol_status_name(unsigned status)
{
	switch (status) {
	case FCGI_REQUEST_COMPLETE: return "REQUEST_COMPLETE";
	case FCGI_CANT_MPX_CONN: return "CANT_MPX_CONN";
	case FCGI_OVERLOADED: return "OVERLOADED";
	case FCGI_UNKNOWN_ROLE: return "UNKNOWN_ROLE";
	default: return "unknown";
	}
}

static size_t
len_size(size_t n)
{
	return n < 128 ? 1 : 4;
}

static uint8_t *
put_len(uint8_t *p, size_t n)
{
	if (n < 128) {
		*p++ = (uint8_t)n;
		return p;
	}
	*p++ = (uint8_t)(n >> 24 | 0x80);
	*p++ = (uint8_t)(n >> 16);
	*p++ = (uint8_t)(n >> 8);
	*p++ = (uint8_t)n;
	return p;
}

size_t
fcgi_nv_size(size_t nlen, size_t vlen)
{
	if (nlen > FCGI_NV_MAX_LEN || vlen > FCGI_NV_MAX_LEN)
		return 0;
	return len_size(nlen) + len_size(vlen) + nlen + vlen;
}

int
fcgi_nv_encode(uint8_t *out, size_t cap, const char *name, size_t nlen,
               const char *value, size_t vlen, size_t *used, struct err *e)
{
	size_t need = fcgi_nv_size(nlen, vlen);
	uint8_t *p = out;

	if (need == 0)
		return err_set(e, ERR_FAIL, "fcgi: name-value pair too long (name %zu, value "
		               "%zu bytes; at most %u each)", nlen, vlen, FCGI_NV_MAX_LEN);
	if (need > cap)
		return err_set(e, ERR_FAIL, "fcgi: name-value pair of %zu bytes does not fit "
		               "%zu", need, cap);
	p = put_len(p, nlen);
	p = put_len(p, vlen);
	if (nlen > 0)
		memcpy(p, name, nlen);
	if (vlen > 0)
		memcpy(p + nlen, value, vlen);
	*used = need;
	return 0;
}

/* A length at in[*pos]: 1 byte, or 4 with the high bit set.  -1 when the
 * buffer ends first. */
static int
get_len(const uint8_t *in, size_t len, size_t *pos, size_t *n)
{
	if (*pos >= len)
		return -1;
	if ((in[*pos] & 0x80) == 0) {
		*n = in[(*pos)++];
		return 0;
	}
	if (len - *pos < 4)
		return -1;
	*n = (size_t)(in[*pos] & 0x7f) << 24 | (size_t)in[*pos + 1] << 16 |
	     (size_t)in[*pos + 2] << 8 | in[*pos + 3];
	*pos += 4;
	return 0;
}

int
fcgi_nv_decode(const uint8_t *in, size_t len, const uint8_t **name, size_t *nlen,
               const uint8_t **value, size_t *vlen, size_t *used, struct err *e)
{
	size_t pos = 0, nl, vl;

	if (get_len(in, len, &pos, &nl) < 0 || get_len(in, len, &pos, &vl) < 0)
		return err_set(e, ERR_FAIL, "fcgi: name-value pair cut short in its lengths "
		               "(%zu bytes)", len);
	if (nl > len - pos || vl > len - pos - nl)
		return err_set(e, ERR_FAIL, "fcgi: name-value pair cut short: name %zu and "
		               "value %zu bytes, %zu left", nl, vl, len - pos);
	*name = in + pos;
	*nlen = nl;
	*value = in + pos + nl;
	*vlen = vl;
	*used = pos + nl + vl;
	return 0;
}

void
fcgi_reader_init(struct fcgi_reader *rd)
{
	rd->hdr_have = 0;
	rd->body_have = 0;
	rd->failed = false;
	memset(&rd->h, 0, sizeof rd->h);
	memset(&rd->rec, 0, sizeof rd->rec);
}

bool
fcgi_reader_idle(const struct fcgi_reader *rd)
{
	if (rd->failed)
		return false;
	return rd->hdr_have == 0 ||
	       (rd->hdr_have == FCGI_HEADER_LEN &&
	        rd->body_have == rd->h.content_length + rd->h.padding_length);
}

int
fcgi_reader_feed(struct fcgi_reader *rd, const uint8_t *in, size_t len, size_t *used,
                 const struct fcgi_record **rec, struct err *e)
{
	size_t pos = 0, n, want;

	*used = 0;
	*rec = NULL;
	if (rd->failed)
		return err_set(e, ERR_FAIL, "fcgi: stream already failed");
	if (rd->hdr_have == FCGI_HEADER_LEN &&
	    rd->body_have == rd->h.content_length + rd->h.padding_length) {
		/* the previous call handed out a record: start the next one */
		rd->hdr_have = 0;
		rd->body_have = 0;
	}
	if (rd->hdr_have < FCGI_HEADER_LEN) {
		n = FCGI_HEADER_LEN - rd->hdr_have;
		if (n > len)
			n = len;
		memcpy(rd->hdr + rd->hdr_have, in, n);
		rd->hdr_have += n;
		pos += n;
		if (rd->hdr_have < FCGI_HEADER_LEN) {
			*used = pos;
			return 0;
		}
		if (fcgi_header_decode(rd->hdr, &rd->h, e) < 0) {
			rd->failed = true;
			*used = pos;
			return -1;
		}
	}
	want = rd->h.content_length + rd->h.padding_length;
	n = want - rd->body_have;
	if (n > len - pos)
		n = len - pos;
	if (n > 0)
		memcpy(rd->body + rd->body_have, in + pos, n);
	rd->body_have += n;
	pos += n;
	*used = pos;
	if (rd->body_have < want)
		return 0;
	rd->rec.type = rd->h.type;
	rd->rec.request_id = rd->h.request_id;
	rd->rec.content = rd->body;
	rd->rec.content_length = rd->h.content_length;
	*rec = &rd->rec;
	return 0;
}
