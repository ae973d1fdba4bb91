/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counters as the management interfaces read them: drop reason labels, one worker's
 * counters, their sum over the workers and the slow path. Control, telemetry or metrics
 * thread; workers' counters are read while they run (racy, never torn on x86-64).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "lifecycle.h"
#include "slowpath.h"
#include "worker.h"

static const char *const drop_names[] = {
#define X(e, s) s,
	DP_DROP_REASONS(X)
#undef X
};

const char *dp_drop_name(enum dp_drop d)
{
	return d < DP_DROP_MAX ? drop_names[d] : "?";
}

const struct dp_stats *dp_worker_stats(unsigned int i)
{
	return i < dp_n_workers() ? &dp_workers[i]->stats : NULL;
}

static void stats_add(struct dp_stats *o, const struct dp_stats *s)
{
	const uint64_t *src = (const uint64_t *)s;
	uint64_t *dst = (uint64_t *)o;

	// Every field of dp_stats is a uint64_t counter: sum them as an array.
	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

void dp_stats_sum(struct dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < dp_n_workers(); i++)
		stats_add(out, &dp_workers[i]->stats);
	stats_add(out, &dp_sp_stats);
	stats_add(out, &dp_kernel_stats);
	stats_add(out, &dp_kernel_ctl_stats);
}

struct dp_stats *dp_stats_sum_new(void)
{
	struct dp_stats *s = malloc(sizeof(*s));

	if (s)
		dp_stats_sum(s);
	return s;
}

uint64_t dp_sessions_active(void)
{
	uint64_t n = 0;
	for (unsigned int i = 0; i < dp_n_workers(); i++)
		n += dp_workers[i]->stats.sessions_created - dp_workers[i]->stats.sessions_expired;
	return n;
}
