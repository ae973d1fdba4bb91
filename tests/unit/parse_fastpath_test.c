/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser's fast path (plain IPv4 TCP/UDP) against its general path: the same meta for
 * every frame the fast path takes, and every frame it declines still parsed (or dropped with
 * its reason) by the general path. No EAL: the parser works on byte buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

#include "parse_inlines.h"
#include "pkt_build.h"

static const uint8_t MAC[6] = {0x02, 0xe0, 0, 0, 0, 1};

static size_t frame(uint8_t *buf, uint8_t proto, uint8_t flags, uint16_t payload)
{
	struct tb_flow f = {.src = "198.51.100.2",
			    .dst = "198.51.100.1",
			    .sport = 40000,
			    .dport = 8080,
			    .proto = proto,
			    .tcp_flags = flags,
			    .payload_len = payload,
			    .dmac = MAC};
	return tb_frame(buf, &f);
}

static void refresh_ip_cksum(uint8_t *buf)
{
	buf[14 + 10] = buf[14 + 11] = 0;
	uint16_t c = tb_ip_cksum(buf + 14, (size_t)(buf[14] & 0xf) * 4);
	buf[14 + 10] = (uint8_t)(c >> 8);
	buf[14 + 11] = (uint8_t)c;
}

/* Fast and general agree, field for field, on a frame the fast path takes. */
static void expect_same(const uint8_t *buf, size_t len)
{
	struct pkt_meta fast, general;
	memset(&fast, 0xa5, sizeof(fast)); /* padding aside, every field must be written */
	assert_true(pkt_parse_fast(buf, (uint32_t)len, &fast));
	assert_int_equal(pkt_parse_general(buf, (uint32_t)len, &general), PKT_IPV4);
	assert_int_equal(fast.l3_off, general.l3_off);
	assert_int_equal(fast.l4_off, general.l4_off);
	assert_int_equal(fast.ip_len, general.ip_len);
	assert_int_equal(fast.proto, general.proto);
	assert_int_equal(fast.frag, general.frag);
	assert_int_equal(fast.tcp_flags, general.tcp_flags);
	assert_int_equal(fast.icmp_type, general.icmp_type);
	assert_int_equal(fast.icmp_code, general.icmp_code);
	assert_int_equal(fast.ttl, general.ttl);
	assert_int_equal(fast.src, general.src);
	assert_int_equal(fast.dst, general.dst);
	assert_int_equal(fast.sport, general.sport);
	assert_int_equal(fast.dport, general.dport);
	assert_int_equal(fast.ip_id, general.ip_id);
	assert_int_equal(fast.drop, general.drop);

	/* The session key's words from the parse: in memory, the key (struct nat_key: src,
	 * dst, sport, dport, proto, family 4, two bytes of 0) of the general path's meta. */
	struct pkt_meta keyed;
	uint64_t w[2] = {0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull};
	uint8_t want[16] = {0};
	assert_true(pkt_parse_fast_key(buf, (uint32_t)len, &keyed, &w[0], &w[1], false));
	memcpy(want, &general.src, 4);
	memcpy(want + 4, &general.dst, 4);
	memcpy(want + 8, &general.sport, 2);
	memcpy(want + 10, &general.dport, 2);
	want[12] = general.proto;
	want[13] = 4;
	assert_memory_equal(w, want, sizeof(want));
}

static void fast_path_meta_equals_general_path_meta(void **state)
{
	(void)state;
	uint8_t buf[256];
	static const uint16_t payloads[] = {0, 1, 6, 18, 100};
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		size_t n = frame(buf, IPPROTO_UDP, 0, payloads[i]);
		if (n >= 14 + 20 + 20)
			expect_same(buf, n);
		else /* under a TCP header's room: the general path's */
			assert_false(pkt_parse_fast(buf, (uint32_t)n, &(struct pkt_meta){0}));
		expect_same(buf, n + 12); /* Ethernet padding after the datagram */
		n = frame(buf, IPPROTO_TCP, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, payloads[i]);
		expect_same(buf, n);
	}
	/* DF set: still the fast path */
	size_t n = frame(buf, IPPROTO_UDP, 0, 18);
	buf[14 + 6] = 0x40;
	refresh_ip_cksum(buf);
	expect_same(buf, n);
}

