/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Full-NAT SNAT ports (dp/snat.c): the port bitmaps of a worker over every SNAT address,
 * through nat_process_burst() on the fixture of nat_fixture.h, and the config key
 * ports.int.snat.addresses. The worker's partition is cut to 256 ports (1024..1279) so that
 * a test fills it. EAL runs with --no-huge --no-pci --no-shconf.
 */
#include <netinet/in.h>

#include "nat_fixture.h"
#include "snat_inlines.h"

#define PART_LO 1024u
#define PART_N	256u
#define UDP_BE	40000 /* the "range" mapping: 198.51.100.1:30000/udp -> 10.0.0.12:40000 */
#define TCP_BE	9092  /* "broker-1": 198.51.100.1:32001/tcp -> 10.0.0.12:9092 */

/* The fixture's worker, replaced by one with room for 4096 sessions, a partition of PART_N
 * ports and bitmaps for @p n_snat addresses. */
static void snat_worker(unsigned int n_snat)
{
	fixture_snat_worker(n_snat, PART_LO, PART_N);
}

/* int gets a second address, 10.0.0.5, and both are SNAT addresses, 10.0.0.1 first. */
static void two_snat_addresses(void)
{
	cfg.intl.addrs[1] = (struct cfg_cidr){ip4("10.0.0.5"), 24};
	cfg.intl.n_addrs = 2;
	cfg.intl.snat[0] = ip4("10.0.0.1");
	cfg.intl.snat[1] = ip4("10.0.0.5");
	cfg.intl.n_snat = 2;
	publish();
}

/* A first packet from client 198.51.100.2:@p sport to the mapping of @p proto. @return the
 * SNAT port of what went out on int (0: nothing did), its source address in *@p saddr. */
static uint16_t open_session(uint8_t proto, uint16_t sport, uint32_t *saddr)
{
	uint8_t buf[128], *f;
	struct rte_mbuf *m;
	size_t n = flow(buf, "198.51.100.2", sport, "198.51.100.1",
			proto == IPPROTO_UDP ? 30000 : 32001, proto, 0x02, DP_PORT_EXT);
	uint16_t p;

	inject(DP_PORT_EXT, buf, n);
	if (dp_tx_n(w, DP_PORT_INT) == 0)
		return 0;
	f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 16), ip4("10.0.0.12"));
	assert_int_equal(rd16(f + 14 + 22), proto == IPPROTO_UDP ? UDP_BE : TCP_BE);
	if (saddr)
		*saddr = rd32(f + 14 + 12);
	p = rd16(f + 14 + 20);
	rte_pktmbuf_free(m);
	return p;
}

/* The record holding SNAT @p addr:@p port, or fail. */
static uint32_t session_of(uint32_t addr, uint16_t port)
{
	for (uint32_t i = 0; i < w->sess.hwm; i++) {
		const struct nat_session *se = &w->sess.recs[i];
		if (se->proto && se->addr[DIR_I2O][1] == rte_cpu_to_be_32(addr) &&
		    se->port[DIR_I2O][1] == rte_cpu_to_be_16(port))
			return i;
	}
	fail_msg("no session holds SNAT port %u", port);
	return 0;
}

static void fill(uint8_t proto, uint16_t sport0)
{
	uint32_t a;

	for (unsigned int i = 0; i < PART_N; i++) {
		assert_int_equal(open_session(proto, (uint16_t)(sport0 + i), &a), PART_LO + i);
		assert_int_equal(a, ip4("10.0.0.1"));
	}
}

/* All ports of the partition taken towards 10.0.0.12:40000 but 1224: a new session gets 1224
 * (64 probes from the cursor, 1024..1087, found none: no_snat_port), and the next one is a
 * counted drop. */
static void the_one_free_port_is_found(void **state)
{
	(void)state;
	snat_worker(1);
	fill(IPPROTO_UDP, 10000);
	nat_session_free(w, session_of(ip4("10.0.0.1"), 1224));
	assert_int_equal(open_session(IPPROTO_UDP, 20000, NULL), 1224);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 0);
	assert_int_equal(open_session(IPPROTO_UDP, 20001, NULL), 0);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 1);
	assert_int_equal(w->snat.fallbacks, 0);
	/* another backend port is another destination: its ports are all free */
	assert_int_equal(w->snat.n_free, DP_SNAT_DESTS - 1);
}

