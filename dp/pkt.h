/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser (parse.c, parse_inlines.h): pure, it works on a byte buffer, so that unit
 * tests and fuzzers need no mbuf. Used by the burst (nat.c) and the slow path (slowpath.c).
 */
#ifndef STRAIT_DP_PKT_H
#define STRAIT_DP_PKT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include <strait/dp.h>

/* ICMP types (RFC 792) that DPDK 22.11 does not name. */
#define ICMP_DEST_UNREACH     3
#define ICMP_FRAG_NEEDED_CODE 4
#define ICMP_TIME_EXCEEDED    11
#define ICMP_PARAM_PROBLEM    12

/* Network to host order for the per-packet fields: the same values as rte_be_to_cpu_16/32(),
 * whose x86 versions are asm volatile (xchgb in a fixed register class, bswap) that the
 * compiler may neither fold into the code around them nor schedule. */
static inline uint16_t dp_ntohs(rte_be16_t x)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return __builtin_bswap16(x);
#else
	return x;
#endif
}

static inline uint32_t dp_ntohl(rte_be32_t x)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return __builtin_bswap32(x);
#else
	return x;
#endif
}

enum pkt_kind { PKT_DROP = 0, PKT_IPV4, PKT_ARP };
enum pkt_frag { FRAG_NONE = 0, FRAG_FIRST, FRAG_LATER };

/** What the parser found. Offsets from the start of the frame; fields in network order. */
struct pkt_meta {
	uint16_t l3_off, l4_off;
	uint16_t ip_len; /**< IPv4 total length, host order */
	uint8_t proto;
	uint8_t frag; /**< enum pkt_frag */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t ttl;
	rte_be32_t src, dst;
	rte_be16_t sport, dport; /**< TCP/UDP ports; ICMP echo: identifier in both; else 0 */
	rte_be16_t ip_id;
	uint8_t drop; /**< enum dp_drop when the result is PKT_DROP */
};

/* The parser's fast path writes the meta in groups (parse_inlines.h): keep them adjacent. */
static_assert(offsetof(struct pkt_meta, l4_off) == 2 && offsetof(struct pkt_meta, ip_len) == 4 &&
		      offsetof(struct pkt_meta, proto) == 6 && offsetof(struct pkt_meta, frag) == 7,
	      "pkt_meta: l3_off..frag in one 64-bit word");
static_assert(offsetof(struct pkt_meta, tcp_flags) == 8 &&
		      offsetof(struct pkt_meta, icmp_type) == 9 &&
		      offsetof(struct pkt_meta, icmp_code) == 10 &&
		      offsetof(struct pkt_meta, ttl) == 11,
	      "pkt_meta: tcp_flags..ttl in one 32-bit word");
static_assert(offsetof(struct pkt_meta, dst) == offsetof(struct pkt_meta, src) + 4 &&
		      offsetof(struct pkt_meta, dport) == offsetof(struct pkt_meta, sport) + 2 &&
		      offsetof(struct pkt_meta, drop) == offsetof(struct pkt_meta, ip_id) + 2 &&
		      sizeof(struct pkt_meta) >= offsetof(struct pkt_meta, ip_id) + 4,
	      "pkt_meta: src/dst, sport/dport, ip_id/drop adjacent");

/** The meta's first 8 bytes (l3_off, l4_off, ip_len, proto, frag: adjacent, above) as one
 *  word (pkt_meta_w0()). Under PKT_PLAIN_MASK (ip_len left out) it equals PKT_PLAIN(proto)
 *  exactly for a packet of @p proto after an Ethernet II header with an IPv4 header of 20
 *  bytes and no fragment (with TCP or UDP, one the fast parser could take). One compare tests
 *  the four. */
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
#define PKT_PLAIN_MASK 0xffff0000ffffffffull
#define PKT_PLAIN(proto)                                                                           \
	((uint64_t)PKT_PLAIN_L3 | (uint64_t)PKT_PLAIN_L4 << 16 | (uint64_t)(proto) << 48 |         \
	 (uint64_t)FRAG_NONE << 56)
#else
#define PKT_PLAIN_MASK 0xffffffff0000ffffull
#define PKT_PLAIN(proto)                                                                           \
	((uint64_t)PKT_PLAIN_L3 << 48 | (uint64_t)PKT_PLAIN_L4 << 32 | (uint64_t)(proto) << 8 |    \
	 (uint64_t)FRAG_NONE)
#endif
#define PKT_PLAIN_L3 14u /**< l3_off of a plain packet: after the Ethernet header */
#define PKT_PLAIN_L4 34u /**< l4_off of a plain packet: after 20 bytes of IPv4 */

static inline uint64_t pkt_meta_w0(const struct pkt_meta *m)
{
	uint64_t w0;

	memcpy(&w0, m, 8);
	return w0;
}

/**
 * Parse an Ethernet frame: Ethernet II, ARP, IPv4 (options allowed), TCP, UDP, ICMP.
 * Checks version, IHL, total length against the frame, the IPv4 header checksum, and that
 * an unfragmented or first-fragment packet holds a whole L4 header.
 * @return PKT_IPV4, PKT_ARP, or PKT_DROP with m->drop set. Pure; any thread.
 */
enum pkt_kind pkt_parse(const uint8_t *frame, uint32_t len, struct pkt_meta *m);

/** Whether the TCP/UDP/ICMP checksum of a whole (unfragmented) IPv4 packet is right. */
bool pkt_l4_cksum_ok(const uint8_t *frame, const struct pkt_meta *m);

#endif
