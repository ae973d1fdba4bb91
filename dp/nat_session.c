/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A new session, on the worker lcore that owns it (nat_session_create(), called by nat.c's
 * burst for a first packet on ext, or on int to a mapping's address: hairpin, full NAT): the allow-list, the mapping's flood limits (struct
 * cfg_limits: sessions per source, new sessions a second, sessions), room in the table, the
 * backend (Maglev with the mapping's seed), the SNAT port, the adjacencies, the record.
 *
 * Under pressure (the table, the mapping's share or every SNAT port towards the backend:port
 * taken) the new session evicts the oldest unestablished TCP session (session.h: Linux
 * conntrack's early_drop, VPP NAT44-ED), never an established one or a UDP one; with nothing
 * to evict it is a counted drop.
 *
 * Limits are counted per worker without a shared write: `sessions` and
 * `newSessionsPerSecond` as ceil(limit / workers) each (clients are spread over workers by a
 * keyed hash, so many sources meet the whole limit), `sessionsPerSource` whole, since every
 * session of a source lives on the one worker that its address steers to.
 */
#include <errno.h>
#include <netinet/in.h>

#include <strait/cksum.h>
#include <strait/maglev.h>

#include "nat.h"
#include "neigh.h"
#include "session_free.h"
#include "session_inlines.h"
#include "snat_inlines.h"
#include "sync.h"
#include "worker.h"

static inline void key_from_meta(struct nat_key *k, const struct pkt_meta *m)
{
	k->src = m->src;
	k->dst = m->dst;
	k->sport = m->sport;
	k->dport = m->dport;
	k->proto = m->proto;
	k->family = 4;
	k->pad = 0;
}

/*
 * The Maglev flow hash of a new session, keyed as the mapping's affinity says (enum
 * cfg_affinity): the whole 5-tuple (16 bytes: a client's connections spread over the
 * backends), or 8 bytes: the client address, with the destination port for clientIPAndPort
 * (no protocol in either, so a client's TCP and UDP flows land together).
 */
static inline uint32_t nat_affinity_hash(const struct tbl_mapping *mp, const struct nat_key *k)
{
	struct {
		rte_be32_t src;
		rte_be16_t dport;
		uint16_t zero;
	} ck;

	if (likely(mp->affinity == CFG_AFFINITY_FIVE_TUPLE))
		return maglev_flow_hash(mp->maglev_seed, k, sizeof(*k));
	ck.src = k->src;
	ck.dport = mp->affinity == CFG_AFFINITY_CLIENT_IP_AND_PORT ? k->dport : 0;
	ck.zero = 0;
	return maglev_flow_hash(mp->maglev_seed, &ck, sizeof(ck));
}

static bool allowed(const struct tbl_mapping *mp, rte_be32_t src)
{
	uint32_t a = rte_be_to_cpu_32(src);

	if (mp->n_allowed == 0)
		return true;
	for (uint32_t i = 0; i < mp->n_allowed; i++)
		if (cfg_cidr_contains(&mp->allowed[i], a))
			return true;
	return false;
}

static inline rte_be32_t route_nh(const struct tbl_route *r, rte_be32_t dst)
{
	return r->via ? rte_cpu_to_be_32(r->via) : dst;
}

/* A limit split over the workers: each enforces its share, rounded up (0 stays "none"). */
static inline uint32_t worker_share(const struct dp_worker *w, uint32_t limit)
{
	return (uint32_t)(((uint64_t)limit + w->n_workers - 1) / w->n_workers);
}

/*
 * newSessionsPerSecond: a token bucket per mapping slot and worker, of the worker's share
 * of the rate, holding one second of it. @return whether a new session may start now.
 */
static bool rate_take(struct dp_worker *w, struct nat_slot *sl, uint32_t limit)
{
	uint32_t r = worker_share(w, limit), now = dp_ticks(w);
	uint64_t tps = dp_ticks_of_s(w, 1);

	if (sl->tokens == 0) {
		uint64_t add = (uint64_t)(uint32_t)(now - sl->tok_tick) * r / (tps ? tps : 1);
		if (sl->tok_tick == 0 || add >= r)
			add = r; // first use, or a whole second since
		if (add == 0)
			return false;
		sl->tokens = (uint32_t)add;
		sl->tok_tick = now;
	}
	sl->tokens--;
	return true;
}

/* Make room for one session of slot @p slot: evict the oldest unestablished one of the
 * slot (its limit) or of the worker (table full). @return false when none is evictable. */
static bool evict_one(struct dp_worker *w, int slot)
{
	uint32_t v = nat_sessions_victim(&w->sess, slot, NULL);

	if (v == NAT_REC_NONE)
		return false;
	nat_session_evict(w, v);
	return true;
}

/*
 * Without a bitmap (the worker's pool of destinations is empty, or the backend is not behind
 * int): probe up to DP_SNAT_PORT_TRIES ports of our partition at the first SNAT address
 * against the session table (with RSS, 64 x workers, as about one in n_workers lands on our
 * queue). @return whether a free one is in @p k (and its hash in @p h).
 */
static __rte_noinline bool snat_probe(struct dp_worker *w, const struct tables *t, uint8_t port,
				      struct nat_key *k, struct nat_hash *h)
{
	const bool rss = w->rss_int.enabled;
	unsigned int tries = rss ? DP_SNAT_PORT_TRIES_RSS(w->n_workers) : DP_SNAT_PORT_TRIES;

	k->dst = port == DP_PORT_INT && t->n_snat ? t->snat_addrs[0] : t->addrs[port][0];
	for (; tries > 0; tries--) {
		uint16_t p = w->snat_next;
		w->snat_next = p >= w->snat_hi ? w->snat_lo : (uint16_t)(p + 1);
		k->dport = rte_cpu_to_be_16(p);
		if (rss &&
		    dp_rss_queue(&w->rss_int, k->src, k->dst, k->sport, k->dport) != w->queue)
			continue;
		*h = nat_key_hash(&w->sess, k);
		if (nat_sessions_lookup_h(&w->sess, k, *h) == NAT_REF_NONE)
			return true;
	}
	return false;
}

/* The oldest unestablished session of @p slot holding a SNAT port of ours towards the backend
 * of @p k (its src:sport, proto), at any SNAT address; NAT_REC_NONE when none. */
static __rte_noinline uint32_t snat_victim(struct nat_sessions *s, const struct tables *t,
					   uint8_t port, int slot, const struct nat_key *k)
{
	struct nat_session like = {0};
	uint32_t n = port == DP_PORT_INT && t->n_snat ? t->n_snat : 1;

	like.addr[DIR_I2O][0] = k->src;
	like.port[DIR_I2O][0] = k->sport;
	like.proto = k->proto;
	for (uint32_t a = 0; a < n; a++) {
		like.addr[DIR_I2O][1] =
			port == DP_PORT_INT && t->n_snat ? t->snat_addrs[a] : t->addrs[port][0];
		uint32_t v = nat_sessions_victim(s, slot, &like);
		if (v != NAT_REC_NONE)
			return v;
	}
	return NAT_REC_NONE;
}

/* A session whose two keys are in the table: on its mapping's and the worker's counts, and on
 * the unestablished lists if TCP (or @p count_src: counted per source). */
static inline void session_live(struct dp_worker *w, uint32_t idx, uint8_t proto, uint16_t slot,
				bool count_src)
{
	struct nat_sessions *s = &w->sess;

	if (proto == IPPROTO_TCP || unlikely(count_src)) {
		nat_sessions_track(s, idx, count_src);
	} else {
		// What nat_sessions_track() does for a UDP session not counted per source: no
		// lists (nat_session_alloc() left its links off), the slot's count.
		s->slots[slot].active++; // src_counted is 0 (nat_session_create())
	}
	s->active++;
	w->stats.sessions_created++;
	w->stats.map[slot].sessions_created++;
	if (dp_sync_on(w))
		dp_sync_on_create(w, idx);
}

/* Undo a session whose keys could not all go in (its out2in key already taken out, or never
 * in): its SNAT port (in2out key @p k_i2o), its adjacencies and its record given back. */
static void session_unmake(struct dp_worker *w, const struct tables *t, uint32_t idx,
			   const struct nat_key *k_i2o, uint16_t adj_o2i, uint16_t adj_i2o)
{
	dp_snat_put(w, t, k_i2o);
	dp_adj_put(w, adj_o2i);
	dp_adj_put(w, adj_i2o);
	nat_session_release(&w->sess, idx);
}

void nat_sessions_commit(struct dp_worker *w, const struct tables *t)
{
	struct nat_sessions *s = &w->sess;

	for (uint32_t i = 0; i < w->n_pend; i++) {
		struct nat_pending *p = &w->pend[i];
		struct nat_session *se = &s->recs[p->idx];
		struct nat_key k;

		if (likely(nat_sessions_add_h(s, p->bkt, p->sig, p->idx << 1 | DIR_I2O) == 0)) {
			session_live(w, p->idx, se->proto, p->slot, false);
			continue;
		}
		// No room for the key even by cuckoo moves: what nat_session_create() undoes
		// when its own second insert fails.
		nat_session_key(se, DIR_O2I, &k);
		nat_sessions_del(s, &k, p->idx << 1 | DIR_O2I);
		nat_session_key(se, DIR_I2O, &k);
		session_unmake(w, t, p->idx, &k, se->adj[DIR_O2I], se->adj[DIR_I2O]);
		p->idx = NAT_REC_NONE;
	}
}

int nat_session_create(struct dp_worker *w, const struct tables *t, const struct pkt_meta *m,
		       const struct tbl_service *svc, uint32_t bkt, uint32_t sig, bool hairpin,
		       bool batch, enum dp_drop *drop)
{
	const struct tbl_mapping *mp = &t->mappings[svc->mapping];
	struct nat_sessions *s = &w->sess;
	struct nat_slot *sl = &s->slots[mp->slot];
	const struct tbl_backend *be;
	const struct tbl_route *r_be, *r_cl;
	struct nat_session *se;
	struct nat_key k_o2i, k_i2o;
	uint16_t bport;
	struct nat_hash h_i2o;
	uint32_t idx;
	uint64_t a;
	int adj_o2i, adj_i2o;
	bool pend = false;

	if (!allowed(mp, m->src)) {
		*drop = DP_DROP_NOT_ALLOWED;
		return -1;
	}
	// Source rules (an l7mp VirtualService's): the first match names the backend group.
	if (unlikely(mp->n_rules) && !(svc = tables_rule_pick(t, mp, svc, m->src, m->sport))) {
		*drop = DP_DROP_NO_RULE;
		return -1;
	}
	if (svc->n_eligible == 0) {
		*drop = DP_DROP_NO_BACKEND;
		return -1;
	}
	// The mapping's limits (struct cfg_limits), before anything is evicted for it: whether
	// it has any told by one test of the three fields ORed (two loads), each tested only then.
	static_assert(sizeof(struct cfg_limits) == 12 &&
			      offsetof(struct cfg_limits, new_per_second) == 8,
		      "cfg_limits: three 32-bit limits, the first two one 8-byte word");
	uint64_t any_limit;
	memcpy(&any_limit, &mp->limits, 8);
	any_limit |= mp->limits.new_per_second;
	if (unlikely(any_limit)) {
		if (unlikely(mp->limits.sessions_per_source) &&
		    nat_sessions_src_count(s, mp->slot, m->src) >= mp->limits.sessions_per_source) {
			*drop = DP_DROP_SOURCE_SESSION_LIMIT;
			return -1;
		}
		if (unlikely(mp->limits.new_per_second) &&
		    !rate_take(w, sl, mp->limits.new_per_second)) {
			*drop = DP_DROP_NEW_SESSION_RATE;
			return -1;
		}
		if (unlikely(mp->limits.sessions) &&
		    sl->active >= worker_share(w, mp->limits.sessions) && !evict_one(w, mp->slot)) {
			*drop = DP_DROP_MAPPING_SESSION_LIMIT;
			return -1;
		}
	}
	if (s->free_head == NAT_REC_NONE && s->hwm == s->max && !evict_one(w, mp->slot) &&
	    !evict_one(w, -1)) {
		*drop = DP_DROP_SESSION_TABLE_FULL;
		return -1;
	}
	key_from_meta(&k_o2i, m);
	if (svc->maglev) {
		uint32_t h = nat_affinity_hash(mp, &k_o2i);
		be = &t->backends[svc->first_backend +
				  maglev_lookup(svc->maglev, svc->maglev_size, h)];
	} else {
		be = &t->backends[svc->first_backend + svc->single];
	}
	if (unlikely(be->addr == 0)) {
		// A reject backend (a Gateway API backendRef that does not resolve): its share of
		// the flows is refused (dp_reject()).
		*drop = DP_DROP_REJECTED;
		return -1;
	}
	if (be->port)
		bport = be->port;
	else if (svc->target_port)
		bport = (uint16_t)(svc->target_port + (rte_be_to_cpu_16(m->dport) - svc->port_lo));
	else
		bport = rte_be_to_cpu_16(m->dport);

	r_be = tables_route(t, rte_be_to_cpu_32(be->addr));
	r_cl = tables_route(t, rte_be_to_cpu_32(m->src));
	if (!r_be || !r_cl || t->n_addrs[r_be->port] == 0) {
		*drop = DP_DROP_NO_ROUTE;
		return -1;
	}

	// The in2out key: replies from the backend to the SNAT address (full NAT) or to the
	// client itself (preserveSource).
	k_i2o = (struct nat_key){
		.src = be->addr, .sport = rte_cpu_to_be_16(bport), .proto = m->proto, .family = 4};
	if (mp->nat == CFG_NAT_FULL || unlikely(hairpin)) {
		// A free (SNAT address, port) of our partition towards this backend:port (snat.c);
		// a port is reused across backends, so the pool is addresses x 64K per
		// backend:port, not per gateway. Where the int port does RSS, the port must also
		// make the NIC deliver the replies to our own queue.
		int rc = r_be->port == DP_PORT_INT ? dp_snat_take(w, t, &k_i2o, &h_i2o) : -ENOENT;
		if (likely(rc == 0)) {
			// The in2out key's bucket, from memory (a miss at any table size worth the
			// name): it arrives while the record is filled, or while the rest of the
			// burst is processed when the key waits for its end (below).
			rte_prefetch0(&s->bkt[h_i2o.bkt]);
			// The key may wait unless the mapping has limits (they count sessions
			// made whole) or the session is a hairpin. No other session's key is then
			// looked up before the burst's end where it could be: the port is one of
			// the bitmaps, whose bits tell every port held (waiting keys' too); a probe
			// (no bitmap: another backend:port, or a backend on ext) and a victim's
			// port are other backends' or sessions made whole; a preserveSource key
			// has a client's address, never a SNAT one (an int address: classify_ip()
			// drops it on ext as spoofed).
			pend = batch && !hairpin && any_limit == 0;
		} else if (rc == -ENOENT && !snat_probe(w, t, r_be->port, &k_i2o, &h_i2o)) {
			rc = -ENOSPC;
		}
		if (rc == -ENOSPC) {
			// Every port is taken towards this backend:port: take the one of the
			// oldest unestablished session that holds one (ours, so its replies
			// already reach this worker), at any of the SNAT addresses.
			uint32_t v = snat_victim(s, t, r_be->port, mp->slot, &k_i2o);
			if (v == NAT_REC_NONE) {
				*drop = DP_DROP_NO_SNAT_PORT;
				return -1;
			}
			k_i2o.dst = s->recs[v].addr[DIR_I2O][1];
			k_i2o.dport = s->recs[v].port[DIR_I2O][1];
			nat_session_evict(w, v);
			dp_snat_hold(w, t, &k_i2o);
			h_i2o = nat_key_hash(s, &k_i2o);
		}
	} else {
		k_i2o.dst = m->src;
		k_i2o.dport = m->sport;
		h_i2o = nat_key_hash(s, &k_i2o);
		if (nat_sessions_lookup_h(s, &k_i2o, h_i2o) != NAT_REF_NONE) {
			*drop = DP_DROP_NO_SNAT_PORT;
			return -1;
		}
	}

	adj_o2i = dp_adj_get(w, route_nh(r_be, be->addr), r_be->port);
	adj_i2o = adj_o2i < 0 ? -1 : dp_adj_get(w, route_nh(r_cl, m->src), r_cl->port);
	if (adj_i2o < 0) {
		if (adj_o2i >= 0)
			dp_adj_put(w, (uint16_t)adj_o2i);
		dp_snat_put(w, t, &k_i2o);
		*drop = DP_DROP_NO_NEIGHBOR;
		return -1;
	}

	idx = nat_session_alloc(s);
	se = &s->recs[idx];
	// The tuple as words: each direction's addresses are adjacent in the meta, the key and
	// the record, and so are its ports (and the record's two directions' ports).
	static_assert(offsetof(struct nat_key, dst) == offsetof(struct nat_key, src) + 4 &&
			      offsetof(struct nat_key, dport) ==
				      offsetof(struct nat_key, sport) + 2,
		      "nat_key: src/dst, sport/dport adjacent");
	memcpy(se->addr[DIR_O2I], &m->src, 8);
	memcpy(se->addr[DIR_I2O], &k_i2o.src, 8);
	memcpy(se->port[DIR_O2I], &m->sport, 4);
	memcpy(se->port[DIR_I2O], &k_i2o.sport, 4);
	// out2in deltas: from the tuple it arrives with to the in2out key reversed.
	// (Each pair of fields as one 32-bit word: 64-bit adds, cksum.h.)
	a = cksum_delta32w(0, m->src, k_i2o.dst);
	a = cksum_delta32w(a, m->dst, k_i2o.src);
	se->l3_delta = nat_l3_delta(cksum_fold64(a));
	a = cksum_delta32w(a, (uint32_t)m->sport | (uint32_t)m->dport << 16,
			   (uint32_t)k_i2o.dport | (uint32_t)k_i2o.sport << 16);
	se->l4_delta = cksum_fold64(a);
	se->adj[DIR_O2I] = (uint16_t)adj_o2i;
	se->adj[DIR_I2O] = (uint16_t)adj_i2o;
	se->slot = mp->slot;
	// state, flags (none yet), src_counted (nat_sessions_track() or the UDP branch below says)
	// and hairpin: their byte stored once, built in a local of the same bit-fields (the
	// record's four bit-field stores were four read-modify-writes).
	{
		struct {
			uint8_t state : 3, flags : 3, src_counted : 1, hairpin : 1;
		} b = {.state = m->proto == IPPROTO_TCP ? NAT_ST_SYN_SENT : NAT_ST_UDP,
		       .hairpin = hairpin};
		static_assert(sizeof(b) == 1, "one byte");
		memcpy((uint8_t *)se + NAT_SESSION_BITS, &b, 1);
	}
	se->last_seen = dp_ticks(w);
	se->pkts[0] = se->pkts[1] = 0;
	se->bytes[0] = se->bytes[1] = 0;
	// Last: a record with a protocol is a live session to the control thread's walk.
	se->proto = m->proto;
	if (nat_sessions_add_h(s, bkt, sig, idx << 1 | DIR_O2I) < 0)
		goto full;
	if (pend) {
		// The out2in key is in (a later packet of the flow in this burst finds the
		// session); the in2out key waits for the burst's end, where its bucket, fetched
		// since the port was taken, is read with the others' (nat_sessions_commit()).
		w->pend[w->n_pend++] = (struct nat_pending){
			.idx = idx, .bkt = h_i2o.bkt, .sig = h_i2o.sig, .slot = mp->slot};
		return (int)idx;
	}
	if (nat_sessions_add_h(s, h_i2o.bkt, h_i2o.sig, idx << 1 | DIR_I2O) < 0) {
		nat_sessions_del(s, &k_o2i, idx << 1 | DIR_O2I);
		goto full;
	}
	session_live(w, idx, m->proto, mp->slot, mp->limits.sessions_per_source != 0);
	return (int)idx;
full:
	session_unmake(w, t, idx, &k_i2o, (uint16_t)adj_o2i, (uint16_t)adj_i2o);
	*drop = DP_DROP_SESSION_TABLE_FULL;
	return -1;
}

void nat_session_pickup(struct dp_worker *w, uint32_t idx, const struct rte_tcp_hdr *th)
{
	struct nat_session *se = &w->sess.recs[idx];
	struct nat_tcp_td *td = &w->sess.td[idx];

	// Left on the unestablished lists: the next victim search unlinks it (session.c).
	se->state = NAT_ST_ESTABLISHED;
	se->flags = NAT_F_SEEN_I2O;
	td->end[DIR_O2I] = rte_be_to_cpu_32(th->sent_seq);
	td->end[DIR_I2O] = rte_be_to_cpu_32(th->recv_ack);
	td->maxwin[DIR_O2I] = td->maxwin[DIR_I2O] = UINT16_MAX;
	td->wscale[DIR_O2I] = td->wscale[DIR_I2O] = NAT_TCP_PICKUP_WSCALE;
	w->stats.sessions_picked_up++;
}
