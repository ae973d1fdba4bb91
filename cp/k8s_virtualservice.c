/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l7mp VirtualService source (l7mp.io/v1, as the l7mp seed documents write it): its L4
 * subset becomes one mapping with source rules (struct cfg_rule).
 *
 *   - the listener: spec.listener.spec, or spec.virtualHost[0].spec (one listener), or the
 *     MSM form spec.udp / spec.tcp: {protocol: UDP|TCP, port}; served on the address of the
 *     annotation strait.io/address, else the address written in its status before, else one
 *     allocated from an address pool that admits its namespace; the address is written back
 *     in status.advertised. A VirtualService without a listener (the `worker` of the seed:
 *     a selector only) is no source, only a name routes may use;
 *   - rules (a list or one object, under the listener or spec): `match` (k8s_l7mp_match.c)
 *     and `action.route` to a `cluster`/`destination` naming a Service, or a VirtualService
 *     whose selector.serviceName names one; no match = every client; first match wins, no
 *     match refuses. No rules: everything to the Service of selector.serviceName;
 *   - `loadbalancer: {policy: ConsistentHash, key}` (on the route or an inline destination)
 *     keyed on /IP/src_addr is affinity clientIP; with a source port too, the 5-tuple;
 *   - `options.removeOrphanSessions` (rule or spec).
 * What strait does not do at L4 (rewrite, ingress and egress chains, retry, other keys) is
 * named in the condition `Unsupported`; the L4 part is served. A listener that is not UDP or
 * TCP (WebSocket, UnixDomainSocket, JSONSocket), or a predicate outside the subset, fails
 * the object with reason `Unsupported`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>
#include <strait/k8s_pools.h>
#include <strait/k8s_reconcile.h>

#include "k8s_build.h"
#include "k8s_l7mp.h"
#include "k8s_service.h"
#include "k8s_source.h"

#define K8S_ANN_ADDRESS "strait.io/address"

struct vs_spec {
	uint8_t proto;
	uint16_t port;
	char listener[CFG_NAME_MAX]; /* the virtualHost's name, or "" */
	uint32_t addr;		     /* the annotation's, 0 = none */
	char targets[CFG_MAX_GROUPS][K8S_NAME_MAX];
	unsigned int n_targets;
	struct cfg_rule rules[CFG_MAX_RULES];
	unsigned int n_rules;
	enum cfg_affinity affinity;
	bool affinity_set;
	bool remove_orphan;
	char unsupported[K8S_MESSAGE_MAX]; /* the fields not served, "" = none */
	const char *fail_reason;	   /* decode's verdict, built into the result */
	char fail[K8S_MESSAGE_MAX];
};

static void unsupported(struct vs_spec *s, const char *field)
{
	size_t n = strlen(s->unsupported);

	if (strstr(s->unsupported, field))
		return;
	snprintf(s->unsupported + n, sizeof(s->unsupported) - n, "%s%s", n ? ", " : "", field);
}

