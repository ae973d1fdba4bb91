/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tables_build_from() (issue 12, control plane at scale): a generation built by taking the
 * unchanged mappings' entries from the previous one equals a generation built from scratch,
 * byte for byte in every array the data plane reads (mappings, services, backends, rules,
 * VIPs and their index, per-slot timeouts and MSS clamps, routes and addresses) and key for
 * key in the service table, Maglev tables by content; it builds only the changed mappings
 * (counter slots asked, Maglev tables computed); it takes nothing when the global timeouts
 * changed; and it fails as a build from scratch does, on the same mapping.
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
#include <rte_hash.h>

#include <strait/maglev.h>
#include <strait/tables.h>

#include "eal_fixture.h"

#define N_MAPS 12
#define MAX_BE 8

static struct cfg cfg;
static unsigned int slot_calls;

static int group_setup(void **state)
{
	(void)state;
	return t_tables_setup("tables_incr_test", &cfg);
}

static int group_teardown(void **state)
{
	(void)state;
	return t_tables_teardown();
}

/* Stable slots by name, as cp/state.c gives them; counts the calls. */
static int slot_of(const char *ns, const char *name)
{
	(void)ns;
	slot_calls++;
	return t_slot_by_name(name);
}

/* A set of mappings with a bit of everything: several addresses, port ranges, allow-lists,
 * own timeouts and MSS clamps, table sizes, draining backends, source rules with groups. */
struct set {
	struct cfg_mapping m[N_MAPS + 4];
	struct cfg_backend be[N_MAPS + 4][MAX_BE];
	unsigned int n;
};

static void mapping(struct set *s, unsigned int i, unsigned int id)
{
	struct cfg_mapping *m = &s->m[i];
	unsigned int nb = 2 + id % 6;

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "m%u", id);
	snprintf(m->ns, sizeof(m->ns), "ns");
	m->ordinal = -1;
	m->addrs[m->n_addrs++] = 0xcb007100u + id; // 203.0.113.id
	if (id % 3 == 0)
		m->addrs[m->n_addrs++] = 0xcb007180u + id;
	m->ports[m->n_ports++] = (struct cfg_map_port){.port = 80, .proto = IPPROTO_TCP};
	if (id % 2)
		m->ports[m->n_ports++] = (struct cfg_map_port){
			.port = 1000, .end_port = 1003, .service_port = 2000, .proto = IPPROTO_UDP};
	if (id % 4 == 1)
		m->allowed[m->n_allowed++] = (struct cfg_cidr){0xc6336400u, 24};
	if (id % 5 == 2)
		m->timeouts.udp = 30 + id;
	m->tcp_mss_clamp = id % 4 == 3 ? 1400 : 0;
	m->maglev.table_size = id % 2 ? 251 : 0;
	m->maglev.seed = id;
	if (id % 6 == 4) { // two groups: 192.0.2.0/24 to group 1, the rest to group 0
		m->n_groups = 2;
		m->rules[m->n_rules++] = (struct cfg_rule){{0xc0000200u, 24}, 0, 65535, 1};
		m->rules[m->n_rules++] = (struct cfg_rule){{0, 0}, 0, 65535, 0};
	}
	for (unsigned int b = 0; b < nb; b++) {
		struct cfg_backend *be = &s->be[i][b];
		*be = (struct cfg_backend){.addr = 0x0a010000u + id * 256 + b, .weight = 1};
		snprintf(be->name, sizeof(be->name), "pod-%u-%u", id, b);
		be->group = m->n_groups ? (uint8_t)(b % 2) : 0;
		be->serving_only = b == 1 && id % 7 == 0;
	}
	m->backends = s->be[i];
	m->n_backends = nb;
}

static void set_init(struct set *s)
{
	for (unsigned int i = 0; i < N_MAPS; i++)
		mapping(s, i, i);
	s->n = N_MAPS;
}

static struct tables *build_from(const struct cfg *c, struct set *s, const struct tables *prev,
				 const int32_t *prev_of, int *failed)
{
	const struct cfg_mapping *p[N_MAPS + 4];
	char err[256];

	for (unsigned int i = 0; i < s->n; i++)
		p[i] = &s->m[i];
	return tables_build_from(c, p, s->n, slot_of, prev, prev_of, 7, failed, err, sizeof(err));
}

