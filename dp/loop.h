/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker loop (loop.c): what a worker lcore runs from dp_start() to dp_stop(). */
#ifndef STRAIT_DP_LOOP_H
#define STRAIT_DP_LOOP_H

#include <rte_rcu_qsbr.h>

#include "worker.h"

#define DP_EXPIRE_BUDGET      64 /**< session slots examined per housekeeping pass */
#define DP_HOUSEKEEPING_LOOPS 16

/**
 * Poll @p w's rx queues, hand-over rings and control rings until dp_force_quit is set:
 * translate, advance the clear in progress (DP_CLEAR_BUDGET records), flush tx, and every
 * DP_HOUSEKEEPING_LOOPS iterations expire sessions and take the next clear command (struct
 * dp_cmd) when none is in progress. Registers as thread w->id of @p qsv and reports a quiescent
 * state once per iteration, after which it holds no pointer into the tables. On the worker's
 * own lcore. @return 0 when told to stop.
 */
int dp_worker_loop(struct dp_worker *w, struct rte_rcu_qsbr *qsv);

#endif
