/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The desired state's side of endpoint changes and counter slots (cp/state.c), over the whole
 * control plane of cp_fixture.h (workers not launched: a clear runs in the control thread, at
 * once). Deterministic: no timing, the fixture injects into worker 0's pipeline itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>

#include "cp_fixture.h"

FIXTURE_GROUP("state_test")

static struct cfg_backend be[3];

static uint32_t ip4(const char *s)
{
	uint32_t a;
	assert_int_equal(cfg_parse_ipv4(s, &a), 0);
	return a;
}

/* A CLI mapping on 198.51.100.1:@p port/tcp over @p n of be[]. */
static void mk(struct cfg_mapping *m, const char *name, uint16_t port, unsigned int n)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->addrs[0] = ip4("198.51.100.1");
	m->n_addrs = 1;
	m->ports[0] = (struct cfg_map_port){.port = port, .end_port = port, .proto = IPPROTO_TCP};
	m->n_ports = 1;
	m->backends = be;
	m->n_backends = n;
	m->ordinal = -1;
	m->remove_orphan_sessions = true;
}

static void upsert(const struct cfg_mapping *m)
{
	char err[256];
	int rc = cp_mapping_upsert(CP_SRC_CLI, m, err, sizeof(err));
	if (rc != 0)
		fail_msg("upsert %s: %d %s", m->name, rc, err);
}

struct count {
	uint32_t backend;
	unsigned int n;
};

static int count_cb(const struct dp_session_info *s, void *arg)
{
	struct count *c = arg;
	c->n += s->backend_addr == c->backend;
	return 0;
}

/* Sessions of mapping @p name to backend @p addr. */
static unsigned int sessions_to(const char *name, const char *addr)
{
	struct count c = {.backend = ip4(addr)};
	dp_sessions_walk(cp_slot_of("", name), count_cb, &c);
	return c.n;
}

