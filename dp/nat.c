/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT out2in and in2out, run to completion on a worker lcore, one burst at a time:
 * parse the whole burst, look every key up in one rte_hash_lookup_bulk_data() call, then
 * rewrite and queue for tx. Misses on ext start a session; misses on int are dropped.
 *
 * Ownership: every session belongs to one worker, its single writer. The owner of a flow can
 * be told from any of its packets, so whichever worker receives a packet can pass it on:
 *   - out2in, and in2out of preserveSource sessions: a hash of the client's address (a
 *     client's non-first fragments, which carry no ports, reach the same worker);
 *   - in2out of full-NAT sessions: the SNAT port, taken from the owner's own partition
 *     (the DPVS sa_pool idea: replies need no lookup to find their lcore).
 * The vdevs here (af_packet, af_xdp, tap) have no rte_flow and no useful RSS, so the
 * hand-over goes through a per-pair single-producer/single-consumer rte_ring.
 */
#include <string.h>

#include <netinet/in.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <strait/cksum.h>
#include <strait/maglev.h>

#include "dp_priv.h"

/* The IPv4 word holding TTL and protocol loses 0x0100 when TTL is decremented: the RFC 1624
 * delta ~m + m' is then the constant 0xfeff (network order), whatever the TTL was. */
#define TTL_DEC_DELTA RTE_BE16(0xfeff)

static inline uint32_t client_hash(rte_be32_t a)
{
	return rte_hash_crc_4byte(a, 0x9e3779b9);
}

static inline unsigned int snat_owner(const struct dp_worker *w, rte_be16_t port)
{
	uint32_t p = rte_be_to_cpu_16(port);
	uint32_t span = (65536u - DP_SNAT_PORT_MIN) / w->n_workers;
	uint32_t o;

	if (p < DP_SNAT_PORT_MIN)
		return w->id;
	o = (p - DP_SNAT_PORT_MIN) / span;
	return o < w->n_workers ? o : w->n_workers - 1;
}

unsigned int nat_owner(const struct dp_worker *w, const struct tables *t, uint8_t in_port,
		       const struct pkt_meta *m)
{
	if (w->n_workers == 1)
		return 0;
	if (in_port == DP_PORT_EXT)
		return client_hash(m->src) % w->n_workers;
	if (tables_is_local(t, DP_PORT_INT, m->dst)) {
		if (m->frag == FRAG_LATER)
			return w->id;
		return snat_owner(w, m->dport);
	}
	return client_hash(m->dst) % w->n_workers;
}

/* Pass a packet to the worker that owns its flow; it runs the whole pipeline again there. */
static void nat_handoff(struct dp_worker *w, struct rte_mbuf *mb, uint8_t in_port,
			unsigned int owner)
{
	dp_priv(mb)->in_port = in_port;
	if (rte_ring_sp_enqueue(w->handoff_out[owner], mb) != 0)
		dp_drop(w, mb, DP_DROP_HANDOFF_RING_FULL);
	else
		w->stats.handoff_out++;
}

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

/* Deltas from the tuple a direction's packets arrive with to the tuple they leave with. */
static void rewrite_deltas(struct nat_rewrite *rw, const struct nat_key *in)
{
	uint32_t a = 0, l4;

	a = cksum_delta32(a, in->src, rw->src);
	a = cksum_delta32(a, in->dst, rw->dst);
	l4 = cksum_delta16(a, in->sport, rw->sport);
	l4 = cksum_delta16(l4, in->dport, rw->dport);
	rw->l3_delta = cksum_fold(a + TTL_DEC_DELTA);
	rw->l4_delta = cksum_fold(l4);
}

