/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Full-NAT SNAT port bitmaps of a worker: snat.h. A bitmap's row a is SNAT address
 * t->snat_addrs[a]; bit i of the row is port snat_lo + i. Rows past the tables' addresses and
 * bits past the partition are kept set, so that a scan never returns them.
 *
 * A port is taken from a rotating cursor per destination (and a new destination starts at the
 * worker's last port, w->snat_next), so a port given back is reused as late as possible.
 *
 * Invariant: every bit set in a bitmap but the fixed ones is counted in its destination's
 * `used`, so a destination back in the pool (used 0) has a clean bitmap.
 *
 * Why bitmaps rather than a free list per destination: a bitmap is 1 bit a port (a list is 16),
 * is reset with a memset when a destination is taken from the pool, and gives a port back
 * in O(1) from the session's in2out tuple alone (no link in the 128-byte record). The scan
 * over words is bounded by the bitmap's size, and the rotating cursor makes it short on
 * average: the words behind the cursor are the ones most recently filled.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "snat_inlines.h"

static_assert((DP_SNAT_DESTS & (DP_SNAT_DESTS - 1)) == 0 && DP_SNAT_DESTS <= 32768,
	      "DP_SNAT_DESTS: a power of two, indexes fit 16 bits");

int dp_snat_init(struct dp_worker *w, unsigned int n_addrs)
{
	struct dp_snat *s = &w->snat;
	uint32_t span = (uint32_t)(w->snat_hi - w->snat_lo) + 1u;
	uint32_t wpa = (span + 63u) / 64u;

	if (n_addrs == 0 || n_addrs > CFG_MAX_ADDRS)
		return -EINVAL;
	dp_snat_fini(w);
	s->bits = rte_malloc_socket("dp_snat", (size_t)DP_SNAT_DESTS * n_addrs * wpa * 8u,
				    RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(w->lcore));
	if (!s->bits)
		return -ENOMEM;
	s->n_addrs = n_addrs;
	s->span = span;
	s->wpa = wpa;
	s->words = n_addrs * wpa;
	memset(s->hash, 0, sizeof(s->hash));
	memset(s->dests, 0, sizeof(s->dests));
	for (uint32_t i = 0; i < DP_SNAT_DESTS; i++)
		s->free_dests[i] = (uint16_t)(DP_SNAT_DESTS - 1u - i);
	s->n_free = DP_SNAT_DESTS;
	return 0;
}

void dp_snat_fini(struct dp_worker *w)
{
	rte_free(w->snat.bits);
	w->snat.bits = NULL;
	// dp_snat_take()'s inline probe (snat_dest_in_use()) tests no bitmap: it finds nothing.
	memset(w->snat.hash, 0, sizeof(w->snat.hash));
	w->snat.n_addrs = 0;
	w->snat.n_free = 0;
}

/* The hash slot of the destination of @p k, or the empty slot that ends its probe. */
static uint32_t dest_slot(const struct dp_snat *s, const struct nat_key *k)
{
	uint32_t i = snat_dest_home(k->src, k->sport, k->proto);

	// At most half full: an empty slot ends every probe.
	for (;;) {
		uint16_t e = s->hash[i];
		if (e == 0)
			return i;
		const struct dp_snat_dest *d = &s->dests[e - 1u];
		if (d->addr == k->src && d->port == k->sport && d->proto == k->proto)
			return i;
		i = (i + 1u) & (DP_SNAT_HASH - 1u);
	}
}

/* Lay bitmap row @p r of @p b out as free (the partition's tail bits past the span fixed). */
static inline void row_clear(const struct dp_snat *s, uint64_t *b, uint32_t r)
{
	memset(b + (size_t)r * s->wpa, 0, s->wpa * 8u);
	if (s->span % 64u)
		b[r * s->wpa + s->wpa - 1u] = ~0ull << (s->span % 64u);
}

/* A destination in use whose row count is not the tables' any more (a SNAT address appeared
 * or went at a republication: a VRRP VIP taken over or given back, docs/ha.md): a new last
 * row is laid out free (it was fixed, all set, so a give-back of a port there by a session
 * synced while the address was not ours would have counted a bit never taken); a row gone is
 * fixed again, its ports no longer counted in `used` (no take may return that address, and
 * row_of() no longer finds it for a give-back). Rows are positions in t->snat_addrs: an
 * address that appears or goes in the middle moves the ones after it (tables_build.c). */
static __rte_noinline void dest_fit(struct dp_snat *s, struct dp_snat_dest *d, uint32_t rows)
{
	uint64_t *b = snat_dest_bits(s, d);
	uint32_t tail =
		s->span % 64u ? (uint32_t)__builtin_popcountll(~0ull << (s->span % 64u)) : 0;

	for (uint32_t r = d->rows; r < rows; r++)
		row_clear(s, b, r);
	for (uint32_t r = rows; r < d->rows; r++) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < s->wpa; i++)
			n += (uint32_t)__builtin_popcountll(b[r * s->wpa + i]);
		n -= tail;
		d->used = d->used > n ? d->used - n : 0;
		memset(b + (size_t)r * s->wpa, 0xff, s->wpa * 8u);
	}
	d->rows = (uint8_t)rows;
}

