/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /strait/... commands on DPDK's telemetry socket (`dpdk-telemetry.py -f PREFIX`).
 *
 * The handlers run on the telemetry thread. They render the views of cp/view.h: the
 * control thread's snapshot (cp/snapshot.c) for mappings, the tables generation and port
 * figures; the workers' plain counters (cp_view_counters()), read while holding the
 * snapshot's read lock, which keeps the data plane's memory alive until they are done; and
 * the sessions, which the control thread walks for them (cp_snap_sessions()). Never the
 * tables nor the desired state: they are the control thread's.
 *
 * DPDK 22.11's telemetry limits the shape: dict keys are [A-Za-z0-9_/] (so mapping names are
 * keys with '-' and '.' made '_', the exact name being a field), arrays cannot hold dicts
 * (so lists are dicts keyed "0", "1", ...), numbers are integers (so ratios are strings), and
 * a reply is at most 16 KiB (so sessions and mappings are listed up to a limit).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include <strait/cp.h>
#include <strait/dp.h>

#include "cp_priv.h"

#define TEL_MAPPINGS_MAX     48
#define TEL_SESSIONS_DEFAULT 16
#define TEL_SESSIONS_MAX     32

/* A dict key from a label: telemetry accepts only [A-Za-z0-9_/]. */
static void tel_key(char *dst, size_t size, const char *ns, const char *name)
{
	snprintf(dst, size, "%s%s%s", ns, ns[0] ? "/" : "", name);
	for (char *p = dst; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '/'))
			*p = '_';
}

struct rte_tel_data *cp_tel_dict(void)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	if (d)
		rte_tel_data_start_dict(d);
	return d;
}

/* Split "A,B" params: the first field into @p a, the rest into @p b. */
static void tel_params(const char *params, char *a, size_t asz, char *b, size_t bsz)
{
	const char *comma;

	a[0] = b[0] = '\0';
	if (!params)
		return;
	comma = strchr(params, ',');
	if (comma) {
		snprintf(a, asz, "%.*s", (int)(comma - params), params);
		snprintf(b, bsz, "%s", comma + 1);
	} else {
		snprintf(a, asz, "%s", params);
	}
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cp_snap *snap;
	struct cp_view_counters v;
	struct dp_stats *s;
	struct rte_tel_data *drops;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (!(snap = cp_snap_get()))
		return -ENODEV;
	s = cp_view_counters(&v);
	if (!s) {
		cp_snap_put();
		return -ENOMEM;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tables_generation", snap->generation);
	rte_tel_data_add_dict_u64(d, "sessions_active", v.sessions_active);
	rte_tel_data_add_dict_u64(d, "sessions_created", v.sessions_created);
	rte_tel_data_add_dict_u64(d, "sessions_expired", v.sessions_expired);
	rte_tel_data_add_dict_u64(d, "sessions_evicted", v.sessions_evicted);
	rte_tel_data_add_dict_u64(d, "sessions_picked_up", v.sessions_picked_up);
	rte_tel_data_add_dict_u64(d, "sessions_snat_probed", v.sessions_snat_probed);
	rte_tel_data_add_dict_u64(d, "handoff_packets", v.handoff_packets);
	rte_tel_data_add_dict_u64(d, "slowpath_packets", v.slowpath_packets);
	rte_tel_data_add_dict_u64(d, "ctl_loop_slow", v.ctl_loop_slow);
	rte_tel_data_add_dict_u64(d, "ctl_loop_max_us", v.ctl_loop_max_ns / 1000);
	for (int p = 0; p < DP_PORT_MAX; p++) {
		struct rte_tel_data *pd = cp_tel_dict();
		if (!pd)
			continue;
		rte_tel_data_add_dict_u64(pd, "rx_packets", v.rx_packets[p]);
		rte_tel_data_add_dict_u64(pd, "tx_packets", v.tx_packets[p]);
		rte_tel_data_add_dict_u64(pd, "rx_bytes", v.rx_bytes[p]);
		rte_tel_data_add_dict_u64(pd, "tx_bytes", v.tx_bytes[p]);
		rte_tel_data_add_dict_container(d, cp_view_port_role[p], pd, 0);
	}
	drops = cp_tel_dict();
	if (drops) {
		for (int r = 0; r < DP_DROP_MAX; r++)
			rte_tel_data_add_dict_u64(drops, dp_drop_name(r), v.drops[r]);
		rte_tel_data_add_dict_container(d, "drops", drops, 0);
	}
	struct rte_tel_data *sy = cp_tel_dict();
	if (sy) {
		for (int c = 0; c < SYNC_C_MAX; c++)
			rte_tel_data_add_dict_u64(sy, sync_counter_name(c), v.sync[c]);
		rte_tel_data_add_dict_container(d, "sync", sy, 0);
	}
	free(s);
	cp_snap_put();
	return 0;
}

static void tel_mapping_add(struct rte_tel_data *d, const struct cp_view_mapping *m,
			    const struct dp_stats *s)
{
	struct rte_tel_data *md = cp_tel_dict();
	struct cp_view_map_counters c;
	char key[2 * CFG_NAME_MAX];

	if (!md)
		return;
	cp_view_map_counters(s, m->slot, &c);
	rte_tel_data_add_dict_string(md, "name", m->name);
	rte_tel_data_add_dict_string(md, "namespace", m->ns);
	rte_tel_data_add_dict_string(md, "port", m->ports);
	rte_tel_data_add_dict_string(md, "protocol", m->protocol);
	rte_tel_data_add_dict_int(md, "ordinal", m->ordinal);
#define MAP_COUNTER_(cli_key, tel_key, member) rte_tel_data_add_dict_u64(md, tel_key, c.member);
	CP_VIEW_MAP_COUNTER_FIELDS(MAP_COUNTER_)
#undef MAP_COUNTER_
	tel_key(key, sizeof(key), m->ns, m->name);
	rte_tel_data_add_dict_container(d, key, md, 0);
}

static int tel_mappings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cp_snap *snap;
	struct cp_view_counters v;
	struct dp_stats *s;
	char name[2 * CFG_NAME_MAX], rest[16];
	int ret = 0;

	RTE_SET_USED(cmd);
	tel_params(params, name, sizeof(name), rest, sizeof(rest));
	if (!(snap = cp_snap_get()))
		return -ENODEV;
	s = cp_view_counters(&v);
	if (!s) {
		cp_snap_put();
		return -ENOMEM;
	}
	rte_tel_data_start_dict(d);
	if (name[0]) {
		const struct cp_view_mapping *m = cp_snap_mapping_find(snap, name);
		if (m)
			tel_mapping_add(d, m, s);
		else
			ret = -ENOENT;
	} else {
		rte_tel_data_add_dict_u64(d, "total", snap->n_mappings);
		for (unsigned int i = 0; i < snap->n_mappings && i < TEL_MAPPINGS_MAX; i++)
			tel_mapping_add(d, &snap->maps[i], s);
	}
	free(s);
	cp_snap_put();
	return ret;
}