/* Two SNAT addresses: 2 x 256 sessions towards one backend:port, the first address first;
 * the next one is dropped; a reply to the second address goes back to its client. */
static void two_addresses_double_the_ports(void **state)
{
	uint8_t buf[128], *f;
	struct rte_mbuf *m;
	uint32_t a;

	(void)state;
	two_snat_addresses();
	snat_worker(2);
	fill(IPPROTO_UDP, 10000);
	for (unsigned int i = 0; i < PART_N; i++) {
		assert_int_equal(open_session(IPPROTO_UDP, (uint16_t)(20000 + i), &a), PART_LO + i);
		assert_int_equal(a, ip4("10.0.0.5"));
	}
	assert_int_equal(w->stats.sessions_created, 2 * PART_N);
	assert_int_equal(open_session(IPPROTO_UDP, 30000, NULL), 0);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 1);

	/* the backend answers 10.0.0.5:1030: client 198.51.100.2:20006 gets it from the VIP */
	size_t n = flow(buf, "10.0.0.12", UDP_BE, "10.0.0.5", 1030, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_EXT, &m);
	assert_memory_equal(f, MAC_CLIENT, 6);
	assert_int_equal(rd32(f + 14 + 12), ip4("198.51.100.1"));
	assert_int_equal(rd32(f + 14 + 16), ip4("198.51.100.2"));
	assert_int_equal(rd16(f + 14 + 20), 30000);
	assert_int_equal(rd16(f + 14 + 22), 20006);
	rte_pktmbuf_free(m);
}

/* A port given back is taken last, not next: the cursor is past the port just taken (the
 * inline case's and the scan's alike). */
static void a_port_given_back_is_not_taken_next(void **state)
{
	(void)state;
	snat_worker(1);
	assert_int_equal(open_session(IPPROTO_UDP, 10000, NULL), 1024);
	assert_int_equal(open_session(IPPROTO_UDP, 10001, NULL), 1025);
	nat_session_free(w, session_of(ip4("10.0.0.1"), 1025));
	assert_int_equal(open_session(IPPROTO_UDP, 10002, NULL), 1026);
	for (unsigned int i = 1027; i < 1024 + 64; i++)
		assert_int_equal(open_session(IPPROTO_UDP, (uint16_t)(10000 + i - 1024), NULL), i);
	nat_session_free(w, session_of(ip4("10.0.0.1"), 1024 + 63));
	/* the cursor's word is used up to its last bit: the next word's first port */
	assert_int_equal(open_session(IPPROTO_UDP, 11000, NULL), 1024 + 64);
}

/* dp_snat_take()'s inline case and its scan take the same ports: both addresses full, the
 * cursor wrapped to the first port; 10.0.0.1:1024 back: taken at the cursor (inline);
 * 10.0.0.5:1030 and 1031 back: 1030 found by the scan (the cursor's word is full), 1031 at
 * the cursor, in the second address's row (inline: its port and address from the word's
 * index). Then nothing is left. */
static void inline_take_and_scan_agree_across_rows_and_the_wrap(void **state)
{
	uint32_t a;

	(void)state;
	two_snat_addresses();
	snat_worker(2);
	fill(IPPROTO_UDP, 10000);
	for (unsigned int i = 0; i < PART_N; i++)
		assert_int_equal(open_session(IPPROTO_UDP, (uint16_t)(20000 + i), &a), PART_LO + i);
	nat_session_free(w, session_of(ip4("10.0.0.1"), 1024));
	nat_session_free(w, session_of(ip4("10.0.0.5"), 1030));
	nat_session_free(w, session_of(ip4("10.0.0.5"), 1031));
	assert_int_equal(open_session(IPPROTO_UDP, 30000, &a), 1024);
	assert_int_equal(a, ip4("10.0.0.1"));
	assert_int_equal(open_session(IPPROTO_UDP, 30001, &a), 1030);
	assert_int_equal(a, ip4("10.0.0.5"));
	assert_int_equal(open_session(IPPROTO_UDP, 30002, &a), 1031);
	assert_int_equal(a, ip4("10.0.0.5"));
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 0);
	assert_int_equal(open_session(IPPROTO_UDP, 30003, NULL), 0);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 1);
	assert_int_equal(w->snat.fallbacks, 0);
}

