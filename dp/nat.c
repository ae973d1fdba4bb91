/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT out2in and in2out, run to completion on a worker lcore, one burst at a time, in stages
 * so that the memory accesses of a burst's packets (DP_BURST, 64) overlap instead of queueing
 * one behind another:
 *   1. parse every packet, build its key, hash it, prefetch its primary bucket;
 *   2. scan each primary bucket for the key's signature and prefetch the record it names
 *      (or, rarely, prefetch the alternative bucket and scan that one next);
 *   3. check each key against its record, then rewrite with the record's precomputed
 *      checksum deltas and queue for tx. Misses on ext start a session; on int, a drop,
 *      but for a packet to a mapping's address (hairpin: RFC 4787 REQ-9, RFC 5382 REQ-8),
 *      which starts a full-NAT session whose out2in packets arrive on int;
 *   4. a new full-NAT session's in2out key, known only once its SNAT port is taken in stage
 *      3, has its bucket prefetched there and goes in at the burst's end, with the other
 *      new sessions' (nat_sessions_commit()): their first packets, and any later packet of
 *      the same flows in the burst, wait for it and leave last, each flow's in order. No
 *      reply can need that key before the burst is sent.
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

#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <strait/cksum.h>

#include "mbuf_priv.h"
#include "kernel.h"
#include "nat.h"
#include "neigh.h"
#include "parse_inlines.h"
#include "pkt_out.h"
#include "reject.h"
#include "session_clear.h"
#include "session_inlines.h"

/* The least next-hop MTU an ICMP "fragmentation needed" carries through the NAT: 576, the
 * datagram every IPv4 host must accept (RFC 791, RFC 1122 §3.3.3); Linux's min_pmtu is 552. */
#define NAT_PMTU_FLOOR 576

/* Keyed: a sender who does not know the secret cannot aim its flows at one worker. The top
 * bits of the multiply-shift hash are its good ones: the worker is (hash * n) >> 32, not
 * hash % n (whose low bits left 9 neighbouring client addresses on one worker of two). */
static inline unsigned int client_owner(const struct dp_worker *w, rte_be32_t a)
{
	return (unsigned int)(((uint64_t)dp_steer_hash(&w->rss_int, a) * w->n_workers) >> 32);
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
		return client_owner(w, m->src);
	if (tables_is_local(t, DP_PORT_INT, m->dst)) {
		if (m->frag == FRAG_LATER)
			return w->id;
		return snat_owner(w, m->dport);
	}
	// Hairpin: a client behind int to a mapping's address is steered by its own address,
	// as on ext (its replies come to a SNAT port of the same worker).
	if (unlikely(tables_is_vip(t, m->dst)))
		return client_owner(w, m->src);
	return client_owner(w, m->dst);
}

/*
 * Rewrite an IPv4 packet of direction @p dir: it leaves with the other direction's key
 * reversed. Addresses and ports are adjacent in the headers, so each pair is one rotated
 * store. The checksums change by the session's precomputed deltas (negated in2out) and the
 * constant of the TTL decrement (RFC 1624).
 */
static __rte_always_inline void nat_rewrite(uint8_t *frame, uint16_t l3_off, uint16_t l4_off,
					    uint8_t proto, const struct nat_session *se, int dir,
					    bool later)
{
	struct rte_ipv4_hdr *ip = (void *)(frame + l3_off);
	const int other = !dir;
	// The header's delta has the TTL's decrement in it (nat_l3_delta()).
	uint16_t l3 = dir == DIR_O2I ? se->l3_delta : nat_l3_delta_i2o(se->l3_delta);
	uint16_t l4 = dir == DIR_O2I ? se->l4_delta : (uint16_t)~se->l4_delta;
	uint64_t a;
	uint32_t p;

	memcpy(&a, se->addr[other], 8);
	a = a >> 32 | a << 32;
	memcpy((uint8_t *)ip + offsetof(struct rte_ipv4_hdr, src_addr), &a, 8);
	ip->time_to_live--;
	ip->hdr_checksum = cksum_apply(ip->hdr_checksum, l3);
	if (later) // no L4 header
		return;
	memcpy(&p, se->port[other], 4);
	p = p >> 16 | p << 16;
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (void *)(frame + l4_off);
		memcpy(th, &p, 4); // src_port, dst_port
		th->cksum = cksum_apply(th->cksum, l4);
	} else if (proto == IPPROTO_UDP) {
		struct rte_udp_hdr *uh = (void *)(frame + l4_off);
		memcpy(uh, &p, 4); // src_port, dst_port
		uh->dgram_cksum = cksum_apply_udp(uh->dgram_cksum, l4);
	}
}

/* The cached MAC of a next hop is stale: look it up again (rare, after any ARP change). */
static bool adj_refresh(struct dp_worker *w, struct dp_adj *a)
{
	struct rte_ether_addr mac;
	uint32_t g;

	if (!neigh_lookup(a->port, a->nh, &mac, &g))
		return false;
	a->dmac = mac;
	a->smac = w->mac[a->port];
	a->gen = g;
	return true;
}

/* L2 for a translated packet: the next hop's MAC, cached while no ARP entry changed. @p gen:
 * neigh_gen(), read once per burst by the burst loop (a change during a burst is seen by the
 * next one, as if it had come a burst later). */
static __rte_always_inline void nat_output(struct dp_worker *w, struct rte_mbuf *mb, uint8_t *frame,
					   uint16_t adj, uint32_t gen)
{
	struct rte_ether_hdr *eth = (void *)frame; // rte_pktmbuf_mtod(mb)
	struct dp_adj *a = &w->adj[adj];
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	// The port and the generation in one load, before the header's stores (after them gcc
	// computed the entry's address again for each field).
	static_assert(offsetof(struct dp_adj, gen) == offsetof(struct dp_adj, port) + 4,
		      "dp_adj: port, pad, gen in one word");
	uint64_t pg;
	memcpy(&pg, &a->port, 8);
	const uint8_t port = (uint8_t)pg; // adj_refresh() keeps it
	const uint32_t agen = (uint32_t)(pg >> 32);
#else
	const uint8_t port = a->port;
	const uint32_t agen = a->gen;
#endif

	if (unlikely(agen != gen) && !adj_refresh(w, a)) {
		struct dp_mbuf_priv *p = dp_priv(mb);
		p->out_port = a->port;
		p->nh = a->nh;
		rte_ether_addr_copy(&w->mac[a->port], &eth->src_addr);
		dp_to_slowpath(w, mb, a->port, DP_SP_NEED_NEIGH);
		return;
	}
	memcpy(eth, &a->dmac, 2 * RTE_ETHER_ADDR_LEN);
	dp_tx_enqueue_room(w, port, mb); // the burst made room (dp_tx_room())
}

