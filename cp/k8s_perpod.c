/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-pod ports, for a Mapping in mode perPod or a StatefulSet's port-mapper annotation.
 *
 * The ports come from the StatefulSet's ordinals [spec.ordinals.start, + spec.replicas), not
 * from the Pods that happen to exist: a broker's port is part of its advertised address and
 * must not appear and vanish as its Pod restarts. A Pod supplies the backend of the ordinal it
 * carries in its labels (apps.kubernetes.io/pod-index, else statefulset.kubernetes.io/pod-name);
 * list order means nothing, and a Pod of an ordinal at or beyond replicas (scale-down in
 * progress) gets no port.
 *
 * Without a StatefulSet object (operators that manage their Pods themselves and keep the
 * StatefulSet labels: Strimzi's StrimziPodSets), the set named is that of the Pods whose
 * statefulset.kubernetes.io/pod-name label is "<name>-<n>" and that no StatefulSet controls;
 * the ordinals are then those of the Pods that exist (there is no replicas count to read: a
 * broker's port goes while its Pod object is gone, and comes back with the same number), and
 * the target port must be given (a Mapping's targetPort). The Pod watch
 * keeps its one label selector (statefulset.kubernetes.io/pod-name): such Pods carry it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>

#include "k8s_perpod.h"

#define LABEL_POD_NAME	"statefulset.kubernetes.io/pod-name"
#define LABEL_POD_INDEX "apps.kubernetes.io/pod-index"
#define ORDINALS_MAX	4096 /* more would exhaust the mapping slots anyway */

static long decimal(const char *s)
{
	long v = 0;

	if (!s[0] || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		return -1;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v;
}

/* 1: the Pod's controller is StatefulSet @p sts; 0: another StatefulSet; -1: no StatefulSet
 * controls it (none, or another kind: Strimzi's StrimziPodSet). */
static int owned_by(const json_t *pod, const char *sts)
{
	json_t *refs = k8s_get(pod, "metadata", "ownerReferences", NULL), *ref;
	size_t i;

	json_array_foreach(refs, i, ref)
		if (json_is_true(json_object_get(ref, "controller")) &&
		    strcmp(k8s_str(ref, "kind", NULL), "StatefulSet") == 0)
			return strcmp(k8s_str(ref, "name", NULL), sts) == 0;
	return -1;
}

int k8s_pod_ordinal(const json_t *pod, const char *sts)
{
	json_t *labels = k8s_get(pod, "metadata", "labels", NULL);
	const char *pname = k8s_str(labels, LABEL_POD_NAME, NULL);
	const char *idx = k8s_str(labels, LABEL_POD_INDEX, NULL);
	size_t len = strlen(sts);
	bool named =
		strncmp(pname, sts, len) == 0 && pname[len] == '-' && decimal(pname + len + 1) >= 0;
	int owner = owned_by(pod, sts);

	// A StatefulSet's controller reference says whose Pod it is. Pods no StatefulSet
	// controls (written by hand, or by an operator that manages Pods itself and keeps the
	// labels, as Strimzi's StrimziPodSets do) are the set's when the pod-name label names it.
	if (owner == 0 || (owner < 0 && !named))
		return -1;
	if (decimal(idx) >= 0)
		return (int)decimal(idx);
	return named ? (int)decimal(pname + len + 1) : -1;
}

/* The set @p pod can belong to (k8s_pod_ordinal()'s candidates): its controlling
 * StatefulSet, else the "<set>" of its pod-name label "<set>-<digits>"; "" for none. */
void k8s_perpod_set_key(const json_t *pod, char *k, size_t size)
{
	json_t *refs = k8s_get(pod, "metadata", "ownerReferences", NULL), *ref;
	const char *ns = k8s_str(pod, "metadata", "namespace", NULL);
	const char *pname = k8s_str(pod, "metadata", "labels", LABEL_POD_NAME, NULL), *dash;
	size_t i;

	json_array_foreach(refs, i, ref)
		if (json_is_true(json_object_get(ref, "controller")) &&
		    strcmp(k8s_str(ref, "kind", NULL), "StatefulSet") == 0) {
			snprintf(k, size, "%s/%s", ns, k8s_str(ref, "name", NULL));
			return;
		}
	dash = strrchr(pname, '-');
	if (!dash || decimal(dash + 1) < 0) {
		k[0] = '\0';
		return;
	}
	snprintf(k, size, "%s/%.*s", ns, (int)(dash - pname), pname);
}

/* The Pods of set @p ns/@p name from the pass's index (k8s_build.h), built on first use: one
 * scan of the Pods per pass, not one per set. @p *list: the array, or NULL for none.
 * @return 0 or -ENOMEM. */
static int set_pods(struct k8s_build *b, const char *ns, const char *name, json_t **list)
{
	json_t *pods = b->s->c[K8S_KIND_POD].objs, *pod, *ix = b->pods_by_set, *l;
	char k[2 * K8S_NAME_MAX + 2];
	const char *key;

	if (!ix) {
		if (!(ix = json_object()))
			return -ENOMEM;
		json_object_foreach(pods, key, pod) {
			k8s_perpod_set_key(pod, k, sizeof(k));
			if (!k[0])
				continue;
			if (!(l = json_object_get(ix, k)) &&
			    json_object_set_new(ix, k, l = json_array()) < 0) {
				json_decref(ix);
				return -ENOMEM;
			}
			if (json_array_append(l, pod) < 0) {
				json_decref(ix);
				return -ENOMEM;
			}
		}
		b->pods_by_set = ix;
	}
	k8s_build_dep(b, K8S_KIND_POD, ns, name);
	snprintf(k, sizeof(k), "%s/%s", ns, name);
	*list = json_object_get(ix, k);
	return 0;
}

static bool pod_ready(const json_t *pod)
{
	json_t *conds = k8s_get(pod, "status", "conditions", NULL), *c;
	size_t i;

	json_array_foreach(conds, i, c)
		if (strcmp(k8s_str(c, "type", NULL), "Ready") == 0)
			return strcmp(k8s_str(c, "status", NULL), "True") == 0;
	return false;
}

/*
 * The backend a Pod offers: false when it offers none (no IP). Not ready or being deleted:
 * a draining backend (serving_only): its sessions keep forwarding, new ones go elsewhere; a
 * readiness blip cuts no established connection (kube-proxy keeps their conntrack entries).
 */
static bool pod_backend(const json_t *pod, struct cfg_backend *be)
{
	memset(be, 0, sizeof(*be));
	be->weight = 1;
	if (!k8s_ipv4(k8s_str(pod, "status", "podIP", NULL), &be->addr))
		return false;
	be->terminating = json_is_string(k8s_get(pod, "metadata", "deletionTimestamp", NULL));
	be->serving_only = !pod_ready(pod) || be->terminating;
	snprintf(be->name, sizeof(be->name), "%s", k8s_str(pod, "metadata", "name", NULL));
	return true;
}

static uint16_t first_container_port(const json_t *sts)
{
	json_t *cs = k8s_get(sts, "spec", "template", "spec", "containers", NULL), *c;
	size_t i;

	json_array_foreach(cs, i, c) {
		json_t *p = json_array_get(json_object_get(c, "ports"), 0);
		json_int_t v = json_integer_value(json_object_get(p, "containerPort"));
		if (v >= 1 && v <= 65535)
			return (uint16_t)v;
	}
	return 0;
}

static int set_name(struct k8s_result *r, char *dst, const char *prefix, const char *suffix)
{
	if ((size_t)snprintf(dst, CFG_NAME_MAX, "%s%s", prefix, suffix) >= CFG_NAME_MAX)
		return k8s_result_fail(r, "InvalidSpec",
				       "mapping name %s%s is longer than %d characters: use a "
				       "shorter name or prefix",
				       prefix, suffix, CFG_NAME_MAX - 1);
	return 1;
}

static int new_map(struct k8s_build *b, const struct k8s_perpod *pp, uint16_t port)
{
	int idx = k8s_build_map(b);
	struct cfg_mapping *m;

	if (idx < 0)
		return idx;
	m = &b->maps[idx];
	*m = *pp->tmpl;
	m->backends = NULL;
	m->n_backends = 0;
	m->mode = CFG_MODE_PER_POD;
	m->n_ports = 1;
	memset(m->ports, 0, sizeof(m->ports));
	m->ports[0].port = m->ports[0].end_port = port;
	m->ports[0].proto = pp->proto;
	m->ordinal = -1;
	return idx;
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The ordinals without a StatefulSet object (an operator's own pod sets: Strimzi's
 * StrimziPodSets): those of the Pods of namespace @p ns whose pod-name label names set @p name,
 * sorted, unique. @return how many (0: none), or -ENOMEM.
 */
static long podset_ordinals(struct k8s_build *b, const char *ns, const char *name, long **out)
{
	json_t *pods, *pod;
	long *ords = malloc(ORDINALS_MAX * sizeof(*ords)), n = 0;
	size_t pi;

	*out = ords;
	if (!ords || set_pods(b, ns, name, &pods) < 0)
		return -ENOMEM;
	json_array_foreach(pods, pi, pod) {
		int ord;

		if (strcmp(k8s_str(pod, "metadata", "namespace", NULL), ns) != 0 ||
		    (ord = k8s_pod_ordinal(pod, name)) < 0 || n == ORDINALS_MAX)
			continue;
		ords[n++] = ord;
	}
	qsort(ords, (size_t)n, sizeof(*ords), long_cmp);
	long u = 0;
	for (long i = 0; i < n; i++)
		if (u == 0 || ords[u - 1] != ords[i])
			ords[u++] = ords[i];
	return u;
}

int k8s_perpod_build(struct k8s_build *b, struct k8s_result *r, const struct k8s_perpod *pp)
{
	const json_t *sts =
		k8s_cache_get(&b->s->c[K8S_KIND_STATEFULSET], pp->tmpl->ns, pp->sts_name);
	json_t *pods = NULL, *pod, *rep;

	k8s_build_dep(b, K8S_KIND_STATEFULSET, pp->tmpl->ns, pp->sts_name);
	struct cfg_backend *by_ord = NULL, *all = NULL;
	long replicas, start, *ords = NULL;
	uint16_t target, pod_target = 0;
	unsigned int n_all = 0;
	char buf[24];
	size_t pi;
	int rc = 0;

	if (!sts) {
		// No StatefulSet: the Pods that carry its pod-name label, if any.
		replicas = podset_ordinals(b, pp->tmpl->ns, pp->sts_name, &ords);
		if (replicas < 0) {
			free(ords);
			return (int)replicas;
		}
		if (replicas == 0) {
			free(ords);
			return k8s_result_fail(r, "StatefulSetNotFound",
					       "StatefulSet %s/%s not found, and no Pod labelled "
					       "%s=%s-<ordinal>",
					       pp->tmpl->ns, pp->sts_name, LABEL_POD_NAME,
					       pp->sts_name);
		}
	} else {
		rep = k8s_get(sts, "spec", "replicas", NULL);
		replicas = rep ? (long)json_integer_value(rep) : 1; // the API's default
		start = (long)json_integer_value(k8s_get(sts, "spec", "ordinals", "start", NULL));
		if (replicas < 0 || replicas > ORDINALS_MAX || start < 0)
			return k8s_result_fail(
				r, pp->invalid_reason,
				"StatefulSet %s/%s: %ld replicas from ordinal %ld: at most %d "
				"ordinals are served",
				pp->tmpl->ns, pp->sts_name, replicas, start, ORDINALS_MAX);
		ords = malloc((replicas ? replicas : 1) * sizeof(*ords));
		if (!ords)
			return -ENOMEM;
		for (long i = 0; i < replicas; i++)
			ords[i] = start + i;
		pod_target = first_container_port(sts);
	}
	if (replicas && pp->start_port + ords[replicas - 1] > 65535) {
		rc = k8s_result_fail(r, pp->invalid_reason, "port %u + ordinal %ld is beyond 65535",
				     pp->start_port, ords[replicas - 1]);
		goto out;
	}
	target = pp->target_port ? pp->target_port : pod_target;
	if (!target) {
		rc = k8s_result_fail(r, pp->invalid_reason,
				     "no target port: none given and %s %s/%s's first container "
				     "has no ports",
				     sts ? "StatefulSet" : "the Pods of", pp->tmpl->ns,
				     pp->sts_name);
		goto out;
	}

	by_ord = calloc(replicas ? replicas : 1, sizeof(*by_ord));
	all = calloc(replicas ? replicas : 1, sizeof(*all));
	if (!by_ord || !all) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = set_pods(b, pp->tmpl->ns, pp->sts_name, &pods)) < 0)
		goto out;
	json_array_foreach(pods, pi, pod) {
		struct cfg_backend be;
		long ord, *at;

		if (strcmp(k8s_str(pod, "metadata", "namespace", NULL), pp->tmpl->ns) != 0)
			continue;
		ord = k8s_pod_ordinal(pod, pp->sts_name);
		if (ord < 0 || !replicas)
			continue;
		at = bsearch(&ord, ords, (size_t)replicas, sizeof(*ords), long_cmp);
		if (!at || !pod_backend(pod, &be))
			continue;
		// Two Pods with one ordinal only happen mid-replacement: a ready one beats a
		// draining one.
		struct cfg_backend *slot = &by_ord[at - ords];
		if (slot->addr && !slot->serving_only)
			continue;
		*slot = be;
	}

	r->first_map = b->n_maps;
	for (long i = 0; i < replicas; i++) {
		long ord = ords[i];
		struct cfg_backend *be = &by_ord[i];
		int idx = new_map(b, pp, (uint16_t)(pp->start_port + ord));
		char pod_name[CFG_NAME_MAX + 16];

		if (idx < 0) {
			rc = idx;
			goto out;
		}
		struct cfg_mapping *m = &b->maps[idx];
		snprintf(buf, sizeof(buf), "%ld", ord);
		if ((rc = set_name(r, m->name, pp->map_prefix, buf)) <= 0)
			goto out;
		m->ordinal = (int32_t)ord;
		m->ports[0].service_port = target;
		if (be->addr) {
			if ((rc = k8s_map_set_backends(m, be, 1)) < 0)
				goto out;
			all[n_all++] = *be;
		}
		r->n_ports++;
		if (be->addr && !be->serving_only)
			r->n_ports_ready++;
		snprintf(pod_name, sizeof(pod_name), "%s-%ld", pp->sts_name, ord);
		for (unsigned int a = 0; a < pp->tmpl->n_addrs; a++) {
			rc = k8s_result_advertise(r, pp->name_is_pod ? pod_name : m->name, pod_name,
						  (int32_t)ord, pp->tmpl->addrs[a],
						  (uint16_t)(pp->start_port + ord), 0, pp->proto);
			if (rc < 0)
				goto out;
		}
	}
	if (pp->bootstrap_port) {
		int idx = new_map(b, pp, pp->bootstrap_port);
		bool ready = false;

		if (idx < 0) {
			rc = idx;
			goto out;
		}
		struct cfg_mapping *m = &b->maps[idx];
		if ((rc = set_name(r, m->name, pp->map_prefix, "bootstrap")) <= 0)
			goto out;
		m->ports[0].service_port = target;
		if (n_all && (rc = k8s_map_set_backends(m, all, n_all)) < 0)
			goto out;
		for (unsigned int i = 0; i < n_all; i++)
			ready |= !all[i].serving_only;
		r->n_ports++;
		r->n_ports_ready += ready;
		for (unsigned int a = 0; a < pp->tmpl->n_addrs; a++) {
			rc = k8s_result_advertise(r, "bootstrap", NULL, -1, pp->tmpl->addrs[a],
						  pp->bootstrap_port, 0, pp->proto);
			if (rc < 0)
				goto out;
		}
	}
	r->n_maps = b->n_maps - r->first_map;
	rc = 0;
out:
	free(ords);
	free(by_ord);
	free(all);
	return rc;
}
