/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser, inline, so that the burst loop (nat.c) pays no call for it; pkt_parse()
 * in parse.c is the same code as a function for tests and fuzzers.
 *
 * The parser trusts nothing in the frame: every length is checked against the bytes that
 * actually arrived before it is used, so that a lying IHL or total length costs a drop
 * counter, never a read past the buffer (RFC 1812 §5.2.2 lists the same checks for routers).
 */
#ifndef STRAIT_PARSE_INLINES_H
#define STRAIT_PARSE_INLINES_H

#include <string.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <strait/cksum.h>

#include "pkt.h"

/*
 * Whether a 64-bit one's-complement sum with its carries added back (end-around) folds to
 * 0xffff, i.e. the summed header verifies, without folding it: 2^16 = 1 (mod 0xffff), so a
 * fold keeps the sum's residue mod 0xffff, and a folded sum is 0 only when every term was 0;
 * so the fold is 0xffff exactly when @p s is a nonzero multiple of 0xffff. For an odd d,
 * x is a multiple of d when x * d^-1 (mod 2^64) <= (2^64 - 1) / d (Hacker's Delight §10-17),
 * here 0xffff^-1 = -0x0001000100010001 and (2^64 - 1) / 0xffff = 0x0001000100010001 (since
 * (2^16 - 1)(2^48 + 2^32 + 2^16 + 1) = 2^64 - 1); the - 1 takes 0 out. A multiply and a
 * compare instead of two folds.
 */
static inline bool cksum_sum_is_minus0(uint64_t s)
{
	return s * 0xfffefffefffeffffull - 1 < 0x0001000100010001ull;
}

/* The header checksum verifies (RFC 1071): 20-byte headers, nearly all of them, inline. */
static inline bool ip_cksum_ok(const void *ip, uint32_t ihl)
{
	if (likely(ihl == sizeof(struct rte_ipv4_hdr))) {
		// Two 64-bit words and one 32-bit word in registers (not five 32-bit words through
		// a copy on the stack): a one's complement sum of 64-bit words with the carry
		// added back is the same sum as of 16-bit words, folded (RFC 1071 §2 (B), (C)).
		uint64_t a, b;
		uint32_t c;
		memcpy(&a, ip, 8);
		memcpy(&b, (const uint8_t *)ip + 8, 8);
		memcpy(&c, (const uint8_t *)ip + 16, 4);
#if defined(__x86_64__) && defined(__GNUC__)
		// The same sum with the carries in the flags: add, add with carry, add the carry
		// (which cannot carry again).
		uint64_t s = a;
		__asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq $0, %0"
			: "+r"(s)
			: "r"(b), "r"((uint64_t)c)
			: "cc");
		return cksum_sum_is_minus0(s);
#else
		uint64_t sum = a + b;
		sum += sum < a;				    // end-around carry
		sum = (sum & 0xffffffff) + (sum >> 32) + c; // < 2^34
		sum = (sum & 0xffffffff) + (sum >> 32);	    // < 2^32 + 4
		return cksum_fold((uint32_t)sum + (uint32_t)(sum >> 32)) == 0xffff;
#endif
	}
	return cksum_fold(cksum_raw(ip, ihl, 0)) == 0xffff;
}

static inline enum pkt_kind pkt_drop_reason(struct pkt_meta *m, enum dp_drop why)
{
	m->drop = (uint8_t)why;
	return PKT_DROP;
}

/*
 * The packets a gateway mostly sees: IPv4 without options or fragmentation, TCP or UDP, all
 * of it in a frame of at least 54 bytes. Checked in few branches; anything else (and every malformed packet)
 * takes the general path below, which finds the drop reason. Same meta either way.
 * @p ip_ok: the device verified the IPv4 header checksum (rx offload: RTE_MBUF_F_RX_IP_CKSUM_GOOD
 * or _NONE, both of which have the GOOD bit), so it is not summed again.
 */
