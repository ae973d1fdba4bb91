/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync, the workers' half: sync.h. Also the control thread's entry points of
 * strait/sync.h (dp_sync_init(), dp_sync_drain(), dp_sync_push()).
 *
 * Which worker owns a received session: the one the fast path would hand its packets to
 * (nat.c, nat_owner()): out2in by the steering hash of the client address, in2out of a
 * full-NAT session by the SNAT port's partition. On the sender both are the same worker (the
 * session's); on the receiver they are too when both gateways run the same worker count and
 * the same steering secret (ha.sync.key), which a record that would split is refused for
 * (install_wrong_worker).
 */
#include <errno.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <strait/cksum.h>

#include "kernel.h"
#include "lifecycle.h"
#include "neigh.h"
#include "session_free.h"
#include "session_inlines.h"
#include "snat.h"
#include "sync.h"
#include "sync_priv.h"

static_assert(sizeof(struct sync_rec) == SYNC_REC_LEN, "a record is 40 bytes in memory too");

int dp_sync_worker_init(struct dp_worker *w)
{
	int socket = (int)rte_lcore_to_socket_id(w->lcore);
	char name[RTE_RING_NAMESIZE];
	struct dp_sync_w *s;

	dp_sync_worker_fini(w);
	s = rte_zmalloc_socket("dp_sync", sizeof(*s), RTE_CACHE_LINE_SIZE, socket);
	if (!s)
		return -ENOMEM;
	snprintf(name, sizeof(name), "syncev_w%u", w->id);
	s->ev = rte_ring_create_elem(name, sizeof(struct sync_rec), DP_SYNC_EV_RING, socket,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "syncin_w%u", w->id);
	s->in = rte_ring_create_elem(name, sizeof(struct sync_rec), DP_SYNC_IN_RING, socket,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	s->mark = rte_zmalloc_socket("dp_sync_mark", (size_t)w->sess.max * sizeof(*s->mark),
				     RTE_CACHE_LINE_SIZE, socket);
	w->sync = s;
	if (!s->ev || !s->in || !s->mark) {
		dp_sync_worker_fini(w);
		return -ENOMEM;
	}
	return 0;
}

void dp_sync_worker_fini(struct dp_worker *w)
{
	struct dp_sync_w *s = w ? w->sync : NULL;

	if (!s)
		return;
	rte_ring_free(s->ev);
	rte_ring_free(s->in);
	rte_free(s->mark);
	rte_free(s);
	w->sync = NULL;
}

static bool same_i2o(const struct nat_session *se, const struct sync_rec *r)
{
	return memcmp(se->addr[DIR_I2O], r->addr[DIR_I2O], sizeof(r->addr[DIR_I2O])) == 0 &&
	       memcmp(se->port[DIR_I2O], r->port[DIR_I2O], sizeof(r->port[DIR_I2O])) == 0;
}

static void key_of(const struct sync_rec *r, int dir, struct nat_key *k)
{
	*k = (struct nat_key){.src = r->addr[dir][0],
			      .dst = r->addr[dir][1],
			      .sport = r->port[dir][0],
			      .dport = r->port[dir][1],
			      .proto = r->proto,
			      .family = 4};
}

static inline rte_be32_t route_nh(const struct tbl_route *r, rte_be32_t dst)
{
	return r->via ? rte_cpu_to_be_32(r->via) : dst;
}

/* The state a record brings to a session held here. */
static void refresh(struct dp_worker *w, uint32_t idx, const struct sync_rec *r)
{
	struct nat_session *se = &w->sess.recs[idx];
	struct nat_tcp_td *td = &w->sess.td[idx];

	se->state = r->state;
	se->flags = r->flags & 0x7;
	se->last_seen = dp_ticks(w) - ms_to_ticks(w, r->idle_ms);
	if (r->proto == IPPROTO_TCP) {
		// Liberal windows, as a pickup's (nat_session_pickup()): the peer's sequence ends
		// are as old as its last event, so any window the flow may use must be inside.
		td->end[0] = r->td_end[0];
		td->end[1] = r->td_end[1];
		td->maxwin[0] = td->maxwin[1] = UINT16_MAX;
		td->wscale[0] = td->wscale[1] = NAT_TCP_PICKUP_WSCALE;
	}
	w->sync->mark[idx].sent_at = dp_ticks(w);
	w->sync->mark[idx].state = r->state;
	w->sync->mark[idx].synced = 1;
}

static bool is_snat_addr(const struct tables *t, rte_be32_t a)
{
	for (uint32_t i = 0; i < t->n_snat; i++)
		if (t->snat_addrs[i] == a)
			return true;
	return false;
}

/* Remove backup @p idx without telling the peers (it is theirs). */
static void free_backup(struct dp_worker *w, uint32_t idx)
{
	w->sync->quiet = true;
	nat_session_free(w, idx);
	w->sync->quiet = false;
}

static enum sync_counter install(struct dp_worker *w, const struct tables *t,
				 const struct sync_rec *r)
{
	struct nat_sessions *s = &w->sess;
	const struct tbl_service *svc;
	const struct tbl_mapping *mp;
	const struct tbl_route *r_be, *r_cl;
	struct nat_key k_o2i, k_i2o;
	struct nat_hash h_o2i, h_i2o;
	struct nat_session *se;
	const bool hairpin = r->flags & SYNC_F_HAIRPIN;
	// Full NAT (or hairpin): the in2out destination is a SNAT address, not the client.
	const bool snat = r->addr[DIR_I2O][1] != r->addr[DIR_O2I][0] ||
			  r->port[DIR_I2O][1] != r->port[DIR_O2I][0];
	uint32_t idx, a, ref;
	int adj_o2i, adj_i2o;

	key_of(r, DIR_O2I, &k_o2i);
	key_of(r, DIR_I2O, &k_i2o);
	h_i2o = nat_key_hash(s, &k_i2o);
	ref = nat_sessions_lookup_h(s, &k_i2o, h_i2o);
	if (ref != NAT_REF_NONE) {
		// A backup on the same SNAT key is stale: the peer that sent this record uses the
		// key for this flow now (it restarted, and the flow it had there ended unseen).
		// A session of ours keeps it.
		if (!is_backup(w, ref >> 1))
			return SYNC_C_FAIL_CONFLICT;
		free_backup(w, ref >> 1);
		w->stats.sync[SYNC_C_REPLACED]++;
	}
	svc = tables_svc_lookup(t, r->addr[DIR_O2I][1], r->port[DIR_O2I][1], r->proto);
	if (!svc)
		return SYNC_C_FAIL_NO_MAPPING;
	mp = &t->mappings[svc->mapping];
	if (w->n_workers > 1 && (owner_of_client(w, r->addr[DIR_O2I][0]) != w->id ||
				 (snat && owner_of_snat_port(w, r->port[DIR_I2O][1]) != w->id)))
		return SYNC_C_FAIL_WRONG_WORKER;
	if (s->free_head == NAT_REC_NONE && s->hwm == s->max)
		return SYNC_C_FAIL_TABLE_FULL;
	r_be = tables_route(t, rte_be_to_cpu_32(r->addr[DIR_I2O][0]));
	r_cl = tables_route(t, rte_be_to_cpu_32(r->addr[DIR_O2I][0]));
	if (!r_be || !r_cl)
		return SYNC_C_FAIL_NO_ROUTE;
	adj_o2i = dp_adj_get(w, route_nh(r_be, r->addr[DIR_I2O][0]), r_be->port);
	adj_i2o = adj_o2i < 0 ? -1 : dp_adj_get(w, route_nh(r_cl, r->addr[DIR_O2I][0]), r_cl->port);
	if (adj_i2o < 0) {
		if (adj_o2i >= 0)
			dp_adj_put(w, (uint16_t)adj_o2i);
		return SYNC_C_FAIL_NO_ROUTE;
	}
	idx = nat_session_alloc(s);
	se = &s->recs[idx];
	memcpy(se->addr, r->addr, sizeof(se->addr));
	memcpy(se->port, r->port, sizeof(se->port));
	// out2in deltas, as nat_session_create() computes them.
	a = cksum_delta32(0, k_o2i.src, k_i2o.dst);
	a = cksum_delta32(a, k_o2i.dst, k_i2o.src);
	se->l3_delta = nat_l3_delta(cksum_fold(a));
	a = cksum_delta16(a, k_o2i.sport, k_i2o.dport);
	a = cksum_delta16(a, k_o2i.dport, k_i2o.sport);
	se->l4_delta = cksum_fold(a);
	se->adj[DIR_O2I] = (uint16_t)adj_o2i;
	se->adj[DIR_I2O] = (uint16_t)adj_i2o;
	se->slot = mp->slot;
	se->hairpin = hairpin;
	se->pkts[0] = se->pkts[1] = 0;
	se->bytes[0] = se->bytes[1] = 0;
	s->td[idx] = (struct nat_tcp_td){0};
	s->td[idx].mss_clamp = t->slot_mss_clamp ? t->slot_mss_clamp[mp->slot] : 0;
	refresh(w, idx, r);
	se->proto = r->proto;
	h_o2i = nat_key_hash(s, &k_o2i);
	if (nat_sessions_add_h(s, h_o2i.bkt, h_o2i.sig, idx << 1 | DIR_O2I) < 0)
		goto full;
	if (nat_sessions_add_h(s, h_i2o.bkt, h_i2o.sig, idx << 1 | DIR_I2O) < 0) {
		nat_sessions_del(s, &k_o2i, idx << 1 | DIR_O2I);
		goto full;
	}
	if (snat) {
		// The SNAT port is this session's: a local new session must not take it. An
		// address that is no row of the bitmaps now (a VRRP VIP the standby does not
		// hold yet) makes every take check the table too (snat.c, `fallbacks`).
		if (is_snat_addr(t, k_i2o.dst))
			dp_snat_hold(w, t, &k_i2o);
		else
			w->snat.fallbacks++;
	}
	nat_sessions_track(s, idx, mp->limits.sessions_per_source != 0);
	s->active++;
	w->stats.sessions_created++;
	w->stats.map[mp->slot].sessions_created++;
	return SYNC_C_INSTALLED;
full:
	dp_adj_put(w, (uint16_t)adj_o2i);
	dp_adj_put(w, (uint16_t)adj_i2o);
	se->proto = 0;
	w->sync->mark[idx].synced = 0;
	nat_session_release(s, idx);
	return SYNC_C_FAIL_TABLE_FULL;
}

enum sync_counter dp_sync_apply(struct dp_worker *w, const struct tables *t,
				const struct sync_rec *r)
{
	struct nat_key k;
	uint32_t ref, idx;

	key_of(r, DIR_O2I, &k);
	ref = nat_sessions_lookup(&w->sess, &k);
	if (ref == NAT_REF_NONE) {
		if (r->type == SYNC_REC_DELETE)
			return SYNC_C_DELETED;
		return install(w, t, r);
	}
	idx = ref >> 1;
	if ((ref & 1) != DIR_O2I || !is_backup(w, idx))
		return SYNC_C_FAIL_CONFLICT;
	if (!same_i2o(&w->sess.recs[idx], r)) {
		// The same client flow on another SNAT key or backend: the backup is stale, the
		// newer record wins (a delete names a session we do not hold).
		if (r->type == SYNC_REC_DELETE)
			return SYNC_C_FAIL_CONFLICT;
		free_backup(w, idx);
		w->stats.sync[SYNC_C_REPLACED]++;
		return install(w, t, r);
	}
	if (r->type == SYNC_REC_DELETE) {
		free_backup(w, idx);
		return SYNC_C_DELETED;
	}
	refresh(w, idx, r);
	return SYNC_C_UPDATED;
}

void dp_sync_poll(struct dp_worker *w, const struct tables *t)
{
	struct dp_sync_w *s = w->sync;
	struct sync_rec in[DP_SYNC_POLL_RECS];
	unsigned int n;

	if (!s)
		return;
	n = rte_ring_sc_dequeue_burst_elem(s->in, in, sizeof(in[0]), RTE_DIM(in), NULL);
	for (unsigned int i = 0; i < n; i++) {
		if (in[i].type == SYNC_REC_BULK) {
			s->bulk = true;
			s->bulk_cursor = 0;
			continue;
		}
		if (t)
			w->stats.sync[dp_sync_apply(w, t, &in[i])]++;
	}
	dp_sync_flush(w);
	// A bulk dump: every session of ours, a bounded number of records a pass; a full ring
	// stops it where it is until the next pass (nothing of a dump is lost).
	for (unsigned int b = 0; s->bulk && b < DP_SYNC_BULK_RECS; b++) {
		uint32_t i = s->bulk_cursor;
		if (i >= w->sess.hwm) {
			s->bulk = false;
			break;
		}
		if (w->sess.recs[i].proto != 0 && !is_backup(w, i)) {
			struct sync_rec r;
			dp_sync_rec_of(w, i, SYNC_REC_UPSERT, &r);
			if (rte_ring_sp_enqueue_elem(s->ev, &r, sizeof(r)) != 0)
				break;
			w->stats.sync[SYNC_C_EVENTS]++;
			s->mark[i].sent_at = dp_ticks(w);
			s->mark[i].state = w->sess.recs[i].state;
		}
		s->bulk_cursor = i + 1;
	}
}

/* ---- control thread (strait/sync.h) ------------------------------------------------------ */

uint16_t dp_sync_port;

static const char *const counter_names[] = {
#define X(e, s, h) s,
	SYNC_COUNTERS(X)
#undef X
};
static const char *const counter_helps[] = {
#define X(e, s, h) h,
	SYNC_COUNTERS(X)
#undef X
};

const char *sync_counter_name(enum sync_counter c)
{
	return (unsigned int)c < SYNC_C_MAX ? counter_names[c] : "?";
}

const char *sync_counter_help(enum sync_counter c)
{
	return (unsigned int)c < SYNC_C_MAX ? counter_helps[c] : "";
}
