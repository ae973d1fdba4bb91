/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hairpin (RFC 4787 REQ-9, RFC 5382 REQ-8): a client behind int (a pod) that sends to a
 * mapping's external address through the gateway reaches the backend with full NAT (its
 * source rewritten to the int SNAT address, so the backend's reply comes back through
 * strait), and gets the replies from the external address. Before, such packets were dropped
 * as no_session on int. Real frames through nat_process_burst(), checked byte for byte.
 */
#include "nat_fixture.h"

static const uint8_t MAC_PODCLIENT[6] = {0x02, 0xb0, 0, 0, 0, 20};

static int hp_setup(void **state)
{
	int rc = setup(state);

	neigh_update(rte_cpu_to_be_32(ip4("10.0.0.20")), DP_PORT_INT,
		     (const struct rte_ether_addr *)MAC_PODCLIENT);
	return rc;
}

static void pod_to_vip_is_full_natted_both_ways(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n = flow(buf, "10.0.0.20", 40000, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 0);
	uint8_t *f = take(DP_PORT_INT, &m), *ip = f + 14;
	uint32_t backend = rd32(ip + 16);
	uint16_t snat_port = rd16(ip + 20);
	assert_int_equal(rd32(ip + 12), ip4("10.0.0.1")); /* the int SNAT address */
	assert_true(backend >= ip4("10.0.0.11") && backend <= ip4("10.0.0.13"));
	assert_int_equal(rd16(ip + 22), 80);
	assert_true(snat_port >= w->snat_lo && snat_port <= w->snat_hi);
	assert_memory_equal(f, MAC_POD[backend - ip4("10.0.0.11")], 6);
	assert_memory_equal(f + 6, MAC_INT, 6);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(w->stats.map[0].sessions_created, 1);

	/* The backend's SYN-ACK comes back to the pod from the mapping's address, on int. */
	char bstr[16];
	cfg_ipv4_str(backend, bstr);
	n = flow(buf, bstr, 80, "10.0.0.1", snat_port, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_INT, &m);
	ip = f + 14;
	assert_int_equal(rd32(ip + 12), ip4("198.51.100.1"));
	assert_int_equal(rd16(ip + 20), 8080);
	assert_int_equal(rd32(ip + 16), ip4("10.0.0.20"));
	assert_int_equal(rd16(ip + 22), 40000);
	assert_memory_equal(f, MAC_PODCLIENT, 6);
	rte_pktmbuf_free(m);

	/* The pod's ACK, on int again: the same session, now established. */
	n = flow(buf, "10.0.0.20", 40000, "198.51.100.1", 8080, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		 DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 16), backend);
	assert_int_equal(rd16(f + 14 + 20), snat_port);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_ESTABLISHED);
	assert_int_equal(w->stats.map[0].pkts[0], 2);
	assert_int_equal(w->stats.map[0].pkts[1], 1);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 0);
}

/* A preserveSource mapping is still full NAT for a client behind int: the backend would
 * otherwise answer the pod directly, bypassing the gateway. */
static void hairpin_to_preserve_source_mapping_is_full_nat(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n = flow(buf, "10.0.0.20", 5555, "198.51.100.1", 9000, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("10.0.0.1"));
	assert_int_equal(rd32(f + 14 + 16), ip4("10.0.0.12"));
	assert_int_equal(rd16(f + 14 + 22), 9000);
	uint16_t snat_port = rd16(f + 14 + 20);
	rte_pktmbuf_free(m);
	n = flow(buf, "10.0.0.12", 9000, "10.0.0.1", snat_port, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("198.51.100.1"));
	assert_int_equal(rd16(f + 14 + 20), 9000);
	assert_int_equal(rd32(f + 14 + 16), ip4("10.0.0.20"));
	assert_int_equal(rd16(f + 14 + 22), 5555);
	rte_pktmbuf_free(m);
}

/* On int, a packet to a mapping's address but an unmapped port is no_mapping; to any other
 * address it is still no_session; the allow-list applies to clients behind int too. */
static void hairpin_misses_are_counted_by_reason(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n = flow(buf, "10.0.0.20", 5555, "198.51.100.1", 9999, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_MAPPING], 1);
	n = flow(buf, "10.0.0.20", 5555, "203.0.113.9", 8080, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 1);
	n = flow(buf, "10.0.0.20", 5555, "198.51.100.1", 9100, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n); /* "allow" admits 192.0.2.0/24 only */
	assert_int_equal(w->stats.drops[DP_DROP_NOT_ALLOWED], 1);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->sess.active, 0);
}

/* An external client's session is not a hairpin one: a packet on int that claims to be from
 * that client (its 5-tuple) does not ride it. */
static void external_session_cannot_be_driven_from_int(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	n = flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 1);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(dp_tx_n(w, DP_PORT_EXT), 0);
	assert_int_equal(w->sess.active, 1);
}

/* With two workers, a packet on int to a mapping's address goes to the worker of its source
 * address, as the same client's packets on ext would (and not all to the VIP's worker). */
static void hairpin_is_steered_by_the_client_address(void **state)
{
	(void)state;
	char err[256];
	const struct tables *t = tables_get();
	unsigned int seen = 0;

	dp_worker_free(w);
	w = dp_worker_new(0, 2, 0, 64, err, sizeof(err));
	assert_non_null(w);
	for (uint32_t c = 0; c < 32; c++) {
		struct pkt_meta m = {.src = rte_cpu_to_be_32(ip4("10.0.0.20") + c),
				     .dst = rte_cpu_to_be_32(ip4("198.51.100.1")),
				     .sport = rte_cpu_to_be_16(40000),
				     .dport = rte_cpu_to_be_16(8080),
				     .proto = IPPROTO_TCP};
		unsigned int o = nat_owner(w, t, DP_PORT_INT, &m);
		assert_int_equal(o, nat_owner(w, t, DP_PORT_EXT, &m));
		seen |= 1u << o;
	}
	assert_int_equal(seen, 3); /* both workers own some pods' flows */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pod_to_vip_is_full_natted_both_ways, hp_setup,
						teardown),
		cmocka_unit_test_setup_teardown(hairpin_to_preserve_source_mapping_is_full_nat,
						hp_setup, teardown),
		cmocka_unit_test_setup_teardown(hairpin_misses_are_counted_by_reason, hp_setup,
						teardown),
		cmocka_unit_test_setup_teardown(external_session_cannot_be_driven_from_int,
						hp_setup, teardown),
		cmocka_unit_test_setup_teardown(hairpin_is_steered_by_the_client_address, hp_setup,
						teardown),
	};
	return cmocka_run_group_tests_name("hairpin", tests, group_setup, group_teardown);
}