/* @p dst a copy of @p src whose mappings point at @p dst's own backends (the next desired
 * set, to change without touching @p src). */
static void set_copy(struct set *dst, const struct set *src)
{
	*dst = *src;
	for (unsigned int i = 0; i < N_MAPS; i++)
		dst->m[i].backends = dst->be[i];
}

/* @p s filled with the N_MAPS mappings, built from scratch and published: every test's first
 * generation. */
static struct tables *first_generation(struct set *s)
{
	int failed = -2;

	set_init(s);
	struct tables *t = build_from(&cfg, s, NULL, NULL, &failed);
	assert_non_null(t);
	tables_publish(t, NULL);
	return t;
}

/* For each of @p now's mappings, the index of an equal one in @p before (as cp/state.c
 * matches them), or -1. */
static void match(const struct set *before, const struct set *now, int32_t *prev_of)
{
	for (unsigned int i = 0; i < now->n; i++) {
		const struct cfg_mapping *a = &now->m[i];
		prev_of[i] = -1;
		for (unsigned int j = 0; j < before->n; j++) {
			const struct cfg_mapping *b = &before->m[j];
			struct cfg_mapping x = *a, y = *b;
			x.backends = y.backends = NULL;
			if (a->n_backends == b->n_backends && !memcmp(&x, &y, sizeof(x)) &&
			    !memcmp(a->backends, b->backends, a->n_backends * sizeof(*a->backends)))
				prev_of[i] = (int32_t)j;
		}
	}
}

/* @p a and @p b hold the same for the data plane: every array byte for byte, Maglev tables
 * by content, the service table key for key. */
static void assert_tables_equal(const struct tables *a, const struct tables *b)
{
	struct tables x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.generation = y.generation = 0;
	x.svc = y.svc = NULL;
	x.svc_refs = y.svc_refs = NULL;
	x.mappings_refs = y.mappings_refs = NULL;
	x.slots_refs = y.slots_refs = NULL;
	x.svc_shared = y.svc_shared = false;
	x.services = y.services = NULL;
	x.mappings = y.mappings = NULL;
	x.backends = y.backends = NULL;
	x.rules = y.rules = NULL;
	x.vips = y.vips = NULL;
	x.vip_slots = y.vip_slots = NULL;
	x.slot_timeouts = y.slot_timeouts = NULL;
	x.slot_mss_clamp = y.slot_mss_clamp = NULL;
	x.n_maglev_built = y.n_maglev_built = x.n_maglev_reused = y.n_maglev_reused = 0;
	x.n_copied_bytes = y.n_copied_bytes = 0;
	x.n_maglev_index = y.n_maglev_index = 0;
	assert_memory_equal(&x, &y, sizeof(x)); // counts, addresses, routes, timeouts

	assert_memory_equal(a->mappings, b->mappings, a->n_mappings * sizeof(*a->mappings));
	assert_memory_equal(a->backends, b->backends, a->n_backends * sizeof(*a->backends));
	if (a->n_rules)
		assert_memory_equal(a->rules, b->rules, a->n_rules * sizeof(*a->rules));
	assert_memory_equal(a->vips, b->vips, a->n_vips * sizeof(*a->vips));
	assert_memory_equal(a->vip_slots, b->vip_slots, (a->vip_mask + 1) * sizeof(*a->vip_slots));
	assert_memory_equal(a->slot_timeouts, b->slot_timeouts,
			    CFG_MAX_MAPPINGS * sizeof(*a->slot_timeouts));
	assert_memory_equal(a->slot_mss_clamp, b->slot_mss_clamp,
			    CFG_MAX_MAPPINGS * sizeof(*a->slot_mss_clamp));
	for (uint32_t i = 0; i < a->n_services; i++) {
		struct tbl_service s = a->services[i], t = b->services[i];
		assert_int_equal(s.maglev == NULL, t.maglev == NULL);
		if (s.maglev)
			assert_memory_equal(s.maglev, t.maglev, s.maglev_size * sizeof(uint16_t));
		s.maglev = t.maglev = NULL;
		assert_memory_equal(&s, &t, sizeof(s));
	}
	// Every key of each, found in the other with the same service.
	assert_int_equal(rte_hash_count(a->svc), rte_hash_count(b->svc));
	for (uint32_t m = 0; m < a->n_mappings; m++) {
		const struct tbl_mapping *mp = &a->mappings[m];
		for (uint32_t s = mp->first_service; s < mp->first_service + mp->n_services; s++)
			for (uint32_t ad = 0; ad < mp->n_addrs; ad++)
				for (uint32_t port = a->services[s].port_lo;
				     port <= a->services[s].port_hi; port++) {
					const struct tbl_service *sa, *sb;
					sa = tables_svc_lookup(a, htonl(mp->addrs[ad]),
							       htons((uint16_t)port),
							       a->services[s].proto);
					sb = tables_svc_lookup(b, htonl(mp->addrs[ad]),
							       htons((uint16_t)port),
							       a->services[s].proto);
					assert_non_null(sa);
					assert_non_null(sb);
					assert_int_equal(sa - a->services, sb - b->services);
				}
	}
}

