/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A token bucket in TSC ticks, as Linux's xrlim_allow() (net/ipv4/icmp.c): credit grows by
 * the time elapsed, up to @p burst messages' worth, and each message spends @p interval.
 * Control thread (the slow path's ICMP errors); not shared between threads.
 */
#ifndef STRAIT_DP_RATELIMIT_H
#define STRAIT_DP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct dp_tbucket {
	uint64_t credit; /**< TSC ticks of credit */
	uint64_t last;	 /**< TSC of the last refill; 0 = never used (starts full) */
};

/**
 * Whether one message may go at @p now: one per @p interval ticks on average, @p burst at
 * once. Spends the credit when it may.
 */
static inline bool dp_tbucket_allow(struct dp_tbucket *b, uint64_t now, uint64_t interval,
				    uint32_t burst)
{
	uint64_t cap = interval * burst;

	if (b->last == 0) {
		b->credit = cap;
	} else if (now > b->last) {
		uint64_t c = b->credit + (now - b->last);
		b->credit = c > cap ? cap : c;
	}
	b->last = now ? now : 1;
	if (b->credit < interval)
		return false;
	b->credit -= interval;
	return true;
}

#endif
