/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour (ARP) table, which the control thread writes and workers read, and each
 * worker's adjacencies over it (neigh.c).
 *
 * Entries are keyed by (arm, address): one table per arm (enum dp_port_role), so that
 * neither arm can fill or overwrite the other's. What may create an entry is the slow path's
 * decision (slowpath.c); this module keeps the entries, ages them and evicts.
 */
#ifndef STRAIT_DP_NEIGH_H
#define STRAIT_DP_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "worker.h"

#define NEIGH_SLOTS  4096 /**< per arm; power of two */
#define NEIGH_PROBES 16	  /**< linear probing window */
/** Entries per arm: Linux's gc_thresh3 default. A quarter of the slots keeps probes short. */
#define NEIGH_MAX 1024
/** An unresolved entry, and a request's answer, wait this long after our last request:
 *  Linux's mcast_solicit (3) x retrans_time (1 s). */
#define NEIGH_INCOMPLETE_S 3
/** A resolved entry is reachable this long after it was last confirmed (Linux's
 *  base_reachable_time, 30 s); after that it is idle: the slow path probes it (an ARP
 *  request every NEIGH_PROBE_EVERY_S) and it may be evicted. */
#define NEIGH_REACHABLE_S   30
#define NEIGH_PROBE_EVERY_S 10
/** A resolved entry not confirmed for this long is removed (Linux's gc_stale_time). */
#define NEIGH_STALE_S 60

/**
 * The MAC of the neighbour @p addr on arm @p port, when resolved. Any lcore, lock-free
 * (per-slot seqlock). @p gen gets neigh_gen() as read before the lookup.
 */
bool neigh_lookup(uint8_t port, rte_be32_t addr, struct rte_ether_addr *mac, uint32_t *gen);
/** Moves on every change of a resolved entry (created, new MAC, removed); read once per
 * translated packet. */
extern uint32_t neigh_generation;
static inline uint32_t neigh_gen(void)
{
	return __atomic_load_n(&neigh_generation, __ATOMIC_ACQUIRE);
}

/*
 * Control thread only below (except dp_adj_*, worker lcores).
 */

/**
 * We send an ARP request for @p addr on @p port: make the entry (unresolved) if there is
 * none, evicting the oldest idle entry when full, and record the request's time: a reply
 * within NEIGH_INCOMPLETE_S is solicited (neigh_outstanding()).
 * @return 0, or -ENOSPC when the table (or the address's probe window) is full of entries
 *         that are not idle.
 */
int neigh_request(uint8_t port, rte_be32_t addr);
/** Whether we asked for (@p port, @p addr) less than NEIGH_INCOMPLETE_S ago. */
bool neigh_outstanding(uint8_t port, rte_be32_t addr);
/**
 * (@p port, @p addr) is at @p mac (an ARP packet the slow path accepted): confirm the entry,
 * changing its MAC if needed; with @p create, make it if there is none (or resolve it).
 * @return 0, -ENOENT (!create and no resolved entry), -ENOSPC (as neigh_request()).
 */
int neigh_confirm(uint8_t port, rte_be32_t addr, const struct rte_ether_addr *mac, bool create);
/** A resolved entry made or confirmed by hand (tests, static neighbours). */
void neigh_update(rte_be32_t addr, uint8_t port, const struct rte_ether_addr *mac);
/**
 * Age the table: remove unresolved entries NEIGH_INCOMPLETE_S after our last request and
 * resolved ones not confirmed for NEIGH_STALE_S; call @p probe for resolved entries idle
 * since NEIGH_REACHABLE_S that were not asked for in the last NEIGH_PROBE_EVERY_S.
 * @return entries removed.
 */
unsigned int neigh_age(void (*probe)(uint8_t port, rte_be32_t addr, void *arg), void *arg);
/** Entries on @p port (resolved or not). */
unsigned int neigh_count(uint8_t port);
/** Empty the table; draw a new hash secret (rte_rand()). */
void neigh_reset(void);
/** Tests: set the hash secret (made odd) of both arms; the table must be empty. */
void neigh_set_secret(uint32_t secret);
/** Slot an address hashes to on @p port (tests). */
uint32_t neigh_slot(uint8_t port, rte_be32_t addr);

/**
 * The slow path's clock in TSC ticks: rte_get_tsc_cycles() and rte_get_tsc_hz(), or the
 * time a test froze with neigh_clock_set().
 */
uint64_t neigh_now(void);
uint64_t neigh_hz(void);
/** Tests: freeze the clock at @p now, @p hz ticks per second; @p hz 0 = the TSC again. */
void neigh_clock_set(uint64_t now, uint64_t hz);

/** The hash multiplier of each arm (odd; neigh_reset(), neigh_set_secret()): neigh.c's, read
 *  by dp_adj_get()'s first probe. */
extern uint32_t neigh_mult[DP_PORT_MAX];

/** The 12-bit hash of @p addr on @p port: neigh_slot(), and dp_adj_get()'s first slot. */
static inline uint32_t neigh_hash12(uint8_t port, rte_be32_t addr)
{
	return (uint32_t)(addr * neigh_mult[port & 1]) >> (32 - 12);
}

/** dp_adj_get() past its first slot: the whole search, and a new adjacency. */
int dp_adj_find(struct dp_worker *w, rte_be32_t nh, uint8_t port);

/**
 * Find or make the worker's adjacency for next hop @p nh on arm @p port, and take a
 * reference. @return its index, or -1 when DP_ADJ_PROBES slots near it are all in use.
 * Inline: the next hop in its first slot (dp_adj_find() would return it first, too).
 */
static inline int dp_adj_get(struct dp_worker *w, rte_be32_t nh, uint8_t port)
{
	uint32_t j = neigh_hash12(port, nh) & (DP_ADJ_SLOTS - 1);
	struct dp_adj *a = &w->adj[j];

	if (likely(a->nh == nh && a->port == port)) {
		a->refs++;
		return (int)j;
	}
	return dp_adj_find(w, nh, port);
}
/** Drop a reference taken by dp_adj_get(). */
static inline void dp_adj_put(struct dp_worker *w, uint16_t idx)
{
	w->adj[idx].refs--;
}

#endif
