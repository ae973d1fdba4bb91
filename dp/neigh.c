/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour (ARP) table: written by the control thread, read by workers without locks.
 *
 * One table per arm, open addressing with linear probing over a window of NEIGH_PROBES
 * slots. A slot is free, an entry (unresolved or resolved), or a tombstone (a removed entry:
 * probes go past it, a new entry may take it). Each slot has a seqlock: a reader copies
 * address, state and MAC together and retries the rare torn read, so it never mixes two
 * owners of a slot. `generation` moves on every change of a resolved entry, so that workers,
 * which cache their next hop's MAC in adjacencies, look it up again only then: one shared
 * read per packet. A removed or evicted entry moves it too, so no adjacency keeps sending to
 * a MAC the table no longer has (the lookup fails and the packet goes to the slow path).
 *
 * The slot hash is multiply-shift with a random odd multiplier per arm, drawn at
 * neigh_reset(), as Linux's arp_hashfn(): a CRC with a secret seed would not do, since a CRC
 * is affine in its seed and addresses that collide with seed 0 collide with every seed.
 *
 * Workers cache MACs per next hop, not per session: each has an adjacency table (struct
 * dp_adj), open addressing keyed by next-hop address and arm, whose entries sessions reference
 * by index and count. An entry nobody references keeps its address and MAC (a cache) until a
 * new next hop needs its slot; slots are never emptied, so a probe sequence is never cut.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_random.h>
#include <rte_seqlock.h>

#include "neigh.h"

enum neigh_state { NS_FREE = 0, NS_INCOMPLETE, NS_REACHABLE, NS_TOMB };

struct neigh_slot {
	rte_seqlock_t lock;
	rte_be32_t addr;
	struct rte_ether_addr mac;
	uint8_t state;		/**< enum neigh_state */
	uint64_t confirmed_tsc; /**< last confirmation (resolved) or creation (unresolved) */
	uint64_t req_tsc;	/**< our last ARP request for it; 0 = none */
} __rte_cache_aligned;

static struct neigh_slot neigh_tab[DP_PORT_MAX][NEIGH_SLOTS];
static unsigned int neigh_n[DP_PORT_MAX];
uint32_t neigh_mult[DP_PORT_MAX];
/* After a full scan found nothing to evict: fail fast until then. */
static uint64_t neigh_full_until[DP_PORT_MAX];
static struct {
	uint64_t now, hz;
} neigh_clk;
uint32_t neigh_generation = 1;

uint64_t neigh_now(void)
{
	return neigh_clk.hz ? neigh_clk.now : rte_get_tsc_cycles();
}

uint64_t neigh_hz(void)
{
	return neigh_clk.hz ? neigh_clk.hz : rte_get_tsc_hz();
}

void neigh_clock_set(uint64_t now, uint64_t hz)
{
	neigh_clk.now = now;
	neigh_clk.hz = hz;
}

uint32_t neigh_slot(uint8_t port, rte_be32_t addr)
{
	return neigh_hash12(port, addr);
}

static_assert(NEIGH_SLOTS == 1 << 12, "neigh_slot() takes 12 bits");
static_assert(DP_ADJ_SLOTS == 1 << 12, "dp_adj_get() takes 12 bits");

static void bump(void)
{
	__atomic_add_fetch(&neigh_generation, 1, __ATOMIC_RELEASE);
}

bool neigh_lookup(uint8_t port, rte_be32_t addr, struct rte_ether_addr *mac, uint32_t *gen)
{
	const struct neigh_slot *tab = neigh_tab[port & 1];
	uint32_t h = neigh_slot(port, addr);

	*gen = neigh_gen();
	for (unsigned int i = 0; i < NEIGH_PROBES; i++) {
		const struct neigh_slot *s = &tab[(h + i) & (NEIGH_SLOTS - 1)];
		uint32_t sn;
		rte_be32_t a;
		uint8_t st;

		do {
			sn = rte_seqlock_read_begin(&s->lock);
			a = s->addr;
			st = s->state;
			*mac = s->mac;
		} while (rte_seqlock_read_retry(&s->lock, sn));
		if (st == NS_FREE)
			return false;
		if (a == addr && (st == NS_INCOMPLETE || st == NS_REACHABLE))
			return st == NS_REACHABLE;
	}
	return false;
}

static bool live(const struct neigh_slot *s)
{
	return s->state == NS_INCOMPLETE || s->state == NS_REACHABLE;
}

