/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path, run by the control thread: ARP (RFC 826) for the gateway's addresses and
 * resolution of next hops, ICMP echo replies from the gateway (RFC 792), ICMP time exceeded
 * for packets whose TTL ran out (RFC 1812 §5.3.1), and packets parked until their next hop
 * is resolved (one queue per neighbour, as Linux keeps).
 *
 * Workers hand packets over through two SP/SC rings each: ARP on its own ring, read first
 * at every poll, so that a flood of ICMP or of packets to park never delays ARP; the rest on
 * sp_out. Frames the slow path sends go back through worker 0's ctl_tx ring, so that every
 * tx queue keeps a single writer.
 *
 * Neighbours are learned per arm (neigh.h), and only from what we can trust: a reply to a
 * request we sent (outstanding: NEIGH_INCOMPLETE_S) or a request for one of our addresses,
 * and only from a sender inside the arm's connected prefixes (or one of its configured next
 * hops). Any other ARP from a known neighbour refreshes it (RFC 826's merge: a pod that moved
 * keeps working); an unsolicited reply never creates an entry (arp_unsolicited), and a sender
 * outside the arm is never learned (arp_wrong_arm).
 *
 * ICMP errors the gateway originates (time exceeded: nothing else is generated here) go
 * through two token buckets, as Linux: 1000 messages per second over all destinations, burst
 * 50 (icmp_msgs_per_sec, icmp_msgs_burst), and one per second per destination, burst 6
 * (icmp_ratelimit = 1000 ms, XRLIM_BURST_FACTOR); the rest are counted icmp_rate_limited.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ring.h>

#include <strait/cksum.h>
#include <strait/log.h>

#include "kernel.h"
#include "lifecycle.h"
#include "mbuf_priv.h"
#include "neigh.h"
#include "pkt.h"
#include "ports.h"
#include "ratelimit.h"
#include "slowpath.h"

struct dp_stats dp_sp_stats;

#define PENDING_SLOTS	  64 /**< neighbours with parked packets */
#define PENDING_PER_NEIGH 8  /**< parked packets per neighbour (Linux: unres_qlen) */
#define ARP_RETRY_S	  1
#define ARP_REFRESH_S	  30

#define GARP_PER_PASS 64 /**< gratuitous ARPs sent per dp_slowpath_poll() at most */

#define ICMP_MSGS_PER_SEC    1000 /**< Linux net.ipv4.icmp_msgs_per_sec */
#define ICMP_MSGS_BURST	     50	  /**< Linux net.ipv4.icmp_msgs_burst */
#define ICMP_DST_INTERVAL_MS 1000 /**< Linux net.ipv4.icmp_ratelimit */
#define ICMP_DST_BURST	     6	  /**< Linux XRLIM_BURST_FACTOR */
#define ICMP_DST_SLOTS	     256

struct pending {
	rte_be32_t nh;
	uint8_t port;
	uint16_t n;
	uint64_t req_tsc;
	struct rte_mbuf *m[PENDING_PER_NEIGH];
};

static struct {
	struct pending pending[PENDING_SLOTS];
	uint64_t last_refresh_tsc, last_age_tsc;
	struct dp_tbucket icmp_all;
	struct icmp_dst {
		rte_be32_t dst;
		struct dp_tbucket b;
	} icmp_dst[ICMP_DST_SLOTS];
	/* addresses announced (gratuitous ARP), as of tables generation announced_gen */
	rte_be32_t *announced[DP_PORT_MAX];
	uint32_t n_announced[DP_PORT_MAX];
	uint64_t announced_gen;
} sp;

static void sp_drop(struct rte_mbuf *m, enum dp_drop why)
{
	dp_sp_stats.drops[why]++;
	rte_pktmbuf_free(m);
}

static void sp_send(struct rte_mbuf *m, uint8_t port)
{
	struct dp_worker *w0 = dp_workers[0];

	dp_priv(m)->out_port = port;
	if (!w0 || rte_ring_mp_enqueue(w0->ctl_tx, m) != 0)
		sp_drop(m, DP_DROP_TX_FULL);
}

static rte_be32_t port_addr(const struct tables *t, uint8_t port)
{
	return t && t->n_addrs[port] ? t->addrs[port][0] : 0;
}

/* Whether @p a (network order) may be a neighbour on @p port: inside one of the arm's
 * connected prefixes (its addresses' and on-link routes'), or one of its next hops. */
