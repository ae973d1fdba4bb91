/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table and the slow path without a PMD: ARP frames and packets to park go
 * into a worker's slow-path rings as the worker would pass them (dp_to_slowpath()), then
 * dp_slowpath_poll() runs on the test's thread with a frozen clock (neigh_clock_set(), 1 tick
 * = 1 ms), and what it sends is read back from worker 0's ctl_tx ring byte for byte.
 * EAL runs with --no-huge --no-pci.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <strait/tables.h>

#include "dp_priv.h"
#include "pkt_build.h"

#define HZ 1000 /* 1 tick = 1 ms */
#define T0 1000000

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MAC_NH[6] = {0x02, 0x10, 0, 0, 0, 2};
static const uint8_t MAC_HOST[6] = {0x02, 0x10, 0, 0, 0, 77};
static const uint8_t MAC_EVIL[6] = {0x02, 0xee, 0, 0, 0, 66};

static struct rte_mempool *pool;
static struct dp_worker *w;
static struct cfg cfg;
static struct cfg_mapping maps[2];
static struct cfg_backend be[1];
static uint64_t gen;
static uint64_t now;

static uint32_t ip4(const char *s)
{
	uint32_t a;
	assert_int_equal(cfg_parse_ipv4(s, &a), 0);
	return a;
}

static rte_be32_t be4(const char *s)
{
	return rte_cpu_to_be_32(ip4(s));
}

