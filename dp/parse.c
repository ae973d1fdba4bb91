/* SPDX-License-Identifier: BSD-3-Clause */
/* The parser as a function (the burst loop uses the inline one) and the L4 checksum check. */
#include "parse_inlines.h"

enum pkt_kind pkt_parse(const uint8_t *frame, uint32_t len, struct pkt_meta *m)
{
	return pkt_parse_inline(frame, len, m);
}

bool pkt_l4_cksum_ok(const uint8_t *frame, const struct pkt_meta *m)
{
	const struct rte_ipv4_hdr *ip = (const void *)(frame + m->l3_off);
	const uint8_t *l4 = frame + m->l4_off;
	uint32_t l4_len = m->ip_len - (m->l4_off - m->l3_off);
	uint32_t acc;

	if (m->frag != FRAG_NONE)
		return true; // the checksum covers the whole datagram: the receiver checks it
	if (m->proto == IPPROTO_ICMP)
		return cksum_fold(cksum_raw(l4, l4_len, 0)) == 0xffff;
	if (m->proto == IPPROTO_UDP && ((const struct rte_udp_hdr *)l4)->dgram_cksum == 0)
		return true; // RFC 768: no checksum
	// Pseudo-header (RFC 793 §3.1, RFC 768): addresses, protocol, L4 length, summed in
	// registers (the addresses as one 64-bit word's two halves) and carried into the one
	// pass over the segment: a one's complement sum in any grouping (RFC 1071 §2).
	uint64_t a, s;
	memcpy(&a, &ip->src_addr, 8);
	s = (a & 0xffffffff) + (a >> 32) + rte_cpu_to_be_16((uint16_t)m->proto) +
	    rte_cpu_to_be_16((uint16_t)l4_len); // < 2^34
	s = (s & 0xffffffff) + (s >> 32);	// < 2^32 + 4: the second fold cannot carry
	acc = (uint32_t)s + (uint32_t)(s >> 32);
	acc = cksum_raw(l4, l4_len, acc);
	return cksum_fold(acc) == 0xffff;
}
