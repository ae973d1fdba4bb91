/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file (DESIGN §7): its schema (ports, workers, sessions and their timeouts,
 * kubernetes, cli_socket, metrics_listen), its `mappings:` (each read by the Mapping schema,
 * mapping_schema.c), and the entry points that load it from a file or from memory. The YAML
 * reading itself, and its `FILE:LINE: KEY.PATH: what` messages, are yaml_reader.c's.
 *
 * Pure libc + libyaml: the unit test links this without EAL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/un.h>

#include <strait/config.h>

#include "yaml_reader.h"

#define CFG_DEFAULT_SESSIONS 1048576

/* ---- Timeouts (CFG_TIMEOUTS) ---- */

uint32_t *cfg_timeout_by_word(struct cfg_timeouts *t, const char *word)
{
#define CFG_TIMEOUT_BY_WORD_(member, ckey, crdkey, cli, def, states)                               \
	if (strcmp(word, cli) == 0)                                                                \
		return &t->member;
	CFG_TIMEOUTS(CFG_TIMEOUT_BY_WORD_)
#undef CFG_TIMEOUT_BY_WORD_
	return NULL;
}

char *cfg_timeout_words(char *buf, size_t size, const char *sep)
{
	static const char *const words[] = {
#define CFG_TIMEOUT_WORD_(member, ckey, crdkey, cli, def, states) cli,
		CFG_TIMEOUTS(CFG_TIMEOUT_WORD_)
#undef CFG_TIMEOUT_WORD_
	};
	size_t off = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? sep : "", words[i]);

		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* ---- Config file (DESIGN §7) ---- */

static const char *const cfg_top_keys[] = {
	"ports",    "workers",	    "sessions", "kubernetes",	 "cli_socket", "metrics_listen",
	"mappings", "addressPools", "ha",	"maglevThreads", NULL};
static const char *const cfg_ports_keys[] = {"ext", "int", NULL};
static const char *const cfg_port_keys[] = {"device", "addresses", "gateway", "routes",
					    "snat",   "kernel",	   NULL};
static const char *const cfg_device_keys[] = {"fromEnv", "netdev", "driver", NULL};
static const char *const cfg_snat_keys[] = {"addresses", NULL};
static const char *const cfg_kernel_keys[] = {"tap", NULL};
static const char *const cfg_ha_keys[] = {"mode", "drainSeconds", "sync", NULL};
static const char *const cfg_sync_keys[] = {"peers", "port", "key", NULL};
static const char *const cfg_ha_modes[] = {"none", "vrrp", "bgp", NULL};
static const char *const cfg_route_keys[] = {"prefix", "via", NULL};
static const char *const cfg_sessions_keys[] = {"max", "timeouts", "resetOnBackendRemoval", NULL};
#define CFG_TIMEOUT_CONFIG_KEY_(member, ckey, crdkey, cli, def, states) ckey,
static const char *const cfg_timeout_keys[] = {CFG_TIMEOUTS(CFG_TIMEOUT_CONFIG_KEY_) NULL};
static const char *const cfg_k8s_keys[] = {
	"enabled", "kubeconfig",	  "namespace", "requireAddressPools",
	"limits",  "defaultLoadBalancer", NULL};
static const char *const cfg_k8s_limit_keys[] = {"portsPerObject", "backendsPerObject",
						 "maglevTablesPerObject", "totalPorts", NULL};

/*
 * ports.int.snat.addresses: the full-NAT source addresses, each one of the port's own
 * `addresses` (so that ARP answers them and replies to them are local without more state),
 * each once. Absent or empty: the first address alone (tables_build.c).
 */