/* Last sign of use: idle entries are evicted oldest first. */
static uint64_t last_use(const struct neigh_slot *s)
{
	return s->state == NS_REACHABLE ? s->confirmed_tsc : s->req_tsc;
}

/* Idle: unresolved and not asked for in the last second, or resolved and not confirmed
 * within NEIGH_REACHABLE_S. */
static bool idle(const struct neigh_slot *s, uint64_t now, uint64_t hz)
{
	if (s->state == NS_INCOMPLETE)
		return now - s->req_tsc >= hz;
	return s->state == NS_REACHABLE && now - s->confirmed_tsc >= NEIGH_REACHABLE_S * hz;
}

static void slot_clear(uint8_t port, struct neigh_slot *s)
{
	bool was_resolved = s->state == NS_REACHABLE;

	rte_seqlock_write_lock(&s->lock);
	s->state = NS_TOMB;
	s->addr = 0;
	memset(&s->mac, 0, sizeof(s->mac));
	rte_seqlock_write_unlock(&s->lock);
	s->req_tsc = 0;
	neigh_n[port]--;
	if (was_resolved)
		bump();
}

static struct neigh_slot *slot_find(uint8_t port, rte_be32_t addr)
{
	uint32_t h = neigh_slot(port, addr);

	for (unsigned int i = 0; i < NEIGH_PROBES; i++) {
		struct neigh_slot *s = &neigh_tab[port][(h + i) & (NEIGH_SLOTS - 1)];
		if (s->state == NS_FREE)
			return NULL;
		if (live(s) && s->addr == addr)
			return s;
	}
	return NULL;
}

/* The oldest idle entry of @p port's whole table, or NULL. */
static struct neigh_slot *oldest_idle(uint8_t port, uint64_t now, uint64_t hz)
{
	struct neigh_slot *best = NULL;

	for (unsigned int i = 0; i < NEIGH_SLOTS; i++) {
		struct neigh_slot *s = &neigh_tab[port][i];
		if (live(s) && idle(s, now, hz) && (!best || last_use(s) < last_use(best)))
			best = s;
	}
	return best;
}

/* Make an unresolved entry for @p addr, which is not in the table. */
static struct neigh_slot *slot_new(uint8_t port, rte_be32_t addr, uint64_t now)
{
	uint64_t hz = neigh_hz();
	uint32_t h = neigh_slot(port, addr);
	struct neigh_slot *s = NULL, *victim;

	if (neigh_n[port] >= NEIGH_MAX) {
		if (now < neigh_full_until[port])
			return NULL;
		victim = oldest_idle(port, now, hz);
		if (!victim) {
			neigh_full_until[port] = now + hz;
			return NULL;
		}
		slot_clear(port, victim);
	}
	for (unsigned int i = 0; i < NEIGH_PROBES && !s; i++) {
		struct neigh_slot *c = &neigh_tab[port][(h + i) & (NEIGH_SLOTS - 1)];
		if (!live(c))
			s = c;
	}
	if (!s) {
		// The window is full: evict its oldest idle entry.
		for (unsigned int i = 0; i < NEIGH_PROBES; i++) {
			struct neigh_slot *c = &neigh_tab[port][(h + i) & (NEIGH_SLOTS - 1)];
			if (idle(c, now, hz) && (!s || last_use(c) < last_use(s)))
				s = c;
		}
		if (!s)
			return NULL;
		slot_clear(port, s);
	}
	rte_seqlock_write_lock(&s->lock);
	s->addr = addr;
	memset(&s->mac, 0, sizeof(s->mac));
	s->state = NS_INCOMPLETE;
	rte_seqlock_write_unlock(&s->lock);
	s->confirmed_tsc = now;
	s->req_tsc = 0;
	neigh_n[port]++;
	return s;
}

int neigh_request(uint8_t port, rte_be32_t addr)
{
	uint64_t now = neigh_now();
	struct neigh_slot *s;

	port &= 1;
	s = slot_find(port, addr);
	if (!s)
		s = slot_new(port, addr, now);
	if (!s)
		return -ENOSPC;
	s->req_tsc = now;
	return 0;
}

bool neigh_outstanding(uint8_t port, rte_be32_t addr)
{
	const struct neigh_slot *s = slot_find(port & 1, addr);

	return s && s->req_tsc && neigh_now() - s->req_tsc <= NEIGH_INCOMPLETE_S * neigh_hz();
}

