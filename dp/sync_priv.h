/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What dp/sync.c (install, apply, bulk: it calls the session lifecycle) and dp/sync_event.c
 * (the lifecycle's hooks: it calls nothing of sync.c) share. Worker context.
 */
#ifndef STRAIT_DP_SYNC_PRIV_H
#define STRAIT_DP_SYNC_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <strait/sync.h>

#include "lifecycle.h"
#include "session.h"
#include "sync.h"
#include "worker.h"

static inline uint32_t ticks_to_ms(const struct dp_worker *w, uint32_t ticks)
{
	uint64_t tps = dp_ticks_of_s(w, 1);
	uint64_t ms = tps ? (uint64_t)ticks * 1000u / tps : 0;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static inline uint32_t ms_to_ticks(const struct dp_worker *w, uint32_t ms)
{
	return (uint32_t)(dp_ticks_of_s(w, 1) * ms / 1000u);
}

/* A copy of a peer's session that has carried no packet here: its events are the peer's. */
static inline bool is_backup(const struct dp_worker *w, uint32_t idx)
{
	const struct nat_session *se = &w->sess.recs[idx];
	return w->sync->mark[idx].synced && (se->pkts[0] | se->pkts[1]) == 0;
}

/* As nat.c's client_owner() and snat_owner(), which the fast path inlines. */
static inline unsigned int owner_of_client(const struct dp_worker *w, rte_be32_t a)
{
	return (unsigned int)(((uint64_t)dp_steer_hash(&w->rss_int, a) * w->n_workers) >> 32);
}

static inline unsigned int owner_of_snat_port(const struct dp_worker *w, rte_be16_t port)
{
	uint32_t p = rte_be_to_cpu_16(port);
	uint32_t span = (65536u - DP_SNAT_PORT_MIN) / w->n_workers, o;

	if (p < DP_SNAT_PORT_MIN)
		return w->id;
	o = (p - DP_SNAT_PORT_MIN) / span;
	return o < w->n_workers ? o : w->n_workers - 1;
}

/** Fill @p r (a record of @p type) from session @p idx of @p w. Worker context. */
void dp_sync_rec_of(struct dp_worker *w, uint32_t idx, uint8_t type, struct sync_rec *r);

#endif
