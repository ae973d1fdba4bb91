/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
 * Load Balancer", NSDI 2016, §3.4, Pseudocode 1), with weights.
 *
 * The lookup table has a prime number of entries M; each backend fills the entries of its own
 * permutation (offset, skip) in turn. A backend of weight w takes w turns per round, so its
 * share of the table is proportional to w. Adding or removing one backend of N changes about
 * M/N entries, and so reassigns about 1/N of new flows; sessions keep their backend anyway.
 *
 * Permutations depend only on each backend's (address, port), never on list order, so every
 * gateway instance (DESIGN §8) builds the same table from the same backend set.
 */
#ifndef STRAIT_MAGLEV_H
#define STRAIT_MAGLEV_H

#include <stdint.h>

/** Table size: prime, > 100 x the largest backend set it is meant for (paper §3.4). */
#define MAGLEV_TABLE_SIZE 65521u

/** A backend as Maglev sees it. */
struct maglev_backend {
	uint32_t addr;	 /**< host order */
	uint16_t port;	 /**< host order */
	uint16_t weight; /**< >= 1; 0 = not eligible for new flows */
};

/**
 * Fill @p table (MAGLEV_TABLE_SIZE entries) with indexes into @p b.
 * @param b   @p n backends; order does not matter for the result's assignment of entries
 *            to (address, port) pairs.
 * @param n   1..65535.
 * @return 0, or -EINVAL when n is 0 or no backend has a weight > 0.
 * Control plane only (O(M x sum of weights) worst case, about M x log M typical).
 */
int maglev_build(const struct maglev_backend *b, unsigned int n, uint16_t *table);

/** Pick the table entry for a flow hash. Any lcore; pure. */
static inline uint16_t maglev_lookup(const uint16_t *table, uint32_t flow_hash)
{
	return table[flow_hash % MAGLEV_TABLE_SIZE];
}

#endif
