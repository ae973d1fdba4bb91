/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file's `addressPools` (strait/config.h struct cfg_pool) and
 * `kubernetes.requireAddressPools`: what loads, and each error naming file, line and key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include <strait/config.h>

#define PORTS "ports:\n  ext: {device: net_af_packet0, addresses: [198.51.100.1/24]}\n"

static char err[512];

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static int load(const char *yaml, struct cfg *c)
{
	return cfg_load_string("t.yaml", yaml, strlen(yaml), c, err, sizeof(err));
}

static void expect_error(const char *yaml, const char *msg)
{
	struct cfg c;

	err[0] = '\0';
	assert_int_equal(load(yaml, &c), -EINVAL);
	assert_string_equal(err, msg);
	assert_int_equal(c.n_pools, 0);
}

static void pools_load(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS
			      "kubernetes: {requireAddressPools: true}\n"
			      "addressPools:\n"
			      "- name: public\n"
			      "  addresses: [203.0.113.0/24, 198.51.100.7]\n"
			      "  namespaces: [kafka, web]\n"
			      "- {name: shared, addresses: [192.0.2.0/28], autoAssign: false}\n",
			      &c),
			 0);
	assert_true(c.k8s.require_pools);
	assert_int_equal(c.n_pools, 2);
	assert_string_equal(c.pools[0].name, "public");
	assert_int_equal(c.pools[0].n_ranges, 2);
	assert_int_equal(c.pools[0].ranges[0].first, ip("203.0.113.0"));
	assert_int_equal(c.pools[0].ranges[0].last, ip("203.0.113.255"));
	assert_int_equal(c.pools[0].ranges[0].len, 24);
	assert_int_equal(c.pools[0].ranges[1].len, 32);
	assert_int_equal(c.pools[0].n_namespaces, 2);
	assert_string_equal(c.pools[0].namespaces[1], "web");
	assert_true(c.pools[0].auto_assign); // MetalLB's default
	assert_int_equal(c.pools[0].line, 5);
	assert_false(c.pools[1].auto_assign);
	assert_int_equal(c.pools[1].n_namespaces, 0);

	assert_true(cfg_pool_contains(&c.pools[0], ip("203.0.113.200")));
	assert_true(cfg_pool_contains(&c.pools[0], ip("198.51.100.7")));
	assert_false(cfg_pool_contains(&c.pools[0], ip("198.51.100.8")));
	assert_true(cfg_pool_admits_ns(&c.pools[0], "kafka"));
	assert_false(cfg_pool_admits_ns(&c.pools[0], "other"));
	assert_true(cfg_pool_admits_ns(&c.pools[1], "other")); // no list: every namespace
	cfg_free(&c);

	assert_int_equal(load(PORTS, &c), 0);
	assert_int_equal(c.n_pools, 0);
	assert_false(c.k8s.require_pools);
	assert_false(c.k8s.default_lb);
	cfg_free(&c);

	assert_int_equal(load(PORTS "kubernetes: {defaultLoadBalancer: true}\n", &c), 0);
	assert_true(c.k8s.default_lb);
	cfg_free(&c);
	expect_error(PORTS "kubernetes: {defaultLoadBalancer: maybe}\n",
		     "t.yaml:3: kubernetes.defaultLoadBalancer: \"maybe\" is not true or false");
}

/* kubernetes.limits: the per-object budgets, defaults = the former constants. */
static void k8s_limits_load(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS, &c), 0);
	assert_int_equal(c.k8s.limits.ports, 65536);
	assert_int_equal(c.k8s.limits.backends, 65536);
	assert_int_equal(c.k8s.limits.maglev, 64);
	assert_int_equal(c.k8s.limits.total, 1u << 22);
	cfg_free(&c);
	assert_int_equal(load(PORTS "kubernetes:\n"
				    "  limits: {portsPerObject: 1000, backendsPerObject: 200,\n"
				    "           maglevTablesPerObject: 8, totalPorts: 50000}\n",
			      &c),
			 0);
	assert_int_equal(c.k8s.limits.ports, 1000);
	assert_int_equal(c.k8s.limits.backends, 200);
	assert_int_equal(c.k8s.limits.maglev, 8);
	assert_int_equal(c.k8s.limits.total, 50000);
	cfg_free(&c);
	assert_int_equal(load(PORTS "kubernetes: {limits: {backendsPerObject: 7}}\n", &c), 0);
	assert_int_equal(c.k8s.limits.backends, 7);
	assert_int_equal(c.k8s.limits.ports, 65536); // the others keep their defaults
	cfg_free(&c);
}

