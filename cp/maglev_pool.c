/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Maglev pool: maglev_pool.h. A batch is an array of jobs and a shared index; the caller
 * and every pool thread take the next job until none is left. A round number tells sleeping
 * threads that a new batch is there; the caller returns once every job has run and no thread
 * is still inside the batch, so no thread ever takes a job of the next batch with this one's
 * array.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include <rte_lcore.h>

#include "maglev_pool.h"

#define POOL_MAX 64

static struct {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	pthread_t tid[POOL_MAX];
	unsigned int n_threads;
	bool stop;
	uint64_t round;		 /* batches started */
	struct maglev_job *jobs; /* the batch, NULL between batches */
	unsigned int n_jobs;
	unsigned int next;     /* the next job to take (atomic) */
	unsigned int finished; /* jobs run (under mu) */
	unsigned int inside;   /* pool threads inside the batch (under mu) */
	unsigned int want;     /* pool threads the batch may have (a reload may lower it) */
	unsigned int entered;  /* pool threads that joined the batch (under mu) */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER,
	  .go = PTHREAD_COND_INITIALIZER,
	  .done = PTHREAD_COND_INITIALIZER};

unsigned long maglev_pool_jobs_by_threads;

/* Take and run jobs of @p jobs until none is left. @return how many this thread ran. */
static unsigned int batch_work(struct maglev_job *jobs, unsigned int n)
{
	unsigned int ran = 0, i;

	while ((i = __atomic_fetch_add(&pool.next, 1, __ATOMIC_RELAXED)) < n) {
		struct maglev_job *j = &jobs[i];
		j->ret = maglev_build(j->b, j->n, j->table, j->m);
		ran++;
	}
	return ran;
}

static void *pool_thread(void *arg)
{
	uint64_t seen = 0;

	(void)arg;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		while (!pool.stop && (pool.round == seen || !pool.jobs))
			pthread_cond_wait(&pool.go, &pool.mu);
		if (pool.stop)
			break;
		seen = pool.round;
		if (pool.entered >= pool.want)
			continue; // the batch has the threads it asked for
		pool.entered++;
		struct maglev_job *jobs = pool.jobs;
		unsigned int n = pool.n_jobs, ran;
		pool.inside++;
		pthread_mutex_unlock(&pool.mu);
		ran = batch_work(jobs, n);
		__atomic_fetch_add(&maglev_pool_jobs_by_threads, ran, __ATOMIC_RELAXED);
		pthread_mutex_lock(&pool.mu);
		pool.finished += ran;
		pool.inside--;
		pthread_cond_signal(&pool.done);
	}
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

/* Start pool threads up to @p want (at most POOL_MAX). Fewer on a failure: the caller and
 * those that started do the work. */
static void pool_grow(unsigned int want)
{
	if (want > POOL_MAX)
		want = POOL_MAX;
	while (pool.n_threads < want) {
		char name[RTE_MAX_THREAD_NAME_LEN];
		snprintf(name, sizeof(name), "strait-maglev%u", pool.n_threads);
		if (rte_ctrl_thread_create(&pool.tid[pool.n_threads], name, NULL, pool_thread,
					   NULL) != 0)
			break;
		pool.n_threads++;
	}
}

int maglev_pool_run(struct maglev_job *jobs, unsigned int n, unsigned int threads)
{
	unsigned int ran;

	if (threads && n > 1)
		pool_grow(threads);
	pthread_mutex_lock(&pool.mu);
	pool.jobs = jobs;
	pool.n_jobs = n;
	pool.finished = 0;
	pool.want = n > 1 ? threads : 0;
	pool.entered = 0;
	__atomic_store_n(&pool.next, 0, __ATOMIC_RELAXED);
	pool.round++;
	if (threads && n > 1)
		pthread_cond_broadcast(&pool.go);
	pthread_mutex_unlock(&pool.mu);

	ran = batch_work(jobs, n);

	pthread_mutex_lock(&pool.mu);
	pool.finished += ran;
	while (pool.finished < n || pool.inside > 0)
		pthread_cond_wait(&pool.done, &pool.mu);
	pool.jobs = NULL;
	pool.n_jobs = 0;
	pthread_mutex_unlock(&pool.mu);
	for (unsigned int i = 0; i < n; i++)
		if (jobs[i].ret < 0)
			return jobs[i].ret;
	return 0;
}

void maglev_pool_stop(void)
{
	pthread_mutex_lock(&pool.mu);
	pool.stop = true;
	pthread_cond_broadcast(&pool.go);
	pthread_mutex_unlock(&pool.mu);
	for (unsigned int i = 0; i < pool.n_threads; i++)
		pthread_join(pool.tid[i], NULL);
	pthread_mutex_lock(&pool.mu);
	pool.n_threads = 0;
	pool.stop = false;
	pthread_mutex_unlock(&pool.mu);
}

unsigned int maglev_pool_last_joined(void)
{
	unsigned int n;

	pthread_mutex_lock(&pool.mu);
	n = pool.entered;
	pthread_mutex_unlock(&pool.mu);
	return n;
}

unsigned int maglev_pool_threads(void)
{
	return pool.n_threads;
}
