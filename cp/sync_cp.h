/* SPDX-License-Identifier: BSD-3-Clause */
/* Session sync, the control thread's module (sync.c): what the rest of the control plane reads. */
#ifndef STRAIT_CP_SYNC_CP_H
#define STRAIT_CP_SYNC_CP_H

#include <stdint.h>

#include <strait/sync.h>

/**
 * The session sync counters: the workers' @p dp (struct dp_stats.sync, summed) plus the
 * control thread's, into @p out. All zero when sync is off. Any thread (the control
 * thread's counters are read racily, never torn on x86-64).
 */
void cp_sync_counters(const uint64_t dp[SYNC_C_MAX], uint64_t out[SYNC_C_MAX]);

/** The steering secret derived from `ha.sync.key` @p key (FNV-1a 64 twice, splitmix64's
 *  finalizer): the same on every gateway with the same key. */
void cp_sync_steer_key(const char *key, uint64_t out[2]);

#endif