/* The header checksum check where every add carries: all words 0xffff but one, which takes
 * every value (the words' sums then carry out of each 64-bit and 32-bit add, the x86 asm's
 * add-with-carry chain included), against the RFC 1071 sum. */
static void ip_header_checksum_carries_at_every_word(void **state)
{
	(void)state;
	uint8_t h[20];

	for (unsigned int pos = 0; pos < sizeof(h); pos += 2)
		for (uint32_t v = 0; v <= 0xffff; v++) {
			memset(h, 0xff, sizeof(h));
			h[pos] = (uint8_t)(v >> 8);
			h[pos + 1] = (uint8_t)v;
			assert_int_equal(ip_cksum_ok(h, sizeof(h)),
					 cksum_fold(cksum_raw(h, sizeof(h), 0)) == 0xffff);
		}
	memset(h, 0xff, sizeof(h));
	assert_true(ip_cksum_ok(h, sizeof(h))); /* ten words of -0 */
}

/* A 64-bit one's-complement sum folded to 16 bits, a step at a time (RFC 1071 §2 (C)). */
static uint16_t fold64(uint64_t s)
{
	uint64_t x = (s & 0xffffffff) + (s >> 32);
	while (x > 0xffff)
		x = (x & 0xffff) + (x >> 16);
	return (uint16_t)x;
}

/* The header checksum's test without folding (cksum_sum_is_minus0()) says what folding the
 * 64-bit end-around sum to 16 bits and comparing with 0xffff says, at the edges (0, which no
 * fold makes 0xffff; -0 in every width; one off a multiple of 0xffff) and for random sums;
 * and a header of zeros does not verify. */
static void header_sum_test_says_what_the_fold_says(void **state)
{
	(void)state;
	static const uint64_t edge[] = {0,
					1,
					0xfffe,
					0xffff,
					0x10000,
					0x1fffe,
					0xffffffffull,
					0xffff0000ffffull,
					0xfffffffffffeull,
					0xffffffffffffull,
					0x0001000100010001ull,
					0xfffefffefffeffffull,
					UINT64_MAX - 1,
					UINT64_MAX};
	uint64_t x = 0x2545f4914f6cdd1dull;

	for (unsigned int i = 0; i < RTE_DIM(edge); i++)
		assert_int_equal(cksum_sum_is_minus0(edge[i]), fold64(edge[i]) == 0xffff);
	assert_false(cksum_sum_is_minus0(0));
	assert_true(cksum_sum_is_minus0(UINT64_MAX));
	for (unsigned int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		const uint64_t k = x % (UINT64_MAX / 0xffff) + 1;
		const uint64_t s[] = {x, k * 0xffff, k * 0xffff - 1, k * 0xffff + 1};
		for (unsigned int j = 0; j < RTE_DIM(s); j++)
			assert_int_equal(cksum_sum_is_minus0(s[j]), fold64(s[j]) == 0xffff);
	}
	uint8_t h[20] = {0};
	assert_false(ip_cksum_ok(h, sizeof(h)));
}

/* The fast path takes a frame exactly when the general path finds it plain (IPv4, IHL 5, not a
 * fragment, TCP or UDP) and it has a TCP header's room (54 bytes), and then agrees with it
 * field for field. */
static void agree(const uint8_t *buf, size_t len)
{
	struct pkt_meta f, g;
	bool fast = pkt_parse_fast(buf, (uint32_t)len, &f);
	enum pkt_kind k = pkt_parse_general(buf, (uint32_t)len, &g);
	bool plain = k == PKT_IPV4 && g.frag == FRAG_NONE && g.l4_off == 14 + 20 &&
		     (g.proto == IPPROTO_TCP || g.proto == IPPROTO_UDP) && len >= 14 + 20 + 20;

	assert_int_equal(fast, plain);
	if (fast)
		expect_same(buf, len);
}