static int vs_fail(struct vs_spec *s, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int vs_fail(struct vs_spec *s, const char *reason, const char *fmt, ...)
{
	va_list ap;

	s->fail_reason = reason;
	va_start(ap, fmt);
	vsnprintf(s->fail, sizeof(s->fail), fmt, ap);
	va_end(ap);
	return 1;
}

/* A route's target: "name", or an inline Target {serviceName} / {spec...}. @return its group,
 * or -1 with s failed. */
static int target_of(struct vs_spec *s, const json_t *d, const char *path)
{
	const char *name = json_string_value(d);
	if (!name && json_is_object(d)) {
		name = json_string_value(json_object_get(d, "serviceName"));
		if (!name) {
			vs_fail(s, "Unsupported",
				"%s: an inline destination without serviceName (e.g. a "
				"UnixDomainSocket) is not served",
				path);
			return -1;
		}
	}
	if (!name || !name[0] || strlen(name) >= K8S_NAME_MAX) {
		vs_fail(s, "InvalidSpec", "%s: must name a Service or a VirtualService", path);
		return -1;
	}
	for (unsigned int g = 0; g < s->n_targets; g++)
		if (strcmp(s->targets[g], name) == 0)
			return (int)g;
	if (s->n_targets >= CFG_MAX_GROUPS) {
		vs_fail(s, "InvalidSpec", "%s: more than %d destinations", path, CFG_MAX_GROUPS);
		return -1;
	}
	snprintf(s->targets[s->n_targets], sizeof(s->targets[0]), "%s", name);
	return (int)s->n_targets++;
}

/* loadbalancer {policy, key}: ConsistentHash on /IP/src_addr (and a source port). */
static void lb_of(struct vs_spec *s, const json_t *lb, const char *path)
{
	const char *pol = k8s_str(lb, "policy", NULL), *key = k8s_str(lb, "key", NULL);
	enum cfg_affinity a;
	char at[160];

	if (!lb)
		return;
	snprintf(at, sizeof(at), "%s.loadbalancer", path);
	if (strcmp(pol, "ConsistentHash") != 0 || !strstr(key, "/IP/src_addr")) {
		unsupported(s, at);
		return;
	}
	a = strstr(key, "src_port") ? CFG_AFFINITY_FIVE_TUPLE : CFG_AFFINITY_CLIENT_IP;
	if (s->affinity_set && s->affinity != a) {
		unsupported(s, at); // one key per listener: the first one stands
		return;
	}
	s->affinity = a;
	s->affinity_set = true;
}

static int rule_of(struct vs_spec *s, const json_t *rule, const char *path)
{
	const json_t *act = json_object_get(rule, "action"), *route, *m, *d, *opt;
	struct l7mp_set set = {.n = 1, .b = {{{0, 0}, 0, 65535}}};
	char at[192], err[K8S_MESSAGE_MAX];
	int g, rc;

	if (json_object_get(act, "rewrite")) {
		snprintf(at, sizeof(at), "%s.action.rewrite", path);
		unsupported(s, at);
	}
	route = json_object_get(act, "route");
	if (!json_is_object(route))
		return vs_fail(s, "InvalidSpec",
			       "%s.action.route: required (strait serves route actions)", path);
	for (const char *const *k = (const char *const[]){"ingress", "egress", "retry", NULL}; *k;
	     k++) {
		if (json_object_get(route, *k)) {
			snprintf(at, sizeof(at), "%s.action.route.%s", path, *k);
			unsupported(s, at);
		}
	}
	d = json_object_get(route, "destination");
	if (!d)
		d = json_object_get(route, "cluster");
	snprintf(at, sizeof(at), "%s.action.route.%s", path,
		 json_object_get(route, "destination") ? "destination" : "cluster");
	if ((g = target_of(s, d, at)) < 0)
		return 1;
	lb_of(s, json_object_get(route, "loadbalancer"), at);
	lb_of(s, json_object_get(d, "loadbalancer"), at);
	opt = json_object_get(json_object_get(rule, "options"), "removeOrphanSessions");
	if (json_is_boolean(opt))
		s->remove_orphan = json_is_true(opt);
	m = json_object_get(rule, "match");
	if (m && !json_is_null(m)) {
		snprintf(at, sizeof(at), "%s.match", path);
		rc = l7mp_match(m, s->proto, &set, err, sizeof(err), at, 0);
		if (rc)
			return vs_fail(s, "Unsupported", "%s", err);
	}
	for (unsigned int i = 0; i < set.n; i++) {
		if (s->n_rules >= CFG_MAX_RULES)
			return vs_fail(s, "InvalidSpec",
				       "%s: the rules need more than %d (source prefix, port "
				       "range) pairs",
				       path, CFG_MAX_RULES);
		s->rules[s->n_rules++] = (struct cfg_rule){.src = set.b[i].src,
							   .sport_lo = set.b[i].lo,
							   .sport_hi = set.b[i].hi,
							   .group = (int16_t)g};
	}
	return 0;
}

static int vs_decode(const json_t *obj, void *spec_, char *err, size_t errlen)
{
	struct vs_spec *s = spec_;
	const json_t *spec = json_object_get(obj, "spec"), *ls = NULL, *rules = NULL, *vh, *e;
	const char *lpath = "spec.listener", *ann, *proto;
	char at[128];
	size_t i;

	(void)err;
	(void)errlen;
	s->remove_orphan = true;
	if ((vh = json_object_get(spec, "virtualHost"))) {
		if (!json_is_array(vh) || json_array_size(vh) != 1)
			return vs_fail(s, "Unsupported",
				       "spec.virtualHost: strait serves one listener per "
				       "VirtualService");
		e = json_array_get(vh, 0);
		ls = json_object_get(e, "spec");
		rules = json_object_get(e, "rules");
		snprintf(s->listener, sizeof(s->listener), "%s", k8s_str(e, "name", NULL));
		lpath = "spec.virtualHost[0]";
	} else if (json_object_get(spec, "listener")) {
		ls = k8s_get(spec, "listener", "spec", NULL);
		rules = k8s_get(spec, "listener", "rules", NULL);
	} else if (json_object_get(spec, "udp") || json_object_get(spec, "tcp")) {
		ls = json_object_get(spec, "udp") ? json_object_get(spec, "udp")
						  : json_object_get(spec, "tcp");
		s->proto = json_object_get(spec, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
		lpath = "spec";
	} else {
		return 0; // no listener: a name that routes may use, no source
	}
	if (!rules)
		rules = json_object_get(spec, "rules");
	proto = k8s_str(ls, "protocol", NULL);
	if (!s->proto) {
		if (strcasecmp(proto, "UDP") == 0)
			s->proto = IPPROTO_UDP;
		else if (strcasecmp(proto, "TCP") == 0)
			s->proto = IPPROTO_TCP;
		else
			return vs_fail(s, "Unsupported",
				       "%s.spec.protocol: \"%s\" is not served at L4 (UDP or TCP)",
				       lpath, proto);
	}
	e = json_object_get(ls, "port");
	if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 65535)
		return vs_fail(s, "InvalidSpec", "%s.spec.port: must be a port number 1-65535",
			       lpath);
	s->port = (uint16_t)json_integer_value(e);
	ann = k8s_str(obj, "metadata", "annotations", K8S_ANN_ADDRESS, NULL);
	if (ann[0] && !k8s_ipv4(ann, &s->addr))
		return vs_fail(s, "InvalidSpec", "annotation %s: \"%s\" is not an IPv4 address",
			       K8S_ANN_ADDRESS, ann);
	e = k8s_get(spec, "options", "removeOrphanSessions", NULL);
	if (json_is_boolean(e))
		s->remove_orphan = json_is_true(e);
	if (json_is_object(rules)) {
		snprintf(at, sizeof(at), "%s.rules", lpath);
		rule_of(s, rules, at);
		return 1;
	}
	json_array_foreach(rules, i, e) {
		snprintf(at, sizeof(at), "%s.rules[%zu]", lpath, i);
		if (rule_of(s, e, at))
			return 1;
	}
	if (!json_array_size(rules) && !json_is_object(rules)) {
		// A stub: everything to the Service of its selector.
		const char *svc = k8s_str(obj, "metadata", "selector", "serviceName", NULL);
		if (!svc[0])
			svc = k8s_str(spec, "selector", "serviceName", NULL);
		if (!svc[0])
			return vs_fail(s, "InvalidSpec",
				       "spec: no rules and no selector.serviceName: nothing to "
				       "route to");
		snprintf(s->targets[0], sizeof(s->targets[0]), "%s", svc);
		s->n_targets = 1;
		s->rules[0] = (struct cfg_rule){.src = {0, 0}, .sport_lo = 0, .sport_hi = 65535};
		s->n_rules = 1;
	}
	return 1;
}

/* The Service a route target names: a VirtualService's selector.serviceName, or itself. */
static const char *service_of(struct k8s_build *b, const char *ns, const char *target)
{
	const json_t *vs = k8s_cache_get(&b->s->c[K8S_KIND_VIRTUALSERVICE], ns, target);
	const char *svc = k8s_str(vs, "metadata", "selector", "serviceName", NULL);

	if (!svc[0])
		svc = k8s_str(vs, "spec", "selector", "serviceName", NULL);
	return svc[0] ? svc : target;
}

/* The first port of Service @p name of protocol @p proto, 0 when none (or no Service). */
static uint16_t service_port(struct k8s_build *b, const char *ns, const char *name, uint8_t proto)
{
	const json_t *svc = k8s_cache_get(&b->s->c[K8S_KIND_SERVICE], ns, name), *p;
	size_t i;

	json_array_foreach(k8s_get(svc, "spec", "ports", NULL), i, p) {
		const char *pr = k8s_str(p, "protocol", NULL);
		bool udp = strcasecmp(pr, "UDP") == 0;
		if ((udp ? IPPROTO_UDP : IPPROTO_TCP) == proto && strcasecmp(pr, "SCTP") != 0)
			return (uint16_t)json_integer_value(json_object_get(p, "port"));
	}
	return 0;
}

/* The listener's address: annotation, the one in our status before, or a pool's. */
static int vs_address(struct k8s_build *b, struct k8s_result *r, const struct vs_spec *s,
		      uint32_t *addr)
{
	const json_t *obj = k8s_cache_get(&b->s->c[K8S_KIND_VIRTUALSERVICE], r->ns, r->name);
	uint32_t *used;
	int rc;

	if (s->addr) {
		*addr = s->addr;
		return 0;
	}
	if (k8s_ipv4(k8s_str(json_array_get(k8s_get(obj, "status", "advertised", NULL), 0),
			     "address", NULL),
		     addr) &&
	    b->pools->n && k8s_pools_admit(b->pools, r->ns, *addr))
		return 0;
	used = calloc(b->n_maps * CFG_MAX_ADDRS + 1, sizeof(*used));
	if (!used)
		return -ENOMEM;
	size_t n = 0;
	for (unsigned int m = 0; m < b->n_maps; m++)
		for (unsigned int a = 0; a < b->maps[m].n_addrs; a++)
			used[n++] = b->maps[m].addrs[a];
	rc = k8s_pools_allocate(b->pools, r->ns, NULL, used, n, addr);
	free(used);
	if (rc == -ENOENT || rc == -ENOSPC) {
		k8s_result_fail(r, "NoAddress",
				rc == -ENOENT ? "no %s annotation and no address pool with "
						"autoAssign admits namespace %s"
					      : "no %s annotation and every address of the pools "
						"that admit namespace %s is in use",
				K8S_ANN_ADDRESS, r->ns);
		return 1;
	}
	return rc;
}

/* Group @p g's backends: Service @p svc's endpoints for the listener, through the Mapping
 * builder (k8s_service_build()) on a scratch result, appended to @p be with their group. */
static int group_backends(struct k8s_build *b, struct k8s_result *r, const struct vs_spec *s,
			  unsigned int g, struct cfg_backend **be, unsigned int *n_be, bool *ready)
{
	const char *svc = service_of(b, r->ns, s->targets[g]);
	uint16_t sp = service_port(b, r->ns, svc, s->proto);
	struct k8s_result scratch = {.kind = r->kind, .advertised = json_array()};
	struct cfg_mapping tmpl = {.n_addrs = 1, .ordinal = -1, .mode = CFG_MODE_SERVICE};
	unsigned int first = b->n_maps;
	int rc;

	snprintf(scratch.ns, sizeof(scratch.ns), "%s", r->ns);
	snprintf(scratch.name, sizeof(scratch.name), "%s", r->name);
	snprintf(tmpl.ns, sizeof(tmpl.ns), "%s", r->ns);
	snprintf(tmpl.name, sizeof(tmpl.name), "%.*s", CFG_NAME_MAX - 1, r->name);
	snprintf(tmpl.service_name, sizeof(tmpl.service_name), "%.*s", CFG_NAME_MAX - 1, svc);
	tmpl.addrs[0] = 1; // not used: the scratch mapping is dropped
	tmpl.ports[0] = (struct cfg_map_port){
		.port = s->port, .end_port = s->port, .service_port = sp, .proto = s->proto};
	tmpl.n_ports = 1;
	if (!scratch.advertised)
		return -ENOMEM;
	if (!sp && k8s_cache_get(&b->s->c[K8S_KIND_SERVICE], r->ns, svc))
		rc = k8s_result_fail(r, "ServicePortNotFound", "Service %s/%s has no %s port",
				     r->ns, svc, k8s_proto_name(s->proto));
	else if ((rc = k8s_service_build(b, &scratch, &tmpl)) == 0 && !scratch.valid &&
		 scratch.reason[0])
		rc = k8s_result_fail(r, scratch.reason, "%s", scratch.message);
	for (unsigned int m = first; rc == 0 && m < b->n_maps; m++) {
		const struct cfg_mapping *mm = &b->maps[m];
		struct cfg_backend *nb = realloc(*be, (*n_be + mm->n_backends + 1) * sizeof(**be));
		if (!nb) {
			rc = -ENOMEM;
			break;
		}
		*be = nb;
		for (unsigned int i = 0; i < mm->n_backends; i++) {
			struct cfg_backend *x = &nb[(*n_be)++];
			*x = mm->backends[i];
			if (!x->port)
				x->port = mm->ports[0].service_port;
			x->group = (uint8_t)g;
			*ready |= !x->serving_only;
		}
	}
	while (b->n_maps > first)
		cfg_mapping_free(&b->maps[--b->n_maps]);
	json_decref(scratch.advertised);
	return rc;
}

static int vs_build(struct k8s_build *b, struct k8s_result *r, void *spec_)
{
	const struct vs_spec *s = spec_;
	struct cfg_backend *be = NULL;
	unsigned int n_be = 0;
	bool ready = false;
	uint32_t addr = 0;
	int rc, idx;

	snprintf(r->unsupported, sizeof(r->unsupported), "%s", s->unsupported);
	if (s->fail_reason)
		return k8s_result_fail(r, s->fail_reason, "%s", s->fail);
	if (strlen(r->name) >= CFG_NAME_MAX)
		return k8s_result_fail(
			r, "InvalidSpec",
			"metadata.name: strait serves names of at most %d characters",
			CFG_NAME_MAX - 1);
	if ((rc = vs_address(b, r, s, &addr)) != 0)
		return rc < 0 ? rc : 0;
	r->valid = true;
	for (unsigned int g = 0; g < s->n_targets; g++) {
		if ((rc = group_backends(b, r, s, g, &be, &n_be, &ready)) < 0 || !r->valid)
			goto out;
	}
	if ((idx = k8s_build_map(b)) < 0) {
		rc = idx;
		goto out;
	}
	struct cfg_mapping *m = &b->maps[idx];
	snprintf(m->name, sizeof(m->name), "%s", r->name);
	snprintf(m->ns, sizeof(m->ns), "%s", r->ns);
	m->addrs[0] = addr;
	m->n_addrs = 1;
	m->mode = CFG_MODE_SERVICE;
	m->ports[0] = (struct cfg_map_port){
		.port = s->port, .end_port = s->port, .service_port = 0, .proto = s->proto};
	m->n_ports = 1;
	m->affinity = s->affinity;
	m->remove_orphan_sessions = s->remove_orphan;
	memcpy(m->rules, s->rules, sizeof(s->rules));
	m->n_rules = s->n_rules;
	m->n_groups = s->n_targets ? s->n_targets : 1;
	if ((rc = k8s_map_set_backends(m, be, n_be)) < 0)
		goto out;
	r->first_map = (unsigned int)idx;
	r->n_maps = 1;
	r->n_ports = 1;
	r->n_ports_ready = ready;
	rc = k8s_result_advertise(r, s->listener[0] ? s->listener : NULL, NULL, -1, addr, s->port,
				  0, s->proto);
out:
	free(be);
	return rc;
}

const struct k8s_source k8s_source_virtualservice = {
	.invalid_reason = "InvalidSpec",
	.spec_size = sizeof(struct vs_spec),
	.decode = vs_decode,
	.build = vs_build,
	.age = k8s_age_created,
	.report = k8s_report_status,
	.report_own = true,
};
