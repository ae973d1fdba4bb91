/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strait/maglev.h>

// Two independent 64-bit mixes (splitmix64 finalizer) of the backend's identity: the paper
// only asks for two hashes that are independent of each other and of the backend order.
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int backend_cmp(const void *a, const void *b)
{
	const struct maglev_backend *x = *(const struct maglev_backend *const *)a;
	const struct maglev_backend *y = *(const struct maglev_backend *const *)b;
	uint64_t kx = (uint64_t)x->addr << 16 | x->port, ky = (uint64_t)y->addr << 16 | y->port;
	return kx < ky ? -1 : kx > ky;
}

bool maglev_table_size_ok(uint32_t m)
{
	static const uint32_t primes[] = {
		MAGLEV_TABLE_SIZE_MIN, 509, 1021, 2039, 4093, 8191, 16381, 32749,
		MAGLEV_TABLE_SIZE};

	for (unsigned int i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		if (primes[i] == m)
			return true;
	return false;
}

// skip^-1 mod m by the extended Euclidean algorithm; 0 when there is none (m not prime).
static uint32_t inverse_mod(uint32_t a, uint32_t m)
{
	int64_t t = 0, nt = 1, r = m, nr = a;

	while (nr != 0) {
		int64_t q = r / nr, x;

		x = t - q * nt;
		t = nt;
		nt = x;
		x = r - q * nr;
		r = nr;
		nr = x;
	}
	return r == 1 ? (uint32_t)(t < 0 ? t + (int64_t)m : t) : 0;
}

// A backend's permutation, (offset + j * skip) mod m for j = 0, 1, ...
struct maglev_perm {
	uint32_t next; // the position of its next probe
	uint32_t s[5]; // k * skip mod m, k = 0..4: a block of four probes from next
	uint32_t offset;
	uint32_t inv;	 // skip^-1 mod m, for the tail
	uint16_t idx;	 // into the caller's array
	uint16_t weight; // turns a round, >= 1
};

// The largest tail (the empty entries given out by the exact method below): ~sqrt(m) / 2.
#define MAGLEV_TAIL_MAX 256

int maglev_build(const struct maglev_backend *b, unsigned int n, uint16_t *table, uint32_t m)
{
	const struct maglev_backend **order;
	uint32_t empty[MAGLEV_TAIL_MAX];
	struct maglev_perm *pm;
	uint8_t *restrict taken;
	uint32_t filled = 0, n_empty = 0, tail = 1, stop, minv;
	unsigned int i, eligible = 0, ne = 0, w;
	int ret = 0;

	if (n == 0 || n > 65535 || m < 2 || m > MAGLEV_TABLE_SIZE)
		return -EINVAL;
	for (i = 0; i < n; i++)
		eligible += b[i].weight > 0;
	if (eligible == 0)
		return -EINVAL;

	order = calloc(n, sizeof(*order));
	pm = calloc(eligible, sizeof(*pm));
	// Which entries are taken: a byte each (16 KiB for the default size, in L1), tested
	// instead of the table's own entries; every entry is written once, so the table needs
	// no clearing first.
	taken = calloc(m, 1);
	if (!order || !pm || !taken) {
		ret = -ENOMEM;
		goto out;
	}
	// Fill in a canonical order so that the result does not depend on how the caller
	// (a config file, an EndpointSlice merge) happened to list the backends.
	for (i = 0; i < n; i++)
		order[i] = &b[i];
	qsort(order, n, sizeof(*order), backend_cmp);
	// Backends of weight 0 take no turns: left out of the fill.
	for (i = 0; i < n; i++) {
		uint64_t id = (uint64_t)order[i]->addr << 16 | order[i]->port;
		struct maglev_perm *p = &pm[ne];

		if (order[i]->weight == 0)
			continue;
		p->offset = p->next = (uint32_t)(mix64(id ^ 0x5bd1e995u) % m);
		p->s[0] = 0;
		p->s[1] = (uint32_t)(mix64(id ^ 0xc2b2ae3d27d4eb4full) % (m - 1)) + 1;
		for (unsigned int k = 2; k < 5; k++) {
			p->s[k] = p->s[k - 1] + p->s[1];
			p->s[k] -= p->s[k] >= m ? m : 0;
		}
		p->idx = (uint16_t)(order[i] - b);
		p->weight = order[i]->weight;
		ne++;
	}
	while (tail < MAGLEV_TAIL_MAX && 4 * tail * tail < m)
		tail++;
	stop = m - tail;

	// Pseudocode 1: backend i (in canonical order) takes weight turns a round; a turn takes
	// the first entry of its permutation not yet taken. A turn probes four positions of the
	// permutation at once, without a branch between them, and takes the first free one:
	// the same entry as probing them one by one, with one unpredictable branch a block
	// instead of one a probe (the loop's exits are most of the build's cost: cp_scale_bench).
	// Positions are stepped by k * skip (< m) and wrapped by one subtraction, not computed
	// with a 64-bit division per probe.
	i = 0;
	w = pm[0].weight;
probe:
	while (filled < stop) {
		struct maglev_perm *p = &pm[i];
		const uint32_t s1 = p->s[1], s2 = p->s[2], s3 = p->s[3], s4 = p->s[4];
		const uint16_t idx = p->idx;
		uint32_t x = p->next;

		for (;;) {
			uint32_t xs[5], f, c, k;

			for (;;) {
				xs[0] = x;
				xs[1] = x + s1;
				xs[2] = x + s2;
				xs[3] = x + s3;
				xs[4] = x + s4;
				xs[1] -= xs[1] >= m ? m : 0;
				xs[2] -= xs[2] >= m ? m : 0;
				xs[3] -= xs[3] >= m ? m : 0;
				xs[4] -= xs[4] >= m ? m : 0;
				f = (taken[xs[0]] ^ 1u) | (taken[xs[1]] ^ 1u) << 1 |
				    (taken[xs[2]] ^ 1u) << 2 | (taken[xs[3]] ^ 1u) << 3;
				if (f)
					break;
				x = xs[4];
			}
			k = (uint32_t)__builtin_ctz(f);
			c = xs[k];
			x = xs[k + 1];
			taken[c] = 1;
			table[c] = idx;
			filled++;
			if (--w == 0 || filled == stop)
				break;
		}
		p->next = x;
		if (w == 0) {
			if (++i == ne)
				i = 0;
			w = pm[i].weight;
		}
	}
	if (filled == m)
		goto out;

	// The tail, exactly: the last entries cost m / (empty entries) probes each, half of all
	// probes for the last ~sqrt(m) / 2. Backend i has probed positions j < J_i of its
	// permutation, all of them taken; its next entry is the empty one e with the smallest
	// j_i(e) = (e - offset_i) * skip_i^-1 mod m (m prime: a bijection, so no ties), found
	// among the few empty entries with one multiply each. The same entries, in the same
	// order, as probing on.
	for (unsigned int k = 0; k < ne; k++) {
		pm[k].inv = inverse_mod(pm[k].s[1], m);
		if (pm[k].inv == 0) { // m not prime: probe to the end
			stop = m;
			goto probe;
		}
	}
	for (uint32_t e = 0; e < m; e++)
		if (!taken[e])
			empty[n_empty++] = e;
	// a mod m as a - q * m with q = a * floor(2^32 / m) >> 32, floor(a / m) or one less, for
	// a < 2^32 (m < 2^16): one multiply instead of a division.
	minv = (uint32_t)((1ull << 32) / m);
	// n_empty is m - filled: every entry not taken was listed, and each turn takes one.
	while (filled < m && n_empty > 0) {
		const struct maglev_perm *p = &pm[i];
		uint32_t best = UINT32_MAX, at = 0;

		for (uint32_t k = 0; k < n_empty; k++) {
			uint32_t r = empty[k] >= p->offset ? empty[k] - p->offset
							   : empty[k] + m - p->offset;
			uint32_t a = r * p->inv, j = a - (uint32_t)(((uint64_t)a * minv) >> 32) * m;

			j -= j >= m ? m : 0;
			if (j < best) {
				best = j;
				at = k;
			}
		}
		table[empty[at]] = p->idx;
		empty[at] = empty[--n_empty];
		filled++;
		if (--w == 0) {
			if (++i == ne)
				i = 0;
			w = pm[i].weight;
		}
	}
out:
	free(order);
	free(pm);
	free(taken);
	return ret;
}