/* Every port taken by an unanswered SYN: the next SYN evicts the oldest (port 1024) and takes
 * its port; the one after that, the next oldest (1025). */
static void eviction_hands_the_port_over(void **state)
{
	(void)state;
	snat_worker(1);
	fill(IPPROTO_TCP, 10000);
	assert_int_equal(open_session(IPPROTO_TCP, 20000, NULL), 1024);
	assert_int_equal(w->stats.sessions_evicted, 1);
	assert_int_equal(open_session(IPPROTO_TCP, 20001, NULL), 1025);
	assert_int_equal(w->stats.sessions_evicted, 2);
	assert_int_equal(w->sess.active, PART_N);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 0);
}

/* An expired session gives its port back; when the last one expires the destination's
 * bitmap returns to the pool. */
static void expiry_gives_the_port_back(void **state)
{
	(void)state;
	snat_worker(1);
	assert_int_equal(open_session(IPPROTO_UDP, 10000, NULL), 1024);
	w->now += 200 * 1000;
	for (unsigned int i = 1; i < PART_N; i++)
		assert_int_equal(open_session(IPPROTO_UDP, (uint16_t)(10000 + i), NULL),
				 PART_LO + i);
	w->now += 150 * 1000; /* the first one is 350 s idle, over udp's 300 s */
	assert_int_equal(nat_sessions_expire(w, 4096), 1);
	assert_int_equal(open_session(IPPROTO_UDP, 20000, NULL), 1024);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 0);
	w->now += 400 * 1000;
	assert_int_equal(nat_sessions_expire(w, 4096), PART_N);
	assert_int_equal(w->snat.n_free, DP_SNAT_DESTS);
}

/* A clear frees every port: the partition fills again. */
static void clear_gives_the_ports_back(void **state)
{
	(void)state;
	snat_worker(1);
	fill(IPPROTO_UDP, 10000);
	assert_int_equal(nat_sessions_clear(w, -1, 0), PART_N);
	assert_int_equal(w->snat.n_free, DP_SNAT_DESTS);
	fill(IPPROTO_UDP, 20000);
}

/* With the pool of bitmaps empty, a new session probes as before, counted; a bitmap made
 * later skips the ports those sessions hold. */
static void empty_pool_falls_back_to_probing(void **state)
{
	(void)state;
	snat_worker(1);
	w->snat.n_free = 0;
	assert_int_equal(open_session(IPPROTO_UDP, 10000, NULL), 1024);
	assert_int_equal(open_session(IPPROTO_UDP, 10001, NULL), 1025);
	assert_int_equal(w->snat.fallbacks, 2);
	assert_int_equal(w->stats.sessions_snat_probed, 2);
	/* the pool back, a bitmap from port 1024 on: 1024 and 1025 are the probed sessions' */
	w->snat.n_free = DP_SNAT_DESTS;
	w->snat_next = PART_LO;
	assert_int_equal(open_session(IPPROTO_UDP, 10002, NULL), 1026);
	/* their bits are held now, and given back when they end */
	nat_session_free(w, session_of(ip4("10.0.0.1"), 1024));
	nat_session_free(w, session_of(ip4("10.0.0.1"), 1026));
	nat_session_free(w, session_of(ip4("10.0.0.1"), 1025));
	assert_int_equal(w->snat.n_free, DP_SNAT_DESTS);
}

/* 500 destinations (backend addresses spread by a multiply: the destinations' hash is a
 * CRC, linear, under which consecutive addresses would each get a slot of their own), so that
 * probes pass other destinations, and a TCP destination of each address too: each take finds
 * its own destination again, whose cursor goes on from its last port, and the ports given back
 * return every destination to the pool. */
