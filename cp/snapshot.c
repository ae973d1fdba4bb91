/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the telemetry thread (rte_telemetry) and the metrics thread (libmicrohttpd) may read.
 *
 * Those threads must not read the tables, directly (tables_get()) or through a data-plane
 * call that does (dp_sessions_walk(): a session's timeout is in the tables): the tables are
 * freed after an RCU grace period that waits for the workers only, so a pointer held by
 * another thread could be freed under it. Nor should they call ethdev, which the control
 * thread stops at exit, or the desired state (cp_generation(), cp_mapping_at()), which only
 * the control thread may read. So the control thread keeps this snapshot for them: the
 * mapping views (cp/view.h) and the tables generation, rebuilt when the generation or the
 * Kubernetes state changes, and the port and worker figures, refreshed once a second. We
 * chose a control-thread snapshot over copying out of the tables under a lock shared with
 * tables_publish(): publishing stays free of locks other threads can hold, and readers pay
 * nothing when nothing changed.
 *
 * One rwlock guards it. Readers hold the read side for the whole of a request, not just to
 * copy: they also read the workers' counters, which dp_fini() frees, and cp_snap_fini()
 * (which runs before dp_fini()) takes the write side and marks the snapshot gone, so no
 * reader can outlive the data plane. Readers only format into memory while they hold it
 * (never write to a socket); the control thread only tries the write side and comes back on
 * its next loop when a reader holds it, so it never waits for one, except once at exit.
 *
 * Sessions are too many to copy every second: a reader that wants them (/strait/sessions)
 * posts a query and the control thread answers it on its next pass, walking the sessions as
 * views (cp_view_sessions_walk()) into the reader's rows. One query at a time; the control
 * thread only tries the query lock, and a reader gives up after CP_SNAP_QUERY_TIMEOUT_MS.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>

#include <strait/cp.h>
#include <strait/dp.h>

#include "cp_priv.h"

#define SNAP_REFRESH_NS 1000000000ull

// Writers first: a stream of scrapes must not starve the control thread.
static pthread_rwlock_t snap_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct cp_snap snap;
static bool snap_live; /* between the first update and cp_snap_fini() */

/* The pending session query: posted by a reader, answered by the control thread. */
struct snap_query {
	int slot;
	unsigned int limit, shown;
	struct cp_view_session *rows;
	uint64_t total;
	bool done;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	struct snap_query *pending;
	bool posted; /* pending != NULL, read without the lock by the control thread */
	bool closed; /* cp_snap_fini(): no more answers */
	bool init;
} query = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Control thread only: previous worker cycle counters, for the busy ratio of the interval. */
static struct {
	uint64_t busy_tsc[CFG_MAX_WORKERS], total_tsc[CFG_MAX_WORKERS];
	uint64_t last_ns;
	bool init;
} ctl;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cp_snap_now_ns(void)
{
	return now_ns();
}

/* Port and worker figures into @p s; the workers' cycle counters into @p busy / @p total, to
 * become the previous ones once @p s is published. */
static void snap_figures(struct cp_snap *s, uint64_t now, uint64_t *busy, uint64_t *total)
{
	for (int r = 0; r < DP_PORT_MAX; r++) {
		struct cp_snap_port *p = &s->ports[r];
		struct rte_eth_link link;
		const struct cfg_port *cp =
			r == DP_PORT_EXT ? &cp_config()->ext : &cp_config()->intl;

		snprintf(p->role, sizeof(p->role), "%s", cp_view_port_role[r]);
		snprintf(p->device, sizeof(p->device), "%s", cp->device);
		p->port_id = dp_port_id(r);
		memset(&link, 0, sizeof(link));
		memset(&p->stats, 0, sizeof(p->stats));
		p->valid = rte_eth_stats_get(p->port_id, &p->stats) == 0;
		rte_eth_link_get_nowait(p->port_id, &link);
		p->link_up = link.link_status == RTE_ETH_LINK_UP;
		p->speed_mbps = link.link_speed;
	}
	s->n_workers = dp_n_workers();
	for (unsigned int i = 0; i < s->n_workers && i < CFG_MAX_WORKERS; i++) {
		const struct dp_stats *w = dp_worker_stats(i);
		uint64_t db, dt;

		busy[i] = w->busy_tsc;
		total[i] = w->total_tsc;
		db = busy[i] - ctl.busy_tsc[i];
		dt = total[i] - ctl.total_tsc[i];
		s->lcore[i] = dp_worker_lcore(i);
		s->busy_ratio[i] = ctl.init && dt ? (double)db / (double)dt : 0.0;
	}
	s->refreshed_ns = now;
}

static int query_row(const struct cp_view_session *v, void *arg)
{
	struct snap_query *q = arg;

	q->total++;
	if (q->shown < q->limit)
		q->rows[q->shown++] = *v;
	return 0; // keep walking: the total is worth knowing
}

/* Answer the pending session query, if any. Control thread. */
static void query_answer(void)
{
	struct snap_query *q;

	if (!__atomic_load_n(&query.posted, __ATOMIC_ACQUIRE) ||
	    pthread_mutex_trylock(&query.lock) != 0)
		return;
	q = query.pending;
	if (q) {
		// The walk reads the tables: here, on the control thread, they cannot be freed.
		cp_view_sessions_walk(q->slot, snap.maps, snap.n_mappings, query_row, q);
		q->done = true;
		query.pending = NULL;
		__atomic_store_n(&query.posted, false, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&query.cond);
	}
	pthread_mutex_unlock(&query.lock);
}

static void query_init(void)
{
	pthread_condattr_t a;

	if (query.init)
		return;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&query.cond, &a);
	pthread_condattr_destroy(&a);
	query.init = true;
}

