/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync, the worker's half (dp/sync.c): a record received from a peer installs a
 * backup session that then translates its flow both ways with the peer's SNAT address and
 * port (asserted on the packets' bytes), holds its SNAT port against local sessions, is
 * refreshed and removed by the peer's records, and echoes nothing back; a local session's
 * creation, state change and removal become events on the worker's ring.
 */
#include <netinet/in.h>

#include <rte_ring_elem.h>

#include "kernel.h"
#include "nat_fixture.h"
#include "session.h"
#include "sync.h"

static int sync_setup(void **state)
{
	setup(state);
	assert_int_equal(dp_sync_worker_init(w), 0);
	return 0;
}

/* The record of a full-NAT TCP session of mapping broker-1 (198.51.100.1:32001 → the single
 * backend 10.0.0.12:9092) from client 198.51.100.2:@p cport, SNAT 10.0.0.1:@p snat_port. */
static struct sync_rec rec_broker(uint16_t cport, uint16_t snat_port, uint8_t state)
{
	struct sync_rec r = {.type = SYNC_REC_UPSERT,
			     .proto = IPPROTO_TCP,
			     .state = state,
			     .flags = NAT_F_SEEN_I2O,
			     .idle_ms = 100,
			     .td_end = {1000, 5000}};
	r.addr[DIR_O2I][0] = rte_cpu_to_be_32(ip4("198.51.100.2"));
	r.addr[DIR_O2I][1] = rte_cpu_to_be_32(ip4("198.51.100.1"));
	r.port[DIR_O2I][0] = rte_cpu_to_be_16(cport);
	r.port[DIR_O2I][1] = rte_cpu_to_be_16(32001);
	r.addr[DIR_I2O][0] = rte_cpu_to_be_32(ip4("10.0.0.12"));
	r.addr[DIR_I2O][1] = rte_cpu_to_be_32(ip4("10.0.0.1"));
	r.port[DIR_I2O][0] = rte_cpu_to_be_16(9092);
	r.port[DIR_I2O][1] = rte_cpu_to_be_16(snat_port);
	return r;
}

static unsigned int events(struct sync_rec *out, unsigned int max)
{
	dp_sync_flush(w);
	return rte_ring_sc_dequeue_burst_elem(w->sync->ev, out, sizeof(*out), max, NULL);
}

/* A mid-flow ACK of the client: without a session it is tcp_not_syn (broker-1 has no
 * pickup); with the synced one it leaves with the peer's SNAT address and port, and the
 * backend's answer to that port goes back to the client from the mapping address. */
static void synced_full_nat_session_translates_both_ways(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	struct sync_rec r = rec_broker(40000, 5555, NAT_ST_ESTABLISHED), ev[4];

	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_INSTALLED);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(events(ev, 4), 0); // a peer's session is not echoed back

	size_t n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 32001, IPPROTO_TCP,
			RTE_TCP_ACK_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m), *ip = f + 14;
	assert_int_equal(rd32(ip + 12), ip4("10.0.0.1"));
	assert_int_equal(rd16(ip + 20), 5555);
	assert_int_equal(rd32(ip + 16), ip4("10.0.0.12"));
	assert_int_equal(rd16(ip + 22), 9092);
	assert_memory_equal(f, MAC_POD[1], 6);
	rte_pktmbuf_free(m);

	n = flow(buf, "10.0.0.12", 9092, "10.0.0.1", 5555, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		 DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_EXT, &m);
	ip = f + 14;
	assert_int_equal(rd32(ip + 12), ip4("198.51.100.1"));
	assert_int_equal(rd16(ip + 20), 32001);
	assert_int_equal(rd32(ip + 16), ip4("198.51.100.2"));
	assert_int_equal(rd16(ip + 22), 40000);
	assert_memory_equal(f, MAC_CLIENT, 6);
	rte_pktmbuf_free(m);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_NOT_SYN], 0);

	// It carried packets here: now ours, a peer's delete does not remove it.
	r.type = SYNC_REC_DELETE;
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_FAIL_CONFLICT);
	assert_int_equal(w->sess.active, 1);
}