static void many_destinations_each_found_again(void **state)
{
	const struct tables *t = tables_get();
	enum { N = 500 };
	uint16_t first[N];
	struct nat_key k;
	struct nat_hash h;

	(void)state;
	snat_worker(1);
	for (unsigned int pass = 0; pass < 3; pass++) {
		for (unsigned int i = 0; i < N; i++) {
			uint8_t proto = pass == 2 ? IPPROTO_TCP : IPPROTO_UDP;
			k = (struct nat_key){.src = rte_cpu_to_be_32((i + 1u) * 0x9e3779b1u),
					     .sport = rte_cpu_to_be_16(80),
					     .proto = proto,
					     .family = 4};
			assert_int_equal(dp_snat_take(w, t, &k, &h), 0);
			// The inline probe finds it where dp_snat_dest_get() put it: both
			// start at the home slot of the same word.
			assert_non_null(snat_dest_in_use(&w->snat, &k, snat_rows(&w->snat, t)));
			assert_int_equal(k.dst, rte_cpu_to_be_32(ip4("10.0.0.1")));
			uint16_t p = rte_be_to_cpu_16(k.dport);
			if (pass == 0)
				first[i] = p; // a new destination starts at the worker's last port
			else if (pass == 1)   // its cursor: the port after its first
				assert_int_equal(p, PART_LO + (first[i] - PART_LO + 1u) % PART_N);
			else // TCP: a new destination again, from the worker's last port on
				assert_int_equal(p, PART_LO + (i + N + 1u) % PART_N);
		}
		assert_int_equal(w->snat.n_free, DP_SNAT_DESTS - (pass == 2 ? 2u : 1u) * N);
	}
	for (unsigned int i = 0; i < N; i++)
		assert_int_equal(first[i], PART_LO + i % PART_N);
	for (unsigned int i = 0; i < N; i++)
		for (unsigned int pass = 0; pass < 3; pass++) {
			uint16_t p =
				pass == 0 ? first[i]
				: pass == 1
					? (uint16_t)(PART_LO + (first[i] - PART_LO + 1u) % PART_N)
					: (uint16_t)(PART_LO + (i + N + 1u) % PART_N);
			k = (struct nat_key){.src = rte_cpu_to_be_32((i + 1u) * 0x9e3779b1u),
					     .dst = rte_cpu_to_be_32(ip4("10.0.0.1")),
					     .sport = rte_cpu_to_be_16(80),
					     .dport = rte_cpu_to_be_16(p),
					     .proto = pass == 2 ? IPPROTO_TCP : IPPROTO_UDP,
					     .family = 4};
			dp_snat_put(w, t, &k);
		}
	assert_int_equal(w->snat.n_free, DP_SNAT_DESTS);
}

/* The tables carry the SNAT addresses: the configured ones in order, or int's first. */
static void tables_carry_the_snat_addresses(void **state)
{
	(void)state;
	assert_int_equal(tables_get()->n_snat, 1);
	assert_int_equal(tables_get()->snat_addrs[0], rte_cpu_to_be_32(ip4("10.0.0.1")));
	cfg.intl.addrs[1] = (struct cfg_cidr){ip4("10.0.0.5"), 24};
	cfg.intl.n_addrs = 2;
	cfg.intl.snat[0] = ip4("10.0.0.5");
	cfg.intl.n_snat = 1;
	publish();
	assert_int_equal(tables_get()->n_snat, 1);
	assert_int_equal(tables_get()->snat_addrs[0], rte_cpu_to_be_32(ip4("10.0.0.5")));
	/* and a session towards a backend goes out from it */
	snat_worker(1);
	uint32_t a;
	assert_int_equal(open_session(IPPROTO_UDP, 10000, &a), 1024);
	assert_int_equal(a, ip4("10.0.0.5"));
}

/* Replies to any SNAT address go to the worker that owns the port's partition. */
static void replies_to_every_address_reach_the_port_owner(void **state)
{
	char err[256];
	uint32_t span = (65536u - DP_SNAT_PORT_MIN) / 4;

	(void)state;
	two_snat_addresses();
	dp_worker_free(w);
	w = dp_worker_new(0, 4, 0, 16, err, sizeof(err));
	assert_non_null(w);
	for (unsigned int o = 0; o < 4; o++) {
		struct pkt_meta pm = {
			.src = rte_cpu_to_be_32(ip4("10.0.0.12")),
			.sport = rte_cpu_to_be_16(UDP_BE),
			.dport = rte_cpu_to_be_16((uint16_t)(DP_SNAT_PORT_MIN + o * span + 7)),
			.proto = IPPROTO_UDP};
		pm.dst = rte_cpu_to_be_32(ip4("10.0.0.1"));
		assert_int_equal(nat_owner(w, tables_get(), DP_PORT_INT, &pm), o);
		pm.dst = rte_cpu_to_be_32(ip4("10.0.0.5"));
		assert_int_equal(nat_owner(w, tables_get(), DP_PORT_INT, &pm), o);
	}
}