/* A packet of session @p se (its window tracking @p td_off bytes into w->sess.td) in direction
 * @p dir: the TCP flags and, for RST and FIN, the sequence window when @p tcp (a refused
 * segment is dropped and changes nothing), then the session's and the mapping's counters.
 * @p l3_off, @p l4_off: constants in the plain copy. @return false when dropped. */
static __rte_always_inline bool nat_track_count(struct dp_worker *w, struct rte_mbuf *mb,
						const struct pkt_meta *m, struct nat_session *se,
						size_t td_off, int dir, uint32_t now,
						uint8_t *frame, bool tcp, uint32_t l3_off,
						uint32_t l4_off)
{
	struct dp_map_stats *ms = &w->stats.map[se->slot];

	if (tcp) {
		struct rte_tcp_hdr *th = (void *)(frame + l4_off);
		struct nat_tcp_td *td = (void *)((uint8_t *)w->sess.td + td_off);
		int why = nat_tcp_track(se, td, dir, th, m->ip_len - (l4_off - l3_off));
		if (unlikely(why)) {
			dp_drop(w, mb, (enum dp_drop)why);
			return false;
		}
	}
	se->last_seen = now;
	se->pkts[dir]++;
	se->bytes[dir] += m->ip_len;
	ms->pkts[dir]++;
	ms->bytes[dir] += m->ip_len;
	return true;
}

/* nat_forward() of a TCP or UDP packet (@p proto, a constant) that is no fragment and has an
 * IPv4 header of 20 bytes after the Ethernet header (PKT_PLAIN()): its offsets are constants. */
static __rte_always_inline void nat_forward_plain(struct dp_worker *w, struct rte_mbuf *mb,
						  const struct pkt_meta *m, struct nat_session *se,
						  size_t td_off, int dir, uint32_t now,
						  uint32_t gen, uint8_t *frame, const uint8_t proto)
{
	if (!nat_track_count(w, mb, m, se, td_off, dir, now, frame, proto == IPPROTO_TCP,
			     PKT_PLAIN_L3, PKT_PLAIN_L4))
		return;
	nat_rewrite(frame, PKT_PLAIN_L3, PKT_PLAIN_L4, proto, se, dir, false);
	nat_output(w, mb, frame, se->adj[dir], gen);
}

/* Forward a packet of session @p idx (its record @p se, its window tracking @p td_off bytes into
 * w->sess.td: an offset, so that the table's address is loaded only for TCP). @p later:
 * a non-first fragment (a constant at each call, so the burst loop's copy has no fragment
 * tests left). */
static __rte_always_inline void nat_forward_at(struct dp_worker *w, struct rte_mbuf *mb,
					       const struct pkt_meta *m, struct nat_session *se,
					       size_t td_off, uint32_t idx, int dir, uint32_t now,
					       uint32_t gen, bool later)
{
	uint8_t *frame = rte_pktmbuf_mtod(mb, uint8_t *);

	if (unlikely(m->ttl <= 1)) {
		dp_to_slowpath(w, mb, dir == DIR_O2I && !se->hairpin ? DP_PORT_EXT : DP_PORT_INT,
			       DP_SP_TTL);
		return;
	}
	if (!later) {
		// Nearly every packet: TCP or UDP, no fragment, no IP options, told by one compare
		// each; the protocol and the offsets are then constants in each copy, and the
		// fragment test gone.
		const uint64_t w0 = pkt_meta_w0(m) & PKT_PLAIN_MASK;
		if (likely(w0 == PKT_PLAIN(IPPROTO_TCP))) {
			nat_forward_plain(w, mb, m, se, td_off, dir, now, gen, frame, IPPROTO_TCP);
			return;
		}
		if (likely(w0 == PKT_PLAIN(IPPROTO_UDP))) {
			nat_forward_plain(w, mb, m, se, td_off, dir, now, gen, frame, IPPROTO_UDP);
			return;
		}
	}
	if (!nat_track_count(w, mb, m, se, td_off, dir, now, frame,
			     !later && m->proto == IPPROTO_TCP, m->l3_off, m->l4_off))
		return;
	if (unlikely(m->frag != FRAG_NONE)) {
		if (!later)
			frag_remember(w, m, idx, dir);
		if (unlikely(!frag_pass(w, frame, m))) {
			dp_drop(w, mb, DP_DROP_FRAG_OVERLAP);
			return;
		}
	}
	nat_rewrite(frame, m->l3_off, m->l4_off, m->proto, se, dir, later);
	nat_output(w, mb, frame, se->adj[dir], gen);
}

