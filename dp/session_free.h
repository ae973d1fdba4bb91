/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions leaving a worker's table (session_free.c), with what they hold in the worker:
 * adjacency references and counters. On the worker lcore that owns @p w unless a comment says
 * otherwise.
 */
#ifndef STRAIT_DP_SESSION_FREE_H
#define STRAIT_DP_SESSION_FREE_H

#include <stdint.h>

#include "worker.h"

/** Remove a session: both keys, its adjacency references, its record. */
void nat_session_free(struct dp_worker *w, uint32_t idx);
/**
 * Remove an unestablished session early to make room for a new one (Linux conntrack's
 * early_drop): nat_session_free(), counted in stats.sessions_evicted too.
 */
void nat_session_evict(struct dp_worker *w, uint32_t idx);
/**
 * Examine at most @p budget records for expiry against the current tables' timeouts.
 * @return sessions expired.
 */
unsigned int nat_sessions_expire(struct dp_worker *w, unsigned int budget);

#endif
