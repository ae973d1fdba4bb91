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

#include "session.h"

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

/** The hash of a key given as its two 64-bit words (memory order). */
static __rte_always_inline struct nat_hash nat_hash_words(const struct nat_sessions *s, uint64_t w0,
							  uint64_t w1)
{
	uint64_t x = nat_nh64(s->key, w0, w1);
	uint32_t sig = (uint32_t)(x >> 32);
	return (struct nat_hash){.bkt = (uint32_t)x & s->bkt_mask, .sig = sig ? sig : 1};
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

/** Whether @p k is the key of direction (@p ref & 1) of @p se. */
static inline bool nat_session_match(const struct nat_session *se, uint32_t ref,
				     const struct nat_key *k)
{
	unsigned int dir = ref & 1;
	uint64_t a, ka;
	uint32_t p, kp;

	memcpy(&a, se->addr[dir], 8);
	memcpy(&ka, &k->src, 8);
	memcpy(&p, se->port[dir], 4);
	memcpy(&kp, &k->sport, 4);
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

/** A lookup with the hash already known. @return the reference or NAT_REF_NONE. */
static inline uint32_t nat_sessions_lookup_h(const struct nat_sessions *s, const struct nat_key *k,
					     struct nat_hash h)
{
	uint32_t ref = nat_bkt_find(s, &s->bkt[h.bkt], h.sig, k);

	if (ref != NAT_REF_NONE)
		return ref;
	return nat_bkt_find(s, &s->bkt[nat_bkt_alt(s, h.bkt, h.sig)], h.sig, k);
}

#endif
