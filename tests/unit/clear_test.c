/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clears in the worker (dp/session_clear.c): a command taken from the worker's ring becomes
 * a cursor that examines at most DP_CLEAR_BUDGET records per step, removes the sessions that
 * match (backend, protocol, what a mapping still admits), sends TCP clients a RST, and zeroes
 * a reused slot's counters. The test plays the worker: it injects packets with
 * nat_process_burst() and steps the clear itself, and checks the frames queued for tx byte
 * for byte (checksums recomputed from scratch by pkt_build.h).
 * EAL runs with --no-huge --no-pci --no-shconf.
 */
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

#include <strait/tables.h>

#include "dp_priv.h"
#include "pkt_build.h"
#include "worker_fixture.h"

static const uint8_t MAC_POD[2][6] = {{0x02, 0xb0, 0, 0, 0, 11}, {0x02, 0xb0, 0, 0, 0, 12}};

enum { M_ONE, M_UDP, M_TWO, M_ALLOW, M_RANGE, M_N };

static struct cfg cfg;
static struct cfg_mapping maps[M_N];
static struct cfg_backend be1[1], be2[2];
static uint64_t gen;

static int slot_of(const char *ns, const char *name)
{
	(void)ns;
	for (unsigned int i = 0; i < M_N; i++)
		if (strcmp(maps[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void mapping(struct cfg_mapping *m, const char *name, uint16_t port, uint16_t end,
		    uint8_t proto, struct cfg_backend *b, unsigned int nb)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->addrs[0] = ip4("198.51.100.1");
	m->n_addrs = 1;
	m->ports[0] = (struct cfg_map_port){
		.port = port, .end_port = end ? end : port, .service_port = 80, .proto = proto};
	m->n_ports = 1;
	m->backends = b;
	m->n_backends = nb;
	m->ordinal = -1;
}

static void publish(void)
{
	const struct cfg_mapping *p[M_N];
	char err[256];
	for (unsigned int i = 0; i < M_N; i++)
		p[i] = &maps[i];
	struct tables *t = tables_build(&cfg, p, M_N, slot_of, ++gen, err, sizeof(err));
	if (!t)
		fail_msg("tables_build: %s", err);
	tables_publish(t, NULL);
}

static int group_setup(void **state)
{
	(void)state;
	char *argv[] = {"clear_test", "--no-huge", "--no-pci", "--no-shconf",	      "-m",
			"256",	      "-l",	   "0",	       "--log-level=*:error", NULL};
	if (rte_eal_init(9, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test", 8192, 0,
				       RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	nat_clear_pool = pool;
	return pool ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	tables_publish(NULL, NULL);
	rte_eal_cleanup();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ext.addrs[0] = (struct cfg_cidr){ip4("198.51.100.1"), 24};
	cfg.ext.n_addrs = 1;
	cfg.ext.gateway = ip4("198.51.100.254");
	cfg.intl.addrs[0] = (struct cfg_cidr){ip4("10.0.0.1"), 24};
	cfg.intl.n_addrs = 1;
	cfg.timeouts = (struct cfg_timeouts){300, 7440, 240};
	be1[0] = (struct cfg_backend){.addr = ip4("10.0.0.11"), .weight = 1};
	for (int i = 0; i < 2; i++)
		be2[i] = (struct cfg_backend){.addr = ip4("10.0.0.11") + (uint32_t)i, .weight = 1};
	mapping(&maps[M_ONE], "one", 8081, 0, IPPROTO_TCP, be1, 1);
	mapping(&maps[M_UDP], "udp", 7778, 0, IPPROTO_UDP, be1, 1);
	mapping(&maps[M_TWO], "two", 8082, 0, IPPROTO_TCP, be2, 2);
	mapping(&maps[M_ALLOW], "allow", 9100, 0, IPPROTO_UDP, be1, 1);
	maps[M_ALLOW].allowed[0] = (struct cfg_cidr){ip4("198.51.100.0"), 24};
	maps[M_ALLOW].allowed[1] = (struct cfg_cidr){ip4("192.0.2.0"), 24};
	maps[M_ALLOW].n_allowed = 2;
	mapping(&maps[M_RANGE], "range", 30000, 30009, IPPROTO_UDP, be1, 1);
	publish();

	fixture_worker(8192);
	neigh_reset();
	neigh_update(rte_cpu_to_be_32(ip4("198.51.100.2")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	neigh_update(rte_cpu_to_be_32(ip4("198.51.100.254")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	for (int i = 0; i < 2; i++)
		neigh_update(rte_cpu_to_be_32(ip4("10.0.0.11") + (uint32_t)i), DP_PORT_INT,
			     (const struct rte_ether_addr *)MAC_POD[i]);
	return 0;
}

static void tx_drop_all(void)
{
	for (int p = 0; p < DP_PORT_MAX; p++) {
		for (int i = 0; i < dp_tx_n(w, p); i++)
			rte_pktmbuf_free(w->tx[p][i]);
		dp_tx_reset(w, p);
	}
}

static int teardown(void **state)
{
	(void)state;
	tx_drop_all();
	struct rte_mbuf *m = NULL;
	while (rte_ring_dequeue(w->sp_out, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue(w->cmd_in, (void **)&m) == 0)
		free(m);
	free(w->clearing);
	dp_worker_free(w);
	w = NULL;
	dp_workers[0] = NULL;
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Inject one packet received on @p port; TCP with @p seq, @p ack, @p len payload bytes. */
static void send_pkt(uint8_t port, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		     uint8_t proto, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	uint8_t buf[256];
	struct tb_flow f = {.src = src,
			    .dst = dst,
			    .sport = sport,
			    .dport = dport,
			    .proto = proto,
			    .tcp_flags = flags,
			    .payload_len = len,
			    .dmac = port == DP_PORT_EXT ? MAC_EXT : MAC_INT};
	size_t n = tb_frame(buf, &f);
	if (proto == IPPROTO_TCP) {
		uint8_t *ip = buf + 14, *th = ip + 20;
		wr32(th + 4, seq);
		wr32(th + 8, ack);
		th[16] = th[17] = 0;
		uint16_t c = tb_l4_cksum(ip, th, n - 34, IPPROTO_TCP);
		th[16] = (uint8_t)(c >> 8);
		th[17] = (uint8_t)c;
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)n), buf, n);
	nat_process_burst(w, tables_get(), port, &m, 1);
}

/* The one frame queued on @p port, checksums checked from scratch; copied into @p out. */
static void take(uint8_t port, uint8_t *out, size_t *len)
{
	assert_int_equal(dp_tx_n(w, port), 1);
	struct rte_mbuf *m = w->tx[port][0];
	dp_tx_reset(w, port);
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + 14;
	size_t ip_len = rd16(ip + 2);
	assert_int_equal(tb_ip_cksum(ip, 20), rd16(ip + 10));
	if (ip[9] == IPPROTO_TCP)
		assert_int_equal(tb_l4_cksum(ip, ip + 20, ip_len - 20, IPPROTO_TCP),
				 rd16(ip + 20 + 16));
	*len = rte_pktmbuf_pkt_len(m);
	memcpy(out, f, *len);
	rte_pktmbuf_free(m);
}

/* Queue a clear on the worker's ring as dp_sessions_clear_start() does. */
static struct dp_cmd *enqueue(const struct dp_clear_req *r)
{
	struct dp_cmd *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->type = DP_CMD_CLEAR;
	c->req = *r;
	c->backend_be = rte_cpu_to_be_32(r->backend_addr);
	assert_int_equal(rte_ring_sp_enqueue(w->cmd_in, c), 0);
	return c;
}

/* Take @p c from the ring and step it to its end; @return the steps it took. */
static unsigned int run_clear(struct dp_cmd *c)
{
	unsigned int steps = 0;
	assert_true(nat_clear_take(w));
	assert_ptr_equal(w->clearing, c);
	while (w->clearing) {
		assert_true(nat_clear_step(w, DP_CLEAR_BUDGET) <= DP_CLEAR_BUDGET);
		steps++;
	}
	assert_int_equal(__atomic_load_n(&c->done, __ATOMIC_ACQUIRE), 1);
	return steps;
}

/* A TCP session to "one" (backend 10.0.0.11) that the backend answered and sent 20 bytes on:
 * the client's next expected seq is 5000 + 1 (SYN) + 20. @return the SNAT port. */
static uint16_t established(uint16_t cport)
{
	uint8_t f[256];
	size_t n;

	send_pkt(DP_PORT_EXT, "198.51.100.2", cport, "198.51.100.1", 8081, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG, 1000, 0, 0);
	take(DP_PORT_INT, f, &n);
	assert_int_equal(rd32(f + 14 + 16), ip4("10.0.0.11"));
	uint16_t snat = rd16(f + 34);
	send_pkt(DP_PORT_INT, "10.0.0.11", 80, "10.0.0.1", snat, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 5000, 1001, 0);
	take(DP_PORT_EXT, f, &n);
	send_pkt(DP_PORT_EXT, "198.51.100.2", cport, "198.51.100.1", 8081, IPPROTO_TCP,
		 RTE_TCP_ACK_FLAG, 1001, 5001, 0);
	take(DP_PORT_INT, f, &n);
	send_pkt(DP_PORT_INT, "10.0.0.11", 80, "10.0.0.1", snat, IPPROTO_TCP,
		 RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 5001, 1001, 20);
	take(DP_PORT_EXT, f, &n);
	return snat;
}

/* The RST frame checked field by field: from the mapping's address and port to the client. */
static void expect_rst(const uint8_t *f, size_t n, uint16_t cport, uint16_t ext_port, uint8_t flags,
		       uint32_t seq, uint32_t ack)
{
	assert_int_equal(n, 54);
	assert_memory_equal(f, MAC_CLIENT, 6);
	assert_memory_equal(f + 6, MAC_EXT, 6);
	assert_int_equal(rd16(f + 12), 0x0800);
	const uint8_t *ip = f + 14, *th = ip + 20;
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(rd16(ip + 2), 40);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_TCP);
	assert_int_equal(rd32(ip + 12), ip4("198.51.100.1"));
	assert_int_equal(rd32(ip + 16), ip4("198.51.100.2"));
	assert_int_equal(rd16(th), ext_port);
	assert_int_equal(rd16(th + 2), cport);
	assert_int_equal(rd32(th + 4), seq);
	assert_int_equal(rd32(th + 8), ack);
	assert_int_equal(th[12], 5 << 4);
	assert_int_equal(th[13], flags);
}

static void deleted_backend_sends_client_rst_with_next_seq(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n;

	established(40000);
	assert_int_equal(w->sess.active, 1);
	// The endpoint is deleted: the tables lose it, then the clear runs.
	maps[M_ONE].n_backends = 0;
	publish();
	struct dp_clear_req r = {.slot = M_ONE, .backend_addr = ip4("10.0.0.11"), .rst = true};
	struct dp_cmd *c = enqueue(&r);
	run_clear(c);
	assert_int_equal(c->result, 1);
	assert_int_equal(w->sess.active, 0);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	take(DP_PORT_EXT, f, &n);
	expect_rst(f, n, 40000, 8081, RTE_TCP_RST_FLAG, 5021, 0);
	free(c);
}

static void unanswered_syn_gets_rst_ack_of_its_syn(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n;

	send_pkt(DP_PORT_EXT, "198.51.100.2", 40001, "198.51.100.1", 8081, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG, 77777, 0, 0);
	take(DP_PORT_INT, f, &n);
	struct dp_clear_req r = {.slot = M_ONE, .backend_addr = ip4("10.0.0.11"), .rst = true};
	struct dp_cmd *c = enqueue(&r);
	run_clear(c);
	take(DP_PORT_EXT, f, &n);
	expect_rst(f, n, 40001, 8081, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, 77778);
	free(c);
}

static void udp_sessions_of_a_removed_backend_are_cleared_without_rst(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n;

	established(40002);
	send_pkt(DP_PORT_EXT, "198.51.100.2", 5000, "198.51.100.1", 7778, IPPROTO_UDP, 0, 0, 0, 20);
	take(DP_PORT_INT, f, &n);
	assert_int_equal(w->sess.active, 2);
	// removeOrphanSessions: false: only the UDP sessions of the backend go.
	struct dp_clear_req r = {
		.slot = -1, .backend_addr = ip4("10.0.0.11"), .proto = IPPROTO_UDP, .rst = true};
	struct dp_cmd *c = enqueue(&r);
	run_clear(c);
	assert_int_equal(c->result, 1);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(dp_tx_n(w, DP_PORT_EXT), 0); // no RST for UDP
	send_pkt(DP_PORT_EXT, "198.51.100.2", 40002, "198.51.100.1", 8081, IPPROTO_TCP,
		 RTE_TCP_ACK_FLAG, 1001, 5021, 10);
	take(DP_PORT_INT, f, &n); // the TCP session still forwards
	send_pkt(DP_PORT_EXT, "198.51.100.2", 5000, "198.51.100.1", 7778, IPPROTO_UDP, 0, 0, 0, 20);
	take(DP_PORT_INT, f, &n); // a new UDP session (the backend is still in the tables)
	assert_int_equal(w->stats.sessions_created, 3);
	free(c);
}

static void draining_backend_keeps_its_session_and_gets_no_new_ones(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n;

	send_pkt(DP_PORT_EXT, "198.51.100.2", 41000, "198.51.100.1", 8082, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG, 1, 0, 0);
	take(DP_PORT_INT, f, &n);
	uint32_t be = rd32(f + 14 + 16);
	// It goes not ready: serving_only, still a backend of the mapping.
	for (int i = 0; i < 2; i++)
		be2[i].serving_only = be2[i].addr == be;
	publish();
	uint64_t bytes = w->sess.recs[0].bytes[DIR_O2I];
	send_pkt(DP_PORT_EXT, "198.51.100.2", 41000, "198.51.100.1", 8082, IPPROTO_TCP,
		 RTE_TCP_ACK_FLAG, 2, 1, 100);
	take(DP_PORT_INT, f, &n);
	assert_int_equal(rd32(f + 14 + 16), be); // still to the draining backend
	assert_int_equal(w->sess.recs[0].bytes[DIR_O2I] - bytes, 140);
	for (uint16_t p = 0; p < 32; p++) {
		send_pkt(DP_PORT_EXT, "198.51.100.2", (uint16_t)(42000 + p), "198.51.100.1", 8082,
			 IPPROTO_TCP, RTE_TCP_SYN_FLAG, 1, 0, 0);
		take(DP_PORT_INT, f, &n);
		assert_int_not_equal(rd32(f + 14 + 16), be);
	}
	// Ready again: selected again, the old session untouched.
	be2[0].serving_only = be2[1].serving_only = false;
	publish();
	send_pkt(DP_PORT_EXT, "198.51.100.2", 41000, "198.51.100.1", 8082, IPPROTO_TCP,
		 RTE_TCP_ACK_FLAG, 102, 1, 10);
	take(DP_PORT_INT, f, &n);
	assert_int_equal(rd32(f + 14 + 16), be);
	assert_int_equal(w->stats.sessions_expired, 0);
}

static void allow_list_revocation_closes_the_revoked_source_only(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n;

	send_pkt(DP_PORT_EXT, "198.51.100.2", 6000, "198.51.100.1", 9100, IPPROTO_UDP, 0, 0, 0, 20);
	take(DP_PORT_INT, f, &n);
	send_pkt(DP_PORT_EXT, "192.0.2.7", 6000, "198.51.100.1", 9100, IPPROTO_UDP, 0, 0, 0, 20);
	take(DP_PORT_INT, f, &n);
	assert_int_equal(w->sess.active, 2);
	// 198.51.100.0/24 is revoked.
	maps[M_ALLOW].n_allowed = 1;
	maps[M_ALLOW].allowed[0] = maps[M_ALLOW].allowed[1];
	publish();
	struct dp_clear_req r = {.slot = M_ALLOW,
				 .keep = true,
				 .n_allowed = 1,
				 .allowed = {maps[M_ALLOW].allowed[0]},
				 .n_addrs = 1,
				 .addrs = {ip4("198.51.100.1")},
				 .n_ports = 1,
				 .ports = {{9100, 9100, IPPROTO_UDP}}};
	struct dp_cmd *c = enqueue(&r);
	run_clear(c);
	assert_int_equal(c->result, 1);
	assert_int_equal(w->sess.active, 1);
	send_pkt(DP_PORT_EXT, "192.0.2.7", 6000, "198.51.100.1", 9100, IPPROTO_UDP, 0, 0, 0, 20);
	take(DP_PORT_INT, f, &n);
	send_pkt(DP_PORT_EXT, "198.51.100.2", 6000, "198.51.100.1", 9100, IPPROTO_UDP, 0, 0, 0, 20);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_NOT_ALLOWED], 1);
	free(c);
}

static void port_edit_closes_sessions_on_ports_no_longer_mapped(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n;

	send_pkt(DP_PORT_EXT, "198.51.100.2", 6001, "198.51.100.1", 30001, IPPROTO_UDP, 0, 0, 0,
		 20);
	take(DP_PORT_INT, f, &n);
	send_pkt(DP_PORT_EXT, "198.51.100.2", 6001, "198.51.100.1", 30008, IPPROTO_UDP, 0, 0, 0,
		 20);
	take(DP_PORT_INT, f, &n);
	struct dp_clear_req r = {.slot = M_RANGE,
				 .keep = true,
				 .n_addrs = 1,
				 .addrs = {ip4("198.51.100.1")},
				 .n_ports = 1,
				 .ports = {{30000, 30005, IPPROTO_UDP}}};
	struct dp_cmd *c = enqueue(&r);
	run_clear(c);
	assert_int_equal(c->result, 1);
	assert_int_equal(w->sess.recs[0].proto, IPPROTO_UDP); // 30001's session is the first
	assert_int_equal(rte_be_to_cpu_16(w->sess.recs[0].port[DIR_O2I][1]), 30001);
	assert_int_equal(w->sess.active, 1);
	free(c);
}

static void large_clear_runs_in_bounded_steps_and_forwards_between(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n;

	// A flow that survives: mapping "two".
	send_pkt(DP_PORT_EXT, "198.51.100.2", 43000, "198.51.100.1", 8082, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG, 1, 0, 0);
	take(DP_PORT_INT, f, &n);
	for (unsigned int i = 0; i < 5000; i++) {
		send_pkt(DP_PORT_EXT, "198.51.100.2", (uint16_t)(10000 + i), "198.51.100.1", 7778,
			 IPPROTO_UDP, 0, 0, 0, 0);
		tx_drop_all();
	}
	assert_int_equal(w->sess.active, 5001);
	w->stats.map[M_UDP].drops = 3; // counters the slot's next mapping must not inherit
	struct dp_clear_req r = {.slot = M_UDP, .zero_slot = true};
	struct dp_cmd *c = enqueue(&r);
	assert_true(nat_clear_take(w));
	unsigned int steps = 0, examined = 0;
	while (w->clearing) {
		unsigned int e = nat_clear_step(w, DP_CLEAR_BUDGET);
		assert_true(e <= DP_CLEAR_BUDGET);
		examined += e;
		steps++;
		// Between two steps a packet of the surviving flow goes through.
		send_pkt(DP_PORT_EXT, "198.51.100.2", 43000, "198.51.100.1", 8082, IPPROTO_TCP,
			 RTE_TCP_ACK_FLAG, 2, 1, 10);
		take(DP_PORT_INT, f, &n);
	}
	assert_int_equal(examined, 5001);
	assert_int_equal(steps, (5001 + DP_CLEAR_BUDGET - 1) / DP_CLEAR_BUDGET);
	assert_int_equal(c->result, 5000);
	assert_int_equal(w->sess.active, 1);
	struct dp_map_stats zero = {0};
	assert_memory_equal(&w->stats.map[M_UDP], &zero, sizeof(zero));
	assert_int_equal(w->stats.map[M_TWO].sessions_created, 1);
	free(c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(deleted_backend_sends_client_rst_with_next_seq),
		T(unanswered_syn_gets_rst_ack_of_its_syn),
		T(udp_sessions_of_a_removed_backend_are_cleared_without_rst),
		T(draining_backend_keeps_its_session_and_gets_no_new_ones),
		T(allow_list_revocation_closes_the_revoked_source_only),
		T(port_edit_closes_sessions_on_ports_no_longer_mapped),
		T(large_clear_runs_in_bounded_steps_and_forwards_between),
	};
	return cmocka_run_group_tests_name("clear", tests, group_setup, group_teardown);
}
