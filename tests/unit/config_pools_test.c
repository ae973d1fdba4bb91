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
	assert_int_equal(c.pools[0].n_cidrs, 2);
	assert_int_equal(c.pools[0].cidrs[0].addr, ip("203.0.113.0"));
	assert_int_equal(c.pools[0].cidrs[0].len, 24);
	assert_int_equal(c.pools[0].cidrs[1].len, 32);
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

static void pool_errors_name_file_line_and_key(void **state)
{
	(void)state;
	expect_error(PORTS "addressPools:\n- {name: a, addresses: [10.0.0.0/33]}\n",
		     "t.yaml:4: addressPools[0].addresses[0]: \"10.0.0.0/33\" is not an IPv4 "
		     "prefix");
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
	expect_error(PORTS "kubernetes: {requireAddressPools: yes}\n",
		     "t.yaml:3: kubernetes.requireAddressPools: \"yes\" is not true or false");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pools_load),
		cmocka_unit_test(pool_errors_name_file_line_and_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