static void a_generation_built_from_the_previous_one_equals_one_built_from_scratch(void **state)
{
	static struct set s1, s2;
	int32_t prev_of[N_MAPS + 4];
	int failed;

	(void)state;
	struct tables *t1 = first_generation(&s1);

	// The next desired set: one endpoint of m2 goes unready, m5 is deleted, m0 and m1 swap
	// places, m4 (groups and rules) gets another backend port, a new mapping m20 comes
	// last; the others are unchanged (in other positions).
	s2 = s1;
	s2.n = 0;
	mapping(&s2, s2.n++, 1);
	mapping(&s2, s2.n++, 0);
	for (unsigned int id = 2; id < N_MAPS; id++)
		if (id != 5)
			mapping(&s2, s2.n++, id);
	s2.be[2][0].serving_only = true; // m2
	s2.be[4][0].port = 8080;	 // m4
	mapping(&s2, s2.n++, 20);
	match(&s1, &s2, prev_of);
	assert_int_equal(prev_of[0], 1);
	assert_int_equal(prev_of[1], 0);
	assert_int_equal(prev_of[2], -1);
	assert_int_equal(prev_of[4], -1);
	assert_int_equal(prev_of[s2.n - 1], -1);

	slot_calls = 0;
	struct tables *incr = build_from(&cfg, &s2, t1, prev_of, &failed);
	assert_non_null(incr);
	// Only the three changed or new mappings asked for a slot and computed tables.
	assert_int_equal(slot_calls, 3);
	slot_calls = 0;
	struct tables *scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_non_null(scratch);
	assert_int_equal(slot_calls, s2.n);
	assert_tables_equal(incr, scratch);
	assert_true(incr->n_maglev_built < scratch->n_maglev_built + scratch->n_maglev_reused);
	assert_int_equal(incr->n_maglev_built + incr->n_maglev_reused,
			 scratch->n_maglev_built + scratch->n_maglev_reused);
	tables_free(scratch);

	// Published over t1, the shared Maglev tables live on; built again from it, the same.
	tables_publish(incr, NULL);
	int32_t same[N_MAPS + 4];
	for (unsigned int i = 0; i < s2.n; i++)
		same[i] = (int32_t)i;
	struct tables *again = build_from(&cfg, &s2, incr, same, &failed);
	scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_non_null(again);
	assert_non_null(scratch);
	assert_int_equal(again->n_maglev_built, 0);
	assert_tables_equal(again, scratch);
	assert_tables_equal(again, incr);
	tables_free(scratch);
	tables_free(again);
	tables_publish(NULL, NULL);
}

static void other_global_timeouts_rebuild_every_mapping(void **state)
{
	static struct set s;
	int32_t same[N_MAPS];
	struct cfg c2 = cfg;
	int failed;

	(void)state;
	set_init(&s);
	struct tables *t1 = build_from(&cfg, &s, NULL, NULL, &failed);
	assert_non_null(t1);
	tables_publish(t1, NULL);
	for (unsigned int i = 0; i < s.n; i++)
		same[i] = (int32_t)i;
	c2.timeouts.udp = 77; // a mapping without its own udp timeout resolves to it
	slot_calls = 0;
	struct tables *incr = build_from(&c2, &s, t1, same, &failed);
	assert_non_null(incr);
	assert_int_equal(slot_calls, s.n); // nothing taken
	struct tables *scratch = build_from(&c2, &s, NULL, NULL, &failed);
	assert_non_null(scratch);
	assert_tables_equal(incr, scratch);
	assert_int_equal(incr->mappings[0].timeouts.udp, 77);
	tables_free(scratch);
	tables_free(incr);
	tables_publish(NULL, NULL);
}

