/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One worker for the data plane's unit tests (nat_fixture.h, clear_test.c, flood_test.c):
 * the gateway's and the client's MAC addresses, the mbuf pool, the worker the test plays,
 * and ip4(). Each test keeps its own mappings and pods.
 */
#ifndef STRAIT_TEST_WORKER_FIXTURE_H
#define STRAIT_TEST_WORKER_FIXTURE_H

#include "dp_priv.h"

static const uint8_t MAC_EXT[6] = {0x02, 0xe0, 0, 0, 0, 1};
static const uint8_t MAC_INT[6] = {0x02, 0x10, 0, 0, 0, 1};
static const uint8_t MAC_CLIENT[6] = {0x02, 0xc1, 0, 0, 0, 2};

static struct rte_mempool *pool;
static struct dp_worker *w;

/* A dotted quad in host byte order (cfg_parse_ipv4()); fails the test on a typo. */
static inline uint32_t ip4(const char *s)
{
	uint32_t a;
	assert_int_equal(cfg_parse_ipv4(s, &a), 0);
	return a;
}

/* Replace @p w with worker @p id of @p n (dp_worker_new()) and a session table of
 * @p sessions; its ports' MACs set, its clock at 1000 ticks of 1 ms; dp_workers[0]. */
static inline void fixture_worker_of(unsigned int id, unsigned int n, uint32_t sessions)
{
	char err[256];

	dp_worker_free(w);
	w = dp_worker_new(id, n, 0, sessions, err, sizeof(err));
	if (!w)
		fail_msg("dp_worker_new: %s", err);
	memcpy(&w->mac[DP_PORT_EXT], MAC_EXT, 6);
	memcpy(&w->mac[DP_PORT_INT], MAC_INT, 6);
	w->now = 1000;
	w->hz = 1000;
	dp_workers[0] = w;
}

/* Worker 0 of 1 (fixture_worker_of()). */
static inline void fixture_worker(uint32_t sessions)
{
	fixture_worker_of(0, 1, sessions);
}

#endif
