/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maglev_bench: the time of one maglev_build() (common/maglev.c), the part of a changed
 * service's publication that grows with its table (cp_scale_bench).
 *
 * maglev_bench [M [N [BUILDS [WEIGHT]]]]: BUILDS builds (default 300) of an M-entry table
 * (default 16381) over N backends (default 30) of weight WEIGHT (default 1), each set drawn
 * at random (fixed seed); prints the median and the minimum per build.
 *
 * Output: `bench case=maglev-build m=M n=N median_us=... min_us=...`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <strait/maglev.h>

static uint16_t table[MAGLEV_TABLE_SIZE];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const uint32_t m = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 16381;
	const unsigned int n = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 30;
	const unsigned int builds = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 0) : 300;
	const unsigned int weight = argc > 4 ? (unsigned int)strtoul(argv[4], NULL, 0) : 1;
	struct maglev_backend *b = calloc(n ? n : 1, sizeof(*b));
	double *t = calloc(builds ? builds : 1, sizeof(*t));
	uint64_t rng = 0x2545f4914f6cdd1dull;

	if (!b || !t || n == 0 || n > 65535 || builds == 0 || weight == 0 || weight > 65535 ||
	    !maglev_table_size_ok(m)) {
		fprintf(stderr, "usage: maglev_bench [M (%s) [N [BUILDS [WEIGHT]]]]\n",
			MAGLEV_TABLE_SIZES);
		free(b);
		free(t);
		return 2;
	}
	for (unsigned int k = 0; k < builds; k++) {
		for (unsigned int i = 0; i < n; i++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			b[i] = (struct maglev_backend){.addr = (uint32_t)(rng >> 40) << 16 | i,
						       .port = 8080,
						       .weight = (uint16_t)weight};
		}
		double t0 = now_us();
		if (maglev_build(b, n, table, m) != 0) {
			free(b);
			free(t);
			return 1;
		}
		t[k] = now_us() - t0;
	}
	qsort(t, builds, sizeof(*t), cmp_double);
	printf("bench case=maglev-build m=%u n=%u weight=%u builds=%u median_us=%.1f min_us=%.1f\n",
	       m, n, weight, builds, t[builds / 2], t[0]);
	free(b);
	free(t);
	return 0;
}