/* Forward a packet of session @p idx (nat_forward_at()). */
static __rte_always_inline void nat_forward(struct dp_worker *w, struct rte_mbuf *mb,
					    const struct pkt_meta *m, uint32_t idx, int dir,
					    uint32_t now, uint32_t gen, bool later)
{
	nat_forward_at(w, mb, m, &w->sess.recs[idx], (size_t)idx * sizeof(struct nat_tcp_td), idx,
		       dir, now, gen, later);
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
	uint32_t in_ihl, quoted, ref;
	struct nat_key k, other;
	rte_be16_t *in_ports;
	unsigned int owner;
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
			owner = client_owner(w, in_ip->dst_addr);
		else if (tables_is_local(t, DP_PORT_INT, m->dst))
			owner = snat_owner(w, in_ports[0]);
		else
			owner = client_owner(w, in_ip->src_addr);
		if (owner != w->id) {
			dp_priv(mb)->in_port = in_port;
			if (rte_ring_sp_enqueue(w->handoff_out[owner], mb) != 0)
				dp_drop(w, mb, DP_DROP_HANDOFF_RING_FULL);
			else
				w->stats.handoff_out++;
			return;
		}
	}

	// The quoted packet went the other way: its reverse is a key of this direction.
	k = (struct nat_key){.src = in_ip->dst_addr,
			     .dst = in_ip->src_addr,
			     .sport = in_ports[1],
			     .dport = in_ports[0],
			     .proto = in_ip->next_proto_id,
			     .family = 4};
	ref = nat_sessions_lookup(&w->sess, &k);
	if (ref == NAT_REF_NONE || (int)(ref & 1) != dir) {
		if (ref == NAT_REF_NONE && dp_kernel_wants(t, in_port, m->dst))
			dp_to_slowpath(w, mb, in_port, DP_SP_KERNEL); // about the host's packet
		else
			dp_drop(w, mb, DP_DROP_ICMP_NO_SESSION);
		return;
	}
	if (m->ttl <= 1) {
		dp_drop(w, mb, DP_DROP_TTL_EXCEEDED); // no ICMP error about an ICMP error
		return;
	}
	struct nat_session *se = &w->sess.recs[ref >> 1];
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

	// A next-hop MTU below the floor is raised to it, whichever side it comes from
	// (RFC 1191 §4 trusts it as is): a forged "fragmentation needed, MTU 68" from outside
	// would make the pod send tiny packets to the SNAT address, which every client shares
	// under full NAT; from inside, it would do the same to the client's path to the mapping.
	if (m->icmp_type == ICMP_DEST_UNREACH && m->icmp_code == ICMP_FRAG_NEEDED_CODE &&
	    rte_be_to_cpu_16(ih->icmp_seq_nb) < NAT_PMTU_FLOOR)
		ih->icmp_seq_nb = RTE_BE16(NAT_PMTU_FLOOR); // the next-hop MTU field
	ip->src_addr = other.dst;
	ip->dst_addr = other.src;
	ip->time_to_live--;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_full(ip, m->l4_off - m->l3_off);
	ih->icmp_cksum = 0;
	ih->icmp_cksum = cksum_full(ih, icmp_len);
	se->last_seen = dp_ticks(w);
	nat_output(w, mb, frame, se->adj[dir], neigh_gen());
}

/*
 * What every packet of a burst is checked against, read from the tables once a burst: the
 * compiler cannot keep table fields in registers across the stores of a packet's rewrite.
 */
struct burst_ctx {
	uint32_t mac_lo; /**< the receiving port's MAC, bytes 0-3 and 4-5 */
	uint16_t mac_hi;
	uint64_t mac64; /**< the same six bytes in memory order, the last two bytes 0 */
	const rte_be32_t *vip_slots; /**< tables.vip_slots: an O(1) set */
	uint32_t vip_mask;
	uint64_t vip_last; /**< the last address found in the set; UINT64_MAX: none yet (no
			       address matches it, 0.0.0.0 neither) */
	uint64_t vip_solo; /**< vip_last when the worker is the only one (a packet to it needs
			       no handoff either, classify_ip()); else UINT64_MAX */
	const struct tbl_prefix *int_pfx;
	uint32_t n_int_pfx;
	rte_be32_t int_cover_mask; /**< network order (AND commutes with the byte swap): the */
	rte_be32_t int_cover_net;  /**< longest prefix covering every int_pfx (none: mask 0,
				      net 1, which no address matches) */
};

/* The longest prefix that holds every prefix of @p c: an address outside it is outside all of
 * them, in one test instead of a loop (the anti-spoofing check of every ext packet). */
static inline void ctx_int_cover(struct burst_ctx *c)
{
	uint32_t mask = UINT32_MAX, diff = 0, net;

	if (c->n_int_pfx == 0) {
		c->int_cover_mask = 0;
		c->int_cover_net = RTE_BE32(1);
		return;
	}
	net = c->int_pfx[0].net;
	for (uint32_t i = 0; i < c->n_int_pfx; i++) {
		mask &= c->int_pfx[i].mask;
		diff |= c->int_pfx[i].net ^ net;
	}
	if (diff) // only the bits above the highest one where two networks differ
		mask &= ~(UINT32_MAX >> __builtin_clz(diff));
	c->int_cover_mask = rte_cpu_to_be_32(mask);
	c->int_cover_net = rte_cpu_to_be_32(net & mask);
}

/* A burst is mostly for one or a few mappings' addresses: the last one found answers without
 * hashing (the set is the burst's tables', which do not change during the burst). */
static inline bool ctx_is_vip(struct burst_ctx *c, rte_be32_t a)
{
	if (likely((uint64_t)a == c->vip_last))
		return true;
	if (!tables_vip_in(c->vip_slots, c->vip_mask, a))
		return false;
	c->vip_last = a;
	return true;
}

static inline bool ctx_is_int_net(const struct burst_ctx *c, rte_be32_t a_be)
{
	// The cover in network order: no byte swap for the packets outside it, nearly all.
	if (likely((a_be & c->int_cover_mask) != c->int_cover_net))
		return false;
	const uint32_t a = dp_ntohl(a_be);
	for (uint32_t i = 0; i < c->n_int_pfx; i++)
		if ((a & c->int_pfx[i].mask) == c->int_pfx[i].net)
			return true;
	return false;
}

/* Whether the frame at @p eth is addressed to the receiving port's MAC. */
static __rte_always_inline bool classify_mac(const struct burst_ctx *c, const uint8_t *eth)
{
	uint32_t lo;
	uint16_t hi;

	memcpy(&lo, eth, 4);
	memcpy(&hi, eth + 4, 2);
	return ((lo ^ c->mac_lo) | (uint32_t)(hi ^ c->mac_hi)) == 0;
}

/* classify_mac() of a frame of at least 8 bytes: its first 8 bytes as one word, and of the XOR
 * with the MAC only the destination's 6 bytes kept (the word shifted by the source's 2). */