static void slots_are_reused_over_5000_mappings_that_come_and_go(void **state)
{
	(void)state;
	struct dp_worker *w = dp_workers[0];
	struct cfg_mapping m;
	unsigned int before = cp_slots_in_use();
	int max_slot = -1;

	be[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	for (unsigned int i = 0; i < 5000; i++) {
		char name[32];
		snprintf(name, sizeof(name), "churn-%05u", i);
		mk(&m, name, 40000, 1);
		upsert(&m);
		int slot = cp_slot_of("", name);
		assert_true(slot >= 0);
		max_slot = slot > max_slot ? slot : max_slot;
		// A reused slot's counters start at zero.
		assert_int_equal(w->stats.map[slot].sessions_created, 0);
		assert_int_equal(w->stats.map[slot].sessions_expired, 0);
		fixture_inject((uint16_t)(20000 + i % 1000), 40000, IPPROTO_TCP);
		assert_int_equal(w->stats.map[slot].sessions_created, 1);
		assert_int_equal(cp_mapping_delete(CP_SRC_CLI, "", name), 0);
	}
	cp_state_poll();
	assert_int_equal(cp_slots_in_use(), before);
	assert_true(max_slot < (int)before + 2);
	assert_int_equal(w->sess.active, 0);
}

/* A resync (cp_mappings_replace) of thousands of mappings matches each one to its new self by
 * namespace and name (cp/state.c indexes both the slots and the new list): every slot stays
 * where it was, and only the mapping that lost a backend has that backend's sessions cleared. */
static void a_resync_of_3000_mappings_keeps_slots_and_clears_only_the_changed_one(void **state)
{
	enum { N = 3000 };
	static struct cfg_mapping ms[N];
	static int slot[N];
	static struct cfg_backend two[2], one[1];
	char err[256];

	(void)state;
	two[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	two[1] = (struct cfg_backend){.addr = ip4("10.0.0.12"), .weight = 1};
	one[0] = two[1];
	for (unsigned int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "rs-%04u", i);
		mk(&ms[i], name, (uint16_t)(41000 + i), 2);
		snprintf(ms[i].ns, sizeof(ms[i].ns), "ns%u", i % 7);
		ms[i].backends = two;
	}
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, ms, N, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < N; i++) {
		slot[i] = cp_slot_find(ms[i].ns, ms[i].name);
		assert_true(slot[i] >= 0);
		for (unsigned int j = 0; j < i; j += 97)
			assert_int_not_equal(slot[i], slot[j]);
	}
	// Sessions of mappings 1234 and 1235, on both backends (Maglev spreads the ports).
	unsigned int before[2] = {0, 0};
	for (uint16_t p = 0; p < 64; p++) {
		fixture_inject((uint16_t)(52000 + p), 41000 + 1234, IPPROTO_TCP);
		fixture_inject((uint16_t)(52000 + p), 41000 + 1235, IPPROTO_TCP);
	}
	struct count c11 = {.backend = ip4("10.0.0.11")}, c12 = {.backend = ip4("10.0.0.12")};
	dp_sessions_walk(slot[1234], count_cb, &c11);
	before[0] = c11.n;
	dp_sessions_walk(slot[1235], count_cb, &c12);
	before[1] = c12.n;
	assert_true(before[0] > 0 && before[1] > 0);

	// 1234 loses 10.0.0.11; the list comes back in another order.
	ms[1234].backends = one;
	ms[1234].n_backends = 1;
	for (unsigned int i = 0; i < N / 2; i++) {
		struct cfg_mapping t = ms[i];
		ms[i] = ms[N - 1 - i];
		ms[N - 1 - i] = t;
	}
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, ms, N, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < N; i++)
		assert_int_equal(cp_slot_find(ms[i].ns, ms[i].name), slot[N - 1 - i]);
	c11.n = 0;
	dp_sessions_walk(slot[1234], count_cb, &c11);
	assert_int_equal(c11.n, 0);
	c12.n = 0;
	dp_sessions_walk(slot[1235], count_cb, &c12);
	assert_int_equal(c12.n, before[1]);
	struct count c1235 = {.backend = ip4("10.0.0.11")};
	dp_sessions_walk(slot[1235], count_cb, &c1235);
	assert_true(c1235.n > 0); // 1235 kept 10.0.0.11, and its sessions

	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, NULL, 0, err, sizeof(err)), 0);
	cp_state_poll();
	assert_int_equal(cp_slot_find(ms[0].ns, ms[0].name), -1);
}

/* The state's copy of mapping @p ns/@p name, or NULL. */
static const struct cfg_mapping *state_map(const char *ns, const char *name)
{
	for (unsigned int i = 0; i < cp_mapping_count(); i++) {
		const struct cfg_mapping *m = cp_mapping_at(i, NULL);
		if (!strcmp(m->ns, ns) && !strcmp(m->name, name))
			return m;
	}
	return NULL;
}

/* A resync moves the mappings it finds unchanged (byte for byte, backends too) into the new
 * list as they are, without a copy (the control plane at scale: one object of thousands
 * changed), and copies the changed ones. */
/* The published tables equal a build from scratch of the state's mappings, in the arrays the
 * data plane reads (tables_incr_test.c compares every one). */
