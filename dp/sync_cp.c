/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's control-thread entry points (strait/sync.h): set-up over every worker, the
 * event rings' drain and the received records' push to their owner's ring. Apart from
 * dp/sync.c, which the workers' loop calls, so that the worker table's users (lifecycle.c)
 * are not called back from the loop's side.
 */
#include <errno.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "kernel.h"
#include "lifecycle.h"
#include "sync.h"
#include "sync_priv.h"

static bool sync_enabled;

int dp_sync_init(const uint64_t steer_key[2], uint16_t port)
{
	unsigned int n = dp_n_workers();

	for (unsigned int i = 0; i < n; i++) {
		if (dp_sync_worker_init(dp_workers[i]) < 0) {
			dp_sync_fini();
			return -ENOMEM;
		}
		if (steer_key) {
			dp_workers[i]->rss_int.steer_key[0] = steer_key[0];
			dp_workers[i]->rss_int.steer_key[1] = steer_key[1];
		}
	}
	sync_enabled = n > 0;
	dp_sync_port = port;
	return 0;
}

void dp_sync_fini(void)
{
	for (unsigned int i = 0; i < dp_n_workers(); i++)
		dp_sync_worker_fini(dp_workers[i]);
	sync_enabled = false;
	dp_sync_port = 0;
}

bool dp_sync_enabled(void)
{
	return sync_enabled;
}

unsigned int dp_sync_drain(unsigned int wid, struct sync_rec *out, unsigned int max)
{
	if (wid >= dp_n_workers() || !dp_workers[wid]->sync)
		return 0;
	return rte_ring_sc_dequeue_burst_elem(dp_workers[wid]->sync->ev, out, sizeof(*out), max,
					      NULL);
}

static int push_one(struct dp_worker *w, const struct sync_rec *r, uint64_t counters[SYNC_C_MAX])
{
	if (!w || !w->sync)
		return -ENOBUFS;
	struct sync_rec c = *r;

	if (rte_ring_sp_enqueue_elem(w->sync->in, &c, sizeof(c)) != 0) {
		counters[SYNC_C_PUSH_RING_FULL]++;
		return -ENOBUFS;
	}
	return 0;
}

int dp_sync_push(const struct sync_rec *r, uint64_t counters[SYNC_C_MAX])
{
	unsigned int n = dp_n_workers();
	int rc = 0;

	if (n == 0)
		return -ENOBUFS;
	if (r->type == SYNC_REC_BULK) {
		for (unsigned int i = 0; i < n; i++)
			if (push_one(dp_workers[i], r, counters) < 0)
				rc = -ENOBUFS;
		return rc;
	}
	return push_one(
		dp_workers[n == 1 ? 0 : owner_of_client(dp_workers[0], r->addr[DIR_O2I][0])], r,
		counters);
}
