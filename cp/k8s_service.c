/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mode service: Mapping ports → Service ports → EndpointSlice endpoints (or Node nodePorts).
 *
 * The target port of an endpoint comes from the EndpointSlice port whose name (and protocol)
 * matches the Service port, as kube-proxy does: a Service's targetPort may be a container port
 * *name* that resolves to different numbers on different pods, and only the slices carry the
 * resolved numbers. Endpoints of the same address in several slices (a slice being replaced)
 * are merged, the ready one winning. An endpoint that is not ready, or terminating, stays a
 * backend that drains (serving_only: no new sessions, its sessions keep forwarding); only one
 * that no slice lists any more is removed (docs/kubernetes.md, "Endpoint changes").
 *
 * Each ports entry gets its own backend list. When all entries have the same endpoints (the
 * usual case: one Service, one set of pods) they become one mapping, so that the Mapping has
 * one counter slot and one Maglev table per port; otherwise one mapping per entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>

#include "k8s_build.h"
#include "k8s_service.h"

struct entry {
	const char *port_name; /**< the Service port's name, "" if unnamed */
	uint16_t svc_port;
	struct cfg_backend *be;
	unsigned int n;
	uint16_t target; /**< the one port every backend uses, 0 = they differ */
};

static uint8_t proto_of(const json_t *port)
{
	const char *p = k8s_str(port, "protocol", NULL);

	return strcasecmp(p, "UDP") == 0    ? IPPROTO_UDP
	       : strcasecmp(p, "SCTP") == 0 ? 0
					    : IPPROTO_TCP;
}

/* The Service port a Mapping ports entry means: by name, or by number and protocol. */
static const json_t *svc_port_find(const json_t *svc, const struct cfg_map_port *mp)
{
	json_t *ports = k8s_get(svc, "spec", "ports", NULL), *p;
	uint16_t want = mp->service_port ? mp->service_port : mp->port;
	size_t i;

	json_array_foreach(ports, i, p) {
		if (mp->service_port_name[0]) {
			if (strcmp(k8s_str(p, "name", NULL), mp->service_port_name) == 0)
				return p;
			continue;
		}
		if (json_integer_value(json_object_get(p, "port")) == want &&
		    proto_of(p) == mp->proto)
			return p;
	}
	return NULL;
}

/* Add or merge an endpoint: a ready entry beats a serving-only one of the same address. */
static int be_add(struct entry *e, unsigned int *cap, const struct cfg_backend *nb)
{
	for (unsigned int i = 0; i < e->n; i++) {
		if (e->be[i].addr != nb->addr)
			continue;
		if (e->be[i].serving_only && !nb->serving_only)
			e->be[i] = *nb;
		return 0;
	}
	if (e->n == CFG_MAX_BACKENDS)
		return 0; // more endpoints than a mapping holds: the rest wait for a slot
	if (e->n == *cap) {
		unsigned int c = *cap ? *cap * 2 : 8;
		struct cfg_backend *p = realloc(e->be, c * sizeof(*p));
		if (!p)
			return -ENOMEM;
		e->be = p;
		*cap = c;
	}
	e->be[e->n++] = *nb;
	return 0;
}

