/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's events (sync.h): the session lifecycle's hooks (creation, removal, the
 * expiry walk's refreshes) stage records, flushed to the control thread's ring once a loop
 * pass. Apart from dp/sync.c (which installs received sessions and so calls the lifecycle),
 * so that the lifecycle's calls into sync never come back to it.
 */
#include <string.h>

#include <netinet/in.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "sync_priv.h"

void dp_sync_rec_of(struct dp_worker *w, uint32_t idx, uint8_t type, struct sync_rec *r)
{
	const struct nat_session *se = &w->sess.recs[idx];
	const struct nat_tcp_td *td = &w->sess.td[idx];

	r->type = type;
	r->proto = se->proto;
	r->state = se->state;
	r->flags = (uint8_t)(se->flags | (se->hairpin ? SYNC_F_HAIRPIN : 0));
	memcpy(r->addr, se->addr, sizeof(r->addr));
	memcpy(r->port, se->port, sizeof(r->port));
	r->idle_ms = ticks_to_ms(w, dp_ticks(w) - se->last_seen);
	if (se->proto == IPPROTO_TCP) {
		r->td_end[0] = td->end[0];
		r->td_end[1] = td->end[1];
	} else {
		r->td_end[0] = r->td_end[1] = 0;
	}
}

static void stage(struct dp_worker *w, uint32_t idx, uint8_t type)
{
	struct dp_sync_w *s = w->sync;
	struct dp_sync_mark *mk = &s->mark[idx];

	if (s->n_stage == DP_SYNC_STAGE)
		dp_sync_flush(w);
	dp_sync_rec_of(w, idx, type, &s->stage[s->n_stage++]);
	mk->sent_at = dp_ticks(w);
	mk->state = w->sess.recs[idx].state;
}

void dp_sync_flush(struct dp_worker *w)
{
	struct dp_sync_w *s = w->sync;
	unsigned int n;

	if (!s || s->n_stage == 0)
		return;
	n = rte_ring_sp_enqueue_burst_elem(s->ev, s->stage, sizeof(struct sync_rec), s->n_stage,
					   NULL);
	w->stats.sync[SYNC_C_EVENTS] += n;
	w->stats.sync[SYNC_C_RING_FULL] += s->n_stage - n;
	s->n_stage = 0;
}

void dp_sync_on_create(struct dp_worker *w, uint32_t idx)
{
	if (!dp_sync_on(w))
		return;
	w->sync->mark[idx].synced = 0;
	stage(w, idx, SYNC_REC_UPSERT);
}

void dp_sync_on_free(struct dp_worker *w, uint32_t idx)
{
	if (!dp_sync_on(w))
		return;
	if (!w->sync->quiet && !is_backup(w, idx))
		stage(w, idx, SYNC_REC_DELETE);
	w->sync->mark[idx].synced = 0;
}

/*
 * The expiry walk passed a live session: a refresh when its state changed since the last
 * event (the handshake done, a FIN, a RST), or when it carried packets since the last one
 * and DP_SYNC_REFRESH_S have passed (conntrackd's refresh, bounded per session).
 */
void dp_sync_on_walk(struct dp_worker *w, uint32_t idx, uint32_t now)
{
	const struct nat_session *se = &w->sess.recs[idx];
	const struct dp_sync_mark *mk;

	if (!dp_sync_on(w) || is_backup(w, idx))
		return;
	mk = &w->sync->mark[idx];
	if (se->state != mk->state ||
	    ((int32_t)(se->last_seen - mk->sent_at) > 0 &&
	     (uint32_t)(now - mk->sent_at) >= dp_ticks_of_s(w, DP_SYNC_REFRESH_S)))
		stage(w, idx, SYNC_REC_UPSERT);
}