static __rte_always_inline bool classify_mac8(const struct burst_ctx *c, const uint8_t *eth)
{
	uint64_t x;

	memcpy(&x, eth, 8);
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return ((x ^ c->mac64) << 16) == 0;
#else
	return ((x ^ c->mac64) >> 16) == 0;
#endif
}

/*
 * The checks of a parsed IPv4 packet (@p src, @p dst: its addresses, as in @p m). @p fast: the
 * fast parser took it, so it is TCP or UDP and no fragment (a constant at each call: the ICMP
 * test is left out of that copy). @return true when the packet starts no lookup.
 */
static __rte_always_inline bool classify_ip(struct dp_worker *w, const struct tables *t,
					    struct burst_ctx *c, uint8_t in_port,
					    struct rte_mbuf *mb, struct pkt_meta *m,
					    const uint8_t *eth, bool for_mac, rte_be32_t src,
					    rte_be32_t dst, const bool fast)
{
	if (unlikely(!for_mac)) {
		// Multicast and broadcast (routing daemons' hellos, DHCP): the kernel's.
		if ((eth[0] & 1) && dp_kernel_wants(t, in_port, dst))
			dp_to_slowpath(w, mb, in_port, DP_SP_KERNEL);
		else
			dp_drop(w, mb, DP_DROP_NOT_FOR_US);
		return true;
	}
	if (in_port == DP_PORT_EXT && unlikely(ctx_is_int_net(c, src))) {
		dp_drop(w, mb, DP_DROP_SPOOFED_SOURCE);
		return true;
	}
	if (!fast && unlikely(m->proto == IPPROTO_ICMP)) {
		if (m->icmp_type == RTE_IP_ICMP_ECHO_REQUEST &&
		    (in_port == DP_PORT_EXT ? tables_is_vip(t, m->dst)
					    : tables_is_local(t, in_port, m->dst)))
			dp_to_slowpath(w, mb, in_port, DP_SP_LOCAL);
		else if (m->icmp_type == RTE_IP_ICMP_ECHO_REPLY &&
			 dp_kernel_wants(t, in_port, m->dst))
			dp_to_slowpath(w, mb, in_port, DP_SP_KERNEL); // the host's own ping
		else if (m->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ||
			 m->icmp_type == RTE_IP_ICMP_ECHO_REPLY)
			dp_drop(w, mb, DP_DROP_NOT_FOR_US);
		else
			nat_icmp_error(w, t, in_port, mb, m);
		return true;
	}
	if (in_port == DP_PORT_EXT) {
		// Nearly every packet of a single worker: to the address found last, so no handoff
		// either (one compare for the two tests below).
		if (likely((uint64_t)dst == c->vip_solo))
			return false;
		if (unlikely(!ctx_is_vip(c, dst))) {
			dp_drop(w, mb, DP_DROP_NOT_FOR_US);
			return true;
		}
		if (w->n_workers == 1)
			c->vip_solo = dst;
	}
	if (w->n_workers > 1) {
		unsigned int owner = nat_owner(w, t, in_port, m);
		uint8_t steered = 0;
		// Fragments to the SNAT address: through their datagram's steering worker (frag.h).
		if (!fast && unlikely(m->frag != FRAG_NONE) && in_port == DP_PORT_INT &&
		    tables_is_local(t, DP_PORT_INT, m->dst))
			owner = frag_owner(w, mb, m, owner, &steered);
		if (owner != w->id) {
			dp_priv(mb)->in_port = in_port | steered;
			if (rte_ring_sp_enqueue(w->handoff_out[owner], mb) != 0) {
				dp_priv(mb)->in_port = in_port;
				dp_drop(w, mb, DP_DROP_HANDOFF_RING_FULL);
			} else {
				w->stats.handoff_out++;
			}
			return true;
		}
	}
	return false;
}

/* A frame the fast parser did not take (pkt_parse_fast_key()): the general parse and its drop
 * reasons, ARP, ICMP, fragments, IP options. @return true when the packet starts no lookup. */
static __rte_always_inline bool classify_general(struct dp_worker *w, const struct tables *t,
						 struct burst_ctx *c, uint8_t in_port,
						 struct rte_mbuf *mb, struct pkt_meta *m,
						 const uint8_t *eth)
{
	const enum pkt_kind kind = pkt_parse_general(eth, rte_pktmbuf_data_len(mb), m);
	const bool for_mac = classify_mac(c, eth);

	if (unlikely(kind != PKT_IPV4)) {
		if (kind != PKT_DROP)
			dp_to_slowpath(w, mb, in_port, DP_SP_ARP);
		else if (m->drop == DP_DROP_UNSUPPORTED_PROTO && (for_mac || (eth[0] & 1)) &&
			 dp_kernel_wants(t, in_port, m->dst))
			dp_to_slowpath(w, mb, in_port, DP_SP_KERNEL); // VRRP, OSPF, IGMP...
		else
			dp_drop(w, mb, (enum dp_drop)m->drop);
		return true;
	}
	return classify_ip(w, t, c, in_port, mb, m, eth, for_mac, m->src, m->dst, false);
}

/* Held later fragments whose first fragment has now passed: forwarded, or passed on to the
 * worker that owns their session. */
static __rte_noinline void nat_frag_retry(struct dp_worker *w, uint32_t now)
{
	struct rte_mbuf *mb;
	struct pkt_meta m;
	unsigned int to;
	uint32_t idx;
	uint8_t port;

	while ((mb = frag_take_ready(w, &m, &port, &to, &idx)) != NULL) {
		if (to == w->id) {
			dp_tx_room(w, 1); // not one of the burst's packets
			nat_forward(w, mb, &m, idx, port == DP_PORT_EXT ? DIR_O2I : DIR_I2O, now,
				    neigh_gen(), true);
			continue;
		}
		dp_priv(mb)->in_port = port | DP_PRIV_FRAG_STEERED;
		if (rte_ring_sp_enqueue(w->handoff_out[to], mb) != 0) {
			dp_priv(mb)->in_port = port;
			dp_drop(w, mb, DP_DROP_HANDOFF_RING_FULL);
		} else {
			w->stats.handoff_out++;
		}
	}
}

