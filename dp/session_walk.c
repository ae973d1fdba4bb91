/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions as the control thread sees them: a walk over every worker's records, read while
 * the workers run, and clears, which each worker does to its own table on command, in
 * bounded steps (session_clear.c), while the control thread polls for them (tickets).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include <strait/log.h>

#include "lifecycle.h"
#include "session.h"
#include "session_clear.h"
#include "worker.h"

unsigned int dp_sessions_walk(int slot, int (*cb)(const struct dp_session_info *s, void *arg),
			      void *arg)
{
	const struct tables *t = tables_get(); // the control thread publishes: it stays valid
	unsigned int n = 0;

	if (!t)
		return 0;
	for (unsigned int i = 0; i < dp_n_workers(); i++) {
		const struct dp_worker *w = dp_workers[i];
		uint32_t hwm = w->sess.hwm;
		uint32_t now = (uint32_t)(rte_get_tsc_cycles() >> w->tick_shift);
		uint64_t per_s = RTE_MAX(dp_ticks_of_s(w, 1), (uint64_t)1);
		for (uint32_t j = 0; j < hwm; j++) {
			struct nat_session se = w->sess.recs[j];
			struct dp_session_info si;
			if (se.proto == 0 || (slot >= 0 && se.slot != slot))
				continue;
			si.worker = i;
			si.slot = se.slot;
			si.proto = se.proto;
			si.state = nat_session_state_name(se.state);
			si.client_addr = rte_be_to_cpu_32(se.addr[DIR_O2I][0]);
			si.client_port = rte_be_to_cpu_16(se.port[DIR_O2I][0]);
			si.ext_addr = rte_be_to_cpu_32(se.addr[DIR_O2I][1]);
			si.ext_port = rte_be_to_cpu_16(se.port[DIR_O2I][1]);
			si.snat_addr = rte_be_to_cpu_32(se.addr[DIR_I2O][1]);
			si.snat_port = rte_be_to_cpu_16(se.port[DIR_I2O][1]);
			si.backend_addr = rte_be_to_cpu_32(se.addr[DIR_I2O][0]);
			si.backend_port = rte_be_to_cpu_16(se.port[DIR_I2O][0]);
			si.pkts[0] = se.pkts[DIR_O2I];
			si.pkts[1] = se.pkts[DIR_I2O];
			si.bytes[0] = se.bytes[DIR_O2I];
			si.bytes[1] = se.bytes[DIR_I2O];
			// The worker may have stamped the record after we read the clock.
			uint32_t ticks = (int32_t)(now - se.last_seen) > 0 ? now - se.last_seen : 0;
			uint32_t idle = (uint32_t)(ticks / per_s);
			uint32_t to = nat_session_timeout_s(&se, t);
			si.idle_s = idle;
			si.expires_in_s = idle >= to ? 0 : to - idle;
			n++;
			if (cb(&si, arg))
				return n;
		}
	}
	return n;
}

/*
 * Clears the control thread has started and not yet collected, oldest first. A ticket's
 * commands go to each worker's ring in ticket order; one that finds the ring full waits here
 * (and every later ticket's command to that worker after it) for the next poll. A command a
 * worker has taken is the worker's until it sets done; then it is freed here. Control thread
 * only.
 */
struct ticket {
	uint64_t seq;
	struct dp_cmd *cmd[CFG_MAX_WORKERS]; /**< NULL once collected */
	bool sent[CFG_MAX_WORKERS];
	uint64_t removed;
};

static struct {
	struct ticket *q; /**< pending tickets, oldest first */
	unsigned int n, cap;
	uint64_t next;		/**< last ticket given */
	uint64_t done_upto;	/**< every ticket <= it is done */
	uint64_t last_removed;	/**< of ticket done_upto, for dp_sessions_clear_done() */
	uint64_t removed_of[8]; /**< removed counts of the last 8 tickets done, by seq % 8 */
} clr;