static void a_conflict_with_a_taken_mapping_fails_as_from_scratch(void **state)
{
	static struct set s1, s2;
	int32_t prev_of[N_MAPS + 4];
	int failed_incr = -2, failed_scratch = -2;

	(void)state;
	set_init(&s1);
	struct tables *t1 = build_from(&cfg, &s1, NULL, NULL, &failed_incr);
	assert_non_null(t1);
	tables_publish(t1, NULL);
	uint16_t *mg = t1->services[t1->mappings[1].first_service].maglev; // m1's: taken
	assert_non_null(mg);
	uint32_t refs = tables_maglev_refs(mg);

	// A new mapping first in the list claims m3's address and port: m3 (taken) fails.
	s2 = s1;
	mapping(&s2, 0, 30);
	s2.m[0].addrs[0] = s1.m[3].addrs[0];
	for (unsigned int i = 1; i < N_MAPS; i++)
		mapping(&s2, i, i);
	match(&s1, &s2, prev_of);
	assert_int_equal(prev_of[3], 3);
	assert_null(build_from(&cfg, &s2, t1, prev_of, &failed_incr));
	assert_int_equal(errno, EEXIST);
	assert_null(build_from(&cfg, &s2, NULL, NULL, &failed_scratch));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(failed_incr, 3);
	assert_int_equal(failed_scratch, 3);
	// The failed build gave back the references it took.
	assert_int_equal(tables_maglev_refs(mg), refs);
	tables_publish(NULL, NULL);
}

/* Endpoint churn: the same mappings in the same order, one with a backend gone unready, one
 * with another backend address and weight, one with other timeouts. Every service keeps its
 * index: the build shares the published service table (no key added again, none checked for
 * conflicts), takes every other row as it is, builds only the three changed mappings, and
 * equals a build from scratch; the shared table outlives the generation it came from. */
static void backend_changes_share_the_service_table_and_rebuild_only_their_rows(void **state)
{
	static struct set s1, s2;
	int32_t prev_of[N_MAPS + 4];
	int failed;

	(void)state;
	set_init(&s1);
	struct tables *t1 = build_from(&cfg, &s1, NULL, NULL, &failed);
	assert_non_null(t1);
	assert_false(t1->svc_shared);
	tables_publish(t1, NULL);

	set_copy(&s2, &s1);
	s2.be[2][0].serving_only = true; // m2: an endpoint goes unready
	s2.be[4][1].addr = 0x0a090909u;	 // m4 (groups, rules): a backend replaced
	s2.be[4][1].weight = 3;
	s2.m[7].timeouts.udp = 99; // m7: its own timeout
	match(&s1, &s2, prev_of);
	assert_int_equal(prev_of[2], -1);
	assert_int_equal(prev_of[4], -1);
	assert_int_equal(prev_of[7], -1);

	slot_calls = 0;
	struct tables *incr = build_from(&cfg, &s2, t1, prev_of, &failed);
	assert_non_null(incr);
	assert_true(incr->svc_shared);
	assert_ptr_equal(incr->svc, t1->svc);
	assert_int_equal(slot_calls, 3);
	// The unchanged mappings' Maglev tables are t1's, the changed ones' not.
	for (uint32_t m = 0; m < incr->n_mappings; m++) {
		const struct tbl_service *a = &incr->services[incr->mappings[m].first_service];
		const struct tbl_service *b = &t1->services[t1->mappings[m].first_service];
		if (prev_of[m] == (int32_t)m && a->maglev)
			assert_ptr_equal(a->maglev, b->maglev);
		if (m == 4) // its group 1 (odd backends), whose list changed
			assert_ptr_not_equal(a[1].maglev, b[1].maglev);
	}
	struct tables *scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_non_null(scratch);
	assert_false(scratch->svc_shared);
	assert_tables_equal(incr, scratch);
	assert_int_equal(incr->n_maglev_built + incr->n_maglev_reused,
			 scratch->n_maglev_built + scratch->n_maglev_reused);
	tables_free(scratch);

	// Published over t1 (freed): the shared table lives on with incr, and a port change
	// (another key) builds a table of its own.
	tables_publish(incr, NULL);
	assert_int_equal(*incr->svc_refs, 1);
	scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_tables_equal(incr, scratch);
	tables_free(scratch);
	static struct set s3;
	set_copy(&s3, &s2);
	s3.m[3].ports[0].port = 81;
	match(&s2, &s3, prev_of);
	assert_int_equal(prev_of[3], -1);
	struct tables *moved = build_from(&cfg, &s3, incr, prev_of, &failed);
	assert_non_null(moved);
	assert_false(moved->svc_shared);
	assert_ptr_not_equal(moved->svc, incr->svc);
	scratch = build_from(&cfg, &s3, NULL, NULL, &failed);
	assert_tables_equal(moved, scratch);
	tables_free(scratch);
	tables_free(moved);
	tables_publish(NULL, NULL);
}