/* The last service looked up in this burst: a burst of new flows is mostly for one port. */
struct svc_cache {
	rte_be32_t dst;
	rte_be16_t dport;
	uint8_t proto; /**< 0: empty */
	const struct tbl_service *svc;
};

/* A first packet without a session, on ext or (hairpin) on int to a mapping's address: the
 * checks of DESIGN §3, then a new session. Inline in ext's burst loop (the call and its
 * register saves were ~40 instructions a new session). */

/* Whether the L4 checksum of @p mb, a session's first packet (@p m its parse), verifies: as the
 * NIC found it where the port's rx checksum offload is on (dp/ports.c; ol_flags, DPDK's
 * RTE_MBUF_F_RX_L4_CKSUM_*: GOOD, or NONE, a checksum the sender left to offload over data
 * that the device has verified), else in software (RFC 1071). A first fragment passes whatever
 * a device said, as pkt_l4_cksum_ok() lets it: its checksum covers the whole datagram, which
 * no device sees either. */
static inline bool l4_cksum_ok(const struct rte_mbuf *mb, const struct pkt_meta *m)
{
	const uint64_t f = mb->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (likely(f == RTE_MBUF_F_RX_L4_CKSUM_GOOD))
		return true;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN)
		return pkt_l4_cksum_ok(rte_pktmbuf_mtod(mb, const uint8_t *), m);
	return f == RTE_MBUF_F_RX_L4_CKSUM_NONE || m->frag != FRAG_NONE; // else BAD
}

/* Packet @p mb (its parse @p m) waits for the end of the burst, behind session w->pend[@p p]. */
static inline void nat_wait(struct dp_worker *w, struct rte_mbuf *mb, const struct pkt_meta *m,
			    uint32_t p)
{
	w->wait_mb[w->n_wait] = mb;
	w->wait_m[w->n_wait] = m;
	w->wait_pend[w->n_wait++] = (uint8_t)p;
}

/* Whether @p r, found for a packet of an ext burst, is the out2in key of a session whose
 * in2out key waits (w->pend): the packet then waits too, behind the flow's first. */
static __rte_noinline bool nat_wait_behind(struct dp_worker *w, uint32_t r, struct rte_mbuf *mb,
					   const struct pkt_meta *m)
{
	if ((r & 1) != DIR_O2I)
		return false;
	for (uint32_t p = 0; p < w->n_pend; p++) {
		if (w->pend[p].idx == r >> 1) {
			nat_wait(w, mb, m, p);
			return true;
		}
	}
	return false;
}

/* The end of an ext burst whose packets wait (nat_wait()): the sessions' in2out keys in, the
 * packets sent in the order they came (a flow's own packets in order), or dropped where their
 * session found no room. Out of line: once a burst, and only under new flows. */
static __rte_noinline void nat_wait_end(struct dp_worker *w, const struct tables *t, uint32_t now,
					uint32_t gen)
{
	nat_sessions_commit(w, t);
	for (uint32_t i = 0; i < w->n_wait; i++) {
		const struct nat_pending *p = &w->pend[w->wait_pend[i]];
		if (likely(p->idx != NAT_REC_NONE)) {
			nat_forward(w, w->wait_mb[i], w->wait_m[i], p->idx, DIR_O2I, now, gen,
				    false);
		} else {
			w->stats.map[p->slot].drops++;
			dp_drop(w, w->wait_mb[i], DP_DROP_SESSION_TABLE_FULL);
		}
	}
	w->n_wait = w->n_pend = 0;
}

static __rte_always_inline bool nat_miss(struct dp_worker *w, const struct tables *t,
					 struct rte_mbuf *mb, const struct pkt_meta *m,
					 struct nat_hash h, uint32_t now, uint32_t gen,
					 struct svc_cache *sc, uint8_t in_port)
{
	const struct tbl_service *svc;
	enum dp_drop why;

	if (sc->proto == m->proto && sc->dst == m->dst && sc->dport == m->dport) {
		svc = sc->svc;
	} else {
		svc = tables_svc_lookup(t, m->dst, m->dport, m->proto);
		*sc = (struct svc_cache){m->dst, m->dport, m->proto, svc};
	}

	if (!svc) {
		// BGP, BFD, ssh... to the gateway's own addresses: its kernel's, when it has one.
		if (dp_kernel_wants(t, DP_PORT_EXT, m->dst))
			dp_to_slowpath(w, mb, DP_PORT_EXT, DP_SP_KERNEL);
		else
			dp_drop(w, mb, DP_DROP_NO_MAPPING);
		return false;
	}
	if (m->proto == IPPROTO_TCP && unlikely(!nat_tcp_flags_valid(m->tcp_flags))) {
		dp_drop(w, mb, DP_DROP_TCP_BAD_FLAGS);
		return false;
	}
	const uint8_t hs =
		m->proto == IPPROTO_TCP
			? m->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)
			: RTE_TCP_SYN_FLAG;
	// Not a SYN: only a mid-flow ACK (no SYN, no RST) of a mapping with pickup starts one.
	if (hs != RTE_TCP_SYN_FLAG &&
	    (hs != RTE_TCP_ACK_FLAG || !t->mappings[svc->mapping].pickup)) {
		dp_drop(w, mb, DP_DROP_TCP_NOT_SYN);
		return false;
	}
	// Before a session exists: a packet that would expire here starts none (RFC 1812 §5.3.1).
	if (unlikely(m->ttl <= 1)) {
		dp_to_slowpath(w, mb, in_port, DP_SP_TTL);
		return false;
	}
	if (!l4_cksum_ok(mb, m)) {
		dp_drop(w, mb, DP_DROP_BAD_L4_CHECKSUM);
		return false;
	}
	const uint32_t n_pend = w->n_pend;
	int idx = nat_session_create(w, t, m, svc, h.bkt, h.sig, in_port == DP_PORT_INT,
				     in_port == DP_PORT_EXT, &why);
	if (idx < 0) {
		w->stats.map[t->mappings[svc->mapping].slot].drops++;
		if (why == DP_DROP_REJECTED)
			dp_reject(w, mb, m);
		else
			dp_drop(w, mb, why);
		// A creation that failed for room may have moved keys (cuckoo) before it found
		// none for its second key: the table changed all the same.
		return why == DP_DROP_SESSION_TABLE_FULL;
	}
	if (m->proto == IPPROTO_TCP) {
		uint16_t slot = t->mappings[svc->mapping].slot;
		const struct rte_tcp_hdr *th =
			rte_pktmbuf_mtod_offset(mb, const struct rte_tcp_hdr *, m->l4_off);
		w->sess.td[idx].mss_clamp = t->slot_mss_clamp ? t->slot_mss_clamp[slot] : 0;
		if (hs == RTE_TCP_ACK_FLAG)
			nat_session_pickup(w, (uint32_t)idx, th);
		else
			nat_tcp_track_start(&w->sess.td[idx], th,
					    m->ip_len - (uint32_t)(m->l4_off - m->l3_off));
	}
	if (w->n_pend != n_pend) {
		// Its in2out key waits for the burst's end (nat_session_create()): so does it.
		nat_wait(w, mb, m, n_pend);
		return true;
	}
	nat_forward(w, mb, m, (uint32_t)idx, DIR_O2I, now, gen, false);
	return true;
}

