/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway API attachment: which route each listener serves, what each parentRef of a route
 * comes to, and whether a route's backendRefs resolve (k8s_gateway.h). Pure functions of the
 * caches, so that the Gateway's build and the routes' status writers agree without sharing
 * state.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>

#include "k8s_gateway.h"

bool k8s_gw_class_ours(const struct k8s_store *s, const char *name)
{
	const json_t *gc = k8s_cache_get(&s->c[K8S_KIND_GATEWAYCLASS], "", name);

	return gc && strcmp(k8s_str(gc, "spec", "controllerName", NULL), K8S_GW_CONTROLLER) == 0;
}

const json_t *k8s_gw_ours(const struct k8s_store *s, const char *ns, const char *name)
{
	const json_t *gw = k8s_cache_get(&s->c[K8S_KIND_GATEWAY], ns, name);

	return gw && k8s_gw_class_ours(s, k8s_str(gw, "spec", "gatewayClassName", NULL)) ? gw
											 : NULL;
}

uint8_t k8s_gw_listener_proto(const json_t *l)
{
	const char *p = k8s_str(l, "protocol", NULL);

	return strcmp(p, "TCP") == 0 ? IPPROTO_TCP : strcmp(p, "UDP") == 0 ? IPPROTO_UDP : 0;
}

static long listener_port(const json_t *l)
{
	return (long)json_integer_value(json_object_get(l, "port"));
}

enum k8s_gw_listener_state k8s_gw_listener_state(const json_t *gw, size_t li)
{
	const json_t *ls = k8s_get(gw, "spec", "listeners", NULL);
	const json_t *l = json_array_get(ls, li);
	uint8_t proto = k8s_gw_listener_proto(l);

	if (!proto)
		return K8S_GW_LS_UNSUPPORTED_PROTOCOL;
	// Two listeners on one port and protocol: for L4 there is no hostname to tell them
	// apart; the first keeps it (the Gateway API's HostnameConflict).
	for (size_t i = 0; i < li; i++) {
		const json_t *o = json_array_get(ls, i);
		if (k8s_gw_listener_proto(o) == proto && listener_port(o) == listener_port(l))
			return K8S_GW_LS_CONFLICTED;
	}
	return K8S_GW_LS_OK;
}

/* The route kind a protocol's listener takes. */
static const char *kind_of_proto(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "UDPRoute" : "TCPRoute";
}

json_t *k8s_gw_supported_kinds(const json_t *l, bool *all_valid)
{
	const json_t *kinds = k8s_get(l, "allowedRoutes", "kinds", NULL), *k;
	uint8_t proto = k8s_gw_listener_proto(l);
	json_t *out = json_array();
	size_t i;

	*all_valid = true;
	if (!out)
		return NULL;
	if (!proto)
		return out;
	if (json_array_size(kinds) == 0) {
		json_array_append_new(out, json_pack("{s:s, s:s}", "group", K8S_GW_GROUP, "kind",
						     kind_of_proto(proto)));
		return out;
	}
	json_array_foreach(kinds, i, k) {
		const char *g =
			json_object_get(k, "group") ? k8s_str(k, "group", NULL) : K8S_GW_GROUP;
		if (strcmp(g, K8S_GW_GROUP) == 0 &&
		    strcmp(k8s_str(k, "kind", NULL), kind_of_proto(proto)) == 0)
			json_array_append_new(out, json_pack("{s:s, s:s}", "group", K8S_GW_GROUP,
							     "kind", kind_of_proto(proto)));
		else
			*all_valid = false;
	}
	return out;
}

/* A label selector (matchLabels, matchExpressions) against @p labels; an empty one matches all. */
static bool selector_matches(const json_t *sel, const json_t *labels)
{
	const json_t *ml = json_object_get(sel, "matchLabels"), *v, *e;
	const char *k;
	size_t i;

	json_object_foreach((json_t *)ml, k, v)
		if (!json_is_string(json_object_get(labels, k)) ||
		    strcmp(json_string_value(json_object_get(labels, k)), json_string_value(v)) !=
			    0)
			return false;
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
		const char *key = k8s_str(e, "key", NULL), *op = k8s_str(e, "operator", NULL);
		const json_t *have = json_object_get(labels, key), *val;
		bool in = false;
		size_t j;

		json_array_foreach(json_object_get(e, "values"), j, val)
			in = in || (have && json_equal(have, val));
		if ((strcmp(op, "In") == 0 && !in) || (strcmp(op, "NotIn") == 0 && in) ||
		    (strcmp(op, "Exists") == 0 && !have) ||
		    (strcmp(op, "DoesNotExist") == 0 && have))
			return false;
	}
	return true;
}