void nat_rewrite_l3l4(uint8_t *frame, const struct pkt_meta *m, const struct nat_rewrite *rw)
{
	struct rte_ipv4_hdr *ip = (void *)(frame + m->l3_off);
	uint8_t *l4 = frame + m->l4_off;

	ip->src_addr = rw->src;
	ip->dst_addr = rw->dst;
	ip->time_to_live--;
	ip->hdr_checksum = cksum_apply(ip->hdr_checksum, rw->l3_delta);
	if (m->frag == FRAG_LATER)
		return;
	if (m->proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (void *)l4;
		th->src_port = rw->sport;
		th->dst_port = rw->dport;
		th->cksum = cksum_apply(th->cksum, rw->l4_delta);
	} else if (m->proto == IPPROTO_UDP) {
		struct rte_udp_hdr *uh = (void *)l4;
		uh->src_port = rw->sport;
		uh->dst_port = rw->dport;
		uh->dgram_cksum = cksum_apply_udp(uh->dgram_cksum, rw->l4_delta);
	}
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

static void rewrite_route(struct nat_rewrite *rw, const struct tbl_route *r)
{
	rw->out_port = r->port;
	rw->nh = r->via ? rte_cpu_to_be_32(r->via) : rw->dst;
	rw->neigh_gen = 0; // never current: the first packet looks the neighbour up
}

int nat_session_create(struct dp_worker *w, const struct tables *t, const struct pkt_meta *m,
		       const struct tbl_service *svc, enum dp_drop *drop)
{
	const struct tbl_mapping *mp = &t->mappings[svc->mapping];
	struct nat_sessions *s = &w->sess;
	const struct tbl_backend *be;
	const struct tbl_route *r_be, *r_cl;
	struct nat_session *se;
	struct nat_key k_o2i, k_i2o;
	struct nat_rewrite o2i = {0}, i2o = {0};
	uint16_t bport;
	uint32_t idx;

	if (!allowed(mp, m->src)) {
		*drop = DP_DROP_NOT_ALLOWED;
		return -1;
	}
	if (s->n_free == 0) {
		*drop = DP_DROP_SESSION_TABLE_FULL;
		return -1;
	}
	if (svc->n_eligible == 0) {
		*drop = DP_DROP_NO_BACKEND;
		return -1;
	}
	key_from_meta(&k_o2i, m);
	if (svc->maglev) {
		// The whole 5-tuple: one client's connections spread over the backends.
		uint32_t h = rte_hash_crc(&k_o2i, sizeof(k_o2i), 0x5a17);
		be = &t->backends[svc->first_backend + maglev_lookup(svc->maglev, h)];
	} else {
		be = &t->backends[svc->first_backend + svc->single];
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

	o2i.dst = be->addr;
	o2i.dport = rte_cpu_to_be_16(bport);
	if (mp->nat == CFG_NAT_FULL) {
		o2i.src = t->addrs[r_be->port][0];
	} else {
		o2i.src = m->src;
		o2i.sport = m->sport;
	}
	k_i2o = (struct nat_key){.src = o2i.dst, .dst = o2i.src, .sport = o2i.dport,
				 .proto = m->proto, .family = 4};
	if (mp->nat == CFG_NAT_FULL) {
		// Any port of our partition not already used towards this backend:port; a port
		// is reused across backends, so the pool is 64K per backend, not per gateway.
		// Where the int port does RSS, the port must also make the NIC deliver the
		// replies to our own queue, so that they need no hand-over (rte_softrss with the
		// port's key and redirection table: what the NIC computes).
		const bool rss = w->rss_int.enabled;
		unsigned int tries = rss ? DP_SNAT_PORT_TRIES_RSS(w->n_workers) : DP_SNAT_PORT_TRIES;
		for (; tries > 0; tries--) {
			uint16_t p = w->snat_next;
			w->snat_next = p >= w->snat_hi ? w->snat_lo : (uint16_t)(p + 1);
			k_i2o.dport = rte_cpu_to_be_16(p);
			if (rss && dp_rss_queue(&w->rss_int, k_i2o.src, k_i2o.dst, k_i2o.sport,
						k_i2o.dport) != w->queue)
				continue;
			if (rte_hash_lookup(s->h, &k_i2o) < 0)
				break;
		}
		if (tries == 0) {
			*drop = DP_DROP_NO_SNAT_PORT;
			return -1;
		}
		o2i.sport = k_i2o.dport;
	} else {
		k_i2o.dport = m->sport;
		if (rte_hash_lookup(s->h, &k_i2o) >= 0) {
			*drop = DP_DROP_NO_SNAT_PORT;
			return -1;
		}
	}
	i2o.src = m->dst;
	i2o.sport = m->dport;
	i2o.dst = m->src;
	i2o.dport = m->sport;
	rewrite_route(&o2i, r_be);
	rewrite_route(&i2o, r_cl);
	rewrite_deltas(&o2i, &k_o2i);
	rewrite_deltas(&i2o, &k_i2o);

	idx = s->free_idx[--s->n_free];
	se = &s->recs[idx];
	memset(se, 0, sizeof(*se));
	se->rw_o2i = o2i;
	se->rw_i2o = i2o;
	se->proto = m->proto;
	se->slot = mp->slot;
	se->flags = NAT_F_IN_USE;
	se->last_seen_tsc = w->now;
	if (m->proto == IPPROTO_TCP) {
		se->state = NAT_ST_SYN_SENT;
		se->timeout_s = mp->timeouts.tcp_established;
		se->timeout_trans_s = mp->timeouts.tcp_transitory;
	} else {
		se->state = NAT_ST_UDP;
		se->timeout_s = se->timeout_trans_s = mp->timeouts.udp;
	}
	if (rte_hash_add_key_data(s->h, &k_o2i, (void *)(uintptr_t)(idx << 1 | DIR_O2I)) < 0)
		goto full;
	if (rte_hash_add_key_data(s->h, &k_i2o, (void *)(uintptr_t)(idx << 1 | DIR_I2O)) < 0) {
		rte_hash_del_key(s->h, &k_o2i);
		goto full;
	}
	if (idx >= s->hwm)
		s->hwm = idx + 1;
	s->active++;
	w->stats.sessions_created++;
	w->stats.map[mp->slot].sessions_created++;
	return (int)idx;
full:
	se->flags = 0;
	s->free_idx[s->n_free++] = idx;
	*drop = DP_DROP_SESSION_TABLE_FULL;
	return -1;
}

/* L2 for a translated packet: the cached neighbour MAC while no ARP entry changed. */
static void nat_output(struct dp_worker *w, struct rte_mbuf *mb, struct nat_rewrite *rw)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(mb, struct rte_ether_hdr *);
	uint32_t gen = neigh_gen();

	if (rw->neigh_gen != gen) {
		struct rte_ether_addr mac;
		uint32_t g;
		if (!neigh_lookup(rw->nh, &mac, &g)) {
			struct dp_mbuf_priv *p = dp_priv(mb);
			p->out_port = rw->out_port;
			p->nh = rw->nh;
			rte_ether_addr_copy(&w->mac[rw->out_port], &eth->src_addr);
			dp_to_slowpath(w, mb, rw->out_port, DP_SP_NEED_NEIGH);
			return;
		}
		rw->dmac = mac;
		rw->neigh_gen = g;
	}
	rte_ether_addr_copy(&rw->dmac, &eth->dst_addr);
	rte_ether_addr_copy(&w->mac[rw->out_port], &eth->src_addr);
	dp_tx_enqueue(w, rw->out_port, mb);
}

static void frag_remember(struct dp_worker *w, const struct pkt_meta *m, uint32_t idx, int dir)
{
	uint32_t h = rte_hash_crc_4byte(m->src ^ m->dst, (uint32_t)m->ip_id << 8 | m->proto);
	struct dp_frag_entry *e = &w->frag[h & (DP_FRAG_SLOTS - 1)];

	e->src = m->src;
	e->dst = m->dst;
	e->id = m->ip_id;
	e->proto = m->proto;
	e->dir = (uint8_t)dir;
	e->sess = idx;
	e->expire_tsc = w->now + 30 * w->hz; // RFC 791 reassembly timeout order
}

static int frag_find(struct dp_worker *w, const struct pkt_meta *m, int *dir)
{
	uint32_t h = rte_hash_crc_4byte(m->src ^ m->dst, (uint32_t)m->ip_id << 8 | m->proto);
	const struct dp_frag_entry *e = &w->frag[h & (DP_FRAG_SLOTS - 1)];

	if (e->src != m->src || e->dst != m->dst || e->id != m->ip_id || e->proto != m->proto ||
	    e->expire_tsc < w->now || !(w->sess.recs[e->sess].flags & NAT_F_IN_USE))
		return -1;
	*dir = e->dir;
	return (int)e->sess;
}

static void nat_forward(struct dp_worker *w, struct rte_mbuf *mb, const struct pkt_meta *m,
			uint32_t idx, int dir)
{
	struct nat_session *se = &w->sess.recs[idx];
	struct nat_rewrite *rw = dir == DIR_O2I ? &se->rw_o2i : &se->rw_i2o;
	struct dp_map_stats *ms = &w->stats.map[se->slot];

	if (m->ttl <= 1) {
		dp_to_slowpath(w, mb, dir == DIR_O2I ? DP_PORT_EXT : DP_PORT_INT, DP_SP_TTL);
		return;
	}
	if (m->proto == IPPROTO_TCP && m->frag != FRAG_LATER)
		nat_session_tcp_update(se, dir, m->tcp_flags);
	se->last_seen_tsc = w->now;
	if (dir == DIR_O2I) {
		se->pkts_o2i++;
		se->bytes_o2i += m->ip_len;
	} else {
		se->pkts_i2o++;
		se->bytes_i2o += m->ip_len;
	}
	ms->pkts[dir]++;
	ms->bytes[dir] += m->ip_len;
	if (m->frag == FRAG_FIRST)
		frag_remember(w, m, idx, dir);
	nat_rewrite_l3l4(rte_pktmbuf_mtod(mb, uint8_t *), m, rw);
	nat_output(w, mb, rw);
}

/*
 * ICMP errors quote the packet that caused them (RFC 792): IP header + at least 8 bytes.
 * The quoted packet belongs to the other direction of a session; translating it, and the
 * outer header, lets the sender of the original packet see the error (RFC 5508 REQ-3/4),
 * which is what path-MTU discovery through the gateway needs (RFC 1191).
 */
static void nat_icmp_error(struct dp_worker *w, const struct tables *t, uint8_t in_port,
			   struct rte_mbuf *mb, const struct pkt_meta *m)
{
	uint8_t *frame = rte_pktmbuf_mtod(mb, uint8_t *);
	struct rte_ipv4_hdr *ip = (void *)(frame + m->l3_off);
	struct rte_icmp_hdr *ih = (void *)(frame + m->l4_off);
	struct rte_ipv4_hdr *in_ip = (void *)(ih + 1);
	uint32_t icmp_len = m->ip_len - (m->l4_off - m->l3_off);
	uint32_t in_ihl, quoted;
	struct nat_key k, other;
	rte_be16_t *in_ports;
	unsigned int owner;
	void *data;
	int dir = in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O;

	if (m->icmp_type != ICMP_DEST_UNREACH && m->icmp_type != ICMP_TIME_EXCEEDED &&
	    m->icmp_type != ICMP_PARAM_PROBLEM) {
		dp_drop(w, mb, DP_DROP_UNSUPPORTED_PROTO);
		return;
	}
	if (m->frag != FRAG_NONE || icmp_len < sizeof(*ih) + sizeof(*in_ip) + 8) {
		dp_drop(w, mb, DP_DROP_BAD_L4_HEADER);
		return;
	}
	in_ihl = (in_ip->version_ihl & 0xf) * 4u;
	quoted = icmp_len - sizeof(*ih);
	if ((in_ip->version_ihl >> 4) != 4 || in_ihl < sizeof(*in_ip) || in_ihl + 8 > quoted) {
		dp_drop(w, mb, DP_DROP_BAD_L4_HEADER);
		return;
	}
	if (in_ip->next_proto_id != IPPROTO_TCP && in_ip->next_proto_id != IPPROTO_UDP) {
		dp_drop(w, mb, DP_DROP_ICMP_NO_SESSION);
		return;
	}
	in_ports = (rte_be16_t *)((uint8_t *)in_ip + in_ihl);

	if (w->n_workers > 1) {
		if (in_port == DP_PORT_EXT)
			owner = client_hash(in_ip->dst_addr) % w->n_workers;
		else if (tables_is_local(t, DP_PORT_INT, m->dst))
			owner = snat_owner(w, in_ports[0]);
		else
			owner = client_hash(in_ip->src_addr) % w->n_workers;
		if (owner != w->id) {
			nat_handoff(w, mb, in_port, owner);
			return;
		}
	}

	// The quoted packet went the other way: its reverse is a key of this direction.
	k = (struct nat_key){.src = in_ip->dst_addr, .dst = in_ip->src_addr, .sport = in_ports[1],
			     .dport = in_ports[0], .proto = in_ip->next_proto_id, .family = 4};
	if (rte_hash_lookup_data(w->sess.h, &k, &data) < 0 || ((uintptr_t)data & 1) != (uintptr_t)dir) {
		dp_drop(w, mb, DP_DROP_ICMP_NO_SESSION);
		return;
	}
	if (m->ttl <= 1) {
		dp_drop(w, mb, DP_DROP_TTL_EXCEEDED); // no ICMP error about an ICMP error
		return;
	}
	uint32_t idx = (uint32_t)((uintptr_t)data >> 1);
	struct nat_session *se = &w->sess.recs[idx];
	nat_session_key(se, !dir, &other);

	// Inner L4 checksum: UDP's is within the quoted 8 bytes, TCP's only if more was quoted.
	uint32_t d = 0;
	d = cksum_delta32(d, in_ip->src_addr, other.src);
	d = cksum_delta32(d, in_ip->dst_addr, other.dst);
	d = cksum_delta16(d, in_ports[0], other.sport);
	d = cksum_delta16(d, in_ports[1], other.dport);
	if (in_ip->next_proto_id == IPPROTO_UDP)
		in_ports[3] = cksum_apply_udp(in_ports[3], cksum_fold(d));
	else if (in_ihl + 18 <= quoted)
		in_ports[8] = cksum_apply(in_ports[8], cksum_fold(d));
	in_ip->src_addr = other.src;
	in_ip->dst_addr = other.dst;
	in_ports[0] = other.sport;
	in_ports[1] = other.dport;
	in_ip->hdr_checksum = 0;
	in_ip->hdr_checksum = cksum_full(in_ip, in_ihl);

	ip->src_addr = other.dst;
	ip->dst_addr = other.src;
	ip->time_to_live--;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_full(ip, m->l4_off - m->l3_off);
	ih->icmp_cksum = 0;
	ih->icmp_cksum = cksum_full(ih, icmp_len);
	se->last_seen_tsc = w->now;
	nat_output(w, mb, dir == DIR_O2I ? &se->rw_o2i : &se->rw_i2o);
}

void nat_process_burst(struct dp_worker *w, const struct tables *t, uint8_t in_port,
		       struct rte_mbuf **pkts, uint16_t n)
{
	struct pkt_meta meta[DP_BURST];
	struct nat_key keys[DP_BURST];
	const void *kp[DP_BURST];
	void *data[DP_BURST];
	uint16_t kidx[DP_BURST], later[DP_BURST];
	uint64_t hits = 0;
	unsigned int nk = 0, n_later = 0;
	const int dir = in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O;

	if (n > DP_BURST)
		n = DP_BURST;

	// Stage 1: parse and classify the whole burst.
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *mb = pkts[i];
		struct pkt_meta *m = &meta[i];
		enum pkt_kind kind;

		if (unlikely(mb->nb_segs > 1) && rte_pktmbuf_linearize(mb) < 0) {
			dp_drop(w, mb, DP_DROP_TRUNCATED);
			continue;
		}
		kind = pkt_parse(rte_pktmbuf_mtod(mb, uint8_t *), rte_pktmbuf_data_len(mb), m);
		if (kind == PKT_DROP) {
			dp_drop(w, mb, (enum dp_drop)m->drop);
			continue;
		}
		if (kind == PKT_ARP) {
			dp_to_slowpath(w, mb, in_port, DP_SP_ARP);
			continue;
		}
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(mb, struct rte_ether_hdr *);
		if (!rte_is_same_ether_addr(&eth->dst_addr, &w->mac[in_port])) {
			dp_drop(w, mb, DP_DROP_NOT_FOR_US);
			continue;
		}
		if (in_port == DP_PORT_EXT) {
			bool spoofed = false;
			for (uint32_t j = 0; j < t->n_int_nets && !spoofed; j++)
				spoofed = cfg_cidr_contains(&t->int_nets[j], rte_be_to_cpu_32(m->src));
			if (spoofed) {
				dp_drop(w, mb, DP_DROP_SPOOFED_SOURCE);
				continue;
			}
		}
		if (m->proto == IPPROTO_ICMP) {
			if (m->icmp_type == RTE_IP_ICMP_ECHO_REQUEST &&
			    (in_port == DP_PORT_EXT ? tables_is_vip(t, m->dst)
						    : tables_is_local(t, in_port, m->dst)))
				dp_to_slowpath(w, mb, in_port, DP_SP_LOCAL);
			else if (m->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ||
				 m->icmp_type == RTE_IP_ICMP_ECHO_REPLY)
				dp_drop(w, mb, DP_DROP_NOT_FOR_US);
			else
				nat_icmp_error(w, t, in_port, mb, m);
			continue;
		}
		if (in_port == DP_PORT_EXT && !tables_is_vip(t, m->dst)) {
			dp_drop(w, mb, DP_DROP_NOT_FOR_US);
			continue;
		}
		unsigned int owner = nat_owner(w, t, in_port, m);
		if (owner != w->id) {
			nat_handoff(w, mb, in_port, owner);
			continue;
		}
		if (m->frag == FRAG_LATER) {
			// After stage 3: the first fragment may be in this very burst.
			later[n_later++] = i;
			continue;
		}
		key_from_meta(&keys[nk], m);
		kp[nk] = &keys[nk];
		kidx[nk++] = i;
	}
	if (nk == 0)
		goto fragments;

	// Stage 2: one bulk lookup for the burst (rte_hash prefetches buckets and keys).
	rte_hash_lookup_bulk_data(w->sess.h, kp, nk, &hits, data);

	// Stage 3: rewrite; misses on ext may start a session.
	for (unsigned int j = 0; j < nk; j++) {
		struct rte_mbuf *mb = pkts[kidx[j]];
		const struct pkt_meta *m = &meta[kidx[j]];
		uintptr_t v;

		if (!(hits & (1ull << j))) {
			// A session may have been created by an earlier packet of this burst.
			void *d;
			if (rte_hash_lookup_data(w->sess.h, kp[j], &d) >= 0) {
				v = (uintptr_t)d;
				goto hit;
			}
			if (in_port != DP_PORT_EXT) {
				dp_drop(w, mb, DP_DROP_NO_SESSION);
				continue;
			}
			const struct tbl_service *svc =
				tables_svc_lookup(t, m->dst, m->dport, m->proto);
			if (!svc) {
				dp_drop(w, mb, DP_DROP_NO_MAPPING);
				continue;
			}
			if (m->proto == IPPROTO_TCP &&
			    (m->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
				    RTE_TCP_SYN_FLAG) {
				dp_drop(w, mb, DP_DROP_TCP_NOT_SYN);
				continue;
			}
			if (!(mb->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_GOOD) &&
			    !pkt_l4_cksum_ok(rte_pktmbuf_mtod(mb, uint8_t *), m)) {
				dp_drop(w, mb, DP_DROP_BAD_L4_CHECKSUM);
				continue;
			}
			enum dp_drop why;
			int idx = nat_session_create(w, t, m, svc, &why);
			if (idx < 0) {
				w->stats.map[t->mappings[svc->mapping].slot].drops++;
				dp_drop(w, mb, why);
				continue;
			}
			nat_forward(w, mb, m, (uint32_t)idx, DIR_O2I);
			continue;
		}
		v = (uintptr_t)data[j];
hit:
		if ((int)(v & 1) != dir) {
			dp_drop(w, mb, DP_DROP_NO_SESSION);
			continue;
		}
		nat_forward(w, mb, m, (uint32_t)(v >> 1), dir);
	}

fragments:
	// Stage 4: later fragments follow the session their first fragment found or made.
	for (unsigned int j = 0; j < n_later; j++) {
		const struct pkt_meta *m = &meta[later[j]];
		int fdir, idx = frag_find(w, m, &fdir);
		if (idx < 0 || fdir != dir)
			dp_drop(w, pkts[later[j]], DP_DROP_FRAG_NO_SESSION);
		else
			nat_forward(w, pkts[later[j]], m, (uint32_t)idx, dir);
	}
}