static bool on_arm(const struct tables *t, uint8_t port, rte_be32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	for (uint32_t i = 0; i < t->n_routes; i++) {
		const struct tbl_route *r = &t->routes[i];
		if (r->port != port)
			continue;
		if (r->via ? r->via == h : (h & r->mask) == r->prefix.addr)
			return true;
	}
	return false;
}

static bool is_ours(const struct tables *t, uint8_t port, rte_be32_t a)
{
	return port == DP_PORT_EXT ? tables_is_vip(t, a) : tables_is_local(t, port, a);
}

/* An ARP frame from our MAC on @p port: Ethernet broadcast, target MAC zero (RFC 826). */
static void arp_send(uint8_t port, uint16_t op, rte_be32_t sip, rte_be32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_sp_mempool());
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (!m)
		return;
	eth = (void *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	arp = (void *)(eth + 1);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(dp_port_mac(port), &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(dp_port_mac(port), &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = sip;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = tip;
	sp_send(m, port);
}

/* Ask who has @p target on @p port, and record that we asked. */
static int arp_request(const struct tables *t, uint8_t port, rte_be32_t target)
{
	if (neigh_request(port, target) < 0)
		return -ENOSPC; // the caller counts it
	arp_send(port, RTE_ARP_OP_REQUEST, port_addr(t, port), target);
	return 0;
}

void dp_garp_announce(uint8_t port, rte_be32_t addr)
{
	if (port >= DP_PORT_MAX || addr == 0)
		return;
	// RFC 5227 §2.3 announcement: a request with sender and target both the address.
	arp_send(port, RTE_ARP_OP_REQUEST, addr, addr);
}

/* The addresses of @p port that tables @p t makes ours: on ext every address answered
 * there (port and mapping addresses), on int the port's addresses. */
static const rte_be32_t *addrs_of(const struct tables *t, uint8_t port, uint32_t *n)
{
	if (port == DP_PORT_EXT) {
		*n = t->n_vips;
		return t->vips;
	}
	*n = t->n_addrs[port];
	return t->addrs[port];
}

static int be32_cmp(const void *a, const void *b)
{
	rte_be32_t x = *(const rte_be32_t *)a, y = *(const rte_be32_t *)b;
	return x < y ? -1 : x > y;
}

/* Announce the addresses new since the last tables seen (all of them at start), at most
 * GARP_PER_PASS per pass so as not to flood worker 0's tx ring: the rest go at the next. */
static void announce_new(const struct tables *t)
{
	unsigned int budget = GARP_PER_PASS;
	bool done = true;

	if (!t || t->generation == sp.announced_gen)
		return;
	for (uint8_t p = 0; p < DP_PORT_MAX; p++) {
		uint32_t n, k = 0;
		const rte_be32_t *a = addrs_of(t, p, &n);
		rte_be32_t *next = malloc((n ? n : 1) * sizeof(*next));
		if (!next)
			return; // try again at the next pass
		for (uint32_t i = 0; i < n; i++) {
			if (sp.n_announced[p] == 0 || // none yet (and no array to search)
			    !bsearch(&a[i], sp.announced[p], sp.n_announced[p], sizeof(a[i]),
				     be32_cmp)) {
				if (budget == 0) {
					done = false;
					continue;
				}
				dp_garp_announce(p, a[i]);
				budget--;
			}
			next[k++] = a[i];
		}
		qsort(next, k, sizeof(next[0]), be32_cmp);
		free(sp.announced[p]);
		sp.announced[p] = next;
		sp.n_announced[p] = k;
	}
	if (done)
		sp.announced_gen = t->generation;
}

static void pending_flush(uint8_t port, rte_be32_t nh, const struct rte_ether_addr *mac)
{
	for (unsigned int i = 0; i < PENDING_SLOTS; i++) {
		struct pending *p = &sp.pending[i];
		if (p->nh != nh || p->port != port || p->n == 0)
			continue;
		for (uint16_t j = 0; j < p->n; j++) {
			struct rte_ether_hdr *eth =
				rte_pktmbuf_mtod(p->m[j], struct rte_ether_hdr *);
			rte_ether_addr_copy(mac, &eth->dst_addr);
			sp_send(p->m[j], p->port);
		}
		p->n = 0;
		p->nh = 0;
	}
}

/* Learn the sender of an ARP packet on @p port, when we may (see the top of the file).
 * @return -1 (learned, refreshed, or nothing to learn), or the enum dp_drop that refused it. */
static int arp_learn(const struct tables *t, uint8_t port, bool request, bool ours, rte_be32_t sip,
		     const struct rte_ether_addr *sha)
{
	int ret;

	if (sip == 0 || is_ours(t, port, sip) || rte_is_zero_ether_addr(sha) ||
	    !rte_is_unicast_ether_addr(sha))
		return -1; // a probe (RFC 5227), our own address, or no usable MAC: nothing to learn
	if (!on_arm(t, port, sip))
		return (!request || ours) ? DP_DROP_ARP_WRONG_ARM : -1;
	if ((!request && neigh_outstanding(port, sip)) || (request && ours))
		ret = neigh_confirm(port, sip, sha, true);
	else
		ret = neigh_confirm(port, sip, sha, false);
	if (ret == -ENOSPC)
		return DP_DROP_NEIGH_TABLE_FULL;
	if (ret == -ENOENT)
		return request ? -1 : DP_DROP_ARP_UNSOLICITED;
	pending_flush(port, sip, sha);
	return -1;
}

static void handle_arp(const struct tables *t, struct rte_mbuf *m, uint8_t port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (void *)(eth + 1);
	rte_be32_t tip, sip;
	int why;
	bool ours, request;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*arp)) {
		sp_drop(m, DP_DROP_TRUNCATED);
		return;
	}
	tip = arp->arp_data.arp_tip;
	sip = arp->arp_data.arp_sip;
	request = arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST);
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
	    arp->arp_plen != 4 || !t ||
	    (!request && arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REPLY))) {
		sp_drop(m, DP_DROP_BAD_L4_HEADER);
		return;
	}
	ours = is_ours(t, port, tip);
	// A reply may answer the kernel's own request (its exception path): it gets a copy.
	bool to_kernel = !request && dp_kernel_deliver(t, m, port);
	why = arp_learn(t, port, request, ours, sip, &arp->arp_data.arp_sha);
	if (to_kernel && why == DP_DROP_ARP_UNSOLICITED) {
		rte_pktmbuf_free(m); // not ours to learn, the kernel's
		return;
	}
	if (why == DP_DROP_ARP_WRONG_ARM || why == DP_DROP_ARP_UNSOLICITED) {
		sp_drop(m, (enum dp_drop)why); // an off-arm sender gets no answer either
		return;
	}
	if (why >= 0)
		dp_sp_stats.drops[why]++; // still answered
	if (!ours || !request || sip == tip) {
		rte_pktmbuf_free(m);
		return;
	}
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = sip;
	rte_ether_addr_copy(dp_port_mac(port), &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = tip;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(dp_port_mac(port), &eth->src_addr);
	sp_send(m, port);
}

