/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `show ...` commands. Each renders the views of cp/view.h (mappings, sessions, counters) or
 * the desired state (strait/cp.h) as one JSON document; cli.c renders that as text or JSON.
 * These run on the control thread, the only thread that frees tables, so walking the
 * sessions (which reads the tables) is safe here without a grace period.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include <strait/cp.h>
#include <strait/dp.h>

#include "cli_priv.h"
#include "cp_priv.h"

static const char *const *const port_role = cp_view_port_role;

static json_t *cidr_list(const struct cfg_cidr *c, unsigned int n)
{
	json_t *a = json_array();
	char buf[16], s[24];

	for (unsigned int i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%s/%u", cfg_ipv4_str(c[i].addr, buf), c[i].len);
		json_array_append_new(a, json_string(s));
	}
	return a;
}

/* ---- show ports ---------------------------------------------------------------------- */

static json_t *show_ports(void)
{
	const struct cfg *c = cp_config();
	json_t *doc = json_array();

	for (int r = 0; r < DP_PORT_MAX; r++) {
		const struct cfg_port *p = r == DP_PORT_EXT ? &c->ext : &c->intl;
		uint16_t id = dp_port_id(r);
		struct rte_eth_stats st;
		struct rte_eth_link link;
		char mac[RTE_ETHER_ADDR_FMT_SIZE];
		json_t *row = json_object();

		memset(&st, 0, sizeof(st));
		memset(&link, 0, sizeof(link));
		rte_eth_stats_get(id, &st);
		rte_eth_link_get_nowait(id, &link);
		rte_ether_format_addr(mac, sizeof(mac), dp_port_mac(r));
		cli_set_str(row, "port", port_role[r]);
		cli_set_str(row, "device", p->device);
		cli_set_int(row, "port_id", id);
		cli_set_str(row, "mac", mac);
		json_object_set_new(row, "addresses", cidr_list(p->addrs, p->n_addrs));
		cli_set_str(row, "link", link.link_status ? "up" : "down");
		cli_set_str(row, "steering", dp_port_steering(r));
		cli_set_u64(row, "rx_packets", st.ipackets);
		cli_set_u64(row, "tx_packets", st.opackets);
		cli_set_u64(row, "rx_bytes", st.ibytes);
		cli_set_u64(row, "tx_bytes", st.obytes);
		cli_set_u64(row, "rx_missed", st.imissed);
		cli_set_u64(row, "rx_errors", st.ierrors);
		cli_set_u64(row, "tx_errors", st.oerrors);
		json_array_append_new(doc, row);
	}
	return doc;
}

/* ---- show stats ---------------------------------------------------------------------- */