static int slot_of(const char *ns, const char *name)
{
	(void)ns;
	for (unsigned int i = 0; i < RTE_DIM(maps); i++)
		if (strcmp(maps[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void mapping(struct cfg_mapping *m, const char *name, const char *vip)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->addrs[0] = ip4(vip);
	m->n_addrs = 1;
	m->ports[0] = (struct cfg_map_port){
		.port = 8080, .end_port = 8080, .service_port = 80, .proto = IPPROTO_TCP};
	m->n_ports = 1;
	m->backends = be;
	m->n_backends = 1;
	m->ordinal = -1;
}

static void publish(unsigned int n_maps)
{
	const struct cfg_mapping *p[RTE_DIM(maps)];
	char err[256];
	for (unsigned int i = 0; i < n_maps; i++)
		p[i] = &maps[i];
	struct tables *t = tables_build(&cfg, p, n_maps, slot_of, ++gen, err, sizeof(err));
	if (!t)
		fail_msg("tables_build: %s", err);
	tables_publish(t, NULL);
}

static void clock_at(uint64_t t)
{
	now = t;
	neigh_clock_set(now, HZ);
}

static int group_setup(void **state)
{
	(void)state;
	char *argv[] = {"neigh_test", "--no-huge", "--no-pci", "--no-shconf",	      "-m",
			"256",	      "-l",	   "0",	       "--log-level=*:error", NULL};
	if (rte_eal_init(9, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test", 8192, 0,
				       RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	return pool ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	tables_publish(NULL, NULL);
	rte_eal_cleanup();
	return 0;
}

static void drain(void)
{
	struct rte_mbuf *m;
	while (rte_ring_dequeue(w->ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

/* Ext 198.51.100.1/24, int 10.0.0.1/24 with 10.244.0.0/16 via 10.0.0.2, one mapping on
 * 198.51.100.1 to 10.0.0.11; one poll made (announcements and requests), its frames gone. */
static int setup(void **state)
{
	(void)state;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.ext.addrs[0] = (struct cfg_cidr){ip4("198.51.100.1"), 24};
	cfg.ext.n_addrs = 1;
	cfg.intl.addrs[0] = (struct cfg_cidr){ip4("10.0.0.1"), 24};
	cfg.intl.n_addrs = 1;
	cfg.intl.routes[0] = (struct cfg_route){{ip4("10.244.0.0"), 16}, ip4("10.0.0.2")};
	cfg.intl.n_routes = 1;
	cfg.timeouts = (struct cfg_timeouts){300, 7440, 240};
	be[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	mapping(&maps[0], "web", "198.51.100.1");
	mapping(&maps[1], "web2", "198.51.100.10");
	publish(1);

	w = dp_worker_new(0, 1, 0, 8, err, sizeof(err));
	if (!w)
		fail_msg("dp_worker_new: %s", err);
	dp_workers[0] = w;
	dp_test_attach(1, pool);
	neigh_reset();
	neigh_set_secret(0x2545f491);
	dp_slowpath_reset();
	memset(&dp_sp_stats, 0, sizeof(dp_sp_stats));
	clock_at(T0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct rte_mbuf *m;
	drain();
	while (rte_ring_dequeue(w->sp_out, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue(w->sp_arp, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	dp_slowpath_reset();
	dp_test_attach(0, NULL);
	dp_worker_free(w);
	dp_workers[0] = NULL;
	neigh_clock_set(0, 0);
	return 0;
}

/* An ARP frame (RFC 826) to @p dmac. */
static size_t arp_frame(uint8_t *buf, uint16_t op, const uint8_t *dmac, const uint8_t *sha,
			rte_be32_t sip, rte_be32_t tip)
{
	memset(buf, 0, 60);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, sha, 6);
	buf[12] = 0x08;
	buf[13] = 0x06;
	uint8_t *a = buf + 14;
	a[1] = 1;    /* Ethernet */
	a[2] = 0x08; /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = (uint8_t)op;
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &sip, 4);
	if (op == RTE_ARP_OP_REPLY)
		memcpy(a + 18, dmac, 6);
	memcpy(a + 24, &tip, 4);
	return 60;
}

/* Pass a frame to the slow path as worker 0 would, having received it on @p port. */
static void to_sp(uint8_t port, const uint8_t *frame, size_t len, uint8_t reason)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	dp_to_slowpath(w, m, port, reason);
}

static void arp_in(uint8_t port, uint16_t op, const uint8_t *sha, const char *sip, const char *tip)
{
	uint8_t buf[64];
	size_t n = arp_frame(buf, op, op == RTE_ARP_OP_REQUEST ? BCAST : w->mac[port].addr_bytes,
			     sha, be4(sip), be4(tip));
	to_sp(port, buf, n, DP_SP_ARP);
}

/* What the slow path sent, in order: frames copied out, out port, and count. */
struct sent {
	uint8_t f[64][128];
	uint8_t port[64];
	unsigned int n;
};

static void collect(struct sent *s)
{
	struct rte_mbuf *m;
	s->n = 0;
	while (rte_ring_dequeue(w->ctl_tx, (void **)&m) == 0) {
		if (s->n < RTE_DIM(s->f)) {
			memcpy(s->f[s->n], rte_pktmbuf_mtod(m, uint8_t *),
			       RTE_MIN(rte_pktmbuf_data_len(m), sizeof(s->f[0])));
			s->port[s->n] = dp_priv(m)->out_port;
			s->n++;
		}
		rte_pktmbuf_free(m);
	}
}

static bool is_arp(const uint8_t *f, uint16_t op, rte_be32_t sip, rte_be32_t tip)
{
	rte_be32_t s, t;
	memcpy(&s, f + 14 + 14, 4);
	memcpy(&t, f + 14 + 24, 4);
	return f[12] == 0x08 && f[13] == 0x06 && f[14 + 7] == op && s == sip && t == tip;
}

static unsigned int count_arp(const struct sent *s, uint8_t port, uint16_t op, rte_be32_t sip,
			      rte_be32_t tip)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < s->n; i++)
		n += s->port[i] == port && is_arp(s->f[i], op, sip, tip);
	return n;
}

static bool resolved(uint8_t port, const char *addr, const uint8_t *mac)
{
	struct rte_ether_addr m;
	uint32_t g;
	if (!neigh_lookup(port, be4(addr), &m, &g))
		return false;
	if (mac)
		assert_memory_equal(&m, mac, 6);
	return true;
}

/* The first poll announces our addresses (RFC 5227 announcement: sender = target = ours,
 * broadcast) and asks for the next hop; a new tables generation announces only what is new. */
static void addresses_are_announced_when_they_appear(void **state)
{
	(void)state;
	struct sent s;

	dp_slowpath_poll();
	collect(&s);
	assert_int_equal(count_arp(&s, DP_PORT_EXT, 1, be4("198.51.100.1"), be4("198.51.100.1")),
			 1);
	assert_int_equal(count_arp(&s, DP_PORT_INT, 1, be4("10.0.0.1"), be4("10.0.0.1")), 1);
	for (unsigned int i = 0; i < s.n; i++)
		if (is_arp(s.f[i], 1, be4("10.0.0.1"), be4("10.0.0.1")))
			assert_memory_equal(s.f[i], BCAST, 6);
	assert_int_equal(count_arp(&s, DP_PORT_INT, 1, be4("10.0.0.1"), be4("10.0.0.2")), 1);

	publish(2); /* adds 198.51.100.10 */
	dp_slowpath_poll();
	collect(&s);
	assert_int_equal(count_arp(&s, DP_PORT_EXT, 1, be4("198.51.100.10"), be4("198.51.100.10")),
			 1);
	assert_int_equal(count_arp(&s, DP_PORT_EXT, 1, be4("198.51.100.1"), be4("198.51.100.1")),
			 0);
	dp_garp_announce(DP_PORT_INT, be4("10.0.0.1"));
	collect(&s);
	assert_int_equal(s.n, 1);
	assert_true(is_arp(s.f[0], 1, be4("10.0.0.1"), be4("10.0.0.1")));
	publish(1);
}

/* A reply nobody asked for creates nothing; the one we asked for is learned. */
static void unsolicited_reply_creates_nothing(void **state)
{
	(void)state;
	dp_slowpath_poll(); /* asks for 10.0.0.2 and 10.0.0.11 */
	drain();
	unsigned int n0 = neigh_count(DP_PORT_INT);

	arp_in(DP_PORT_INT, RTE_ARP_OP_REPLY, MAC_HOST, "10.0.0.50", "10.0.0.1");
	dp_slowpath_poll();
	assert_false(resolved(DP_PORT_INT, "10.0.0.50", NULL));
	assert_int_equal(neigh_count(DP_PORT_INT), n0);
	assert_int_equal(dp_sp_stats.drops[DP_DROP_ARP_UNSOLICITED], 1);

	arp_in(DP_PORT_INT, RTE_ARP_OP_REPLY, MAC_NH, "10.0.0.2", "10.0.0.1");
	dp_slowpath_poll();
	assert_true(resolved(DP_PORT_INT, "10.0.0.2", MAC_NH));
	assert_int_equal(dp_sp_stats.drops[DP_DROP_ARP_UNSOLICITED], 1);

	/* once the request is older than NEIGH_INCOMPLETE_S, its answer is unsolicited too */
	clock_at(now + (NEIGH_INCOMPLETE_S + 1) * HZ);
	arp_in(DP_PORT_INT, RTE_ARP_OP_REPLY, MAC_HOST, "10.0.0.11", "10.0.0.1");
	dp_slowpath_poll();
	assert_false(resolved(DP_PORT_INT, "10.0.0.11", NULL));
	assert_int_equal(dp_sp_stats.drops[DP_DROP_ARP_UNSOLICITED], 1 + 1);
}

/* A host on ext claiming the int next hop's address changes nothing, by reply or request. */
static void next_hop_claimed_on_ext_is_ignored(void **state)
{
	(void)state;
	dp_slowpath_poll();
	arp_in(DP_PORT_INT, RTE_ARP_OP_REPLY, MAC_NH, "10.0.0.2", "10.0.0.1");
	dp_slowpath_poll();
	drain();
	assert_true(resolved(DP_PORT_INT, "10.0.0.2", MAC_NH));
	uint32_t g = neigh_gen();

	arp_in(DP_PORT_EXT, RTE_ARP_OP_REPLY, MAC_EVIL, "10.0.0.2", "198.51.100.1");
	arp_in(DP_PORT_EXT, RTE_ARP_OP_REQUEST, MAC_EVIL, "10.0.0.2", "198.51.100.1");
	dp_slowpath_poll();
	assert_int_equal(dp_sp_stats.drops[DP_DROP_ARP_WRONG_ARM], 2);
	assert_true(resolved(DP_PORT_INT, "10.0.0.2", MAC_NH));
	assert_false(resolved(DP_PORT_EXT, "10.0.0.2", NULL));
	assert_int_equal(neigh_count(DP_PORT_EXT), 0);
	assert_int_equal(neigh_gen(), g);
	struct sent s;
	collect(&s);
	assert_int_equal(s.n, 0); /* no answer to an off-arm sender */
}

/* A request for our address is answered and its on-prefix sender learned; one from outside
 * the arm's prefixes is neither. A request not for us teaches nothing. */
static void request_from_off_prefix_sender_is_not_learned(void **state)
{
	(void)state;
	struct sent s;

	arp_in(DP_PORT_INT, RTE_ARP_OP_REQUEST, MAC_HOST, "192.0.2.9", "10.0.0.1");
	arp_in(DP_PORT_INT, RTE_ARP_OP_REQUEST, MAC_HOST, "10.0.0.78", "10.0.0.99");
	dp_slowpath_poll();
	collect(&s);
	assert_false(resolved(DP_PORT_INT, "192.0.2.9", NULL));
	assert_false(resolved(DP_PORT_INT, "10.0.0.78", NULL));
	assert_int_equal(dp_sp_stats.drops[DP_DROP_ARP_WRONG_ARM], 1);
	assert_int_equal(count_arp(&s, DP_PORT_INT, 2, be4("10.0.0.1"), be4("192.0.2.9")), 0);

	arp_in(DP_PORT_INT, RTE_ARP_OP_REQUEST, MAC_HOST, "10.0.0.77", "10.0.0.1");
	dp_slowpath_poll();
	collect(&s);
	assert_true(resolved(DP_PORT_INT, "10.0.0.77", MAC_HOST));
	assert_int_equal(count_arp(&s, DP_PORT_INT, 2, be4("10.0.0.1"), be4("10.0.0.77")), 1);
	for (unsigned int i = 0; i < s.n; i++)
		if (is_arp(s.f[i], 2, be4("10.0.0.1"), be4("10.0.0.77"))) {
			assert_memory_equal(s.f[i], MAC_HOST, 6);	    /* to the asker */
			assert_memory_equal(s.f[i] + 14 + 18, MAC_HOST, 6); /* tha */
		}
}

static void walk_find(const struct dp_neigh_info *ni, void *arg)
{
	unsigned int *n = arg;
	n[1] += ni->addr == n[0];
}

/* Entries (resolved or not, any arm) for @p addr. */
static unsigned int in_table(const char *addr)
{
	unsigned int n[2] = {ip4(addr), 0};
	dp_neigh_walk(walk_find, n);
	return n[1];
}

/* An entry nobody confirms is probed after NEIGH_REACHABLE_S and removed at NEIGH_STALE_S;
 * the generation moves so that adjacencies stop using its MAC. An unanswered request's
 * entry goes after NEIGH_INCOMPLETE_S. */
static void idle_entry_ages_out(void **state)
{
	(void)state;
	struct sent s;

	arp_in(DP_PORT_INT, RTE_ARP_OP_REQUEST, MAC_HOST, "10.0.0.77", "10.0.0.1");
	dp_slowpath_poll();
	drain();
	assert_true(resolved(DP_PORT_INT, "10.0.0.77", MAC_HOST));

	clock_at(T0 + (NEIGH_REACHABLE_S - 1) * HZ);
	dp_slowpath_poll();
	collect(&s);
	assert_int_equal(count_arp(&s, DP_PORT_INT, 1, be4("10.0.0.1"), be4("10.0.0.77")), 0);
	assert_true(resolved(DP_PORT_INT, "10.0.0.77", MAC_HOST));

	clock_at(T0 + NEIGH_REACHABLE_S * HZ);
	dp_slowpath_poll();
	collect(&s);
	assert_int_equal(count_arp(&s, DP_PORT_INT, 1, be4("10.0.0.1"), be4("10.0.0.77")), 1);
	assert_true(resolved(DP_PORT_INT, "10.0.0.77", MAC_HOST));

	uint32_t g = neigh_gen();
	clock_at(T0 + NEIGH_STALE_S * HZ);
	dp_slowpath_poll();
	assert_false(resolved(DP_PORT_INT, "10.0.0.77", NULL));
	assert_int_not_equal(neigh_gen(), g);

	/* unresolved: asked for, never answered */
	assert_int_equal(neigh_request(DP_PORT_INT, be4("10.0.0.99")), 0);
	assert_int_equal(in_table("10.0.0.99"), 1);
	clock_at(now + NEIGH_INCOMPLETE_S * HZ);
	dp_slowpath_poll();
	assert_int_equal(in_table("10.0.0.99"), 1);
	clock_at(now + 1000);
	dp_slowpath_poll();
	assert_int_equal(in_table("10.0.0.99"), 0);
}

/* With NEIGH_MAX entries, a new one evicts the oldest idle; with none idle it is refused
 * and counted. */
static void full_table_evicts_oldest_idle(void **state)
{
	(void)state;
	struct rte_ether_addr mac = {{0x02, 0x33, 0, 0, 0, 1}};

	for (uint32_t i = 0; i < NEIGH_MAX; i++) {
		clock_at(T0 + i);
		neigh_update(rte_cpu_to_be_32(ip4("172.16.0.0") + i), DP_PORT_EXT, &mac);
	}
	assert_int_equal(neigh_count(DP_PORT_EXT), NEIGH_MAX);

	/* all confirmed within NEIGH_REACHABLE_S: nothing to evict */
	clock_at(T0 + NEIGH_MAX + 1);
	assert_int_equal(neigh_request(DP_PORT_EXT, be4("198.51.100.2")), -ENOSPC);
	arp_in(DP_PORT_EXT, RTE_ARP_OP_REQUEST, MAC_HOST, "198.51.100.77", "198.51.100.1");
	dp_slowpath_poll();
	assert_false(resolved(DP_PORT_EXT, "198.51.100.77", NULL));
	assert_true(dp_sp_stats.drops[DP_DROP_NEIGH_TABLE_FULL] >= 1);
	/* the other arm is unaffected */
	assert_int_equal(neigh_request(DP_PORT_INT, be4("10.0.0.50")), 0);

	/* all idle now; the oldest is 172.16.0.0 */
	clock_at(T0 + NEIGH_REACHABLE_S * HZ + NEIGH_MAX);
	uint32_t g = neigh_gen();
	assert_int_equal(neigh_request(DP_PORT_EXT, be4("198.51.100.2")), 0);
	assert_int_equal(neigh_count(DP_PORT_EXT), NEIGH_MAX);
	assert_false(resolved(DP_PORT_EXT, "172.16.0.0", NULL));
	assert_true(resolved(DP_PORT_EXT, "172.16.0.1", NULL));
	assert_true(neigh_outstanding(DP_PORT_EXT, be4("198.51.100.2")));
	assert_int_not_equal(neigh_gen(), g);
}

/* 17 addresses that all share a slot under the old hash (CRC, seed 0) spread under the
 * keyed one, and two secrets place the same addresses differently. */
static void slot_hash_is_keyed(void **state)
{
	(void)state;
	rte_be32_t a[17];
	unsigned int n = 0;
	uint32_t want = rte_hash_crc_4byte(be4("10.0.0.2"), 0) & (NEIGH_SLOTS - 1);
	struct rte_ether_addr mac = {{0x02, 0x33, 0, 0, 0, 1}};

	for (uint32_t h = ip4("10.0.0.0"); n < RTE_DIM(a); h++) {
		rte_be32_t x = rte_cpu_to_be_32(h);
		if ((rte_hash_crc_4byte(x, 0) & (NEIGH_SLOTS - 1)) == want)
			a[n++] = x;
	}
	for (unsigned int i = 0; i < n; i++)
		neigh_update(a[i], DP_PORT_INT, &mac);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_ether_addr m;
		uint32_t g;
		assert_true(neigh_lookup(DP_PORT_INT, a[i], &m, &g));
	}
	unsigned int same = 0, differ = 0;
	uint32_t s0 = neigh_slot(DP_PORT_INT, a[0]), s1[RTE_DIM(a)];
	for (unsigned int i = 0; i < n; i++) {
		s1[i] = neigh_slot(DP_PORT_INT, a[i]);
		same += s1[i] == s0;
	}
	assert_true(same < n);
	neigh_reset();
	neigh_set_secret(0x7f4a7c15);
	for (unsigned int i = 0; i < n; i++)
		differ += neigh_slot(DP_PORT_INT, a[i]) != s1[i];
	assert_true(differ > 0);
}

/* A flood of TTL-expired packets fills the ICMP ring: ARP still goes through, on its own
 * ring and first, and only ICMP_DST_BURST time exceeded go to the one source. */
static void icmp_flood_is_rate_limited_and_arp_gets_through(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct tb_flow fl = {.src = "198.51.100.2",
			     .dst = "198.51.100.1",
			     .sport = 5000,
			     .dport = 8080,
			     .proto = IPPROTO_UDP,
			     .ttl = 1,
			     .dmac = w->mac[DP_PORT_EXT].addr_bytes};
	size_t len = tb_frame(buf, &fl);
	unsigned int flood = 0;

	dp_slowpath_poll();
	drain();
	while (w->stats.drops[DP_DROP_SLOWPATH_RING_FULL] == 0) {
		to_sp(DP_PORT_EXT, buf, len, DP_SP_TTL);
		flood++;
	}
	flood--; /* the last one was dropped */
	arp_in(DP_PORT_INT, RTE_ARP_OP_REQUEST, MAC_HOST, "10.0.0.77", "10.0.0.1");
	assert_int_equal(w->stats.drops[DP_DROP_SLOWPATH_RING_FULL], 1);

	struct sent s;
	dp_slowpath_poll();
	collect(&s);
	assert_true(s.n >= 1);
	assert_true(is_arp(s.f[0], 2, be4("10.0.0.1"), be4("10.0.0.77")));
	assert_true(resolved(DP_PORT_INT, "10.0.0.77", MAC_HOST));

	unsigned int te = 0;
	for (unsigned int i = 0; i < s.n; i++)
		te += s.f[i][12] == 0x08 && s.f[i][13] == 0 && s.f[i][14 + 9] == IPPROTO_ICMP &&
		      s.f[i][14 + 20] == 11;
	while (rte_ring_count(w->sp_out)) {
		dp_slowpath_poll();
		collect(&s);
		for (unsigned int i = 0; i < s.n; i++)
			te += s.f[i][12] == 0x08 && s.f[i][13] == 0 &&
			      s.f[i][14 + 9] == IPPROTO_ICMP && s.f[i][14 + 20] == 11;
	}
	assert_int_equal(te, 6);
	assert_int_equal(dp_sp_stats.drops[DP_DROP_ICMP_RATE_LIMITED], flood - 6);

	/* a second later the source gets one more */
	clock_at(now + HZ);
	to_sp(DP_PORT_EXT, buf, len, DP_SP_TTL);
	dp_slowpath_poll();
	collect(&s);
	te = 0;
	for (unsigned int i = 0; i < s.n; i++)
		te += s.f[i][14 + 9] == IPPROTO_ICMP && s.f[i][14 + 20] == 11;
	assert_int_equal(te, 1);
}

static void park_one(const char *nh)
{
	uint8_t buf[256];
	struct tb_flow fl = {.src = "198.51.100.2",
			     .dst = "10.0.0.11",
			     .sport = 5000,
			     .dport = 80,
			     .proto = IPPROTO_UDP,
			     .dmac = BCAST};
	size_t len = tb_frame(buf, &fl);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), buf, len);
	dp_priv(m)->out_port = DP_PORT_INT;
	dp_priv(m)->nh = be4(nh);
	dp_to_slowpath(w, m, DP_PORT_INT, DP_SP_NEED_NEIGH);
}

/* At most 8 packets wait for one neighbour, and 64 neighbours have packets waiting; the
 * answer releases what waited, with the learned MAC. */
static void parked_packets_are_bounded(void **state)
{
	(void)state;
	struct sent s;

	dp_slowpath_poll();
	drain();
	for (int i = 0; i < 12; i++)
		park_one("10.0.0.99");
	dp_slowpath_poll();
	collect(&s);
	assert_int_equal(dp_sp_stats.drops[DP_DROP_NEIGH_PARK_FULL], 4);
	assert_int_equal(count_arp(&s, DP_PORT_INT, 1, be4("10.0.0.1"), be4("10.0.0.99")), 1);

	char a[32];
	for (int i = 0; i < 64; i++) {
		snprintf(a, sizeof(a), "10.0.0.%d", 100 + i);
		park_one(a);
	}
	while (rte_ring_count(w->sp_out))
		dp_slowpath_poll();
	drain();
	assert_int_equal(dp_sp_stats.drops[DP_DROP_NEIGH_PARK_FULL], 4 + 1);

	arp_in(DP_PORT_INT, RTE_ARP_OP_REPLY, MAC_HOST, "10.0.0.99", "10.0.0.1");
	dp_slowpath_poll();
	collect(&s);
	unsigned int released = 0;
	for (unsigned int i = 0; i < s.n; i++)
		if (s.f[i][12] == 0x08 && s.f[i][13] == 0 && s.port[i] == DP_PORT_INT) {
			assert_memory_equal(s.f[i], MAC_HOST, 6);
			released++;
		}
	assert_int_equal(released, 8);
}

static void tcp_in(uint8_t flags)
{
	uint8_t buf[256];
	struct tb_flow fl = {.src = "198.51.100.2",
			     .dst = "198.51.100.1",
			     .sport = 40000,
			     .dport = 8080,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = flags,
			     .payload_len = 10,
			     .dmac = w->mac[DP_PORT_EXT].addr_bytes};
	size_t len = tb_frame(buf, &fl);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), buf, len);
	nat_process_burst(w, tables_get(), DP_PORT_EXT, &m, 1);
}

/* The dmac of the one frame the worker queued on int (freed). */
static void take_int(uint8_t *dmac)
{
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 1);
	memcpy(dmac, rte_pktmbuf_mtod(w->tx[DP_PORT_INT][0], uint8_t *), 6);
	rte_pktmbuf_free(w->tx[DP_PORT_INT][0]);
	dp_tx_reset(w, DP_PORT_INT);
}

/* A session's worker stops using a backend's MAC once the entry ages out: the next packet
 * goes to the slow path, which asks again and sends it to the MAC that answers. */
static void worker_never_keeps_an_aged_out_mac(void **state)
{
	(void)state;
	static const uint8_t MAC_POD[6] = {0x02, 0xb0, 0, 0, 0, 11};
	static const uint8_t MAC_POD2[6] = {0x02, 0xb0, 0, 0, 0, 12};
	uint8_t dmac[6];
	struct rte_mbuf *m = NULL;
	struct sent s;

	w->now = 1000;
	w->hz = 1000;
	dp_slowpath_poll(); /* asks for 10.0.0.11 */
	drain();
	arp_in(DP_PORT_INT, RTE_ARP_OP_REPLY, MAC_POD, "10.0.0.11", "10.0.0.1");
	arp_in(DP_PORT_EXT, RTE_ARP_OP_REQUEST, MAC_HOST, "198.51.100.2", "198.51.100.1");
	dp_slowpath_poll();
	drain();
	tcp_in(0x02);
	take_int(dmac);
	assert_memory_equal(dmac, MAC_POD, 6);

	/* the pod is gone: nobody answers the probes, the entry goes at NEIGH_STALE_S */
	for (unsigned int t = 1; t <= NEIGH_STALE_S; t++) {
		clock_at(T0 + t * HZ);
		dp_slowpath_poll();
		drain();
	}
	assert_false(resolved(DP_PORT_INT, "10.0.0.11", NULL));
	tcp_in(0x10);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(rte_ring_count(w->sp_out), 1);

	/* the slow path parks it and asks; the answer (a new MAC) releases it */
	dp_slowpath_poll();
	collect(&s);
	assert_int_equal(count_arp(&s, DP_PORT_INT, 1, be4("10.0.0.1"), be4("10.0.0.11")), 1);
	arp_in(DP_PORT_INT, RTE_ARP_OP_REPLY, MAC_POD2, "10.0.0.11", "10.0.0.1");
	dp_slowpath_poll();
	assert_int_equal(rte_ring_dequeue(w->ctl_tx, (void **)&m), 0);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), MAC_POD2, 6);
	rte_pktmbuf_free(m);
	tcp_in(0x10);
	take_int(dmac);
	assert_memory_equal(dmac, MAC_POD2, 6);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(addresses_are_announced_when_they_appear),
		T(unsolicited_reply_creates_nothing),
		T(next_hop_claimed_on_ext_is_ignored),
		T(request_from_off_prefix_sender_is_not_learned),
		T(idle_entry_ages_out),
		T(full_table_evicts_oldest_idle),
		T(slot_hash_is_keyed),
		T(icmp_flood_is_rate_limited_and_arp_gets_through),
		T(parked_packets_are_bounded),
		T(worker_never_keeps_an_aged_out_mac),
	};
	return cmocka_run_group_tests_name("neigh", tests, group_setup, group_teardown);
}