/* A hairpin's first packet, on int: rare, so out of int's burst loop. */
static __rte_noinline bool nat_miss_int(struct dp_worker *w, const struct tables *t,
					struct rte_mbuf *mb, const struct pkt_meta *m,
					struct nat_hash h, uint32_t now, uint32_t gen,
					struct svc_cache *sc)
{
	return nat_miss(w, t, mb, m, h, now, gen, sc, DP_PORT_INT);
}

/* Whether a TCP or UDP packet on int without a session is the kernel's: to one of the int
 * addresses; on a SNAT address, whose other ports belong to sessions (a late packet of an
 * expired one is no_session, not the kernel's), only below the SNAT ports (DP_SNAT_PORT_MIN:
 * BGP's 179) or to BFD's (RFC 5881 §4: 3784, 3785; RFC 5883 §5: 4784). */
static __rte_noinline bool int_for_kernel(const struct tables *t, const struct pkt_meta *m)
{
	const uint16_t dport = rte_be_to_cpu_16(m->dport);

	if (!dp_kernel_wants(t, DP_PORT_INT, m->dst))
		return false;
	if (dport < DP_SNAT_PORT_MIN || dport == 3784 || dport == 3785 || dport == 4784)
		return true;
	if (dport == dp_sync_port && m->proto == IPPROTO_UDP) // session sync (dp/sync.c)
		return true;
	for (uint32_t i = 0; i < t->n_snat; i++)
		if (t->snat_addrs[i] == m->dst)
			return false;
	return true;
}

/* How many packets ahead of its rewrite a packet's bucket is scanned and its record
 * prefetched. The whole burst (VPP's group prefetch): every bucket of the burst is scanned
 * before the first rewrite, so each record has the rest of stage 2 and the rewrites before it
 * to arrive. Measured side by side on the pipeline benchmark at 1M sessions (hugepages),
 * three pairs of 5-run medians: 164/141, 276/209, 270/197 cycles a packet for 6/32 ahead;
 * again at stop 32 (bursts of 32, established uniform out2in): 103, 85-88, 72-76 cycles for
 * 8, 16, 32 ahead. */
#define NAT_LOOKAHEAD DP_BURST

/* A key of the burst on its way through the stages. */
struct burst_key {
	struct nat_key key; /**< built as two words in registers (nat_key_words) */
	struct nat_hash h;
	uint64_t ref; /**< stage 2's candidate, a uint32_t reference (64 bits wide for stage 3's
			 record address: no zero extension); STAGE2_NONE(): the primary bucket
			 had no signature match, stage 3 scans the other */
	struct rte_mbuf *mb;	  /**< the packet (stored, not its index: no lookups of the */
	const struct pkt_meta *m; /**< burst's arrays in stage 3), and its meta */
};

/*
 * Stage 2's "no candidate" for a burst of direction @p dir: NAT_REF_NONE with the other
 * direction's low bit, so that stage 3's first test, the candidate's direction, excludes it
 * alone (out2in NAT_REF_NONE itself, in2out NAT_REF_NONE - 1). No record has either index.
 */
#define STAGE2_NONE(dir) (NAT_REF_NONE ^ (uint32_t)(dir))
static_assert(CFG_MAX_SESSIONS < NAT_REF_NONE >> 1, "STAGE2_NONE() is no record's reference");
static_assert((STAGE2_NONE(DIR_O2I) & 1) != DIR_O2I && (STAGE2_NONE(DIR_I2O) & 1) != DIR_I2O,
	      "STAGE2_NONE() has the other direction's bit");

/* Stage 2 of a key: a signature match in its primary bucket names a record: prefetch it.
 * (A key is in its primary bucket unless that was full when it was added; otherwise
 * prefetch the alternative bucket for stage 3 to scan, and name no record: STAGE2_NONE().) */
static __rte_always_inline void stage2(const struct nat_sessions *s, struct burst_key *bk,
				       const uint8_t in_port)
{
	const struct nat_bucket *b = &s->bkt[bk->h.bkt];
	unsigned int mt = nat_bkt_match(b, bk->h.sig);

	if (likely(mt)) {
		bk->ref = b->ref[__builtin_ctz(mt)];
		rte_prefetch0(nat_ref_rec_line(s, bk->ref));
		if (bk->key.proto == IPPROTO_TCP)
			rte_prefetch0(nat_ref_td_line(s, bk->ref)); // the window tracking
	} else {
		bk->ref = STAGE2_NONE(in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O);
		rte_prefetch0(&s->bkt[nat_bkt_alt(s, bk->h.bkt, bk->h.sig)]);
	}
}

/* Stage 3 of a key that is not its candidate's (stage3()): the alternative bucket, a full
 * lookup, a miss. */
