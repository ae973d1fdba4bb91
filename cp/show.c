/* SPDX-License-Identifier: BSD-3-Clause */
/* Human-readable renderings shared by the CLI and the daemon's exit report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/tables.h>

void cp_print_stats(FILE *f)
{
	static const char *const role[] = {"ext", "int"};
	struct dp_stats *s = calloc(1, sizeof(*s));
	const struct tables *t = tables_get();

	if (!s)
		return;
	dp_stats_sum(s);
	fprintf(f, "%-6s %14s %14s %16s %16s\n", "port", "rx-packets", "tx-packets", "rx-bytes",
		"tx-bytes");
	for (int p = 0; p < DP_PORT_MAX; p++)
		fprintf(f, "%-6s %14" PRIu64 " %14" PRIu64 " %16" PRIu64 " %16" PRIu64 "\n", role[p],
			s->rx_pkts[p], s->tx_pkts[p], s->rx_bytes[p], s->tx_bytes[p]);
	fprintf(f, "sessions: created %" PRIu64 ", expired %" PRIu64 ", active %" PRIu64 "\n",
		s->sessions_created, s->sessions_expired, s->sessions_created - s->sessions_expired);
	fprintf(f, "handoff: %" PRIu64 " packets between workers; slow path: %" PRIu64 "\n",
		s->handoff_out, s->slowpath);
	for (unsigned int i = 0; i < dp_n_workers(); i++) {
		const struct dp_stats *ws = dp_worker_stats(i);
		fprintf(f,
			"worker %u (lcore %u): sessions created %" PRIu64 ", handed off %" PRIu64
			", taken over %" PRIu64 ", busy %.1f%%\n",
			i, dp_worker_lcore(i), ws->sessions_created, ws->handoff_out, ws->handoff_in,
			ws->total_tsc ? 100.0 * (double)ws->busy_tsc / (double)ws->total_tsc : 0.0);
	}
	fprintf(f, "drops:");
	int any = 0;
	for (int d = 0; d < DP_DROP_MAX; d++) {
		if (s->drops[d]) {
			fprintf(f, " %s=%" PRIu64, dp_drop_name(d), s->drops[d]);
			any = 1;
		}
	}
	fprintf(f, "%s\n", any ? "" : " none");
	if (t) {
		fprintf(f, "%-20s %10s %10s %12s %12s %14s %14s %8s\n", "mapping", "active",
			"created", "pkts-o2i", "pkts-i2o", "bytes-o2i", "bytes-i2o", "drops");
		for (uint32_t i = 0; i < t->n_mappings; i++) {
			const struct dp_map_stats *m = &s->map[t->mappings[i].slot];
			fprintf(f, "%-20s %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %12" PRIu64
				   " %14" PRIu64 " %14" PRIu64 " %8" PRIu64 "\n",
				t->mappings[i].name, m->sessions_created - m->sessions_expired,
				m->sessions_created, m->pkts[0], m->pkts[1], m->bytes[0], m->bytes[1],
				m->drops);
		}
	}
	free(s);
}
