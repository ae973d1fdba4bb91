/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tables_build()'s Maglev table reuse (issue 12, control plane at scale): a service whose
 * backend list (addresses, ports, weights, in order) is the same as one in the published
 * tables, or earlier in the same build, shares that service's table instead of computing it
 * again; any other service gets its own, computed. The shared table is byte for byte the one a
 * build without reuse computes (so the data plane picks the same backends), and references
 * are counted so that freeing the previous generation, or a failed build, keeps it alive for
 * the generations that still use it.
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

#include <strait/maglev.h>
#include <strait/tables.h>

#include "eal_fixture.h"
#include "maglev_pool.h"

static struct cfg cfg;

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static int group_setup(void **state)
{
	(void)state;
	return t_tables_setup("tables_reuse_test", &cfg);
}

static int group_teardown(void **state)
{
	(void)state;
	return t_tables_teardown();
}

static int slot_of(const char *ns, const char *name)
{
	(void)ns;
	return t_slot_by_name(name);
}

/* Mapping @p name on 198.51.100.7:@p port/tcp over @p n backends 10.0.0.<first>... with
 * weight 1 each; @p be is the caller's storage. */
static void mapping(struct cfg_mapping *m, const char *name, uint16_t port, struct cfg_backend *be,
		    unsigned int n, unsigned int first)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->addrs[0] = ip("198.51.100.7");
	m->n_addrs = 1;
	m->ports[0] = (struct cfg_map_port){.port = port, .proto = IPPROTO_TCP};
	m->n_ports = 1;
	m->ordinal = -1;
	for (unsigned int i = 0; i < n; i++)
		be[i] = (struct cfg_backend){.addr = ip("10.0.0.0") + first + i, .weight = 1};
	m->backends = be;
	m->n_backends = n;
}

static struct tables *build(struct cfg_mapping *m, unsigned int n, uint64_t gen)
{
	const struct cfg_mapping *p[8];
	char err[256];
	struct tables *t;

	for (unsigned int i = 0; i < n; i++)
		p[i] = &m[i];
	t = tables_build(&cfg, p, n, slot_of, gen, err, sizeof(err));
	assert_non_null(t);
	return t;
}

/* The table a build without reuse computes for the same mappings, service @p s. */
static void assert_same_as_computed(const struct tables *t, struct cfg_mapping *m, unsigned int n,
				    unsigned int s)
{
	tables_reuse_maglev = false;
	struct tables *fresh = build(m, n, 99);
	tables_reuse_maglev = true;

	assert_int_equal(fresh->n_maglev_reused, 0);
	assert_non_null(t->services[s].maglev);
	assert_ptr_not_equal(fresh->services[s].maglev, t->services[s].maglev);
	assert_int_equal(fresh->services[s].maglev_size, t->services[s].maglev_size);
	assert_memory_equal(fresh->services[s].maglev, t->services[s].maglev,
			    t->services[s].maglev_size * sizeof(uint16_t));
	assert_int_equal(fresh->services[s].n_backends, t->services[s].n_backends);
	assert_memory_equal(&fresh->backends[fresh->services[s].first_backend],
			    &t->backends[t->services[s].first_backend],
			    t->services[s].n_backends * sizeof(struct tbl_backend));
	tables_free(fresh);
}

static void an_unchanged_service_keeps_its_table_and_a_changed_one_is_rebuilt(void **state)
{
	struct cfg_backend be_a[3], be_b[4];
	struct cfg_mapping m[2];

	(void)state;
	mapping(&m[0], "a", 80, be_a, 3, 11);
	mapping(&m[1], "b", 81, be_b, 4, 21);
	struct tables *t1 = build(m, 2, 1);
	assert_int_equal(t1->n_maglev_built, 2);
	assert_int_equal(t1->n_maglev_reused, 0);
	tables_publish(t1, NULL);
	uint16_t *a1 = t1->services[0].maglev, *b1 = t1->services[1].maglev;

	// One of b's endpoints goes unready (weight 0): b's table changes, a's does not.
	be_b[2].serving_only = true;
	struct tables *t2 = build(m, 2, 2);
	assert_int_equal(t2->n_maglev_built, 1);
	assert_int_equal(t2->n_maglev_reused, 1);
	assert_ptr_equal(t2->services[0].maglev, a1);
	assert_ptr_not_equal(t2->services[1].maglev, b1);
	assert_int_equal(tables_maglev_refs(a1), 2);
	assert_int_equal(tables_maglev_refs(t2->services[1].maglev), 1);
	assert_same_as_computed(t2, m, 2, 0);
	assert_same_as_computed(t2, m, 2, 1);
	// The unready backend gets no entry in the rebuilt table.
	assert_int_equal(t2->services[1].maglev_size, MAGLEV_TABLE_SIZE_DEFAULT);
	for (uint32_t i = 0; i < t2->services[1].maglev_size; i++)
		assert_int_not_equal(t2->services[1].maglev[i], 2);

	// Publishing t2 frees t1: a's table lives on in t2, whole.
	tables_publish(t2, NULL);
	assert_int_equal(tables_maglev_refs(a1), 1);
	assert_same_as_computed(t2, m, 2, 0);
	tables_publish(NULL, NULL);
}

