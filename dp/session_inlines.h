/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session table's hot path, inline: key hashing, bucket scans and record matching, used
 * by the staged burst (nat.c) and by the table itself (session.c).
 *
 * One keyed hash per key (NH, the universal hash of UMAC, RFC 4418 §5.2, then a 64-bit
 * finalizer): its low bits pick the primary bucket, its high 32 bits are the signature kept
 * in the bucket. The key is a per-table secret drawn at start-up (nat_sessions_init(),
 * rte_rand()): without it a sender could compute which 5-tuples share a bucket and fill
 * one pair of buckets with a few packets, since an unkeyed or CRC-seeded hash keeps its
 * collisions whatever the seed (CRC is linear: CRC(seed, a) ^ CRC(seed, b) does not depend on
 * the seed). The alternative bucket is the primary one XOR a function of the signature
 * (partial-key cuckoo hashing, as MemC3 and rte_hash do), so an entry moves to its other
 * bucket without its key being read.
 */
#ifndef STRAIT_DP_SESSION_INLINES_H
#define STRAIT_DP_SESSION_INLINES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef RTE_ARCH_X86
#include <emmintrin.h>
#endif

#include <rte_tcp.h>

#include <strait/cksum.h>
#include <strait/dp.h>

#include "pkt.h"
#include "session.h"

/* The IPv4 word holding TTL and protocol loses 0x0100 when TTL is decremented: the RFC 1624
 * delta ~m + m' is then the constant 0xfeff (network order), whatever the TTL was. */
#define NAT_TTL_DEC_DELTA RTE_BE16(0xfeff)
/* Twice that (0xfeff +' 0xfeff): in2out's header delta from a record's (nat_l3_delta_i2o()). */
#define NAT_TTL_DEC2_DELTA RTE_BE16(0xfdff)

/** A record's l3_delta from the out2in delta of its addresses @p addr: the TTL's decrement
 * folded in once, when the session is made, not added per packet. */
static inline uint16_t nat_l3_delta(uint16_t addr)
{
	return cksum_add16(addr, NAT_TTL_DEC_DELTA);
}

/** The in2out IPv4 header delta (~addresses +' TTL's decrement) from a record's l3_delta
 * (addresses +' TTL's): ~l3_delta +' twice the TTL's, the same bits for every value
 * (session_test's ttl_folded_delta_gives_the_same_header_delta_both_ways). */
static __rte_always_inline uint16_t nat_l3_delta_i2o(uint16_t l3_delta)
{
	return cksum_add16((uint16_t)~l3_delta, NAT_TTL_DEC2_DELTA);
}

/** Where a key lives: its primary bucket and its signature (never 0: 0 marks a free entry). */
struct nat_hash {
	uint32_t bkt;
	uint32_t sig;
};

/*
 * NH over the key's four 32-bit halves with the table's secret, then splitmix64's finalizer so
 * that every output bit depends on every input bit. NH is 2^-32-almost-universal for a key
 * unknown to the sender: no set of 5-tuples collides more often than chance.
 */
static __rte_always_inline uint64_t nat_nh64(const uint64_t key[2], uint64_t w0, uint64_t w1)
{
	uint64_t x = (uint64_t)((uint32_t)w0 + (uint32_t)key[0]) *
			     (uint32_t)((w0 >> 32) + (key[0] >> 32)) +
		     (uint64_t)((uint32_t)w1 + (uint32_t)key[1]) *
			     (uint32_t)((w1 >> 32) + (key[1] >> 32));
	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return x;
}

/*
 * A key's bucket signature from its hash @p x: the high half, odd (0 marks an empty entry).
 * The low bit is given up (31 bits tell keys of one bucket apart) for one instruction where a
 * test and a conditional move took three.
 */
static __rte_always_inline uint32_t nat_sig(uint64_t x)
{
	return (uint32_t)(x >> 32) | 1;
}