static void k8s_limits_errors_name_file_line_and_key(void **state)
{
	(void)state;
	expect_error(PORTS "kubernetes:\n  limits: {portsPerObject: 0}\n",
		     "t.yaml:4: kubernetes.limits.portsPerObject: 0 is out of range 1-4194304");
	expect_error(PORTS "kubernetes:\n  limits:\n    maglevTablesPerObject: 5000\n",
		     "t.yaml:5: kubernetes.limits.maglevTablesPerObject: 5000 is out of range "
		     "1-4096");
	expect_error(PORTS "kubernetes:\n  limits: {backendsPerObject: many}\n",
		     "t.yaml:4: kubernetes.limits.backendsPerObject: \"many\" is not an integer");
	expect_error(PORTS "kubernetes:\n  limits: {ports: 5}\n",
		     "t.yaml:4: kubernetes.limits: unknown key \"ports\"");
	expect_error(PORTS "kubernetes:\n  limits: {portsPerObject: 100, totalPorts: 50}\n",
		     "t.yaml:4: kubernetes.limits.portsPerObject: 100 is more than "
		     "kubernetes.limits.totalPorts (50)");
}

/* MetalLB's range form: both ends included, next to CIDRs; adjacent ranges do not overlap. */
static void pool_ranges_load(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS
			      "addressPools:\n"
			      "- {name: a, addresses: [203.0.113.10-203.0.113.20, 10.0.0.0/30]}\n"
			      "- {name: b, addresses: ['203.0.113.21 - 203.0.113.21']}\n",
			      &c),
			 0);
	assert_int_equal(c.n_pools, 2);
	assert_int_equal(c.pools[0].ranges[0].first, ip("203.0.113.10"));
	assert_int_equal(c.pools[0].ranges[0].last, ip("203.0.113.20"));
	assert_int_equal(c.pools[0].ranges[0].len, 0);
	assert_int_equal(cfg_pool_range_size(&c.pools[0].ranges[0]), 11);
	assert_false(cfg_pool_contains(&c.pools[0], ip("203.0.113.9")));
	assert_true(cfg_pool_contains(&c.pools[0], ip("203.0.113.10")));
	assert_true(cfg_pool_contains(&c.pools[0], ip("203.0.113.20")));
	assert_false(cfg_pool_contains(&c.pools[0], ip("203.0.113.21")));
	assert_true(cfg_pool_contains(&c.pools[0], ip("10.0.0.3")));
	assert_true(cfg_pool_contains(&c.pools[1], ip("203.0.113.21")));
	char buf[CFG_POOL_RANGE_STR];
	assert_string_equal(cfg_pool_range_str(&c.pools[0].ranges[0], buf),
			    "203.0.113.10-203.0.113.20");
	assert_string_equal(cfg_pool_range_str(&c.pools[0].ranges[1], buf), "10.0.0.0/30");
	cfg_free(&c);
}