static __rte_always_inline bool stage3_rest(struct dp_worker *w, const struct tables *t,
					    const uint8_t in_port, const struct burst_key *bk,
					    uint32_t now, uint32_t gen, bool created,
					    struct svc_cache *sc)
{
	const struct nat_sessions *s = &w->sess;
	const int dir = in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O;
	struct rte_mbuf *mb = bk->mb;
	const struct pkt_meta *m = bk->m;
	// STAGE2_NONE() of either direction: NAT_REF_NONE from here on.
	uint32_t r = bk->ref >= NAT_REF_NONE - 1 ? NAT_REF_NONE : (uint32_t)bk->ref;

	if (unlikely(r == NAT_REF_NONE)) { // not in the primary bucket
		const struct nat_bucket *b = &s->bkt[nat_bkt_alt(s, bk->h.bkt, bk->h.sig)];
		unsigned int mt = nat_bkt_match(b, bk->h.sig);
		if (mt)
			r = b->ref[__builtin_ctz(mt)];
	}
	// A signature match that is another key's (1 in 2^32 a pair) or a second match in the
	// same bucket: the full lookup sorts it out.
	if (unlikely(r != NAT_REF_NONE && !nat_session_match(&s->recs[r >> 1], r, &bk->key)))
		r = nat_sessions_lookup_h(s, &bk->key, bk->h);
	// A session made (or a key moved by a cuckoo insert) by an earlier packet of this burst
	// may have put the key in its primary bucket after stage 2 looked there: that bucket
	// again, only it (the other one was scanned just now, on the table as it is, alone or by
	// the full lookup). Half the full lookup a miss paid here before (docs/benchmarks.md).
	if (unlikely(r == NAT_REF_NONE) && created)
		r = nat_bkt_find(s, &s->bkt[bk->h.bkt], bk->h.sig, &bk->key);
	// A later packet of a flow made in this burst, whose first packet waits: behind it.
	if (in_port == DP_PORT_EXT && unlikely(w->n_wait) && r != NAT_REF_NONE &&
	    nat_wait_behind(w, r, mb, m))
		return false;
	if (unlikely(r == NAT_REF_NONE)) {
		// On int, only a packet to a mapping's address may start a session (hairpin);
		// the rest is the kernel's (BGP, BFD to the int address) or dropped.
		if (in_port != DP_PORT_EXT && !tables_is_vip(t, m->dst)) {
			if (int_for_kernel(t, m))
				dp_to_slowpath(w, mb, in_port, DP_SP_KERNEL);
			else
				dp_drop(w, mb, DP_DROP_NO_SESSION);
			return false;
		}
		// ext's first packets, most of a burst under a flood of new flows: inline there.
		// Whether the table changed (a session made, or keys moved): later misses of the
		// burst then look again.
		if (in_port == DP_PORT_EXT)
			return nat_miss(w, t, mb, m, bk->h, now, gen, sc, DP_PORT_EXT);
		return nat_miss_int(w, t, mb, m, bk->h, now, gen, sc);
	}
	if (unlikely((int)(r & 1) != dir)) {
		// A hairpin session's client is behind int: its out2in packets arrive there.
		if (in_port == DP_PORT_INT && s->recs[r >> 1].hairpin) {
			nat_forward(w, mb, m, r >> 1, DIR_O2I, now, gen, false);
			return false;
		}
		dp_drop(w, mb, DP_DROP_NO_SESSION);
		return false;
	}
	nat_forward(w, mb, m, r >> 1, dir, now, gen, false);
	return false;
}

static __rte_noinline bool stage3_rest_int(struct dp_worker *w, const struct tables *t,
					   const struct burst_key *bk, uint32_t now, uint32_t gen,
					   bool created, struct svc_cache *sc)
{
	return stage3_rest(w, t, DP_PORT_INT, bk, now, gen, created, sc);
}

/* Stage 3 of a key: check it against its record and rewrite; a miss on ext may start a
 * session. @return whether the session table changed (a session created, or keys moved). */
static __rte_always_inline bool stage3(struct dp_worker *w, const struct tables *t, uint8_t in_port,
				       const struct burst_key *bk, uint32_t now, uint32_t gen,
				       bool created, struct svc_cache *sc)
{
	const struct nat_sessions *s = &w->sess;
	const int dir = in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O;
	struct rte_mbuf *mb = bk->mb;
	const struct pkt_meta *m = bk->m;
	const uint64_t r = bk->ref;

	// Nearly every packet: stage 2's candidate is a record of this direction with this key.
	// Checked with the direction a constant (the record's fields at fixed offsets); anything
	// else takes the general steps below, from the start.
	// (STAGE2_NONE() has the other direction's bit: the direction test alone excludes it.)
	if (likely((r & 1) == (uint32_t)dir &&
		   nat_session_match(nat_ref_rec(s, r, (unsigned int)dir), (uint32_t)dir,
				     &bk->key))) {
		nat_forward_at(w, mb, m, nat_ref_rec(s, r, (unsigned int)dir),
			       nat_ref_td_off(r, (unsigned int)dir), (uint32_t)(r >> 1), dir, now,
			       gen, false);
		return false;
	}
	// The rest: out of int's loop (a miss there is rare: hairpin, the kernel's, a stray),
	// so that its registers do not crowd the loop; inline in ext's, where first packets are.
	if (in_port == DP_PORT_INT)
		return stage3_rest_int(w, t, bk, now, gen, created, sc);
	return stage3_rest(w, t, DP_PORT_EXT, bk, now, gen, created, sc);
}

