/* SPDX-License-Identifier: BSD-3-Clause */
/* The workers as the rest of the data plane finds them (lifecycle.c: dp_init() to dp_fini()). */
#ifndef STRAIT_DP_LIFECYCLE_H
#define STRAIT_DP_LIFECYCLE_H

#include <stdbool.h>

#include <strait/config.h>

#include "worker.h"

/** Worker i for i < dp_n_workers(), set by dp_init(); NULL after dp_fini(). */
extern struct dp_worker *dp_workers[CFG_MAX_WORKERS];

/** Whether the workers are running (between dp_start() and dp_stop()). Control thread. */
bool dp_started(void);

/** The pool the slow path allocates the frames it makes from: dp_mempool(), or a test's. */
struct rte_mempool *dp_sp_mempool(void);
/**
 * Unit tests, without ports: @p n workers the test put in dp_workers[] count as the data
 * plane's (dp_n_workers()), and the slow path allocates from @p mp. Control thread.
 */
void dp_test_attach(unsigned int n, struct rte_mempool *mp);

#endif
