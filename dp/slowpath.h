/* SPDX-License-Identifier: BSD-3-Clause */
/* The slow path's own state (slowpath.c), as the rest of the data plane reads it. */
#ifndef STRAIT_DP_SLOWPATH_H
#define STRAIT_DP_SLOWPATH_H

#include <strait/dp.h>

/** Counters the control thread itself keeps (slow path); written by it only. */
extern struct dp_stats dp_sp_stats;

/** Refresh the ARP entries of next hops and backends at the next dp_slowpath_poll(). */
void dp_slowpath_refresh(void);

#endif