static int cfg_snat_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			  struct cfg_port *p)
{
	char sub[CFG_KEYPATH_MAX], lpath[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX];
	char ab[16];
	yaml_node_t *sn = cfg_get(x, n, "snat"), *list;
	unsigned int count;
	int rc;

	if (!sn)
		return 0;
	cfg_key_path(sub, path, "snat");
	if (strcmp(path, "ports.int") != 0)
		return cfg_err(x, sn, sub,
			       "only ports.int has SNAT addresses (the full-NAT source towards "
			       "backends)");
	if ((rc = cfg_map(x, sn, sub, cfg_snat_keys)) ||
	    (rc = cfg_key_seq(x, sn, sub, "addresses", CFG_MAX_ADDRS, &list, &count, lpath)))
		return rc;
	for (unsigned int i = 0; i < count; i++) {
		yaml_node_t *e = cfg_item(x, list, i);
		uint32_t a;
		unsigned int j;

		cfg_idx_path(item, lpath, i);
		if ((rc = cfg_addr(x, e, item, &a)))
			return rc;
		for (j = 0; j < p->n_addrs && p->addrs[j].addr != a; j++)
			;
		if (j == p->n_addrs)
			return cfg_err(x, e, item,
				       "%s is not one of %s.addresses: a SNAT address must be "
				       "the gateway's own on int",
				       cfg_ipv4_str(a, ab), path);
		for (j = 0; j < i; j++)
			if (p->snat[j] == a)
				return cfg_err(x, e, item, "%s is listed twice",
					       cfg_ipv4_str(a, ab));
		p->snat[i] = a;
	}
	p->n_snat = count;
	return 0;
}

/*
 * ports.*.device: a DPDK port name or vdev string (a scalar), or how the pod hands the port
 * over: {fromEnv: VAR}, the PCI address the SR-IOV network device plugin puts in
 * PCIDEVICE_<RESOURCE> (a comma-separated list when it allocated several: the first), or
 * {netdev: NAME, driver: af_packet|af_xdp}, a kernel interface (a kernel-mode VF that Multus
 * moved into the pod) that strait opens as the vdev "net_<driver>_<NAME>,iface=<NAME>".
 */
static int cfg_device_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			    struct cfg_port *p)
{
	static const char *const drivers[] = {"af_packet", "af_xdp", NULL};
	char sub[CFG_KEYPATH_MAX], var[CFG_NAME_MAX], ifname[CFG_NAME_MAX];
	const yaml_node_t *env, *dev;
	const char *val;
	int driver = 0, rc, len;

	p->device_line = (unsigned int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE) {
		if ((rc = cfg_str(x, n, path, p->device, sizeof(p->device))))
			return rc;
		if (p->device[0] == '\0')
			return cfg_err(x, n, path, "must not be empty");
		return 0;
	}
	if ((rc = cfg_map(x, n, path, cfg_device_keys)))
		return rc;
	env = cfg_get(x, n, "fromEnv");
	dev = cfg_get(x, n, "netdev");
	if (!env == !dev)
		return cfg_err(x, n, path,
			       "give either fromEnv (a PCIDEVICE_* variable of the SR-IOV device "
			       "plugin) or netdev (a kernel interface), not %s",
			       env ? "both" : "neither");
	if (env) {
		cfg_key_path(sub, path, "fromEnv");
		if (cfg_get(x, n, "driver"))
			return cfg_err(x, cfg_get(x, n, "driver"),
				       cfg_key_path(sub, path, "driver"),
				       "only with netdev: a fromEnv device is a PCI address");
		if ((rc = cfg_str(x, env, sub, var, sizeof(var))))
			return rc;
		if (var[0] == '\0')
			return cfg_err(x, env, sub, "must not be empty");
		val = getenv(var);
		if (!val || val[0] == '\0')
			return cfg_err(x, env, sub,
				       "environment variable %s is %s (the SR-IOV device plugin "
				       "sets it when the pod requests the resource)",
				       var, val ? "empty" : "not set");
		len = (int)strcspn(val, ",");
		if (len == 0 || (size_t)len >= sizeof(p->device) ||
		    strspn(val, "0123456789abcdefABCDEF:.") < (size_t)len)
			return cfg_err(x, env, sub, "%s=\"%.*s\" is not a PCI address", var,
				       len > 64 ? 64 : len, val);
		snprintf(p->device, sizeof(p->device), "%.*s", len, val);
		return 0;
	}
	cfg_key_path(sub, path, "netdev");
	if ((rc = cfg_str(x, dev, sub, ifname, sizeof(ifname))) ||
	    (rc = cfg_key_enum(x, n, path, "driver", drivers, &driver)))
		return rc;
	len = (int)strlen(ifname);
	if (len == 0 || len >= 16 || strcspn(ifname, "/ ,=:") < (size_t)len)
		return cfg_err(x, dev, sub,
			       "\"%s\" is not an interface name (1-15 characters, no '/', ' ', "
			       "',', '=', ':')",
			       ifname);
	snprintf(p->device, sizeof(p->device), "net_%s_%s,iface=%s", drivers[driver], ifname,
		 ifname);
	return 0;
}

