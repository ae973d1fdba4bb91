/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync, the workers' half (sync.c; the protocol: strait/sync.h, docs/ha.md "Session
 * sync"). A worker with sync on (w->sync non-NULL) turns its sessions' creations, refreshes
 * and removals into struct sync_rec events on its ring to the control thread, staged and
 * enqueued once per loop iteration, never waiting: a full ring is counted and the event lost
 * (the next refresh or a bulk resync repairs it). It installs what the control thread passes
 * it from the peers as backup sessions. On the worker lcore that owns @p w unless a comment
 * says otherwise.
 */
#ifndef STRAIT_DP_SYNC_H
#define STRAIT_DP_SYNC_H

#include <stdint.h>

#include <rte_common.h>

#include <strait/sync.h>
#include <strait/tables.h>

#include "worker.h"

/** Per record of the session table: what was last sent about it, and whether it is a copy. */
struct dp_sync_mark {
	uint32_t sent_at; /**< session ticks of the last event sent (or the install) */
	uint8_t state;	  /**< the state that event carried */
	uint8_t synced;	  /**< installed from a peer: a backup while it has carried no packet */
	uint16_t pad;
};

#define DP_SYNC_STAGE	  DP_BURST
#define DP_SYNC_POLL_RECS 64  /**< received records installed per housekeeping pass */
#define DP_SYNC_BULK_RECS 256 /**< records examined per housekeeping pass of a bulk dump */

struct dp_sync_w {
	struct rte_ring *ev;	   /**< struct sync_rec, to the control thread (SP/SC) */
	struct rte_ring *in;	   /**< struct sync_rec, from the control thread (SP/SC) */
	struct dp_sync_mark *mark; /**< [sess.max] */
	uint32_t bulk_cursor;	   /**< next record of a bulk dump */
	bool bulk;		   /**< a bulk dump is under way */
	bool quiet;		   /**< removing a session at a peer's word: no event back */
	uint16_t n_stage;
	struct sync_rec stage[DP_SYNC_STAGE]; /**< events of this loop iteration */
};

/** Give worker @p w its sync state (rings named after its id). Control thread, while @p w
 * does not run. @return 0 or -ENOMEM. */
int dp_sync_worker_init(struct dp_worker *w);
/** Free it; NULL-safe, no-op without sync. Control thread, while @p w does not run. */
void dp_sync_worker_fini(struct dp_worker *w);

/* Hooks of the session code; each a no-op without sync. */
void dp_sync_on_create(struct dp_worker *w, uint32_t idx);
void dp_sync_on_free(struct dp_worker *w, uint32_t idx);
void dp_sync_on_walk(struct dp_worker *w, uint32_t idx, uint32_t now);

/** Enqueue the staged events (end of a loop iteration). */
void dp_sync_flush(struct dp_worker *w);
/** Housekeeping: install up to DP_SYNC_POLL_RECS received records, go on with a bulk dump. */
void dp_sync_poll(struct dp_worker *w, const struct tables *t);
/**
 * Apply one received record to @p w's table: an upsert installs a backup session (both keys,
 * its adjacencies, its SNAT port held in the worker's bitmaps, TCP window tracking liberal as
 * a pickup's) or refreshes the backup held; a delete removes the backup. A session that has
 * carried packets here is never overwritten nor removed by a peer's record.
 * @return SYNC_C_INSTALLED, SYNC_C_UPDATED or SYNC_C_DELETED when applied, else the
 *         SYNC_C_FAIL_* reason (counted by the caller); a delete of an unknown session
 *         returns SYNC_C_DELETED too (nothing to do).
 */
enum sync_counter dp_sync_apply(struct dp_worker *w, const struct tables *t,
				const struct sync_rec *r);

static inline bool dp_sync_on(const struct dp_worker *w)
{
	return unlikely(w->sync != NULL);
}

#endif
