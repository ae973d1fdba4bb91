/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A mapping's `affinity` (strait/config.h, enum cfg_affinity): what the Maglev flow hash of a
 * new session is keyed on. Parsed by the one Mapping schema (config file, `add mapping`, the
 * CRD), and used by the data plane at session creation (dp/nat_session.c): checked here on
 * the backends that real first packets reach through nat_process_burst().
 */
#include "nat_fixture.h"

/* The backend (10.0.0.11 + index) that a first packet from @p client:@p sport to the VIP's
 * @p dport reaches. */
static unsigned int backend_of(const char *client, uint16_t sport, uint16_t dport, uint8_t proto)
{
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n = flow(buf, client, sport, "198.51.100.1", dport, proto,
			proto == IPPROTO_TCP ? RTE_TCP_SYN_FLAG : 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	unsigned int b = rd32(f + 14 + 16) - ip4("10.0.0.11");
	rte_pktmbuf_free(m);
	assert_true(b < 3);
	return b;
}

/* A worker with room for 1024 sessions (the fixture's has 8). */
static void big_worker(void)
{
	fixture_worker(1024);
}

/* Clients 198.51.100.10.. (@p n of them) known as neighbours on ext. */
static void clients(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		neigh_update(rte_cpu_to_be_32(ip4("198.51.100.10") + i), DP_PORT_EXT,
			     (const struct rte_ether_addr *)MAC_CLIENT);
}

static void client_ip_keeps_every_flow_of_a_client_on_one_backend(void **state)
{
	(void)state;
	char c[16];
	unsigned int hits[3] = {0};

	maps[0].affinity = CFG_AFFINITY_CLIENT_IP; /* web: TCP 8080 */
	maps[1].affinity = CFG_AFFINITY_CLIENT_IP; /* echo: UDP 7777, the same backends */
	publish();
	big_worker();
	clients(48);
	for (unsigned int i = 0; i < 48; i++) {
		cfg_ipv4_str(ip4("198.51.100.10") + i, c);
		unsigned int first = backend_of(c, 20000, 8080, IPPROTO_TCP);
		for (uint16_t p = 1; p < 8; p++)
			assert_int_equal(backend_of(c, (uint16_t)(20000 + p), 8080, IPPROTO_TCP),
					 first);
		/* another port and protocol of the same client: the same backend (SIP + RTP) */
		assert_int_equal(backend_of(c, 30000, 7777, IPPROTO_UDP), first);
		hits[first]++;
	}
	/* and the clients are still spread over every backend */
	print_message("48 clients: %u / %u / %u\n", hits[0], hits[1], hits[2]);
	for (int i = 0; i < 3; i++)
		assert_true(hits[i] > 0);
	assert_int_equal(w->sess.active, 48 * 9);
}

static void client_ip_and_port_keeps_a_client_and_port_on_one_backend(void **state)
{
	(void)state;
	unsigned int seen = 0;

	mapping(&maps[4], "range", 30000, 30009, 40000, IPPROTO_UDP, be3, 3);
	maps[4].affinity = CFG_AFFINITY_CLIENT_IP_AND_PORT;
	publish();
	big_worker();
	for (uint16_t d = 30000; d <= 30009; d++) {
		unsigned int first = backend_of("198.51.100.2", 5000, d, IPPROTO_UDP);
		for (uint16_t p = 1; p < 6; p++)
			assert_int_equal(
				backend_of("198.51.100.2", (uint16_t)(5000 + p), d, IPPROTO_UDP),
				first);
		seen |= 1u << first;
	}
	/* one client's flows to other ports may reach other backends */
	assert_true(seen != 1 && seen != 2 && seen != 4);
}

static void five_tuple_is_the_default_and_spreads_a_client(void **state)
{
	(void)state;
	unsigned int seen = 0;

	assert_int_equal(maps[0].affinity, CFG_AFFINITY_FIVE_TUPLE);
	big_worker();
	for (uint16_t p = 0; p < 32; p++)
		seen |= 1u << backend_of("198.51.100.2", (uint16_t)(20000 + p), 8080, IPPROTO_TCP);
	assert_int_equal(seen, 7);
}

static void affinity_is_parsed_and_bad_values_name_the_key(void **state)
{
	(void)state;
	struct cfg_mapping m;
	char err[256];
	static const char ok[] = "{name: a, addresses: [198.51.100.1], ports: [{port: 80}],"
				 " backends: [{address: 10.0.0.1}], affinity: clientIPAndPort}";
	static const char bad[] = "{name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
				  " backends: [{address: 10.0.0.1}], affinity: ClientIP}";

	assert_int_equal(cfg_mapping_parse("cli", ok, strlen(ok), &m, err, sizeof(err)), 0);
	assert_int_equal(m.affinity, CFG_AFFINITY_CLIENT_IP_AND_PORT);
	cfg_mapping_free(&m);
	assert_int_equal(cfg_mapping_parse("cli", bad, strlen(bad), &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cli:2: affinity: \"ClientIP\" is not one of fiveTuple, "
				 "clientIP, clientIPAndPort");
	/* the CRD's JSON spec goes through the same parser */
	static const char crd[] = "{\"name\":\"a\",\"addresses\":[\"198.51.100.1\"],\"ports\":"
				  "[{\"port\":80}],\"backends\":[{\"address\":\"10.0.0.1\"}],"
				  "\"affinity\":\"clientIP\"}";
	assert_int_equal(cfg_mapping_parse("crd", crd, strlen(crd), &m, err, sizeof(err)), 0);
	assert_int_equal(m.affinity, CFG_AFFINITY_CLIENT_IP);
	cfg_mapping_free(&m);

	enum cfg_affinity a = CFG_AFFINITY_FIVE_TUPLE;
	assert_int_equal(cfg_affinity_parse("clientIP", &a), 0);
	assert_int_equal(a, CFG_AFFINITY_CLIENT_IP);
	assert_int_equal(cfg_affinity_parse("sourceIP", &a), -EINVAL);
	assert_int_equal(cfg_affinity_parse(NULL, &a), -EINVAL);
	assert_string_equal(cfg_affinity_name(CFG_AFFINITY_CLIENT_IP_AND_PORT), "clientIPAndPort");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			client_ip_keeps_every_flow_of_a_client_on_one_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(
			client_ip_and_port_keeps_a_client_and_port_on_one_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(five_tuple_is_the_default_and_spreads_a_client,
						setup, teardown),
		cmocka_unit_test(affinity_is_parsed_and_bad_values_name_the_key),
	};
	return cmocka_run_group_tests_name("affinity", tests, group_setup, group_teardown);
}