/* ---- config: ports.int.snat.addresses ---- */

#define INT_PORT                                                                                   \
	"ports:\n"                                                                                 \
	"  ext: {device: e0, addresses: [198.51.100.1/24]}\n"                                      \
	"  int:\n"                                                                                 \
	"    device: i0\n"                                                                         \
	"    addresses: [10.0.0.1/24, 10.0.0.5/24]\n"

static char cerr[512];

static int load(const char *yaml, struct cfg *c)
{
	return cfg_load_string("t.yaml", yaml, strlen(yaml), c, cerr, sizeof(cerr));
}

static void config_snat_addresses_are_loaded(void **state)
{
	static struct cfg c;

	(void)state;
	assert_int_equal(load(INT_PORT "    snat: {addresses: [10.0.0.5, 10.0.0.1]}\n", &c), 0);
	assert_int_equal(c.intl.n_snat, 2);
	assert_int_equal(c.intl.snat[0], ip4("10.0.0.5"));
	assert_int_equal(c.intl.snat[1], ip4("10.0.0.1"));
	cfg_free(&c);
	assert_int_equal(load(INT_PORT, &c), 0);
	assert_int_equal(c.intl.n_snat, 0);
	cfg_free(&c);
}

static void expect_config_error(const char *yaml, const char *msg)
{
	static struct cfg c;

	cerr[0] = '\0';
	assert_int_equal(load(yaml, &c), -EINVAL);
	assert_string_equal(cerr, msg);
}

static void config_snat_address_must_be_an_int_address(void **state)
{
	(void)state;
	expect_config_error(INT_PORT "    snat: {addresses: [10.0.0.5, 10.0.0.9]}\n",
			    "t.yaml:6: ports.int.snat.addresses[1]: 10.0.0.9 is not one of "
			    "ports.int.addresses: a SNAT address must be the gateway's own on int");
	expect_config_error(INT_PORT "    snat: {addresses: [10.0.0.5, 10.0.0.5]}\n",
			    "t.yaml:6: ports.int.snat.addresses[1]: 10.0.0.5 is listed twice");
	expect_config_error(INT_PORT "    snat: {addresses: [10.0.0]}\n",
			    "t.yaml:6: ports.int.snat.addresses[0]: \"10.0.0\" is not an IPv4 "
			    "address");
	expect_config_error(INT_PORT "    snat: {ports: [1]}\n",
			    "t.yaml:6: ports.int.snat: unknown key \"ports\"");
	expect_config_error("ports:\n"
			    "  ext:\n"
			    "    device: e0\n"
			    "    addresses: [198.51.100.1/24]\n"
			    "    snat: {addresses: [198.51.100.1]}\n",
			    "t.yaml:5: ports.ext.snat: only ports.int has SNAT addresses (the "
			    "full-NAT source towards backends)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_one_free_port_is_found, setup, teardown),
		cmocka_unit_test_setup_teardown(two_addresses_double_the_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(a_port_given_back_is_not_taken_next, setup,
						teardown),
		cmocka_unit_test_setup_teardown(inline_take_and_scan_agree_across_rows_and_the_wrap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(eviction_hands_the_port_over, setup, teardown),
		cmocka_unit_test_setup_teardown(expiry_gives_the_port_back, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_gives_the_ports_back, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_pool_falls_back_to_probing, setup, teardown),
		cmocka_unit_test_setup_teardown(many_destinations_each_found_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(tables_carry_the_snat_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(replies_to_every_address_reach_the_port_owner,
						setup, teardown),
		cmocka_unit_test(config_snat_addresses_are_loaded),
		cmocka_unit_test(config_snat_address_must_be_an_int_address),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