int cp_snap_sessions(int slot, unsigned int limit, struct cp_view_session *rows,
		     unsigned int *shown, uint64_t *total)
{
	struct snap_query q = {.slot = slot, .limit = limit, .rows = rows};
	uint64_t deadline = now_ns() + CP_SNAP_QUERY_TIMEOUT_MS * 1000000ull;
	struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ull),
			      .tv_nsec = (long)(deadline % 1000000000ull)};
	bool closed;
	int ret = 0;

	*shown = 0;
	*total = 0;
	if (!__atomic_load_n(&snap_live, __ATOMIC_ACQUIRE))
		return -ENODEV;
	pthread_mutex_lock(&query.lock);
	// One query at a time: wait for the slot, then for the answer.
	while (!query.closed && query.pending && ret == 0)
		ret = pthread_cond_timedwait(&query.cond, &query.lock, &ts);
	if (query.closed || ret != 0) {
		closed = query.closed;
		pthread_mutex_unlock(&query.lock);
		return closed ? -ENODEV : -ETIMEDOUT;
	}
	query.pending = &q;
	__atomic_store_n(&query.posted, true, __ATOMIC_RELEASE);
	while (!query.closed && !q.done && ret == 0)
		ret = pthread_cond_timedwait(&query.cond, &query.lock, &ts);
	if (!q.done) {
		// Withdrawn under the lock: the control thread answers only under it.
		query.pending = NULL;
		__atomic_store_n(&query.posted, false, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&query.cond);
	}
	closed = query.closed;
	pthread_mutex_unlock(&query.lock);
	// q is ours again: the control thread has answered it or it was withdrawn, both under
	// the lock.
	if (!q.done)
		return closed ? -ENODEV : -ETIMEDOUT;
	*shown = q.shown;
	*total = q.total;
	return 0;
}

const struct cp_view_mapping *cp_snap_mapping_find(const struct cp_snap *s, const char *arg)
{
	const struct cp_view_mapping *found = NULL;
	const char *slash = strchr(arg, '/');
	int count = 0;

	for (unsigned int i = 0; i < s->n_mappings; i++) {
		const struct cp_view_mapping *m = &s->maps[i];
		bool match = slash ? strlen(m->ns) == (size_t)(slash - arg) &&
					     strncmp(m->ns, arg, (size_t)(slash - arg)) == 0 &&
					     strcmp(m->name, slash + 1) == 0
				   : strcmp(m->name, arg) == 0;
		if (match) {
			found = m;
			count++;
		}
	}
	return count == 1 ? found : NULL;
}

