/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include <cmocka.h>

#include <strait/maglev.h>

static uint16_t table_a[MAGLEV_TABLE_SIZE], table_b[MAGLEV_TABLE_SIZE];

static void make_backends(struct maglev_backend *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		b[i] = (struct maglev_backend){
			.addr = 0x0af40000u + i * 7 + 1, .port = 9092, .weight = 1};
}

static void count(const uint16_t *t, unsigned int *c, unsigned int n)
{
	memset(c, 0, n * sizeof(*c));
	for (unsigned int i = 0; i < MAGLEV_TABLE_SIZE; i++) {
		assert_true(t[i] < n);
		c[t[i]]++;
	}
}

/* The paper's Pseudocode 1 as written (permutation[i][j] = (offset + j x skip) mod M, one
 * division per probe), with maglev.c's hashes and canonical order: what maglev_build() must
 * give entry for entry, since every gateway of a mapping (and every version of strait in one
 * HA pair) must pick the same backend for the same flow. */
static uint64_t ref_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

#define REF_MAX 512

static void ref_build(const struct maglev_backend *b, unsigned int n, uint16_t *table, uint32_t m)
{
	unsigned int order[REF_MAX];
	uint32_t offset[REF_MAX], skip[REF_MAX], next[REF_MAX] = {0}, filled = 0;

	for (unsigned int i = 0; i < n; i++)
		order[i] = i;
	for (unsigned int i = 1; i < n; i++) // insertion sort by (addr, port)
		for (unsigned int j = i; j > 0; j--) {
			const struct maglev_backend *x = &b[order[j - 1]], *y = &b[order[j]];
			if (((uint64_t)x->addr << 16 | x->port) <=
			    ((uint64_t)y->addr << 16 | y->port))
				break;
			unsigned int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t id = (uint64_t)b[order[i]].addr << 16 | b[order[i]].port;
		offset[i] = (uint32_t)(ref_mix64(id ^ 0x5bd1e995u) % m);
		skip[i] = (uint32_t)(ref_mix64(id ^ 0xc2b2ae3d27d4eb4full) % (m - 1)) + 1;
	}
	for (uint32_t i = 0; i < m; i++)
		table[i] = UINT16_MAX;
	while (filled < m)
		for (unsigned int i = 0; i < n && filled < m; i++)
			for (unsigned int t = 0; t < b[order[i]].weight && filled < m; t++) {
				uint32_t c;
				do
					c = (uint32_t)((offset[i] + (uint64_t)next[i]++ * skip[i]) %
						       m);
				while (table[c] != UINT16_MAX);
				table[c] = (uint16_t)order[i];
				filled++;
			}
}

static void the_table_is_the_papers_permutation_fill(void **state)
{
	struct maglev_backend b[64];

	(void)state;
	for (unsigned int n = 1; n <= 64; n = n * 2 + 1) {
		make_backends(b, n);
		for (unsigned int i = 0; i < n; i++) {
			b[i].port = (uint16_t)(9092 + i % 3);
			b[i].weight = (uint16_t)(i % 4); // 0 (not eligible) to 3
		}
		b[n - 1].weight = 1;
		// Reverse the list: the canonical order, not the caller's, decides.
		for (unsigned int i = 0; i < n / 2; i++) {
			struct maglev_backend t = b[i];
			b[i] = b[n - 1 - i];
			b[n - 1 - i] = t;
		}
		assert_int_equal(maglev_build(b, n, table_a, MAGLEV_TABLE_SIZE), 0);
		ref_build(b, n, table_b, MAGLEV_TABLE_SIZE);
		assert_memory_equal(table_a, table_b, sizeof(table_a));
	}
}

/* maglev_build() probes four positions at a time and gives out the last ~sqrt(M)/2 empty
 * entries by modular inverse, not by probing (the tail); both must give the paper's table,
 * entry for entry, whatever the set: 1 to 300 backends, weights 0 to 4 (some 0), in any list
 * order, at every size a mapping may choose. */