int neigh_confirm(uint8_t port, rte_be32_t addr, const struct rte_ether_addr *mac, bool create)
{
	uint64_t now = neigh_now();
	struct neigh_slot *s;

	port &= 1;
	s = slot_find(port, addr);
	if (!create && (!s || s->state != NS_REACHABLE))
		return -ENOENT; // an unresolved entry is resolved only by what may create one
	if (!s)
		s = slot_new(port, addr, now);
	if (!s)
		return -ENOSPC;
	s->confirmed_tsc = now;
	s->req_tsc = 0;
	if (s->state == NS_REACHABLE && rte_is_same_ether_addr(&s->mac, mac))
		return 0;
	rte_seqlock_write_lock(&s->lock);
	s->mac = *mac;
	s->state = NS_REACHABLE;
	rte_seqlock_write_unlock(&s->lock);
	bump();
	return 0;
}

void neigh_update(rte_be32_t addr, uint8_t port, const struct rte_ether_addr *mac)
{
	(void)neigh_confirm(port, addr, mac, true);
}

unsigned int neigh_age(void (*probe)(uint8_t port, rte_be32_t addr, void *arg), void *arg)
{
	uint64_t now = neigh_now(), hz = neigh_hz();
	unsigned int n = 0;

	for (uint8_t p = 0; p < DP_PORT_MAX; p++) {
		for (unsigned int i = 0; i < NEIGH_SLOTS; i++) {
			struct neigh_slot *s = &neigh_tab[p][i];
			if (s->state == NS_INCOMPLETE &&
			    now - s->req_tsc > NEIGH_INCOMPLETE_S * hz) {
				slot_clear(p, s);
				n++;
			} else if (s->state == NS_REACHABLE &&
				   now - s->confirmed_tsc >= NEIGH_STALE_S * hz) {
				slot_clear(p, s);
				n++;
			} else if (s->state == NS_REACHABLE && probe &&
				   now - s->confirmed_tsc >= NEIGH_REACHABLE_S * hz &&
				   (!s->req_tsc || now - s->req_tsc >= NEIGH_PROBE_EVERY_S * hz)) {
				probe(p, s->addr, arg);
			}
		}
	}
	return n;
}

unsigned int neigh_count(uint8_t port)
{
	return neigh_n[port & 1];
}

static void table_clear(void)
{
	for (unsigned int p = 0; p < DP_PORT_MAX; p++) {
		for (unsigned int i = 0; i < NEIGH_SLOTS; i++) {
			struct neigh_slot *s = &neigh_tab[p][i];
			rte_seqlock_init(&s->lock);
			s->addr = 0;
			s->state = NS_FREE;
			s->req_tsc = 0;
		}
		neigh_n[p] = 0;
		neigh_full_until[p] = 0;
	}
	bump();
}

void neigh_set_secret(uint32_t secret)
{
	for (unsigned int p = 0; p < DP_PORT_MAX; p++)
		neigh_mult[p] = (secret + p * 0x9e3779b8u) | 1;
}

void neigh_reset(void)
{
	table_clear();
	for (unsigned int p = 0; p < DP_PORT_MAX; p++)
		neigh_mult[p] = (uint32_t)rte_rand() | 1;
}

unsigned int dp_neigh_walk(void (*cb)(const struct dp_neigh_info *n, void *arg), void *arg)
{
	uint64_t now = neigh_now(), hz = neigh_hz();
	unsigned int n = 0;

	for (uint8_t p = 0; p < DP_PORT_MAX; p++) {
		for (unsigned int i = 0; i < NEIGH_SLOTS; i++) {
			const struct neigh_slot *s = &neigh_tab[p][i];
			struct dp_neigh_info ni;
			if (!live(s))
				continue;
			ni.addr = rte_be_to_cpu_32(s->addr);
			ni.mac = s->mac;
			ni.port = p;
			ni.resolved = s->state == NS_REACHABLE;
			ni.age_s = ni.resolved ? (uint32_t)((now - s->confirmed_tsc) / hz) : 0;
			cb(&ni, arg);
			n++;
		}
	}
	return n;
}

int dp_adj_find(struct dp_worker *w, rte_be32_t nh, uint8_t port)
{
	uint32_t h = neigh_slot(port, nh) & (DP_ADJ_SLOTS - 1);
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