void cp_snap_update(void)
{
	const char *k8s = cp_k8s_state();
	uint64_t now = now_ns(), busy[CFG_MAX_WORKERS], total[CFG_MAX_WORKERS];
	bool maps = !snap_live || snap.generation != cp_generation() || snap.k8s_state != k8s;
	bool figures = !snap_live || now - ctl.last_ns >= SNAP_REFRESH_NS;
	struct cp_view_mapping *m = NULL, *old = NULL;
	struct cp_snap fig;
	unsigned int n = 0;

	query_init();
	if (!maps && !figures) {
		query_answer();
		return;
	}
	if (maps) {
		m = cp_view_mappings(&n);
		if (!m)
			return; // try again on the next loop
	}
	// Ethdev and counters are read here, outside the lock; only the copy is inside.
	if (figures) {
		memset(&fig, 0, sizeof(fig));
		snap_figures(&fig, now, busy, total);
	}
	// The control loop must not wait for a reader (a scrape formatting a large page): when
	// one holds the lock, try again on the next loop. Readers meanwhile see the previous
	// snapshot, which stays valid until it is replaced here.
	if (snap_live ? pthread_rwlock_trywrlock(&snap_lock) != 0
		      : pthread_rwlock_wrlock(&snap_lock) != 0) {
		free(m);
		return;
	}
	if (maps) {
		old = snap.maps;
		snap.maps = m;
		snap.n_mappings = n;
		snap.generation = cp_generation();
		snap.k8s_state = k8s;
		snap.k8s_enabled = cp_config()->k8s.enabled;
	}
	if (figures) {
		memcpy(snap.ports, fig.ports, sizeof(snap.ports));
		snap.n_workers = fig.n_workers;
		memcpy(snap.lcore, fig.lcore, sizeof(snap.lcore));
		memcpy(snap.busy_ratio, fig.busy_ratio, sizeof(snap.busy_ratio));
		snap.refreshed_ns = fig.refreshed_ns;
	}
	__atomic_store_n(&snap_live, true, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&snap_lock);
	free(old);
	if (figures) {
		memcpy(ctl.busy_tsc, busy, fig.n_workers * sizeof(busy[0]));
		memcpy(ctl.total_tsc, total, fig.n_workers * sizeof(total[0]));
		ctl.last_ns = now;
		ctl.init = true;
	}
	query_answer();
}

const struct cp_snap *cp_snap_get(void)
{
	// snap_live is set once before any reader can exist (telemetry answers only after
	// rte_eal_init(), metrics start after the first update) and cleared under the lock.
	if (!__atomic_load_n(&snap_live, __ATOMIC_ACQUIRE))
		return NULL;
	pthread_rwlock_rdlock(&snap_lock);
	if (!snap_live) {
		pthread_rwlock_unlock(&snap_lock);
		return NULL;
	}
	return &snap;
}

void cp_snap_put(void)
{
	pthread_rwlock_unlock(&snap_lock);
}

void cp_snap_fini(void)
{
	pthread_mutex_lock(&query.lock);
	query.closed = true;
	if (query.init)
		pthread_cond_broadcast(&query.cond);
	pthread_mutex_unlock(&query.lock);
	if (!snap_live)
		return;
	pthread_rwlock_wrlock(&snap_lock);
	__atomic_store_n(&snap_live, false, __ATOMIC_RELEASE);
	free(snap.maps);
	memset(&snap, 0, sizeof(snap));
	pthread_rwlock_unlock(&snap_lock);
	memset(&ctl, 0, sizeof(ctl));
}

static int snap_module_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	RTE_SET_USED(ctx);
	RTE_SET_USED(err);
	RTE_SET_USED(errlen);
	pthread_mutex_lock(&query.lock);
	query.closed = false;
	pthread_mutex_unlock(&query.lock);
	// The first update before any reader: telemetry and metrics read it from their threads.
	cp_snap_update();
	return 0;
}

static void snap_module_poll(int wait_ms)
{
	RTE_SET_USED(wait_ms);
	cp_snap_update();
}

static struct cp_module snap_module = {
	.name = "snapshot",
	.order = CP_MOD_SNAPSHOT,
	.init = snap_module_init,
	.poll = snap_module_poll,
	.fini = cp_snap_fini,
};
CP_MODULE_REGISTER(snap_module)
