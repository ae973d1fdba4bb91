/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strait/maglev.h>

#if defined(__SSE4_1__) && !defined(STRAIT_MAGLEV_SCALAR)
#include <smmintrin.h>
#define MAGLEV_SSE41 1
#endif

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
	int32_t t = 0, nt = 1, r = (int32_t)m, nr = (int32_t)a;

	while (nr != 0) {
		int32_t q = r / nr, x;

		x = t - q * nt;
		t = nt;
		nt = x;
		x = r - q * nr;
		r = nr;
		nr = x;
	}
	return r == 1 ? (uint32_t)(t < 0 ? t + (int32_t)m : t) : 0;
}

// A backend's permutation, (offset + j * skip) mod m for j = 0, 1, ...
struct maglev_perm {
	uint32_t next; // the position of its next probe
	uint32_t s[9]; // k * skip mod m, k = 0..8: a block of four or eight probes from next
	uint32_t offset;
	uint16_t idx;	 // into the caller's array
	uint16_t weight; // turns a round, >= 1
	uint32_t row;	 // 1 + its row of the tail's positions, 0 before its first turn there
};

// The tail's size, ~sqrt(m) / 2: there the last probes (~1.5 cycles each, m / e of them for
// an entry when e are empty) cost about what an entry of the exact method does (a row for
// each backend's first turn there, a scan of the rows a turn); the fill time is flat from
// ~sqrt(m) / 3 to sqrt(m) (maglev_bench).
static uint32_t tail_size(uint32_t m)
{
	uint32_t t = 1;

	while (4 * t * t < m)
		t++;
	return t;
}

// Backend p's position in its permutation of each listed empty entry, k < tp:
// (empty[k] - offset) * skip^-1 mod m, or UINT16_MAX when the entry is gone.
static void tail_row(const struct maglev_perm *p, uint32_t inv, const uint32_t *empty,
		     const uint16_t *gone, uint32_t tp, uint32_t m, uint16_t *row)
{
	// a mod m as a - q * m with q = a * floor(2^32 / m) >> 32, floor(a / m) or one less,
	// for a < 2^32 (m < 2^16): one multiply instead of a division.
	const uint32_t minv = (uint32_t)((1ull << 32) / m);

	for (uint32_t k = 0; k < tp; k++) {
		uint32_t r =
			empty[k] >= p->offset ? empty[k] - p->offset : empty[k] + m - p->offset;
		uint32_t a = r * inv, j = a - (uint32_t)(((uint64_t)a * minv) >> 32) * m;

		j -= j >= m ? m : 0;
		row[k] = (uint16_t)j | gone[k];
	}
}

// The k < tp of the smallest row[k] (the positions are distinct, UINT16_MAX is none).
static uint32_t row_argmin(const uint16_t *row, uint32_t tp)
{
#ifdef MAGLEV_SSE41
	__m128i m0 = _mm_set1_epi16(-1), m1 = m0, v;
	uint32_t k;

	for (k = 0; k < tp; k += 16) {
		m0 = _mm_min_epu16(m0, _mm_loadu_si128((const __m128i *)(row + k)));
		m1 = _mm_min_epu16(m1, _mm_loadu_si128((const __m128i *)(row + k + 8)));
	}
	v = _mm_set1_epi16((short)_mm_extract_epi16(_mm_minpos_epu16(_mm_min_epu16(m0, m1)), 0));
	for (k = 0;; k += 8) {
		uint32_t mask = (uint32_t)_mm_movemask_epi8(
			_mm_cmpeq_epi16(v, _mm_loadu_si128((const __m128i *)(row + k))));
		if (mask)
			return k + (uint32_t)__builtin_ctz(mask) / 2;
	}
#else
	uint32_t at = 0;

	for (uint32_t k = 1; k < tp; k++)
		if (row[k] < row[at])
			at = k;
	return at;
#endif
}