/* @p buf = the @p n bytes of @p good with the big-endian @p v at @p off; the IPv4 header
 * checksum recomputed when @p ip says so. */
static void set_be16(uint8_t *buf, const uint8_t *good, size_t n, size_t off, unsigned int v,
		     bool ip)
{
	memcpy(buf, good, n);
	buf[off] = (uint8_t)(v >> 8);
	buf[off + 1] = (uint8_t)v;
	if (ip)
		refresh_ip_cksum(buf);
}

/* The fast path's merged tests (ethertype and version in one load, each length bound as one
 * unsigned comparison) at and around every bound: frame length, IP total length, TCP data
 * offset, UDP length, the version/IHL byte, the ethertype, and any TOS. */
static void fast_path_bounds_agree_with_the_general_path(void **state)
{
	(void)state;
	uint8_t buf[256], good[256];
	size_t n = frame(good, IPPROTO_UDP, 0, 12); /* 14 + 20 + 8 + 12: the least it takes */

	for (size_t len = 0; len <= n + 4; len++)
		agree(good, len);
	for (unsigned int tl = 0; tl <= n - 14 + 4; tl++) {
		set_be16(buf, good, n, 14 + 2, tl, true);
		agree(buf, n);
		agree(buf, n + 2); /* with Ethernet padding */
	}
	for (unsigned int ul = 0; ul <= 8 + 12 + 4; ul++) {
		set_be16(buf, good, n, 14 + 20 + 4, ul, false);
		agree(buf, n);
	}
	for (unsigned int v = 0; v < 256; v++) {
		memcpy(buf, good, n);
		buf[14] = (uint8_t)v;
		refresh_ip_cksum(buf);
		agree(buf, n);
	}
	static const uint16_t types[] = {0x0800, 0x0806, 0x86dd, 0x0008, 0x0801, 0x0900};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		set_be16(buf, good, n, 12, types[i], false);
		agree(buf, n);
	}
	memcpy(buf, good, n);
	buf[14 + 1] = 0xff; /* TOS: any */
	refresh_ip_cksum(buf);
	assert_true(pkt_parse_fast(buf, (uint32_t)n, &(struct pkt_meta){0}));
	agree(buf, n);

	n = frame(good, IPPROTO_TCP, RTE_TCP_ACK_FLAG, 8); /* 28 bytes of segment */
	for (unsigned int doff = 0; doff < 16; doff++) {
		memcpy(buf, good, n);
		buf[14 + 20 + 12] = (uint8_t)(doff << 4);
		agree(buf, n);
	}
	for (unsigned int tl = 0; tl <= n - 14 + 4; tl++) {
		set_be16(buf, good, n, 14 + 2, tl, true);
		agree(buf, n);
	}
}

/* The L4 header bounds as one sign test (least <= size <= segment): every TCP data offset (with
 * and without the reserved bits and NS set) and every UDP length against every segment length
 * from 0 to beyond the header, the general path deciding. */
static void fast_path_l4_bounds_at_every_pair(void **state)
{
	(void)state;
	uint8_t buf[256], good[256];
	size_t n = frame(good, IPPROTO_TCP, RTE_TCP_ACK_FLAG, 44); /* 64 bytes of segment */

	for (unsigned int tl = 20; tl <= n - 14; tl++)
		for (unsigned int doff = 0; doff < 16; doff++)
			for (unsigned int low = 0; low < 16; low += 15) {
				set_be16(buf, good, n, 14 + 2, tl, true);
				buf[14 + 20 + 12] = (uint8_t)(doff << 4 | low);
				agree(buf, n);
			}
	n = frame(good, IPPROTO_UDP, 0, 30); /* 38 bytes of datagram */
	for (unsigned int tl = 20; tl <= n - 14; tl++)
		for (unsigned int ul = 0; ul <= 8 + 30 + 8; ul++) {
			set_be16(buf, good, n, 14 + 2, tl, true);
			buf[14 + 20 + 4] = (uint8_t)(ul >> 8);
			buf[14 + 20 + 5] = (uint8_t)ul;
			agree(buf, n);
		}
	set_be16(buf, good, n, 14 + 20 + 4, 0xffff, false); /* far beyond: not wrapped */
	agree(buf, n);
}