static void assert_published_as_from_scratch(void)
{
	const struct tables *t = tables_get();
	const struct cfg_mapping *p[64];
	unsigned int n = cp_mapping_count();
	char err[256];

	assert_true(n <= 64);
	for (unsigned int i = 0; i < n; i++)
		p[i] = cp_mapping_at(i, NULL);
	struct tables *f = tables_build(cp_config(), p, n, cp_slot_of, 0, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(f->n_mappings, t->n_mappings);
	assert_int_equal(f->n_services, t->n_services);
	assert_int_equal(f->n_backends, t->n_backends);
	assert_memory_equal(f->mappings, t->mappings, n * sizeof(*t->mappings));
	assert_memory_equal(f->backends, t->backends, t->n_backends * sizeof(*t->backends));
	for (uint32_t i = 0; i < t->n_services; i++) {
		struct tbl_service a = f->services[i], b = t->services[i];
		if (a.maglev)
			assert_memory_equal(a.maglev, b.maglev, a.maglev_size * sizeof(uint16_t));
		a.maglev = b.maglev = NULL;
		assert_memory_equal(&a, &b, sizeof(a));
	}
	assert_memory_equal(f->slot_timeouts, t->slot_timeouts,
			    CFG_MAX_MAPPINGS * sizeof(*t->slot_timeouts));
	assert_int_equal(f->n_vips, t->n_vips);
	assert_memory_equal(f->vips, t->vips, t->n_vips * sizeof(*t->vips));
	assert_memory_equal(f->addrs, t->addrs, sizeof(t->addrs));
	tables_free(f);
}

static void a_resync_moves_unchanged_mappings_and_copies_changed_ones(void **state)
{
	static struct cfg_backend two[2], other[2];
	struct cfg_mapping ms[3];
	const struct cfg_backend *held[3];
	char err[256];

	(void)state;
	two[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	two[1] = (struct cfg_backend){.addr = ip4("10.0.0.12"), .weight = 1};
	other[0] = two[0];
	other[1] = (struct cfg_backend){.addr = ip4("10.0.0.13"), .weight = 1};
	for (unsigned int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "mv-%u", i);
		mk(&ms[i], name, (uint16_t)(43000 + i), 2);
		snprintf(ms[i].ns, sizeof(ms[i].ns), "mv");
		ms[i].backends = two;
	}
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, ms, 3, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 3; i++) {
		held[i] = state_map("mv", ms[i].name)->backends;
		assert_ptr_not_equal(held[i], two); // the state's own copy
	}
	uint64_t gen = cp_generation();

	ms[1].backends = other;
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, ms, 3, err, sizeof(err)), 0);
	assert_int_equal(cp_generation(), gen + 1);
	assert_ptr_equal(state_map("mv", "mv-0")->backends, held[0]);
	assert_ptr_equal(state_map("mv", "mv-2")->backends, held[2]);
	const struct cfg_mapping *m1 = state_map("mv", "mv-1");
	assert_ptr_not_equal(m1->backends, other);
	assert_int_equal(m1->backends[1].addr, ip4("10.0.0.13"));
	assert_int_equal(tables_get()->n_mappings >= 3, 1);
	// The published tables, which took the unchanged mappings' entries from the previous
	// generation (tables_build_from()), are what a build from scratch makes of the list.
	assert_published_as_from_scratch();

	// The same set in another order (matched by name, not by position): every one moves.
	struct cfg_mapping rev[3] = {ms[2], ms[1], ms[0]};
	held[1] = state_map("mv", "mv-1")->backends;
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, rev, 3, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 3; i++)
		assert_ptr_equal(state_map("mv", ms[i].name)->backends, held[i]);
	assert_published_as_from_scratch();
	// The middle one gone: the others move past it, its slot drains.
	int slot1 = cp_slot_find("mv", "mv-1");
	assert_true(slot1 >= 0);
	rev[1] = ms[0];
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, rev, 2, err, sizeof(err)), 0);
	assert_null(state_map("mv", "mv-1"));
	assert_ptr_equal(state_map("mv", "mv-0")->backends, held[0]);
	assert_ptr_equal(state_map("mv", "mv-2")->backends, held[2]);
	assert_int_equal(cp_slot_find("mv", "mv-1"), -1);
	assert_published_as_from_scratch();
	// A kernel TAP takes an address (an HA takeover): the same list published again, every
	// entry taken from the published tables, the new address in.
	uint32_t took = ip4("203.0.113.99");
	uint64_t before = cp_generation();
	assert_int_equal(cp_state_set_held(0, &took, 1), 1);
	assert_int_equal(cp_generation(), before + 1);
	assert_true(tables_is_local(tables_get(), 0, htonl(took)));
	assert_published_as_from_scratch();
	assert_int_equal(cp_state_set_held(0, NULL, 0), 1);
	assert_published_as_from_scratch();

	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, NULL, 0, err, sizeof(err)), 0);
	cp_state_poll();
	assert_null(state_map("mv", "mv-0"));
}