static int tel_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct cp_view_session rows[TEL_SESSIONS_MAX];
	unsigned int limit = TEL_SESSIONS_DEFAULT, shown;
	char name[2 * CFG_NAME_MAX], lim[16];
	const struct cp_snap *snap;
	uint64_t total;
	int slot = -1, ret;

	RTE_SET_USED(cmd);
	tel_params(params, name, sizeof(name), lim, sizeof(lim));
	if (lim[0]) {
		char *end;
		unsigned long v = strtoul(lim, &end, 10);
		if (*end || end == lim)
			return -EINVAL;
		limit = v > TEL_SESSIONS_MAX ? TEL_SESSIONS_MAX : (unsigned int)v;
	}
	if (!(snap = cp_snap_get()))
		return -ENODEV;
	if (name[0]) {
		const struct cp_view_mapping *m = cp_snap_mapping_find(snap, name);
		if (!m) {
			cp_snap_put();
			return -ENOENT;
		}
		slot = m->slot;
	}
	cp_snap_put();
	// The control thread walks the sessions: the walk reads the tables.
	ret = cp_snap_sessions(slot, limit, rows, &shown, &total);
	if (ret < 0)
		return ret;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < shown; i++) {
		const struct cp_view_session *v = &rows[i];
		struct rte_tel_data *sd = cp_tel_dict();
		char key[16];

		if (!sd)
			continue;
#define TEL_ADD_INT(d, k, v)		  rte_tel_data_add_dict_int(d, k, (int)(v))
#define TEL_ADD_STR			  rte_tel_data_add_dict_string
#define TEL_ADD_U64			  rte_tel_data_add_dict_u64
#define SESSION_FIELD_(key, kind, member) TEL_ADD_##kind(sd, key, v->member);
		CP_VIEW_SESSION_FIELDS(SESSION_FIELD_)
#undef SESSION_FIELD_
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, sd, 0);
	}
	rte_tel_data_add_dict_u64(d, "total", total);
	rte_tel_data_add_dict_u64(d, "shown", shown);
	return 0;
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cp_snap *snap;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (!(snap = cp_snap_get()))
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (int r = 0; r < DP_PORT_MAX; r++) {
		const struct cp_snap_port *p = &snap->ports[r];
		struct rte_tel_data *pd = cp_tel_dict();
		if (!pd)
			continue;
		rte_tel_data_add_dict_string(pd, "device", p->device);
		rte_tel_data_add_dict_int(pd, "port_id", p->port_id);
		rte_tel_data_add_dict_string(pd, "link", p->link_up ? "up" : "down");
		rte_tel_data_add_dict_u64(pd, "speed_mbps", p->speed_mbps);
		rte_tel_data_add_dict_u64(pd, "rx_packets", p->stats.ipackets);
		rte_tel_data_add_dict_u64(pd, "tx_packets", p->stats.opackets);
		rte_tel_data_add_dict_u64(pd, "rx_bytes", p->stats.ibytes);
		rte_tel_data_add_dict_u64(pd, "tx_bytes", p->stats.obytes);
		rte_tel_data_add_dict_u64(pd, "rx_missed", p->stats.imissed);
		rte_tel_data_add_dict_u64(pd, "rx_errors", p->stats.ierrors);
		rte_tel_data_add_dict_u64(pd, "tx_errors", p->stats.oerrors);
		rte_tel_data_add_dict_u64(pd, "rx_nombuf", p->stats.rx_nombuf);
		rte_tel_data_add_dict_container(d, p->role, pd, 0);
	}
	rte_tel_data_add_dict_u64(d, "age_ms", (cp_snap_now_ns() - snap->refreshed_ns) / 1000000);
	cp_snap_put();
	return 0;
}

