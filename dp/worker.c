/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's allocation: its state on its lcore's socket, its session table, the rings it
 * shares with the control thread, and its share of the SNAT ports. Control thread.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "session.h"
#include "sync.h"
#include "worker.h"

struct dp_worker *dp_worker_new(unsigned int id, unsigned int n_workers, unsigned int lcore,
				uint32_t sessions, char *err, size_t errlen)
{
	uint32_t span = (65536u - DP_SNAT_PORT_MIN) / n_workers;
	int socket = (int)rte_lcore_to_socket_id(lcore);
	char name[RTE_RING_NAMESIZE];
	struct dp_worker *w;
	int ret;

	w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (!w) {
		snprintf(err, errlen, "cannot allocate worker %u", id);
		return NULL;
	}
	w->id = id;
	w->lcore = lcore;
	w->queue = (uint16_t)id;
	w->n_workers = n_workers;
	for (unsigned int p = 0; p < DP_PORT_MAX; p++)
		dp_tx_reset(w, p);
	w->hz = rte_get_tsc_hz();
	dp_clock_sync(w);
	w->snat_lo = (uint16_t)(DP_SNAT_PORT_MIN + id * span);
	w->snat_hi = (uint16_t)(DP_SNAT_PORT_MIN + (id + 1) * span - 1);
	w->snat_next = w->snat_lo;
	if (dp_snat_init(w, 1) < 0) {
		snprintf(err, errlen, "worker %u: cannot allocate the SNAT port bitmaps", id);
		goto fail;
	}
	snprintf(name, sizeof(name), "sess_w%u", id);
	ret = nat_sessions_init(&w->sess, name, sessions, socket);
	if (ret < 0) {
		// About 128 B of record and 2 x ~40 B of hash entry per session.
		snprintf(err, errlen,
			 "worker %u: cannot create a session table of %u (about %u MiB): %s; "
			 "lower sessions.max or give EAL more memory (-m, hugepages)",
			 id, sessions, (unsigned int)((uint64_t)sessions * 224 >> 20) + 1,
			 strerror(-ret));
		goto fail;
	}
	snprintf(name, sizeof(name), "sp_w%u", id);
	w->sp_out = rte_ring_create(name, DP_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "sparp_w%u", id);
	w->sp_arp = rte_ring_create(name, DP_ARP_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "kern_w%u", id);
	w->kern_out =
		rte_ring_create(name, DP_KERNEL_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "ctx_w%u", id);
	w->ctl_tx = rte_ring_create(name, DP_RING_SIZE, socket, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "cmd_w%u", id);
	w->cmd_in = rte_ring_create(name, 64, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!w->sp_out || !w->sp_arp || !w->kern_out || !w->ctl_tx || !w->cmd_in) {
		snprintf(err, errlen, "worker %u: cannot create rings: %s", id,
			 rte_strerror(rte_errno));
		goto fail;
	}
	return w;
fail:
	dp_worker_free(w);
	return NULL;
}

void dp_worker_free(struct dp_worker *w)
{
	if (!w)
		return;
	frag_fini(w);
	dp_sync_worker_fini(w);
	dp_snat_fini(w);
	nat_sessions_fini(&w->sess);
	rte_ring_free(w->sp_out);
	rte_ring_free(w->sp_arp);
	rte_ring_free(w->kern_out);
	rte_ring_free(w->ctl_tx);
	rte_ring_free(w->cmd_in);
	for (unsigned int j = 0; j < CFG_MAX_WORKERS; j++)
		rte_ring_free(w->handoff_out[j]);
	rte_free(w);
}