/* Whether listener @p l of @p gw admits a route of kind @p rkind from namespace @p rns. */
static bool listener_allows(const struct k8s_store *s, const json_t *gw, const json_t *l,
			    enum k8s_kind rkind, const char *rns)
{
	const char *from = k8s_str(l, "allowedRoutes", "namespaces", "from", NULL);
	const char *want = k8s_kind_info(rkind)->kind;
	bool valid, kind_ok = false;
	json_t *sk = k8s_gw_supported_kinds(l, &valid), *k;
	size_t i;

	json_array_foreach(sk, i, k)
		kind_ok = kind_ok || strcmp(k8s_str(k, "kind", NULL), want) == 0;
	json_decref(sk);
	if (!kind_ok)
		return false;
	if (strcmp(from, "All") == 0)
		return true;
	if (strcmp(from, "Selector") == 0) {
		const json_t *ns = k8s_cache_get(&s->c[K8S_KIND_NAMESPACE], "", rns);
		return ns &&
		       selector_matches(k8s_get(l, "allowedRoutes", "namespaces", "selector", NULL),
					k8s_get(ns, "metadata", "labels", NULL));
	}
	return strcmp(rns, k8s_str(gw, "metadata", "namespace", NULL)) == 0; // Same (default)
}

/* Whether parentRef @p ref of a route of namespace @p rns names Gateway @p gw. */
static bool ref_names(const json_t *ref, const char *rns, const json_t *gw)
{
	const char *g = json_object_get(ref, "group") ? k8s_str(ref, "group", NULL) : K8S_GW_GROUP;
	const char *k = json_object_get(ref, "kind") ? k8s_str(ref, "kind", NULL) : "Gateway";
	const char *ns = json_object_get(ref, "namespace") ? k8s_str(ref, "namespace", NULL) : rns;

	return strcmp(g, K8S_GW_GROUP) == 0 && strcmp(k, "Gateway") == 0 &&
	       strcmp(ns, k8s_str(gw, "metadata", "namespace", NULL)) == 0 &&
	       strcmp(k8s_str(ref, "name", NULL), k8s_str(gw, "metadata", "name", NULL)) == 0;
}

/* Whether parentRef @p ref selects listener @p l (sectionName, port, both or neither). */
static bool ref_selects(const json_t *ref, const json_t *l)
{
	const json_t *sec = json_object_get(ref, "sectionName");
	const json_t *port = json_object_get(ref, "port");

	if (sec && strcmp(json_string_value(sec) ? json_string_value(sec) : "",
			  k8s_str(l, "name", NULL)) != 0)
		return false;
	if (port && json_integer_value(port) != listener_port(l))
		return false;
	return true;
}

int k8s_gw_older(const json_t *a, const json_t *b)
{
	const char *ca = k8s_str(a, "metadata", "creationTimestamp", NULL);
	const char *cb = k8s_str(b, "metadata", "creationTimestamp", NULL);
	int c;

	if (!ca[0] != !cb[0])
		return ca[0] ? -1 : 1;
	if ((c = strcmp(ca, cb)))
		return c;
	if ((c = strcmp(k8s_str(a, "metadata", "namespace", NULL),
			k8s_str(b, "metadata", "namespace", NULL))))
		return c;
	return strcmp(k8s_str(a, "metadata", "name", NULL), k8s_str(b, "metadata", "name", NULL));
}