static bool ticket_done(const struct ticket *t)
{
	for (unsigned int i = 0; i < CFG_MAX_WORKERS; i++)
		if (t->cmd[i])
			return false;
	return true;
}

uint64_t dp_sessions_clear_poll(void)
{
	unsigned int n = dp_n_workers();
	bool blocked[CFG_MAX_WORKERS] = {false};

	for (unsigned int k = 0; k < clr.n; k++) {
		struct ticket *t = &clr.q[k];
		for (unsigned int i = 0; i < n; i++) {
			struct dp_cmd *c = t->cmd[i];
			if (!c)
				continue;
			if (!t->sent[i] && !blocked[i]) {
				if (!dp_started()) {
					nat_clear_run(dp_workers[i], c);
					t->sent[i] = true;
				} else if (rte_ring_sp_enqueue(dp_workers[i]->cmd_in, c) == 0) {
					t->sent[i] = true;
				}
			}
			if (!t->sent[i]) {
				blocked[i] = true; // keep this worker's commands in order
				continue;
			}
			if (__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
				t->removed += c->result;
				free(c);
				t->cmd[i] = NULL;
			}
		}
	}
	// Tickets finish in order on each worker, so the done ones are a prefix.
	unsigned int d = 0;
	while (d < clr.n && ticket_done(&clr.q[d])) {
		clr.done_upto = clr.q[d].seq;
		clr.removed_of[clr.q[d].seq % RTE_DIM(clr.removed_of)] = clr.q[d].removed;
		d++;
	}
	if (d) {
		memmove(clr.q, clr.q + d, (clr.n - d) * sizeof(*clr.q));
		clr.n -= d;
	}
	return clr.done_upto;
}

uint64_t dp_sessions_clear_start(const struct dp_clear_req *r)
{
	unsigned int n = dp_n_workers();

	if (clr.n == clr.cap) {
		unsigned int cap = clr.cap ? 2 * clr.cap : 16;
		struct ticket *q = realloc(clr.q, cap * sizeof(*q));
		if (!q)
			return 0;
		clr.q = q;
		clr.cap = cap;
	}
	struct ticket *t = &clr.q[clr.n];
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < n; i++) {
		// On the heap: the worker holds it until it sets done.
		struct dp_cmd *c = calloc(1, sizeof(*c));
		if (!c) {
			for (unsigned int j = 0; j < i; j++)
				free(t->cmd[j]);
			return 0;
		}
		c->type = DP_CMD_CLEAR;
		c->req = *r;
		c->backend_be = rte_cpu_to_be_32(r->backend_addr);
		if (!dp_started())
			c->req.rst = false; // no worker to send it
		t->cmd[i] = c;
	}
	t->seq = ++clr.next;
	clr.n++;
	dp_sessions_clear_poll();
	return t->seq;
}

bool dp_sessions_clear_done(uint64_t ticket, uint64_t *removed)
{
	dp_sessions_clear_poll();
	if (ticket == 0 || ticket > clr.done_upto)
		return false;
	if (removed)
		*removed = clr.done_upto - ticket < RTE_DIM(clr.removed_of)
				   ? clr.removed_of[ticket % RTE_DIM(clr.removed_of)]
				   : 0;
	return true;
}

unsigned int dp_sessions_clear(int slot, uint32_t backend_addr)
{
	struct dp_clear_req r = {.slot = slot, .backend_addr = backend_addr};
	uint64_t t = dp_sessions_clear_start(&r), removed = 0;

	if (!t)
		return 0;
	// A worker examines DP_CLEAR_BUDGET records per loop iteration: a million-session
	// table takes about a thousand iterations, milliseconds.
	for (int spin = 0; spin < 200000 && !dp_sessions_clear_done(t, &removed); spin++)
		usleep(10);
	if (!dp_sessions_clear_done(t, &removed))
		DP_LOG(ERR, "sessions not cleared within 2 s: they will be, later");
	return (unsigned int)removed;
}