static int tel_tables(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct cp_snap *snap;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (!(snap = cp_snap_get()))
		return -ENODEV;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "generation", snap->generation);
	rte_tel_data_add_dict_u64(d, "mappings", snap->n_mappings);
	rte_tel_data_add_dict_string(d, "kubernetes", snap->k8s_state ? snap->k8s_state : "");
	cp_snap_put();
	return 0;
}

/* Help texts must stay under 128 bytes (22.11's limit); docs/operations.md has the detail. */
static const struct tel_cmd {
	const char *path;
	telemetry_cb fn;
	const char *help;
} tel_cmds[] = {
	{"/strait/stats", tel_stats,
	 "Gateway counters: sessions, packets and bytes per arm, drops by reason, tables "
	 "generation. No params."},
	{"/strait/mappings", tel_mappings,
	 "Per-mapping sessions, packets, IPv4 bytes, drops. Param: [MAPPING] (NAME or "
	 "NS/NAME); else the first 48."},
	{"/strait/sessions", tel_sessions,
	 "Live sessions, times in s. Params: [MAPPING][,LIMIT] (LIMIT: default 16, max "
	 "32; a reply is 16 KiB)."},
	{"/strait/ports", tel_ports,
	 "Ethdev counters per arm: packets, bytes, rx_missed, errors, link. No params. "
	 "Refreshed every second."},
	{"/strait/tables", tel_tables,
	 "Published tables: generation (one per publish), mapping count, Kubernetes "
	 "state. No params."},
};

/* Every /strait/ command, this file's and the other modules' (cp_telemetry_register()). */
static struct tel_cmd tel_registered[CP_TELEMETRY_MAX_CMDS];
static unsigned int tel_n_registered;

void cp_telemetry_register(const char *path, telemetry_cb fn, const char *help)
{
	assert(tel_n_registered < CP_TELEMETRY_MAX_CMDS && strlen(help) < 128);
	tel_registered[tel_n_registered++] = (struct tel_cmd){.path = path, .fn = fn, .help = help};
	rte_telemetry_register_cmd(path, fn, help);
}

int cp_telemetry_call(const char *path, const char *params, struct rte_tel_data *d)
{
	for (unsigned int i = 0; i < tel_n_registered; i++)
		if (strcmp(path, tel_registered[i].path) == 0)
			return tel_registered[i].fn(path, params, d);
	return -ENOENT;
}

RTE_INIT(strait_telemetry_register)
{
	for (unsigned int i = 0; i < RTE_DIM(tel_cmds); i++)
		cp_telemetry_register(tel_cmds[i].path, tel_cmds[i].fn, tel_cmds[i].help);
}
