/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A port's RSS as workers predict it: read from the device by ports.c, copied into every
 * worker, used by nat.c to pick SNAT ports whose replies reach the owner's own queue.
 */
#ifndef STRAIT_DP_RSS_H
#define STRAIT_DP_RSS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_thash.h>

/**
 * What a port's RSS does with a packet, so the SNAT port of a full-NAT session can be chosen
 * so that the NIC delivers the replies to the owner's queue (Toeplitz, as rte_softrss
 * computes it, then the redirection table).
 */
struct dp_rss {
	bool enabled;
	uint16_t reta_size; /**< power of two */
	uint8_t key[40];
	uint16_t reta[RTE_ETH_RSS_RETA_SIZE_512];
};

/** Queue the NIC picks for an IPv4 TCP/UDP 4-tuple (network order fields). */
static inline unsigned int dp_rss_queue(const struct dp_rss *r, rte_be32_t src, rte_be32_t dst,
					rte_be16_t sport, rte_be16_t dport)
{
	uint32_t t[3] = {rte_be_to_cpu_32(src), rte_be_to_cpu_32(dst),
			 (uint32_t)rte_be_to_cpu_16(sport) << 16 | rte_be_to_cpu_16(dport)};
	return r->reta[rte_softrss(t, 3, r->key) & (r->reta_size - 1u)];
}

#endif
