/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers, one view rendered three ways: `show workers` (CLI), /strait/workers
 * (telemetry) and the strait_worker_* families (/metrics). This file is the pattern for a
 * `show` command that is also in telemetry and metrics: the view struct, the one function
 * that builds it, the three renderers and their registrations, all here; add the file to
 * cp/meson.build and it is served.
 *
 * The view is built from the snapshot (lcores, busy ratio over the last second) and the
 * worker's own plain counters, on whichever thread renders, holding the snapshot.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <strait/dp.h>

#include "cli_priv.h"
#include "cp_priv.h"

/** A worker lcore. Cycles are TSC cycles of loop iterations. */
struct cp_view_worker {
	unsigned int worker, lcore;
	uint64_t rx_packets, tx_packets; /**< both arms */
	uint64_t rx_ext, rx_int;	 /**< rx_packets by arm: where the device delivered */
	uint64_t sessions_active;
	double busy_ratio_1s;  /**< busy/total cycles over the last second, 0..1 */
	double busy_ratio_avg; /**< busy/total cycles since start, 0..1 */
	uint64_t busy_tsc, total_tsc, loops;
	uint64_t handoff_in, handoff_out, slowpath;
};

/* Worker @p i of @p snap (i < snap->n_workers). Any thread holding the snapshot. */
static void worker_view(const struct cp_snap *snap, unsigned int i, struct cp_view_worker *v)
{
	const struct dp_stats *s = dp_worker_stats(i);

	v->worker = i;
	v->lcore = snap->lcore[i];
	v->rx_packets = s->rx_pkts[0] + s->rx_pkts[1];
	v->rx_ext = s->rx_pkts[DP_PORT_EXT];
	v->rx_int = s->rx_pkts[DP_PORT_INT];
	v->tx_packets = s->tx_pkts[0] + s->tx_pkts[1];
	v->sessions_active = s->sessions_created - s->sessions_expired;
	v->busy_tsc = s->busy_tsc;
	v->total_tsc = s->total_tsc;
	v->busy_ratio_1s = snap->busy_ratio[i];
	v->busy_ratio_avg = v->total_tsc ? (double)v->busy_tsc / (double)v->total_tsc : 0.0;
	v->loops = s->loops;
	v->handoff_in = s->handoff_in;
	v->handoff_out = s->handoff_out;
	v->slowpath = s->slowpath;
}

/* ---- show workers (CLI, control thread) ------------------------------------------------ */

static void cmd_workers_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct cp_snap *snap = cp_snap_get();
	json_t *doc = json_array();

	RTE_SET_USED(parsed);
	RTE_SET_USED(data);
	for (unsigned int i = 0; snap && i < snap->n_workers; i++) {
		struct cp_view_worker v;
		json_t *row = json_object();

		worker_view(snap, i, &v);
		cli_set_int(row, "worker", v.worker);
		cli_set_int(row, "lcore", v.lcore);
		cli_set_u64(row, "rx_packets", v.rx_packets);
		cli_set_u64(row, "tx_packets", v.tx_packets);
		cli_set_u64(row, "rx_ext", v.rx_ext);
		cli_set_u64(row, "rx_int", v.rx_int);
		cli_set_u64(row, "sessions", v.sessions_active);
		json_object_set_new(row, "busy_percent", json_real(100.0 * v.busy_ratio_1s));
		json_object_set_new(row, "busy_percent_avg", json_real(100.0 * v.busy_ratio_avg));
		cli_set_u64(row, "loops", v.loops);
		cli_set_u64(row, "handoff_in", v.handoff_in);
		cli_set_u64(row, "handoff_out", v.handoff_out);
		cli_set_u64(row, "slowpath", v.slowpath);
		json_array_append_new(doc, row);
	}
	if (snap)
		cp_snap_put();
	if (!doc)
		cli_fail(cl, -ENOMEM, "out of memory");
	else
		cli_reply(cl, doc);
}

struct cmd_workers_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t workers;
};