static void handle_local(struct rte_mbuf *m, uint8_t port)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct pkt_meta pm;

	if (pkt_parse(frame, rte_pktmbuf_data_len(m), &pm) != PKT_IPV4 ||
	    pm.proto != IPPROTO_ICMP || pm.icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    pm.frag != FRAG_NONE) {
		sp_drop(m, DP_DROP_NOT_FOR_US);
		return;
	}
	if (!pkt_l4_cksum_ok(frame, &pm)) {
		sp_drop(m, DP_DROP_BAD_L4_CHECKSUM);
		return;
	}
	struct rte_ether_hdr *eth = (void *)frame;
	struct rte_ipv4_hdr *ip = (void *)(frame + pm.l3_off);
	struct rte_icmp_hdr *ih = (void *)(frame + pm.l4_off);

	// Echo reply: same identifier, sequence and data (RFC 792), addresses swapped.
	ip->dst_addr = pm.src;
	ip->src_addr = pm.dst;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_full(ip, pm.l4_off - pm.l3_off);
	ih->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ih->icmp_cksum = 0;
	ih->icmp_cksum = cksum_full(ih, pm.ip_len - (pm.l4_off - pm.l3_off));
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(dp_port_mac(port), &eth->src_addr);
	dp_sp_stats.tx_pkts[port]++;
	sp_send(m, port);
}

