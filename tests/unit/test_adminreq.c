/*
 * test_adminreq.c: the admin listener's Host and Content-Type checks
 * (lib/adminreq.c), table-driven: the names a browser page on the same
 * host could send (DNS rebinding) are refused, the listener's own
 * spellings pass.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "adminreq.h"

TestSuite(adminreq, .timeout = 10);

Test(adminreq, hosts)
{
	static const char *const names[] = { "edge1.internal", "Metrics.Example." };
	static const struct {
		const char *host;
		bool ok;
	} t[] = {
		{ "127.0.0.1", true },
		{ "127.0.0.1:9901", true },
		{ "10.1.2.3:80", true },
		{ "localhost", true },
		{ "LocalHost:9901", true },
		{ "localhost.", true },
		{ "admin.localhost:1", true },
		{ "a.b.localhost", true },
		{ "[::1]", true },
		{ "[::1]:9901", true },
		{ "[::ffff:127.0.0.1]:65535", true },
		{ "edge1.internal", true },
		{ "EDGE1.INTERNAL.:9901", true },
		{ "metrics.example", true },
		/* what a rebinding page sends, and junk */
		{ "evil.example", false },
		{ "evil.example:9901", false },
		{ "127.0.0.1.evil.example", false },
		{ "localhost.evil.example", false },
		{ "evillocalhost", false },
		{ ".localhost", false },
		{ "a..localhost", false },
		{ "x.edge1.internal", false },
		{ "edge1.internal.evil", false },
		{ "", false },
		{ ":9901", false },
		{ "localhost:", false },
		{ "localhost:99999", false },
		{ "localhost:123456", false },
		{ "localhost:-1", false },
		{ "localhost:80x", false },
		{ "localhost:80:80", false },
		{ "::1", false },
		{ "[::1", false },
		{ "[::1]x", false },
		{ "[]", false },
		{ "[fe80::1%25eth0]", false },
		{ "[127.0.0.1]", false },
		{ "127.1", false },
		{ "2130706433", false },
		{ "0x7f.0.0.1", false },
		{ "local host", false },
		{ "localhost\t", false },
		{ "user@localhost", false },
		{ "localhost/", false },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_expect_eq(adminreq_host_ok(t[i].host, names, 2), t[i].ok, "Host '%s': want %s",
		             t[i].host, t[i].ok ? "accepted" : "refused");
	/* no extra names: only the loopback names and literals */
	cr_expect(!adminreq_host_ok("edge1.internal", NULL, 0));
	cr_expect(adminreq_host_ok("localhost:9901", NULL, 0));
}

Test(adminreq, dns_names)
{
	char long_label[80], long_name[300];

	cr_expect(adminreq_dns_name("a", 1));
	cr_expect(adminreq_dns_name("edge-1.example.", 15));
	cr_expect(!adminreq_dns_name("", 0));
	cr_expect(!adminreq_dns_name(".", 1));
	cr_expect(!adminreq_dns_name("a b", 3));
	cr_expect(!adminreq_dns_name("a_b", 3));
	cr_expect(!adminreq_dns_name("a:1", 3));
	memset(long_label, 'a', 64);
	cr_expect(!adminreq_dns_name(long_label, 64), "a 64-byte label");
	cr_expect(adminreq_dns_name(long_label, 63));
	memset(long_name, 'a', sizeof long_name);
	for (size_t i = 50; i < sizeof long_name; i += 50)
		long_name[i] = '.';
	cr_expect(!adminreq_dns_name(long_name, 254), "254 bytes");
	cr_expect(adminreq_dns_name(long_name, 249));
}

Test(adminreq, content_types)
{
	cr_expect(adminreq_json_type("application/json"));
	cr_expect(adminreq_json_type("Application/JSON"));
	cr_expect(adminreq_json_type("application/json; charset=utf-8"));
	cr_expect(adminreq_json_type(" application/json ;charset=UTF-8"));
	cr_expect(!adminreq_json_type(NULL));
	cr_expect(!adminreq_json_type(""));
	cr_expect(!adminreq_json_type("text/plain"));
	cr_expect(!adminreq_json_type("text/plain; application/json"));
	cr_expect(!adminreq_json_type("application/x-www-form-urlencoded"));
	cr_expect(!adminreq_json_type("multipart/form-data; boundary=x"));
	cr_expect(!adminreq_json_type("application/jsonx"));
	cr_expect(!adminreq_json_type("application/json-seq"));
	cr_expect(!adminreq_json_type("application/json+x"));
	cr_expect(!adminreq_json_type("application/ json"));
}
