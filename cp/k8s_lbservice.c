/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LoadBalancer Service source: a Service of `spec.type: LoadBalancer` whose
 * `spec.loadBalancerClass` is K8S_LB_CLASS (or that has no class, when the config makes strait
 * the cluster's default load balancer) is served as MetalLB, kube-vip or Cilium LB-IPAM serve
 * one on bare metal: the user writes no strait object.
 *
 * Its address, in order: `spec.loadBalancerIP` or the annotation K8S_ANN_LB_ADDRESS (both set
 * must agree); else the address its status already gives (so that an allocation survives a
 * restart of strait, as MetalLB's does); else one held by another of strait's Services with
 * the same K8S_ANN_LB_SHARE key whose ports differ (MetalLB's `allow-shared-ip`); else a free
 * one from the address pools that admit its namespace (K8S_ANN_LB_POOL names one). Two
 * Services hold one address only with the same share key: else the older keeps it, the
 * younger fails `AddressInUse`; with the same key, overlapping ports are a `PortConflict`.
 *
 * Each TCP or UDP port goes to the Service's ready endpoints (k8s_service.c) in one mapping
 * `lb-<name>` (or one per port when their endpoints differ); `externalTrafficPolicy: Local`
 * is preserveSource (the client's address reaches the pod), else full NAT. The status written
 * back is `status.loadBalancer.ingress: [{ip, ipMode: Proxy, ports: [{port, protocol}]}]`
 * (services/status), removed when the Service fails or stops being strait's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>
#include <strait/k8s_status.h>
#include <strait/log.h>

#include "k8s_build.h"
#include "k8s_service.h"
#include "k8s_source.h"

#define MAP_PREFIX "lb-"

bool k8s_lb_is_ours(const json_t *svc, bool default_lb)
{
	json_t *cls = k8s_get(svc, "spec", "loadBalancerClass", NULL);

	if (strcmp(k8s_str(svc, "spec", "type", NULL), "LoadBalancer") != 0)
		return false;
	if (json_is_string(cls))
		return strcmp(json_string_value(cls), K8S_LB_CLASS) == 0;
	return default_lb;
}

static bool lb_ours(const json_t *obj, const struct k8s_reconcile_params *p)
{
	return k8s_lb_is_ours(obj, p->default_lb);
}

static int addr_field(const char *s, const char *what, uint32_t *out, char *err, size_t errlen)
{
	if (!s[0])
		return 0;
	if (!k8s_ipv4(s, out)) {
		snprintf(err, errlen, "%s: \"%.64s\" is not an IPv4 address", what, s);
		return -EINVAL;
	}
	return 0;
}

int k8s_lb_decode(const json_t *svc, struct k8s_lb_info *info, char *err, size_t errlen)
{
	const json_t *ann = k8s_get(svc, "metadata", "annotations", NULL);
	const json_t *ports = k8s_get(svc, "spec", "ports", NULL), *p;
	const char *aff = k8s_str(svc, "spec", "sessionAffinity", NULL);
	const char *etp = k8s_str(svc, "spec", "externalTrafficPolicy", NULL);
	json_t *to;
	uint32_t ann_addr = 0, spec_addr = 0;
	size_t i;

	memset(info, 0, sizeof(*info));
	if (addr_field(k8s_str(svc, "spec", "loadBalancerIP", NULL), "spec.loadBalancerIP",
		       &spec_addr, err, errlen) < 0 ||
	    addr_field(k8s_str(ann, K8S_ANN_LB_ADDRESS, NULL), "annotation " K8S_ANN_LB_ADDRESS,
		       &ann_addr, err, errlen) < 0)
		return -EINVAL;
	if (spec_addr && ann_addr && spec_addr != ann_addr) {
		snprintf(err, errlen,
			 "spec.loadBalancerIP and annotation " K8S_ANN_LB_ADDRESS
			 " name different addresses");
		return -EINVAL;
	}
	info->want = spec_addr ? spec_addr : ann_addr;
	info->want_from = spec_addr ? "spec.loadBalancerIP" : "annotation " K8S_ANN_LB_ADDRESS;
	k8s_ipv4(k8s_str(json_array_get(k8s_get(svc, "status", "loadBalancer", "ingress", NULL), 0),
			 "ip", NULL),
		 &info->status_addr);
	if (strlen(k8s_str(ann, K8S_ANN_LB_POOL, NULL)) >= sizeof(info->pool) ||
	    strlen(k8s_str(ann, K8S_ANN_LB_SHARE, NULL)) >= sizeof(info->share)) {
		snprintf(err, errlen, "annotations %s and %s: at most %zu characters",
			 K8S_ANN_LB_POOL, K8S_ANN_LB_SHARE, sizeof(info->pool) - 1);
		return -EINVAL;
	}
	snprintf(info->pool, sizeof(info->pool), "%s", k8s_str(ann, K8S_ANN_LB_POOL, NULL));
	snprintf(info->share, sizeof(info->share), "%s", k8s_str(ann, K8S_ANN_LB_SHARE, NULL));
	info->local = strcmp(etp, "Local") == 0;
	info->affinity_client_ip = strcmp(aff, "ClientIP") == 0;
	info->affinity_timeout = 10800; // the API's default
	to = k8s_get(svc, "spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds", NULL);
	if (info->affinity_client_ip && json_is_integer(to) && json_integer_value(to) > 0 &&
	    json_integer_value(to) <= 86400)
		info->affinity_timeout = (uint32_t)json_integer_value(to);
	if (json_array_size(ports) == 0 || json_array_size(ports) > CFG_MAX_MAP_PORTS) {
		snprintf(err, errlen, "spec.ports: strait serves 1-%d ports per Service",
			 CFG_MAX_MAP_PORTS);
		return -EINVAL;
	}
	json_array_foreach(ports, i, p) {
		const char *proto = k8s_str(p, "protocol", NULL);
		json_int_t port = json_integer_value(json_object_get(p, "port"));
		struct cfg_map_port *mp = &info->ports[info->n_ports++];

		if (port < 1 || port > 65535) {
			snprintf(err, errlen, "spec.ports[%zu].port: must be 1-65535", i);
			return -EINVAL;
		}
		if (!proto[0] || strcmp(proto, "TCP") == 0) {
			mp->proto = IPPROTO_TCP;
		} else if (strcmp(proto, "UDP") == 0) {
			mp->proto = IPPROTO_UDP;
		} else {
			snprintf(err, errlen,
				 "spec.ports[%zu].protocol: %.16s is not served (TCP or UDP)", i,
				 proto);
			return -EINVAL;
		}
		mp->port = mp->end_port = mp->service_port = (uint16_t)port;
	}
	return 0;
}

static int lb_decode(const json_t *obj, void *spec, char *err, size_t errlen)
{
	int rc = k8s_lb_decode(obj, spec, err, errlen);

	return rc < 0 ? rc : 1;
}

/* Whether two port lists have a (protocol, port) in common. */
static bool ports_overlap(const struct k8s_lb_info *a, const struct k8s_lb_info *b)
{
	for (unsigned int i = 0; i < a->n_ports; i++)
		for (unsigned int j = 0; j < b->n_ports; j++)
			if (a->ports[i].proto == b->ports[j].proto &&
			    a->ports[i].port == b->ports[j].port)
				return true;
	return false;
}

/* The address a Service holds before this pass: requested, else in its status. */
static uint32_t held(const struct k8s_lb_info *o)
{
	return o->want ? o->want : o->status_addr;
}

/* The address an earlier Service result of this pass was given, or 0. */
static uint32_t built_addr(const struct k8s_build *b, const char *ns, const char *name)
{
	for (unsigned int i = 0; i < b->n_res; i++) {
		const struct k8s_result *r = &b->res[i];
		if (r->kind == K8S_KIND_SERVICE && r->valid && r->n_maps &&
		    strcmp(r->ns, ns) == 0 && strcmp(r->name, name) == 0)
			return b->maps[r->first_map].addrs[0];
	}
	return 0;
}

/* Whether Service @p o is older than @p r (the conflict order of k8s_reconcile.c). */
static bool older(const json_t *o, const struct k8s_result *r)
{
	const char *c = k8s_age_created(o);
	int cmp;

	if (!c[0] != !r->created[0])
		return c[0] != '\0';
	if ((cmp = strcmp(c, r->created)))
		return cmp < 0;
	if ((cmp = strcmp(k8s_str(o, "metadata", "namespace", NULL), r->ns)))
		return cmp < 0;
	return strcmp(k8s_str(o, "metadata", "name", NULL), r->name) < 0;
}

/* The other Services of strait's, decoded, one at a time. */
struct other {
	const json_t *obj;
	struct k8s_lb_info info;
	uint32_t addr; /* held, or given earlier in this pass */
};

static bool other_next(const struct k8s_build *b, const struct k8s_result *r, void **it,
		       struct other *o)
{
	json_t *objs = b->s->c[K8S_KIND_SERVICE].objs;
	char err[8];

	for (*it = *it ? json_object_iter_next(objs, *it) : json_object_iter(objs); *it;
	     *it = json_object_iter_next(objs, *it)) {
		o->obj = json_object_iter_value(*it);
		if (!k8s_lb_is_ours(o->obj, b->p->default_lb) ||
		    (strcmp(k8s_str(o->obj, "metadata", "name", NULL), r->name) == 0 &&
		     strcmp(k8s_str(o->obj, "metadata", "namespace", NULL), r->ns) == 0) ||
		    k8s_lb_decode(o->obj, &o->info, err, sizeof(err)) < 0)
			continue;
		o->addr = held(&o->info);
		if (!o->addr)
			o->addr = built_addr(b, k8s_str(o->obj, "metadata", "namespace", NULL),
					     k8s_str(o->obj, "metadata", "name", NULL));
		return true;
	}
	return false;
}

/*
 * Whether @p addr may be @p r's: no other Service of strait's holds it, but one of the same
 * namespace with the same share key, or a younger one. @return 1, or 0 (@p r failed when
 * @p fail).
 */
static int addr_free_for(const struct k8s_build *b, struct k8s_result *r,
			 const struct k8s_lb_info *s, uint32_t addr, bool fail)
{
	struct other o;
	void *it = NULL;
	char a[16];

	while (other_next(b, r, &it, &o)) {
		if (o.addr != addr)
			continue;
		if (s->share[0] && strcmp(s->share, o.info.share) == 0 &&
		    strcmp(k8s_str(o.obj, "metadata", "namespace", NULL), r->ns) == 0)
			continue; // same key: PortConflict settles overlapping ports
		if (!older(o.obj, r))
			continue; // the younger one gives way
		if (fail)
			k8s_result_fail(r, "AddressInUse",
					"address %s is held by Service %s/%s; Services share an "
					"address only with the same annotation " K8S_ANN_LB_SHARE,
					cfg_ipv4_str(addr, a),
					k8s_str(o.obj, "metadata", "namespace", NULL),
					k8s_str(o.obj, "metadata", "name", NULL));
		return 0;
	}
	return 1;
}

/* Whether @p addr is in pool @p name (any pool when ""). */
static bool in_pool(const struct k8s_pools *p, const char *name, const char *ns, uint32_t addr)
{
	if (!name[0])
		return k8s_pools_admit(p, ns, addr);
	for (unsigned int i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0 && cfg_pool_contains(&p->v[i], addr) &&
		    cfg_pool_admits_ns(&p->v[i], ns))
			return true;
	return false;
}

static int used_add(uint32_t **v, size_t *n, size_t *cap, uint32_t a)
{
	if (!a)
		return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		uint32_t *p = realloc(*v, c * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = a;
	return 0;
}

/* A fresh address from the pools: none that any mapping or other Service holds.
 * @return 1 with @p addr, 0 (@p r failed), -ENOMEM. */
static int allocate(const struct k8s_build *b, struct k8s_result *r, const struct k8s_lb_info *s,
		    uint32_t *addr)
{
	uint32_t *used = NULL;
	size_t n = 0, cap = 0;
	struct other o;
	void *it = NULL;
	int rc = 0;

	rc = used_add(&used, &n, &cap, b->p->default_addr);
	for (unsigned int i = 0; i < b->n_maps && !rc; i++)
		for (unsigned int a = 0; a < b->maps[i].n_addrs && !rc; a++)
			rc = used_add(&used, &n, &cap, b->maps[i].addrs[a]);
	for (unsigned int i = 0; i < b->p->n_reserved && !rc; i++)
		for (unsigned int a = 0; a < b->p->reserved[i]->n_addrs && !rc; a++)
			rc = used_add(&used, &n, &cap, b->p->reserved[i]->addrs[a]);
	while (!rc && other_next(b, r, &it, &o))
		rc = used_add(&used, &n, &cap, o.addr);
	if (!rc)
		rc = k8s_pools_allocate(b->pools, r->ns, s->pool[0] ? s->pool : NULL, used, n,
					addr);
	free(used);
	if (rc == -ENOENT)
		return k8s_result_fail(r, "NoAddressPool",
				       "no address pool%s%s with autoAssign admits namespace %s",
				       s->pool[0] ? " named " : "", s->pool, r->ns);
	if (rc == -ENOSPC)
		return k8s_result_fail(r, "AddressPoolExhausted",
				       "every address of the pools%s%s that admit namespace %s is "
				       "in use",
				       s->pool[0] ? " named " : "", s->pool, r->ns);
	return rc < 0 ? rc : 1;
}

/* Whether a Service that holds @p addr has a port of @p s's. */
static bool overlaps_at(const struct k8s_build *b, struct k8s_result *r,
			const struct k8s_lb_info *s, uint32_t addr)
{
	struct other o;
	void *it = NULL;

	while (other_next(b, r, &it, &o))
		if (o.addr == addr && ports_overlap(s, &o.info))
			return true;
	return false;
}

/* Choose @p r's address. @return 1 with @p addr, 0 (@p r failed), -ENOMEM. */
static int choose(const struct k8s_build *b, struct k8s_result *r, const struct k8s_lb_info *s,
		  uint32_t *addr)
{
	struct other o;
	void *it = NULL;
	char a[16];

	if (s->want) {
		if (s->pool[0] && !in_pool(b->pools, s->pool, r->ns, s->want))
			return k8s_result_fail(r, "AddressNotAllowed",
					       "%s %s is not in address pool %s admitting "
					       "namespace %s",
					       s->want_from, cfg_ipv4_str(s->want, a), s->pool,
					       r->ns);
		*addr = s->want;
		return addr_free_for(b, r, s, *addr, true);
	}
	// What its status says, while a pool still allows it: allocations are stable.
	if (s->status_addr && b->pools->enforce &&
	    in_pool(b->pools, s->pool, r->ns, s->status_addr) &&
	    addr_free_for(b, r, s, s->status_addr, false)) {
		*addr = s->status_addr;
		return 1;
	}
	// One that a Service with the same share key holds, when the ports differ.
	while (s->share[0] && other_next(b, r, &it, &o)) {
		if (!o.addr || strcmp(o.info.share, s->share) != 0 ||
		    strcmp(k8s_str(o.obj, "metadata", "namespace", NULL), r->ns) != 0 ||
		    !in_pool(b->pools, s->pool, r->ns, o.addr) || overlaps_at(b, r, s, o.addr))
			continue;
		*addr = o.addr;
		return 1;
	}
	return allocate(b, r, s, addr);
}

static int lb_build(struct k8s_build *b, struct k8s_result *r, void *spec)
{
	struct k8s_lb_info *s = spec;
	struct cfg_mapping tmpl;
	uint32_t addr = 0;
	int rc;

	if (strlen(r->name) + strlen(MAP_PREFIX) >= CFG_NAME_MAX)
		return k8s_result_fail(
			r, "InvalidSpec",
			"metadata.name: strait serves LoadBalancer Services of names "
			"of at most %zu characters",
			CFG_NAME_MAX - 1 - strlen(MAP_PREFIX));
	if ((rc = choose(b, r, s, &addr)) <= 0)
		return rc;
	memset(&tmpl, 0, sizeof(tmpl));
	snprintf(tmpl.name, sizeof(tmpl.name), MAP_PREFIX "%s", r->name);
	snprintf(tmpl.ns, sizeof(tmpl.ns), "%s", r->ns);
	snprintf(tmpl.service_name, sizeof(tmpl.service_name), "%s", r->name);
	tmpl.addrs[0] = addr;
	tmpl.n_addrs = 1;
	tmpl.mode = CFG_MODE_SERVICE;
	tmpl.backend_kind = CFG_BACKENDS_PODS;
	tmpl.nat = s->local ? CFG_NAT_PRESERVE_SOURCE : CFG_NAT_FULL;
	tmpl.ordinal = -1;
	tmpl.remove_orphan_sessions = true;
	memcpy(tmpl.ports, s->ports, sizeof(tmpl.ports));
	tmpl.n_ports = s->n_ports;
	// sessionAffinity: ClientIP is the consistent-hash key on the client address. Its
	// timeoutSeconds (s->affinity_timeout) has no equivalent: the hash holds as long as the
	// endpoints do.
	tmpl.affinity = s->affinity_client_ip ? CFG_AFFINITY_CLIENT_IP : CFG_AFFINITY_FIVE_TUPLE;
	return k8s_service_build(b, r, &tmpl);
}

json_t *k8s_lb_ingress(const struct k8s_result *r, const json_t *svc)
{
	const json_t *ports = k8s_get(svc, "spec", "ports", NULL), *p;
	char a[16];
	uint32_t addr = 0;
	json_t *list;
	size_t i;

	if (!r->n_maps ||
	    !k8s_ipv4(k8s_str(json_array_get(r->advertised, 0), "address", NULL), &addr))
		return NULL;
	list = json_array();
	json_array_foreach(ports, i, p)
		json_array_append_new(
			list,
			json_pack("{s:I,s:s}", "port",
				  json_integer_value(json_object_get(p, "port")), "protocol",
				  k8s_str(p, "protocol", NULL)[0] ? k8s_str(p, "protocol", NULL)
								  : "TCP"));
	return json_pack("[{s:s,s:s,s:o}]", "ip", cfg_ipv4_str(addr, a), "ipMode", "Proxy", "ports",
			 list);
}

static void ingress_patch(const struct k8s_report *rep, json_t *entry, const struct k8s_result *r,
			  json_t *want, const char *key)
{
	char path[512], what[2 * K8S_NAME_MAX + 64];
	json_t *patch = json_pack("{s:{s:{s:o}}}", "status", "loadBalancer", "ingress",
				  want ? want : json_null());

	snprintf(what, sizeof(what), "%s status.loadBalancer", key);
	k8s_report_patch(rep, entry, strcat(k8s_result_path(r, path, sizeof(path) - 8), "/status"),
			 patch, what);
}

static void lb_report(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
		      bool programmed, const char *key)
{
	const json_t *svc = k8s_cache_get(&rep->store->c[r->kind], r->ns, r->name);
	json_t *cur = k8s_get(svc, "status", "loadBalancer", "ingress", NULL);
	json_t *want = programmed && r->accepted ? k8s_lb_ingress(r, svc) : NULL;
	bool same = want ? k8s_lb_ingress_same(cur, want) : json_array_size(cur) == 0;
	char *text;

	if (rep->offline) {
		text = want ? json_dumps(want, JSON_COMPACT) : strdup("[]");
		if (text && strcmp(k8s_str(entry, "log", NULL), text) != 0) {
			K8S_LOG(NOTICE, "%s: status.loadBalancer.ingress=%s%s%s", key, text,
				r->valid && !r->conflict ? "" : "; ",
				r->valid && !r->conflict ? "" : r->message);
			json_object_set_new(entry, "log", json_string(text));
		}
		free(text);
		json_decref(want);
		return;
	}
	if (same) {
		json_object_del(entry, "sent");
		json_decref(want);
		return;
	}
	if (want) // what the orphan sweep may remove even where ipMode is not served
		json_object_set_new(entry, "lb", json_true());
	ingress_patch(rep, entry, r, want, key);
}

bool k8s_lb_ingress_same(const json_t *cur, const json_t *want)
{
	const json_t *c, *w;
	size_t i;

	if (json_array_size(cur) != json_array_size(want) || !json_is_array(cur))
		return false;
	json_array_foreach(want, i, w) {
		const json_t *cm;

		c = json_array_get(cur, i);
		cm = json_object_get(c, "ipMode");
		if (strcmp(k8s_str(c, "ip", NULL), k8s_str(w, "ip", NULL)) != 0 ||
		    (cm && !json_equal(cm, json_object_get(w, "ipMode"))) ||
		    !json_equal(json_object_get(c, "ports"), json_object_get(w, "ports")))
			return false;
	}
	return true;
}

bool k8s_lb_status_ours(const json_t *svc)
{
	json_t *ing = k8s_get(svc, "status", "loadBalancer", "ingress", NULL), *e;
	json_t *cls = k8s_get(svc, "spec", "loadBalancerClass", NULL);
	size_t i;

	// Another class's controller owns its status; one without a class, ours if Proxy.
	if (json_is_string(cls) && strcmp(json_string_value(cls), K8S_LB_CLASS) != 0)
		return false;
	json_array_foreach(ing, i, e)
		if (strcmp(k8s_str(e, "ipMode", NULL), "Proxy") == 0)
			return true;
	return false;
}

/* A Service that is no source any more loses the ingress strait wrote. */
static void lb_orphan(const struct k8s_report *rep, enum k8s_kind kind, const json_t *obj)
{
	struct k8s_result r = {.kind = kind};
	json_t *cls = k8s_get(obj, "spec", "loadBalancerClass", NULL);
	char key[2 * K8S_NAME_MAX];

	if (!json_array_size(k8s_get(obj, "status", "loadBalancer", "ingress", NULL)))
		return;
	snprintf(r.ns, sizeof(r.ns), "%s", k8s_str(obj, "metadata", "namespace", NULL));
	snprintf(r.name, sizeof(r.name), "%s", k8s_str(obj, "metadata", "name", NULL));
	k8s_report_key(kind, r.ns, r.name, key, sizeof(key));
	// Written by strait in an earlier pass (the book says so: an API server before
	// Kubernetes 1.29 drops ipMode), or an ingress of ipMode Proxy that can only be ours.
	if (!k8s_lb_status_ours(obj) &&
	    !(json_is_true(json_object_get(json_object_get(rep->book, key), "lb")) &&
	      !(json_is_string(cls) && strcmp(json_string_value(cls), K8S_LB_CLASS) != 0)))
		return;
	ingress_patch(rep, k8s_report_entry(rep, key), &r, NULL, key);
}

const struct k8s_source k8s_source_lbservice = {
	.invalid_reason = "InvalidSpec",
	.spec_size = sizeof(struct k8s_lb_info),
	.ours = lb_ours,
	.decode = lb_decode,
	.build = lb_build,
	.age = k8s_age_created,
	.report = lb_report,
	.report_own = true,
	.orphan = lb_orphan,
};