// The tail, exactly: the last entries cost m / (empty entries) probes each. Backend i has
// probed positions j < J_i of its permutation, all of them taken; its next entry is the empty
// one e with the smallest j_i(e) = (e - offset_i) * skip_i^-1 mod m (m prime: a bijection, so
// no ties), computed once for each empty entry at the backend's first turn here (its row)
// and marked UINT16_MAX in every row when the entry is taken. The same entries, in the same
// order, as probing on. Turns go on from backend i with w turns left.
static int fill_tail(struct maglev_perm *pm, unsigned int ne, unsigned int i, unsigned int w,
		     const uint8_t *taken, uint16_t *table, uint32_t m, uint32_t n_empty)
{
	uint32_t tp, e = 0, c = 0, nrows = 0, n_rows_max;
	uint32_t *empty;
	uint16_t *gone, *rows;
	void *mem;

	tp = (n_empty + 15) & ~15u; // whole blocks of 16 positions
	n_rows_max = ne < n_empty ? ne : n_empty;
	mem = malloc((size_t)tp * (sizeof(*empty) + sizeof(*gone)) +
		     (size_t)n_rows_max * tp * sizeof(*rows));
	if (!mem)
		return -ENOMEM;
	empty = mem;
	gone = (uint16_t *)(empty + tp);
	rows = gone + tp;
#ifdef MAGLEV_SSE41
	for (; e + 16 <= m; e += 16) {
		uint32_t mask = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(taken + e)), _mm_setzero_si128()));

		for (; mask && c < n_empty; mask &= mask - 1)
			empty[c++] = e + (uint32_t)__builtin_ctz(mask);
	}
#endif
	for (; e < m && c < n_empty; e++)
		if (!taken[e])
			empty[c++] = e;
	// c is n_empty (m - filled, what the probes left), never more whatever the map says
	for (uint32_t k = 0; k < tp; k++) {
		gone[k] = k < c ? 0 : UINT16_MAX;
		if (k >= c)
			empty[k] = 0;
	}
	for (uint32_t left = c; left > 0; left--) {
		struct maglev_perm *p = &pm[i];
		uint16_t *row;
		uint32_t k;

		if (p->row == 0) {
			tail_row(p, inverse_mod(p->s[1], m), empty, gone, tp, m, rows + nrows * tp);
			p->row = ++nrows;
		}
		row = rows + (p->row - 1) * tp;
		k = row_argmin(row, tp);
		table[empty[k]] = p->idx;
		gone[k] = UINT16_MAX;
		for (uint32_t r = 0; r < nrows; r++)
			rows[r * tp + k] = UINT16_MAX;
		if (--w == 0) {
			if (++i == ne)
				i = 0;
			w = pm[i].weight;
		}
	}
	free(mem);
	return 0;
}

