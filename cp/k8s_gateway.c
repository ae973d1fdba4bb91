/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway API sources (k8s_gateway.h): GatewayClass (status only) and Gateway (a mapping per
 * served listener, and the Gateway's status).
 *
 * A listener's backends: every backendRef of the route it serves, each weighted by its
 * `weight` (default 1, 0 = none) split evenly over the Service port's endpoints, quantised to
 * Maglev weights of at most 256. The share of a backendRef that does not resolve (no such
 * Service or port, not a Service, another namespace without a ReferenceGrant, no endpoint)
 * goes to a reject backend (address 0.0.0.0): the data plane refuses those connections (TCP
 * RST, UDP dropped, both counted as `rejected`), as the Gateway API asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>

#include "k8s_build.h"
#include "k8s_gateway.h"
#include "k8s_report.h"
#include "k8s_service.h"
#include "k8s_source.h"

/* ---- GatewayClass ---- */

struct obj_spec {
	const json_t *obj; /* borrowed from the store, which outlives the pass */
};

static int class_decode(const json_t *obj, void *spec, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	((struct obj_spec *)spec)->obj = obj;
	return strcmp(k8s_str(obj, "spec", "controllerName", NULL), K8S_GW_CONTROLLER) == 0;
}

static int no_build(struct k8s_build *b, struct k8s_result *r, void *spec)
{
	(void)b;
	(void)r;
	(void)spec;
	return 0;
}

static void class_report(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
			 bool programmed, const char *key)
{
	const json_t *cur = k8s_gw_status_cur(rep, r->kind, r->ns, r->name, entry);
	json_t *conds = json_array();

	(void)programmed;
	json_array_append_new(conds, k8s_gw_cond("Accepted", true, "Accepted",
						 "strait.io/gateway-controller serves this class",
						 r->generation, json_object_get(cur, "conditions"),
						 k8s_wall_us()));
	k8s_gw_status_write(rep, r->kind, r->ns, r->name, entry,
			    json_pack("{s:o}", "conditions", conds), key);
}

const struct k8s_source k8s_source_gatewayclass = {
	.invalid_reason = "InvalidParameters",
	.spec_size = sizeof(struct obj_spec),
	.decode = class_decode,
	.build = no_build,
	.age = k8s_age_created,
	.report = class_report,
};

/* ---- Gateway ---- */

static int gw_decode(const json_t *obj, void *spec, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	((struct obj_spec *)spec)->obj = obj;
	return 1; // whether its class is ours needs the store: the build decides
}

/* Every other Gateway's spec and status addresses: what an allocation must not hand out. */
static unsigned int others_addrs(const struct k8s_build *b, const json_t *gw, uint32_t **out)
{
	unsigned int n = 0, cap = 0;
	const char *key;
	json_t *o, *a;
	size_t i;

	*out = NULL;
	json_object_foreach(b->s->c[K8S_KIND_GATEWAY].objs, key, o) {
		if (o == gw)
			continue;
		const json_t *lists[2] = {k8s_get(o, "spec", "addresses", NULL),
					  k8s_get(o, "status", "addresses", NULL)};
		for (int l = 0; l < 2; l++)
			json_array_foreach(lists[l], i, a) {
				uint32_t v;
				if (!k8s_ipv4(k8s_str(a, "value", NULL), &v))
					continue;
				if (n == cap) {
					uint32_t *p = realloc(*out, (cap = cap ? 2 * cap : 16) *
									    sizeof(*p));
					if (!p)
						return n;
					*out = p;
				}
				(*out)[n++] = v;
			}
	}
	return n;
}

/* The Gateway's addresses. @return the count (>= 1), 0 when @p r failed, -ENOMEM. */
static int gw_addresses(struct k8s_build *b, struct k8s_result *r, const json_t *gw,
			uint32_t *addrs)
{
	const json_t *want = k8s_get(gw, "spec", "addresses", NULL), *a;
	uint32_t *used, v;
	unsigned int n_used;
	int n = 0, rc;
	size_t i;

	json_array_foreach(want, i, a) {
		const char *t = k8s_str(a, "type", NULL);
		if ((t[0] && strcmp(t, "IPAddress") != 0) ||
		    !k8s_ipv4(k8s_str(a, "value", NULL), &v)) {
			k8s_result_fail(r, "UnsupportedAddress",
					"spec.addresses[%zu]: strait serves IPv4 IPAddress "
					"addresses, not %s %s",
					i, t[0] ? t : "IPAddress", k8s_str(a, "value", NULL));
			return 0;
		}
		if (n == CFG_MAX_ADDRS) {
			k8s_result_fail(r, "UnsupportedAddress",
					"spec.addresses: at most %d addresses", CFG_MAX_ADDRS);
			return 0;
		}
		addrs[n++] = v;
	}
	if (n) // checked against the pools by the reconcile pass (AddressNotAllowed)
		return n;
	n_used = others_addrs(b, gw, &used);
	// Stable: the address it was given before, while nothing else claims it.
	if (k8s_ipv4(k8s_str(json_array_get(k8s_get(gw, "status", "addresses", NULL), 0), "value",
			     NULL),
		     &v) &&
	    (b->pools->n ? k8s_pools_admit(b->pools, r->ns, v) : v == b->p->default_addr)) {
		bool taken = false;
		for (unsigned int k = 0; k < n_used; k++)
			taken = taken || used[k] == v;
		if (!taken) {
			free(used);
			addrs[0] = v;
			return 1;
		}
	}
	rc = k8s_pools_allocate(
		b->pools, r->ns,
		k8s_str(gw, "metadata", "annotations", "strait.io/address-pool", NULL)[0]
			? k8s_str(gw, "metadata", "annotations", "strait.io/address-pool", NULL)
			: NULL,
		used, n_used, &v);
	free(used);
	if (rc == -ENOMEM)
		return rc;
	if (rc == -ENOENT && b->pools->n == 0 && b->p->default_addr) {
		// No pool at all: the ext port's address, as for the port-mapper annotation.
		addrs[0] = b->p->default_addr;
		return 1;
	}
	if (rc < 0) {
		k8s_result_fail(r, "AddressNotAssigned",
				rc == -ENOSPC
					? "every address of the pools that admit namespace %s "
					  "is in use"
					: "no address pool with autoAssign admits namespace %s",
				r->ns);
		return 0;
	}
	addrs[0] = v;
	return 1;
}

/* backendRefs of a route: the CRDs' most (16 rules of 16 in v1alpha2; v1 has one rule). */
#define GROUPS_MAX 256

/* One backendRef's endpoints and weight. */
struct group {
	struct cfg_backend *be;
	unsigned int n, n_ready;
	double w;
};

/* A share in (0, 1] of the largest one as a Maglev weight in 1..256. */
static uint16_t maglev_weight(double share)
{
	unsigned int w = (unsigned int)(share * 256 + 0.5);

	return (uint16_t)(w < 1 ? 1 : w > 256 ? 256 : w);
}

static int route_backends(struct k8s_build *b, enum k8s_kind rkind, const json_t *route,
			  uint16_t lport, uint8_t proto, struct cfg_mapping *m, bool *ready)
{
	const char *rns = k8s_str(route, "metadata", "namespace", NULL);
	struct group g[GROUPS_MAX];
	unsigned int ng = 0, n_be = 0, k = 0;
	double reject = 0, top = 0;
	struct cfg_backend *all = NULL;
	json_t *rule, *ref;
	size_t i, j;
	int rc = 0;

	(void)lport;
	json_array_foreach(k8s_get(route, "spec", "rules", NULL), i, rule)
		json_array_foreach(json_object_get(rule, "backendRefs"), j, ref) {
			json_t *wv = json_object_get(ref, "weight");
			double w = wv ? (double)json_integer_value(wv) : 1.0;
			const char *kind = json_object_get(ref, "kind") ? k8s_str(ref, "kind", NULL)
									: "Service";
			const char *ns = json_object_get(ref, "namespace")
						 ? k8s_str(ref, "namespace", NULL)
						 : rns;
			const char *name = k8s_str(ref, "name", NULL);
			long port = (long)json_integer_value(json_object_get(ref, "port"));
			char why[256];
			struct group one = {.w = w}, *gp = &one;

			if (w <= 0)
				continue;
			if (ng < GROUPS_MAX && !k8s_str(ref, "group", NULL)[0] &&
			    strcmp(kind, "Service") == 0 && port >= 1 && port <= 65535 &&
			    k8s_gw_ref_permitted(b->s, rkind, route, ns, name)) {
				rc = k8s_service_endpoints(b, ns, name, (uint16_t)port, proto,
							   &gp->be, &gp->n, why, sizeof(why));
				if (rc < 0)
					goto out;
				for (unsigned int e = 0; e < gp->n; e++)
					gp->n_ready += !gp->be[e].serving_only;
			}
			if (gp->n_ready == 0) {
				reject += w; // refused in proportion to its weight
				free(gp->be);
				continue;
			}
			if (w / gp->n_ready > top)
				top = w / gp->n_ready;
			n_be += gp->n;
			g[ng++] = one;
		}
	if (ng == 0 && reject == 0)
		reject = 1; // nothing to send to: every connection is refused
	if (reject > top)
		top = reject;
	all = calloc(n_be + 1, sizeof(*all));
	if (!all) {
		rc = -ENOMEM;
		goto out;
	}
	// Maglev weights of at most 256: each endpoint its backendRef's share, the reject
	// backend the share of the refs that do not resolve.
	for (unsigned int x = 0; x < ng; x++)
		for (unsigned int e = 0; e < g[x].n; e++) {
			all[k] = g[x].be[e];
			all[k].weight = maglev_weight(g[x].w / g[x].n_ready / top);
			k++;
		}
	if (reject > 0) {
		all[k] = (struct cfg_backend){.addr = 0, .weight = maglev_weight(reject / top)};
		snprintf(all[k].name, sizeof(all[k].name), "reject");
		k++;
	}
	*ready = ng > 0;
	rc = k8s_map_set_backends(m, all, k);
out:
	for (unsigned int x = 0; x < ng; x++)
		free(g[x].be);
	free(all);
	return rc;
}

static int gw_build(struct k8s_build *b, struct k8s_result *r, void *spec)
{
	const json_t *gw = ((struct obj_spec *)spec)->obj, *l;
	const json_t *ls = k8s_get(gw, "spec", "listeners", NULL);
	uint32_t addrs[CFG_MAX_ADDRS];
	unsigned int n_ok = 0;
	char a[16];
	size_t li;
	int n, rc;

	if (!k8s_gw_class_ours(b->s, k8s_str(gw, "spec", "gatewayClassName", NULL))) {
		// Not ours after all: a valid result with no mapping (so no Event), never written.
		snprintf(r->reason, sizeof(r->reason), "%s", K8S_GW_NOT_OURS);
		return 0;
	}
	n = gw_addresses(b, r, gw, addrs);
	if (n <= 0)
		return n;
	for (int i = 0; i < n; i++) {
		json_t *e = json_pack("{s:s}", "address", cfg_ipv4_str(addrs[i], a));
		if (!e || json_array_append_new(r->advertised, e))
			return -ENOMEM;
	}
	r->first_map = b->n_maps;
	json_array_foreach(ls, li, l) {
		uint8_t proto = k8s_gw_listener_proto(l);
		uint16_t port = (uint16_t)json_integer_value(json_object_get(l, "port"));
		const char *lname = k8s_str(l, "name", NULL);
		enum k8s_kind rkind;
		const json_t *route;
		bool ready = false;

		if (k8s_gw_listener_state(gw, li) != K8S_GW_LS_OK)
			continue;
		n_ok++;
		for (int i = 0; i < n; i++)
			if ((rc = k8s_result_advertise(r, lname, NULL, -1, addrs[i], port, 0,
						       proto)))
				return rc;
		route = k8s_gw_listener_route(b->s, gw, li, &rkind);
		if (!route)
			continue; // no route: the port is not served
		int idx = k8s_build_map(b);
		if (idx < 0)
			return idx;
		struct cfg_mapping *m = &b->maps[idx];
		if (snprintf(m->name, sizeof(m->name), "gw-%s-%s", r->name, lname) >=
		    (int)sizeof(m->name))
			snprintf(m->name, sizeof(m->name), "gw-%.40s-%u", r->name,
				 (unsigned int)li % 100);
		snprintf(m->ns, sizeof(m->ns), "%s", r->ns);
		m->mode = CFG_MODE_SERVICE;
		m->remove_orphan_sessions = true;
		memcpy(m->addrs, addrs, (size_t)n * sizeof(addrs[0]));
		m->n_addrs = (unsigned int)n;
		m->ports[0] = (struct cfg_map_port){.port = port, .end_port = port, .proto = proto};
		m->n_ports = 1;
		if ((rc = route_backends(b, rkind, route, port, proto, m, &ready)) < 0)
			return rc;
		r->n_ports++;
		r->n_ports_ready += ready;
	}
	r->n_maps = b->n_maps - r->first_map;
	if (n_ok == 0)
		k8s_result_fail(r, "ListenersNotValid",
				"no listener strait can serve (protocol TCP or UDP, one per port)");
	return 0;
}

json_t *k8s_gateway_status(const struct k8s_report *rep, const struct k8s_result *r,
			   const json_t *cur, bool programmed)
{
	const json_t *gw = k8s_cache_get(&rep->store->c[r->kind], r->ns, r->name);
	const json_t *cc = json_object_get(cur, "conditions"), *l, *it;
	bool accepted = r->valid || (strcmp(r->reason, "UnsupportedAddress") != 0 &&
				     strcmp(r->reason, "ListenersNotValid") != 0);
	bool live = programmed && r->accepted;
	const char *preason = "Programmed";
	char pmsg[K8S_MESSAGE_MAX];
	int64_t now = k8s_wall_us(), gen = r->generation;
	json_t *st = json_object(), *conds = json_array(), *addrs = json_array(),
	       *lst = json_array();
	size_t i;

	snprintf(pmsg, sizeof(pmsg), "%u listener%s programmed", r->n_ports,
		 r->n_ports == 1 ? "" : "s");
	if (!r->valid) {
		preason = strcmp(r->reason, "AddressNotAllowed") == 0	 ? "AddressNotUsable"
			  : strcmp(r->reason, "AddressNotAssigned") == 0 ? "AddressNotAssigned"
			  : accepted					 ? "NoResources"
									 : "Invalid";
		snprintf(pmsg, sizeof(pmsg), "%s", r->message);
	} else if (r->conflict) {
		preason = "AddressNotUsable";
		snprintf(pmsg, sizeof(pmsg), "%s", r->conflict_message);
	} else if (!live) {
		preason = "Pending";
		snprintf(pmsg, sizeof(pmsg), "%s",
			 rep->publish_error ? rep->publish_error : "the tables were not published");
	}
	json_array_append_new(
		conds, k8s_gw_cond("Accepted", accepted, accepted ? "Accepted" : r->reason,
				   accepted ? "the Gateway is valid" : r->message, gen, cc, now));
	json_array_append_new(conds, k8s_gw_cond("Programmed", live, preason, pmsg, gen, cc, now));
	json_array_foreach(r->advertised, i, it)
		if (!json_object_get(it, "port"))
			json_array_append_new(addrs,
					      json_pack("{s:s, s:s}", "type", "IPAddress", "value",
							k8s_str(it, "address", NULL)));
	json_array_foreach(k8s_get(gw, "spec", "listeners", NULL), i, l) {
		enum k8s_gw_listener_state ls = k8s_gw_listener_state(gw, i);
		const json_t *lcur = NULL, *c;
		enum k8s_kind rk;
		bool kinds_ok;
		json_t *lc = json_array();
		json_t *sk = k8s_gw_supported_kinds(l, &kinds_ok);
		size_t j;

		json_array_foreach(json_object_get(cur, "listeners"), j, c)
			if (strcmp(k8s_str(c, "name", NULL), k8s_str(l, "name", NULL)) == 0)
				lcur = json_object_get(c, "conditions");
		json_array_append_new(
			lc,
			k8s_gw_cond("Accepted", ls == K8S_GW_LS_OK,
				    ls == K8S_GW_LS_OK			   ? "Accepted"
				    : ls == K8S_GW_LS_UNSUPPORTED_PROTOCOL ? "UnsupportedProtocol"
									   : "PortUnavailable",
				    ls == K8S_GW_LS_OK ? "the listener is valid"
				    : ls == K8S_GW_LS_UNSUPPORTED_PROTOCOL
					    ? "strait serves TCP and UDP listeners only"
					    : "an earlier listener has this port and protocol",
				    gen, lcur, now));
		json_array_append_new(
			lc,
			k8s_gw_cond("Conflicted", ls == K8S_GW_LS_CONFLICTED,
				    ls == K8S_GW_LS_CONFLICTED ? "HostnameConflict" : "NoConflicts",
				    ls == K8S_GW_LS_CONFLICTED
					    ? "an earlier listener has this port "
					      "and protocol"
					    : "",
				    gen, lcur, now));
		json_array_append_new(lc,
				      k8s_gw_cond("ResolvedRefs", kinds_ok,
						  kinds_ok ? "ResolvedRefs" : "InvalidRouteKinds",
						  kinds_ok ? ""
							   : "allowedRoutes.kinds names a kind "
							     "this listener's protocol cannot take",
						  gen, lcur, now));
		json_array_append_new(lc, k8s_gw_cond("Programmed", live && ls == K8S_GW_LS_OK,
						      live && ls == K8S_GW_LS_OK ? "Programmed"
						      : ls != K8S_GW_LS_OK	 ? "Invalid"
										 : "Pending",
						      live && ls == K8S_GW_LS_OK ? "" : pmsg, gen,
						      lcur, now));
		json_array_append_new(
			lst, json_pack("{s:s, s:o, s:i, s:o}", "name", k8s_str(l, "name", NULL),
				       "supportedKinds", sk, "attachedRoutes",
				       ls == K8S_GW_LS_OK && accepted &&
					       k8s_gw_listener_route(rep->store, gw, i, &rk),
				       "conditions", lc));
	}
	json_object_set_new(st, "addresses", addrs);
	json_object_set_new(st, "conditions", conds);
	json_object_set_new(st, "listeners", lst);
	return st;
}

static void gw_report(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
		      bool programmed, const char *key)
{
	const json_t *gw = k8s_cache_get(&rep->store->c[r->kind], r->ns, r->name);

	if (!gw || strcmp(r->reason, K8S_GW_NOT_OURS) == 0)
		return;
	k8s_gw_status_write(
		rep, r->kind, r->ns, r->name, entry,
		k8s_gateway_status(rep, r, k8s_gw_status_cur(rep, r->kind, r->ns, r->name, entry),
				   programmed),
		key);
}

const struct k8s_source k8s_source_gateway = {
	.invalid_reason = "Invalid",
	.spec_size = sizeof(struct obj_spec),
	.decode = gw_decode,
	.build = gw_build,
	.age = k8s_age_created,
	.report = gw_report,
};