/* Whether an ICMP error to @p dst may go now (the two token buckets at the top). */
static bool icmp_allow(rte_be32_t dst)
{
	uint64_t now = neigh_now(), hz = neigh_hz();
	uint32_t h = neigh_slot(DP_PORT_EXT, dst) & (ICMP_DST_SLOTS - 1);
	struct icmp_dst *e = &sp.icmp_dst[h];

	if (e->dst != dst) {
		e->dst = dst;
		memset(&e->b, 0, sizeof(e->b));
	}
	if (!dp_tbucket_allow(&e->b, now, hz * ICMP_DST_INTERVAL_MS / 1000, ICMP_DST_BURST))
		return false;
	return dp_tbucket_allow(&sp.icmp_all, now, hz / ICMP_MSGS_PER_SEC, ICMP_MSGS_BURST);
}

/* ICMP time exceeded back to the sender, quoting as much of the packet as fits in 576 bytes
 * (RFC 1812 §4.3.2.3), within the rate limit (RFC 1812 §4.3.2.8). */
static void handle_ttl(const struct tables *t, struct rte_mbuf *m, uint8_t port)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct rte_ether_hdr *oeth = (const void *)frame;
	struct pkt_meta pm;
	struct rte_mbuf *r;

	if (pkt_parse(frame, rte_pktmbuf_data_len(m), &pm) != PKT_IPV4 || !port_addr(t, port)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (!icmp_allow(pm.src)) {
		sp_drop(m, DP_DROP_ICMP_RATE_LIMITED);
		return;
	}
	uint32_t quote = RTE_MIN((uint32_t)pm.ip_len, 576u - 20 - 8);
	r = rte_pktmbuf_alloc(dp_sp_mempool());
	if (!r) {
		rte_pktmbuf_free(m);
		return;
	}
	struct rte_ether_hdr *eth = (void *)rte_pktmbuf_append(r, sizeof(*eth) + 20 + 8 + quote);
	struct rte_ipv4_hdr *ip = (void *)(eth + 1);
	struct rte_icmp_hdr *ih = (void *)(ip + 1);

	rte_ether_addr_copy(&oeth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(dp_port_mac(port), &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + quote));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = port_addr(t, port);
	ip->dst_addr = pm.src;
	ip->hdr_checksum = cksum_full(ip, sizeof(*ip));
	memset(ih, 0, 8);
	ih->icmp_type = ICMP_TIME_EXCEEDED;
	ih->icmp_code = 0; // in transit
	memcpy(ih + 1, frame + pm.l3_off, quote);
	ih->icmp_cksum = cksum_full(ih, 8 + quote);
	rte_pktmbuf_free(m);
	sp_send(r, port);
}

/* Hold a translated packet until its next hop (p->nh on p->out_port) is resolved: at most
 * PENDING_PER_NEIGH per neighbour and PENDING_SLOTS neighbours (neigh_park_full). */
static void park(const struct tables *t, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *p = dp_priv(m);
	uint8_t port = p->out_port & 1;
	uint64_t now = neigh_now(), hz = neigh_hz();
	struct rte_ether_addr mac;
	uint32_t gen;
	struct pending *slot = NULL, *free_slot = NULL;

	// The answer may have come in since the worker looked.
	if (neigh_lookup(port, p->nh, &mac, &gen)) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_addr_copy(&mac, &eth->dst_addr);
		sp_send(m, port);
		return;
	}
	for (unsigned int i = 0; i < PENDING_SLOTS; i++) {
		struct pending *q = &sp.pending[i];
		if (q->n && q->nh == p->nh && q->port == port) {
			slot = q;
			break;
		}
		if (!free_slot && q->n == 0)
			free_slot = q;
	}
	if (!slot) {
		if (!free_slot) {
			sp_drop(m, DP_DROP_NEIGH_PARK_FULL);
			return;
		}
		slot = free_slot;
		slot->nh = p->nh;
		slot->port = port;
		slot->req_tsc = 0;
	}
	if (slot->n == PENDING_PER_NEIGH) {
		sp_drop(m, DP_DROP_NEIGH_PARK_FULL);
		return;
	}
	if (slot->req_tsc == 0 || now - slot->req_tsc > ARP_RETRY_S * hz) {
		if (arp_request(t, port, slot->nh) < 0) {
			// No room to record the request: its answer would not be learned.
			sp_drop(m, DP_DROP_NEIGH_TABLE_FULL);
			if (slot->n == 0)
				slot->nh = 0;
			return;
		}
		slot->req_tsc = now;
	}
	slot->m[slot->n++] = m;
}

