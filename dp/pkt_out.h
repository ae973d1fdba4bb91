/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a packet leaves a worker (pkt_out.c): queued for tx on a port, passed to the slow
 * path, or dropped and counted by reason. Worker lcore, the owner of @p w.
 */
#ifndef STRAIT_DP_PKT_OUT_H
#define STRAIT_DP_PKT_OUT_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include <strait/dp.h>

#include "worker.h"

/** Send what is queued for @p port (rte_eth_tx_burst); what the PMD refuses is dropped. */
/* The bytes of @p n packets (the rx and tx byte counters): a local sum, unrolled, added to
 * the counter once. */
static inline uint64_t dp_pkts_bytes(struct rte_mbuf *const *m, unsigned int n)
{
	uint64_t sum = 0;

#pragma GCC unroll 4
	for (unsigned int i = 0; i < n; i++)
		sum += rte_pktmbuf_pkt_len(m[i]);
	return sum;
}

void dp_tx_flush(struct dp_worker *w, uint8_t port);
/** Queue @p m for tx on @p port (enum dp_port_role), flushing first when the queue is full. */
static inline void dp_tx_enqueue(struct dp_worker *w, uint8_t port, struct rte_mbuf *m)
{
	if (unlikely(dp_tx_n(w, port) == RTE_DIM(w->tx[port])))
		dp_tx_flush(w, port);
	*w->tx_end[port]++ = m;
}
/**
 * Pass @p m to the control thread through w->sp_arp (ARP) or w->sp_out (the rest), with
 * @p in_port and @p reason (enum dp_sp_reason) in its private area; dropped
 * (SLOWPATH_RING_FULL) when the ring is full.
 */
/* Room for @p n more packets on every port's tx queue, flushing a queue that has less: the
 * burst loop makes room for its whole burst once, then queues with dp_tx_enqueue_room(). */
static inline void dp_tx_room(struct dp_worker *w, unsigned int n)
{
	for (uint8_t p = 0; p < DP_PORT_MAX; p++)
		if (unlikely(dp_tx_n(w, p) > RTE_DIM(w->tx[p]) - n))
			dp_tx_flush(w, p);
}
/* dp_tx_enqueue() into a queue that dp_tx_room() made room in. */
static inline void dp_tx_enqueue_room(struct dp_worker *w, uint8_t port, struct rte_mbuf *m)
{
	RTE_ASSERT(dp_tx_n(w, port) < RTE_DIM(w->tx[port]));
	*w->tx_end[port]++ = m;
}
void dp_to_slowpath(struct dp_worker *w, struct rte_mbuf *m, uint8_t in_port, uint8_t reason);
/** Free @p m and count it as dropped for @p reason. */
void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop reason);

#endif