/* The SNAT port of a synced session is held: a new local session towards the same backend
 * does not take it (it would otherwise be the first port of the partition). */
static void synced_snat_port_is_not_taken_by_a_local_session(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	struct sync_rec r = rec_broker(40000, w->snat_lo, NAT_ST_ESTABLISHED);

	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_INSTALLED);
	size_t n = flow(buf, "198.51.100.3", 40001, "198.51.100.1", 32001, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	neigh_update(rte_cpu_to_be_32(ip4("198.51.100.3")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("10.0.0.1"));
	assert_int_equal(rd16(f + 14 + 20), w->snat_lo + 1);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 2);
}

/* A refresh updates the backup's state; a delete removes it, quietly; the flow's next ACK
 * is then tcp_not_syn again. */
static void refresh_and_delete_apply_to_the_backup(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct sync_rec r = rec_broker(40000, 6000, NAT_ST_SYN_SENT), ev[4];

	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_INSTALLED);
	struct nat_key k = {.src = r.addr[0][0],
			    .dst = r.addr[0][1],
			    .sport = r.port[0][0],
			    .dport = r.port[0][1],
			    .proto = IPPROTO_TCP,
			    .family = 4};
	uint32_t ref = nat_sessions_lookup(&w->sess, &k);
	assert_int_not_equal(ref, NAT_REF_NONE);
	assert_int_equal(w->sess.recs[ref >> 1].state, NAT_ST_SYN_SENT);
	r.state = NAT_ST_ESTABLISHED;
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_UPDATED);
	assert_int_equal(w->sess.recs[ref >> 1].state, NAT_ST_ESTABLISHED);

	r.type = SYNC_REC_DELETE;
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_DELETED);
	assert_int_equal(w->sess.active, 0);
	assert_int_equal(nat_sessions_lookup(&w->sess, &k), NAT_REF_NONE);
	assert_int_equal(events(ev, 4), 0);
	size_t n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 32001, IPPROTO_TCP,
			RTE_TCP_ACK_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_NOT_SYN], 1);
}

/* Records that cannot be installed are refused by reason. A record whose client flow or
 * SNAT key a backup holds replaces it (the backup is stale: the peer restarted and gave the
 * key to another flow, ha-demo's vrrp runs lost every TCP flow of a second failover this
 * way); one that collides with a session of ours is refused. */
static void bad_records_are_refused_by_reason(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	struct sync_rec r = rec_broker(40000, 6000, NAT_ST_ESTABLISHED), o;

	o = r;
	o.port[DIR_O2I][1] = rte_cpu_to_be_16(32002); // no such mapping port
	assert_int_equal(dp_sync_apply(w, tables_get(), &o), SYNC_C_FAIL_NO_MAPPING);
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_INSTALLED);
	o = r;
	o.port[DIR_I2O][1] = rte_cpu_to_be_16(6001); // the same client flow, another SNAT port
	o.type = SYNC_REC_DELETE;		     // a delete of a session we do not hold
	assert_int_equal(dp_sync_apply(w, tables_get(), &o), SYNC_C_FAIL_CONFLICT);
	o.type = SYNC_REC_UPSERT;
	assert_int_equal(dp_sync_apply(w, tables_get(), &o), SYNC_C_INSTALLED);
	assert_int_equal(w->stats.sync[SYNC_C_REPLACED], 1);
	assert_int_equal(w->sess.active, 1);
	o = rec_broker(40001, 6001, NAT_ST_ESTABLISHED); // another flow, the same SNAT key
	assert_int_equal(dp_sync_apply(w, tables_get(), &o), SYNC_C_INSTALLED);
	assert_int_equal(w->stats.sync[SYNC_C_REPLACED], 2);
	assert_int_equal(w->sess.active, 1);

	// The flow on 40001 carries a packet here: the session is ours now.
	size_t n = flow(buf, "198.51.100.2", 40001, "198.51.100.1", 32001, IPPROTO_TCP,
			RTE_TCP_ACK_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	assert_int_equal(rd16(f + 14 + 20), 6001);
	rte_pktmbuf_free(m);
	o = rec_broker(40002, 6001, NAT_ST_ESTABLISHED); // our SNAT key
	assert_int_equal(dp_sync_apply(w, tables_get(), &o), SYNC_C_FAIL_CONFLICT);
	o = rec_broker(40001, 6003, NAT_ST_ESTABLISHED); // our client flow
	assert_int_equal(dp_sync_apply(w, tables_get(), &o), SYNC_C_FAIL_CONFLICT);
	assert_int_equal(w->stats.sync[SYNC_C_REPLACED], 2);
	assert_int_equal(w->sess.active, 1);
}