static __rte_always_inline bool pkt_parse_fast_key(const uint8_t *frame, uint32_t len,
						   struct pkt_meta *m, uint64_t *kw0, uint64_t *kw1,
						   bool ip_ok)
{
	const struct rte_ipv4_hdr *ip = (const void *)(frame + sizeof(struct rte_ether_hdr));
	const uint8_t *l4 = (const uint8_t *)(ip + 1);
	uint16_t ip_len, l4_len;
	uint8_t flags;

	// At least a TCP header's room: the TCP data offset below is read before the segment is
	// known to hold it, so the frame must (a fuzzer's find). Shorter UDP frames (no Ethernet
	// wire carries a frame under 60 bytes) take the general path.
	if (unlikely(len < sizeof(struct rte_ether_hdr) + sizeof(*ip) + sizeof(struct rte_tcp_hdr)))
		return false;
	ip_len = dp_ntohs(ip->total_length);
	// IPv4, version 4, IHL 5: the ethertype and the version byte in one test of one load
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	uint32_t w12;
	memcpy(&w12, frame + 12, 4); // ether_type, version_ihl, type_of_service
	if ((w12 & 0xffffff) != ((uint32_t)RTE_BE16(RTE_ETHER_TYPE_IPV4) | 0x45u << 16))
		return false;
#else
	uint16_t type;
	memcpy(&type, frame + 12, 2);
	if (type != RTE_BE16(RTE_ETHER_TYPE_IPV4) || ip->version_ihl != 0x45)
		return false;
#endif
	// No MF, no offset (DF may be set); the datagram within the frame and at least its header
	// (one unsigned test: below 20, ip_len - 20 wraps; len >= 54 was checked above).
	if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    (uint32_t)ip_len - sizeof(*ip) > len - sizeof(struct rte_ether_hdr) - sizeof(*ip) ||
	    (!ip_ok && !ip_cksum_ok(ip, sizeof(*ip))))
		return false;
	// ip_len >= 20 was checked: a lying total length below the header must not wrap here.
	l4_len = (uint16_t)(ip_len - sizeof(*ip));
	// A header of at least its least size and at most the segment, i.e. least <= size <=
	// l4_len (which implies l4_len >= least): both differences signed, one sign test of
	// their OR (each is within +-65535, no overflow).
	const uint8_t proto = ip->next_proto_id;
	if (proto == IPPROTO_TCP) {
		const struct rte_tcp_hdr *th = (const void *)l4;
		const int32_t doff = (th->data_off >> 2) & 0x3c; // (data_off >> 4) * 4
		if ((((int32_t)l4_len - doff) | (doff - (int32_t)sizeof(*th))) < 0)
			return false;
		flags = th->tcp_flags;
	} else if (proto == IPPROTO_UDP) {
		const int32_t ulen = dp_ntohs(((const struct rte_udp_hdr *)l4)->dgram_len);
		if ((((int32_t)l4_len - ulen) | (ulen - (int32_t)sizeof(struct rte_udp_hdr))) < 0)
			return false;
		flags = 0;
	} else {
		return false;
	}
	// The addresses and ports loaded once, for the meta and the key: after a store into the
	// meta, gcc would load them from the frame again (to it, the two might overlap).
	uint64_t addrs;
	uint32_t ports;
	memcpy(&addrs, &ip->src_addr, 8); // src, dst
	memcpy(&ports, l4, 4);		  // sport, dport: the first 4 bytes of both headers
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	{
		// The meta in five stores instead of fifteen: the fields are laid out in groups
		// (static_asserts in pkt.h) that are written as words built in registers.
		const uint64_t w0 = sizeof(struct rte_ether_hdr) |
				    (uint64_t)(sizeof(struct rte_ether_hdr) + sizeof(*ip)) << 16 |
				    (uint64_t)ip_len << 32 | (uint64_t)proto << 48 |
				    (uint64_t)FRAG_NONE << 56;
		// tcp_flags, icmp_type 0, icmp_code 0, ttl
		const uint32_t w1 = flags | (uint32_t)ip->time_to_live << 24;
		const uint32_t w3 = ip->packet_id; // ip_id, drop 0 (and the padding byte)
		memcpy(&m->l3_off, &w0, 8);
		memcpy(&m->tcp_flags, &w1, 4);
		memcpy(&m->src, &addrs, 8);
		memcpy(&m->sport, &ports, 4);
		memcpy(&m->ip_id, &w3, 4);
	}
#else
	m->tcp_flags = flags;
	m->l3_off = sizeof(struct rte_ether_hdr);
	m->l4_off = sizeof(struct rte_ether_hdr) + sizeof(*ip);
	m->ip_len = ip_len;
	m->proto = proto;
	m->frag = FRAG_NONE;
	m->icmp_type = 0;
	m->icmp_code = 0;
	m->ttl = ip->time_to_live;
	memcpy(&m->src, &addrs, 8);
	memcpy(&m->sport, &ports, 4);
	m->ip_id = ip->packet_id;
	m->drop = 0;
#endif
	{
		// The session key's words (nat_key_words()) from the header's bytes, in registers:
		// the burst loop hashes them without loading them back from the meta.
		*kw0 = addrs;
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
		*kw1 = ports | (uint64_t)proto << 32 | 4ull << 40;
#else
		*kw1 = (uint64_t)ports << 32 | (uint64_t)proto << 24 | 4ull << 16;
#endif
	}
	return true;
}

/* pkt_parse_fast_key() without the key. */
static __rte_always_inline bool pkt_parse_fast(const uint8_t *frame, uint32_t len,
					       struct pkt_meta *m)
{
	uint64_t w0, w1;

	return pkt_parse_fast_key(frame, len, m, &w0, &w1, false);
}