json_t *cli_stats_doc(void)
{
	struct cp_view_counters v;
	struct dp_stats *s = cp_view_counters(&v);
	unsigned int n = 0;
	struct cp_view_mapping *vm = cp_view_mappings(&n);
	json_t *doc = json_object(), *ports = json_array(), *sess = json_object();
	json_t *drops = json_object(), *maps = json_array();

	if (!s || !vm || !doc) {
		free(s);
		free(vm);
		json_decref(doc);
		json_decref(ports);
		json_decref(sess);
		json_decref(drops);
		json_decref(maps);
		return NULL;
	}
	for (int p = 0; p < DP_PORT_MAX; p++) {
		json_t *row = json_object();
		cli_set_str(row, "port", port_role[p]);
		cli_set_u64(row, "rx_packets", v.rx_packets[p]);
		cli_set_u64(row, "tx_packets", v.tx_packets[p]);
		cli_set_u64(row, "rx_bytes", v.rx_bytes[p]);
		cli_set_u64(row, "tx_bytes", v.tx_bytes[p]);
		cli_set_u64(row, "kernel_in", v.kernel_in[p]);
		cli_set_u64(row, "kernel_out", v.kernel_out[p]);
		json_array_append_new(ports, row);
	}
	json_object_set_new(doc, "ports", ports);
	cli_set_u64(sess, "active", v.sessions_active);
	cli_set_u64(sess, "created", v.sessions_created);
	cli_set_u64(sess, "expired", v.sessions_expired);
	cli_set_u64(sess, "evicted", v.sessions_evicted);
	cli_set_u64(sess, "pickups", v.sessions_picked_up);
	cli_set_u64(sess, "snat_probed", v.sessions_snat_probed);
	json_object_set_new(doc, "sessions", sess);
	cli_set_u64(doc, "handoff_packets", v.handoff_packets);
	cli_set_u64(doc, "slowpath_packets", v.slowpath_packets);
	cli_set_u64(doc, "ctl_loop_slow", v.ctl_loop_slow);
	cli_set_u64(doc, "ctl_loop_max_us", v.ctl_loop_max_ns / 1000);
	for (int d = 0; d < DP_DROP_MAX; d++) {
		// Text lists the reasons that happened: 26 lines of zeros would bury them. JSON
		// keeps every reason so that scripts need no default.
		if (v.drops[d] || cli_json())
			cli_set_u64(drops, dp_drop_name(d), v.drops[d]);
	}
	json_object_set_new(doc, "drops", drops);
	if (dp_sync_enabled() || cli_json()) { // session sync (docs/ha.md)
		json_t *sy = json_object();
		for (int c = 0; c < SYNC_C_MAX; c++)
			cli_set_u64(sy, sync_counter_name(c), v.sync[c]);
		json_object_set_new(doc, "sync", sy);
	}
	// The desired state's mappings are the published tables' mappings, in the same order.
	for (unsigned int i = 0; i < n; i++) {
		struct cp_view_map_counters c;
		json_t *row = json_object();

		cp_view_map_counters(s, vm[i].slot, &c);
		cli_set_str(row, "mapping", vm[i].label);
#define MAP_COUNTER_(cli_key, tel_key, member) cli_set_u64(row, cli_key, c.member);
		CP_VIEW_MAP_COUNTER_FIELDS(MAP_COUNTER_)
#undef MAP_COUNTER_
		json_array_append_new(maps, row);
	}
	json_object_set_new(doc, "mappings", maps);
	free(vm);
	free(s);
	return doc;
}

void cp_print_stats(FILE *f)
{
	json_t *doc = cli_stats_doc();

	if (doc)
		cli_render_text(f, doc);
	json_decref(doc);
}

/* ---- show mappings ------------------------------------------------------------------- */

static json_t *show_mappings(void)
{
	struct cp_view_counters v;
	struct dp_stats *s = cp_view_counters(&v);
	unsigned int n = 0;
	struct cp_view_mapping *vm = cp_view_mappings(&n);
	json_t *doc = json_array();
	char buf[16];

	if (!s || !vm || !doc) {
		free(s);
		free(vm);
		json_decref(doc);
		return NULL;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct cp_view_mapping *m = &vm[i];
		struct cp_view_map_counters c;
		json_t *row = json_object(), *addrs = json_array(), *ports = json_array();

		cp_view_map_counters(s, m->slot, &c);
		for (unsigned int a = 0; a < m->n_addrs; a++)
			json_array_append_new(addrs, json_string(cfg_ipv4_str(m->addrs[a], buf)));
		for (unsigned int p = 0; p < m->n_specs; p++)
			json_array_append_new(ports, json_string(m->specs[p]));
		cli_set_str(row, "name", m->name);
		cli_set_str(row, "namespace", m->ns);
		cli_set_str(row, "source", cp_view_source_name(m->source));
		json_object_set_new(row, "addresses", addrs);
		json_object_set_new(row, "ports", ports);
		cli_set_str(row, "mode", cfg_mode_name(m->mode));
		cli_set_str(row, "nat", cfg_nat_name(m->nat));
		cli_set_str(row, "affinity", cfg_affinity_name(m->affinity));
		json_object_set_new(row, "pickup", json_boolean(m->pickup));
		cli_set_u64(row, "rules", m->n_rules);
		json_object_set_new(row, "ordinal",
				    m->ordinal >= 0 ? json_integer(m->ordinal) : json_null());
		cli_set_u64(row, "backends", m->n_backends);
		cli_set_u64(row, "sessions", c.sessions_active);
		json_array_append_new(doc, row);
	}
	free(vm);
	free(s);
	return doc;
}

