/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Full-NAT SNAT ports of one worker (snat.c): for each destination in use (backend address,
 * backend port, protocol), a bitmap over (SNAT address x this worker's port partition), one bit
 * per in2out key that a session of this worker holds. A new session takes a free bit with a
 * bounded word scan from a rotating cursor, so the search never reports exhaustion while a
 * bit is free; every session that leaves the table gives its bit back (session_free.c).
 *
 * The bitmaps come from a pool allocated with the worker (DP_SNAT_DESTS destinations), found
 * through a small open-addressing hash of destinations; a destination whose last bit is given
 * back returns to the pool. When the pool is empty a new session falls back to probing ports
 * against the session table (nat_session.c), counted in dp_snat.fallbacks and in the
 * worker's dp_stats.sessions_snat_probed.
 *
 * Everything here runs on the worker lcore that owns the state, but dp_snat_init() and
 * dp_snat_fini() (control thread, before the worker runs / after it stopped).
 */
#ifndef STRAIT_DP_SNAT_H
#define STRAIT_DP_SNAT_H

#include <stdint.h>

#include <rte_byteorder.h>

#include <strait/tables.h>

#include "session.h"

/**
 * Destinations with a port bitmap, per worker: a power of two, at most 32768. Memory: a bitmap
 * is SNAT addresses x (65536 - 1024) / workers bits, so DP_SNAT_DESTS x addresses x 8 KiB
 * over all workers: 8 MiB for one address, 64 MiB for eight.
 */
#define DP_SNAT_DESTS 1024
#define DP_SNAT_HASH  (2 * DP_SNAT_DESTS) /**< hash slots: at most half full */

struct dp_snat_dest {
	rte_be32_t addr; /**< backend address, network order */
	rte_be16_t port; /**< backend port, network order */
	uint8_t proto;	 /**< IPPROTO_*; 0 = in the pool */
	uint8_t rows;	 /**< rows in use its bitmap was laid out for; 0 = never */
	uint32_t used;	 /**< bits held by sessions */
	uint32_t cursor; /**< bit where the next scan starts */
};

struct dp_snat {
	uint64_t *bits;	    /**< DP_SNAT_DESTS x words: dest i's bitmap at bits + i * words */
	uint32_t n_addrs;   /**< address rows of each bitmap */
	uint32_t span;	    /**< ports of the partition: snat_lo..snat_hi */
	uint32_t wpa;	    /**< 64-bit words per row (address); bits past span stay set */
	uint32_t words;	    /**< per bitmap: n_addrs * wpa */
	uint32_t n_free;    /**< entries of free_dests */
	uint64_t fallbacks; /**< new full-NAT sessions that found the pool empty and probed;
			     *  while 0, no session holds a SNAT port without its bit */
	uint16_t free_dests[DP_SNAT_DESTS];
	uint16_t hash[DP_SNAT_HASH]; /**< dest index + 1; 0 = empty slot */
	struct dp_snat_dest dests[DP_SNAT_DESTS];
};

struct dp_worker;
struct nat_hash;

/**
 * Allocate (or reallocate, dropping every bit held) @p w's bitmaps for @p n_addrs SNAT
 * addresses (1 to CFG_MAX_ADDRS) over its partition w->snat_lo..w->snat_hi. Control thread,
 * while the worker does not run and holds no full-NAT session.
 * @return 0, -EINVAL (n_addrs out of range) or -ENOMEM.
 */
int dp_snat_init(struct dp_worker *w, unsigned int n_addrs);
/** Free the bitmaps (dp_worker_free()). */
void dp_snat_fini(struct dp_worker *w);

/* dp_snat_take(), inline: snat_inlines.h. */
/** dp_snat_take() past its inline case: the whole scan of destination @p d's bitmap from its
 *  cursor, with RSS and the fallbacks' session-table test. Same parameters and returns. */
int dp_snat_take_scan(struct dp_worker *w, const struct tables *t, struct nat_key *k,
		      struct nat_hash *h, struct dp_snat_dest *d);
/** The destination of @p k, taken from the pool (bitmap reset) when @p create; NULL if none
 *  (dp_snat_take()'s slow path: a destination not in use, or whose rows must fit @p t). */
struct dp_snat_dest *dp_snat_dest_get(struct dp_worker *w, const struct tables *t,
				      const struct nat_key *k, bool create);
/** Back to the pool: @p d (in use, holding no bit) leaves the hash of destinations. */
void dp_snat_dest_del(struct dp_snat *s, struct dp_snat_dest *d);
/** Mark the in2out key @p k (k->dst a SNAT address) held: a port taken over from an evicted
 *  session. No-op when the pool is empty or k is not a SNAT key of this worker. */
void dp_snat_hold(struct dp_worker *w, const struct tables *t, const struct nat_key *k);
/** Give back the bit of in2out key @p k if held; a destination left without bits returns to
 *  the pool. No-op for keys that hold none (preserveSource, probed sessions). */
void dp_snat_put(struct dp_worker *w, const struct tables *t, const struct nat_key *k);

#endif