/* A resync with ids (the reconcile's memo ids, struct k8s_desired.ids): a mapping that comes
 * back with the id its published self came with moves over without being compared; one with
 * another id (rebuilt) is compared, and moves when equal; one without id is compared. */
static void a_resync_takes_mappings_with_their_published_id_without_comparing(void **state)
{
	static struct cfg_backend two[2], other[2];
	struct cfg_mapping ms[3];
	const struct cfg_backend *held[3];
	uint64_t ids[3] = {101, 102, 103};
	char err[256];

	(void)state;
	two[0] = (struct cfg_backend){.addr = ip4("10.0.0.21"), .weight = 1};
	two[1] = (struct cfg_backend){.addr = ip4("10.0.0.22"), .weight = 1};
	other[0] = two[0];
	other[1] = (struct cfg_backend){.addr = ip4("10.0.0.23"), .weight = 1};
	for (unsigned int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "id-%u", i);
		mk(&ms[i], name, (uint16_t)(44000 + i), 2);
		snprintf(ms[i].ns, sizeof(ms[i].ns), "id");
		ms[i].backends = two;
	}
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, 3, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 3; i++)
		held[i] = state_map("id", ms[i].name)->backends;

	// The same ids: nothing compared, every one moved.
	unsigned long c0 = cp_state_compared;
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, 3, err, sizeof(err)), 0);
	assert_int_equal(cp_state_compared - c0, 0);
	for (unsigned int i = 0; i < 3; i++)
		assert_ptr_equal(state_map("id", ms[i].name)->backends, held[i]);

	// id-1 rebuilt with other backends (a new id), id-2 rebuilt the same (a new id): both
	// compared, id-2 moves and takes its new id, id-1 is copied.
	ms[1].backends = other;
	ids[1] = 202;
	ids[2] = 203;
	c0 = cp_state_compared;
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, 3, err, sizeof(err)), 0);
	assert_int_equal(cp_state_compared - c0, 2);
	assert_ptr_equal(state_map("id", "id-0")->backends, held[0]);
	assert_ptr_equal(state_map("id", "id-2")->backends, held[2]);
	assert_int_equal(state_map("id", "id-1")->backends[1].addr, ip4("10.0.0.23"));
	assert_published_as_from_scratch();
	c0 = cp_state_compared;
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, 3, err, sizeof(err)), 0);
	assert_int_equal(cp_state_compared - c0, 0);

	// Without ids, each is compared again.
	c0 = cp_state_compared;
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, ms, 3, err, sizeof(err)), 0);
	assert_int_equal(cp_state_compared - c0, 3);
	assert_published_as_from_scratch();
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, NULL, 0, err, sizeof(err)), 0);
	cp_state_poll();
}

/* A resync reads each entry's source and id from an array beside the list (cp/state.c,
 * st.keys), which a change of the list by another source (a CLI mapping added, then deleted:
 * the last entry moves into its place) makes stale: the next resync reads the list again, and
 * matches each Kubernetes mapping to its own entry once. */