static void identical_lists_share_within_a_build_and_others_do_not(void **state)
{
	struct cfg_backend be[5][3];
	struct cfg_mapping m[5];

	(void)state;
	tables_publish(NULL, NULL);
	mapping(&m[0], "a", 80, be[0], 3, 11);
	mapping(&m[1], "same", 81, be[1], 3, 11); // the same list: shares a's
	mapping(&m[2], "order", 82, be[2], 3, 11);
	be[2][0].addr = ip("10.0.0.13"); // the same set in another order: its own
	be[2][2].addr = ip("10.0.0.11");
	mapping(&m[3], "weight", 83, be[3], 3, 11);
	be[3][1].weight = 2; // another weight: its own
	mapping(&m[4], "port", 84, be[4], 3, 11);
	be[4][0].port = 8080; // another backend port: its own
	struct tables *t = build(m, 5, 1);

	assert_int_equal(t->n_maglev_built, 4);
	assert_int_equal(t->n_maglev_reused, 1);
	assert_ptr_equal(t->services[1].maglev, t->services[0].maglev);
	assert_int_equal(tables_maglev_refs(t->services[0].maglev), 2);
	for (unsigned int i = 2; i < 5; i++)
		for (unsigned int j = 0; j < i; j++)
			assert_ptr_not_equal(t->services[i].maglev, t->services[j].maglev);
	for (unsigned int s = 0; s < 5; s++)
		assert_same_as_computed(t, m, 5, s);
	tables_free(t);
}

/* A mapping's maglev.tableSize sizes its tables; the same backend list at another size is
 * another table, and a lookup stays within the table. */
static void the_mappings_table_size_is_used_and_not_shared(void **state)
{
	struct cfg_backend be[3][3];
	struct cfg_mapping m[3];

	(void)state;
	tables_publish(NULL, NULL);
	mapping(&m[0], "default", 80, be[0], 3, 11);
	mapping(&m[1], "small", 81, be[1], 3, 11);
	m[1].maglev.table_size = 251;
	mapping(&m[2], "large", 82, be[2], 3, 11);
	m[2].maglev.table_size = MAGLEV_TABLE_SIZE;
	struct tables *t = build(m, 3, 1);

	assert_int_equal(t->n_maglev_built, 3);
	assert_int_equal(t->n_maglev_reused, 0);
	assert_int_equal(t->services[0].maglev_size, MAGLEV_TABLE_SIZE_DEFAULT);
	assert_int_equal(t->services[1].maglev_size, 251);
	assert_int_equal(t->services[2].maglev_size, MAGLEV_TABLE_SIZE);
	assert_int_equal(tables_maglev_size(t->services[1].maglev), 251);
	for (unsigned int s = 0; s < 3; s++) {
		unsigned int count[3] = {0};
		for (uint32_t i = 0; i < t->services[s].maglev_size; i++)
			count[t->services[s].maglev[i]]++;
		// Three backends of weight 1 share any table to one entry.
		for (unsigned int b = 0; b < 3; b++)
			assert_true(count[b] >= t->services[s].maglev_size / 3u &&
				    count[b] <= t->services[s].maglev_size / 3u + 1u);
		// The extremes of the flow hash land on the first and the last entry.
		assert_int_equal(
			maglev_lookup(t->services[s].maglev, t->services[s].maglev_size, 0),
			t->services[s].maglev[0]);
		assert_int_equal(maglev_lookup(t->services[s].maglev, t->services[s].maglev_size,
					       UINT32_MAX),
				 t->services[s].maglev[t->services[s].maglev_size - 1]);
		assert_same_as_computed(t, m, 3, s);
	}
	tables_free(t);
}

static void a_failed_build_gives_back_the_tables_it_shared(void **state)
{
	struct cfg_backend be_a[3], be_c[2];
	struct cfg_mapping m[3];
	const struct cfg_mapping *p[3] = {&m[0], &m[1], &m[2]};
	char err[256];

	(void)state;
	mapping(&m[0], "a", 80, be_a, 3, 11);
	struct tables *t1 = build(m, 1, 1);
	tables_publish(t1, NULL);
	uint16_t *a1 = t1->services[0].maglev;

	// a shares its table, then c clashes with b on port 81: the build fails whole.
	mapping(&m[1], "b", 81, be_c, 1, 31);
	mapping(&m[2], "c", 81, be_c, 2, 31);
	errno = 0;
	assert_null(tables_build(&cfg, p, 3, slot_of, 2, err, sizeof(err)));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(tables_maglev_refs(a1), 1);
	assert_ptr_equal(tables_get()->services[0].maglev, a1);
	tables_publish(NULL, NULL);
}