/* Endpoint churn leaves every mapping's row as it was: the new generation shares the published
 * one's mappings array and slot arrays (no copy), which outlive the generation they came from;
 * a mapping whose row changes (its own timeout) gets the generation arrays of its own, and the
 * one shared before is left as it was. Every generation equals a build from scratch. */
static void backend_changes_share_the_mappings_and_slots_until_a_row_changes(void **state)
{
	static struct set s1, s2, s3;
	int32_t prev_of[N_MAPS + 4];
	int failed;

	(void)state;
	struct tables *t1 = first_generation(&s1);

	set_copy(&s2, &s1);
	s2.be[2][0].serving_only = true; // m2: an endpoint goes unready
	s2.be[4][1].addr = 0x0a090909u;	 // m4 (groups, rules): a backend replaced
	match(&s1, &s2, prev_of);
	struct tables *incr = build_from(&cfg, &s2, t1, prev_of, &failed);
	assert_non_null(incr);
	assert_true(incr->svc_shared);
	assert_ptr_equal(incr->mappings, t1->mappings);
	assert_ptr_equal(incr->slot_timeouts, t1->slot_timeouts);
	assert_ptr_equal(incr->slot_mss_clamp, t1->slot_mss_clamp);
	assert_int_equal(*incr->mappings_refs, 2);
	assert_int_equal(*incr->slots_refs, 2);
	struct tables *scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_tables_equal(incr, scratch);
	tables_publish(incr, NULL); // t1 freed: the arrays live on with incr
	assert_int_equal(*incr->mappings_refs, 1);
	assert_int_equal(*incr->slots_refs, 1);
	assert_tables_equal(incr, scratch);
	tables_free(scratch);

	set_copy(&s3, &s2);
	s3.m[7].timeouts.udp = 99; // m7: its own timeout, in its row and its slot
	match(&s2, &s3, prev_of);
	struct tables *own = build_from(&cfg, &s3, incr, prev_of, &failed);
	assert_non_null(own);
	assert_true(own->svc_shared);
	assert_ptr_not_equal(own->mappings, incr->mappings);
	assert_ptr_not_equal(own->slot_timeouts, incr->slot_timeouts);
	assert_int_equal(*incr->mappings_refs, 1);
	assert_int_equal(*incr->slots_refs, 1);
	scratch = build_from(&cfg, &s3, NULL, NULL, &failed);
	assert_tables_equal(own, scratch);
	tables_free(scratch);
	scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_tables_equal(incr, scratch); // untouched by own's build
	tables_free(scratch);
	tables_free(own);
	tables_publish(NULL, NULL);
}

/* Endpoint churn copies the services, backends and rules arrays whole into each generation
 * (the mappings and slots are shared): the backends' rows hold only what the workers read,
 * 8 bytes each (a pod's name was 64 more: 4.4 MB a generation at 68,000 backends). */
