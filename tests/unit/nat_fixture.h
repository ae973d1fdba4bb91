/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NAT pipeline's test fixture, shared by nat_test.c and frag_test.c: an EAL without
 * hugepages, a mempool, tables with six mappings, a fresh worker before each test, and
 * helpers to inject frames and take what was queued for tx (checksums checked from scratch).
 */
#ifndef STRAIT_TEST_NAT_FIXTURE_H
#define STRAIT_TEST_NAT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_thash.h>

#include <strait/tables.h>

#include "dp_priv.h"
#include "pkt_build.h"
#include "worker_fixture.h"

static const uint8_t MAC_POD[3][6] = {
	{0x02, 0xb0, 0, 0, 0, 11}, {0x02, 0xb0, 0, 0, 0, 12}, {0x02, 0xb0, 0, 0, 0, 13}};

static struct cfg cfg;
static struct cfg_mapping maps[6];
static struct cfg_backend be3[3], be1[1], be_noport[1];
static uint64_t gen;

static inline int slot_of(const char *ns, const char *name)
{
	(void)ns;
	for (unsigned int i = 0; i < RTE_DIM(maps); i++)
		if (strcmp(maps[i].name, name) == 0)
			return (int)i;
	return -1;
}

static inline void mapping(struct cfg_mapping *m, const char *name, uint16_t port, uint16_t end,
			   uint16_t svc_port, uint8_t proto, struct cfg_backend *b, unsigned int nb)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->addrs[0] = ip4("198.51.100.1");
	m->n_addrs = 1;
	m->ports[0] = (struct cfg_map_port){.port = port,
					    .end_port = end ? end : port,
					    .service_port = svc_port,
					    .proto = proto};
	m->n_ports = 1;
	m->backends = b;
	m->n_backends = nb;
	m->ordinal = -1;
}

static inline void publish(void)
{
	const struct cfg_mapping *p[RTE_DIM(maps)];
	char err[256];
	for (unsigned int i = 0; i < RTE_DIM(maps); i++)
		p[i] = &maps[i];
	struct tables *t = tables_build(&cfg, p, RTE_DIM(maps), slot_of, ++gen, err, sizeof(err));
	if (!t)
		fail_msg("tables_build: %s", err);
	tables_publish(t, NULL);
}