/** The hash of a key given as its two 64-bit words (memory order). */
static __rte_always_inline struct nat_hash nat_hash_words(const struct nat_sessions *s, uint64_t w0,
							  uint64_t w1)
{
	uint64_t x = nat_nh64(s->key, w0, w1);
	return (struct nat_hash){.bkt = (uint32_t)x & s->bkt_mask, .sig = nat_sig(x)};
}

static inline struct nat_hash nat_key_hash(const struct nat_sessions *s, const struct nat_key *k)
{
	uint64_t w0, w1;

	memcpy(&w0, k, 8);
	memcpy(&w1, (const uint8_t *)k + 8, 8);
	return nat_hash_words(s, w0, w1);
}

/*
 * The words of the key of a packet, built in registers: a key written field by field and
 * read back as two words would stall on store forwarding (narrow stores, wide load).
 */
static inline void nat_key_words(rte_be32_t src, rte_be32_t dst, rte_be16_t sport, rte_be16_t dport,
				 uint8_t proto, uint64_t *w0, uint64_t *w1)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	*w0 = (uint64_t)src | (uint64_t)dst << 32;
	*w1 = (uint64_t)sport | (uint64_t)dport << 16 | (uint64_t)proto << 32 | 4ull << 40;
#else
	struct nat_key k = {.src = src,
			    .dst = dst,
			    .sport = sport,
			    .dport = dport,
			    .proto = proto,
			    .family = 4};
	memcpy(w0, &k, 8);
	memcpy(w1, (const uint8_t *)&k + 8, 8);
#endif
}

/* An involution that never maps a bucket to itself (the XORed value is odd). */
static inline uint32_t nat_bkt_alt(const struct nat_sessions *s, uint32_t bkt, uint32_t sig)
{
	return (bkt ^ (sig * 0x5bd1e995u | 1)) & s->bkt_mask;
}