// Pseudocode 1: backend i (in canonical order) takes weight turns a round; a turn takes the
// first entry of its permutation not yet taken. A turn probes @p block (4 or 8, a constant
// of each inlined copy) positions of the permutation at once, without a branch between
// them, and takes the first free one: the same entry as probing them one by one, with one
// unpredictable branch a block instead of one a probe (the loop's exits are most of the
// build's cost: cp_scale_bench). Positions are stepped by k * skip (< m), not computed with
// a 64-bit division per probe; a block's are read from one base, taken + x (the map is
// doubled), and only the block's next start and the entry taken are wrapped (a
// subtraction). Turns from backend *pi with *pw turns left until @p n entries are taken;
// *pi and *pw are where they stopped.
static inline __attribute__((always_inline)) void
fill_probes(struct maglev_perm *pm, unsigned int ne, unsigned int *pi, unsigned int *pw,
	    uint8_t *restrict taken, uint16_t *restrict table, size_t m, uint32_t n,
	    const unsigned int block)
{
	struct maglev_perm *p = pm + *pi, *const end = pm + ne;
	unsigned int w = *pw;

	while (n > 0) {
		const size_t s1 = p->s[1], s2 = p->s[2], s3 = p->s[3], s4 = p->s[4];
		const size_t s5 = p->s[5], s6 = p->s[6], s7 = p->s[7], sb = p->s[block];
		const uint16_t idx = p->idx;
		size_t x = p->next;

		do {
			const uint8_t *t;
			uint32_t f, k;
			size_t c;

			// f: bit k set when position x + k * skip is taken
			for (;;) {
				t = taken + x;
				f = t[0] + t[s1] * 2u + t[s2] * 4u + t[s3] * 8u;
				if (block == 8)
					f += t[s4] * 16u + t[s5] * 32u + t[s6] * 64u + t[s7] * 128u;
				if (f != (1u << block) - 1)
					break;
				x += sb;
				x -= x >= m ? m : 0;
			}
			k = (uint32_t)__builtin_ctz(~f);
			c = x + p->s[k];
			x += p->s[k + 1];
			c -= c >= m ? m : 0;
			x -= x >= m ? m : 0;
			taken[c] = taken[c + m] = 1;
			table[c] = idx;
		} while (--w != 0 && --n != 0);
		p->next = (uint32_t)x;
		if (w == 0) {
			n--;
			if (++p == end)
				p = pm;
			w = p->weight;
		}
	}
	*pi = (unsigned int)(p - pm);
	*pw = w;
}

int maglev_build(const struct maglev_backend *b, unsigned int n, uint16_t *table, uint32_t m)
{
	const struct maglev_backend **order;
	struct maglev_perm *pm;
	uint8_t *restrict taken;
	uint32_t filled = 0, tail, stop, mid;
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
	// Which entries are taken: a byte each, tested instead of the table's own entries (every
	// entry is written once, so the table needs no clearing first), and twice: taken[e + m]
	// is taken[e], so a block's probes x + k * skip mod m (x, k * skip < m) are read at
	// x + k * skip without wrapping each (32 KiB for the default size, in L1).
	// Zeroed by writing, not by calloc(): calloc() leaves memory the allocator knows to be
	// zero (fresh, or given back to the kernel) unwritten, and the probes would read it first:
	// each page mapped to the kernel's zero page, then copied on the first write, and each
	// copy flushes the TLB of every CPU of the process (an interrupt on every worker lcore).
	// explicit_bzero(), as the compiler turns malloc() and memset() into calloc().
	taken = malloc(2 * (size_t)m);
	if (taken)
		explicit_bzero(taken, 2 * (size_t)m);
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
		for (unsigned int k = 2; k < 9; k++) {
			p->s[k] = p->s[k - 1] + p->s[1];
			p->s[k] -= p->s[k] >= m ? m : 0;
		}
		p->idx = (uint16_t)(order[i] - b);
		p->weight = order[i]->weight;
		ne++;
	}
	// The tail needs skip^-1 mod m, which every skip has when m is prime: the sizes a
	// mapping may choose. Any other size is probed to its end.
	tail = maglev_table_size_ok(m) ? tail_size(m) : 0;
	stop = m - tail;

	i = 0;
	w = pm[0].weight;
	// Blocks of four while most turns end in their first block, of eight in the last eighth
	// (all but ~sqrt(m) / 2 of it: see the tail), where turns probe 8 to ~sqrt(m) positions
	// and the loop is predictable: half the branches and steps (~5 % of the build).
	mid = stop > m / 8 * 7 ? m / 8 * 7 : stop;
	fill_probes(pm, ne, &i, &w, taken, table, m, mid, 4);
	fill_probes(pm, ne, &i, &w, taken, table, m, stop - mid, 8);
	filled = stop;
	if (filled == m)
		goto out;

	ret = fill_tail(pm, ne, i, w, taken, table, m, m - filled);
out:
	free(order);
	free(pm);
	free(taken);
	return ret;
}