/* Whether route @p route attaches to listener @p li of @p gw by one of its parentRefs. */
static bool attaches(const struct k8s_store *s, enum k8s_kind rkind, const json_t *route,
		     const json_t *gw, size_t li)
{
	const json_t *l = json_array_get(k8s_get(gw, "spec", "listeners", NULL), li), *ref;
	const char *rns = k8s_str(route, "metadata", "namespace", NULL);
	size_t i;

	if (k8s_gw_listener_state(gw, li) != K8S_GW_LS_OK || !listener_allows(s, gw, l, rkind, rns))
		return false;
	json_array_foreach(k8s_get(route, "spec", "parentRefs", NULL), i, ref)
		if (ref_names(ref, rns, gw) && ref_selects(ref, l))
			return true;
	return false;
}

const json_t *k8s_gw_listener_route(const struct k8s_store *s, const json_t *gw, size_t li,
				    enum k8s_kind *rkind)
{
	static const enum k8s_kind kinds[] = {K8S_KIND_TCPROUTE, K8S_KIND_UDPROUTE};
	const json_t *best = NULL;

	for (size_t k = 0; k < 2; k++) {
		const char *key;
		json_t *route;

		json_object_foreach(s->c[kinds[k]].objs, key, route)
			if (attaches(s, kinds[k], route, gw, li) &&
			    (!best || k8s_gw_older(route, best) < 0)) {
				best = route;
				*rkind = kinds[k];
			}
	}
	return best;
}

void k8s_gw_route_parent(const struct k8s_store *s, enum k8s_kind rkind, const json_t *route,
			 const json_t *ref, struct k8s_gw_parent *out)
{
	const char *rns = k8s_str(route, "metadata", "namespace", NULL);
	const char *ns = json_object_get(ref, "namespace") ? k8s_str(ref, "namespace", NULL) : rns;
	const char *g = json_object_get(ref, "group") ? k8s_str(ref, "group", NULL) : K8S_GW_GROUP;
	const char *k = json_object_get(ref, "kind") ? k8s_str(ref, "kind", NULL) : "Gateway";
	const json_t *ls, *l, *winner = NULL;
	bool selected = false, allowed = false;
	size_t li;

	memset(out, 0, sizeof(*out));
	if (strcmp(g, K8S_GW_GROUP) != 0 || strcmp(k, "Gateway") != 0)
		return;
	out->gw = k8s_gw_ours(s, ns, k8s_str(ref, "name", NULL));
	if (!out->gw)
		return;
	ls = k8s_get(out->gw, "spec", "listeners", NULL);
	json_array_foreach(ls, li, l) {
		enum k8s_kind wk;
		const json_t *w;

		if (!ref_selects(ref, l))
			continue;
		selected = true;
		if (k8s_gw_listener_state(out->gw, li) != K8S_GW_LS_OK ||
		    !listener_allows(s, out->gw, l, rkind, rns))
			continue;
		allowed = true;
		w = k8s_gw_listener_route(s, out->gw, li, &wk);
		if (w == route && li < K8S_GW_LISTENERS_MAX)
			out->listeners |= 1ull << li;
		else if (w)
			winner = w;
	}
	if (!selected) {
		out->reason = "NoMatchingParent";
		snprintf(out->message, sizeof(out->message),
			 "Gateway %s/%s has no listener that matches the sectionName and port", ns,
			 k8s_str(ref, "name", NULL));
	} else if (!allowed) {
		out->reason = "NotAllowedByListeners";
		snprintf(out->message, sizeof(out->message),
			 "no listener of Gateway %s/%s that the parentRef selects admits a %s of "
			 "namespace %s",
			 ns, k8s_str(ref, "name", NULL), k8s_kind_info(rkind)->kind, rns);
	} else if (!out->listeners) {
		out->reason = "ListenerInUse";
		snprintf(out->message, sizeof(out->message),
			 "the listeners it selects serve the older route %s/%s (one route per L4 "
			 "listener, the oldest wins)",
			 k8s_str(winner, "metadata", "namespace", NULL),
			 k8s_str(winner, "metadata", "name", NULL));
	} else {
		out->accepted = true;
		out->reason = "Accepted";
	}
}

