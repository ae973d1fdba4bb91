/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions as the control thread sees them: a walk over every worker's records, read while
 * the workers run, and clearing, which each worker does to its own table on command.
 */
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include <strait/log.h>

#include "lifecycle.h"
#include "session.h"
#include "session_free.h"
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
 * Commands a worker did not answer in time: it may still write them, so they are kept, not
 * freed, until that worker is seen done with them at a later clear (control thread only).
 */
static struct dp_cmd *late[CFG_MAX_WORKERS];

unsigned int dp_sessions_clear(int slot, uint32_t backend_addr)
{
	struct dp_cmd *cmds[CFG_MAX_WORKERS] = {NULL};
	unsigned int total = 0, n = dp_n_workers();

	for (unsigned int i = 0; i < n; i++) {
		if (late[i] && __atomic_load_n(&late[i]->done, __ATOMIC_ACQUIRE)) {
			free(late[i]);
			late[i] = NULL;
		}
		if (late[i]) { // one command at a time per worker
			DP_LOG(ERR, "worker %u has not answered its last clear: skipped", i);
			continue;
		}
		// On the heap: a worker that misses the deadline below may still write it later.
		struct dp_cmd *c = calloc(1, sizeof(*c));
		if (!c)
			continue;
		*c = (struct dp_cmd){.type = DP_CMD_CLEAR,
				     .slot = slot,
				     .backend_addr = rte_cpu_to_be_32(backend_addr)};
		cmds[i] = c;
		if (!dp_started()) {
			c->result = nat_sessions_clear(dp_workers[i], slot, c->backend_addr);
			c->done = 1;
		} else if (rte_ring_sp_enqueue(dp_workers[i]->cmd_in, c) != 0) {
			c->done = 1;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!cmds[i])
			continue;
		// A worker takes commands every DP_HOUSEKEEPING_LOOPS iterations: microseconds.
		for (int spin = 0;
		     spin < 200000 && !__atomic_load_n(&cmds[i]->done, __ATOMIC_ACQUIRE); spin++)
			usleep(10);
		if (!__atomic_load_n(&cmds[i]->done, __ATOMIC_ACQUIRE)) {
			DP_LOG(ERR, "worker %u did not clear sessions within 2 s", i);
			late[i] = cmds[i]; // the worker may still write it
			continue;
		}
		total += cmds[i]->result;
		free(cmds[i]);
	}
	return total;
}