/* A local session: its creation is an upsert event with its tuples, the handshake done a
 * refresh at the next walk, its expiry a delete. */
static void local_session_events(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	struct sync_rec ev[4];

	size_t n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 32001, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	uint16_t snat_port = rd16(f + 14 + 20);
	rte_pktmbuf_free(m);
	assert_int_equal(events(ev, 4), 1);
	assert_int_equal(ev[0].type, SYNC_REC_UPSERT);
	assert_int_equal(ev[0].proto, IPPROTO_TCP);
	assert_int_equal(ev[0].state, NAT_ST_SYN_SENT);
	assert_int_equal(rte_be_to_cpu_32(ev[0].addr[DIR_O2I][0]), ip4("198.51.100.2"));
	assert_int_equal(rte_be_to_cpu_16(ev[0].port[DIR_O2I][0]), 40000);
	assert_int_equal(rte_be_to_cpu_32(ev[0].addr[DIR_O2I][1]), ip4("198.51.100.1"));
	assert_int_equal(rte_be_to_cpu_16(ev[0].port[DIR_O2I][1]), 32001);
	assert_int_equal(rte_be_to_cpu_32(ev[0].addr[DIR_I2O][0]), ip4("10.0.0.12"));
	assert_int_equal(rte_be_to_cpu_16(ev[0].port[DIR_I2O][0]), 9092);
	assert_int_equal(rte_be_to_cpu_32(ev[0].addr[DIR_I2O][1]), ip4("10.0.0.1"));
	assert_int_equal(rte_be_to_cpu_16(ev[0].port[DIR_I2O][1]), snat_port);

	// The walk with nothing changed: no refresh.
	nat_sessions_expire(w, 8);
	assert_int_equal(events(ev, 4), 0);
	n = flow(buf, "10.0.0.12", 9092, "10.0.0.1", snat_port, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	take(DP_PORT_EXT, &m);
	rte_pktmbuf_free(m);
	n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 32001, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		 DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	nat_sessions_expire(w, 8);
	assert_int_equal(events(ev, 4), 1);
	assert_int_equal(ev[0].type, SYNC_REC_UPSERT);
	assert_int_equal(ev[0].state, NAT_ST_ESTABLISHED);
	assert_int_equal(ev[0].flags & NAT_F_SEEN_I2O, NAT_F_SEEN_I2O);

	w->now += 8000u * 1000u; // past the established timeout (7440 s at 1 tick = 1 ms)
	assert_int_equal(nat_sessions_expire(w, 8), 1);
	assert_int_equal(events(ev, 4), 1);
	assert_int_equal(ev[0].type, SYNC_REC_DELETE);
	assert_int_equal(rte_be_to_cpu_16(ev[0].port[DIR_I2O][1]), snat_port);
}

/* A full ring loses the event and counts it; the worker never waits. */
static void full_ring_counts_and_never_waits(void **state)
{
	(void)state;
	struct sync_rec r = {0};
	unsigned int cap = rte_ring_get_capacity(w->sync->ev);

	for (unsigned int i = 0; i < cap; i++)
		assert_int_equal(rte_ring_sp_enqueue_elem(w->sync->ev, &r, sizeof(r)), 0);
	uint8_t buf[256];
	size_t n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 32001, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	dp_sync_flush(w);
	assert_int_equal(w->stats.sync[SYNC_C_RING_FULL], 1);
	assert_int_equal(w->stats.sync[SYNC_C_EVENTS], 0);
	assert_int_equal(w->sess.active, 1); // the session itself is unaffected
}

/* A bulk request dumps every session of ours (not the peers' backups) through the ring. */
static void bulk_dumps_own_sessions(void **state)
{
	(void)state;
	struct sync_rec r = rec_broker(40000, 6000, NAT_ST_ESTABLISHED), ev[8];
	struct sync_rec bulk = {.type = SYNC_REC_BULK};
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;

	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_INSTALLED);
	for (uint16_t p = 0; p < 3; p++) {
		size_t n = flow(buf, "198.51.100.2", (uint16_t)(41000 + p), "198.51.100.1", 7777,
				IPPROTO_UDP, 0, DP_PORT_EXT);
		inject(DP_PORT_EXT, buf, n);
		take(DP_PORT_INT, &m);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(events(ev, 8), 3);
	assert_int_equal(rte_ring_sp_enqueue_elem(w->sync->in, &bulk, sizeof(bulk)), 0);
	dp_sync_poll(w, tables_get());
	assert_int_equal(events(ev, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ev[i].type, SYNC_REC_UPSERT);
		assert_int_equal(ev[i].proto, IPPROTO_UDP);
	}
}

/* UDP to the sync port of the int address, which is also the SNAT address here: the kernel's
 * (the sync socket), not a session's port (no_session) as any other port above 1023. */
static void sync_port_on_a_snat_address_goes_to_the_kernel(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n = flow(buf, "10.0.0.4", 3780, "10.0.0.1", 3780, IPPROTO_UDP, 0, DP_PORT_INT);

	snprintf(cfg.intl.kernel_tap, sizeof(cfg.intl.kernel_tap), "k-int");
	publish();
	dp_sync_port = 0;
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 1);
	assert_int_equal(rte_ring_count(w->kern_out), 0);
	dp_sync_port = 3780;
	inject(DP_PORT_INT, buf, n);
	dp_sync_port = 0;
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 1);
	assert_int_equal(rte_ring_count(w->kern_out), 1);
	assert_int_equal(w->stats.slowpath, 1);
}

