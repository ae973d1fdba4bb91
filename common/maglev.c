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

int maglev_build(const struct maglev_backend *b, unsigned int n, uint16_t *table, uint32_t m)
{
	const struct maglev_backend **order;
	uint64_t taken[(MAGLEV_TABLE_SIZE + 63) / 64];
	uint32_t *offset, *skip, *next;
	uint32_t filled = 0;
	unsigned int i, eligible = 0;
	int ret = 0;

	if (n == 0 || n > 65535 || m < 2 || m > MAGLEV_TABLE_SIZE)
		return -EINVAL;
	for (i = 0; i < n; i++)
		eligible += b[i].weight > 0;
	if (eligible == 0)
		return -EINVAL;

	order = calloc(n, sizeof(*order));
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	if (!order || !offset || !skip || !next) {
		ret = -ENOMEM;
		goto out;
	}
	// Fill in a canonical order so that the result does not depend on how the caller
	// (a config file, an EndpointSlice merge) happened to list the backends.
	for (i = 0; i < n; i++)
		order[i] = &b[i];
	qsort(order, n, sizeof(*order), backend_cmp);
	for (i = 0; i < n; i++) {
		uint64_t id = (uint64_t)order[i]->addr << 16 | order[i]->port;
		offset[i] = (uint32_t)(mix64(id ^ 0x5bd1e995u) % m);
		skip[i] = (uint32_t)(mix64(id ^ 0xc2b2ae3d27d4eb4full) % (m - 1)) + 1;
	}
	// Which entries are taken: a bit each (8 KiB at most, in L1), tested instead of the
	// table's own entries (up to 128 KiB); every entry is written once, so the table needs
	// no clearing first.
	memset(taken, 0, ((m + 63) / 64) * sizeof(*taken));

	// next[i] is backend i's position in its permutation, (offset + j * skip) mod m for its
	// j-th probe: stepped by skip (< m) and wrapped by one subtraction, not computed with a
	// 64-bit division per probe (most of a table's build time, and a table is built per
	// changed endpoint set: cp_scale_bench). The same positions, so the same table.
	for (i = 0; i < n; i++)
		next[i] = offset[i];
	while (filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			for (unsigned int turn = 0; turn < order[i]->weight && filled < m; turn++) {
				uint32_t c;
				do {
					c = next[i];
					next[i] += skip[i];
					if (next[i] >= m)
						next[i] -= m;
				} while (taken[c >> 6] >> (c & 63) & 1);
				taken[c >> 6] |= 1ull << (c & 63);
				table[c] = (uint16_t)(order[i] - b);
				filled++;
			}
		}
	}
out:
	free(order);
	free(offset);
	free(skip);
	free(next);
	return ret;
}
