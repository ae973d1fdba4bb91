/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour (ARP) table, which the control thread writes and workers read, and each
 * worker's adjacencies over it (neigh.c).
 */
#ifndef STRAIT_DP_NEIGH_H
#define STRAIT_DP_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "worker.h"

#define NEIGH_SLOTS 4096
bool neigh_lookup(rte_be32_t addr, struct rte_ether_addr *mac, uint32_t *gen);
/** Moves on every change of the neighbour table; read once per translated packet. */
extern uint32_t neigh_generation;
static inline uint32_t neigh_gen(void)
{
	return __atomic_load_n(&neigh_generation, __ATOMIC_ACQUIRE);
}
void neigh_update(rte_be32_t addr, uint8_t port, const struct rte_ether_addr *mac);
/** Mark an address as wanted (resolution pending). Control thread. */
void neigh_want(rte_be32_t addr, uint8_t port);
void neigh_reset(void);
/**
 * Find or make the worker's adjacency for next hop @p nh on arm @p port, and take a
 * reference. @return its index, or -1 when DP_ADJ_PROBES slots near it are all in use.
 */
int dp_adj_get(struct dp_worker *w, rte_be32_t nh, uint8_t port);
/** Drop a reference taken by dp_adj_get(). */
static inline void dp_adj_put(struct dp_worker *w, uint16_t idx)
{
	w->adj[idx].refs--;
}

#endif
