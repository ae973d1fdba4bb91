/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour (ARP) table: written by the control thread, read by workers without locks.
 *
 * Open addressing with linear probing; an entry, once given an address, keeps it for the life
 * of the process, so a reader never sees a slot change owner under it. The MAC of an entry can
 * change (a pod restarted elsewhere): each slot has a seqlock and readers retry the rare torn
 * read. `generation` moves on every change so that sessions, which cache their next hop's MAC,
 * look it up again only then: one shared read per packet, written only by the control thread.
 *
 * Workers cache MACs per next hop, not per session: each has an adjacency table (struct
 * dp_adj), open addressing keyed by next-hop address, whose entries sessions reference by
 * index and count. An entry nobody references keeps its address and MAC (a cache) until a
 * new next hop needs its slot; slots are never emptied, so a probe sequence is never cut.
 */
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_seqlock.h>

#include "neigh.h"

struct neigh_slot {
	rte_seqlock_t lock;
	rte_be32_t addr; /**< 0 = free */
	struct rte_ether_addr mac;
	uint8_t port;
	uint8_t resolved;
	uint64_t updated_tsc;
} __rte_cache_aligned;

static struct neigh_slot neigh_tab[NEIGH_SLOTS];
uint32_t neigh_generation = 1;

#define NEIGH_PROBES 16

static inline uint32_t slot_of(rte_be32_t a)
{
	return rte_hash_crc_4byte(a, 0) & (NEIGH_SLOTS - 1);
}

bool neigh_lookup(rte_be32_t addr, struct rte_ether_addr *mac, uint32_t *gen)
{
	uint32_t h = slot_of(addr);

	*gen = neigh_gen();
	for (unsigned int i = 0; i < NEIGH_PROBES; i++) {
		const struct neigh_slot *s = &neigh_tab[(h + i) & (NEIGH_SLOTS - 1)];
		uint32_t sn;
		rte_be32_t a;
		bool ok;

		do {
			sn = rte_seqlock_read_begin(&s->lock);
			a = s->addr;
			ok = s->resolved;
			*mac = s->mac;
		} while (rte_seqlock_read_retry(&s->lock, sn));
		if (a == addr)
			return ok;
		if (a == 0)
			return false;
	}
	return false;
}

static struct neigh_slot *slot_get(rte_be32_t addr, bool create)
{
	uint32_t h = slot_of(addr);

	for (unsigned int i = 0; i < NEIGH_PROBES; i++) {
		struct neigh_slot *s = &neigh_tab[(h + i) & (NEIGH_SLOTS - 1)];
		if (s->addr == addr)
			return s;
		if (s->addr == 0) {
			if (!create)
				return NULL;
			rte_seqlock_write_lock(&s->lock);
			s->addr = addr;
			rte_seqlock_write_unlock(&s->lock);
			return s;
		}
	}
	return NULL;
}

void neigh_want(rte_be32_t addr, uint8_t port)
{
	struct neigh_slot *s = slot_get(addr, true);
	if (s && !s->resolved)
		s->port = port;
}

void neigh_update(rte_be32_t addr, uint8_t port, const struct rte_ether_addr *mac)
{
	struct neigh_slot *s = slot_get(addr, true);

	if (!s)
		return;
	if (s->resolved && s->port == port && rte_is_same_ether_addr(&s->mac, mac)) {
		s->updated_tsc = rte_get_tsc_cycles();
		return;
	}
	rte_seqlock_write_lock(&s->lock);
	s->mac = *mac;
	s->port = port;
	s->resolved = 1;
	s->updated_tsc = rte_get_tsc_cycles();
	rte_seqlock_write_unlock(&s->lock);
	__atomic_add_fetch(&neigh_generation, 1, __ATOMIC_RELEASE);
}

void neigh_reset(void)
{
	for (unsigned int i = 0; i < NEIGH_SLOTS; i++) {
		rte_seqlock_init(&neigh_tab[i].lock);
		neigh_tab[i].addr = 0;
		neigh_tab[i].resolved = 0;
	}
	__atomic_add_fetch(&neigh_generation, 1, __ATOMIC_RELEASE);
}

unsigned int dp_neigh_walk(void (*cb)(const struct dp_neigh_info *n, void *arg), void *arg)
{
	uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();
	unsigned int n = 0;

	for (unsigned int i = 0; i < NEIGH_SLOTS; i++) {
		const struct neigh_slot *s = &neigh_tab[i];
		struct dp_neigh_info ni;
		if (s->addr == 0)
			continue;
		ni.addr = rte_be_to_cpu_32(s->addr);
		ni.mac = s->mac;
		ni.port = s->port;
		ni.resolved = s->resolved;
		ni.age_s = s->resolved ? (uint32_t)((now - s->updated_tsc) / hz) : 0;
		cb(&ni, arg);
		n++;
	}
	return n;
}

int dp_adj_get(struct dp_worker *w, rte_be32_t nh, uint8_t port)
{
	uint32_t h = slot_of(nh) & (DP_ADJ_SLOTS - 1);
	int reuse = -1;

	for (unsigned int i = 0; i < DP_ADJ_PROBES; i++) {
		uint32_t j = (h + i) & (DP_ADJ_SLOTS - 1);
		struct dp_adj *a = &w->adj[j];
		if (a->nh == nh && a->port == port) {
			a->refs++;
			return (int)j;
		}
		if (a->refs == 0 && reuse < 0)
			reuse = (int)j;
		if (a->nh == 0)
			break; // never used: nh is not further along
	}
	if (reuse < 0)
		return -1;
	struct dp_adj *a = &w->adj[reuse];
	a->nh = nh;
	a->port = port;
	a->gen = 0;
	a->refs = 1;
	return reuse;
}
