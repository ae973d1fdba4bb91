/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions leaving a worker's table: one at a time (both keys, the adjacency references, the
 * SNAT port, the counters, the record), and the idle ones found by the housekeeping pass (clears:
 * session_clear.c). On the worker lcore that owns the table.
 *
 * Aging walks the record array with a cursor, DP_EXPIRE_BUDGET records per housekeeping pass:
 * bounded work per loop iteration, and every record is seen once per pass over the array.
 */
#include "neigh.h"
#include "session.h"
#include "session_free.h"
#include "session_inlines.h"
#include "sync.h"
#include "worker.h"

void nat_session_free(struct dp_worker *w, uint32_t idx)
{
	struct nat_sessions *s = &w->sess;
	struct nat_session *se = &s->recs[idx];
	struct nat_key k[2];
	struct nat_hash h[2];

	const struct tables *t = tables_get();

	// Both keys' buckets from memory side by side, not one after the other: a session that
	// expires or is evicted has long gone cold.
	for (int d = 0; d < 2; d++) {
		nat_session_key(se, d, &k[d]);
		h[d] = nat_key_hash(s, &k[d]);
		rte_prefetch0(&s->bkt[h[d].bkt]);
	}
	if (dp_sync_on(w))
		dp_sync_on_free(w, idx); // before the record goes: its tuples are the event
	nat_sessions_untrack(s, idx);
	for (int d = 0; d < 2; d++) {
		nat_sessions_del_h(s, h[d].bkt, h[d].sig, idx << 1 | (uint32_t)d);
		dp_adj_put(w, se->adj[d]);
	}
	// A full-NAT session gives its SNAT port back (snat.c).
	if (likely(t != NULL))
		dp_snat_put(w, t, &k[DIR_I2O]);
	w->stats.sessions_expired++;
	w->stats.map[se->slot].sessions_expired++;
	nat_session_release(s, idx);
	s->active--;
}

void nat_session_evict(struct dp_worker *w, uint32_t idx)
{
	w->stats.sessions_evicted++;
	nat_session_free(w, idx);
}

unsigned int nat_sessions_expire(struct dp_worker *w, unsigned int budget)
{
	struct nat_sessions *s = &w->sess;
	const struct tables *t = tables_get();
	unsigned int expired = 0;
	uint32_t now;

	if (s->hwm == 0 || !t)
		return 0;
	now = dp_ticks(w);
	while (budget--) {
		uint32_t i = s->expire_cursor;
		struct nat_session *se = &s->recs[i];

		if (++s->expire_cursor >= s->hwm)
			s->expire_cursor = 0;
		if (se->proto == 0)
			continue;
		if ((uint32_t)(now - se->last_seen) >
		    dp_ticks_of_s(w, nat_session_timeout_s(se, t))) {
			nat_session_free(w, i);
			expired++;
		} else if (dp_sync_on(w)) {
			dp_sync_on_walk(w, i, now);
		}
	}
	return expired;
}