/** Bit i is set when entry i of @p b has signature @p sig. */
static inline unsigned int nat_bkt_match(const struct nat_bucket *b, uint32_t sig)
{
#ifdef RTE_ARCH_X86
	__m128i v = _mm_set1_epi32((int)sig);
	__m128i lo = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)b->sig), v);
	__m128i hi =
		_mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)(b->sig + 4)), v);
	return (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
	       (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
#else
	unsigned int m = 0;
	for (unsigned int i = 0; i < NAT_BKT_ENTRIES; i++)
		m |= (unsigned int)(b->sig[i] == sig) << i;
	return m;
#endif
}

/*
 * A reference's record and window tracking's offset without the index: ref is index << 1 | direction,
 * so index * 64 is (ref - direction) * 32, and index * 16 is (ref - direction) * 8 (one shift,
 * where ref >> 1 then << 6 took two and a register move). @p dir: ref & 1, a constant at each
 * call (stage 3 tested it).
 */
static_assert(sizeof(struct nat_session) == 64 && sizeof(struct nat_tcp_td) == 16,
	      "nat_ref_rec(), nat_ref_td_off(): record and window tracking sizes");
static __rte_always_inline struct nat_session *nat_ref_rec(const struct nat_sessions *s,
							   uint64_t ref, unsigned int dir)
{
	return (struct nat_session *)(void *)((uint8_t *)s->recs + ((size_t)(ref - dir) << 5));
}

static __rte_always_inline size_t nat_ref_td_off(uint64_t ref, unsigned int dir)
{
	return (size_t)(ref - dir) << 3;
}

/*
 * For a prefetch: an address in the cache line of reference @p ref's record (ref * 32: the
 * record's first byte, or its 33rd for an in2out reference, in the same 64-byte line) and in
 * its window tracking's 16 bytes (ref * 8).
 */
static __rte_always_inline const void *nat_ref_rec_line(const struct nat_sessions *s, uint32_t ref)
{
	return (const uint8_t *)s->recs + ((size_t)ref << 5);
}

static __rte_always_inline const void *nat_ref_td_line(const struct nat_sessions *s, uint32_t ref)
{
	return (const uint8_t *)s->td + ((size_t)ref << 3);
}

/** Whether @p k is the key of direction (@p ref & 1) of @p se. */
static inline bool nat_session_match(const struct nat_session *se, uint32_t ref,
				     const struct nat_key *k)
{
	unsigned int dir = ref & 1;
	uint64_t a, ka;
	uint32_t p, kp;

	memcpy(&a, se->addr[dir], 8);
	memcpy(&ka, &k->src, 8);
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	if (__builtin_constant_p(dir) && dir == DIR_I2O) {
		// In2out's ports and the protocol are adjacent in the record, as in the key: one
		// 8-byte word each, of which the low 5 bytes count.
		static_assert(offsetof(struct nat_session, proto) ==
				      offsetof(struct nat_session, port[DIR_I2O]) + 4,
			      "nat_session: proto follows the in2out ports");
		static_assert(offsetof(struct nat_key, proto) ==
				      offsetof(struct nat_key, sport) + 4,
			      "nat_key: proto follows the ports");
		uint64_t q, kq;
		memcpy(&q, (const uint8_t *)se + offsetof(struct nat_session, port[DIR_I2O]), 8);
		memcpy(&kq, &k->sport, 8);
		return ((a ^ ka) | (q ^ kq) << 24) == 0;
	}
#endif
	memcpy(&p, se->port[dir], 4);
	memcpy(&kp, &k->sport, 4);
	if (__builtin_constant_p(dir) && dir == DIR_O2I) {
		// Out2in's ports are not next to the protocol: the protocol by a compare and a
		// branch of its own (a load and a compare with memory), where ORed in it took a
		// load, an XOR and two zero extensions.
		if (se->proto != k->proto)
			return false;
		return ((a ^ ka) | (p ^ kp)) == 0;
	}
	return ((a ^ ka) | (p ^ kp) | (uint64_t)(se->proto ^ k->proto)) == 0;
}

/** The first entry of @p b whose signature is @p sig and whose record has key @p k. */
static inline uint32_t nat_bkt_find(const struct nat_sessions *s, const struct nat_bucket *b,
				    uint32_t sig, const struct nat_key *k)
{
	for (unsigned int m = nat_bkt_match(b, sig); m; m &= m - 1) {
		uint32_t ref = b->ref[__builtin_ctz(m)];
		if (nat_session_match(&s->recs[ref >> 1], ref, k))
			return ref;
	}
	return NAT_REF_NONE;
}

/** nat_sessions_add() for a key whose hash is known (nat_key_hash(): primary bucket,
 *  signature). Inline: a new session's two inserts, in another file than the table's. */
static inline int nat_sessions_add_h(struct nat_sessions *s, uint32_t bkt, uint32_t sig,
				     uint32_t ref)
{
	// A free entry in the primary bucket, else in the alternative one: nearly every insert.
	struct nat_bucket *b = &s->bkt[bkt];
	unsigned int m = nat_bkt_match(b, 0);

	if (unlikely(m == 0)) {
		b = &s->bkt[nat_bkt_alt(s, bkt, sig)];
		m = nat_bkt_match(b, 0);
		if (unlikely(m == 0))
			return nat_sessions_add_cuckoo(s, bkt, sig, ref);
	}
	b->sig[__builtin_ctz(m)] = sig;
	b->ref[__builtin_ctz(m)] = ref;
	return 0;
}

/** A lookup with the hash already known. @return the reference or NAT_REF_NONE. */
static inline uint32_t nat_sessions_lookup_h(const struct nat_sessions *s, const struct nat_key *k,
					     struct nat_hash h)
{
	uint32_t ref = nat_bkt_find(s, &s->bkt[h.bkt], h.sig, k);

	if (ref != NAT_REF_NONE)
		return ref;
	return nat_bkt_find(s, &s->bkt[nat_bkt_alt(s, h.bkt, h.sig)], h.sig, k);
}

/*
 * TCP checks of an existing session, per packet (Linux conntrack's tcp_valid_flags and a
 * reduced tcp_in_window; RFC 5961 §3 for RST, and FIN likewise):
 *   - flag combinations no stack sends (SYN+FIN, SYN+RST, FIN without ACK, no flag at all...)
 *     are refused: conntrack's table, with PSH, ECE and CWR ignored;
 *   - per direction, the highest sequence end sent (td_end) and the largest window advertised
 *     (td_maxwin, scaled by the SYN's window scale when both SYNs carried one, RFC 7323
 *     §2.2); a RST or FIN of direction d is accepted only if its sequence number is within
 *     the receiver's largest window of td_end[d]: [td_end[d] - win, td_end[d] + win]. A blind
 *     attacker then needs about 2^32 / (2 win) tries instead of one.
 * Data segments are not checked, only tracked. The backend's direction is not checked before
 * its first segment: RFC 793's RST to a SYN may have sequence number 0.
 */
#define NAT_TCP_FLAGS_CHECKED                                                                      \
	(RTE_TCP_FIN_FLAG | RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG |               \
	 RTE_TCP_URG_FLAG)
#define NAT_TCP_VALID_BIT(f) (1ull << (f))
/* conntrack's tcp_valid_flags[] (net/netfilter/nf_conntrack_proto_tcp.c) */
#define NAT_TCP_VALID_FLAGS                                                                        \
	(NAT_TCP_VALID_BIT(RTE_TCP_SYN_FLAG) |                                                     \
	 NAT_TCP_VALID_BIT(RTE_TCP_SYN_FLAG | RTE_TCP_URG_FLAG) |                                  \
	 NAT_TCP_VALID_BIT(RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) |                                  \
	 NAT_TCP_VALID_BIT(RTE_TCP_RST_FLAG) |                                                     \
	 NAT_TCP_VALID_BIT(RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG) |                                  \
	 NAT_TCP_VALID_BIT(RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG) |                                  \
	 NAT_TCP_VALID_BIT(RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_URG_FLAG) |               \
	 NAT_TCP_VALID_BIT(RTE_TCP_ACK_FLAG) |                                                     \
	 NAT_TCP_VALID_BIT(RTE_TCP_ACK_FLAG | RTE_TCP_URG_FLAG))
/* The window assumed for a receiver not seen yet: the largest unscaled one. */
#define NAT_TCP_DEFAULT_WIN 65535u
/** Window scale assumed both ways for a session picked up mid-flow (nat_session_pickup()):
 *  RFC 7323's largest, so that any window the flow may use is inside the one tracked. */
#define NAT_TCP_PICKUP_WSCALE 14

/** Whether a combination of TCP flags is one a TCP stack sends. */
static inline bool nat_tcp_flags_valid(uint8_t f)
{
	return (NAT_TCP_VALID_FLAGS >> (f & NAT_TCP_FLAGS_CHECKED)) & 1;
}

/** The window scale option of a SYN's header @p th (of @p hlen bytes): NAT_WS_SENT | shift
 * (capped at 14, RFC 7323 §2.3), or 0 when absent. */
static inline uint8_t nat_tcp_syn_wscale(const struct rte_tcp_hdr *th, uint32_t hlen)
{
	const uint8_t *o = (const uint8_t *)(th + 1), *end = (const uint8_t *)th + hlen;

	while (o < end) {
		if (*o == 0) // end of options
			break;
		if (*o == 1) { // no-op
			o++;
			continue;
		}
		if (o + 1 >= end || o[1] < 2 || o + o[1] > end)
			break;
		if (o[0] == 3 && o[1] == 3)
			return (uint8_t)(NAT_WS_SENT | RTE_MIN(o[2], 14));
		o += o[1];
	}
	return 0;
}

/** A window in the units of a direction's scale, rounded up (a SYN's window is unscaled). */
static inline uint16_t nat_tcp_win_units(uint32_t win, uint8_t ws)
{
	uint32_t sh = ws & 0xf;
	return (uint16_t)RTE_MAX((win + (1u << sh) - 1) >> sh, 1u);
}

/**
 * Lower the MSS option of a SYN or SYN-ACK header @p th (of @p hlen bytes, checked by the
 * parser) to @p mss when it is above it, and update the TCP checksum incrementally (RFC 1624,
 * over the 16-bit words of the header that the value covers: an option may start at any
 * byte). @return whether the header changed.
 */
static inline bool nat_tcp_mss_clamp(struct rte_tcp_hdr *th, uint32_t hlen, uint16_t mss)
{
	uint8_t *b = (uint8_t *)th, *o = (uint8_t *)(th + 1), *end = b + hlen;

	while (o < end) {
		if (*o == 0)
			break;
		if (*o == 1) {
			o++;
			continue;
		}
		if (o + 1 >= end || o[1] < 2 || o + o[1] > end)
			break;
		if (o[0] == 2 && o[1] == 4) {
			uint32_t at = (uint32_t)(o + 2 - b), off = at & ~1u, n = (at & 1) ? 2 : 1;
			uint16_t w_old[2], w_new[2];
			uint32_t d = 0;
			if ((uint32_t)(o[2] << 8 | o[3]) <= mss)
				return false;
			// Unaligned, the value straddles two words; the header's length is a multiple
			// of 4, so the second word is inside it.
			memcpy(w_old, b + off, 2 * n);
			o[2] = (uint8_t)(mss >> 8);
			o[3] = (uint8_t)mss;
			memcpy(w_new, b + off, 2 * n);
			for (uint32_t i = 0; i < n; i++)
				d = cksum_delta16(d, w_old[i], w_new[i]);
			th->cksum = cksum_apply(th->cksum, cksum_fold(d));
			return true;
		}
		o += o[1];
	}
	return false;
}

/** Start tracking direction @p dir at its first segment @p th (a SYN or SYN-ACK normally),
 * whose sequence end is @p end. */
static inline void nat_tcp_track_syn(struct nat_tcp_td *td, int dir, const struct rte_tcp_hdr *th,
				     uint32_t hlen, uint32_t end)
{
	td->end[dir] = end;
	td->maxwin[dir] = RTE_MAX(rte_be_to_cpu_16(th->rx_win), 1u); // unscaled so far
	td->wscale[dir] = (th->tcp_flags & RTE_TCP_SYN_FLAG) ? nat_tcp_syn_wscale(th, hlen) : 0;
	if (dir != DIR_I2O)
		return;
	if (!((td->wscale[0] & td->wscale[1]) & NAT_WS_SENT)) {
		td->wscale[0] = td->wscale[1] = 0; // scaling only if both SYNs asked for it
		return;
	}
	// From now on windows are scaled: the SYNs' ones, in the units of their direction.
	td->maxwin[0] = nat_tcp_win_units(td->maxwin[0], td->wscale[0]);
	td->maxwin[1] = nat_tcp_win_units(td->maxwin[1], td->wscale[1]);
}

/** Start tracking a session at the client's SYN @p th (@p l4_len: header and payload). */
static inline void nat_tcp_track_start(struct nat_tcp_td *td, const struct rte_tcp_hdr *th,
				       uint32_t l4_len)
{
	const uint32_t hlen = (uint32_t)(th->data_off >> 2) & 0x3c;

	td->end[DIR_I2O] = 0;
	td->maxwin[DIR_I2O] = 0;
	td->wscale[DIR_I2O] = 0;
	nat_tcp_track_syn(td, DIR_O2I, th, hlen,
			  rte_be_to_cpu_32(th->sent_seq) + l4_len - hlen + 1);
}

/* nat_tcp_track() but for an established session's plain segments. */
static __rte_noinline int nat_tcp_track_slow(struct nat_session *se, struct nat_tcp_td *td, int dir,
					     struct rte_tcp_hdr *th, uint32_t end)
{
	const uint8_t f = th->tcp_flags;
	const uint32_t hlen = (uint32_t)(th->data_off >> 2) & 0x3c;
	const uint32_t seq = rte_be_to_cpu_32(th->sent_seq);
	uint32_t win;
	uint16_t raw;

	if (unlikely(!nat_tcp_flags_valid(f)))
		return DP_DROP_TCP_BAD_FLAGS;
	if ((f & RTE_TCP_SYN_FLAG) && td->mss_clamp) // the mapping's tcpMssClamp, both ways
		nat_tcp_mss_clamp(th, hlen, td->mss_clamp);
	if (dir == DIR_I2O && !(se->flags & NAT_F_SEEN_I2O)) {
		// The backend's first segment (its SYN-ACK): tracking of its direction starts.
		nat_tcp_track_syn(td, dir, th, hlen, end + !!(f & RTE_TCP_SYN_FLAG));
		nat_session_tcp_update(se, dir, f);
		return 0;
	}
	if (f & RTE_TCP_SYN_FLAG) {
		if (dir == DIR_O2I && se->state == NAT_ST_CLOSED && !(f & RTE_TCP_ACK_FLAG))
			nat_tcp_track_start(td, th,
					    end - seq + hlen); // the client recycles the 5-tuple
		nat_session_tcp_update(se, dir, f);
		return 0;
	}
	if ((f & RTE_TCP_RST_FLAG) && dir == DIR_O2I && se->state == NAT_ST_SYN_SENT) {
		// The client gives up its own handshake: typically its answer to an ACK that is
		// not for its SYN (RFC 9293 §3.10.7.3: <SEQ=SEG.ACK><CTL=RST>), which a backend
		// sends from a TIME-WAIT of the same 4-tuple (an SNAT port reused soon). The RST
		// carries the backend's numbers, not the client's, and must reach it so that the
		// next SYN is accepted: conntrack lets it through the same way (the RST whose seq
		// is the last ACK's ack). A blind RST can only abort a handshake, not a session.
		nat_session_tcp_update(se, dir, f);
		return 0;
	}
	if (f & (RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG)) {
		// The receiver's largest window, either side of the sender's sequence end.
		win = dir == DIR_O2I && !(se->flags & NAT_F_SEEN_I2O)
			      ? NAT_TCP_DEFAULT_WIN
			      : (uint32_t)td->maxwin[!dir] << (td->wscale[!dir] & 0xf);
		if ((uint32_t)(seq - td->end[dir] + win) > 2 * win)
			return DP_DROP_TCP_OUT_OF_WINDOW;
		end += f & RTE_TCP_FIN_FLAG;
	}
	nat_session_tcp_update(se, dir, f);
	raw = rte_be_to_cpu_16(th->rx_win);
	if ((int32_t)(end - td->end[dir]) > 0)
		td->end[dir] = end;
	if (raw > td->maxwin[dir])
		td->maxwin[dir] = raw;
	return 0;
}

/**
 * Check and track one TCP segment of session @p se (window tracking @p td) in direction
 * @p dir, and update its state (nat_session_tcp_update()). @p th: the segment's header, whose
 * data offset the parser checked; @p l4_len: header and payload bytes. @return 0, or
 * DP_DROP_TCP_BAD_FLAGS or DP_DROP_TCP_OUT_OF_WINDOW with the session left as it was.
 * A SYN's or SYN-ACK's MSS option is lowered to td->mss_clamp (nat_tcp_mss_clamp()).
 * Worker lcore of the session. Inline is only what an established flow's plain segment
 * (ACK, maybe PSH, ECE, CWR) needs: its sequence end and window.
 */
static __rte_always_inline int nat_tcp_track(struct nat_session *se, struct nat_tcp_td *td, int dir,
					     struct rte_tcp_hdr *th, uint32_t l4_len)
{
	const uint32_t end =
		dp_ntohl(th->sent_seq) + l4_len - ((uint32_t)(th->data_off >> 2) & 0x3c);
	const uint16_t raw = dp_ntohs(th->rx_win);

	if (unlikely((th->tcp_flags & NAT_TCP_FLAGS_CHECKED) != RTE_TCP_ACK_FLAG ||
		     se->state != NAT_ST_ESTABLISHED))
		return nat_tcp_track_slow(se, td, dir, th, end);
	if ((int32_t)(end - td->end[dir]) > 0)
		td->end[dir] = end;
	if (raw > td->maxwin[dir])
		td->maxwin[dir] = raw;
	return 0;
}

#endif