static void reuse_off_computes_every_table(void **state)
{
	struct cfg_backend be_a[3];
	struct cfg_mapping m[1];

	(void)state;
	mapping(&m[0], "a", 80, be_a, 3, 11);
	tables_publish(build(m, 1, 1), NULL);
	tables_reuse_maglev = false;
	struct tables *t = build(m, 1, 2);
	tables_reuse_maglev = true;
	assert_int_equal(t->n_maglev_built, 1);
	assert_int_equal(t->n_maglev_reused, 0);
	assert_ptr_not_equal(t->services[0].maglev, tables_get()->services[0].maglev);
	tables_free(t);
	tables_publish(NULL, NULL);
}

/* maglevThreads: the tables of a build computed by the pool and the control thread together
 * are byte for byte those the control thread alone computes, for many services at once; the
 * pool's threads started, and every job ran once (by a pool thread or the caller). A failed
 * build with queued jobs gives every table back. */
static void a_pool_computes_the_same_tables(void **state)
{
	enum { N = 24 };
	static struct cfg_backend be[N][40];
	struct cfg_mapping m[N];
	const struct cfg_mapping *p[N + 1];
	char err[256];

	(void)state;
	for (unsigned int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof(name), "m%u", i);
		mapping(&m[i], name, (uint16_t)(1000 + i), be[i], 2 + (i * 7) % 39, 1 + i * 3);
		if (i % 5 == 0)
			be[i][1].weight = 3;
		p[i] = &m[i];
	}
	tables_reuse_maglev = false;
	struct tables *alone = tables_build(&cfg, p, N, slot_of, 1, err, sizeof(err));
	assert_non_null(alone);
	assert_int_equal(alone->n_maglev_built, N);

	unsigned long by_threads0 = maglev_pool_jobs_by_threads;
	cfg.maglev_threads = 3;
	struct tables *pooled = tables_build(&cfg, p, N, slot_of, 2, err, sizeof(err));
	assert_non_null(pooled);
	assert_int_equal(maglev_pool_threads(), 3);
	assert_int_equal(pooled->n_maglev_built, N);
	assert_true(maglev_pool_jobs_by_threads - by_threads0 <= N);
	for (unsigned int s = 0; s < N; s++) {
		assert_int_equal(pooled->services[s].maglev_size, alone->services[s].maglev_size);
		assert_memory_equal(pooled->services[s].maglev, alone->services[s].maglev,
				    alone->services[s].maglev_size * sizeof(uint16_t));
		assert_int_equal(tables_maglev_refs(pooled->services[s].maglev), 1);
	}

	assert_true(maglev_pool_last_joined() <= 3);
	// A reload that lowers maglevThreads: the pool keeps its threads, a batch takes at most
	// the new count (none for 0), and the tables stay the same.
	for (unsigned int want = 1; want != UINT32_MAX; want--) {
		unsigned long by_threads = maglev_pool_jobs_by_threads;
		cfg.maglev_threads = want;
		struct tables *t = tables_build(&cfg, p, N, slot_of, 2, err, sizeof(err));
		assert_non_null(t);
		assert_int_equal(maglev_pool_threads(), 3);
		if (want)
			assert_true(maglev_pool_last_joined() <= want);
		else // the control thread alone, without the pool
			assert_int_equal(maglev_pool_jobs_by_threads, by_threads);
		for (unsigned int s = 0; s < N; s++)
			assert_memory_equal(t->services[s].maglev, alone->services[s].maglev,
					    alone->services[s].maglev_size * sizeof(uint16_t));
		tables_free(t);
	}
	cfg.maglev_threads = 3;
	// The same mappings and a clash on m0's port at the end: the jobs were queued, the
	// build fails whole and frees them (valgrind: no leak).
	struct cfg_backend be_x[2];
	struct cfg_mapping x;
	mapping(&x, "x", 1000, be_x, 2, 200);
	p[N] = &x;
	errno = 0;
	assert_null(tables_build(&cfg, p, N + 1, slot_of, 3, err, sizeof(err)));
	assert_int_equal(errno, EEXIST);

	cfg.maglev_threads = 0;
	tables_reuse_maglev = true;
	tables_free(alone);
	tables_free(pooled);
	maglev_pool_stop();
	assert_int_equal(maglev_pool_threads(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_unchanged_service_keeps_its_table_and_a_changed_one_is_rebuilt),
		cmocka_unit_test(identical_lists_share_within_a_build_and_others_do_not),
		cmocka_unit_test(the_mappings_table_size_is_used_and_not_shared),
		cmocka_unit_test(a_failed_build_gives_back_the_tables_it_shared),
		cmocka_unit_test(reuse_off_computes_every_table),
		cmocka_unit_test(a_pool_computes_the_same_tables),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
