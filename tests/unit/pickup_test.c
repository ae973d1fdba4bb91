/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flows that move between gateways (issue 11, docs/ha.md "Flows that move"): a mapping with
 * `pickup: true` and `nat: preserveSource` lets a mid-flow TCP segment without a session (the
 * flow began on another gateway) start an established session, to the backend that Maglev
 * with the mapping's seed picks on every gateway. Without pickup such a segment is dropped as
 * tcp_not_syn; pickup with fullNat is refused by the schema. Fixture: nat_fixture.h.
 */
#include "nat_fixture.h"

static char err[256];

/* Mapping "web" (8080 → 80 over three backends) without SNAT, with pickup as @p on. */
static void web_preserve_source(bool on)
{
	maps[0].nat = CFG_NAT_PRESERVE_SOURCE;
	maps[0].pickup = on;
	publish();
}

/* A client segment of 198.51.100.2:@p sport → 198.51.100.1:8080 with @p flags. */
static size_t client_seg(uint8_t *buf, uint16_t sport, uint8_t flags)
{
	return flow(buf, "198.51.100.2", sport, "198.51.100.1", 8080, IPPROTO_TCP, flags,
		    DP_PORT_EXT);
}

/* Set a frame's TCP sequence and acknowledgement numbers, and its checksum again. */
static void set_seq_ack(uint8_t *buf, uint32_t seq, uint32_t ack)
{
	uint8_t *ip = buf + 14, *th = ip + 20;
	size_t l4_len = (size_t)(ip[2] << 8 | ip[3]) - 20;
	for (int i = 0; i < 4; i++) {
		th[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		th[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	th[16] = th[17] = 0;
	uint16_t c = tb_l4_cksum(ip, th, l4_len, IPPROTO_TCP);
	th[16] = (uint8_t)(c >> 8);
	th[17] = (uint8_t)c;
}

/* Another gateway: a fresh worker (no session) on the same tables. */
static void other_gateway(void)
{
	teardown(NULL);
	setup(NULL);
}

static void mid_flow_ack_without_pickup_is_dropped(void **state)
{
	(void)state;
	uint8_t buf[256];
	web_preserve_source(false);
	size_t n = client_seg(buf, 41000, RTE_TCP_ACK_FLAG);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_NOT_SYN], 1);
	assert_int_equal(w->sess.active, 0);
	assert_int_equal(w->stats.sessions_picked_up, 0);
}

/* The flow starts on one gateway (SYN), moves to another mid-flow (ACK): the second picks up
 * the same backend, forwards both ways, and the session is established. */
static void mid_flow_ack_is_picked_up_to_the_same_backend(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	char bstr[16];

	web_preserve_source(true);
	size_t n = client_seg(buf, 41001, RTE_TCP_SYN_FLAG);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	uint32_t first = rd32(f + 14 + 16);
	rte_pktmbuf_free(m);
	assert_int_equal(w->stats.sessions_picked_up, 0);

	other_gateway();
	web_preserve_source(true);
	n = client_seg(buf, 41001, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG);
	set_seq_ack(buf, 1000001, 5000001);
	inject(DP_PORT_EXT, buf, n);
	f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("198.51.100.2")); /* no SNAT */
	assert_int_equal(rd16(f + 14 + 20), 41001);
	assert_int_equal(rd32(f + 14 + 16), first); /* Maglev, same seed: same backend */
	assert_int_equal(rd16(f + 14 + 22), 80);
	assert_memory_equal(f, MAC_POD[first - ip4("10.0.0.11")], 6);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_ESTABLISHED);
	assert_int_equal(w->stats.sessions_created, 1);
	assert_int_equal(w->stats.sessions_picked_up, 1);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_NOT_SYN], 0);

	/* the backend's answer goes back from the mapping's address */
	cfg_ipv4_str(first, bstr);
	n = flow(buf, bstr, 80, "198.51.100.2", 41001, IPPROTO_TCP, RTE_TCP_ACK_FLAG, DP_PORT_INT);
	set_seq_ack(buf, 5000001, 1000021);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_EXT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("198.51.100.1"));
	assert_int_equal(rd16(f + 14 + 20), 8080);
	assert_memory_equal(f, MAC_CLIENT, 6);
	rte_pktmbuf_free(m);

	/* the client's FIN at its sequence end is in window and closes its side */
	n = client_seg(buf, 41001, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	set_seq_ack(buf, 1000021, 5000021);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_OUT_OF_WINDOW], 0);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_FIN_WAIT);
}

/* Only a plain mid-flow segment is picked up: a RST or a SYN-ACK starts nothing. */
static void rst_and_syn_ack_are_not_picked_up(void **state)
{
	(void)state;
	uint8_t buf[256];
	web_preserve_source(true);
	size_t n = client_seg(buf, 41002, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	inject(DP_PORT_EXT, buf, n);
	n = client_seg(buf, 41003, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_NOT_SYN], 2);
	assert_int_equal(w->sess.active, 0);
}

/* pickup on a fullNat mapping never reaches the tables: the pod saw this gateway's SNAT
 * address, another gateway cannot continue the flow. */
static void full_nat_mapping_never_picks_up(void **state)
{
	(void)state;
	uint8_t buf[256];
	maps[0].pickup = true; /* as a caller that skipped the schema would */
	publish();
	size_t n = client_seg(buf, 41004, RTE_TCP_ACK_FLAG);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_NOT_SYN], 1);
	assert_int_equal(w->sess.active, 0);
}

static void schema_takes_pickup_with_preserve_source_only(void **state)
{
	(void)state;
	static const char base[] = "{name: a, addresses: [198.51.100.1], ports: [{port: 80}], "
				   "backends: [{address: 10.0.0.1}]%s}";
	char yaml[256];
	struct cfg_mapping m;

	snprintf(yaml, sizeof(yaml), base, "");
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	assert_false(m.pickup);
	cfg_mapping_free(&m);
	snprintf(yaml, sizeof(yaml), base, ", nat: preserveSource, pickup: true");
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	assert_true(m.pickup);
	cfg_mapping_free(&m);
	snprintf(yaml, sizeof(yaml), base, ", pickup: true");
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "cli:1: pickup: needs nat: preserveSource (a fullNat flow "
				 "cannot move)");
	snprintf(yaml, sizeof(yaml), base, ", nat: preserveSource, pickup: maybe");
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "cli:1: pickup: \"maybe\" is not true or false");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(mid_flow_ack_without_pickup_is_dropped),
		T(mid_flow_ack_is_picked_up_to_the_same_backend),
		T(rst_and_syn_ack_are_not_picked_up),
		T(full_nat_mapping_never_picks_up),
		cmocka_unit_test(schema_takes_pickup_with_preserve_source_only),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