static void random_sets_fill_as_the_paper_at_every_size(void **state)
{
	static const uint32_t sizes[] = {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521};
	static struct maglev_backend b[300];
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned int cases = 0;

	(void)state;
	for (unsigned int z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		const uint32_t m = sizes[z];

		assert_true(maglev_table_size_ok(m));
		for (unsigned int t = 0; t < 12; t++) {
			unsigned int n, zeros = 0;

			rng = ref_mix64(rng + t);
			// 1, 2 and 300 at every size, and random sizes between
			n = t == 0 ? 1 : t == 1 ? 2 : t == 2 ? 300 : 1 + (unsigned int)(rng % 300);
			for (unsigned int i = 0; i < n; i++) {
				uint64_t r = ref_mix64(rng ^ (i + 1));

				// distinct (address, port): i in the low bits of the address
				b[i] = (struct maglev_backend){
					.addr = (uint32_t)(r >> 32) << 9 | i,
					.port = (uint16_t)(r >> 8),
					.weight = (uint16_t)(t % 3 == 0 ? 1 : r % 5)};
				zeros += b[i].weight == 0;
			}
			if (zeros == n)
				b[n - 1].weight = 1 + (uint16_t)(rng % 4);
			memset(table_a, 0xa5, sizeof(table_a));
			assert_int_equal(maglev_build(b, n, table_a, m), 0);
			ref_build(b, n, table_b, m);
			assert_memory_equal(table_a, table_b, m * sizeof(table_a[0]));
			cases++;
		}
	}
	assert_int_equal(cases, 9 * 12);
}

static void equal_weights_share_the_table_evenly(void **state)
{
	(void)state;
	struct maglev_backend b[7];
	unsigned int c[7];
	make_backends(b, 7);
	assert_int_equal(maglev_build(b, 7, table_a, MAGLEV_TABLE_SIZE), 0);
	count(table_a, c, 7);
	/* Pseudocode 1 hands out entries in turns: shares differ by at most one entry. */
	for (int i = 0; i < 7; i++) {
		assert_true(c[i] >= MAGLEV_TABLE_SIZE / 7);
		assert_true(c[i] <= MAGLEV_TABLE_SIZE / 7 + 1);
	}
}

static void weight_two_gets_twice_the_entries(void **state)
{
	(void)state;
	struct maglev_backend b[3];
	unsigned int c[3];
	make_backends(b, 3);
	b[1].weight = 2;
	assert_int_equal(maglev_build(b, 3, table_a, MAGLEV_TABLE_SIZE), 0);
	count(table_a, c, 3);
	assert_int_equal(c[0] + c[1] + c[2], MAGLEV_TABLE_SIZE);
	assert_true(c[1] >= 2 * c[0] - 2 && c[1] <= 2 * c[0] + 2);
	assert_true(c[0] >= c[2] - 1 && c[0] <= c[2] + 1);
}

static void zero_weight_gets_nothing(void **state)
{
	(void)state;
	struct maglev_backend b[3];
	unsigned int c[3];
	make_backends(b, 3);
	b[2].weight = 0;
	assert_int_equal(maglev_build(b, 3, table_a, MAGLEV_TABLE_SIZE), 0);
	count(table_a, c, 3);
	assert_int_equal(c[2], 0);
}

static void no_eligible_backend_is_einval(void **state)
{
	(void)state;
	struct maglev_backend b[2];
	make_backends(b, 2);
	b[0].weight = b[1].weight = 0;
	assert_int_equal(maglev_build(b, 2, table_a, MAGLEV_TABLE_SIZE), -EINVAL);
	assert_int_equal(maglev_build(b, 0, table_a, MAGLEV_TABLE_SIZE), -EINVAL);
}

static void list_order_does_not_change_assignment(void **state)
{
	(void)state;
	struct maglev_backend b[5], r[5];
	make_backends(b, 5);
	for (int i = 0; i < 5; i++)
		r[i] = b[4 - i];
	assert_int_equal(maglev_build(b, 5, table_a, MAGLEV_TABLE_SIZE), 0);
	assert_int_equal(maglev_build(r, 5, table_b, MAGLEV_TABLE_SIZE), 0);
	for (unsigned int i = 0; i < MAGLEV_TABLE_SIZE; i++)
		assert_int_equal(b[table_a[i]].addr, r[table_b[i]].addr);
}

/* Removing one backend of N moves that backend's entries and few others (paper §5.3: the
 * disruption beyond the removed share is small for M >> N). */