/*
 * ports.X.kernel: {tap: NAME}: the arm's kernel TAP (docs/ha.md). NAME as Linux's
 * dev_valid_name() takes it: 1 to IFNAMSIZ - 1 bytes, not "." or "..", no '/', ':' or space.
 */
static int cfg_kernel_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			    struct cfg_port *p)
{
	char sub[CFG_KEYPATH_MAX], tpath[CFG_KEYPATH_MAX];
	yaml_node_t *kn = cfg_get(x, n, "kernel"), *tap;
	int rc;

	if (!kn)
		return 0;
	cfg_key_path(sub, path, "kernel");
	if ((rc = cfg_map(x, kn, sub, cfg_kernel_keys)) || (rc = cfg_need(x, kn, sub, "tap")))
		return rc;
	tap = cfg_get(x, kn, "tap");
	cfg_key_path(tpath, sub, "tap");
	if ((rc = cfg_str(x, tap, tpath, p->kernel_tap, sizeof(p->kernel_tap))))
		return rc;
	if (p->kernel_tap[0] == '\0' || strcmp(p->kernel_tap, ".") == 0 ||
	    strcmp(p->kernel_tap, "..") == 0 || strpbrk(p->kernel_tap, "/: \t\n") != NULL)
		return cfg_err(x, tap, tpath,
			       "\"%s\" is not an interface name (1 to 15 bytes, no '/', ':' or "
			       "space)",
			       p->kernel_tap);
	return 0;
}

static int cfg_port_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			  struct cfg_port *p)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX], rpath[CFG_KEYPATH_MAX];
	yaml_node_t *list;
	unsigned int count;
	int rc;

	p->present = true;
	if ((rc = cfg_map(x, n, path, cfg_port_keys)) || (rc = cfg_need(x, n, path, "device")) ||
	    (rc = cfg_device_parse(x, cfg_get(x, n, "device"), cfg_key_path(sub, path, "device"),
				   p)))
		return rc;

	// The gateway's own address on each arm: ARP answers and, on `int`, the full-NAT source.
	if ((rc = cfg_need(x, n, path, "addresses")) ||
	    (rc = cfg_key_seq(x, n, path, "addresses", CFG_MAX_ADDRS, &list, &count, sub)))
		return rc;
	if (count == 0)
		return cfg_err(x, list, sub, "at least one entry is required");
	for (unsigned int i = 0; i < count; i++)
		if ((rc = cfg_prefix(x, cfg_item(x, list, i), cfg_idx_path(item, sub, i),
				     &p->addrs[i])))
			return rc;
	p->n_addrs = count;

	if ((rc = cfg_key_addr(x, n, path, "gateway", &p->gateway)))
		return rc;

	if ((rc = cfg_key_seq(x, n, path, "routes", CFG_MAX_ROUTES, &list, &count, rpath)))
		return rc;
	for (unsigned int i = 0; i < count; i++) {
		yaml_node_t *r = cfg_item(x, list, i);

		cfg_idx_path(item, rpath, i);
		if ((rc = cfg_map(x, r, item, cfg_route_keys)) ||
		    (rc = cfg_need(x, r, item, "prefix")) || (rc = cfg_need(x, r, item, "via")) ||
		    (rc = cfg_prefix(x, cfg_get(x, r, "prefix"), cfg_key_path(sub, item, "prefix"),
				     &p->routes[i].prefix)) ||
		    (rc = cfg_key_addr(x, r, item, "via", &p->routes[i].via)))
			return rc;
	}
	p->n_routes = count;
	if ((rc = cfg_snat_parse(x, n, path, p)))
		return rc;
	return cfg_kernel_parse(x, n, path, p);
}