static inline int group_setup(void **state)
{
	(void)state;
	/* --no-huge implies legacy memory, which --in-memory refuses: --no-shconf instead. */
	char *argv[] = {"nat_test", "--no-huge", "--no-pci", "--no-shconf",	    "-m",
			"256",	    "-l",	 "0",	     "--log-level=*:error", NULL};
	if (rte_eal_init(9, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test", 4096, 0,
				       RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	return pool ? 0 : -1;
}

static inline int group_teardown(void **state)
{
	(void)state;
	tables_publish(NULL, NULL);
	rte_eal_cleanup();
	return 0;
}

/* A fresh worker and tables before each test. */
/* Replace the fixture's worker (if any) with worker 0 of 1, room for @p sessions sessions,
 * the ext and int MACs, and a clock of 1 tick = 1 ms at 1000 (timeouts are easy to step over). */
/* Replace the fixture's worker with one of 4096 sessions whose SNAT partition is the @p n
 * ports from @p lo, with port bitmaps for @p n_snat SNAT addresses (dp/snat.c). */
static inline void fixture_snat_worker(unsigned int n_snat, uint16_t lo, uint16_t n)
{
	fixture_worker(4096);
	w->snat_lo = lo;
	w->snat_hi = (uint16_t)(lo + n - 1u);
	w->snat_next = lo;
	assert_int_equal(dp_snat_init(w, n_snat), 0);
}

static inline int setup(void **state)
{
	(void)state;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ext.addrs[0] = (struct cfg_cidr){ip4("198.51.100.1"), 24};
	cfg.ext.n_addrs = 1;
	cfg.intl.addrs[0] = (struct cfg_cidr){ip4("10.0.0.1"), 24};
	cfg.intl.n_addrs = 1;
	cfg.intl.routes[0] = (struct cfg_route){{ip4("10.244.0.0"), 16}, ip4("10.0.0.2")};
	cfg.intl.n_routes = 1;
	cfg.timeouts = (struct cfg_timeouts){300, 7440, 240, 120};
	for (int i = 0; i < 3; i++)
		be3[i] = (struct cfg_backend){.addr = ip4("10.0.0.11") + (uint32_t)i, .weight = 1};
	be1[0] = (struct cfg_backend){.addr = ip4("10.0.0.12"), .port = 9092, .weight = 1};
	be_noport[0] = (struct cfg_backend){.addr = ip4("10.0.0.12"), .weight = 1};
	mapping(&maps[0], "web", 8080, 0, 80, IPPROTO_TCP, be3, 3);
	mapping(&maps[1], "echo", 7777, 0, 7, IPPROTO_UDP, be3, 3);
	mapping(&maps[2], "broker-1", 32001, 0, 0, IPPROTO_TCP, be1, 1);
	maps[2].tcp_mss_clamp = 1200;
	mapping(&maps[3], "allow", 9100, 0, 0, IPPROTO_UDP, be1, 1);
	maps[3].allowed[0] = (struct cfg_cidr){ip4("192.0.2.0"), 24};
	maps[3].n_allowed = 1;
	mapping(&maps[4], "range", 30000, 30009, 40000, IPPROTO_UDP, be_noport, 1);
	mapping(&maps[5], "keep-src", 9000, 0, 0, IPPROTO_UDP, be_noport, 1);
	maps[5].nat = CFG_NAT_PRESERVE_SOURCE;
	publish();

	w = NULL;
	fixture_worker(8);
	neigh_reset();
	neigh_update(rte_cpu_to_be_32(ip4("198.51.100.2")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	for (int i = 0; i < 3; i++)
		neigh_update(rte_cpu_to_be_32(ip4("10.0.0.11") + (uint32_t)i), DP_PORT_INT,
			     (const struct rte_ether_addr *)MAC_POD[i]);
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	for (int p = 0; p < DP_PORT_MAX; p++) {
		for (int i = 0; i < dp_tx_n(w, p); i++)
			rte_pktmbuf_free(w->tx[p][i]);
		dp_tx_reset(w, p);
	}
	struct rte_mbuf *m = NULL;
	while (rte_ring_dequeue(w->sp_out, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue(w->kern_out, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	dp_worker_free(w);
	w = NULL;
	dp_workers[0] = NULL;
	return 0;
}

/* Send one frame into the pipeline as if received on @p port. */
static inline void inject(uint8_t port, const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	nat_process_burst(w, tables_get(), port, &m, 1);
}

static inline size_t flow(uint8_t *buf, const char *src, uint16_t sport, const char *dst,
			  uint16_t dport, uint8_t proto, uint8_t flags, uint8_t port)
{
	struct tb_flow f = {.src = src,
			    .dst = dst,
			    .sport = sport,
			    .dport = dport,
			    .proto = proto,
			    .tcp_flags = flags,
			    .payload_len = 20,
			    .dmac = port == DP_PORT_EXT ? MAC_EXT : MAC_INT};
	return tb_frame(buf, &f);
}

/* Pop the one frame queued on @p port and check its checksums from scratch. */
static inline uint8_t *take(uint8_t port, struct rte_mbuf **out)
{
	assert_int_equal(dp_tx_n(w, port), 1);
	struct rte_mbuf *m = w->tx[port][0];
	dp_tx_reset(w, port);
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + 14;
	size_t ip_len = (size_t)(ip[2] << 8 | ip[3]);
	assert_int_equal(tb_ip_cksum(ip, 20), ip[10] << 8 | ip[11]);
	if (ip[9] == IPPROTO_TCP || ip[9] == IPPROTO_UDP) {
		size_t off = ip[9] == IPPROTO_TCP ? 16 : 6;
		uint16_t have = (uint16_t)(ip[20 + off] << 8 | ip[20 + off + 1]);
		if (!(ip[9] == IPPROTO_UDP && have == 0) && !(ip[6] & 0x20) && !(ip[6] & 0x1f) &&
		    !ip[7])
			assert_int_equal(tb_l4_cksum(ip, ip + 20, ip_len - 20, ip[9]), have);
	}
	*out = m;
	return f;
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#endif