/* A frame shorter than its headers is read no further than its end (a fuzzer's find: the TCP
 * data offset was read before the segment was known to hold it): each short TCP and UDP frame,
 * its total length its own, ends where an unreadable page begins (a byte before it when odd).
 * Both paths decline it or agree; a read past the end faults. */
static void short_frames_are_read_no_further_than_their_end(void **state)
{
	(void)state;
	const long page = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t good[256];

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (unsigned int p = 0; p < 2; p++) {
		const uint8_t proto = p ? IPPROTO_UDP : IPPROTO_TCP;
		frame(good, proto, RTE_TCP_ACK_FLAG, 0);
		for (size_t len = 14 + 20 + 8; len <= 14 + 20 + 20; len++) {
			/* 2-byte aligned, as a frame in an mbuf: an odd one ends a byte short */
			uint8_t *buf = map + page - len - (len & 1);
			struct pkt_meta m;
			uint64_t w[2];
			memcpy(buf, good, len);
			buf[14 + 2] = (uint8_t)((len - 14) >> 8);
			buf[14 + 3] = (uint8_t)(len - 14);
			refresh_ip_cksum(buf);
			agree(buf, len);
			for (unsigned int ok = 0; ok < 2; ok++)
				(void)pkt_parse_fast_key(buf, (uint32_t)len, &m, &w[0], &w[1], ok);
		}
	}
	assert_int_equal(munmap(map, (size_t)page * 2), 0);
}

/* pkt_meta_w0() under PKT_PLAIN_MASK equals PKT_PLAIN(proto) exactly for a plain packet: TCP,
 * UDP and ICMP, whole, first and later fragments, with and without IP options, parsed: the word
 * equals its own protocol's constant when the packet is whole and without options, and no
 * other constant ever; the total length does not matter. */
static void plain_word_tells_protocol_fragment_and_offsets(void **state)
{
	(void)state;
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
	static const uint16_t frag_off[] = {0, 0x2000 /* MF */, 0x0010 /* offset 128 */};
	uint8_t buf[256], opt[256];
	struct pkt_meta m;

	for (size_t p = 0; p < RTE_DIM(protos); p++)
		for (size_t f = 0; f < RTE_DIM(frag_off); f++)
			for (unsigned int options = 0; options < 2; options++)
				for (uint16_t payload = 0; payload < 40; payload += 13) {
					if (protos[p] == IPPROTO_ICMP && f == 2)
						continue; /* a later ICMP fragment: dropped */
					size_t n = frame(buf, protos[p], RTE_TCP_ACK_FLAG, payload);
					buf[14 + 6] = (uint8_t)(frag_off[f] >> 8);
					buf[14 + 7] = (uint8_t)frag_off[f];
					if (options) { /* 4 bytes of no-op options */
						memcpy(opt, buf, 34);
						memset(opt + 34, 1, 4);
						memcpy(opt + 38, buf + 34, n - 34);
						n += 4;
						opt[14] = 0x46;
						unsigned int tl =
							(unsigned int)(opt[16] << 8 | opt[17]) + 4;
						opt[16] = (uint8_t)(tl >> 8);
						opt[17] = (uint8_t)tl;
						memcpy(buf, opt, n);
					}
					refresh_ip_cksum(buf);
					assert_int_equal(pkt_parse_inline(buf, (uint32_t)n, &m),
							 PKT_IPV4);
					const bool plain = f == 0 && !options;
					const uint64_t w0 = pkt_meta_w0(&m) & PKT_PLAIN_MASK;
					for (size_t q = 0; q < RTE_DIM(protos); q++)
						assert_int_equal(w0 == PKT_PLAIN(protos[q]),
								 plain && q == p);
					assert_int_equal(m.l4_off, options ? 38 : 34);
				}
}