static int cfg_timeouts_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			      struct cfg_timeouts *t)
{
	const yaml_node_t *icmp = cfg_get(x, n, "icmp");
	int rc;

	// strait 0.1 accepted an icmp timeout that governed nothing: say so rather than
	// "unknown key", so that an old config's owner knows why.
	if (icmp)
		return cfg_err(x, icmp, "sessions.timeouts.icmp",
			       "strait keeps no ICMP sessions (echo requests to its addresses "
			       "are answered by the gateway, ICMP errors follow their TCP or UDP "
			       "session): remove the key");
	if ((rc = cfg_map(x, n, path, cfg_timeout_keys)))
		return rc;
#define CFG_TIMEOUT_PARSE_(member, ckey, crdkey, cli, def, states)                                 \
	if ((rc = cfg_key_u32(x, n, path, ckey, 1, CFG_TIMEOUT_MAX, &t->member)))                  \
		return rc;
	CFG_TIMEOUTS(CFG_TIMEOUT_PARSE_)
#undef CFG_TIMEOUT_PARSE_
	return 0;
}

static int cfg_metrics_listen_check(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
				    const char *v)
{
	char s[CFG_SHOW_BUF];
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (*v == '\0')
		return 0;
	if (colon != NULL && colon != v && colon[1] >= '1' && colon[1] <= '9') {
		port = strtol(colon + 1, &end, 10);
		if (*end == '\0' && port <= 65535)
			return 0;
	}
	return cfg_err(x, n, path, "\"%s\" is not host:port", cfg_show(n, s));
}

/*
 * Only Kubernetes resolves a Service or a StatefulSet into backends: a config file mapping of
 * mode service or perPod would load and then never forward a packet. Say so at load time.
 */
static int cfg_static_only(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			   const struct cfg_mapping *m)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *mode = cfg_get(x, n, "mode");

	if (m->mode == CFG_MODE_STATIC)
		return 0;
	if (mode == NULL)
		return cfg_missing(x, n, path, "backends",
				   ": a config file mapping is static (a Service is resolved only "
				   "for a Kubernetes Mapping)");
	return cfg_err(x, mode, cfg_key_path(sub, path, "mode"),
		       "%s is resolved only for a Kubernetes Mapping: a config file mapping is "
		       "static (a backends list)",
		       cfg_mode_name(m->mode));
}

static int cfg_mappings_parse(struct cfg_ctx *x, const yaml_node_t *root, struct cfg *c)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX], name_path[CFG_KEYPATH_MAX];
	yaml_node_t *list;
	unsigned int count;
	int rc;

	if ((rc = cfg_key_seq(x, root, "", "mappings", CFG_MAX_MAPPINGS, &list, &count, sub)))
		return rc;
	if (count == 0)
		return 0;
	c->mappings = calloc(count, sizeof(*c->mappings));
	if (c->mappings == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++) {
		struct cfg_mapping *m = &c->mappings[i];
		yaml_node_t *n = cfg_item(x, list, i);

		rc = cfg_mapping_node(x, n, cfg_idx_path(item, sub, i), m);
		c->n_mappings++; // even on failure: cfg_free() releases its backends
		if (rc)
			return rc;
		if ((rc = cfg_static_only(x, n, item, m)))
			return rc;
		// Kubernetes identifies a Mapping by namespace and name; so do the CLI's
		// `del mapping` and the metrics labels.
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(m->name, c->mappings[j].name) ||
			    strcmp(m->ns, c->mappings[j].ns))
				continue;
			return cfg_err(x, cfg_get(x, n, "name"),
				       cfg_key_path(name_path, item, "name"),
				       "duplicate mapping name \"%s\" (first at line %u)", m->name,
				       c->mappings[j].line);
		}
	}
	return 0;
}

