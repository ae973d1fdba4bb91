/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCPRoute and UDPRoute sources (k8s_gateway.h): no mapping of their own (the Gateway's
 * listener serves them), a status.parents[] entry per parentRef that names a Gateway of
 * ours, with conditions Accepted and ResolvedRefs; entries of other controllers are kept.
 */
#include <stdio.h>
#include <string.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>

#include "k8s_build.h"
#include "k8s_gateway.h"
#include "k8s_report.h"
#include "k8s_source.h"

struct route_spec {
	const json_t *obj; /* borrowed from the store */
};

static int route_decode(const json_t *obj, void *spec, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	((struct route_spec *)spec)->obj = obj;
	return 1; // whether a parent is ours needs the store: the build decides
}

static int route_build(struct k8s_build *b, struct k8s_result *r, void *spec)
{
	const json_t *route = ((struct route_spec *)spec)->obj, *ref;
	bool ours = false;
	const char *reason;
	char msg[K8S_MESSAGE_MAX];
	size_t i;

	r->first_map = b->n_maps;
	json_array_foreach(k8s_get(route, "spec", "parentRefs", NULL), i, ref) {
		struct k8s_gw_parent p;

		k8s_gw_route_parent(b->s, r->kind, route, ref, &p);
		if (!p.gw)
			continue;
		ours = true;
		if (!p.accepted && r->valid) // an Event: the first parent it cannot attach to
			k8s_result_fail(r, p.reason, "parentRefs[%zu]: %s", i, p.message);
	}
	if (!ours) {
		snprintf(r->reason, sizeof(r->reason), "%s", K8S_GW_NOT_OURS);
		r->valid = true;
		return 0;
	}
	if (r->valid && !k8s_gw_route_refs(b->s, r->kind, route, &reason, msg, sizeof(msg)))
		k8s_result_fail(r, reason, "%s", msg);
	return 0;
}

/* The parentRef as status.parents[].parentRef says it: group and kind filled in. */
static json_t *parent_ref(const json_t *ref)
{
	json_t *o = json_deep_copy(ref);

	if (o && !json_object_get(o, "group"))
		json_object_set_new(o, "group", json_string(K8S_GW_GROUP));
	if (o && !json_object_get(o, "kind"))
		json_object_set_new(o, "kind", json_string("Gateway"));
	return o;
}

json_t *k8s_route_status(const struct k8s_report *rep, const struct k8s_result *r,
			 const json_t *cur)
{
	const json_t *route = k8s_cache_get(&rep->store->c[r->kind], r->ns, r->name), *ref, *c;
	json_t *parents = json_array(), *refs = json_array();
	bool resolved;
	const char *rreason;
	char rmsg[K8S_MESSAGE_MAX];
	int64_t now = k8s_wall_us();
	size_t i, j;

	if (!route || !parents || !refs) {
		json_decref(parents);
		json_decref(refs);
		return NULL;
	}
	if (strcmp(r->reason, K8S_GW_NOT_OURS) == 0) {
		// No parent of ours (any more): take back the entries strait wrote, if any.
		bool had = false;
		json_decref(refs);
		json_array_foreach(json_object_get(cur, "parents"), i, c) {
			if (strcmp(k8s_str(c, "controllerName", NULL), K8S_GW_CONTROLLER) == 0)
				had = true;
			else
				json_array_append(parents, (json_t *)c);
		}
		if (!had) {
			json_decref(parents);
			return NULL;
		}
		return json_pack("{s:o}", "parents", parents);
	}
	resolved = k8s_gw_route_refs(rep->store, r->kind, route, &rreason, rmsg, sizeof(rmsg));
	// Other controllers' entries stay as they are (a merge patch replaces the list).
	json_array_foreach(json_object_get(cur, "parents"), i, c)
		if (strcmp(k8s_str(c, "controllerName", NULL), K8S_GW_CONTROLLER) != 0)
			json_array_append(parents, (json_t *)c);
	json_array_foreach(k8s_get(route, "spec", "parentRefs", NULL), i, ref) {
		struct k8s_gw_parent p;
		const json_t *pc = NULL;
		json_t *pr = parent_ref(ref), *conds = json_array(), *seen;
		bool dup = false;

		json_array_foreach(refs, j, seen)
			dup = dup || json_equal(seen, pr);
		k8s_gw_route_parent(rep->store, r->kind, route, ref, &p);
		if (!p.gw || dup) {
			json_decref(pr);
			json_decref(conds);
			continue;
		}
		json_array_append(refs, pr);
		json_array_foreach(json_object_get(cur, "parents"), j, c)
			if (strcmp(k8s_str(c, "controllerName", NULL), K8S_GW_CONTROLLER) == 0 &&
			    json_equal(json_object_get(c, "parentRef"), pr))
				pc = json_object_get(c, "conditions");
		json_array_append_new(
			conds, k8s_gw_cond("Accepted", p.accepted, p.reason,
					   p.message[0] ? p.message : "attached to the listener",
					   r->generation, pc, now));
		json_array_append_new(conds, k8s_gw_cond("ResolvedRefs", resolved, rreason, rmsg,
							 r->generation, pc, now));
		json_array_append_new(parents, json_pack("{s:o, s:s, s:o}", "parentRef", pr,
							 "controllerName", K8S_GW_CONTROLLER,
							 "conditions", conds));
	}
	json_decref(refs);
	return json_pack("{s:o}", "parents", parents);
}

static void route_report(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
			 bool programmed, const char *key)
{
	(void)programmed;
	k8s_gw_status_write(
		rep, r->kind, r->ns, r->name, entry,
		k8s_route_status(rep, r, k8s_gw_status_cur(rep, r->kind, r->ns, r->name, entry)),
		key);
}

/* decode() takes every route: a route whose parents are no longer ours is a result whose
 * status writer takes back strait's entries (k8s_route_status()); no orphan sweep needed. */

const struct k8s_source k8s_source_tcproute = {
	.invalid_reason = "Invalid",
	.spec_size = sizeof(struct route_spec),
	.decode = route_decode,
	.build = route_build,
	.age = k8s_age_created,
	.report = route_report,
};

const struct k8s_source k8s_source_udproute = {
	.invalid_reason = "Invalid",
	.spec_size = sizeof(struct route_spec),
	.decode = route_decode,
	.build = route_build,
	.age = k8s_age_created,
	.report = route_report,
};