/* With two workers, a record is this worker's only if both directions are: the client
 * address steers to it, and (full NAT) the SNAT port is in its partition. */
static void records_of_another_worker_are_refused(void **state)
{
	(void)state;
	uint32_t mine = 0, theirs = 0;

	w->n_workers = 2;
	for (uint32_t a = ip4("198.51.100.2"); a < ip4("198.51.100.200") && !(mine && theirs);
	     a++) {
		unsigned int o =
			(unsigned int)(((uint64_t)dp_steer_hash(&w->rss_int, rte_cpu_to_be_32(a)) *
					2) >>
				       32);
		if (o == 0 && !mine)
			mine = a;
		if (o == 1 && !theirs)
			theirs = a;
	}
	assert_true(mine && theirs);
	struct sync_rec r = rec_broker(40000, 2000, NAT_ST_ESTABLISHED);
	r.addr[DIR_O2I][0] = rte_cpu_to_be_32(theirs);
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_FAIL_WRONG_WORKER);
	r.addr[DIR_O2I][0] = rte_cpu_to_be_32(mine);
	r.port[DIR_I2O][1] = rte_cpu_to_be_16(60000); // worker 1's half of the SNAT ports
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_FAIL_WRONG_WORKER);
	r.port[DIR_I2O][1] = rte_cpu_to_be_16(2000);
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_INSTALLED);
	w->n_workers = 1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(synced_full_nat_session_translates_both_ways,
						sync_setup, teardown),
		cmocka_unit_test_setup_teardown(synced_snat_port_is_not_taken_by_a_local_session,
						sync_setup, teardown),
		cmocka_unit_test_setup_teardown(refresh_and_delete_apply_to_the_backup, sync_setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_records_are_refused_by_reason, sync_setup,
						teardown),
		cmocka_unit_test_setup_teardown(local_session_events, sync_setup, teardown),
		cmocka_unit_test_setup_teardown(full_ring_counts_and_never_waits, sync_setup,
						teardown),
		cmocka_unit_test_setup_teardown(bulk_dumps_own_sessions, sync_setup, teardown),
		cmocka_unit_test_setup_teardown(sync_port_on_a_snat_address_goes_to_the_kernel,
						sync_setup, teardown),
		cmocka_unit_test_setup_teardown(records_of_another_worker_are_refused, sync_setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
