/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Refusing a flow: the TCP RST of a closed port, built in place from the SYN (dp/reject.h).
 */
#include <string.h>

#include <netinet/in.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "pkt_out.h"
#include "reject.h"

void dp_reject(struct dp_worker *w, struct rte_mbuf *mb, const struct pkt_meta *m)
{
	uint8_t *f = rte_pktmbuf_mtod(mb, uint8_t *);
	const uint32_t len =
		(uint32_t)m->l3_off + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + m->l3_off);
	struct rte_tcp_hdr *th;
	uint32_t seq, seg_len;

	if (m->proto != IPPROTO_TCP || !rte_pktmbuf_is_contiguous(mb) ||
	    rte_pktmbuf_data_len(mb) < len) {
		dp_drop(w, mb, DP_DROP_REJECTED);
		return;
	}
	th = (struct rte_tcp_hdr *)(f + m->l4_off);
	// SEG.LEN: the payload, plus one for the SYN (and one for a FIN).
	seg_len = m->ip_len - (uint32_t)(m->l4_off - m->l3_off) - (uint32_t)(th->data_off >> 4) * 4;
	seg_len += !!(th->tcp_flags & RTE_TCP_SYN_FLAG) + !!(th->tcp_flags & RTE_TCP_FIN_FLAG);
	seq = rte_be_to_cpu_32(th->sent_seq);

	// Back to where it came from: the client's next hop on ext.
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->mac[DP_PORT_EXT];
	// A fresh 20-byte IPv4 header (no options) and TCP header right after it.
	th = (struct rte_tcp_hdr *)(ip + 1);
	memset(ip, 0, sizeof(*ip) + sizeof(*th));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*th));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = m->dst;
	ip->dst_addr = m->src;
	th->src_port = m->dport;
	th->dst_port = m->sport;
	th->recv_ack = rte_cpu_to_be_32(seq + seg_len);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	rte_pktmbuf_trim(mb, (uint16_t)(rte_pktmbuf_data_len(mb) - len));
	mb->ol_flags = 0;
	w->stats.drops[DP_DROP_REJECTED]++;
	dp_tx_enqueue(w, DP_PORT_EXT, mb);
}
