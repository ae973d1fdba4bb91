/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Internet checksum helpers (RFC 1071) and incremental updates (RFC 1624 eqn. 3:
 * HC' = ~(~HC + ~m + m')), in the form the NAT rewrite uses.
 *
 * All values are 16-bit words exactly as they sit in the packet (network byte order in
 * memory): one's-complement sums are byte-order independent (RFC 1071 §2(B)), so no swap is
 * needed as long as every operand is taken from the wire the same way.
 *
 * A NAT rewrite of fixed fields (addresses, ports, TTL) changes a checksum by a constant, so
 * a session precomputes one delta per direction (as VPP nat44-ed does) and each packet pays
 * one add and one fold. Thread context: any; pure functions.
 */
#ifndef STRAIT_CKSUM_H
#define STRAIT_CKSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * One's-complement sum of two folded 16-bit values, folded: 0 only when both are 0, else the
 * representative in [1, 0xffff]. On x86 a 16-bit add and an add of its carry (two
 * instructions; the compiler makes five of the C below, which gives the same bits: the sum
 * of two 16-bit terms fits in 17 bits, so one end-around carry is enough and cannot carry).
 */
static inline uint16_t cksum_add16(uint16_t a, uint16_t b)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
	__asm__("addw %1, %0\n\tadcw $0, %0" : "+r"(a) : "rm"(b) : "cc");
	return a;
#else
	uint32_t sum = (uint32_t)a + b;
	return (uint16_t)((sum & 0xffff) + (sum >> 16));
#endif
}

/** Fold a 32-bit one's-complement accumulator to 16 bits (not complemented): its two halves'
 * one's-complement sum (the same bits as folding twice). */
static inline uint16_t cksum_fold(uint32_t sum)
{
	return cksum_add16((uint16_t)sum, (uint16_t)(sum >> 16));
}

/** Accumulate the delta of replacing 16-bit word @p old_w by @p new_w (RFC 1624). */
static inline uint32_t cksum_delta16(uint32_t acc, uint16_t old_w, uint16_t new_w)
{
	return acc + (uint16_t)~old_w + new_w;
}

/** Accumulate the delta of replacing a 32-bit field (an IPv4 address), as two words. */
static inline uint32_t cksum_delta32(uint32_t acc, uint32_t old_l, uint32_t new_l)
{
	acc = cksum_delta16(acc, (uint16_t)(old_l >> 16), (uint16_t)(new_l >> 16));
	return cksum_delta16(acc, (uint16_t)old_l, (uint16_t)new_l);
}

/** One's-complement sum of two 32-bit values: 0 only when both are 0 (add, add the carry). */
static inline uint32_t cksum_add32(uint32_t a, uint32_t b)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
	__asm__("addl %1, %0\n\tadcl $0, %0" : "+r"(a) : "rm"(b) : "cc");
	return a;
#else
	uint64_t sum = (uint64_t)a + b;
	return (uint32_t)sum + (uint32_t)(sum >> 32);
#endif
}

/**
 * Accumulate the delta of replacing a 32-bit field (an address, or two adjacent 16-bit
 * fields read as one word) in a 64-bit accumulator: 2^16 = 1 modulo 0xffff, so ~old + new of
 * the 32-bit word is the delta of its two 16-bit halves (cksum_delta32() in one add each).
 * Up to 2^31 of them fit; cksum_fold64() gives the same bits as cksum_fold() of
 * cksum_delta32() over the same fields.
 */
static inline uint64_t cksum_delta32w(uint64_t acc, uint32_t old_l, uint32_t new_l)
{
	return acc + (uint32_t)~old_l + new_l;
}

/** Fold a 64-bit one's-complement accumulator to 16 bits (not complemented). */
static inline uint16_t cksum_fold64(uint64_t sum)
{
	return cksum_fold(cksum_add32((uint32_t)sum, (uint32_t)(sum >> 32)));
}

/**
 * Apply a folded delta to a checksum field as found in a header (RFC 1624 eqn. 3).
 * @param cksum the field's current value.
 * @param delta cksum_fold() of the accumulated deltas.
 * @return the new field value.
 */
static inline uint16_t cksum_apply(uint16_t cksum, uint16_t delta)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
	// ~(~c +' d) is c -' d, the one's-complement difference with the borrow taken back
	// (RFC 1624 §3): the same bits, 2 instructions instead of 4. When d <= c, ~c + d does
	// not carry and both give c - d; otherwise both give c - d - 1 modulo 2^16.
	__asm__("subw %1, %0\n\tsbbw $0, %0" : "+r"(cksum) : "rm"(delta) : "cc");
	return cksum;
#else
	return (uint16_t)~cksum_add16((uint16_t)~cksum, delta);
#endif
}

/**
 * The same for a UDP checksum: 0 means "no checksum" and stays 0 (RFC 768), and a computed
 * 0 is sent as 0xffff.
 */
static inline uint16_t cksum_apply_udp(uint16_t cksum, uint16_t delta)
{
	if (cksum == 0)
		return 0;
	uint16_t c = cksum_apply(cksum, delta);
	return c == 0 ? 0xffff : c;
}

/**
 * One's-complement sum of @p len bytes at @p data plus @p acc, folded to 16 bits but not
 * complemented, so that it can be passed on as the @p acc of the next call.
 * An odd trailing byte is padded with zero (RFC 1071 §4.1).
 */
uint32_t cksum_raw(const void *data, size_t len, uint32_t acc);

/** The complemented, folded checksum of @p len bytes (as an ICMP or IPv4 header wants). */
static inline uint16_t cksum_full(const void *data, size_t len)
{
	return (uint16_t)~cksum_fold(cksum_raw(data, len, 0));
}

#endif