static __rte_always_inline void burst(struct dp_worker *w, const struct tables *t,
				      const uint8_t in_port, struct rte_mbuf **pkts, uint16_t n)
{
	struct nat_sessions *s = &w->sess;
	struct pkt_meta meta[DP_BURST];
	struct burst_key bk[DP_BURST];
	uint16_t later[DP_BURST];
	unsigned int n_later = 0, nk, j;
	struct svc_cache sc = {0};
	bool created = false;
	const uint32_t now = dp_ticks(w);
	const uint32_t gen = neigh_gen(); // once a burst (nat_output())
	struct burst_ctx ctx = {.mac64 = 0,
				.vip_slots = t->vip_slots,
				.vip_mask = t->vip_mask,
				.vip_last = UINT64_MAX,
				.vip_solo = UINT64_MAX,
				.int_pfx = t->int_pfx,
				.n_int_pfx = t->n_int_nets};
	if (in_port == DP_PORT_EXT)
		ctx_int_cover(&ctx);
	memcpy(&ctx.mac_lo, &w->mac[in_port], 4);
	memcpy(&ctx.mac_hi, (const uint8_t *)&w->mac[in_port] + 4, 2);
	memcpy(&ctx.mac64, &w->mac[in_port], 6);

	if (n > DP_BURST)
		n = DP_BURST;
	// Each packet of the burst leaves at most once, on either port (translated, an ICMP
	// error, a reject): room for all of them now, no test per packet.
	dp_tx_room(w, n);

	// Stage 1: parse and classify the whole burst; hash the keys, prefetch their buckets.
	// The table's secret and mask in locals: to the compiler, the parse's and the keys'
	// stores (bytes) could change them, and it would load them again for every packet.
	const uint64_t hkey[2] = {s->key[0], s->key[1]};
	const uint32_t hmask = s->bkt_mask;
	struct burst_key *b = bk; // the next key: a pointer, not an index scaled per packet
	// The packet and its meta as two pointers advanced together, to an end pointer: no index
	// scaled per packet (the index is taken from the meta's pointer where it is needed).
	struct rte_mbuf **pp = pkts;
	for (struct pkt_meta *m = meta, *const m_end = meta + n; m < m_end; m++, pp++) {
		struct rte_mbuf *mb = *pp;
		uint64_t w0, w1;
		if (unlikely(mb->nb_segs > 1) && rte_pktmbuf_linearize(mb) < 0) {
			dp_drop(w, mb, DP_DROP_TRUNCATED);
			continue;
		}
		// The frame's address once: the parse's stores into the meta would make gcc load
		// the mbuf's fields again for a second rte_pktmbuf_mtod().
		const uint8_t *eth = rte_pktmbuf_mtod(mb, const uint8_t *);
		// The header checksum is the NIC's where it verified it (dp/ports.c asks for the
		// offload; a bad one is summed here, found bad, and dropped by the general parse).
		if (likely(pkt_parse_fast_key(eth, rte_pktmbuf_data_len(mb), m, &w0, &w1,
					      mb->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD))) {
			// Nearly every packet: the key's words come from the parse, in registers,
			// and the checks are those of a TCP or UDP packet that is no fragment (the
			// frame has at least 54 bytes: the MAC test may read 8).
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
			const rte_be32_t src = (rte_be32_t)w0, dst = (rte_be32_t)(w0 >> 32);
#else
			const rte_be32_t src = (rte_be32_t)(w0 >> 32), dst = (rte_be32_t)w0;
#endif
			if (classify_ip(w, t, &ctx, in_port, mb, m, eth, classify_mac8(&ctx, eth),
					src, dst, true))
				continue;
		} else {
			if (classify_general(w, t, &ctx, in_port, mb, m, eth))
				continue;
			// Later fragments go last: their first fragment, maybe in this very burst
			// (af_xdp delivers a datagram's fragments together), must have made its
			// session first.
			if (unlikely(m->frag == FRAG_LATER)) {
				later[n_later++] = (uint16_t)(m - meta);
				continue;
			}
			nat_key_words(m->src, m->dst, m->sport, m->dport, m->proto, &w0, &w1);
		}
		memcpy(&b->key, &w0, 8);
		memcpy((uint8_t *)&b->key + 8, &w1, 8);
		{
			uint64_t x = nat_nh64(hkey, w0, w1);
			b->h = (struct nat_hash){.bkt = (uint32_t)x & hmask, .sig = nat_sig(x)};
		}
		b->mb = mb;
		b->m = m;
		rte_prefetch0(&s->bkt[b->h.bkt]);
		b++;
	}
	nk = (unsigned int)(b - bk);

	// Stages 2 and 3, software-pipelined: key j's bucket is scanned and its record
	// prefetched NAT_LOOKAHEAD keys before key j is rewritten.
	if (NAT_LOOKAHEAD >= DP_BURST) {
		// The whole burst ahead: two plain loops (no lookahead arithmetic per key).
		for (j = 0; j < nk; j++)
			stage2(s, &bk[j], in_port);
		for (j = 0; j < nk; j++)
			created |= stage3(w, t, in_port, &bk[j], now, gen, created, &sc);
	} else {
		for (j = 0; j < nk && j < NAT_LOOKAHEAD; j++)
			stage2(s, &bk[j], in_port);
		for (; j < nk; j++) {
			stage2(s, &bk[j], in_port);
			created |= stage3(w, t, in_port, &bk[j - NAT_LOOKAHEAD], now, gen, created,
					  &sc);
		}
		for (j = nk > NAT_LOOKAHEAD ? nk - NAT_LOOKAHEAD : 0; j < nk; j++)
			created |= stage3(w, t, in_port, &bk[j], now, gen, created, &sc);
	}
	// The first packets that wait for their sessions' in2out keys (nat_miss()), before a
	// later fragment of theirs.
	if (in_port == DP_PORT_EXT && unlikely(w->n_wait))
		nat_wait_end(w, t, now, gen);
	for (j = 0; j < n_later; j++) {
		int idx = nat_frag_later(w, in_port, pkts[later[j]], &meta[later[j]]);
		if (idx >= 0)
			nat_forward(w, pkts[later[j]], &meta[later[j]], (uint32_t)idx,
				    in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O, now, gen, true);
	}
	if (unlikely(w->frag.retry))
		nat_frag_retry(w, now);
}

void nat_process_burst(struct dp_worker *w, const struct tables *t, uint8_t in_port,
		       struct rte_mbuf **pkts, uint16_t n)
{
	// One copy of the loop per direction: the direction is then a constant in each, and
	// the checks and selects that depend on it are gone.
	if (in_port == DP_PORT_EXT)
		burst(w, t, DP_PORT_EXT, pkts, n);
	else
		burst(w, t, DP_PORT_INT, pkts, n);
}