/* ---- show sessions ------------------------------------------------------------------- */

struct sessions_walk {
	json_t *rows;
	uint32_t limit;
	uint64_t total;
};

static int sessions_row(const struct cp_view_session *v, void *arg)
{
	struct sessions_walk *w = arg;
	json_t *row;

	w->total++;
	if (json_array_size(w->rows) >= w->limit)
		return 0; // keep walking: the total is worth knowing
	row = json_object();
#define CLI_SET_INT			  cli_set_int
#define CLI_SET_STR			  cli_set_str
#define CLI_SET_U64			  cli_set_u64
#define SESSION_FIELD_(key, kind, member) CLI_SET_##kind(row, key, v->member);
	CP_VIEW_SESSION_FIELDS(SESSION_FIELD_)
#undef SESSION_FIELD_
	json_array_append_new(w->rows, row);
	return 0;
}

#define SESS_MAPPING 1u
#define SESS_LIMIT   2u

struct cmd_sessions_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t sessions;
	cmdline_fixed_string_t kw_mapping;
	cmdline_fixed_string_t name;
	cmdline_fixed_string_t kw_limit;
	uint32_t limit;
};

static void cmd_sessions_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct cmd_sessions_result *r = parsed;
	unsigned int flags = (unsigned int)(uintptr_t)data;
	struct sessions_walk w = {.limit = CLI_SESSIONS_DEFAULT_LIMIT};
	struct cp_view_mapping *vm;
	unsigned int n_maps = 0;
	char err[256];
	int slot = -1;
	json_t *doc;

	if (flags & SESS_MAPPING) {
		int i = cli_mapping_find(r->name, err, sizeof(err));
		if (i < 0) {
			cli_fail(cl, i, "%s", err);
			return;
		}
		const struct cfg_mapping *m = cp_mapping_at((unsigned int)i, NULL);
		slot = cp_slot_find(m->ns, m->name);
		if (slot < 0) { // -1 would walk every mapping's sessions
			cli_fail(cl, -ENOENT, "mapping %s has no counter slot", r->name);
			return;
		}
	}
	if (flags & SESS_LIMIT)
		w.limit = r->limit;
	vm = cp_view_mappings(&n_maps);
	if (!vm) {
		cli_fail(cl, -ENOMEM, "out of memory");
		return;
	}
	w.rows = json_array();
	cp_view_sessions_walk(slot, vm, n_maps, sessions_row, &w);
	free(vm);
	doc = json_object();
	cli_set_u64(doc, "total", w.total);
	cli_set_u64(doc, "limit", w.limit);
	json_object_set_new(doc, "sessions", w.rows);
	cli_reply(cl, doc);
}

/* ---- show backends ------------------------------------------------------------------- */

struct backends_walk {
	int map_of_slot[CFG_MAX_MAPPINGS];
	uint64_t *count[CFG_MAX_MAPPINGS]; /* per desired-state mapping, per backend */
};

static int backends_count(const struct dp_session_info *si, void *arg)
{
	struct backends_walk *w = arg;
	int i = w->map_of_slot[si->slot];
	const struct cfg_mapping *m;

	if (i < 0)
		return 0;
	m = cp_mapping_at((unsigned int)i, NULL);
	for (unsigned int b = 0; b < m->n_backends; b++) {
		if (m->backends[b].addr == si->backend_addr) {
			w->count[i][b]++;
			break;
		}
	}
	return 0;
}