static int be_cmp(const void *a, const void *b)
{
	const struct cfg_backend *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void k8s_service_slice_key(const json_t *slice, char *k, size_t size)
{
	snprintf(k, size, "%s/%s", k8s_str(slice, "metadata", "namespace", NULL),
		 k8s_str(slice, "metadata", "labels", "kubernetes.io/service-name", NULL));
}

/* Endpoints of every slice of the Service that carry the port named @p name/@p proto. */
/* The pass's index of IPv4 EndpointSlices by "namespace/service-name" (k8s_build.h), built
 * on first use: one scan of the slices per pass, not one per Service. NULL without memory. */
static json_t *slices_index(struct k8s_build *b)
{
	json_t *objs = b->s->c[K8S_KIND_ENDPOINTSLICE].objs, *sl, *ix;
	const char *key;
	char k[2 * K8S_NAME_MAX + 2];

	if (b->slices_by_svc)
		return b->slices_by_svc;
	if (!(ix = json_object()))
		return NULL;
	json_object_foreach(objs, key, sl) {
		json_t *list;

		if (strcmp(k8s_str(sl, "addressType", NULL), "IPv4") != 0)
			continue;
		snprintf(k, sizeof(k), "%s/%s", k8s_str(sl, "metadata", "namespace", NULL),
			 k8s_str(sl, "metadata", "labels", "kubernetes.io/service-name", NULL));
		if (!(list = json_object_get(ix, k))) {
			if (json_object_set_new(ix, k, list = json_array()) < 0) {
				json_decref(ix);
				return NULL;
			}
		}
		// Keys, not the objects: a MODIFIED slice is another object under the same key.
		if (json_array_append_new(list, json_string(key)) < 0) {
			json_decref(ix);
			return NULL;
		}
	}
	return b->slices_by_svc = ix;
}

/* What ep_read() reads, kept as the informers decode a slice when its endpoints are not an
 * array (and so not packed): change both together (k8s_reconcile_test's
 * endpoint_fields_read_are_the_fields_kept reads the same slice decoded with and without it). */
static const struct k8s_keep ep_conditions[] = {
	{"ready", NULL, NULL}, {"terminating", NULL, NULL}, {NULL, NULL, NULL}};
static const struct k8s_keep ep_target_ref[] = {
	{"kind", NULL, NULL}, {"name", NULL, NULL}, {NULL, NULL, NULL}};
static const struct k8s_keep ep_keep[] = {{"addresses", NULL, NULL},
					  {"conditions", ep_conditions, NULL},
					  {"targetRef", ep_target_ref, NULL},
					  {NULL, NULL, NULL}};
const struct k8s_keep k8s_keep_endpointslice[] = {{"endpoints", ep_keep, &k8s_pack_endpoints},
						  {NULL, NULL, NULL}};

/*
 * The packed endpoints (K8S_PACKED_MARK, then one record an endpoint with an IPv4 address, in
 * the slice's order): its address as 8 hex digits (host order), '0' + 1 when ready (its
 * conditions.ready true or unset) + 2 when terminating (conditions.terminating true), and its
 * Pod's name (targetRef.name when targetRef.kind is "Pod", cut at CFG_NAME_MAX - 1 bytes as
 * a backend's name is; else none) as 2 hex digits of length and the bytes. What
 * endpoints_collect() reads of an endpoint, and all of it; an endpoint whose first address is
 * not an IPv4 address, or that is not an object, has no record (it would be skipped).
 */
#define EP_REC_MIN 11 /* 8 + 1 + 2, and the name */

struct ep_rec {
	uint32_t addr;
	bool ready, terminating;
	uint8_t name_len;
	char name[CFG_NAME_MAX];
};

static const char hexd[] = "0123456789abcdef";

static int ep_rec_put(struct k8s_pack_state *st, const struct ep_rec *r)
{
	char b[EP_REC_MIN + CFG_NAME_MAX];

	for (unsigned int i = 0; i < 8; i++)
		b[i] = hexd[r->addr >> (28 - 4 * i) & 0xf];
	b[8] = (char)('0' + r->ready + 2 * r->terminating);
	b[9] = hexd[r->name_len >> 4];
	b[10] = hexd[r->name_len & 0xf];
	memcpy(b + EP_REC_MIN, r->name, r->name_len);
	return k8s_pack_put(st, b, EP_REC_MIN + r->name_len);
}

/* An endpoint's first address, @p len bytes at @p s, into @p r->addr. @return whether it is an
 * IPv4 address (k8s_ipv4(); none is longer than 15 characters). */
static bool ep_addr(struct ep_rec *r, const char *s, size_t len)
{
	char a[16];

	if (len >= sizeof(a))
		return false;
	memcpy(a, s, len);
	a[len] = '\0';
	return k8s_ipv4(a, &r->addr);
}

static void ep_name(struct ep_rec *r, const char *s, size_t len)
{
	r->name_len = (uint8_t)(len < CFG_NAME_MAX - 1 ? len : CFG_NAME_MAX - 1);
	memcpy(r->name, s, r->name_len);
}

/* What endpoint @p ep (a tree) reads as: the reference the streaming packer is compared with.
 * @return whether it has a record. */
static bool ep_read(const json_t *ep, struct ep_rec *r)
{
	json_t *v, *addrs = NULL, *cond = NULL, *ref = NULL, *ready = NULL, *term = NULL;
	const char *k, *a;

	memset(r, 0, sizeof(*r));
	// One walk over its few keys and its conditions' (a changed slice's every endpoint is
	// read, and hashing each name for a lookup was most of its reading).
	json_object_foreach((json_t *)ep, k, v) {
		if (strcmp(k, "addresses") == 0)
			addrs = v;
		else if (strcmp(k, "conditions") == 0)
			cond = v;
		else if (strcmp(k, "targetRef") == 0)
			ref = v;
	}
	json_object_foreach(cond, k, v) {
		if (strcmp(k, "ready") == 0)
			ready = v;
		else if (strcmp(k, "terminating") == 0)
			term = v;
	}
	a = json_string_value(json_array_get(addrs, 0));
	if (!a || !ep_addr(r, a, strlen(a)))
		return false;
	// EndpointSlice API: an unset ready means ready; unset terminating means not
	// terminating. serving does not matter here: not selected either way.
	r->ready = !ready || json_is_true(ready);
	r->terminating = json_is_true(term);
	if (strcmp(k8s_str(ref, "kind", NULL), "Pod") == 0)
		ep_name(r, k8s_str(ref, "name", NULL), strlen(k8s_str(ref, "name", NULL)));
	return true;
}

static json_t *ep_pack_tree(const json_t *eps)
{
	struct k8s_pack_state st = {0};
	struct ep_rec r;
	json_t *ep, *v = NULL;
	size_t i;

	if (k8s_pack_put(&st, (const char[]){K8S_PACKED_MARK}, 1) < 0)
		return NULL;
	json_array_foreach(eps, i, ep)
		if (ep_read(ep, &r) && ep_rec_put(&st, &r) < 0)
			goto out;
	v = json_stringn_nocheck(st.buf, st.len);
out:
	free(st.buf);
	return v;
}

/* The streaming packer's state: the endpoint being read, and where in it. */
enum { EP_OTHER, EP_ADDRESSES, EP_CONDITIONS, EP_TARGET_REF };
enum { SUB_OTHER, SUB_READY, SUB_TERMINATING, SUB_KIND, SUB_NAME };
enum { READY_UNSET, READY_TRUE, READY_NOT };

struct ep_pack {
	struct ep_rec r;
	bool in_ep;	 /* an element that is an object */
	bool addr_ok;	 /* the last addresses' first element is an IPv4 address */
	bool addr_list;	 /* the last addresses is an array */
	bool addr_first; /* its first element is still to come */
	bool in_value;	 /* the last conditions or targetRef is an object */
	bool pod;	 /* targetRef.kind is "Pod" */
	uint8_t field;	 /* EP_*: the endpoint's key whose value is being read */
	uint8_t sub;	 /* SUB_*: the key of conditions or targetRef */
	uint8_t ready;	 /* READY_* */
};

static bool key_is(const char *s, size_t len, const char *k)
{
	return strlen(k) == len && memcmp(s, k, len) == 0;
}

/* The same reading as ep_read(), of the decoder's events: a key given twice counts its last
 * value, as the tree keeps it; a value of the wrong type reads as ep_read() reads it. */
static int ep_pack_event(struct k8s_pack_state *st, enum k8s_pack_event ev, unsigned int depth,
			 const char *s, size_t len)
{
	struct ep_pack *p = (struct ep_pack *)st->priv.b;
	const bool value = ev != K8S_PACK_KEY && ev != K8S_PACK_END;

	_Static_assert(sizeof(struct ep_pack) <= sizeof(st->priv.b), "k8s_pack_state.priv");
	if (depth == 1) {
		if (ev == K8S_PACK_END && p->in_ep && p->addr_ok) {
			p->r.ready = p->ready != READY_NOT;
			if (!p->pod)
				p->r.name_len = 0;
			if (ep_rec_put(st, &p->r) < 0)
				return -ENOMEM;
		}
		if (value) {
			memset(p, 0, sizeof(*p));
			p->in_ep = ev == K8S_PACK_START_MAP;
		}
		return 0;
	}
	if (!p->in_ep)
		return 0;
	if (depth == 2) {
		if (ev == K8S_PACK_KEY) {
			p->field = key_is(s, len, "addresses")	  ? EP_ADDRESSES
				   : key_is(s, len, "conditions") ? EP_CONDITIONS
				   : key_is(s, len, "targetRef")  ? EP_TARGET_REF
								  : EP_OTHER;
			if (p->field == EP_ADDRESSES)
				p->addr_ok = p->addr_list = false;
			else if (p->field == EP_CONDITIONS)
				p->ready = READY_UNSET, p->r.terminating = false;
			else if (p->field == EP_TARGET_REF)
				p->pod = false, p->r.name_len = 0;
			p->in_value = false;
		} else if (value) {
			p->addr_list = p->field == EP_ADDRESSES && ev == K8S_PACK_START_ARRAY;
			p->addr_first = true;
			p->in_value = ev == K8S_PACK_START_MAP;
		}
		return 0;
	}
	if (depth != 3)
		return 0;
	if (p->field == EP_ADDRESSES) {
		if (p->addr_list && p->addr_first && value) {
			p->addr_first = false;
			p->addr_ok = ev == K8S_PACK_STRING && ep_addr(&p->r, s, len);
		}
		return 0;
	}
	if (!p->in_value || (p->field != EP_CONDITIONS && p->field != EP_TARGET_REF))
		return 0;
	if (ev == K8S_PACK_KEY) {
		p->sub = p->field == EP_CONDITIONS
				 ? (key_is(s, len, "ready")	    ? SUB_READY
				    : key_is(s, len, "terminating") ? SUB_TERMINATING
								    : SUB_OTHER)
				 : (key_is(s, len, "kind")   ? SUB_KIND
				    : key_is(s, len, "name") ? SUB_NAME
							     : SUB_OTHER);
		return 0;
	}
	if (!value)
		return 0;
	switch (p->sub) {
	case SUB_READY:
		p->ready = ev == K8S_PACK_TRUE ? READY_TRUE : READY_NOT;
		break;
	case SUB_TERMINATING:
		p->r.terminating = ev == K8S_PACK_TRUE;
		break;
	case SUB_KIND:
		p->pod = ev == K8S_PACK_STRING && key_is(s, len, "Pod");
		break;
	case SUB_NAME:
		if (ev == K8S_PACK_STRING)
			ep_name(&p->r, s, len);
		else
			p->r.name_len = 0;
		break;
	}
	return 0;
}

const struct k8s_pack k8s_pack_endpoints = {.event = ep_pack_event, .tree = ep_pack_tree};

static int endpoints_collect(struct k8s_build *b, const char *ns, const char *svc, struct entry *e,
			     uint8_t proto)
{
	json_t *ix = slices_index(b), *slices, *sk;
	char k[2 * K8S_NAME_MAX + 2];
	unsigned int cap = 0;
	size_t si;

	if (!ix)
		return -ENOMEM;
	k8s_build_dep(b, K8S_KIND_ENDPOINTSLICE, ns, svc);
	snprintf(k, sizeof(k), "%s/%s", ns, svc);
	slices = json_object_get(ix, k); // NULL (no slice): an empty loop
	json_array_foreach(slices, si, sk) {
		json_t *sl = json_object_get(b->s->c[K8S_KIND_ENDPOINTSLICE].objs,
					     json_string_value(sk));
		json_t *ports, *p, *eps, *raw;
		long port = -1;
		size_t i, len;
		const char *r, *end;

		if (!sl)
			continue; // not kept past a deletion (k8s_memo_begin()): not reached
		// The index's key is only a prefix match when a name holds a '/': check.
		if (strcmp(k8s_str(sl, "metadata", "namespace", NULL), ns) != 0 ||
		    strcmp(k8s_str(sl, "metadata", "labels", "kubernetes.io/service-name", NULL),
			   svc) != 0)
			continue;
		ports = json_object_get(sl, "ports");
		json_array_foreach(ports, i, p) {
			// A slice port's name is the Service port's name ("" or absent if unnamed).
			if (strcmp(k8s_str(p, "name", NULL), e->port_name) == 0 &&
			    proto_of(p) == proto && json_is_integer(json_object_get(p, "port"))) {
				port = (long)json_integer_value(json_object_get(p, "port"));
				break;
			}
		}
		if (port < 1 || port > 65535)
			continue;
		// Packed as the informers decode it; a tree (a file's, a test's) packed here.
		raw = json_object_get(sl, "endpoints");
		eps = k8s_is_packed(raw)   ? json_incref(raw)
		      : json_is_array(raw) ? ep_pack_tree(raw)
					   : NULL;
		if (json_is_array(raw) && !eps)
			return -ENOMEM;
		r = eps ? json_string_value(eps) + 1 : NULL;
		end = eps ? json_string_value(eps) + json_string_length(eps) : NULL;
		for (; r && end - r >= EP_REC_MIN; r += EP_REC_MIN + len) {
			struct cfg_backend nb = {.port = (uint16_t)port, .weight = 1};
			long a = k8s_hex(r, 8), f = r[8] - '0', nl = k8s_hex(r + 9, 2);

			len = nl < 0 ? 0 : (size_t)nl;
			if (a < 0 || f < 0 || f > 3 || nl < 0 || nl >= CFG_NAME_MAX ||
			    (size_t)(end - r) < EP_REC_MIN + len)
				break; // not a packer's: never made
			nb.addr = (uint32_t)a;
			// Ready and not terminating: selected. Anything else that the slice still
			// lists (not ready, terminating, serving or not) drains, as kube-proxy's
			// conntrack entries do: no new sessions, the established ones keep
			// forwarding. Only an endpoint gone from every slice is removed.
			nb.serving_only = !(f == 1);
			nb.terminating = f & 2;
			memcpy(nb.name, r + EP_REC_MIN, len);
			nb.name[len] = '\0';
			if (be_add(e, &cap, &nb) < 0) {
				json_decref(eps);
				return -ENOMEM;
			}
		}
		json_decref(eps);
	}
	return 0;
}

/* Ready nodes' InternalIPs with @p node_port. */
static int nodes_collect(struct k8s_build *b, struct entry *e, uint16_t node_port)
{
	json_t *objs = b->s->c[K8S_KIND_NODE].objs, *node;
	unsigned int cap = 0;
	const char *key;

	k8s_build_dep_kind(b, K8S_KIND_NODE);
	json_object_foreach(objs, key, node) {
		json_t *conds = k8s_get(node, "status", "conditions", NULL), *c, *addrs, *a;
		struct cfg_backend nb = {.port = node_port, .weight = 1};
		bool ready = false, have = false;
		size_t i;

		json_array_foreach(conds, i, c)
			if (strcmp(k8s_str(c, "type", NULL), "Ready") == 0)
				ready = strcmp(k8s_str(c, "status", NULL), "True") == 0;
		if (!ready)
			continue;
		addrs = k8s_get(node, "status", "addresses", NULL);
		json_array_foreach(addrs, i, a) {
			if (strcmp(k8s_str(a, "type", NULL), "InternalIP") == 0 &&
			    k8s_ipv4(k8s_str(a, "address", NULL), &nb.addr)) {
				have = true;
				break;
			}
		}
		if (!have)
			continue;
		snprintf(nb.name, sizeof(nb.name), "%s", k8s_str(node, "metadata", "name", NULL));
		if (be_add(e, &cap, &nb) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Whether two entries have the same endpoints (addresses, readiness). */
static bool same_endpoints(const struct entry *a, const struct entry *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (a->be[i].addr != b->be[i].addr ||
		    a->be[i].serving_only != b->be[i].serving_only ||
		    a->be[i].terminating != b->be[i].terminating)
			return false;
	return true;
}

static bool has_ready(const struct entry *e)
{
	for (unsigned int i = 0; i < e->n; i++)
		if (!e->be[i].serving_only)
			return true;
	return false;
}

/* Backends for the table: port 0 (= the mapping port's target) when they all share one. */
static int map_fill(struct cfg_mapping *m, const struct entry *e)
{
	int rc = k8s_map_set_backends(m, e->be, e->n);

	if (rc == 0 && e->target)
		for (unsigned int i = 0; i < m->n_backends; i++)
			m->backends[i].port = 0;
	return rc;
}

int k8s_service_build(struct k8s_build *b, struct k8s_result *r, const struct cfg_mapping *tmpl)
{
	const json_t *svc = k8s_cache_get(&b->s->c[K8S_KIND_SERVICE], tmpl->ns, tmpl->service_name);
	struct entry ent[CFG_MAX_MAP_PORTS] = {0};
	bool single = true;
	int rc = 0;

	k8s_build_dep(b, K8S_KIND_SERVICE, tmpl->ns, tmpl->service_name);
	if (!svc)
		return k8s_result_fail(r, "ServiceNotFound", "Service %s/%s not found", tmpl->ns,
				       tmpl->service_name);
	for (unsigned int i = 0; i < tmpl->n_ports; i++) {
		const struct cfg_map_port *mp = &tmpl->ports[i];
		const json_t *sp = svc_port_find(svc, mp);
		struct entry *e = &ent[i];

		if (!sp) {
			char want[CFG_NAME_MAX + 16];
			if (mp->service_port_name[0])
				snprintf(want, sizeof(want), "named %s", mp->service_port_name);
			else
				snprintf(want, sizeof(want), "%u/%s",
					 mp->service_port ? mp->service_port : mp->port,
					 mp->proto == IPPROTO_UDP ? "UDP" : "TCP");
			rc = k8s_result_fail(r, "ServicePortNotFound",
					     "spec.ports[%u]: Service %s/%s has no port %s", i,
					     tmpl->ns, tmpl->service_name, want);
			goto out;
		}
		if (proto_of(sp) != mp->proto) {
			rc = k8s_result_fail(r, "ServicePortNotFound",
					     "spec.ports[%u]: Service %s/%s port %s is %s, not %s",
					     i, tmpl->ns, tmpl->service_name, mp->service_port_name,
					     k8s_str(sp, "protocol", NULL),
					     k8s_proto_name(mp->proto));
			goto out;
		}
		e->port_name = k8s_str(sp, "name", NULL);
		e->svc_port = (uint16_t)json_integer_value(json_object_get(sp, "port"));
		if (tmpl->backend_kind == CFG_BACKENDS_NODEPORTS) {
			json_int_t np = json_integer_value(json_object_get(sp, "nodePort"));
			if (np < 1 || np > 65535) {
				rc = k8s_result_fail(r, "NoNodePort",
						     "spec.ports[%u]: Service %s/%s port %u has no "
						     "nodePort (type %s)",
						     i, tmpl->ns, tmpl->service_name, e->svc_port,
						     k8s_str(svc, "spec", "type", NULL));
				goto out;
			}
			rc = nodes_collect(b, e, (uint16_t)np);
		} else {
			rc = endpoints_collect(b, tmpl->ns, tmpl->service_name, e, mp->proto);
		}
		if (rc < 0)
			goto out;
		if (e->n > 1)
			qsort(e->be, e->n, sizeof(e->be[0]), be_cmp);
		e->target = e->n ? e->be[0].port : 0;
		for (unsigned int k = 1; k < e->n; k++)
			if (e->be[k].port != e->target)
				e->target = 0;
		// No endpoint yet: aim at the Service's numeric targetPort so the port is right
		// the moment one appears (a named one needs a slice to resolve).
		if (e->n == 0) {
			json_t *tp = json_object_get(sp, "targetPort");
			e->target = json_is_integer(tp) ? (uint16_t)json_integer_value(tp)
							: e->svc_port;
		}
		// The data plane adds dport - port to the target: a range must end at 65535 or
		// before (the Mapping schema checks a numeric servicePort; this is the resolved one).
		if (e->target && e->target + (unsigned int)(mp->end_port - mp->port) > 65535) {
			rc = k8s_result_fail(
				r, "InvalidSpec",
				"spec.ports[%u]: Service %s/%s port %u targets %u: %u + "
				"(endPort %u - port %u) = %u is past 65535",
				i, tmpl->ns, tmpl->service_name, e->svc_port, e->target, e->target,
				mp->end_port, mp->port,
				e->target + (unsigned int)(mp->end_port - mp->port));
			goto out;
		}
		// One mapping shares one backend list: the entries must have the same endpoints,
		// each on one port (backends then carry port 0 and each entry its own target).
		if ((i > 0 && !same_endpoints(&ent[0], e)) || (e->n && !e->target))
			single = tmpl->n_ports == 1;
		r->n_ports++;
		if (has_ready(e))
			r->n_ports_ready++;
	}

	r->first_map = b->n_maps;
	for (unsigned int i = 0; i < tmpl->n_ports; i++) {
		const struct cfg_map_port *mp = &tmpl->ports[i];
		int idx;

		if (!single || i == 0) {
			idx = k8s_build_map(b);
			if (idx < 0) {
				rc = idx;
				goto out;
			}
			struct cfg_mapping *m = &b->maps[idx];
			*m = *tmpl;
			m->backends = NULL;
			m->n_backends = 0;
			m->n_ports = 0;
			m->ordinal = -1;
			if (!single) {
				int n = snprintf(m->name, sizeof(m->name), "%s-%s-%u", tmpl->name,
						 k8s_proto_name(mp->proto), mp->port);
				if (n >= (int)sizeof(m->name)) {
					rc = k8s_result_fail(r, "InvalidSpec",
							     "metadata.name: too long for the "
							     "per-port mapping names (%s...)",
							     m->name);
					goto out;
				}
			}
			rc = map_fill(m, &ent[i]);
			if (rc < 0)
				goto out;
		}
		struct cfg_mapping *m = &b->maps[b->n_maps - 1];
		struct cfg_map_port *tp = &m->ports[m->n_ports++];
		*tp = *mp;
		tp->service_port_name[0] = '\0';
		// The table's target: the endpoints' port (backends then carry port 0).
		tp->service_port = ent[i].target;
		for (unsigned int a = 0; a < tmpl->n_addrs; a++) {
			rc = k8s_result_advertise(r, ent[i].port_name[0] ? ent[i].port_name : NULL,
						  NULL, -1, tmpl->addrs[a], mp->port,
						  mp->end_port != mp->port ? mp->end_port : 0,
						  mp->proto);
			if (rc < 0)
				goto out;
		}
	}
	r->n_maps = b->n_maps - r->first_map;
out:
	for (unsigned int i = 0; i < CFG_MAX_MAP_PORTS; i++)
		free(ent[i].be);
	return rc;
}

int k8s_service_endpoints(struct k8s_build *b, const char *ns, const char *name, uint16_t port,
			  uint8_t proto, struct cfg_backend **be, unsigned int *n, char *why,
			  size_t len)
{
	const json_t *svc = k8s_cache_get(&b->s->c[K8S_KIND_SERVICE], ns, name);
	struct cfg_map_port mp = {.port = port, .end_port = port, .proto = proto};
	struct entry e = {0};
	const json_t *sp;

	k8s_build_dep(b, K8S_KIND_SERVICE, ns, name);
	*be = NULL;
	*n = 0;
	if (!svc) {
		snprintf(why, len, "Service %s/%s not found", ns, name);
		return 0;
	}
	sp = svc_port_find(svc, &mp);
	if (!sp) {
		snprintf(why, len, "Service %s/%s has no port %u/%s", ns, name, port,
			 proto == IPPROTO_UDP ? "UDP" : "TCP");
		return 0;
	}
	e.port_name = k8s_str(sp, "name", NULL);
	e.svc_port = port;
	if (endpoints_collect(b, ns, name, &e, proto) < 0) {
		free(e.be);
		return -ENOMEM;
	}
	if (e.n > 1)
		qsort(e.be, e.n, sizeof(e.be[0]), be_cmp);
	*be = e.be;
	*n = e.n;
	return 1;
}