struct dp_snat_dest *dp_snat_dest_get(struct dp_worker *w, const struct tables *t,
				      const struct nat_key *k, bool create)
{
	struct dp_snat *s = &w->snat;
	uint32_t i, rows;
	struct dp_snat_dest *d;
	uint64_t *b;

	if (unlikely(s->bits == NULL))
		return NULL;
	i = dest_slot(s, k);
	rows = snat_rows(s, t);
	if (s->hash[i]) {
		d = &s->dests[s->hash[i] - 1u];
		if (unlikely(d->rows != rows))
			dest_fit(s, d, rows);
		return d;
	}
	if (!create || s->n_free == 0)
		return NULL;
	d = &s->dests[s->free_dests[--s->n_free]];
	s->hash[i] = (uint16_t)(d - s->dests + 1);
	d->addr = k->src;
	d->port = k->sport;
	d->proto = k->proto;
	d->used = 0;
	// A new destination starts where the worker's last port was taken, not at the first
	// port: one connection after another to an idle backend gets a fresh port each time.
	d->cursor = (uint32_t)(w->snat_next - w->snat_lo);
	// A bitmap back in the pool holds no bit but the fixed ones: laid out once per slot
	// (and again only if the tables' address count changed), not per destination.
	if (likely(d->rows == rows))
		return d;
	d->rows = (uint8_t)rows;
	b = snat_dest_bits(s, d);
	for (uint32_t r = 0; r < rows; r++)
		row_clear(s, b, r);
	memset(b + (size_t)rows * s->wpa, 0xff, (size_t)(s->n_addrs - rows) * s->wpa * 8u);
	return d;
}

/* Back to the pool: the slot emptied with backward shift (linear probing, no tombstones). */
void dp_snat_dest_del(struct dp_snat *s, struct dp_snat_dest *d)
{
	struct nat_key k = {.src = d->addr, .sport = d->port, .proto = d->proto};
	uint32_t i = dest_slot(s, &k), j = i;

	d->proto = 0;
	s->free_dests[s->n_free++] = (uint16_t)(d - s->dests);
	for (;;) {
		s->hash[i] = 0;
		for (;;) {
			j = (j + 1u) & (DP_SNAT_HASH - 1u);
			if (s->hash[j] == 0)
				return;
			const struct dp_snat_dest *e = &s->dests[s->hash[j] - 1u];
			uint32_t h = snat_dest_home(e->addr, e->port, e->proto);
			// e stays if its home is cyclically in (i, j]
			if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
				continue;
			break;
		}
		s->hash[i] = s->hash[j];
		i = j;
	}
}

/* Row of SNAT address @p a, or -1. */
static inline int row_of(const struct dp_snat *s, const struct tables *t, rte_be32_t a)
{
	uint32_t rows = snat_rows(s, t);

	for (uint32_t r = 0; r < rows; r++)
		if (t->snat_addrs[r] == a)
			return (int)r;
	return -1;
}