bool k8s_gw_ref_permitted(const struct k8s_store *s, enum k8s_kind rkind, const json_t *route,
			  const char *to_ns, const char *to_name)
{
	const char *rns = k8s_str(route, "metadata", "namespace", NULL);
	const char *key;
	json_t *rg;

	if (strcmp(rns, to_ns) == 0)
		return true;
	json_object_foreach(s->c[K8S_KIND_REFERENCEGRANT].objs, key, rg) {
		bool from_ok = false, to_ok = false;
		json_t *e;
		size_t i;

		if (strcmp(k8s_str(rg, "metadata", "namespace", NULL), to_ns) != 0)
			continue;
		json_array_foreach(k8s_get(rg, "spec", "from", NULL), i, e)
			from_ok = from_ok ||
				  (strcmp(k8s_str(e, "group", NULL), K8S_GW_GROUP) == 0 &&
				   strcmp(k8s_str(e, "kind", NULL), k8s_kind_info(rkind)->kind) ==
					   0 &&
				   strcmp(k8s_str(e, "namespace", NULL), rns) == 0);
		json_array_foreach(k8s_get(rg, "spec", "to", NULL), i, e)
			to_ok = to_ok || (strcmp(k8s_str(e, "group", NULL), "") == 0 &&
					  strcmp(k8s_str(e, "kind", NULL), "Service") == 0 &&
					  (!json_object_get(e, "name") ||
					   strcmp(k8s_str(e, "name", NULL), to_name) == 0));
		if (from_ok && to_ok)
			return true;
	}
	return false;
}

bool k8s_gw_route_refs(const struct k8s_store *s, enum k8s_kind rkind, const json_t *route,
		       const char **reason, char *msg, size_t len)
{
	const char *rns = k8s_str(route, "metadata", "namespace", NULL);
	json_t *rule, *ref;
	size_t i, j;

	*reason = "ResolvedRefs";
	snprintf(msg, len, "every backendRef resolves");
	json_array_foreach(k8s_get(route, "spec", "rules", NULL), i, rule) {
		json_array_foreach(json_object_get(rule, "backendRefs"), j, ref) {
			const char *g = k8s_str(ref, "group", NULL);
			const char *k = json_object_get(ref, "kind") ? k8s_str(ref, "kind", NULL)
								     : "Service";
			const char *ns = json_object_get(ref, "namespace")
						 ? k8s_str(ref, "namespace", NULL)
						 : rns;
			const char *name = k8s_str(ref, "name", NULL);

			if (g[0] || strcmp(k, "Service") != 0) {
				*reason = "InvalidKind";
				snprintf(
					msg, len,
					"rules[%zu].backendRefs[%zu]: kind %s%s%s is not a Service",
					i, j, k, g[0] ? "." : "", g);
				return false;
			}
			if (!k8s_gw_ref_permitted(s, rkind, route, ns, name)) {
				*reason = "RefNotPermitted";
				snprintf(msg, len,
					 "rules[%zu].backendRefs[%zu]: Service %s/%s is in another "
					 "namespace and no ReferenceGrant there permits it",
					 i, j, ns, name);
				return false;
			}
			const json_t *svc = k8s_cache_get(&s->c[K8S_KIND_SERVICE], ns, name), *p;
			json_int_t want = json_integer_value(json_object_get(ref, "port"));
			const char *proto = rkind == K8S_KIND_UDPROUTE ? "UDP" : "TCP";
			bool port_ok = false;
			size_t pi;

			if (!svc) {
				*reason = "BackendNotFound";
				snprintf(msg, len,
					 "rules[%zu].backendRefs[%zu]: Service %s/%s not found", i,
					 j, ns, name);
				return false;
			}
			json_array_foreach(k8s_get(svc, "spec", "ports", NULL), pi, p)
				port_ok = port_ok ||
					  (json_integer_value(json_object_get(p, "port")) == want &&
					   strcmp(k8s_str(p, "protocol", NULL)[0]
							  ? k8s_str(p, "protocol", NULL)
							  : "TCP",
						  proto) == 0);
			if (!port_ok) {
				*reason = "BackendNotFound";
				snprintf(msg, len,
					 "rules[%zu].backendRefs[%zu]: Service %s/%s has no port "
					 "%lld/%s",
					 i, j, ns, name, (long long)want, proto);
				return false;
			}
		}
	}
	return true;
}
