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

#endif