/* Word index and bit of in2out key @p k in a bitmap; false when k is no SNAT key of ours. */
static inline bool bit_of(const struct dp_worker *w, const struct tables *t,
			  const struct nat_key *k, uint32_t *wi, uint64_t *bit)
{
	const struct dp_snat *s = &w->snat;
	int r = row_of(s, t, k->dst);
	uint32_t p = rte_be_to_cpu_16(k->dport);

	if (r < 0 || p < w->snat_lo || p > w->snat_hi)
		return false;
	p -= w->snat_lo;
	*wi = (uint32_t)r * s->wpa + p / 64u;
	*bit = 1ull << (p % 64u);
	return true;
}

void dp_snat_hold(struct dp_worker *w, const struct tables *t, const struct nat_key *k)
{
	struct dp_snat_dest *d;
	uint32_t wi;
	uint64_t bit;

	if (!bit_of(w, t, k, &wi, &bit) || (d = dp_snat_dest_get(w, t, k, true)) == NULL)
		return;
	uint64_t *b = snat_dest_bits(&w->snat, d);
	if (!(b[wi] & bit)) {
		b[wi] |= bit;
		d->used++;
	}
}

void dp_snat_put(struct dp_worker *w, const struct tables *t, const struct nat_key *k)
{
	struct dp_snat_dest *d;
	uint32_t wi;
	uint64_t bit;

	if (!bit_of(w, t, k, &wi, &bit) || (d = dp_snat_dest_get(w, t, k, false)) == NULL)
		return;
	uint64_t *b = snat_dest_bits(&w->snat, d);
	if (b[wi] & bit) {
		b[wi] &= ~bit;
		if (--d->used == 0)
			dp_snat_dest_del(&w->snat, d);
	}
}

int dp_snat_take_scan(struct dp_worker *w, const struct tables *t, struct nat_key *k,
		      struct nat_hash *h, struct dp_snat_dest *d)
{
	struct dp_snat *s = &w->snat;
	const bool rss = w->rss_int.enabled;
	uint32_t budget = rss ? DP_SNAT_PORT_TRIES_RSS(w->n_workers) : UINT32_MAX;
	uint64_t *b = snat_dest_bits(s, d);
	uint32_t wi = d->cursor / 64u;

	// From the cursor on, round the bitmap: a port given back is reused last, not first
	// (the backend may still hold the old connection in TIME_WAIT). words + 1 words: the
	// first one's bits below the cursor come last.
	for (uint32_t n = 0; n <= s->words; n++) {
		uint64_t free = ~b[wi];
		if (n == 0)
			free &= ~0ull << (d->cursor % 64u);
		while (free) {
			uint32_t bit = (uint32_t)__builtin_ctzll(free);
			uint16_t port = (uint16_t)(w->snat_lo + (wi % s->wpa) * 64u + bit);
			free &= free - 1u;
			k->dst = t->snat_addrs[wi / s->wpa];
			k->dport = rte_cpu_to_be_16(port);
			if (rss) {
				if (budget-- == 0)
					goto none;
				if (dp_rss_queue(&w->rss_int, k->src, k->dst, k->sport, k->dport) !=
				    w->queue)
					continue;
			}
			b[wi] |= 1ull << bit;
			d->used++;
			*h = nat_key_hash(&w->sess, k);
			// Held by a session made while the pool was empty: its bit now says so.
			// Until the first such session every full-NAT key has its bit.
			if (unlikely(s->fallbacks != 0) &&
			    nat_sessions_lookup_h(&w->sess, k, *h) != NAT_REF_NONE)
				continue;
			d->cursor = wi * 64u + bit + 1u;
			if (d->cursor == s->words * 64u)
				d->cursor = 0;
			w->snat_next = port >= w->snat_hi ? w->snat_lo : (uint16_t)(port + 1u);
			return 0;
		}
		if (++wi == s->words)
			wi = 0;
	}
none:
	if (d->used == 0)
		dp_snat_dest_del(s, d);
	return -ENOSPC;
}