static void backend_changes_copy_8_bytes_a_backend(void **state)
{
	static struct set s1, s2;
	int32_t prev_of[N_MAPS + 4];
	int failed;

	(void)state;
	struct tables *t1 = first_generation(&s1);

	set_copy(&s2, &s1);
	s2.be[3][0].serving_only = true; // m3: an endpoint goes unready
	match(&s1, &s2, prev_of);
	struct tables *incr = build_from(&cfg, &s2, t1, prev_of, &failed);
	assert_non_null(incr);
	assert_true(incr->svc_shared);
	assert_true(incr->n_backends > 0);
	assert_int_equal(incr->n_copied_bytes, incr->n_services * sizeof(struct tbl_service) +
						       incr->n_backends * 8 +
						       incr->n_rules * sizeof(struct tbl_rule));
	struct tables *scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_int_equal(scratch->n_copied_bytes, 0); // built from scratch: nothing copied
	assert_tables_equal(incr, scratch);
	tables_free(scratch);
	tables_publish(incr, NULL);
	tables_publish(NULL, NULL);
}

/* The smallest power of two >= 16 and >= 2 x @p want: the index's size. */
static uint32_t index_slots(uint32_t want)
{
	uint32_t size = 16;

	while (size < 2 * want)
		size *= 2;
	return size;
}

/* The index of Maglev tables to share that an endpoint change's build makes holds the previous
 * generation's tables and the changed mapping's services, not every service twice over (at
 * 10,000 mappings, 2 MB zeroed and faulted in a build). */
static void an_endpoint_change_indexes_the_tables_not_every_service(void **state)
{
	static struct set s1, s2;
	int32_t prev_of[N_MAPS + 4];
	int failed;

	(void)state;
	struct tables *t1 = first_generation(&s1);
	uint32_t tables = t1->n_maglev_built + t1->n_maglev_reused, n = 0;

	for (uint32_t i = 0; i < t1->n_services; i++)
		n += t1->services[i].maglev != NULL;
	assert_int_equal(tables, n);
	assert_true(tables > 4);
	set_copy(&s2, &s1);
	s2.be[3][0].serving_only = true; // m3 (2 services): an endpoint goes unready
	match(&s1, &s2, prev_of);
	struct tables *incr = build_from(&cfg, &s2, t1, prev_of, &failed);
	assert_non_null(incr);
	assert_true(incr->svc_shared);
	assert_int_equal(incr->n_maglev_built, 1); // its second service shares the first's
	assert_int_equal(incr->n_maglev_index, index_slots(tables + 2));
	assert_true(incr->n_maglev_index < index_slots(2 * t1->n_services));
	struct tables *scratch = build_from(&cfg, &s2, NULL, NULL, &failed);
	assert_tables_equal(incr, scratch);
	tables_free(scratch);
	tables_publish(incr, NULL);
	tables_publish(NULL, NULL);
}

/* A changed mapping that fails in its rows (a rule naming a group it has not) fails the build
 * on that mapping, and gives back every reference taken: the Maglev tables' and the service
 * table's. */
static void a_failed_in_place_build_gives_back_its_references(void **state)
{
	static struct set s1, s2;
	int32_t prev_of[N_MAPS + 4];
	int failed = -2;

	(void)state;
	struct tables *t1 = first_generation(&s1);
	uint16_t *mg = t1->services[t1->mappings[1].first_service].maglev;
	assert_non_null(mg);
	uint32_t refs = tables_maglev_refs(mg);

	set_copy(&s2, &s1);
	s2.m[4].rules[0].group = 5; // m4 has two groups
	match(&s1, &s2, prev_of);
	assert_null(build_from(&cfg, &s2, t1, prev_of, &failed));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(failed, 4);
	assert_int_equal(tables_maglev_refs(mg), refs);
	assert_int_equal(*t1->svc_refs, 1);
	tables_publish(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			a_generation_built_from_the_previous_one_equals_one_built_from_scratch),
		cmocka_unit_test(other_global_timeouts_rebuild_every_mapping),
		cmocka_unit_test(a_conflict_with_a_taken_mapping_fails_as_from_scratch),
		cmocka_unit_test(
			backend_changes_share_the_service_table_and_rebuild_only_their_rows),
		cmocka_unit_test(backend_changes_share_the_mappings_and_slots_until_a_row_changes),
		cmocka_unit_test(a_failed_in_place_build_gives_back_its_references),
		cmocka_unit_test(backend_changes_copy_8_bytes_a_backend),
		cmocka_unit_test(an_endpoint_change_indexes_the_tables_not_every_service),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
