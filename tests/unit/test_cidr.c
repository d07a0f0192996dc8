#include "config.h"
/*
 * NAME
 *	test_cidr - IPv4/IPv6 networks for networks.internal and chains
 * DESCRIPTION
 *	Proves mm_cidr_parse() on IPv4 and IPv6 networks, with the /0, 0, /32 and
 *	/128 edge prefixes and an address without a prefix (a host); that
 *	host bits set beyond the prefix, a prefix out of range and garbage
 *	are errors with a message; that matching honours prefixes that are
 *	not a multiple of 8; that an IPv4-mapped IPv6 address (from a
 *	sockaddr_in6 or a string) matches an IPv4 network while an IPv6
 *	network never matches an IPv4 address; that an IPv4-mapped network
 *	shorter than /96 (host bits in its ffff) is an error; and
 *	mm_cidr_list_match().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <modmilter/cidr.h>

static struct mm_cidr
parse_ok(const char *s, int family, int prefix)
{
	struct mm_cidr c;
	char err[256] = "";

	if (mm_cidr_parse(s, &c, 0, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", s, err);
	assert_int_equal(c.family, family);
	assert_int_equal(c.prefix, prefix);
	return c;
}

static void
parse_bad(const char *s, const char *want_in_msg)
{
	struct mm_cidr c;
	char err[256] = "";

	if (mm_cidr_parse(s, &c, 0, err, sizeof(err)) == 0)
		fail_msg("'%s' accepted as family %d prefix %d", s, c.family, c.prefix);
	assert_true(strlen(err) > 0);
	if (want_in_msg && strstr(err, want_in_msg) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", s, err, want_in_msg);
}

/* Does network s match address a (given as a string)? */
static int
matches(const char *s, const char *a)
{
	struct mm_cidr c;
	char err[256];
	int fam;
	unsigned char addr[16];

	if (mm_cidr_parse(s, &c, 0, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", s, err);
	if (mm_ip_from_string(a, &fam, addr) != 0)
		fail_msg("address '%s' refused", a);
	return mm_cidr_match(&c, fam, addr);
}

static void
test_parse_v4(void **state)
{
	struct mm_cidr c;
	static const unsigned char ten[4] = { 10, 0, 0, 0 };
	static const unsigned char host[4] = { 192, 0, 2, 1 };

	(void)state;
	c = parse_ok("10.0.0.0/8", AF_INET, 8);
	assert_memory_equal(c.addr, ten, 4);
	c = parse_ok("192.0.2.1", AF_INET, 32);
	assert_memory_equal(c.addr, host, 4);
	c = parse_ok("192.0.2.1/32", AF_INET, 32);
	assert_memory_equal(c.addr, host, 4);
	parse_ok("0.0.0.0/0", AF_INET, 0);
	parse_ok("192.168.0.0/17", AF_INET, 17);
	parse_ok("127.0.0.0/8", AF_INET, 8);
}

static void
test_parse_v6(void **state)
{
	struct mm_cidr c;
	unsigned char want[16];

	(void)state;
	c = parse_ok("2001:db8::/32", AF_INET6, 32);
	inet_pton(AF_INET6, "2001:db8::", want);
	assert_memory_equal(c.addr, want, 16);
	c = parse_ok("2001:db8::1", AF_INET6, 128);
	inet_pton(AF_INET6, "2001:db8::1", want);
	assert_memory_equal(c.addr, want, 16);
	parse_ok("2001:db8::1/128", AF_INET6, 128);
	parse_ok("::/0", AF_INET6, 0);
	parse_ok("::1/128", AF_INET6, 128);
	parse_ok("fe80::/10", AF_INET6, 10);
}

static void
test_host_bits(void **state)
{
	(void)state;
	parse_bad("10.1.0.0/8", "host bits");
	parse_bad("192.0.2.1/24", "host bits");
	parse_bad("192.168.64.0/17", "host bits");
	parse_bad("0.0.0.1/0", "host bits");
	parse_bad("2001:db8::1/64", "host bits");
	parse_bad("2001:db8:4000::/33", "host bits");
	parse_ok("2001:db8:8000::/33", AF_INET6, 33);
	parse_bad("::1/0", "host bits");
	/* the message names the prefix the admin wrote */
	parse_bad("10.1.0.0/8", "/8");
	/* the bit right at the prefix boundary is a network bit */
	parse_ok("192.168.128.0/17", AF_INET, 17);
	parse_bad("192.168.128.0/16", "host bits");
}

static void
test_bad_prefix(void **state)
{
	(void)state;
	parse_bad("10.0.0.0/33", "prefix");
	parse_bad("2001:db8::/129", "prefix");
	parse_bad("10.0.0.0/-1", NULL);
	parse_bad("10.0.0.0/", NULL);
	parse_bad("10.0.0.0/8x", NULL);
	parse_bad("10.0.0.0/abc", NULL);
	parse_bad("10.0.0.0/8/8", NULL);
}

static void
test_garbage(void **state)
{
	(void)state;
	parse_bad("garbage", NULL);
	parse_bad("", NULL);
	parse_bad("/8", NULL);
	parse_bad("10.0.0/8", NULL);
	parse_bad("300.0.0.0/8", NULL);
	parse_bad("10.0.0.0.0", NULL);
	parse_bad("2001:db8:::1/64", NULL);
	parse_bad("example.com/24", NULL);
	parse_bad("1234567890123456789012345678901234567890123456789012345678901234567890/8",
	    NULL);
}

static void
test_match(void **state)
{
	(void)state;
	assert_true(matches("10.0.0.0/8", "10.255.1.2"));
	assert_true(matches("10.0.0.0/8", "10.0.0.0"));
	assert_false(matches("10.0.0.0/8", "11.0.0.1"));
	assert_false(matches("10.0.0.0/8", "9.255.255.255"));
	assert_true(matches("0.0.0.0/0", "203.0.113.9"));
	assert_true(matches("192.0.2.1/32", "192.0.2.1"));
	assert_false(matches("192.0.2.1/32", "192.0.2.2"));
	assert_true(matches("192.0.2.1", "192.0.2.1"));
	assert_false(matches("192.0.2.1", "192.0.2.0"));
	/* prefixes that are not a multiple of 8 */
	assert_true(matches("192.168.0.0/17", "192.168.127.255"));
	assert_false(matches("192.168.0.0/17", "192.168.128.0"));
	assert_true(matches("172.16.0.0/12", "172.31.255.255"));
	assert_false(matches("172.16.0.0/12", "172.32.0.0"));
	/* IPv6 */
	assert_true(matches("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(matches("2001:db8::/32", "2001:db9::1"));
	assert_true(matches("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(matches("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(matches("2001:db8::1/128", "2001:db8::1"));
	assert_false(matches("2001:db8::1/128", "2001:db8::2"));
	assert_true(matches("::/0", "2001:db8::2"));
}

static void
test_mapped(void **state)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	struct mm_cidr net;
	char err[256];
	int fam;
	unsigned char addr[16];

	(void)state;
	assert_int_equal(mm_cidr_parse("10.0.0.0/8", &net, 0, err, sizeof(err)), 0);

	/* from a sockaddr_in6 as an MTA on a dual-stack socket gives it */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr), 1);
	assert_int_equal(mm_ip_from_sockaddr((struct sockaddr *)&sin6, &fam, addr), 0);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(addr[0], 10);
	assert_int_equal(addr[3], 3);
	assert_true(mm_cidr_match(&net, fam, addr));
	assert_true(mm_cidr_list_match(&net, 1, fam, addr));

	/* from a string */
	assert_int_equal(mm_ip_from_string("::ffff:10.9.8.7", &fam, addr), 0);
	assert_int_equal(fam, AF_INET);
	assert_true(mm_cidr_match(&net, fam, addr));
	assert_int_equal(mm_ip_from_string("::ffff:11.9.8.7", &fam, addr), 0);
	assert_false(mm_cidr_match(&net, fam, addr));

	/* a mapped network means the IPv4 network */
	net = parse_ok("::ffff:10.0.0.0/104", AF_INET, 8);
	assert_int_equal(mm_ip_from_string("10.200.0.1", &fam, addr), 0);
	assert_true(mm_cidr_match(&net, fam, addr));

	/* a plain sockaddr_in */
	assert_int_equal(mm_cidr_parse("10.0.0.0/8", &net, 0, err, sizeof(err)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", &sin.sin_addr);
	assert_int_equal(mm_ip_from_sockaddr((struct sockaddr *)&sin, &fam, addr), 0);
	assert_int_equal(fam, AF_INET);
	assert_true(mm_cidr_match(&net, fam, addr));

	/* a real IPv6 address stays IPv6 */
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	assert_int_equal(mm_ip_from_sockaddr((struct sockaddr *)&sin6, &fam, addr), 0);
	assert_int_equal(fam, AF_INET6);
	assert_false(mm_cidr_match(&net, fam, addr));

	/* unknown family / NULL */
	assert_int_equal(mm_ip_from_sockaddr(NULL, &fam, addr), -1);
	assert_int_equal(mm_ip_from_string("not an address", &fam, addr), -1);
}

/*
 * An IPv4-mapped network with a prefix shorter than 96 has the ffff of
 * ::ffff:0:0/96 in its host bits: like any other host bits beyond the
 * prefix, an error -- not silently "every IPv4 address".
 */
static void
test_mapped_short_prefix(void **state)
{
	(void)state;
	parse_ok("::ffff:0.0.0.0/96", AF_INET, 0);
	parse_ok("::ffff:192.0.2.0/120", AF_INET, 24);
	parse_bad("::ffff:192.0.2.0/64", "host bits");
	parse_bad("::ffff:0.0.0.0/80", "host bits");
	parse_bad("::ffff:0.0.0.0/95", "host bits");
}

static void
test_v6_net_not_v4_addr(void **state)
{
	(void)state;
	assert_false(matches("::/0", "10.0.0.1"));
	assert_false(matches("::/0", "::ffff:10.0.0.1"));
	/* "IPv4-compatible" ::10.0.0.1 is an IPv6 address */
	assert_false(matches("10.0.0.0/8", "::10.0.0.1"));
	assert_false(matches("0.0.0.0/0", "2001:db8::1"));
}

static void
test_list(void **state)
{
	static const char *const nets[] = {
		"127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32", "192.168.1.0/24"
	};
	struct mm_cidr list[4];
	char err[256];
	int fam;
	unsigned char addr[16];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(mm_cidr_parse(nets[i], &list[i], 0, err, sizeof(err)), 0);

	assert_int_equal(mm_ip_from_string("192.168.1.77", &fam, addr), 0);
	assert_true(mm_cidr_list_match(list, 4, fam, addr));
	assert_false(mm_cidr_list_match(list, 3, fam, addr));	/* not in the first 3 */
	assert_false(mm_cidr_list_match(list, 0, fam, addr));
	assert_int_equal(mm_ip_from_string("2001:db8:1::5", &fam, addr), 0);
	assert_true(mm_cidr_list_match(list, 4, fam, addr));
	assert_false(mm_cidr_list_match(list, 2, fam, addr));
	assert_int_equal(mm_ip_from_string("192.168.2.1", &fam, addr), 0);
	assert_false(mm_cidr_list_match(list, 4, fam, addr));
	assert_int_equal(mm_ip_from_string("::ffff:127.0.0.1", &fam, addr), 0);
	assert_true(mm_cidr_list_match(list, 4, fam, addr));
	assert_int_equal(mm_ip_from_string("::1", &fam, addr), 0);
	assert_false(mm_cidr_list_match(list, 4, fam, addr));
}

/* MM_CIDR_HOSTBITS: SPF's ip4:192.0.2.1/24 names the /24; matching
   ignores the bits beyond the prefix; mm_ip_in() on raw bytes. */
static void
test_hostbits_allowed(void **state)
{
	struct mm_cidr c;
	char err[256];
	int fam;
	unsigned char addr[16], net[16] = { 192, 0, 2, 1 };

	(void)state;
	assert_int_equal(mm_cidr_parse("192.0.2.1/24", &c, 0, err, sizeof(err)), -1);
	assert_int_equal(mm_cidr_parse("192.0.2.1/24", &c, MM_CIDR_HOSTBITS, err,
	    sizeof(err)), 0);
	assert_int_equal(c.prefix, 24);
	assert_int_equal(mm_ip_from_string("192.0.2.200", &fam, addr), 0);
	assert_true(mm_cidr_match(&c, fam, addr));
	assert_int_equal(mm_ip_from_string("192.0.3.1", &fam, addr), 0);
	assert_false(mm_cidr_match(&c, fam, addr));
	assert_int_equal(mm_cidr_parse("2001:db8::1/32", &c, MM_CIDR_HOSTBITS, err,
	    sizeof(err)), 0);
	assert_int_equal(mm_ip_from_string("2001:db8:ffff::", &fam, addr), 0);
	assert_true(mm_cidr_match(&c, fam, addr));
	/* mapped: the IPv4 prefix; below /96 still an error */
	assert_int_equal(mm_cidr_parse("::ffff:10.1.2.3/104", &c, MM_CIDR_HOSTBITS,
	    err, sizeof(err)), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(mm_cidr_parse("::ffff:10.1.2.3/95", &c, MM_CIDR_HOSTBITS,
	    err, sizeof(err)), -1);

	assert_int_equal(mm_ip_from_string("192.0.2.77", &fam, addr), 0);
	assert_true(mm_ip_in(fam, addr, AF_INET, net, 24));
	assert_true(mm_ip_in(fam, addr, AF_INET, net, 0));
	assert_false(mm_ip_in(fam, addr, AF_INET, net, 32));
	assert_true(mm_ip_in(fam, addr, AF_INET, net, 25));
	assert_false(mm_ip_in(fam, addr, AF_INET, net, 26));
	assert_false(mm_ip_in(fam, addr, AF_INET6, net, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_host_bits),
		cmocka_unit_test(test_bad_prefix),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_mapped_short_prefix),
		cmocka_unit_test(test_v6_net_not_v4_addr),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_hostbits_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
