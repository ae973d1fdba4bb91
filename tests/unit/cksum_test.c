/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <strait/cksum.h>

#include "pkt_build.h"

/* RFC 1624 §4: HC = 0xdd2f, a field changes from 0x5555 to 0x3285. Eqn. 3 gives 0x0000;
 * eqn. 2 (RFC 1141) would give 0xffff, the bug the RFC fixes. */
static void rfc1624_example_gives_0000(void **state)
{
	(void)state;
	uint16_t d = cksum_fold(cksum_delta16(0, 0x5555, 0x3285));
	assert_int_equal(cksum_apply(0xdd2f, d), 0x0000);
}

/* RFC 1071 §3 example: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2 (folded, uncomplemented). */
static void rfc1071_example_sum(void **state)
{
	(void)state;
	static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint16_t s = cksum_fold(cksum_raw(data, sizeof(data), 0));
	/* cksum_raw sums words in memory order: compare in the same order */
	uint16_t want;
	const uint8_t w[2] = {0xdd, 0xf2};
	memcpy(&want, w, 2);
	assert_int_equal(s, want);
}

static void odd_length_pads_with_zero(void **state)
{
	(void)state;
	static const uint8_t a[] = {0x12, 0x34, 0x56};
	static const uint8_t b[] = {0x12, 0x34, 0x56, 0x00};
	assert_int_equal(cksum_raw(a, 3, 0), cksum_raw(b, 4, 0));
}

static void udp_zero_checksum_stays_zero(void **state)
{
	(void)state;
	uint16_t d = cksum_fold(cksum_delta32(0, 0x0a000001, 0xc6336401));
	assert_int_equal(cksum_apply_udp(0, d), 0);
}

static void udp_computed_zero_is_sent_as_ffff(void **state)
{
	(void)state;
	/* Choose a delta that turns 0x0001 into 0x0000: ~(~0x0001 + d) == 0 → d = 1. */
	assert_int_equal(cksum_apply(0x0001, 0x0001), 0x0000);
	assert_int_equal(cksum_apply_udp(0x0001, 0x0001), 0xffff);
}

/* Incremental updates of addresses and ports agree with a full recomputation, on many
 * random headers (the property the NAT rewrite relies on). */
static void incremental_matches_full_recompute(void **state)
{
	(void)state;
	srand(1624);
	for (int i = 0; i < 20000; i++) {
		uint8_t ip[20];
		for (int j = 0; j < 20; j++)
			ip[j] = (uint8_t)rand();
		ip[0] = 0x45;
		uint16_t c = tb_ip_cksum(ip, 20);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;

		uint32_t old_src, new_src = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		memcpy(&old_src, ip + 12, 4);
		uint16_t field;
		memcpy(&field, ip + 10, 2);
		uint16_t d = cksum_fold(cksum_delta32(0, old_src, new_src));
		uint16_t upd = cksum_apply(field, d);
		memcpy(ip + 12, &new_src, 4);
		uint16_t want = tb_ip_cksum(ip, 20);
		uint16_t got = (uint16_t)(((uint8_t *)&upd)[0] << 8 | ((uint8_t *)&upd)[1]);
		/* 0x0000 and 0xffff are the same one's-complement value; a header never sums to
		 * all-zero words, so the full recompute gives 0xffff where eqn. 3 gives 0 only if
		 * every other word is zero, which random data does not produce. */
		assert_int_equal(got, want);
	}
}

static void full_checksum_of_valid_header_verifies(void **state)
{
	(void)state;
	uint8_t ip[20] = {0x45, 0, 0,  0x54, 0x12, 0x34, 0x40, 0, 64, 1,
			  0,	0, 10, 0,    0,	   1,	 10,   0, 0,  2};
	uint16_t c = cksum_full(ip, 20);
	memcpy(ip + 10, &c, 2);
	assert_int_equal(cksum_fold(cksum_raw(ip, 20, 0)), 0xffff);
	ip[15] ^= 1;
	assert_int_not_equal(cksum_fold(cksum_raw(ip, 20, 0)), 0xffff);
}

/* The word-at-a-time sum agrees with a 16-bit-at-a-time one (pkt_build.h's) at every length
 * and start offset, with carries out of every position (all-0xff bytes). */
static void wide_sum_matches_16_bit_sum_at_every_length(void **state)
{
	(void)state;
	uint8_t buf[80];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			buf[i] = fill ? 0xff : (uint8_t)(x >> 56);
		}
		for (size_t off = 0; off < 8; off++) {
			for (size_t len = 0; len + off <= sizeof(buf); len++) {
				/* tb_sum reads big-endian words; compare byte-swapped */
				uint16_t ref = tb_sum(buf + off, len, 0);
				uint16_t got = (uint16_t)cksum_fold(cksum_raw(buf + off, len, 0));
				got = (uint16_t)(got >> 8 | got << 8);
				if (ref == 0xffff && got == 0)
					got = 0xffff; /* +0 and -0 */
				if (ref == 0 && got == 0xffff)
					got = 0;
				assert_int_equal(got, ref);
			}
		}
	}
}

