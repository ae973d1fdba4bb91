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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/**
 * Largest table: a prime, > 100 x the largest weighted backend set it is meant for (paper
 * §3.4). A mapping's table has MAGLEV_TABLE_SIZE_DEFAULT entries, or the prime of
 * MAGLEV_TABLE_SIZES that its `maglev.tableSize` names: never a size that follows its
 * backend count, which would reassign most new flows whenever the count crossed a step.
 */
#define MAGLEV_TABLE_SIZE 65521u
/** Smallest table size a mapping may ask for (`maglev.tableSize`). */
#define MAGLEV_TABLE_SIZE_MIN 251u
/**
 * Table size of a mapping that sets none: 16381 entries (32 KiB), > 100 x up to 163 backends
 * of weight 1 (Cilium's default for the same reason); a mapping with more asks for more.
 */
#define MAGLEV_TABLE_SIZE_DEFAULT 16381u
/** The sizes a mapping may choose, as text for messages. */
#define MAGLEV_TABLE_SIZES "251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521"

/** A backend as Maglev sees it. */
struct maglev_backend {
	uint32_t addr;	 /**< host order */
	uint16_t port;	 /**< host order */
	uint16_t weight; /**< >= 1; 0 = not eligible for new flows */
};

/**
 * Whether @p m is a table size a mapping may choose (`maglev.tableSize`): one of the primes
 * MAGLEV_TABLE_SIZES. The paper (§3.4) wants M > 100 x the backends (weights summed) for
 * shares within 1 % and a change's disruption near 1/N. The size is the mapping's, not the
 * backend count's: a size that followed the backends would reshuffle every new flow when a
 * scale-up crossed a step. Pure.
 */
bool maglev_table_size_ok(uint32_t m);

/**
 * Fill @p table (@p m entries) with indexes into @p b.
 * @param b   @p n backends; order does not matter for the result's assignment of entries
 *            to (address, port) pairs.
 * @param n   1..65535.
 * @param m   the table's size: a prime, 2..MAGLEV_TABLE_SIZE (the mapping's); the
 *            sizes of MAGLEV_TABLE_SIZES give out their last ~sqrt(m) / 2 entries by
 *            modular inverse instead of probing, any other is probed to its end (the same
 *            table, slower).
 * @return 0, or -EINVAL when n is 0, m is out of range or no backend has a weight > 0;
 *         -ENOMEM.
 * Control plane only (O(M x sum of weights) worst case, about M x log M typical).
 */
int maglev_build(const struct maglev_backend *b, unsigned int n, uint16_t *table, uint32_t m);

/** The seed of maglev_flow_hash() when a mapping sets none (`maglev: {seed: 0}`). */
#define MAGLEV_SEED_DEFAULT 0u

/**
 * The flow hash that picks a new session's entry in the table: @p len bytes at @p key (a
 * multiple of 8: the 16-byte session key, memory order) mixed 8 bytes at a time by multiply
 * and xor-shift (not CRC: a CRC keeps its collisions whatever the seed), from @p seed, a
 * Mapping's `maglev.seed`. Not secret: every gateway of a mapping must pick the same backend
 * for the same flow (the paper's §3.4 consistency across machines), so the seed is
 * configuration, not drawn at start-up; an operator who keeps it private keeps senders from
 * aiming flows at one backend. @return 32 bits. Any lcore; pure.
 */
static inline uint32_t maglev_flow_hash(uint32_t seed, const void *key, size_t len)
{
	uint64_t h = ((uint64_t)seed + 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, (const uint8_t *)key + i, 8);
		h ^= w;
		h *= 0x94d049bb133111ebull;
		h ^= h >> 31;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h >> 32);
}

/**
 * Pick the entry of a table of @p m entries for a flow hash: the hash scaled to [0, m) by a
 * multiply and a shift (Lemire's reduction: uniform as the hash is, and no division by a
 * size known only at run time). Any lcore; pure.
 */
static inline uint16_t maglev_lookup(const uint16_t *table, uint32_t m, uint32_t flow_hash)
{
	return table[((uint64_t)flow_hash * m) >> 32];
}

#endif