static json_t *show_backends(void)
{
	struct backends_walk *w = calloc(1, sizeof(*w));
	unsigned int n = cp_mapping_count();
	json_t *doc = json_array();
	char label[2 * CFG_NAME_MAX], buf[16];

	if (!w)
		return NULL;
	for (unsigned int s = 0; s < CFG_MAX_MAPPINGS; s++)
		w->map_of_slot[s] = -1;
	for (unsigned int i = 0; i < n; i++) {
		const struct cfg_mapping *m = cp_mapping_at(i, NULL);
		int slot = cp_slot_find(m->ns, m->name); // a read: never allocates
		if (slot >= 0)
			w->map_of_slot[slot] = (int)i;
		w->count[i] = calloc(m->n_backends + 1, sizeof(uint64_t));
	}
	dp_sessions_walk(-1, backends_count, w);
	for (unsigned int i = 0; i < n; i++) {
		const struct cfg_mapping *m = cp_mapping_at(i, NULL);
		for (unsigned int b = 0; b < m->n_backends; b++) {
			const struct cfg_backend *be = &m->backends[b];
			// A backend without a port takes the mapping port's servicePort.
			uint16_t port = be->port;
			if (!port && m->n_ports)
				port = m->ports[0].service_port ? m->ports[0].service_port
								: m->ports[0].port;
			json_t *row = json_object();
			cli_set_str(row, "mapping",
				    cli_mapping_label(m->ns, m->name, label, sizeof(label)));
			cli_set_str(row, "address", cfg_ipv4_str(be->addr, buf));
			cli_set_int(row, "port", port);
			cli_set_int(row, "weight", be->weight);
			// ready: gets new sessions; draining: not ready, keeps its sessions;
			// terminating: being deleted, keeps its sessions until it is gone.
			cli_set_str(row, "state",
				    !be->serving_only ? "ready"
				    : be->terminating ? "terminating"
						      : "draining");
			cli_set_str(row, "pod", be->name);
			cli_set_u64(row, "sessions", w->count[i] ? w->count[i][b] : 0);
			json_array_append_new(doc, row);
		}
	}
	for (unsigned int i = 0; i < n; i++)
		free(w->count[i]);
	free(w);
	return doc;
}

/* ---- show neighbors ------------------------------------------------------------------ */

static void neigh_row(const struct dp_neigh_info *ni, void *arg)
{
	json_t *row = json_object();
	char mac[RTE_ETHER_ADDR_FMT_SIZE], buf[16];

	rte_ether_format_addr(mac, sizeof(mac), &ni->mac);
	cli_set_str(row, "address", cfg_ipv4_str(ni->addr, buf));
	cli_set_str(row, "mac", ni->resolved ? mac : "");
	cli_set_str(row, "port", port_role[ni->port & 1]);
	cli_set_str(row, "state", ni->resolved ? "resolved" : "incomplete");
	cli_set_u64(row, "age_s", ni->age_s);
	cli_set_u64(row, "key", ni->addr); // sort key, removed below
	json_array_append_new(arg, row);
}

static int neigh_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "key"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "key"));
	return x < y ? -1 : x > y;
}

static json_t *show_neighbors(void)
{
	json_t *rows = json_array(), *doc = json_array();
	size_t n, i;

	dp_neigh_walk(neigh_row, rows);
	// The table is hashed: sort by address for people.
	n = json_array_size(rows);
	json_t **v = calloc(n + 1, sizeof(*v));
	for (i = 0; v && i < n; i++)
		v[i] = json_array_get(rows, i);
	if (v)
		qsort(v, n, sizeof(*v), neigh_cmp);
	for (i = 0; v && i < n; i++) {
		json_object_del(v[i], "key");
		json_array_append(doc, v[i]);
	}
	free(v);
	json_decref(rows);
	return doc;
}

/* ---- show config --------------------------------------------------------------------- */