static void pool_errors_name_file_line_and_key(void **state)
{
	(void)state;
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.0/33]}\n",
		     "t.yaml:4: addressPools[0].addresses[0]: \"10.0.0.0/33\" is not an IPv4 "
		     "CIDR or range (A.B.C.D-E.F.G.H)");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.1/24]}\n",
		     "t.yaml:4: addressPools[0].addresses[0]: 10.0.0.1/24 has host bits set: the "
		     "network is 10.0.0.0/24");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [0.0.0.0/0]}\n",
		     "t.yaml:4: addressPools[0].addresses[0]: 0.0.0.0/0 includes 0.0.0.0, which "
		     "is never an address");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: []}\n",
		     "t.yaml:4: addressPools[0].addresses: at least one entry is required");
	expect_error(PORTS "addressPools:\n- {addresses: [10.0.0.0/24]}\n",
		     "t.yaml:4: addressPools[0].name: required key missing");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.0/24], nss: [x]}\n",
		     "t.yaml:4: addressPools[0]: unknown key \"nss\"");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.0/24], autoAssign: 3}\n",
		     "t.yaml:4: addressPools[0].autoAssign: \"3\" is not true or false");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.0/24], namespaces: "
			   "[Kafka]}\n",
		     "t.yaml:4: addressPools[0].namespaces[0]: \"Kafka\" is not a valid name: use "
		     "a-z, 0-9, '-', and begin and end with a letter or digit");
	expect_error(PORTS "addressPools:\n"
			   "- {name: a, addresses: [10.0.0.0/24]}\n"
			   "- {name: a, addresses: [10.0.1.0/24]}\n",
		     "t.yaml:5: addressPools[1].name: duplicate pool name \"a\" (first at line 4)");
	expect_error(PORTS "addressPools:\n"
			   "- {name: a, addresses: [10.0.0.0/24]}\n"
			   "- name: b\n"
			   "  addresses: [192.0.2.0/24,\n"
			   "    10.0.0.128/25]\n",
		     "t.yaml:7: addressPools[1].addresses[1]: 10.0.0.128/25 overlaps 10.0.0.0/24 "
		     "of pool \"a\" (line 4): an address is in one pool at most");
	// Ranges (MetalLB's A.B.C.D-E.F.G.H): reversed, and overlaps as CIDRs have them.
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.20-10.0.0.10]}\n",
		     "t.yaml:4: addressPools[0].addresses[0]: 10.0.0.20-10.0.0.10 is a reversed "
		     "range: 10.0.0.20 comes after 10.0.0.10");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.1-10.0.0]}\n",
		     "t.yaml:4: addressPools[0].addresses[0]: \"10.0.0.1-10.0.0\" is not an IPv4 "
		     "CIDR or range (A.B.C.D-E.F.G.H)");
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [0.0.0.0-0.0.0.9]}\n",
		     "t.yaml:4: addressPools[0].addresses[0]: 0.0.0.0-0.0.0.9 includes 0.0.0.0, "
		     "which is never an address");
	expect_error(PORTS "addressPools:\n"
			   "- {name: a, addresses: [10.0.0.0/24]}\n"
			   "- {name: b, addresses: [10.0.0.250-10.0.1.5]}\n",
		     "t.yaml:5: addressPools[1].addresses[0]: 10.0.0.250-10.0.1.5 overlaps "
		     "10.0.0.0/24 of pool \"a\" (line 4): an address is in one pool at most");
	expect_error(PORTS "addressPools:\n"
			   "- {name: a, addresses: [10.0.0.1-10.0.0.9]}\n"
			   "- {name: b, addresses: [10.0.0.8/29]}\n",
		     "t.yaml:5: addressPools[1].addresses[0]: 10.0.0.8/29 overlaps "
		     "10.0.0.1-10.0.0.9 of pool \"a\" (line 4): an address is in one pool at "
		     "most");
	expect_error(PORTS
		     "addressPools:\n- {name: a, addresses: [10.0.0.0/24, 10.0.0.5-10.0.0.6]}\n",
		     "t.yaml:4: addressPools[0].addresses[1]: 10.0.0.5-10.0.0.6 overlaps "
		     "10.0.0.0/24, entry 0 of this pool");
	expect_error(PORTS "kubernetes: {requireAddressPools: yes}\n",
		     "t.yaml:3: kubernetes.requireAddressPools: \"yes\" is not true or false");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pools_load),
		cmocka_unit_test(pool_errors_name_file_line_and_key),
		cmocka_unit_test(k8s_limits_load),
		cmocka_unit_test(pool_ranges_load),
		cmocka_unit_test(k8s_limits_errors_name_file_line_and_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