/* What the fast path declines, the general path still handles, with the right reason. */
static void declined_frames_get_the_general_verdict(void **state)
{
	(void)state;
	uint8_t buf[256], good[256];
	struct pkt_meta m;
	size_t n = frame(good, IPPROTO_UDP, 0, 18);

	/* IP options (IHL 6): valid, general path only */
	memcpy(buf, good, 14 + 20);
	buf[14] = 0x46;
	buf[14 + 3] += 4;
	memset(buf + 14 + 20, 0, 4);
	memcpy(buf + 14 + 24, good + 14 + 20, n - 14 - 20);
	refresh_ip_cksum(buf);
	assert_false(pkt_parse_fast(buf, (uint32_t)n + 4, &m));
	assert_int_equal(pkt_parse_inline(buf, (uint32_t)n + 4, &m), PKT_IPV4);
	assert_int_equal(m.l4_off, 14 + 24);
	assert_int_equal(m.dport, rte_cpu_to_be_16(8080));

	/* first fragment: MF */
	memcpy(buf, good, n);
	buf[14 + 6] = 0x20;
	refresh_ip_cksum(buf);
	assert_false(pkt_parse_fast(buf, (uint32_t)n, &m));
	assert_int_equal(pkt_parse_inline(buf, (uint32_t)n, &m), PKT_IPV4);
	assert_int_equal(m.frag, FRAG_FIRST);

	/* bad IP checksum, total length beyond the frame, TCP data offset past the segment */
	memcpy(buf, good, n);
	buf[14 + 10] ^= 1;
	assert_int_equal(pkt_parse_inline(buf, (uint32_t)n, &m), PKT_DROP);
	assert_int_equal(m.drop, DP_DROP_BAD_IP_CHECKSUM);
	memcpy(buf, good, n);
	assert_int_equal(pkt_parse_inline(buf, (uint32_t)n - 1, &m), PKT_DROP);
	assert_int_equal(m.drop, DP_DROP_BAD_TOTAL_LENGTH);
	n = frame(buf, IPPROTO_TCP, RTE_TCP_ACK_FLAG, 0);
	buf[14 + 20 + 12] = 6 << 4; /* 24 bytes of header in a 20-byte segment */
	assert_int_equal(pkt_parse_inline(buf, (uint32_t)n, &m), PKT_DROP);
	assert_int_equal(m.drop, DP_DROP_BAD_L4_HEADER);

	/* UDP length larger than the datagram */
	n = frame(buf, IPPROTO_UDP, 0, 4);
	buf[14 + 20 + 5] += 1;
	assert_int_equal(pkt_parse_inline(buf, (uint32_t)n, &m), PKT_DROP);
	assert_int_equal(m.drop, DP_DROP_BAD_L4_HEADER);

	/* ICMP echo: general path, identifier in both ports */
	n = frame(buf, IPPROTO_ICMP, 0, 8);
	assert_false(pkt_parse_fast(buf, (uint32_t)n, &m));
	assert_int_equal(pkt_parse_inline(buf, (uint32_t)n, &m), PKT_IPV4);
	assert_int_equal(m.icmp_type, 8);
	assert_int_equal(m.sport, m.dport);

	/* shorter than Ethernet + IPv4 + UDP headers */
	assert_int_equal(pkt_parse_inline(good, 14 + 20 + 7, &m), PKT_DROP);
}

/* The 20-byte header's checksum (64-bit words, end-around carry) agrees with the 16-bit
 * word sum of RFC 1071 on headers of every kind, carries included: random ones, mostly 0xff
 * bytes (a carry out of each word), mostly 0x00, each with its checksum set right and wrong. */