static void a_resync_after_another_source_changed_the_list_reads_it_again(void **state)
{
	struct cfg_mapping ms[3], cli;
	uint64_t ids[3] = {301, 302, 303};
	char err[256];

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "key-%u", i);
		mk(&ms[i], name, (uint16_t)(45000 + i), 2);
	}
	mk(&cli, "key-cli", 45100, 2);
	const unsigned int n0 = cp_mapping_count(); // the other tests' CLI mappings
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, 3, err, sizeof(err)), 0);
	upsert(&cli); // last in the list, after the Kubernetes mappings
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, 3, err, sizeof(err)), 0);
	// Now the other sources' entries come first: deleting key-cli moves the last
	// Kubernetes mapping (key-2) into its place, among them.
	assert_int_equal(cp_mapping_delete(CP_SRC_CLI, "", "key-cli"), 0);
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, 3, err, sizeof(err)), 0);
	assert_int_equal(cp_mapping_count(), n0 + 3);
	unsigned int seen[3] = {0};
	for (unsigned int i = 0; i < n0 + 3; i++) {
		enum cp_source src;
		const struct cfg_mapping *m = cp_mapping_at(i, &src);
		for (unsigned int j = 0; j < 3; j++)
			seen[j] += strcmp(m->name, ms[j].name) == 0;
		assert_int_equal(src == CP_SRC_K8S, strncmp(m->name, "key-", 4) == 0);
	}
	for (unsigned int j = 0; j < 3; j++)
		assert_int_equal(seen[j], 1);
	assert_published_as_from_scratch();
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(cp_mapping_count(), n0);
	cp_state_poll();
}

/* Sessions of the Kubernetes mapping @p name (namespace "") to backend @p addr. */
static unsigned int k8s_sessions_to(const char *name, const char *addr)
{
	struct count c = {.backend = ip4(addr)};
	int slot = cp_slot_find("", name);

	assert_true(slot >= 0);
	dp_sessions_walk(slot, count_cb, &c);
	return c.n;
}

/* A resync that copies more than a few mappings matches each old entry it did not keep with
 * its copy through an index of the copied entries only (cp_state_names_indexed), not of every
 * entry: each changed mapping loses the sessions of the backend it dropped, and only those. */
static void a_resync_indexes_only_the_copied_entries_to_match_the_old_ones(void **state)
{
	enum { N = 20 };
	static struct cfg_backend bes[N][2];
	struct cfg_mapping ms[N];
	unsigned int n_a[N], n_b[N], changed_b = 0;
	uint64_t ids[N];
	char err[256], a[32], b[32], c[32];

	(void)state;
	for (unsigned int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ix-%02u", i);
		snprintf(a, sizeof(a), "10.0.0.%u", 100 + i);
		snprintf(b, sizeof(b), "10.0.0.%u", 130 + i);
		bes[i][0] = (struct cfg_backend){.addr = ip4(a), .weight = 1};
		bes[i][1] = (struct cfg_backend){.addr = ip4(b), .weight = 1};
		mk(&ms[i], name, (uint16_t)(45000 + i), 2);
		ms[i].backends = bes[i];
		ids[i] = 1000 + i;
	}
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, N, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < N; i++) {
		for (unsigned int p = 0; p < 8; p++)
			fixture_inject((uint16_t)(53000 + p), (uint16_t)(45000 + i), IPPROTO_TCP);
		snprintf(a, sizeof(a), "10.0.0.%u", 100 + i);
		snprintf(b, sizeof(b), "10.0.0.%u", 130 + i);
		n_a[i] = k8s_sessions_to(ms[i].name, a);
		n_b[i] = k8s_sessions_to(ms[i].name, b);
		assert_int_equal(n_a[i] + n_b[i], 8);
	}
	// Every other one rebuilt: its first backend replaced by a third (a new id), so that the
	// copies sit between moved entries.
	for (unsigned int i = 0; i < N; i += 2) {
		snprintf(c, sizeof(c), "10.0.0.%u", 160 + i);
		bes[i][0] = (struct cfg_backend){.addr = ip4(c), .weight = 1};
		ids[i] = 2000 + i;
		changed_b += n_b[i];
	}
	assert_true(changed_b > 0); // sessions that must stay
	unsigned long x0 = cp_state_names_indexed;
	assert_int_equal(cp_mappings_replace_ids(CP_SRC_K8S, ms, ids, N, err, sizeof(err)), 0);
	assert_int_equal(cp_state_names_indexed - x0, N / 2); // the copies, not all N
	for (unsigned int i = 0; i < N; i++) {
		snprintf(a, sizeof(a), "10.0.0.%u", 100 + i);
		snprintf(b, sizeof(b), "10.0.0.%u", 130 + i);
		assert_int_equal(k8s_sessions_to(ms[i].name, a), i % 2 ? n_a[i] : 0);
		assert_int_equal(k8s_sessions_to(ms[i].name, b), n_b[i]);
	}
	assert_published_as_from_scratch();
	assert_int_equal(cp_mappings_replace(CP_SRC_K8S, NULL, 0, err, sizeof(err)), 0);
	cp_state_poll();
}