static cmdline_parse_token_string_t cmd_workers_show =
	TOKEN_STRING_INITIALIZER(struct cmd_workers_result, show, "show");
static cmdline_parse_token_string_t cmd_workers_workers =
	TOKEN_STRING_INITIALIZER(struct cmd_workers_result, workers, "workers");

static cmdline_parse_inst_t cmd_show_workers = {
	.f = cmd_workers_parsed,
	.data = NULL,
	.help_str = "show workers: per worker lcore: packets, sessions, busy percent (last second "
		    "and since start)",
	.tokens = {(void *)&cmd_workers_show, (void *)&cmd_workers_workers, NULL},
};

static cmdline_parse_inst_t *cli_workers_cmds[] = {&cmd_show_workers, NULL};
CLI_REGISTER(workers, cli_workers_cmds)

/* ---- /strait/workers (telemetry thread) ------------------------------------------------ */

static int tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cp_snap *snap;
	char key[16], ratio[32];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (!(snap = cp_snap_get()))
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < snap->n_workers; i++) {
		struct rte_tel_data *wd = cp_tel_dict();
		struct cp_view_worker v;

		if (!wd)
			continue;
		worker_view(snap, i, &v);
		rte_tel_data_add_dict_int(wd, "lcore", (int)v.lcore);
		rte_tel_data_add_dict_u64(wd, "busy_tsc", v.busy_tsc);
		rte_tel_data_add_dict_u64(wd, "total_tsc", v.total_tsc);
		snprintf(ratio, sizeof(ratio), "%.4f", v.busy_ratio_avg);
		rte_tel_data_add_dict_string(wd, "busy_ratio", ratio);
		snprintf(ratio, sizeof(ratio), "%.4f", v.busy_ratio_1s);
		rte_tel_data_add_dict_string(wd, "busy_ratio_1s", ratio);
		rte_tel_data_add_dict_u64(wd, "loops", v.loops);
		rte_tel_data_add_dict_u64(wd, "rx_packets", v.rx_packets);
		rte_tel_data_add_dict_u64(wd, "tx_packets", v.tx_packets);
		rte_tel_data_add_dict_u64(wd, "sessions_active", v.sessions_active);
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, wd, 0);
	}
	cp_snap_put();
	return 0;
}

/* ---- strait_worker_* (metrics thread) -------------------------------------------------- */

static void metrics_workers(FILE *f, const struct cp_snap *snap)
{
	struct cp_view_worker v[CFG_MAX_WORKERS];
	unsigned int n = RTE_MIN(snap->n_workers, (unsigned int)CFG_MAX_WORKERS);

	for (unsigned int i = 0; i < n; i++)
		worker_view(snap, i, &v[i]);
	cp_metrics_family(f, "strait_worker_busy_ratio", "gauge",
			  "Share of a worker's loop cycles that had packets to handle, over the "
			  "last second.");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "strait_worker_busy_ratio{worker=\"%u\",lcore=\"%u\"} %.6f\n", i,
			v[i].lcore, v[i].busy_ratio_1s);
	cp_metrics_family(f, "strait_worker_busy_cycles_total", "counter",
			  "TSC cycles of loop iterations that had work.");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f,
			"strait_worker_busy_cycles_total{worker=\"%u\",lcore=\"%u\"} %" PRIu64 "\n",
			i, v[i].lcore, v[i].busy_tsc);
	cp_metrics_family(f, "strait_worker_cycles_total", "counter",
			  "TSC cycles of all loop iterations.");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "strait_worker_cycles_total{worker=\"%u\",lcore=\"%u\"} %" PRIu64 "\n",
			i, v[i].lcore, v[i].total_tsc);
}

RTE_INIT(show_workers_register)
{
	cp_telemetry_register("/strait/workers", tel_workers,
			      "Per worker: lcore, busy_tsc/total_tsc (TSC cycles), busy_ratio "
			      "since start and over 1 s (0..1). No params.");
	cp_metrics_register(metrics_workers);
}
