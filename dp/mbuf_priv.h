/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The private area of every mbuf (mempool priv_size): what a worker tells the slow path, or
 * another worker, about a packet it passes on.
 */
#ifndef STRAIT_DP_MBUF_PRIV_H
#define STRAIT_DP_MBUF_PRIV_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

/** Private area of every mbuf (mempool priv_size): slow-path metadata. */
struct dp_mbuf_priv {
	uint8_t in_port;  /**< enum dp_port_role it arrived on */
	uint8_t out_port; /**< for DP_SP_NEED_NEIGH and control tx */
	uint8_t reason;	  /**< enum dp_sp_reason */
	uint8_t pad;
	rte_be32_t nh; /**< next hop to resolve */
};

enum dp_sp_reason { DP_SP_ARP = 1, DP_SP_LOCAL, DP_SP_TTL, DP_SP_NEED_NEIGH, DP_SP_KERNEL };

static inline struct dp_mbuf_priv *dp_priv(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

#endif
