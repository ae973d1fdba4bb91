/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments through the NAT (frag.c), without reassembly: the first fragment carries the
 * ports and finds or starts its session; the later ones carry none and follow it by the
 * datagram's (source, destination, protocol, IP id) (RFC 791). Per worker, on its lcore:
 *   - a table from a datagram to its session (and the session's 5-tuple, checked before the
 *     record is used: a record freed and reused by another flow is never followed), or, on
 *     the worker that steers the datagram's fragments, to the worker that owns it;
 *   - a bounded hold for later fragments that arrive before their first one (reordering),
 *     released when the first one passes, dropped and counted when old or full.
 * Steering with several workers: a later fragment to the SNAT address (full NAT, on int)
 * cannot tell its owner (the SNAT port's worker), so every fragment of such a datagram goes
 * first to the worker its datagram key hashes to (frag_steer_worker()), which learns the
 * owner from the first fragment and passes the later ones on. Elsewhere the owner comes from
 * addresses only (nat_owner()) and is the same for every fragment.
 */
#ifndef STRAIT_DP_FRAG_H
#define STRAIT_DP_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "pkt.h"
#include "session.h"

#define DP_FRAG_SLOTS	  1024 /**< datagram table, per worker; power of two */
#define DP_FRAG_HOLD	  64   /**< later fragments held for their first one, per worker */
#define DP_FRAG_TIMEOUT_S 30   /**< a datagram's entry: RFC 791's reassembly timeout order */
#define DP_FRAG_HOLD_MS	  500  /**< how long a held fragment waits for its first one */

/** In dp_mbuf_priv.in_port of a fragment handed over by its steering worker: process here. */
#define DP_PRIV_FRAG_STEERED 0x2

#define DP_FRAG_RANGES 8 /**< byte ranges a datagram's entry remembers for the overlap check */

/** A datagram whose first fragment was seen: its session here, or its owner elsewhere. */
struct dp_frag_entry {
	rte_be32_t src, dst;
	rte_be16_t id;
	uint8_t proto;
	uint8_t dir;
	uint32_t sess;	/**< record index on this worker; NAT_REC_NONE: owned by `owner` */
	uint16_t owner; /**< worker that owns the session */
	uint16_t pad;
	struct nat_key key; /**< the first fragment's key: the session it found */
	uint64_t expire_tsc;
	rte_be16_t new_id; /**< the IP id its fragments leave with (frag_pass()) */
	uint8_t n_ranges;  /**< ranges seen so far; past DP_FRAG_RANGES, no more are checked */
	uint8_t pad2;
	uint16_t range[DP_FRAG_RANGES][2]; /**< [start, end) of each fragment, in 8-byte units */
};

/** A later fragment waiting for its first one. */
struct dp_frag_held {
	struct rte_mbuf *mb;
	struct pkt_meta m;
	uint8_t in_port;
	uint64_t expire_tsc;
};

/** A worker's fragment state (struct dp_worker.frag). */
struct dp_frag {
	struct dp_frag_entry tbl[DP_FRAG_SLOTS];
	struct dp_frag_held held[DP_FRAG_HOLD];
	uint32_t n_held;
	uint16_t next_id; /**< IP ids handed out: next_id * n_workers + worker id */
	bool retry;	  /**< a first fragment passed since the held ones were last tried */
};

struct dp_worker;

/**
 * Draw the keys of the fragment table's slot hash (rte_rand()); dp_init(), before any worker
 * runs: every worker must hash a fragment alike (frag_owner() steers by it). Control thread.
 */
void frag_reset_secret(void);
/** Derive the keys from @p secret instead (tests: a known placement). Control thread. */
void frag_set_secret(uint64_t secret);
/** The slot of @p m's datagram (source, destination, id, protocol) in struct dp_frag.tbl. */
uint32_t frag_slot_index(const struct pkt_meta *m);

/** Remember the first fragment @p m of session @p idx (direction @p dir) on this worker. */
void frag_remember(struct dp_worker *w, const struct pkt_meta *m, uint32_t idx, int dir);
/**
 * Check and renumber fragment @p m (first or later) of a datagram whose entry is on this
 * worker, just before its session's rewrite of @p frame:
 *   - a fragment whose bytes overlap another fragment's without being an exact duplicate of
 *     it is refused (@return false: drop it, frag_overlap): the overlapping-fragment attacks
 *     of RFC 1858 §3 rewrite a header the NAT or a filter behind it already judged;
 *   - every fragment of the datagram leaves with the IP id its entry was given at the first
 *     fragment, unique on this worker for the entry's lifetime (and across workers: ids are
 *     next_id * n_workers + worker id), the IP checksum updated (RFC 1624). Under full NAT
 *     the datagrams of every client reach a pod from one SNAT address, and two clients' equal
 *     ids would otherwise be reassembled together (RFC 6864 §4.1: the id is unique per
 *     source, destination and protocol, which translation breaks).
 * Worker lcore of @p w.
 */
bool frag_pass(struct dp_worker *w, uint8_t *frame, const struct pkt_meta *m);
/**
 * The session of the later fragment @p m, if its first fragment passed on this worker and
 * that session still exists with the first fragment's 5-tuple.
 * @return the record index (and *dir), or -1.
 */
int frag_find(struct dp_worker *w, const struct pkt_meta *m, int *dir);
/**
 * A later fragment @p mb that arrived on @p in_port: its session, or, when its first fragment
 * has not passed yet, held (or dropped and counted: frag_hold_full, frag_no_session).
 * @return the record index to forward it with, or -1 when @p mb was consumed.
 */
int nat_frag_later(struct dp_worker *w, uint8_t in_port, struct rte_mbuf *mb,
		   const struct pkt_meta *m);
/**
 * Which worker a fragment @p m to a local (SNAT) address on int goes to, given @p owner, what
 * nat_owner() says (for a first fragment: the SNAT port's worker). On the steering worker,
 * records a first fragment's owner and sets DP_PRIV_FRAG_STEERED in *@p flag when the
 * fragment goes on to it. Several workers only.
 */
unsigned int frag_owner(struct dp_worker *w, struct rte_mbuf *mb, const struct pkt_meta *m,
			unsigned int owner, uint8_t *flag);
/**
 * Take the next held fragment that can go now: its first fragment's session is here (*to ==
 * w->id, *idx set) or on worker *to. @return the mbuf (its meta in *m, port in *in_port), or
 * NULL when none is ready.
 */
struct rte_mbuf *frag_take_ready(struct dp_worker *w, struct pkt_meta *m, uint8_t *in_port,
				 unsigned int *to, uint32_t *idx);
/** Drop (frag_hold_timeout) the held fragments whose time is up; housekeeping. */
void frag_expire(struct dp_worker *w);
/** Free every held fragment (worker teardown). */
void frag_fini(struct dp_worker *w);

#endif