/* cksum_add16() (two instructions on x86), cksum_fold() and cksum_apply() give the bits of the
 * plain arithmetic they replace: every a against b at and around the carry's edges and on a
 * grid, and 32-bit accumulators around each fold's carry. */
static uint16_t ref_add16(uint16_t a, uint16_t b)
{
	uint32_t sum = (uint32_t)a + b;
	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

static uint16_t ref_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void add_fold_and_apply_agree_with_plain_arithmetic(void **state)
{
	(void)state;
	static const uint16_t edge[] = {0, 1, 2, 0x7fff, 0x8000, 0xfeff, 0xfffe, 0xffff};

	for (uint32_t a = 0; a <= 0xffff; a++) {
		for (uint32_t b = 0; b <= 0xffff; b += 257) {
			assert_int_equal(cksum_add16((uint16_t)a, (uint16_t)b),
					 ref_add16((uint16_t)a, (uint16_t)b));
			assert_int_equal(cksum_apply((uint16_t)a, (uint16_t)b),
					 (uint16_t)~ref_add16((uint16_t)~a, (uint16_t)b));
		}
		for (int k = -2; k <= 2; k++) { /* around b = a, where the difference borrows */
			uint16_t b = (uint16_t)(a + (uint32_t)k);
			assert_int_equal(cksum_apply((uint16_t)a, b),
					 (uint16_t)~ref_add16((uint16_t)~a, b));
		}
		for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
			uint16_t b = edge[i];
			assert_int_equal(cksum_add16((uint16_t)a, b), ref_add16((uint16_t)a, b));
			assert_int_equal(cksum_add16(b, (uint16_t)a), ref_add16(b, (uint16_t)a));
			assert_int_equal(cksum_apply((uint16_t)a, b),
					 (uint16_t)~ref_add16((uint16_t)~a, b));
		}
	}
	for (uint32_t hi = 0; hi <= 0xffff; hi++)
		for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
			uint32_t sum = hi << 16 | edge[i];
			assert_int_equal(cksum_fold(sum), ref_fold(sum));
		}
	srand(1624);
	for (int i = 0; i < 1000000; i++) {
		uint32_t sum = (uint32_t)rand() << 16 ^ (uint32_t)rand();
		assert_int_equal(cksum_fold(sum), ref_fold(sum));
	}
}

/* The 64-bit accumulation of 32-bit words' deltas folds to the same bits as the 16-bit
 * words' deltas accumulated in 32 bits: a session's deltas (nat_session_create()), and the
 * carries of the 32-bit add at their edges. */
static void wide_deltas_agree_with_16_bit_deltas(void **state)
{
	(void)state;
	static const uint32_t edge[] = {0,	    1,		0xffff,	    0x10000,   0x7fffffff,
					0x80000000, 0xfffeffff, 0xfffffffe, 0xffffffff};
	const size_t ne = sizeof(edge) / sizeof(edge[0]);

	for (size_t i = 0; i < ne; i++)
		for (size_t j = 0; j < ne; j++) {
			assert_int_equal(cksum_add32(edge[i], edge[j]) == 0,
					 edge[i] == 0 && edge[j] == 0);
			assert_int_equal(cksum_fold(cksum_add32(edge[i], edge[j])),
					 cksum_fold64((uint64_t)edge[i] + edge[j]));
		}
	srand(3022);
	for (int n = 0; n < 2000000; n++) {
		uint32_t v[8];
		for (int i = 0; i < 8; i++) {
			v[i] = (uint32_t)rand() << 16 ^ (uint32_t)rand();
			if (rand() % 8 == 0)
				v[i] = edge[(size_t)rand() % ne];
		}
		uint32_t a = cksum_delta32(0, v[0], v[1]);
		a = cksum_delta32(a, v[2], v[3]);
		uint64_t w = cksum_delta32w(0, v[0], v[1]);
		w = cksum_delta32w(w, v[2], v[3]);
		assert_int_equal(cksum_fold64(w), cksum_fold(a));
		a = cksum_delta16(a, (uint16_t)v[4], (uint16_t)v[6]);
		a = cksum_delta16(a, (uint16_t)v[5], (uint16_t)v[7]);
		w = cksum_delta32w(w, (uint32_t)(uint16_t)v[4] | (uint32_t)(uint16_t)v[5] << 16,
				   (uint32_t)(uint16_t)v[6] | (uint32_t)(uint16_t)v[7] << 16);
		assert_int_equal(cksum_fold64(w), cksum_fold(a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1624_example_gives_0000),
		cmocka_unit_test(rfc1071_example_sum),
		cmocka_unit_test(odd_length_pads_with_zero),
		cmocka_unit_test(udp_zero_checksum_stays_zero),
		cmocka_unit_test(udp_computed_zero_is_sent_as_ffff),
		cmocka_unit_test(incremental_matches_full_recompute),
		cmocka_unit_test(full_checksum_of_valid_header_verifies),
		cmocka_unit_test(wide_sum_matches_16_bit_sum_at_every_length),
		cmocka_unit_test(add_fold_and_apply_agree_with_plain_arithmetic),
		cmocka_unit_test(wide_deltas_agree_with_16_bit_deltas),
	};
	return cmocka_run_group_tests_name("cksum", tests, NULL, NULL);
}
