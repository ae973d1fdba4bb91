/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_snat_take() inline (a new full-NAT session's, in nat_session.c), with the helpers it
 * shares with snat.c. snat.h has the rest of the interface; snat.c the slow paths.
 */
#ifndef STRAIT_DP_SNAT_INLINES_H
#define STRAIT_DP_SNAT_INLINES_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "session_inlines.h"
#include "snat.h"
#include "worker.h"

static inline uint64_t *snat_dest_bits(struct dp_snat *s, const struct dp_snat_dest *d)
{
	return s->bits + (size_t)(d - s->dests) * s->words;
}

/* A destination's address, port, protocol and rows as one word, in memory order. */
static inline uint64_t snat_dest_word(const struct dp_snat_dest *d)
{
	uint64_t x;

	memcpy(&x, d, sizeof(x));
	return x;
}

/* The same word built from its fields. */
static inline uint64_t snat_dest_word_of(rte_be32_t addr, rte_be16_t port, uint8_t proto,
					 uint8_t rows)
{
	struct {
		rte_be32_t addr;
		rte_be16_t port;
		uint8_t proto, rows;
	} v = {addr, port, proto, rows};
	uint64_t x;

	memcpy(&x, &v, sizeof(x));
	return x;
}

/* A destination's home slot, by the word of its address, port and protocol (rows 0): the
 * word the probe compares, so that the probe builds it once. */
static inline uint32_t snat_dest_home_word(uint64_t word)
{
	return rte_hash_crc_8byte(word, 0x5a17u) & (DP_SNAT_HASH - 1u);
}

static inline uint32_t snat_dest_home(rte_be32_t addr, rte_be16_t port, uint8_t proto)
{
	return snat_dest_home_word(snat_dest_word_of(addr, port, proto, 0));
}

static_assert(offsetof(struct dp_snat_dest, addr) == 0 &&
		      offsetof(struct dp_snat_dest, port) == 4 &&
		      offsetof(struct dp_snat_dest, proto) == 6 &&
		      offsetof(struct dp_snat_dest, rows) == 7,
	      "snat_dest_word(): address, port, protocol and rows in the first 8 bytes");

/* The rows in use: the tables' addresses, as many as the bitmaps have. */
static inline uint32_t snat_rows(const struct dp_snat *s, const struct tables *t)
{
	return t->n_snat < s->n_addrs ? t->n_snat : s->n_addrs;
}

/* dp_snat_dest_get()'s probe, inline: the destination of @p k if it is in use and laid out
 * for @p rows rows, by its first word; NULL for dp_snat_dest_get() to find, lay out or
 * create it. */
static inline struct dp_snat_dest *snat_dest_in_use(struct dp_snat *s, const struct nat_key *k,
						    uint32_t rows)
{
	const uint64_t key = snat_dest_word_of(k->src, k->sport, k->proto, 0);
	const uint64_t want = key | snat_dest_word_of(0, 0, 0, (uint8_t)rows);
	const uint64_t mask = snat_dest_word_of(UINT32_MAX, UINT16_MAX, UINT8_MAX, 0);

	for (uint32_t i = snat_dest_home_word(key);; i = (i + 1u) & (DP_SNAT_HASH - 1u)) {
		uint16_t e = s->hash[i];
		if (e == 0)
			return NULL;
		struct dp_snat_dest *d = &s->dests[e - 1u];
		uint64_t x = snat_dest_word(d);
		if (likely(x == want))
			return d;
		if ((x & mask) == key)
			return NULL; // its rows differ: dest_fit()
	}
}

/**
 * Take a free (SNAT address, port) for the in2out key @p k towards backend k->src:k->sport,
 * protocol k->proto (the rest of @p k is filled here: k->dst one of t->snat_addrs, k->dport a
 * port of the partition, network order) and mark it held. The port is also not in the session
 * table (a session made while the pool was empty may hold it: its bit is then set and the
 * scan goes on). With RSS on the int port the port must land on w->queue: at most
 * DP_SNAT_PORT_TRIES_RSS(n_workers) free ports are hashed before giving up. Cost: one scan of
 * at most `words` 64-bit words and one session-table lookup per port tried.
 *
 * Inline, the common case only: no RSS, no session ever made with the pool empty, and a free
 * bit in the word at the destination's cursor, at or past it; what the scan would take first,
 * taken the same way. The rest is dp_snat_take_scan()'s, out of line (its loop's state kept
 * gcc from keeping the new session's own in registers).
 * @param h receives nat_key_hash(&w->sess, k) on success.
 * @return 0; -ENOSPC when every (address, port) is held (or, with RSS, none of those tried
 *         lands on our queue); -ENOENT when there is no bitmap for it (pool empty or no
 *         address): the caller probes.
 */
static inline int dp_snat_take(struct dp_worker *w, const struct tables *t, struct nat_key *k,
			       struct nat_hash *h)
{
	struct dp_snat *s = &w->snat;
	struct dp_snat_dest *d;

	if (unlikely(t->n_snat == 0))
		goto probe;
	d = snat_dest_in_use(s, k, snat_rows(s, t));
	if (unlikely(d == NULL) && (d = dp_snat_dest_get(w, t, k, true)) == NULL)
		goto probe;
	if (likely(!w->rss_int.enabled && s->fallbacks == 0)) {
		const uint32_t cursor = d->cursor, wi = cursor / 64u;
		uint64_t *bw = snat_dest_bits(s, d) + wi;
		const uint64_t free = ~*bw & (~0ull << (cursor % 64u));
		if (likely(free)) {
			const uint32_t bit = (uint32_t)__builtin_ctzll(free);
			const uint16_t port = (uint16_t)(w->snat_lo + (wi % s->wpa) * 64u + bit);
			k->dst = t->snat_addrs[wi / s->wpa];
			k->dport = rte_cpu_to_be_16(port);
			*bw |= 1ull << bit;
			d->used++;
			*h = nat_key_hash(&w->sess, k);
			d->cursor = wi * 64u + bit + 1u;
			if (d->cursor == s->words * 64u)
				d->cursor = 0;
			w->snat_next = port >= w->snat_hi ? w->snat_lo : (uint16_t)(port + 1u);
			return 0;
		}
	}
	return dp_snat_take_scan(w, t, k, h, d);
probe:
	s->fallbacks++;
	w->stats.sessions_snat_probed++;
	return -ENOENT;
}

#endif
