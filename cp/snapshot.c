/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the telemetry thread (rte_telemetry) and the metrics thread (libmicrohttpd) may read.
 *
 * Those threads must not call tables_get(): the tables are freed after an RCU grace period
 * that waits for the workers only, so a pointer held by another thread could be freed under
 * it. Nor should they call ethdev, which the control thread stops at exit. So the control
 * thread keeps this snapshot for them: the mapping list (names, labels, counter slots),
 * rebuilt when the tables generation or the Kubernetes state changes, and the port and
 * worker figures, refreshed once a second. We chose a control-thread snapshot over copying
 * out of the tables under a lock shared with tables_publish(): publishing stays free of
 * locks other threads can hold, and readers pay nothing when nothing changed.
 *
 * One rwlock guards it. Readers hold the read side for the whole of a request, not just to
 * copy: they also read the workers' counters and session records, which dp_fini() frees,
 * and cp_snap_fini() (which runs before dp_fini()) takes the write side and marks the
 * snapshot gone, so no reader can outlive the data plane. Readers only format into memory
 * while they hold it (never write to a socket); the control thread only tries the write side
 * and comes back on its next loop when a reader holds it, so it never waits for one, except
 * once at exit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>

#include <rte_ethdev.h>

#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/tables.h>

#include "cp_priv.h"

#define SNAP_REFRESH_NS 1000000000ull

// Writers first: a stream of scrapes must not starve the control thread.
static pthread_rwlock_t snap_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct cp_snap snap;
static bool snap_live; /* between the first update and cp_snap_fini() */

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

static const char *proto_str(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "icmp";
}

static void snap_mapping_fill(struct cp_snap_mapping *sm, const struct cfg_mapping *m,
			      enum cp_source src)
{
	size_t off = 0;

	snprintf(sm->name, sizeof(sm->name), "%s", m->name);
	snprintf(sm->ns, sizeof(sm->ns), "%s", m->ns);
	sm->slot = (uint16_t)cp_slot_of(m->ns, m->name);
	sm->ordinal = m->ordinal;
	sm->source = (uint8_t)src;
	sm->ports[0] = sm->protocol[0] = '\0';
	// Labels: counters are per mapping, so a mapping with several ports entries carries them
	// all, "9094,30000-30099", and its protocols, "tcp,udp".
	for (unsigned int i = 0; i < m->n_ports && off < sizeof(sm->ports); i++) {
		const struct cfg_map_port *p = &m->ports[i];
		int n = p->end_port != p->port
				? snprintf(sm->ports + off, sizeof(sm->ports) - off, "%s%u-%u",
					   i ? "," : "", p->port, p->end_port)
				: snprintf(sm->ports + off, sizeof(sm->ports) - off, "%s%u",
					   i ? "," : "", p->port);
		off += n > 0 ? (size_t)n : 0;
		if (!strstr(sm->protocol, proto_str(p->proto)))
			snprintf(sm->protocol + strlen(sm->protocol),
				 sizeof(sm->protocol) - strlen(sm->protocol), "%s%s",
				 sm->protocol[0] ? "," : "", proto_str(p->proto));
	}
	if (m->n_ports == 0 && m->start_port)
		snprintf(sm->ports, sizeof(sm->ports), "%u", m->start_port);
}

/* Port and worker figures into @p s; the workers' cycle counters into @p busy / @p total, to
 * become the previous ones once @p s is published. */
static void snap_figures(struct cp_snap *s, uint64_t now, uint64_t *busy, uint64_t *total)
{
	for (int r = 0; r < DP_PORT_MAX; r++) {
		struct cp_snap_port *p = &s->ports[r];
		struct rte_eth_link link;
		const struct cfg_port *cp = r == DP_PORT_EXT ? &cp_config()->ext
							     : &cp_config()->intl;

		snprintf(p->role, sizeof(p->role), "%s", r == DP_PORT_EXT ? "ext" : "int");
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

void cp_snap_update(void)
{
	const char *k8s = cp_k8s_state();
	uint64_t now = now_ns(), busy[CFG_MAX_WORKERS], total[CFG_MAX_WORKERS];
	bool maps = !snap_live || snap.generation != cp_generation() || snap.k8s_state != k8s;
	bool figures = !snap_live || now - ctl.last_ns >= SNAP_REFRESH_NS;
	struct cp_snap_mapping *m = NULL, *old = NULL;
	struct cp_snap fig;
	unsigned int n = 0;

	if (!maps && !figures)
		return;
	if (maps) {
		n = cp_mapping_count();
		m = calloc(n + 1, sizeof(*m));
		if (!m)
			return; // try again on the next loop
		for (unsigned int i = 0; i < n; i++) {
			enum cp_source src;
			snap_mapping_fill(&m[i], cp_mapping_at(i, &src), src);
		}
	}
	// Ethdev and counters are read here, outside the lock; only the copy is inside.
	if (figures) {
		memset(&fig, 0, sizeof(fig));
		snap_figures(&fig, now, busy, total);
	}
	// The control loop must not wait for a reader (a long /strait/sessions walk): when one
	// holds the lock, try again on the next loop. Readers meanwhile see the previous
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

double cp_snap_busy_ratio(unsigned int worker)
{
	// The control thread is the only writer: no lock needed to read.
	return snap_live && worker < snap.n_workers ? snap.busy_ratio[worker] : 0.0;
}

void cp_snap_fini(void)
{
	if (!snap_live)
		return;
	pthread_rwlock_wrlock(&snap_lock);
	__atomic_store_n(&snap_live, false, __ATOMIC_RELEASE);
	free(snap.maps);
	memset(&snap, 0, sizeof(snap));
	pthread_rwlock_unlock(&snap_lock);
	memset(&ctl, 0, sizeof(ctl));
}
