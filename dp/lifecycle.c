/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's life: dp_init() sets up ports, workers and the rings between them,
 * dp_start() launches the worker loop on every worker lcore, dp_stop() and dp_fini() undo it.
 * Control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "lifecycle.h"
#include "loop.h"
#include "frag.h"
#include "neigh.h"
#include "ports.h"
#include "slowpath.h"

struct dp_worker *dp_workers[CFG_MAX_WORKERS];

static struct {
	unsigned int n_workers;
	struct rte_rcu_qsbr *qsv;
	bool started;
	struct rte_mempool *test_pool;
} dp;

struct rte_mempool *dp_sp_mempool(void)
{
	return dp.test_pool ? dp.test_pool : dp_mempool();
}

void dp_test_attach(unsigned int n, struct rte_mempool *mp)
{
	dp.n_workers = n;
	dp.test_pool = mp;
}

/* What rte_eal_remote_launch() runs on a worker lcore. */
static int worker_main(void *arg)
{
	return dp_worker_loop(arg, dp.qsv);
}

int dp_init(const struct dp_params *p, char *err, size_t errlen)
{
	unsigned int nw = p->n_workers;
	char name[RTE_RING_NAMESIZE];
	int ret;

	memset(&dp, 0, sizeof(dp));
	dp.n_workers = nw;
	neigh_reset();
	frag_reset_secret();
	// rx rings of every queue, tx rings, rings between lcores, and slack for bursts in flight.
	unsigned int n_mbufs =
		nw * DP_PORT_MAX * (DP_RX_DESC + DP_TX_DESC) + nw * nw * DP_RING_SIZE + 8192;
	ret = dp_ports_setup(p->port_id, nw, n_mbufs, err, errlen);
	if (ret < 0)
		return ret;
	size_t qsz = rte_rcu_qsbr_get_memsize(nw);
	dp.qsv = rte_zmalloc("dp_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (!dp.qsv || rte_rcu_qsbr_init(dp.qsv, nw) != 0) {
		snprintf(err, errlen, "cannot create the QSBR variable");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < nw; i++) {
		struct dp_worker *w = dp_worker_new(i, nw, p->worker_lcore[i],
						    p->sessions_per_worker, err, errlen);
		if (!w)
			return -ENOMEM;
		dp_workers[i] = w;
		if (p->cfg->intl.n_snat > 1 && dp_snat_init(w, p->cfg->intl.n_snat) < 0) {
			snprintf(err, errlen,
				 "worker %u: cannot allocate SNAT port bitmaps for %u "
				 "addresses",
				 i, p->cfg->intl.n_snat);
			return -ENOMEM;
		}
		for (unsigned int r = 0; r < DP_PORT_MAX; r++) {
			w->port_id[r] = dp_port_id(r);
			w->mac[r] = *dp_port_mac(r);
		}
		w->rss_int = *dp_ports_rss_int();
	}
	for (unsigned int i = 0; i < nw; i++) {
		for (unsigned int j = 0; j < nw; j++) {
			if (i == j)
				continue;
			snprintf(name, sizeof(name), "ho_%u_%u", i, j);
			struct rte_ring *r = rte_ring_create(name, DP_RING_SIZE, SOCKET_ID_ANY,
							     RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!r) {
				snprintf(err, errlen, "cannot create handoff ring %s", name);
				return -ENOMEM;
			}
			dp_workers[i]->handoff_out[j] = r;
			dp_workers[j]->handoff_in[i] = r;
		}
	}
	return 0;
}

int dp_start(void)
{
	dp_force_quit = false;
	for (unsigned int i = 0; i < dp.n_workers; i++) {
		int ret = rte_eal_remote_launch(worker_main, dp_workers[i], dp_workers[i]->lcore);
		if (ret < 0)
			return ret;
	}
	dp.started = true;
	return 0;
}

void dp_stop(void)
{
	if (!dp.started)
		return;
	dp_force_quit = true;
	for (unsigned int i = 0; i < dp.n_workers; i++)
		rte_eal_wait_lcore(dp_workers[i]->lcore);
	dp.started = false;
}

void dp_fini(void)
{
	dp_stop();
	dp_ports_close();
	for (unsigned int i = 0; i < dp.n_workers; i++) {
		dp_worker_free(dp_workers[i]);
		dp_workers[i] = NULL;
	}
	rte_free(dp.qsv);
	dp.qsv = NULL;
}

bool dp_started(void)
{
	return dp.started;
}

struct rte_rcu_qsbr *dp_qsbr(void)
{
	return dp.started ? dp.qsv : NULL;
}

unsigned int dp_n_workers(void)
{
	return dp.n_workers;
}

unsigned int dp_worker_lcore(unsigned int i)
{
	return i < dp.n_workers ? dp_workers[i]->lcore : 0;
}
