/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writing the Gateway API statuses (k8s_gateway.h): conditions in the metav1.Condition shape,
 * a merge patch of the status subresource, deduplicated as the Mapping status is
 * (k8s_report.c): against the cached object and against what was last sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>
#include <strait/k8s_status.h>
#include <strait/log.h>

#include "k8s_gateway.h"
#include "k8s_report.h"

json_t *k8s_gw_cond(const char *type, bool status, const char *reason, const char *message,
		    int64_t generation, const json_t *cur_conds, int64_t now_us)
{
	const char *st = status ? "True" : "False", *ltt = NULL;
	char now[32];
	json_t *it;
	size_t i;

	json_array_foreach(cur_conds, i, it)
		if (strcmp(k8s_str(it, "type", NULL), type) == 0 &&
		    strcmp(k8s_str(it, "status", NULL), st) == 0)
			ltt = k8s_str(it, "lastTransitionTime", NULL);
	if (!ltt || !ltt[0])
		ltt = k8s_time_format(now_us, false, now);
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", type, "status", st,
			 "observedGeneration", (json_int_t)generation, "lastTransitionTime", ltt,
			 "reason", reason, "message", message);
}

const json_t *k8s_gw_status_cur(const struct k8s_report *rep, enum k8s_kind kind, const char *ns,
				const char *name, json_t *entry)
{
	const json_t *sent = json_object_get(json_object_get(entry, "sent"), "status");

	return sent ? sent
		    : json_object_get(k8s_cache_get(&rep->store->c[kind], ns, name), "status");
}

/* "Type=Status(Reason)" of every condition in @p v, depth first: what a change log shows. */
static size_t summary(const json_t *v, char *buf, size_t len, size_t n)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			n = summary(e, buf, len, n);
		return n;
	}
	if (!json_is_object(v))
		return n;
	if (json_object_get(v, "type") && json_object_get(v, "reason"))
		return n + snprintf(buf + n, n < len ? len - n : 0, "%s%s=%s (%s)", n ? ", " : "",
				    k8s_str(v, "type", NULL), k8s_str(v, "status", NULL),
				    k8s_str(v, "reason", NULL));
	if (json_object_get(v, "name") && json_object_get(v, "conditions"))
		n += snprintf(buf + n, n < len ? len - n : 0, "%slistener %s:", n ? "; " : "",
			      k8s_str(v, "name", NULL));
	json_object_foreach((json_t *)v, k, e)
		n = summary(e, buf, len, n);
	return n;
}

void k8s_gw_status_write(const struct k8s_report *rep, enum k8s_kind kind, const char *ns,
			 const char *name, json_t *entry, json_t *want, const char *key)
{
	const json_t *cur =
		json_object_get(k8s_cache_get(&rep->store->c[kind], ns, name), "status");
	struct k8s_result r = {.kind = kind};
	char text[1024], path[512], what[2 * K8S_NAME_MAX + 32];

	if (!want)
		return;
	summary(want, text, sizeof(text), 0);
	if (!k8s_report_status_due(rep, entry, cur, want, text, key))
		return;
	snprintf(r.ns, sizeof(r.ns), "%s", ns);
	snprintf(r.name, sizeof(r.name), "%s", name);
	k8s_result_path(&r, path, sizeof(path) - 8);
	// Custom resources carry their apiVersion, also in lists: a route served as v1alpha2
	// (the row's fallback) has its status written there.
	const char *av = k8s_str(k8s_cache_get(&rep->store->c[kind], ns, name), "apiVersion", NULL);
	const struct k8s_kind_info *ki = k8s_kind_info(kind);
	if (ki->fallback_api_version && strcmp(av, ki->fallback_api_version) == 0)
		snprintf(path, sizeof(path) - 8, "%s/namespaces/%s/%s/%s", ki->fallback_prefix, ns,
			 ki->resource, name);
	strcat(path, "/status");
	snprintf(what, sizeof(what), "%s status", key);
	k8s_report_patch(rep, entry, path, json_pack("{s:o}", "status", want), what);
}