/* Ask again (neigh_age(), housekeeping): a refusal is counted, though no packet is lost. */
static void request_counted(const struct tables *t, uint8_t port, rte_be32_t addr)
{
	if (arp_request(t, port, addr) < 0)
		dp_sp_stats.drops[DP_DROP_NEIGH_TABLE_FULL]++;
}

static void probe_cb(uint8_t port, rte_be32_t addr, void *arg)
{
	request_counted(arg, port, addr);
}

/* Give up on neighbours that never answered, age the table once a second, and keep next
 * hops and backends resolved. */
static void housekeeping(const struct tables *t)
{
	uint64_t now = neigh_now(), hz = neigh_hz();

	for (unsigned int i = 0; i < PENDING_SLOTS; i++) {
		struct pending *p = &sp.pending[i];
		if (p->n == 0)
			continue;
		if (now - p->req_tsc > NEIGH_INCOMPLETE_S * ARP_RETRY_S * hz) {
			for (uint16_t j = 0; j < p->n; j++)
				sp_drop(p->m[j], DP_DROP_NO_NEIGHBOR);
			p->n = 0;
			p->nh = 0;
		}
	}
	if (now - sp.last_age_tsc >= hz) {
		sp.last_age_tsc = now;
		neigh_age(t ? probe_cb : NULL, (void *)(uintptr_t)t);
	}
	if (!t || (sp.last_refresh_tsc && now - sp.last_refresh_tsc < ARP_REFRESH_S * hz))
		return;
	sp.last_refresh_tsc = now;
	// Resolve every next hop and every directly connected backend ahead of traffic, so that
	// the first packet of a flow does not wait for ARP.
	for (uint32_t i = 0; i < t->n_routes; i++)
		if (t->routes[i].via)
			request_counted(t, t->routes[i].port, rte_cpu_to_be_32(t->routes[i].via));
	for (uint32_t i = 0; i < t->n_backends; i++) {
		if (!t->backends[i].addr) // a reject backend
			continue;
		const struct tbl_route *r = tables_route(t, rte_be_to_cpu_32(t->backends[i].addr));
		if (r && !r->via)
			request_counted(t, r->port, t->backends[i].addr);
	}
}

void dp_slowpath_refresh(void)
{
	sp.last_refresh_tsc = 0;
}

void dp_slowpath_reset(void)
{
	for (unsigned int i = 0; i < PENDING_SLOTS; i++)
		for (uint16_t j = 0; j < sp.pending[i].n; j++)
			rte_pktmbuf_free(sp.pending[i].m[j]);
	for (unsigned int p = 0; p < DP_PORT_MAX; p++)
		free(sp.announced[p]);
	memset(&sp, 0, sizeof(sp));
}

static void sp_dispatch(const struct tables *t, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *p = dp_priv(m);

	switch (p->reason) {
	case DP_SP_ARP:
		handle_arp(t, m, p->in_port & 1);
		break;
	case DP_SP_LOCAL:
		handle_local(m, p->in_port & 1);
		break;
	case DP_SP_TTL:
		handle_ttl(t, m, p->in_port & 1);
		break;
	case DP_SP_NEED_NEIGH:
		park(t, m);
		break;
	default:
		rte_pktmbuf_free(m);
	}
}

unsigned int dp_slowpath_poll(void)
{
	const struct tables *t = tables_get();
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int total = 0;

	announce_new(t);
	// ARP first, up to a ring's worth per worker (what was there when the pass began):
	// ICMP and parked packets wait, never ARP (strict priority), and an ARP flood still
	// leaves the control loop its other work.
	for (unsigned int i = 0; i < dp_n_workers(); i++) {
		unsigned int n, k = 0;
		do {
			n = rte_ring_sc_dequeue_burst(dp_workers[i]->sp_arp, (void **)pkts,
						      DP_BURST, NULL);
			for (unsigned int j = 0; j < n; j++)
				sp_dispatch(t, pkts[j]);
			total += n;
		} while (n == DP_BURST && ++k < DP_ARP_RING_SIZE / DP_BURST);
	}
	for (unsigned int i = 0; i < dp_n_workers(); i++) {
		unsigned int n = rte_ring_sc_dequeue_burst(dp_workers[i]->sp_out, (void **)pkts,
							   DP_BURST, NULL);
		for (unsigned int j = 0; j < n; j++)
			sp_dispatch(t, pkts[j]);
		total += n;
	}
	if (!dp_kernel_thread_running())
		dp_kernel_poll(); // no thread of its own (tests): the kernel path runs here
	housekeeping(t);
	return total;
}