/* `kubernetes.limits` (struct cfg_k8s_limits): each 1..its CFG_K8S_LIMIT_*_MAX. */
static int cfg_k8s_limits_parse(struct cfg_ctx *x, const yaml_node_t *n, struct cfg_k8s_limits *l)
{
	const char *path = "kubernetes.limits";
	int rc;

	if ((rc = cfg_map(x, n, path, cfg_k8s_limit_keys)) ||
	    (rc = cfg_key_u32(x, n, path, "portsPerObject", 1, CFG_K8S_LIMIT_PORTS_MAX,
			      &l->ports)) ||
	    (rc = cfg_key_u32(x, n, path, "backendsPerObject", 1, CFG_K8S_LIMIT_BACKENDS_MAX,
			      &l->backends)) ||
	    (rc = cfg_key_u32(x, n, path, "maglevTablesPerObject", 1, CFG_K8S_LIMIT_MAGLEV_MAX,
			      &l->maglev)) ||
	    (rc = cfg_key_u32(x, n, path, "totalPorts", 1, CFG_K8S_LIMIT_TOTAL_MAX, &l->total)))
		return rc;
	if (l->ports > l->total)
		return cfg_err(
			x, cfg_get(x, n, "portsPerObject"), "kubernetes.limits.portsPerObject",
			"%u is more than kubernetes.limits.totalPorts (%u)", l->ports, l->total);
	return 0;
}

/* ha.sync: {peers: [int addresses], port, key}; after ports and workers (docs/ha.md). */
static int cfg_sync_parse(struct cfg_ctx *x, const yaml_node_t *v, struct cfg *c)
{
	struct cfg_ha_sync *s = &c->ha_sync;
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX];
	yaml_node_t *list;
	unsigned int count;
	int rc;

	if ((rc = cfg_map(x, v, "ha.sync", cfg_sync_keys)) ||
	    (rc = cfg_need(x, v, "ha.sync", "peers")) ||
	    (rc = cfg_key_seq(x, v, "ha.sync", "peers", CFG_SYNC_MAX_PEERS, &list, &count, sub)))
		return rc;
	if (count == 0)
		return cfg_err(x, list, sub, "at least one entry is required");
	if (c->intl.kernel_tap[0] == '\0')
		return cfg_err(x, v, "ha.sync",
			       "needs ports.int.kernel.tap: the sync datagrams go through the int "
			       "TAP (the exception path)");
	for (unsigned int i = 0; i < count; i++) {
		yaml_node_t *e = cfg_item(x, list, i);
		if ((rc = cfg_addr(x, e, cfg_idx_path(item, sub, i), &s->peers[i])))
			return rc;
		for (unsigned int a = 0; a < c->intl.n_addrs; a++)
			if (c->intl.addrs[a].addr == s->peers[i])
				return cfg_err(x, e, item,
					       "is an address of ports.int: a peer is "
					       "another gateway");
	}
	s->n_peers = count;
	s->port = CFG_SYNC_PORT;
	if ((rc = cfg_key_u16(x, v, "ha.sync", "port", 1, 65535, &s->port)) ||
	    (rc = cfg_key_str(x, v, "ha.sync", "key", s->key, sizeof(s->key))))
		return rc;
	if (cfg_get(x, v, "key") && strlen(s->key) < CFG_SYNC_KEY_MIN)
		return cfg_err(x, cfg_get(x, v, "key"), "ha.sync.key", "shorter than %u bytes",
			       CFG_SYNC_KEY_MIN);
	if (c->workers > 1 && s->key[0] == '\0')
		return cfg_missing(x, v, "ha.sync", "key",
				   ": with more than one worker, every gateway must give a flow to "
				   "the same worker");
	s->enabled = true;
	return 0;
}

/* ha: {mode: none|vrrp|bgp}; after the ports: vrrp gates addresses on the TAPs, bgp puts the
 * mapping addresses on the ext TAP while ready for BIRD to announce (docs/ha.md). */