static json_t *port_config(const struct cfg_port *p)
{
	json_t *o = json_object(), *routes = json_array();
	char buf[16], pfx[24];

	cli_set_str(o, "device", p->device);
	json_object_set_new(o, "addresses", cidr_list(p->addrs, p->n_addrs));
	cli_set_str(o, "gateway", p->gateway ? cfg_ipv4_str(p->gateway, buf) : "");
	for (unsigned int i = 0; i < p->n_routes; i++) {
		json_t *r = json_object();
		snprintf(pfx, sizeof(pfx), "%s/%u", cfg_ipv4_str(p->routes[i].prefix.addr, buf),
			 p->routes[i].prefix.len);
		cli_set_str(r, "prefix", pfx);
		cli_set_str(r, "via", cfg_ipv4_str(p->routes[i].via, buf));
		json_array_append_new(routes, r);
	}
	json_object_set_new(o, "routes", routes);
	return o;
}

static json_t *show_config(void)
{
	const struct cfg *c = cp_config();
	json_t *doc = json_object(), *ports = json_object(), *to = json_object();
	json_t *k8s = json_object();

	cli_set_str(doc, "config", c->path);
	json_object_set_new(ports, "ext", port_config(&c->ext));
	json_object_set_new(ports, "int", port_config(&c->intl));
	json_object_set_new(doc, "ports", ports);
	cli_set_int(doc, "workers", c->workers);
	cli_set_int(doc, "maglev_threads", c->maglev_threads);
	cli_set_u64(doc, "sessions_max", c->sessions_max);
	// Keyed as in the config file.
#define SHOW_TIMEOUT_(member, ckey, crdkey, word, def, states)                                     \
	cli_set_u64(to, ckey, c->timeouts.member);
	CFG_TIMEOUTS(SHOW_TIMEOUT_)
#undef SHOW_TIMEOUT_
	json_object_set_new(doc, "timeouts", to);
	json_object_set_new(k8s, "enabled", json_boolean(c->k8s.enabled));
	cli_set_str(k8s, "state", cp_k8s_state());
	cli_set_str(k8s, "kubeconfig", c->k8s.kubeconfig);
	cli_set_str(k8s, "namespace", c->k8s.ns);
	json_object_set_new(doc, "kubernetes", k8s);
	cli_set_str(doc, "cli_socket", c->cli_socket);
	cli_set_str(doc, "metrics_listen", c->metrics_listen);
	cli_set_u64(doc, "mappings", cp_mapping_count());
	cli_set_u64(doc, "tables_generation", cp_generation());
	return doc;
}

/* ---- the simple `show WHAT` commands ------------------------------------------------- */

struct show_view {
	json_t *(*render)(void);
};

struct cmd_show_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
};

static void cmd_show_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct show_view *v = data;
	json_t *doc;

	RTE_SET_USED(parsed);
	doc = v->render();
	if (!doc)
		cli_fail(cl, -ENOMEM, "out of memory");
	else
		cli_reply(cl, doc);
}

static cmdline_parse_token_string_t cmd_show_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, show, "show");

