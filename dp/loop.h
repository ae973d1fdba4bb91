/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker loop (loop.c): what a worker lcore runs from dp_start() to dp_stop(). */
#ifndef STRAIT_DP_LOOP_H
#define STRAIT_DP_LOOP_H

#include <rte_rcu_qsbr.h>

#include "worker.h"

#define DP_EXPIRE_BUDGET 64 /**< session slots examined per housekeeping pass */
#define DP_HOUSEKEEPING_LOOPS 16

#endif
