/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reject backend (dp/reject.h): a backend of address 0, which the Gateway API sources
 * give the share of a backendRef that does not resolve. A TCP SYN that lands on it is answered
 * with the RST of a closed port, a UDP packet is dropped; both are counted as `rejected`, no
 * session is created; with a real backend beside it, flows are split by weight.
 */
#include "nat_fixture.h"

static struct cfg_backend reject_only[1], half[2];

static void use(struct cfg_mapping *m, struct cfg_backend *b, unsigned int n)
{
	m->backends = b;
	m->n_backends = n;
	publish();
}

static void tcp_syn_to_reject_backend_gets_rst_ack(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;

	reject_only[0] = (struct cfg_backend){.addr = 0, .weight = 1};
	use(&maps[0], reject_only, 1); // web, 8080/tcp
	size_t n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	buf[14 + 20 + 4 + 3] = 0x10; // seq 16
	// the TCP checksum changes with the sequence number: recompute it
	buf[14 + 20 + 16] = buf[14 + 20 + 17] = 0;
	uint16_t c = tb_l4_cksum(buf + 14, buf + 34, n - 34, IPPROTO_TCP);
	buf[14 + 20 + 16] = (uint8_t)(c >> 8);
	buf[14 + 20 + 17] = (uint8_t)c;
	inject(DP_PORT_EXT, buf, n);

	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	uint8_t *f = take(DP_PORT_EXT, &m);
	uint8_t *ip = f + 14, *th = ip + 20;
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 20 + 20);
	static const uint8_t sender[6] = {0x02, 0, 0, 0, 0, 0x99}; // pkt_build.h's source MAC
	assert_memory_equal(f, sender, 6);			   // back to its sender
	assert_memory_equal(f + 6, MAC_EXT, 6);
	assert_int_equal(rd16(ip + 2), 40);
	assert_int_equal(rd32(ip + 12), ip4("198.51.100.1")); // from the VIP
	assert_int_equal(rd32(ip + 16), ip4("198.51.100.2"));
	assert_int_equal(rd16(th), 8080);
	assert_int_equal(rd16(th + 2), 40000);
	assert_int_equal(rd32(th + 4), 0);	 // SEQ=0
	assert_int_equal(rd32(th + 8), 16 + 21); // ACK=SEG.SEQ+SEG.LEN (20 bytes + SYN)
	assert_int_equal(th[13], RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	rte_pktmbuf_free(m);
	assert_int_equal(w->stats.drops[DP_DROP_REJECTED], 1);
	assert_int_equal(w->stats.map[0].drops, 1);
	assert_int_equal(w->sess.active, 0);
	assert_string_equal(dp_drop_name(DP_DROP_REJECTED), "rejected");
}

static void udp_to_reject_backend_is_dropped_and_counted(void **state)
{
	(void)state;
	uint8_t buf[256];

	reject_only[0] = (struct cfg_backend){.addr = 0, .weight = 1};
	use(&maps[1], reject_only, 1); // echo, 7777/udp
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(dp_tx_n(w, DP_PORT_EXT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_REJECTED], 2);
	assert_int_equal(w->sess.active, 0);
}

static void flows_split_between_backend_and_reject_by_weight(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	unsigned int fwd = 0, rst = 0;

	half[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	half[1] = (struct cfg_backend){.addr = 0, .weight = 3}; // 3/4 refused
	use(&maps[0], half, 2);
	for (uint16_t p = 0; p < 400; p++) {
		size_t n = flow(buf, "198.51.100.2", (uint16_t)(20000 + p), "198.51.100.1", 8080,
				IPPROTO_TCP, RTE_TCP_SYN_FLAG, DP_PORT_EXT);
		inject(DP_PORT_EXT, buf, n);
		if (dp_tx_n(w, DP_PORT_INT)) {
			take(DP_PORT_INT, &m);
			assert_int_equal(rd32(rte_pktmbuf_mtod(m, uint8_t *) + 14 + 16),
					 ip4("10.0.0.11"));
			fwd++;
		} else {
			take(DP_PORT_EXT, &m);
			assert_int_equal(rte_pktmbuf_mtod(m, uint8_t *)[14 + 20 + 13],
					 RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
			rst++;
		}
		rte_pktmbuf_free(m);
	}
	assert_int_equal(fwd + rst, 400);
	assert_int_equal(w->stats.drops[DP_DROP_REJECTED], rst);
	assert_int_equal(w->stats.sessions_created, fwd);
	// Maglev gives the reject backend 3/4 of the table: 300 expected, far from 200 (even).
	assert_in_range(rst, 250, 350);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(tcp_syn_to_reject_backend_gets_rst_ack),
		T(udp_to_reject_backend_is_dropped_and_counted),
		T(flows_split_between_backend_and_reject_by_weight),
	};
	return cmocka_run_group_tests_name("reject", tests, group_setup, group_teardown);
}
