/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A port's RSS as workers predict it: read from the device by ports.c, copied into every
 * worker, used by nat.c to pick SNAT ports whose replies reach the owner's own queue; and the
 * secret of the software hash that tells a flow's owner from its client address.
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
	/** Secret of the software steering hash (dp_steer_hash()): drawn once at start-up,
	 *  the same in every worker; set whether or not the port does RSS. */
	uint64_t steer_key[2];
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

/**
 * Keyed hash of a client address (network order) that tells which worker owns its flows:
 * multiply-add with a 64-bit secret (Dietzfelbinger et al. 1997: 2-universal for 32-bit
 * keys), so that a sender who does not know r->steer_key cannot aim every flow at one
 * worker, then a xor-shift-multiply finalizer (splitmix64's). Without the finalizer the top
 * bits, which pick the worker, follow a Weyl sequence over addresses in arithmetic
 * progression (a subnet's clients differ by a multiple of 2^24 in the network-order word):
 * nine consecutive clients all landed on one of two workers in 6.5 % of secrets. A zero key
 * (unit tests) still spreads. @return 32 bits.
 */
static inline uint32_t dp_steer_hash(const struct dp_rss *r, rte_be32_t a)
{
	uint64_t h = (uint64_t)a * (r->steer_key[0] + 0x9e3779b97f4a7c15ull) + r->steer_key[1];

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (uint32_t)(h >> 32);
}

#endif
