/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The published tables' VIP set (tables_is_vip(): O(1), what the slow path answers ARP for and
 * the fast path accepts on ext) and tables_build_at()'s failure attribution (the index of the
 * mapping a build failed on, and the cap on service-table keys).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <rte_eal.h>

#include <strait/tables.h>

#include "eal_fixture.h"

static struct cfg cfg;

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static rte_be32_t be(const char *s)
{
	return rte_cpu_to_be_32(ip(s));
}

static int group_setup(void **state)
{
	(void)state;
	return t_tables_setup("tables_test", &cfg);
}

static int group_teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

static struct cfg_backend backend = {.weight = 1};

static void mapping(struct cfg_mapping *m, const char *name, const char *addr, uint16_t port,
		    uint16_t end_port)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->addrs[0] = ip(addr);
	m->n_addrs = 1;
	m->ports[0] =
		(struct cfg_map_port){.port = port, .end_port = end_port, .proto = IPPROTO_TCP};
	m->n_ports = 1;
	m->ordinal = -1;
	backend.addr = ip("10.0.0.11");
	m->backends = &backend;
	m->n_backends = 1;
}

static const char *no_slot_for;

static int slot_of(const char *ns, const char *name)
{
	static char names[64][CFG_NAME_MAX];
	static int n;

	(void)ns;
	if (no_slot_for && strcmp(name, no_slot_for) == 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	snprintf(names[n], CFG_NAME_MAX, "%s", name);
	return n++;
}

static void vip_set_with_none_one_and_many(void **state)
{
	struct tables t = {0};
	uint32_t n_member = 0;

	(void)state;
	// None: every lookup misses, 0.0.0.0 included.
	t.vips = calloc(1, sizeof(*t.vips));
	assert_int_equal(tables_vips_index(&t), 0);
	assert_int_equal(t.vip_mask, 7);
	assert_false(tables_is_vip(&t, be("198.51.100.1")));
	assert_false(tables_is_vip(&t, 0));
	free(t.vips);
	free(t.vip_slots);

	// One.
	t = (struct tables){0};
	t.vips = calloc(1, sizeof(*t.vips));
	t.vips[t.n_vips++] = be("203.0.113.10");
	assert_int_equal(tables_vips_index(&t), 0);
	assert_true(tables_is_vip(&t, be("203.0.113.10")));
	assert_false(tables_is_vip(&t, be("203.0.113.11")));
	assert_false(tables_is_vip(&t, 0));
	free(t.vips);
	free(t.vip_slots);

	// Many, with duplicates and a 0 (skipped): 3000 distinct of a /16, every third address.
	t = (struct tables){0};
	t.vips = calloc(6002, sizeof(*t.vips));
	for (uint32_t i = 0; i < 3000; i++) {
		t.vips[t.n_vips++] = rte_cpu_to_be_32(ip("10.20.0.0") + 3 * i);
		t.vips[t.n_vips++] = rte_cpu_to_be_32(ip("10.20.0.0") + 3 * i);
	}
	t.vips[t.n_vips++] = 0;
	assert_int_equal(tables_vips_index(&t), 0);
	assert_int_equal(t.n_vips, 3000);
	assert_true(t.vip_mask + 1 >= 2 * 3000);	    // never more than half full
	assert_int_equal(t.vip_mask & (t.vip_mask + 1), 0); // a power of two, minus one
	for (uint32_t a = ip("10.20.0.0"); a < ip("10.20.0.0") + 65536; a++) {
		bool want = (a - ip("10.20.0.0")) % 3 == 0 && a < ip("10.20.0.0") + 9000;
		assert_int_equal(tables_is_vip(&t, rte_cpu_to_be_32(a)), want);
		n_member += want;
	}
	assert_int_equal(n_member, 3000);
	assert_false(tables_is_vip(&t, 0));
	free(t.vips);
	free(t.vip_slots);
}

/* ARP (dp/slowpath.c) and the fast path on ext answer what tables_is_vip() says: the ext
 * port's addresses and the addresses of the mappings in these tables, no others. */
static void vips_are_the_programmed_mappings_addresses(void **state)
{
	struct cfg_mapping m[2];
	const struct cfg_mapping *p[2] = {&m[0], &m[1]};
	struct tables *t;
	char err[256];

	(void)state;
	mapping(&m[0], "web", "198.51.100.7", 80, 80);
	mapping(&m[1], "dns", "203.0.113.53", 53, 53);
	t = tables_build(&cfg, p, 2, slot_of, 1, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->n_vips, 3);
	assert_true(tables_is_vip(t, be("198.51.100.1")));
	assert_true(tables_is_vip(t, be("198.51.100.7")));
	assert_true(tables_is_vip(t, be("203.0.113.53")));
	assert_false(tables_is_vip(t, be("198.51.100.8")));
	assert_false(tables_is_vip(t, be("10.0.0.1"))); // int's address: not on ext
	tables_free(t);

	// The mapping on 203.0.113.53 gone: its address is no longer answered.
	t = tables_build(&cfg, p, 1, slot_of, 2, err, sizeof(err));
	assert_non_null(t);
	assert_false(tables_is_vip(t, be("203.0.113.53")));
	assert_true(tables_is_vip(t, be("198.51.100.7")));
	tables_free(t);
}

static void a_failed_build_names_the_mapping_at_fault(void **state)
{
	struct cfg_mapping m[9];
	const struct cfg_mapping *p[9];
	char err[256];
	int failed = 7;

	(void)state;
	mapping(&m[0], "a", "198.51.100.7", 80, 80);
	mapping(&m[1], "b", "198.51.100.7", 81, 81);
	mapping(&m[2], "c", "198.51.100.7", 82, 82);
	for (int i = 0; i < 3; i++)
		p[i] = &m[i];
	no_slot_for = "b";
	errno = 0;
	assert_null(tables_build_at(&cfg, p, 3, slot_of, 1, &failed, err, sizeof(err)));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(failed, 1);
	assert_string_equal(err, "mapping b: no counter slot left (16384 mappings at most)");
	no_slot_for = NULL;
	assert_non_null(p[0]);
	struct tables *t = tables_build_at(&cfg, p, 3, slot_of, 1, &failed, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(failed, -1);
	tables_free(t);

	// 8 addresses x 65535 ports each: the 9th mapping passes TABLES_MAX_KEYS (counted in 64
	// bits: 9 x 524280 keys, and far more, never wraps to a small table).
	for (int i = 0; i < 9; i++) {
		char name[8];
		snprintf(name, sizeof(name), "w%d", i);
		mapping(&m[i], name, "198.51.100.7", 1, 65535);
		for (uint32_t a = 0; a < 8; a++)
			m[i].addrs[a] = ip("198.51.100.100") + 8 * (uint32_t)i + a;
		m[i].n_addrs = 8;
		p[i] = &m[i];
	}
	errno = 0;
	assert_null(tables_build_at(&cfg, p, 9, slot_of, 1, &failed, err, sizeof(err)));
	assert_int_equal(errno, E2BIG);
	assert_int_equal(failed, 8);
	assert_string_equal(err, "mapping w8: the service table would pass 4194304 keys "
				 "(addresses x ports)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vip_set_with_none_one_and_many),
		cmocka_unit_test(vips_are_the_programmed_mappings_addresses),
		cmocka_unit_test(a_failed_build_names_the_mapping_at_fault),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
