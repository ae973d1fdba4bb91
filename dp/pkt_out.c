/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a packet leaves a worker: the tx queue of a port, the ring to the slow path, or a
 * drop counted by reason. Worker lcore, the owner of the worker.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "mbuf_priv.h"
#include "pkt_out.h"

void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop reason)
{
	w->stats.drops[reason]++;
	rte_pktmbuf_free(m);
}

void dp_to_slowpath(struct dp_worker *w, struct rte_mbuf *m, uint8_t in_port, uint8_t reason)
{
	struct dp_mbuf_priv *p = dp_priv(m);

	p->in_port = in_port;
	p->reason = reason;
	if (reason == DP_SP_TTL)
		w->stats.drops[DP_DROP_TTL_EXCEEDED]++;
	// ARP has its own ring: a flood of anything else cannot crowd it out; the kernel's frames
	// go to the kernel path's thread, which no control-plane work holds up (kernel.c).
	struct rte_ring *r = reason == DP_SP_ARP      ? w->sp_arp
			     : reason == DP_SP_KERNEL ? w->kern_out
						      : w->sp_out;
	if (rte_ring_sp_enqueue(r, m) != 0) {
		dp_drop(w, m, DP_DROP_SLOWPATH_RING_FULL);
		return;
	}
	w->stats.slowpath++;
}

void dp_tx_flush(struct dp_worker *w, uint8_t port)
{
	uint16_t n = dp_tx_n(w, port), sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(w->port_id[port], w->queue, w->tx[port], n);
	w->stats.tx_pkts[port] += sent;
	w->stats.tx_bytes[port] += dp_pkts_bytes(w->tx[port], sent);
	for (uint16_t i = sent; i < n; i++)
		dp_drop(w, w->tx[port][i], DP_DROP_TX_FULL);
	dp_tx_reset(w, port);
}
