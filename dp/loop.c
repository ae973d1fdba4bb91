/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop. One worker per lcore owns rx/tx queue `id` of every port, its session
 * table and its counters; it polls without sleeping, and reports a quiescent state once per
 * iteration, after which it holds no pointer into the tables.
 */
#include <stdbool.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "loop.h"
#include "mbuf_priv.h"
#include "nat.h"
#include "pkt_out.h"
#include "session_clear.h"
#include "session_free.h"
#include "sync.h"

volatile bool dp_force_quit;

static void handoff_poll(struct dp_worker *w, const struct tables *t)
{
	struct rte_mbuf *in[DP_BURST], *by_port[DP_PORT_MAX][DP_BURST];
	uint16_t n_by[DP_PORT_MAX];

	for (unsigned int j = 0; j < w->n_workers; j++) {
		if (!w->handoff_in[j])
			continue;
		unsigned int n =
			rte_ring_sc_dequeue_burst(w->handoff_in[j], (void **)in, DP_BURST, NULL);
		if (n == 0)
			continue;
		w->stats.handoff_in += n;
		n_by[0] = n_by[1] = 0;
		for (unsigned int i = 0; i < n; i++) {
			uint8_t p = dp_priv(in[i])->in_port & 1;
			by_port[p][n_by[p]++] = in[i];
		}
		for (uint8_t p = 0; p < DP_PORT_MAX; p++)
			if (n_by[p])
				nat_process_burst(w, t, p, by_port[p], n_by[p]);
	}
}

int dp_worker_loop(struct dp_worker *w, struct rte_rcu_qsbr *qsv)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int loops = 0;

	rte_rcu_qsbr_thread_register(qsv, w->id);
	rte_rcu_qsbr_thread_online(qsv, w->id);
	while (!dp_force_quit) {
		const struct tables *t = tables_get();
		uint64_t start = rte_rdtsc();
		bool busy = false;

		w->now = start;
		for (uint8_t p = 0; p < DP_PORT_MAX; p++) {
			uint16_t n = rte_eth_rx_burst(w->port_id[p], w->queue, pkts, DP_BURST);
			if (n == 0)
				continue;
			busy = true;
			w->stats.rx_pkts[p] += n;
			w->stats.rx_bytes[p] += dp_pkts_bytes(pkts, n);
			if (likely(t != NULL))
				nat_process_burst(w, t, p, pkts, n);
			else
				for (uint16_t i = 0; i < n; i++)
					dp_drop(w, pkts[i], DP_DROP_NO_MAPPING);
		}
		if (w->n_workers > 1 && t)
			handoff_poll(w, t);

		unsigned int n =
			rte_ring_sc_dequeue_burst(w->ctl_tx, (void **)pkts, DP_BURST, NULL);
		for (unsigned int i = 0; i < n; i++)
			dp_tx_enqueue(w, dp_priv(pkts[i])->out_port & 1, pkts[i]);
		busy |= n > 0;

		// A clear in progress: DP_CLEAR_BUDGET records per iteration, its RSTs go out
		// with this iteration's burst.
		if (unlikely(w->clearing != NULL))
			busy |= nat_clear_step(w, DP_CLEAR_BUDGET) > 0;

		for (uint8_t p = 0; p < DP_PORT_MAX; p++)
			dp_tx_flush(w, p);
		if (dp_sync_on(w))
			dp_sync_flush(w); // this iteration's session events, one enqueue

		if (++loops % DP_HOUSEKEEPING_LOOPS == 0) {
			nat_sessions_expire(w, DP_EXPIRE_BUDGET);
			frag_expire(w);
			nat_clear_take(w);
			if (dp_sync_on(w))
				dp_sync_poll(w, t);
		}
		uint64_t end = rte_rdtsc();
		w->stats.total_tsc += end - start;
		if (busy)
			w->stats.busy_tsc += end - start;
		w->stats.loops++;
		rte_rcu_qsbr_quiescent(qsv, w->id); // t is not used after this
	}
	rte_rcu_qsbr_thread_offline(qsv, w->id);
	rte_rcu_qsbr_thread_unregister(qsv, w->id);
	return 0;
}
