/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Maglev tables computed in parallel (config `maglevThreads`): a publication that changes
 * many services' backend lists (a burst of endpoint changes at 10,000 mappings) spends most
 * of its time in maglev_build(), one table per changed service (docs/benchmarks.md, "Control
 * plane at scale"). tables_build_from() queues those tables as jobs and runs them here, on
 * the calling thread and up to `maglevThreads` DPDK control threads (rte_ctrl_thread_create():
 * the cores of the process's affinity that are not lcores, so never a worker's). Each table
 * is the one maglev_build() computes alone: the result does not depend on the thread count.
 * Control thread only.
 */
#ifndef STRAIT_CP_MAGLEV_POOL_H
#define STRAIT_CP_MAGLEV_POOL_H

#include <stdint.h>

#include <strait/maglev.h>

/** One table to compute: maglev_build(b, n, table, m), its return in ret. */
struct maglev_job {
	struct maglev_backend *b; /**< n backends, the job's (freed by the caller) */
	unsigned int n;
	uint16_t *table; /**< m entries */
	uint32_t m;
	int ret; /**< maglev_build()'s return once run */
};

/**
 * Run @p n jobs on the calling thread and up to @p threads pool threads (started at the first
 * call that asks for them and kept until maglev_pool_stop(); at most @p threads of them join
 * a batch, so a reload that lowers `maglevThreads` takes effect at once; 0 = the calling
 * thread alone). Returns when every job has run. @return 0, or the first job's negative errno
 * in job order (the others have run all the same). Control thread only: one batch at a time.
 */
int maglev_pool_run(struct maglev_job *jobs, unsigned int n, unsigned int threads);

/** Stop and join the pool's threads (at exit; a later maglev_pool_run() starts them again). */
void maglev_pool_stop(void);

/** Pool threads running now, and jobs each pool thread (not the caller) ran, summed. */
unsigned int maglev_pool_threads(void);
/** Pool threads that joined the last batch (at most its @p threads). */
unsigned int maglev_pool_last_joined(void);
extern unsigned long maglev_pool_jobs_by_threads;

#endif