static void removing_one_backend_moves_few_other_flows(void **state)
{
	(void)state;
	enum { N = 10 };
	struct maglev_backend b[N];
	unsigned int moved_other = 0, owned_by_removed = 0;
	make_backends(b, N);
	assert_int_equal(maglev_build(b, N, table_a, MAGLEV_TABLE_SIZE), 0);
	assert_int_equal(maglev_build(b, N - 1, table_b, MAGLEV_TABLE_SIZE),
			 0); /* the last one removed */
	for (unsigned int i = 0; i < MAGLEV_TABLE_SIZE; i++) {
		if (table_a[i] == N - 1)
			owned_by_removed++;
		else if (b[table_a[i]].addr != b[table_b[i]].addr)
			moved_other++;
	}
	print_message("removed backend owned %u entries; %u other entries moved (%.2f%%)\n",
		      owned_by_removed, moved_other, 100.0 * moved_other / MAGLEV_TABLE_SIZE);
	assert_true(owned_by_removed >= MAGLEV_TABLE_SIZE / N);
	assert_true(moved_other < MAGLEV_TABLE_SIZE / 50); /* < 2 % of flows disturbed */
}

static void adding_one_backend_moves_about_its_share(void **state)
{
	(void)state;
	enum { N = 8 };
	struct maglev_backend b[N + 1];
	unsigned int moved = 0;
	make_backends(b, N + 1);
	assert_int_equal(maglev_build(b, N, table_a, MAGLEV_TABLE_SIZE), 0);
	assert_int_equal(maglev_build(b, N + 1, table_b, MAGLEV_TABLE_SIZE), 0);
	for (unsigned int i = 0; i < MAGLEV_TABLE_SIZE; i++)
		moved += b[table_a[i]].addr != b[table_b[i]].addr;
	print_message("adding backend %d of %d moved %u entries (ideal %u)\n", N + 1, N + 1, moved,
		      MAGLEV_TABLE_SIZE / (N + 1));
	assert_true(moved >= MAGLEV_TABLE_SIZE / (N + 1));
	assert_true(moved < MAGLEV_TABLE_SIZE / (N + 1) + MAGLEV_TABLE_SIZE / 50);
}

/* The sizes a mapping may choose, and a small table's balance and disruption (M > 100 N). */
static void table_sizes_are_the_listed_primes(void **state)
{
	(void)state;
	static const uint32_t ok[] = {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521};
	for (unsigned int i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(maglev_table_size_ok(ok[i]));
	assert_false(maglev_table_size_ok(0));
	assert_false(maglev_table_size_ok(4096));
	assert_false(maglev_table_size_ok(65537));
	assert_true(maglev_table_size_ok(MAGLEV_TABLE_SIZE_DEFAULT));
}

static void a_small_table_balances_and_moves_little(void **state)
{
	(void)state;
	enum { N = 10, M = 1021 };
	struct maglev_backend b[N];
	unsigned int c[N] = {0}, moved_other = 0;
	make_backends(b, N);
	assert_int_equal(maglev_build(b, N, table_a, M), 0);
	assert_int_equal(maglev_build(b, N - 1, table_b, M), 0);
	for (unsigned int i = 0; i < M; i++) {
		c[table_a[i]]++;
		if (table_a[i] != N - 1 && b[table_a[i]].addr != b[table_b[i]].addr)
			moved_other++;
	}
	for (unsigned int i = 0; i < N; i++)
		assert_true(c[i] == M / N || c[i] == M / N + 1);
	print_message("M %u: removing 1 of %u moved %u other entries (%.2f%%)\n", M, N, moved_other,
		      100.0 * moved_other / M);
	assert_true(moved_other < M / 20); /* < 5 % of flows disturbed at M = 100 N */
	// Out-of-range sizes are refused.
	assert_int_equal(maglev_build(b, N, table_a, 1), -EINVAL);
	assert_int_equal(maglev_build(b, N, table_a, MAGLEV_TABLE_SIZE + 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_table_is_the_papers_permutation_fill),
		cmocka_unit_test(random_sets_fill_as_the_paper_at_every_size),
		cmocka_unit_test(equal_weights_share_the_table_evenly),
		cmocka_unit_test(weight_two_gets_twice_the_entries),
		cmocka_unit_test(zero_weight_gets_nothing),
		cmocka_unit_test(no_eligible_backend_is_einval),
		cmocka_unit_test(list_order_does_not_change_assignment),
		cmocka_unit_test(removing_one_backend_moves_few_other_flows),
		cmocka_unit_test(adding_one_backend_moves_about_its_share),
		cmocka_unit_test(table_sizes_are_the_listed_primes),
		cmocka_unit_test(a_small_table_balances_and_moves_little),
	};
	return cmocka_run_group_tests_name("maglev", tests, NULL, NULL);
}