static int cfg_ha_parse(struct cfg_ctx *x, const yaml_node_t *root, struct cfg *c)
{
	yaml_node_t *v = cfg_get(x, root, "ha"), *mode;
	int m = CFG_HA_NONE, rc;

	if (c->ext.kernel_tap[0] && strcmp(c->ext.kernel_tap, c->intl.kernel_tap) == 0)
		return cfg_err(x,
			       cfg_get(x, cfg_get(x, cfg_get(x, root, "ports"), "int"), "kernel"),
			       "ports.int.kernel.tap", "\"%s\" is ports.ext's TAP too",
			       c->intl.kernel_tap);
	if (!v)
		return 0;
	if ((rc = cfg_map(x, v, "ha", cfg_ha_keys)) || (rc = cfg_need(x, v, "ha", "mode")))
		return rc;
	mode = cfg_get(x, v, "mode");
	if ((rc = cfg_enum(x, mode, "ha.mode", cfg_ha_modes, false, &m)))
		return rc;
	c->ha_mode = (enum cfg_ha_mode)m;
	if (c->ha_mode == CFG_HA_VRRP && c->ext.kernel_tap[0] == '\0')
		return cfg_err(x, mode, "ha.mode",
			       "vrrp needs ports.ext.kernel.tap: the mapping addresses are served "
			       "while that TAP holds them");
	if (c->ha_mode == CFG_HA_BGP && c->ext.kernel_tap[0] == '\0')
		return cfg_err(x, mode, "ha.mode",
			       "bgp needs ports.ext.kernel.tap: the mapping addresses are put on "
			       "that TAP for BIRD to announce");
	if ((rc = cfg_key_u32(x, v, "ha", "drainSeconds", 0, CFG_HA_DRAIN_MAX, &c->ha_drain_s)))
		return rc;
	if (cfg_get(x, v, "drainSeconds") && c->ha_mode != CFG_HA_BGP)
		return cfg_err(x, cfg_get(x, v, "drainSeconds"), "ha.drainSeconds",
			       "only with mode bgp: a drain withdraws the announced addresses");
	if (cfg_get(x, v, "sync") && (rc = cfg_sync_parse(x, cfg_get(x, v, "sync"), c)))
		return rc;
	return 0;
}

static int cfg_root_parse(struct cfg_ctx *x, const yaml_node_t *root, struct cfg *c)
{
	yaml_node_t *v;
	int rc;

	if ((rc = cfg_map(x, root, "", cfg_top_keys)) || (rc = cfg_need(x, root, "", "ports")))
		return rc;

	v = cfg_get(x, root, "ports");
	if ((rc = cfg_map(x, v, "ports", cfg_ports_keys)) ||
	    (rc = cfg_need(x, v, "ports", "ext")) ||
	    (rc = cfg_port_parse(x, cfg_get(x, v, "ext"), "ports.ext", &c->ext)))
		return rc;
	if (cfg_get(x, v, "int") &&
	    (rc = cfg_port_parse(x, cfg_get(x, v, "int"), "ports.int", &c->intl)))
		return rc;

	if ((rc = cfg_key_u32(x, root, "", "workers", 1, CFG_MAX_WORKERS, &c->workers)))
		return rc;
	if ((rc = cfg_key_u32(x, root, "", "maglevThreads", 0, CFG_MAX_MAGLEV_THREADS,
			      &c->maglev_threads)))
		return rc;
	if ((rc = cfg_ha_parse(x, root, c)))
		return rc;

	v = cfg_get(x, root, "sessions");
	if (v != NULL) {
		if ((rc = cfg_map(x, v, "sessions", cfg_sessions_keys)) ||
		    (rc = cfg_key_u32(x, v, "sessions", "max", 1, CFG_MAX_SESSIONS,
				      &c->sessions_max)))
			return rc;
		if (cfg_get(x, v, "timeouts") &&
		    (rc = cfg_timeouts_parse(x, cfg_get(x, v, "timeouts"), "sessions.timeouts",
					     &c->timeouts)))
			return rc;
		if (cfg_get(x, v, "resetOnBackendRemoval") &&
		    (rc = cfg_bool(x, cfg_get(x, v, "resetOnBackendRemoval"),
				   "sessions.resetOnBackendRemoval", &c->reset_on_backend_removal)))
			return rc;
	}

	v = cfg_get(x, root, "kubernetes");
	if (v != NULL) {
		yaml_node_t *ns;

		if ((rc = cfg_map(x, v, "kubernetes", cfg_k8s_keys)) ||
		    (rc = cfg_key_str(x, v, "kubernetes", "kubeconfig", c->k8s.kubeconfig,
				      sizeof(c->k8s.kubeconfig))))
			return rc;
		if (cfg_get(x, v, "enabled") &&
		    (rc = cfg_bool(x, cfg_get(x, v, "enabled"), "kubernetes.enabled",
				   &c->k8s.enabled)))
			return rc;
		ns = cfg_get(x, v, "namespace");
		if (ns && (rc = cfg_name(x, ns, "kubernetes.namespace", false, c->k8s.ns)))
			return rc;
		if (cfg_get(x, v, "requireAddressPools") &&
		    (rc = cfg_bool(x, cfg_get(x, v, "requireAddressPools"),
				   "kubernetes.requireAddressPools", &c->k8s.require_pools)))
			return rc;
		if (cfg_get(x, v, "limits") &&
		    (rc = cfg_k8s_limits_parse(x, cfg_get(x, v, "limits"), &c->k8s.limits)))
			return rc;
		if (cfg_get(x, v, "defaultLoadBalancer") &&
		    (rc = cfg_bool(x, cfg_get(x, v, "defaultLoadBalancer"),
				   "kubernetes.defaultLoadBalancer", &c->k8s.default_lb)))
			return rc;
	}

	v = cfg_get(x, root, "cli_socket");
	if (v != NULL) {
		// bind() takes at most sun_path's size with the NUL: say so now, not at start-up.
		if ((rc = cfg_str(x, v, "cli_socket", c->cli_socket,
				  sizeof(((struct sockaddr_un *)0)->sun_path))))
			return rc;
	}
	if ((rc = cfg_key_str(x, root, "", "metrics_listen", c->metrics_listen,
			      sizeof(c->metrics_listen))))
		return rc;
	v = cfg_get(x, root, "metrics_listen");
	if (v && (rc = cfg_metrics_listen_check(x, v, "metrics_listen", c->metrics_listen)))
		return rc;

	if ((rc = cfg_pools_parse(x, root, c)))
		return rc;
	return cfg_mappings_parse(x, root, c);
}

