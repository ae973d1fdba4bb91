/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore session table (dp/session.c, dp/session_inlines.h) and the worker's adjacency
 * table (dp/neigh.c), on their own: keys whose records hold them, cuckoo moves at high load,
 * a full table that refuses and keeps, records handed out and back, next hops shared.
 * EAL runs with --no-huge (the table lives in rte_malloc memory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>

#include <rte_eal.h>

#include "neigh.h"
#include "session_inlines.h"
#include "worker.h"

static struct nat_sessions S;

static int group_setup(void **state)
{
	(void)state;
	char *argv[] = {"session_test", "--no-huge", "--no-pci", "--no-shconf",		"-m",
			"256",		"-l",	     "0",	 "--log-level=*:error", NULL};
	return rte_eal_init(9, argv) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nat_sessions_fini(&S);
	return 0;
}

/* Flow i's out2in key: distinct for every i < 2^32. */
static struct nat_key key_o2i(uint32_t i)
{
	return (struct nat_key){.src = rte_cpu_to_be_32(0x64400000u + (i >> 8)),
				.dst = rte_cpu_to_be_32(0xc6336401u),
				.sport = rte_cpu_to_be_16((uint16_t)(1024 + (i & 255))),
				.dport = rte_cpu_to_be_16(8080),
				.proto = IPPROTO_TCP,
				.family = 4};
}

static struct nat_key key_i2o(uint32_t i)
{
	return (struct nat_key){.src = rte_cpu_to_be_32(0x0a001000u + (i & 1023)),
				.dst = rte_cpu_to_be_32(0x0a000001u),
				.sport = rte_cpu_to_be_16(80),
				.dport = rte_cpu_to_be_16((uint16_t)(1024 + (i >> 10))),
				.proto = IPPROTO_TCP,
				.family = 4};
}

/* A record holding flow i's two keys, both added. @return 0 or the add's error. */
static int session_add(uint32_t i)
{
	uint32_t idx = nat_session_alloc(&S);
	if (idx == NAT_REC_NONE)
		return -ENOSPC;
	struct nat_session *se = &S.recs[idx];
	struct nat_key o = key_o2i(i), n = key_i2o(i);
	memset(se, 0, sizeof(*se));
	se->addr[DIR_O2I][0] = o.src, se->addr[DIR_O2I][1] = o.dst;
	se->port[DIR_O2I][0] = o.sport, se->port[DIR_O2I][1] = o.dport;
	se->addr[DIR_I2O][0] = n.src, se->addr[DIR_I2O][1] = n.dst;
	se->port[DIR_I2O][0] = n.sport, se->port[DIR_I2O][1] = n.dport;
	se->proto = IPPROTO_TCP;
	int r = nat_sessions_add(&S, &o, idx << 1 | DIR_O2I);
	if (r == 0) {
		r = nat_sessions_add(&S, &n, idx << 1 | DIR_I2O);
		if (r < 0)
			nat_sessions_del(&S, &o, idx << 1 | DIR_O2I);
	}
	if (r < 0)
		nat_session_release(&S, idx);
	return r;
}

static void both_keys_find_their_record_and_direction(void **state)
{
	(void)state;
	assert_int_equal(nat_sessions_init(&S, "t", 64, 0), 0);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(session_add(i), 0);
	for (uint32_t i = 0; i < 64; i++) {
		struct nat_key o = key_o2i(i), n = key_i2o(i);
		uint32_t ro = nat_sessions_lookup(&S, &o), ri = nat_sessions_lookup(&S, &n);
		assert_int_not_equal(ro, NAT_REF_NONE);
		assert_int_equal(ro & 1, DIR_O2I);
		assert_int_equal(ri, (ro & ~1u) | DIR_I2O);
		struct nat_key back;
		nat_session_key(&S.recs[ro >> 1], DIR_O2I, &back);
		assert_memory_equal(&back, &o, sizeof(o));
	}
	struct nat_key absent = key_o2i(1000);
	assert_int_equal(nat_sessions_lookup(&S, &absent), NAT_REF_NONE);
	/* the same tuple in another protocol is another key */
	struct nat_key udp = key_o2i(3);
	udp.proto = IPPROTO_UDP;
	assert_int_equal(nat_sessions_lookup(&S, &udp), NAT_REF_NONE);
}

static void deleted_key_misses_and_others_stay(void **state)
{
	(void)state;
	assert_int_equal(nat_sessions_init(&S, "t", 16, 0), 0);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(session_add(i), 0);
	struct nat_key o = key_o2i(5);
	uint32_t r = nat_sessions_lookup(&S, &o);
	assert_int_equal(nat_sessions_del(&S, &o, r), 0);
	assert_int_equal(nat_sessions_lookup(&S, &o), NAT_REF_NONE);
	assert_int_equal(nat_sessions_del(&S, &o, r), -ENOENT);
	struct nat_key n = key_i2o(5);
	assert_int_not_equal(nat_sessions_lookup(&S, &n), NAT_REF_NONE);
	for (uint32_t i = 0; i < 16; i++) {
		struct nat_key k = key_o2i(i);
		if (i != 5)
			assert_int_not_equal(nat_sessions_lookup(&S, &k), NAT_REF_NONE);
	}
}

/* Every record in use, both keys of each findable: at a full table the buckets are as
 * loaded as they get, and keys have been moved between buckets to make room. */
static void full_table_holds_every_session(void **state)
{
	(void)state;
	const uint32_t max = 3000; /* not a power of two: 85 % of the entries at most */
	assert_int_equal(nat_sessions_init(&S, "t", max, 0), 0);
	for (uint32_t i = 0; i < max; i++)
		assert_int_equal(session_add(i), 0);
	assert_int_equal(S.insert_fail, 0);
	assert_int_equal(nat_session_alloc(&S), NAT_REC_NONE);
	for (uint32_t i = 0; i < max; i++) {
		struct nat_key o = key_o2i(i), n = key_i2o(i);
		uint32_t ro = nat_sessions_lookup(&S, &o);
		assert_int_not_equal(ro, NAT_REF_NONE);
		assert_int_equal(nat_sessions_lookup(&S, &n), ro | DIR_I2O);
	}
	uint32_t entries = 0;
	for (uint32_t b = 0; b <= S.bkt_mask; b++)
		for (int e = 0; e < NAT_BKT_ENTRIES; e++)
			entries += S.bkt[b].sig[e] != 0;
	assert_int_equal(entries, 2 * max);
	print_message("%u sessions in %u buckets: load %.0f %%\n", max, S.bkt_mask + 1,
		      100.0 * entries / ((S.bkt_mask + 1) * NAT_BKT_ENTRIES));
}

/* Past the buckets' capacity an add fails, and no key already in is lost (never evict). */
static void overfull_buckets_refuse_and_keep(void **state)
{
	(void)state;
	/* 4096 records but only the buckets sized for 600 sessions: swap in small buckets */
	assert_int_equal(nat_sessions_init(&S, "t", 4096, 0), 0);
	struct nat_sessions small;
	assert_int_equal(nat_sessions_init(&small, "t2", 600, 0), 0);
	struct nat_bucket *keep = S.bkt;
	uint32_t keep_mask = S.bkt_mask;
	S.bkt = small.bkt;
	S.bkt_mask = small.bkt_mask;
	uint32_t added = 0;
	int r = 0;
	while ((r = session_add(added)) == 0)
		added++;
	assert_int_equal(r, -ENOSPC);
	assert_true(S.insert_fail >= 1);
	uint32_t slots = (S.bkt_mask + 1) * NAT_BKT_ENTRIES;
	print_message("%u sessions (%u keys) in %u entries before the first refusal\n", added,
		      2 * added, slots);
	assert_true(2 * added > slots * 9 / 10); /* cuckoo moves fill the buckets */
	for (uint32_t i = 0; i < added; i++) {
		struct nat_key o = key_o2i(i), n = key_i2o(i);
		assert_int_not_equal(nat_sessions_lookup(&S, &o), NAT_REF_NONE);
		assert_int_not_equal(nat_sessions_lookup(&S, &n), NAT_REF_NONE);
	}
	/* the refused session left nothing behind */
	struct nat_key o = key_o2i(added);
	assert_int_equal(nat_sessions_lookup(&S, &o), NAT_REF_NONE);
	S.bkt = keep;
	S.bkt_mask = keep_mask;
	nat_sessions_fini(&small);
}

static void records_come_back_last_freed_first(void **state)
{
	(void)state;
	assert_int_equal(nat_sessions_init(&S, "t", 4, 0), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(nat_session_alloc(&S), i);
	assert_int_equal(nat_session_alloc(&S), NAT_REC_NONE);
	assert_int_equal(S.hwm, 4);
	nat_session_release(&S, 1);
	nat_session_release(&S, 3);
	assert_int_equal(S.recs[1].proto, 0);
	assert_int_equal(nat_session_alloc(&S), 3);
	assert_int_equal(nat_session_alloc(&S), 1);
	assert_int_equal(nat_session_alloc(&S), NAT_REC_NONE);
}

static void alternative_bucket_is_an_involution(void **state)
{
	(void)state;
	assert_int_equal(nat_sessions_init(&S, "t", 100000, 0), 0);
	for (uint32_t i = 0; i < 10000; i++) {
		struct nat_key k = key_o2i(i * 7919);
		struct nat_hash h = nat_key_hash(&S, &k);
		uint32_t alt = nat_bkt_alt(&S, h.bkt, h.sig);
		assert_int_not_equal(h.sig, 0);
		assert_int_not_equal(alt, h.bkt);
		assert_true(alt <= S.bkt_mask);
		assert_int_equal(nat_bkt_alt(&S, alt, h.sig), h.bkt);
	}
}

static void zero_or_huge_table_is_refused(void **state)
{
	(void)state;
	assert_int_equal(nat_sessions_init(&S, "t", 0, 0), -EINVAL);
	assert_int_equal(nat_sessions_init(&S, "t", 1u << 31, 0), -EINVAL);
	/* far more than 256 MB of EAL memory */
	assert_int_equal(nat_sessions_init(&S, "t", 64u << 20, 0), -ENOMEM);
}

static void memsize_is_under_132_bytes_a_session(void **state)
{
	(void)state;
	/* 64 bytes of record, 16 of unestablished-list links, 16 of TCP window tracking and the
	 * bucket entries; from 128K sessions on, since a table also has a fixed 400 KiB (the
	 * per-mapping-slot lists and token buckets of CFG_MAX_MAPPINGS slots, the per-source
	 * sketch) */
	static const uint32_t sizes[] = {131072, 1000000, 1u << 20, 3u << 20, 1u << 24};
	for (size_t i = 0; i < RTE_DIM(sizes); i++) {
		double per = (double)nat_sessions_memsize(sizes[i]) / sizes[i];
		print_message("%u sessions: %.1f bytes each\n", sizes[i], per);
		assert_true(per <= 132);
	}
}

/* Sessions through one next hop share its adjacency; a released one is reused. */
static void adjacency_is_shared_and_reused(void **state)
{
	(void)state;
	char err[128];
	struct dp_worker *w = dp_worker_new(0, 1, 0, 8, err, sizeof(err));
	assert_non_null(w);
	rte_be32_t a = rte_cpu_to_be_32(0x0a00000b), b = rte_cpu_to_be_32(0x0a00000c);
	int ia = dp_adj_get(w, a, DP_PORT_INT);
	assert_true(ia >= 0);
	assert_int_equal(dp_adj_get(w, a, DP_PORT_INT), ia);
	assert_int_equal(w->adj[ia].refs, 2);
	int ib = dp_adj_get(w, b, DP_PORT_INT);
	assert_true(ib >= 0 && ib != ia);
	/* the same address on the other arm is another next hop */
	int ie = dp_adj_get(w, a, DP_PORT_EXT);
	assert_true(ie >= 0 && ie != ia);
	dp_adj_put(w, (uint16_t)ia);
	dp_adj_put(w, (uint16_t)ia);
	assert_int_equal(w->adj[ia].refs, 0);
	/* unreferenced: still found (a cache) until its slot is wanted */
	assert_int_equal(dp_adj_get(w, a, DP_PORT_INT), ia);
	/* fill one probe run: the next address there is refused, not evicted */
	unsigned int got = 0;
	for (uint32_t x = 1; x < 200000 && got < DP_ADJ_SLOTS; x++)
		if (dp_adj_get(w, rte_cpu_to_be_32(0x0b000000 + x), DP_PORT_INT) >= 0)
			got++;
	assert_true(got < DP_ADJ_SLOTS);
	assert_int_equal(w->adj[ia].nh, a);
	assert_int_equal(w->adj[ia].refs, 1);
	dp_worker_free(w);
}

/* A record's l3_delta has the TTL's decrement folded in (nat_l3_delta()); each direction's
 * header delta is the one the rewrite added per packet before, bit for bit (0x0000 and 0xffff
 * too: they give different checksums), at every address delta. */
static void ttl_folded_delta_gives_the_same_header_delta_both_ways(void **state)
{
	(void)state;
	const uint16_t ttl = RTE_BE16(0xfeff);
	for (uint32_t a = 0; a <= 0xffff; a++) {
		const uint16_t d = nat_l3_delta((uint16_t)a);
		assert_int_equal(d, cksum_add16((uint16_t)a, ttl));
		assert_int_equal(nat_l3_delta_i2o(d), cksum_add16((uint16_t)~a, ttl));
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
	const struct CMUnitTest tests[] = {
		T(both_keys_find_their_record_and_direction),
		T(deleted_key_misses_and_others_stay),
		T(full_table_holds_every_session),
		T(overfull_buckets_refuse_and_keep),
		T(records_come_back_last_freed_first),
		T(alternative_bucket_is_an_involution),
		T(zero_or_huge_table_is_refused),
		T(memsize_is_under_132_bytes_a_session),
		T(adjacency_is_shared_and_reused),
		T(ttl_folded_delta_gives_the_same_header_delta_both_ways),
	};
	return cmocka_run_group_tests_name("session", tests, group_setup, group_teardown);
}