/* Every frame: the checks in RFC 1812's order, each failure with its drop reason. */
static inline enum pkt_kind pkt_parse_general(const uint8_t *frame, uint32_t len,
					      struct pkt_meta *m)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	const struct rte_ipv4_hdr *ip;
	uint32_t ihl, ip_len, avail;
	uint16_t fo;

	memset(m, 0, sizeof(*m));
	if (len < sizeof(*eth))
		return pkt_drop_reason(m, DP_DROP_TRUNCATED);
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		if (len < sizeof(*eth) + sizeof(struct rte_arp_hdr))
			return pkt_drop_reason(m, DP_DROP_TRUNCATED);
		m->l3_off = sizeof(*eth);
		return PKT_ARP;
	}
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return pkt_drop_reason(m, DP_DROP_BAD_ETHERTYPE);

	m->l3_off = sizeof(*eth);
	avail = len - m->l3_off;
	if (avail < sizeof(*ip))
		return pkt_drop_reason(m, DP_DROP_TRUNCATED);
	ip = (const void *)(frame + m->l3_off);
	if ((ip->version_ihl >> 4) != 4)
		return pkt_drop_reason(m, DP_DROP_BAD_VERSION);
	ihl = (ip->version_ihl & 0xf) * 4u;
	if (ihl < sizeof(*ip) || ihl > avail)
		return pkt_drop_reason(m, DP_DROP_BAD_IHL);
	ip_len = rte_be_to_cpu_16(ip->total_length);
	// Frames may carry Ethernet padding after the datagram, never less than it claims.
	if (ip_len < ihl || ip_len > avail)
		return pkt_drop_reason(m, DP_DROP_BAD_TOTAL_LENGTH);
	if (!ip_cksum_ok(ip, ihl))
		return pkt_drop_reason(m, DP_DROP_BAD_IP_CHECKSUM);

	m->ip_len = (uint16_t)ip_len;
	m->l4_off = (uint16_t)(m->l3_off + ihl);
	m->proto = ip->next_proto_id;
	m->ttl = ip->time_to_live;
	m->src = ip->src_addr;
	m->dst = ip->dst_addr;
	m->ip_id = ip->packet_id;
	fo = rte_be_to_cpu_16(ip->fragment_offset);
	if (fo & RTE_IPV4_HDR_OFFSET_MASK) {
		// Later fragments carry no L4 header; their session comes from the first one.
		m->frag = FRAG_LATER;
		if (m->proto != IPPROTO_TCP && m->proto != IPPROTO_UDP)
			return pkt_drop_reason(m, DP_DROP_UNSUPPORTED_PROTO);
		return PKT_IPV4;
	}
	if (fo & RTE_IPV4_HDR_MF_FLAG)
		m->frag = FRAG_FIRST;

	avail = ip_len - ihl;
	const uint8_t *l4 = frame + m->l4_off;
	switch (m->proto) {
	case IPPROTO_TCP: {
		const struct rte_tcp_hdr *th = (const void *)l4;
		if (avail < sizeof(*th))
			return pkt_drop_reason(m, DP_DROP_BAD_L4_HEADER);
		uint32_t doff = (th->data_off >> 4) * 4u;
		if (doff < sizeof(*th) || doff > avail)
			return pkt_drop_reason(m, DP_DROP_BAD_L4_HEADER);
		m->sport = th->src_port;
		m->dport = th->dst_port;
		m->tcp_flags = th->tcp_flags;
		break;
	}
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *uh = (const void *)l4;
		if (avail < sizeof(*uh))
			return pkt_drop_reason(m, DP_DROP_BAD_L4_HEADER);
		uint32_t ulen = rte_be_to_cpu_16(uh->dgram_len);
		// A first fragment's UDP length covers the whole datagram, not this piece.
		if (ulen < sizeof(*uh) || (m->frag == FRAG_NONE && ulen > avail))
			return pkt_drop_reason(m, DP_DROP_BAD_L4_HEADER);
		m->sport = uh->src_port;
		m->dport = uh->dst_port;
		break;
	}
	case IPPROTO_ICMP: {
		const struct rte_icmp_hdr *ih = (const void *)l4;
		if (avail < sizeof(*ih))
			return pkt_drop_reason(m, DP_DROP_BAD_L4_HEADER);
		m->icmp_type = ih->icmp_type;
		m->icmp_code = ih->icmp_code;
		if (ih->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ||
		    ih->icmp_type == RTE_IP_ICMP_ECHO_REPLY)
			m->sport = m->dport = ih->icmp_ident;
		break;
	}
	default:
		return pkt_drop_reason(m, DP_DROP_UNSUPPORTED_PROTO);
	}
	return PKT_IPV4;
}

static __rte_always_inline enum pkt_kind pkt_parse_inline(const uint8_t *frame, uint32_t len,
							  struct pkt_meta *m)
{
	if (likely(pkt_parse_fast(frame, len, m)))
		return PKT_IPV4;
	return pkt_parse_general(frame, len, m);
}

#endif