static void ip_header_checksum_agrees_with_rfc1071_sum(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned int good = 0;

	for (unsigned int i = 0; i < 60000; i++) {
		uint8_t h[20];
		for (unsigned int j = 0; j < sizeof(h); j++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint8_t r = (uint8_t)(x >> 56);
			h[j] = i % 3 == 0   ? r
			       : i % 3 == 1 ? (uint8_t)(r | 0xfc)
					    : (uint8_t)(r & 0x03);
		}
		bool ref = cksum_fold(cksum_raw(h, sizeof(h), 0)) == 0xffff;
		assert_int_equal(ip_cksum_ok(h, sizeof(h)), ref);
		h[10] = h[11] = 0;
		uint16_t c = tb_ip_cksum(h, sizeof(h));
		h[10] = (uint8_t)(c >> 8);
		h[11] = (uint8_t)c;
		assert_true(ip_cksum_ok(h, sizeof(h)));
		good += ref;
		h[11] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(ip_cksum_ok(h, sizeof(h)),
				 cksum_fold(cksum_raw(h, sizeof(h), 0)) == 0xffff);
		assert_false(ip_cksum_ok(h, sizeof(h)));
	}
	assert_true(good < 1000); /* random headers are mostly wrong: the test tells them apart */
}

/* The L4 checksum of a new session's first packet (pseudo-header summed in registers, then
 * the segment) agrees with the test's own RFC 1071 sum for TCP and UDP segments of several
 * lengths from random, carry-heavy (0xff...) and low addresses: right ones pass, a checksum one
 * bit off fails. */
static void l4_checksum_with_the_pseudo_header_agrees_with_rfc1071(void **state)
{
	(void)state;
	static const uint16_t payloads[] = {0, 1, 2, 3, 7, 18, 33, 100};
	uint64_t x = 0x243f6a8885a308d3ull;
	uint8_t buf[256];

	for (unsigned int i = 0; i < 6000; i++) {
		const uint8_t proto = i & 1 ? IPPROTO_TCP : IPPROTO_UDP;
		size_t n = frame(buf, proto, RTE_TCP_SYN_FLAG, payloads[i % RTE_DIM(payloads)]);
		uint8_t *ip = buf + 14, *l4 = ip + 20;
		size_t l4_len = (size_t)(ip[2] << 8 | ip[3]) - 20,
		       off = proto == IPPROTO_TCP ? 16 : 6;
		struct pkt_meta m;

		for (unsigned int j = 12; j < 20; j++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint8_t r = (uint8_t)(x >> 56);
			ip[j] = i % 3 == 0   ? r
				: i % 3 == 1 ? (uint8_t)(r | 0xf0)
					     : (uint8_t)(r & 0x0f);
		}
		refresh_ip_cksum(buf);
		uint16_t c = tb_l4_cksum(ip, l4, l4_len, proto);
		l4[off] = (uint8_t)(c >> 8);
		l4[off + 1] = (uint8_t)c;
		assert_int_equal(pkt_parse_inline(buf, (uint32_t)n, &m), PKT_IPV4);
		assert_true(pkt_l4_cksum_ok(buf, &m));
		l4[off + 1] ^= (uint8_t)(1u << (i % 8));
		if (proto == IPPROTO_UDP && l4[off] == 0 && l4[off + 1] == 0)
			continue; /* 0: no checksum (RFC 768) */
		assert_false(pkt_l4_cksum_ok(buf, &m));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fast_path_meta_equals_general_path_meta),
		cmocka_unit_test(ip_header_checksum_agrees_with_rfc1071_sum),
		cmocka_unit_test(ip_header_checksum_carries_at_every_word),
		cmocka_unit_test(header_sum_test_says_what_the_fold_says),
		cmocka_unit_test(l4_checksum_with_the_pseudo_header_agrees_with_rfc1071),
		cmocka_unit_test(declined_frames_get_the_general_verdict),
		cmocka_unit_test(fast_path_bounds_agree_with_the_general_path),
		cmocka_unit_test(fast_path_l4_bounds_at_every_pair),
		cmocka_unit_test(short_frames_are_read_no_further_than_their_end),
		cmocka_unit_test(plain_word_tells_protocol_fragment_and_offsets),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
