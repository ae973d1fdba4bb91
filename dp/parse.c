/* SPDX-License-Identifier: BSD-3-Clause */
/* The parser as a function (the burst loop uses the inline one) and the L4 checksum check. */
#include "parse_inlines.h"

enum pkt_kind pkt_parse(const uint8_t *frame, uint32_t len, struct pkt_meta *m)
{
	return pkt_parse_inline(frame, len, m);
}

/*
 * cksum_raw()'s one's complement sum, inline and without its 32-bit result: 64-bit words with
 * the end-around carry added back at once, then the tail of up to 7 bytes as one word,
 * zero-padded (RFC 1071 §4.1: in memory order, the tail starts on an 8-byte boundary of the
 * segment, so its 16-bit words stay words). 2^16 = 1 modulo 0xffff: any grouping sums alike.
 */
static inline uint64_t seg_sum(const uint8_t *p, uint32_t len, uint64_t sum)
{
	uint64_t t = 0;
	unsigned int o = 0;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		sum += w;
		sum += sum < w; // carry out of bit 63
	}
	if (len & 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		t = v;
		o = 4;
	}
	if (len & 2) {
		uint16_t v;
		memcpy(&v, p + o, 2);
		t |= (uint64_t)v << (8 * o);
		o += 2;
	}
	if (len & 1)
		t |= (uint64_t)p[o] << (8 * o);
	sum += t;
	return sum + (sum < t);
}

bool pkt_l4_cksum_ok(const uint8_t *frame, const struct pkt_meta *m)
{
	const struct rte_ipv4_hdr *ip = (const void *)(frame + m->l3_off);
	const uint8_t *l4 = frame + m->l4_off;
	uint32_t l4_len = m->ip_len - (m->l4_off - m->l3_off);

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
	s = (a & 0xffffffff) + (a >> 32) + dp_ntohs((uint16_t)m->proto) +
	    dp_ntohs((uint16_t)l4_len); // < 2^34: the segment's words add to it with carry
	// s > 0 (the protocol is in it): the end-around sum is never 0, as the test asks.
	return cksum_sum_is_minus0(seg_sum(l4, l4_len, s));
}