int cfg_load_string(const char *name, const char *buf, size_t len, struct cfg *out, char *err,
		    size_t errlen)
{
	struct cfg_ctx x;
	yaml_node_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cfg_begin(&x, name, buf, len, err, errlen, &root);
	if (rc)
		return rc;

	snprintf(out->path, sizeof(out->path), "%s", x.file);
	out->workers = 1;
	out->sessions_max = CFG_DEFAULT_SESSIONS;
	out->reset_on_backend_removal = true;
	out->ha_drain_s = CFG_HA_DRAIN_DEFAULT;
	out->k8s.limits = (struct cfg_k8s_limits){CFG_K8S_LIMIT_PORTS, CFG_K8S_LIMIT_BACKENDS,
						  CFG_K8S_LIMIT_MAGLEV, CFG_K8S_LIMIT_TOTAL};
#define CFG_TIMEOUT_DEFAULT_(member, ckey, crdkey, cli, def, states) out->timeouts.member = def;
	CFG_TIMEOUTS(CFG_TIMEOUT_DEFAULT_)
#undef CFG_TIMEOUT_DEFAULT_
	rc = cfg_root_parse(&x, root, out);
	yaml_document_delete(&x.doc);
	if (rc) {
		cfg_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int cfg_load_file(const char *path, struct cfg *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	// Read it all first: libyaml's file reader turns an I/O error into a bare "input error".
	for (;;) {
		if (len == cap) {
			char *nbuf = realloc(buf, cap ? cap * 2 : 65536);

			if (nbuf == NULL) {
				rc = -ENOMEM;
				goto err;
			}
			buf = nbuf;
			cap = cap ? cap * 2 : 65536;
		}
		len += fread(buf + len, 1, cap - len, f);
		if (ferror(f)) {
			rc = errno ? -errno : -EIO;
			goto err;
		}
		if (feof(f))
			break;
	}
	fclose(f);
	rc = cfg_load_string(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
err:
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	fclose(f);
	free(buf);
	return rc;
}

void cfg_free(struct cfg *c)
{
	for (unsigned int i = 0; i < c->n_mappings; i++)
		cfg_mapping_free(&c->mappings[i]);
	free(c->mappings);
	c->mappings = NULL;
	c->n_mappings = 0;
}
