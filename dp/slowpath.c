/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path, run by the control thread: ARP (RFC 826) for the gateway's addresses and
 * resolution of next hops, ICMP echo replies from the gateway (RFC 792), ICMP time exceeded
 * for packets whose TTL ran out (RFC 1812 §5.3.1), and packets parked until their next hop
 * is resolved (one queue per neighbour, as Linux keeps).
 *
 * Workers hand packets over through one SP/SC ring each; frames the slow path sends go back
 * through worker 0's ctl_tx ring, so that every tx queue keeps a single writer.
 */
#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ring.h>

#include <strait/cksum.h>
#include <strait/log.h>

#include "lifecycle.h"
#include "mbuf_priv.h"
#include "neigh.h"
#include "pkt.h"
#include "ports.h"
#include "slowpath.h"

struct dp_stats dp_sp_stats;

#define PENDING_SLOTS	  64
#define PENDING_PER_NEIGH 8
#define ARP_RETRY_S	  1
#define ARP_REFRESH_S	  30

struct pending {
	rte_be32_t nh;
	uint8_t port;
	uint16_t n;
	uint64_t req_tsc;
	struct rte_mbuf *m[PENDING_PER_NEIGH];
};

static struct pending pending[PENDING_SLOTS];
static uint64_t last_refresh_tsc;

static void sp_drop(struct rte_mbuf *m, enum dp_drop why)
{
	dp_sp_stats.drops[why]++;
	rte_pktmbuf_free(m);
}

static void sp_send(struct rte_mbuf *m, uint8_t port)
{
	struct dp_worker *w0 = dp_workers[0];

	dp_priv(m)->out_port = port;
	if (!w0 || rte_ring_sp_enqueue(w0->ctl_tx, m) != 0)
		sp_drop(m, DP_DROP_TX_FULL);
}

static rte_be32_t port_addr(const struct tables *t, uint8_t port)
{
	return t && t->n_addrs[port] ? t->addrs[port][0] : 0;
}

static void arp_request(const struct tables *t, uint8_t port, rte_be32_t target)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_mempool());
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
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(dp_port_mac(port), &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = port_addr(t, port);
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = target;
	sp_send(m, port);
}

static void pending_flush(rte_be32_t nh, const struct rte_ether_addr *mac)
{
	for (unsigned int i = 0; i < PENDING_SLOTS; i++) {
		struct pending *p = &pending[i];
		if (p->nh != nh || p->n == 0)
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

static void handle_arp(const struct tables *t, struct rte_mbuf *m, uint8_t port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (void *)(eth + 1);
	rte_be32_t tip = arp->arp_data.arp_tip, sip = arp->arp_data.arp_sip;
	bool ours;

	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
	    arp->arp_plen != 4 || !t) {
		sp_drop(m, DP_DROP_BAD_L4_HEADER);
		return;
	}
	ours = port == DP_PORT_EXT ? tables_is_vip(t, tip) : tables_is_local(t, port, tip);
	// RFC 826: update the sender if known, add it if the request is for us.
	if (sip != 0 && (ours || arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY))) {
		neigh_update(sip, port, &arp->arp_data.arp_sha);
		pending_flush(sip, &arp->arp_data.arp_sha);
	}
	if (!ours || arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST)) {
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

/* ICMP time exceeded back to the sender, quoting as much of the packet as fits in 576 bytes
 * (RFC 1812 §4.3.2.3). */
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
	uint32_t quote = RTE_MIN((uint32_t)pm.ip_len, 576u - 20 - 8);
	r = rte_pktmbuf_alloc(dp_mempool());
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

static void park(const struct tables *t, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *p = dp_priv(m);
	uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();
	struct rte_ether_addr mac;
	uint32_t gen;
	struct pending *slot = NULL, *free_slot = NULL;

	// The answer may have come in since the worker looked.
	if (neigh_lookup(p->nh, &mac, &gen)) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_addr_copy(&mac, &eth->dst_addr);
		sp_send(m, p->out_port);
		return;
	}
	for (unsigned int i = 0; i < PENDING_SLOTS; i++) {
		if (pending[i].nh == p->nh && pending[i].n) {
			slot = &pending[i];
			break;
		}
		if (!free_slot && pending[i].n == 0)
			free_slot = &pending[i];
	}
	if (!slot) {
		if (!free_slot) {
			sp_drop(m, DP_DROP_NO_NEIGHBOR);
			return;
		}
		slot = free_slot;
		slot->nh = p->nh;
		slot->port = p->out_port;
		slot->req_tsc = 0;
	}
	if (slot->n == PENDING_PER_NEIGH) {
		sp_drop(m, DP_DROP_NO_NEIGHBOR);
	} else {
		slot->m[slot->n++] = m;
	}
	neigh_want(p->nh, p->out_port);
	if (now - slot->req_tsc > ARP_RETRY_S * hz) {
		slot->req_tsc = now;
		arp_request(t, slot->port, slot->nh);
	}
}

/* Give up on neighbours that never answered, and keep next hops and backends resolved. */
static void housekeeping(const struct tables *t)
{
	uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();

	for (unsigned int i = 0; i < PENDING_SLOTS; i++) {
		struct pending *p = &pending[i];
		if (p->n == 0)
			continue;
		if (now - p->req_tsc > 3 * ARP_RETRY_S * hz) {
			for (uint16_t j = 0; j < p->n; j++)
				sp_drop(p->m[j], DP_DROP_NO_NEIGHBOR);
			p->n = 0;
			p->nh = 0;
		}
	}
	if (!t || now - last_refresh_tsc < ARP_REFRESH_S * hz)
		return;
	last_refresh_tsc = now;
	// Resolve every next hop and every directly connected backend ahead of traffic, so that
	// the first packet of a flow does not wait for ARP.
	for (uint32_t i = 0; i < t->n_routes; i++)
		if (t->routes[i].via)
			arp_request(t, t->routes[i].port, rte_cpu_to_be_32(t->routes[i].via));
	for (uint32_t i = 0; i < t->n_backends; i++) {
		const struct tbl_route *r = tables_route(t, rte_be_to_cpu_32(t->backends[i].addr));
		if (r && !r->via)
			arp_request(t, r->port, t->backends[i].addr);
	}
}

void dp_slowpath_refresh(void)
{
	last_refresh_tsc = 0;
}

unsigned int dp_slowpath_poll(void)
{
	const struct tables *t = tables_get();
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int total = 0;

	for (unsigned int i = 0; i < dp_n_workers(); i++) {
		struct dp_worker *w = dp_workers[i];
		unsigned int n =
			rte_ring_sc_dequeue_burst(w->sp_out, (void **)pkts, DP_BURST, NULL);
		for (unsigned int j = 0; j < n; j++) {
			struct dp_mbuf_priv *p = dp_priv(pkts[j]);
			switch (p->reason) {
			case DP_SP_ARP:
				handle_arp(t, pkts[j], p->in_port);
				break;
			case DP_SP_LOCAL:
				handle_local(pkts[j], p->in_port);
				break;
			case DP_SP_TTL:
				handle_ttl(t, pkts[j], p->in_port);
				break;
			case DP_SP_NEED_NEIGH:
				park(t, pkts[j]);
				break;
			default:
				rte_pktmbuf_free(pkts[j]);
			}
		}
		total += n;
	}
	housekeeping(t);
	return total;
}
