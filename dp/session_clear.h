/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clears in the worker (session_clear.c): a command from the control thread (struct dp_cmd)
 * becomes a cursor over the worker's record array that examines at most DP_CLEAR_BUDGET
 * records per loop iteration, removing the sessions that match the request and, for TCP,
 * sending the client a RST. The RST's sequence numbers come from the TCP window tracking
 * (struct nat_tcp_td): the backend's highest sequence end, or the client's SYN + 1. On the worker lcore that owns @p w unless a
 * comment says otherwise.
 */
#ifndef STRAIT_DP_SESSION_CLEAR_H
#define STRAIT_DP_SESSION_CLEAR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_tcp.h>

#include "pkt.h"
#include "session.h"
#include "worker.h"

#define DP_CLEAR_BUDGET 1024 /**< session records a clear examines per loop iteration */

/**
 * Where RST frames come from: dp_mempool() when NULL. Unit tests, which have no ports, set
 * it before the first clear. Control thread, before the workers start.
 */
extern struct rte_mempool *nat_clear_pool;

/** Whether session @p se matches clear request @p r (@p backend_be: r's backend, network
 * order). Any thread (pure). */
bool nat_clear_match(const struct dp_clear_req *r, rte_be32_t backend_be,
		     const struct nat_session *se);

/**
 * Build the RST that tells session @p idx's client the session is gone, and queue it for tx
 * on the client's arm (the in2out next hop). Skipped (false) for a session that is not TCP,
 * already closed, when no mbuf is left or the next hop's MAC is unknown.
 */
bool nat_clear_rst(struct dp_worker *w, uint32_t idx);

/**
 * Take the next clear command from w->cmd_in when none is in progress. Housekeeping pass.
 * @return whether a clear is in progress afterwards.
 */
bool nat_clear_take(struct dp_worker *w);

/**
 * Advance the clear in progress: examine at most @p budget records from its cursor; at the
 * end of the array, zero the slot's counters if asked, store the count and mark the command
 * done (release: the control thread then owns it). Every loop iteration.
 * @return records examined (0 when no clear is in progress).
 */
unsigned int nat_clear_step(struct dp_worker *w, unsigned int budget);

/**
 * Run command @p c over worker @p w's whole table at once, without RST, and mark it done.
 * The control thread while the workers are stopped. @return sessions removed.
 */
uint64_t nat_clear_run(struct dp_worker *w, struct dp_cmd *c);

/**
 * Remove at once the sessions of worker @p w of mapping slot @p slot (-1 = any) and backend
 * address @p backend_be (network order, 0 = any), without RST: nat_clear_run() on a request
 * made of them. The worker itself, or the control thread while the workers are stopped
 * (tests). @return sessions removed.
 */
unsigned int nat_sessions_clear(struct dp_worker *w, int slot, uint32_t backend_be);

#endif
