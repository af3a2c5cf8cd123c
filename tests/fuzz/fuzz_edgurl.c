/*
 * fuzz_edgurl.c: libFuzzer target for edged's text handling on the origin
 * leg (edged/edg_proxy.c): origin URL parsing, the upstream request-target
 * (absolute-form, path prefix, dot-segment escapes) and comma-separated
 * field lists.  Input: url '\n' target '\n' list '\n' token.
 *
 * edg_proxy.c is compiled into this target (it is not part of libedge).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../edged/edg_proxy.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *part[4] = { NULL, NULL, NULL, NULL }, *p, out[2048];
	struct edg_origin o;
	struct err e = { 0, "" };
	bool https;
	int i, port;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	for (i = 0; i < 4; i++) {
		char *nl = strchr(p, '\n');

		part[i] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	memset(&o, 0, sizeof o);
	o.key = "origin";
	if (edg_origin_parse(&o, part[0], &https, &port, &e) == 0) {
		if (port < 1 || port > 65535 || o.host[0] == '\0')
			abort();
		if (part[1] != NULL && edg_upstream_target(o.prefix, part[1], out, sizeof out) == 0 &&
		    strncmp(out, o.prefix, strlen(o.prefix)) != 0)
			abort(); /* the prefix must always lead */
	}
	if (part[2] != NULL && part[3] != NULL)
		(void)edg_list_has(part[2], strlen(part[2]), part[3]);
	free(buf);
	return 0;
}