static void not_ready_backend_keeps_sessions_deleted_one_loses_them(void **state)
{
	(void)state;
	struct cfg_mapping m;

	be[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	be[1] = (struct cfg_backend){.addr = ip4("10.0.0.12"), .weight = 1};
	mk(&m, "drain", 40001, 1);
	upsert(&m);
	fixture_inject(50000, 40001, IPPROTO_TCP);
	assert_int_equal(sessions_to("drain", "10.0.0.11"), 1);
	// .11 goes not ready, .12 comes: .11 keeps its session, new ones go to .12.
	be[0].serving_only = true;
	mk(&m, "drain", 40001, 2);
	upsert(&m);
	assert_int_equal(sessions_to("drain", "10.0.0.11"), 1);
	fixture_inject(50001, 40001, IPPROTO_TCP);
	fixture_inject(50002, 40001, IPPROTO_TCP);
	assert_int_equal(sessions_to("drain", "10.0.0.11"), 1);
	assert_int_equal(sessions_to("drain", "10.0.0.12"), 2);
	// .11 is deleted: its session is cleared, .12's stay.
	be[0] = be[1];
	mk(&m, "drain", 40001, 1);
	upsert(&m);
	assert_int_equal(sessions_to("drain", "10.0.0.11"), 0);
	assert_int_equal(sessions_to("drain", "10.0.0.12"), 2);
	// removeOrphanSessions: false: a deleted backend's TCP sessions stay.
	be[0] = (struct cfg_backend){.addr = ip4("10.0.0.13"), .weight = 1};
	mk(&m, "drain", 40001, 1);
	m.remove_orphan_sessions = false;
	upsert(&m);
	assert_int_equal(sessions_to("drain", "10.0.0.12"), 2);
	assert_int_equal(cp_mapping_delete(CP_SRC_CLI, "", "drain"), 0);
}

static void allow_list_edit_closes_sessions_of_revoked_sources(void **state)
{
	(void)state;
	struct cfg_mapping m;

	be[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	mk(&m, "acl", 40002, 1);
	m.allowed[0] = (struct cfg_cidr){ip4("198.51.100.0"), 24};
	m.n_allowed = 1;
	upsert(&m);
	fixture_inject(51000, 40002, IPPROTO_TCP);
	assert_int_equal(sessions_to("acl", "10.0.0.11"), 1);
	// Another edit that changes no source: the session stays.
	m.allowed[1] = (struct cfg_cidr){ip4("203.0.113.0"), 24};
	m.n_allowed = 2;
	upsert(&m);
	assert_int_equal(sessions_to("acl", "10.0.0.11"), 1);
	// 198.51.100.0/24 is revoked: the client's session is closed.
	m.allowed[0] = m.allowed[1];
	m.n_allowed = 1;
	upsert(&m);
	assert_int_equal(sessions_to("acl", "10.0.0.11"), 0);
	assert_int_equal(cp_mapping_delete(CP_SRC_CLI, "", "acl"), 0);
}

/* A reload takes the config's address pools and Kubernetes budgets, only when it publishes. */
static void reload_takes_the_address_pools_and_limits(void **state)
{
	static const char more[] = "addressPools:\n"
				   "- {name: public, addresses: [203.0.113.10-203.0.113.20]}\n"
				   "kubernetes: {requireAddressPools: true, limits: "
				   "{backendsPerObject: 5}}\n";
	size_t n = strlen(fixture_yaml);
	char *yaml = malloc(n + sizeof(more));
	struct cfg c;
	char err[512];

	(void)state;
	assert_int_equal(cp_config()->n_pools, 0);
	assert_int_equal(cp_config()->k8s.limits.backends, CFG_K8S_LIMIT_BACKENDS);
	memcpy(yaml, fixture_yaml, n);
	memcpy(yaml + n, more, sizeof(more));
	assert_int_equal(cfg_load_string("r.yaml", yaml, strlen(yaml), &c, err, sizeof(err)), 0);
	assert_int_equal(cp_reload_from(&c, err, sizeof(err)), 0);
	assert_int_equal(cp_config()->n_pools, 1);
	assert_string_equal(cp_config()->pools[0].name, "public");
	assert_int_equal(cp_config()->pools[0].ranges[0].first, ip4("203.0.113.10"));
	assert_true(cp_config()->k8s.require_pools);
	assert_int_equal(cp_config()->k8s.limits.backends, 5);

	// A reload that does not publish (its mapping clash clashes with the CLI mapping squat
	// on 198.51.100.1:8090/tcp) changes nothing, pools included.
	static const char clash[] = "- {name: clash, addresses: [198.51.100.1], ports: [{port: "
				    "8090}], backends: [{address: 10.0.0.11}]}\n"
				    "addressPools:\n"
				    "- {name: other, addresses: [192.0.2.0/24]}\n";
	struct cfg_mapping m;
	be[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	mk(&m, "squat", 8090, 1);
	upsert(&m);
	free(yaml);
	yaml = malloc(n + sizeof(clash));
	memcpy(yaml, fixture_yaml, n);
	memcpy(yaml + n, clash, sizeof(clash));
	cfg_free(&c);
	assert_int_equal(cfg_load_string("r.yaml", yaml, strlen(yaml), &c, err, sizeof(err)), 0);
	assert_int_not_equal(cp_reload_from(&c, err, sizeof(err)), 0);
	assert_int_equal(cp_config()->n_pools, 1);
	assert_string_equal(cp_config()->pools[0].name, "public");
	assert_int_equal(cp_config()->k8s.limits.backends, 5);
	assert_int_equal(cp_mapping_delete(CP_SRC_CLI, "", "squat"), 0);

	// Back to the fixture's config: no pool, default budgets.
	cfg_free(&c);
	assert_int_equal(cfg_load_string("fixture.yaml", fixture_yaml, n, &c, err, sizeof(err)), 0);
	assert_int_equal(cp_reload_from(&c, err, sizeof(err)), 0);
	assert_int_equal(cp_config()->n_pools, 0);
	assert_false(cp_config()->k8s.require_pools);
	assert_int_equal(cp_config()->k8s.limits.backends, CFG_K8S_LIMIT_BACKENDS);
	cfg_free(&c);
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slots_are_reused_over_5000_mappings_that_come_and_go),
		cmocka_unit_test(
			a_resync_of_3000_mappings_keeps_slots_and_clears_only_the_changed_one),
		cmocka_unit_test(a_resync_moves_unchanged_mappings_and_copies_changed_ones),
		cmocka_unit_test(a_resync_takes_mappings_with_their_published_id_without_comparing),
		cmocka_unit_test(a_resync_after_another_source_changed_the_list_reads_it_again),
		cmocka_unit_test(a_resync_indexes_only_the_copied_entries_to_match_the_old_ones),
		cmocka_unit_test(not_ready_backend_keeps_sessions_deleted_one_loses_them),
		cmocka_unit_test(allow_list_edit_closes_sessions_of_revoked_sources),
		cmocka_unit_test(reload_takes_the_address_pools_and_limits),
	};
	return cmocka_run_group_tests_name("state", tests, group_setup, group_teardown);
}