#define SHOW_CMD(x, fn, help)                                                                      \
	static struct show_view show_view_##x = {.render = fn};                                    \
	static cmdline_parse_token_string_t cmd_show_##x##_word =                                  \
		TOKEN_STRING_INITIALIZER(struct cmd_show_result, what, #x);                        \
	static cmdline_parse_inst_t cmd_show_##x = {                                               \
		.f = cmd_show_parsed,                                                              \
		.data = &show_view_##x,                                                            \
		.help_str = help,                                                                  \
		.tokens = {(void *)&cmd_show_show, (void *)&cmd_show_##x##_word, NULL},            \
	}

SHOW_CMD(ports, show_ports,
	 "show ports: the two arms: device, MAC, link, and the PMD's packet, byte, missed and "
	 "error counters");
SHOW_CMD(stats, cli_stats_doc,
	 "show stats: packets per arm, sessions, drops by reason, and per-mapping counters");
SHOW_CMD(mappings, show_mappings,
	 "show mappings: every mapping (config file, CLI, Kubernetes) with its ports and "
	 "active sessions");
SHOW_CMD(backends, show_backends,
	 "show backends: the backends of every mapping with their weight, state and sessions");
SHOW_CMD(neighbors, show_neighbors, "show neighbors: the ARP table (MAC, arm, age in s)");
SHOW_CMD(config, show_config,
	 "show config: the running configuration (timeouts as changed by set timeout)");

static cmdline_parse_token_string_t cmd_sessions_show =
	TOKEN_STRING_INITIALIZER(struct cmd_sessions_result, show, "show");
static cmdline_parse_token_string_t cmd_sessions_sessions =
	TOKEN_STRING_INITIALIZER(struct cmd_sessions_result, sessions, "sessions");
static cmdline_parse_token_string_t cmd_sessions_kw_mapping =
	TOKEN_STRING_INITIALIZER(struct cmd_sessions_result, kw_mapping, "mapping");
static cmdline_parse_token_string_t cmd_sessions_name =
	TOKEN_STRING_INITIALIZER(struct cmd_sessions_result, name, NULL);
static cmdline_parse_token_string_t cmd_sessions_kw_limit =
	TOKEN_STRING_INITIALIZER(struct cmd_sessions_result, kw_limit, "limit");
static cmdline_parse_token_num_t cmd_sessions_limit =
	TOKEN_NUM_INITIALIZER(struct cmd_sessions_result, limit, RTE_UINT32);

#define SESSIONS_HELP                                                                              \
	"show sessions [mapping NAME] [limit N]: live sessions, at most N (default 1000) "         \
	"and the total; NAME or NAMESPACE/NAME"

/* cmdline has no optional tokens: one instruction per combination, sharing one help. */
static cmdline_parse_inst_t cmd_show_sessions = {
	.f = cmd_sessions_parsed,
	.data = (void *)(uintptr_t)0,
	.help_str = SESSIONS_HELP,
	.tokens = {(void *)&cmd_sessions_show, (void *)&cmd_sessions_sessions, NULL},
};

static cmdline_parse_inst_t cmd_show_sessions_m = {
	.f = cmd_sessions_parsed,
	.data = (void *)(uintptr_t)SESS_MAPPING,
	.help_str = SESSIONS_HELP,
	.tokens = {(void *)&cmd_sessions_show, (void *)&cmd_sessions_sessions,
		   (void *)&cmd_sessions_kw_mapping, (void *)&cmd_sessions_name, NULL},
};

static cmdline_parse_inst_t cmd_show_sessions_l = {
	.f = cmd_sessions_parsed,
	.data = (void *)(uintptr_t)SESS_LIMIT,
	.help_str = SESSIONS_HELP,
	.tokens = {(void *)&cmd_sessions_show, (void *)&cmd_sessions_sessions,
		   (void *)&cmd_sessions_kw_limit, (void *)&cmd_sessions_limit, NULL},
};

static cmdline_parse_inst_t cmd_show_sessions_ml = {
	.f = cmd_sessions_parsed,
	.data = (void *)(uintptr_t)(SESS_MAPPING | SESS_LIMIT),
	.help_str = SESSIONS_HELP,
	.tokens = {(void *)&cmd_sessions_show, (void *)&cmd_sessions_sessions,
		   (void *)&cmd_sessions_kw_mapping, (void *)&cmd_sessions_name,
		   (void *)&cmd_sessions_kw_limit, (void *)&cmd_sessions_limit, NULL},
};

static cmdline_parse_inst_t *cli_show_cmds[] = {
	&cmd_show_ports,
	&cmd_show_stats,
	&cmd_show_mappings,
	&cmd_show_sessions,
	&cmd_show_sessions_m,
	&cmd_show_sessions_l,
	&cmd_show_sessions_ml,
	&cmd_show_backends,
	&cmd_show_neighbors,
	&cmd_show_config,
	NULL,
};
CLI_REGISTER(show, cli_show_cmds)
