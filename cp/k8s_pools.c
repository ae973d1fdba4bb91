/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address pools (strait/k8s_pools.h): the config file's and the AddressPool objects', the
 * namespace check every source's addresses go through in the reconcile pass, and the
 * allocation of a free address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>
#include <strait/k8s_pools.h>

int k8s_pool_decode(const json_t *obj, struct cfg_pool *p, char *err, size_t errlen)
{
	const json_t *spec = k8s_get(obj, "spec", NULL);
	const json_t *addrs = json_object_get(spec, "addresses");
	const json_t *nss = json_object_get(spec, "namespaces");
	const json_t *aa = json_object_get(spec, "autoAssign");
	const json_t *v;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->auto_assign = true;
	snprintf(p->name, sizeof(p->name), "%s", k8s_str(obj, "metadata", "name", NULL));
	if (!json_is_array(addrs) || json_array_size(addrs) == 0 ||
	    json_array_size(addrs) > CFG_MAX_POOL_CIDRS) {
		snprintf(err, errlen, "spec.addresses: a list of 1-%u CIDRs or ranges is required",
			 CFG_MAX_POOL_CIDRS);
		return -EINVAL;
	}
	json_array_foreach(addrs, i, v) {
		char why[96];

		if (!json_is_string(v)) {
			snprintf(err, errlen, "spec.addresses[%zu]: not a string", i);
			return -EINVAL;
		}
		if (cfg_pool_range_parse(json_string_value(v), &p->ranges[i], why, sizeof(why)) <
		    0) {
			snprintf(err, errlen, "spec.addresses[%zu]: \"%.64s\" %s", i,
				 json_string_value(v), why);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (p->ranges[i].first <= p->ranges[j].last &&
			    p->ranges[j].first <= p->ranges[i].last) {
				snprintf(err, errlen,
					 "spec.addresses[%zu]: \"%.64s\" overlaps "
					 "spec.addresses[%zu]",
					 i, json_string_value(v), j);
				return -EINVAL;
			}
		p->n_ranges++;
	}
	if (nss && (!json_is_array(nss) || json_array_size(nss) > CFG_MAX_POOL_NAMESPACES)) {
		snprintf(err, errlen, "spec.namespaces: a list of at most %u names is required",
			 CFG_MAX_POOL_NAMESPACES);
		return -EINVAL;
	}
	json_array_foreach(nss, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= CFG_NAME_MAX) {
			snprintf(err, errlen, "spec.namespaces[%zu]: not a namespace name", i);
			return -EINVAL;
		}
		snprintf(p->namespaces[p->n_namespaces++], CFG_NAME_MAX, "%s",
			 json_string_value(v));
	}
	if (aa && !json_is_boolean(aa)) {
		snprintf(err, errlen, "spec.autoAssign: true or false");
		return -EINVAL;
	}
	if (aa)
		p->auto_assign = json_is_true(aa);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int k8s_pools_collect(const struct cfg_pool *cfg, unsigned int n_cfg, const json_t *objs,
		      bool require, struct k8s_pools *out)
{
	size_t n_objs = json_object_size(objs), k = 0;
	const char **keys = calloc(n_objs ? n_objs : 1, sizeof(*keys));
	const char *key;
	json_t *obj;

	memset(out, 0, sizeof(*out));
	out->v = calloc(n_cfg + n_objs ? n_cfg + n_objs : 1, sizeof(*out->v));
	if (!keys || !out->v) {
		free(keys);
		k8s_pools_free(out);
		return -ENOMEM;
	}
	if (n_cfg) // cfg may be NULL then: memcpy wants a pointer whatever the size
		memcpy(out->v, cfg, n_cfg * sizeof(*cfg));
	out->n = n_cfg;
	// The cache is keyed "ns/name" ("/name" for a cluster-scoped kind): name order.
	json_object_foreach((json_t *)objs, key, obj)
		keys[k++] = key;
	qsort(keys, k, sizeof(*keys), name_cmp);
	for (size_t i = 0; i < k; i++) {
		char err[200];

		obj = json_object_get(objs, keys[i]);
		if (k8s_pool_decode(obj, &out->v[out->n], err, sizeof(err)) < 0) {
			if (out->n_invalid++ == 0)
				snprintf(out->invalid, sizeof(out->invalid),
					 "AddressPool %.60s: %.180s",
					 k8s_str(obj, "metadata", "name", NULL), err);
			continue;
		}
		out->n++;
	}
	free(keys);
	out->enforce = require || out->n > 0;
	return 0;
}

void k8s_pools_free(struct k8s_pools *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

bool k8s_pools_admit(const struct k8s_pools *p, const char *ns, uint32_t addr)
{
	if (!p || !p->enforce)
		return true;
	for (unsigned int i = 0; i < p->n; i++)
		if (cfg_pool_contains(&p->v[i], addr) && cfg_pool_admits_ns(&p->v[i], ns))
			return true;
	return false;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int k8s_pools_allocate(const struct k8s_pools *p, const char *ns, const char *pool,
		       const uint32_t *used, size_t n_used, uint32_t *addr)
{
	uint32_t *sorted = malloc((n_used ? n_used : 1) * sizeof(*sorted));
	bool any = false;
	int rc = -ENOSPC;

	if (!sorted)
		return -ENOMEM;
	if (n_used) { // used may be NULL then: memcpy and qsort want a pointer whatever the size
		memcpy(sorted, used, n_used * sizeof(*used));
		qsort(sorted, n_used, sizeof(*sorted), u32_cmp);
	}
	for (unsigned int i = 0; i < p->n && rc; i++) {
		const struct cfg_pool *pl = &p->v[i];

		if (!pl->auto_assign || !cfg_pool_admits_ns(pl, ns) ||
		    (pool && strcmp(pool, pl->name) != 0))
			continue;
		any = true;
		for (unsigned int c = 0; c < pl->n_ranges && rc; c++) {
			const struct cfg_pool_range *g = &pl->ranges[c];
			uint64_t lo = g->first, hi = g->last;

			if (g->len && g->len < 31) { // a CIDR's network and broadcast
				lo++;
				hi--;
			}
			for (uint64_t a = lo; a <= hi; a++) {
				uint32_t v = (uint32_t)a;
				if (bsearch(&v, sorted, n_used, sizeof(*sorted), u32_cmp))
					continue;
				*addr = v;
				rc = 0;
				break;
			}
		}
	}
	free(sorted);
	return rc && !any ? -ENOENT : rc;
}

json_t *k8s_pool_status_build(const json_t *obj, const json_t *cur, const uint32_t *used,
			      size_t n_used, int64_t now_us)
{
	int64_t gen = (int64_t)json_integer_value(k8s_get(obj, "metadata", "generation", NULL));
	const char *st, *reason, *ltt = NULL;
	uint64_t assigned = 0, size = 0;
	char err[200] = "", now[32];
	struct cfg_pool p;
	json_t *it, *out;
	size_t i;

	if (k8s_pool_decode(obj, &p, err, sizeof(err)) == 0) {
		uint32_t *u = malloc((n_used ? n_used : 1) * sizeof(*u));

		if (!u)
			return NULL;
		if (n_used) // used may be NULL then
			memcpy(u, used, n_used * sizeof(*u));
		qsort(u, n_used, sizeof(*u), u32_cmp);
		for (size_t k = 0; k < n_used; k++)
			assigned += (k == 0 || u[k] != u[k - 1]) && cfg_pool_contains(&p, u[k]);
		free(u);
		for (unsigned int r = 0; r < p.n_ranges; r++)
			size += cfg_pool_range_size(&p.ranges[r]);
		st = "True";
		reason = "Valid";
		snprintf(err, sizeof(err), "%llu addresses, %llu used by Kubernetes objects",
			 (unsigned long long)size, (unsigned long long)assigned);
	} else {
		st = "False";
		reason = strncmp(err, "spec.addresses", 14) == 0 ? "InvalidAddress" : "InvalidSpec";
	}
	// metav1.Condition: lastTransitionTime is when status last changed.
	json_array_foreach(json_object_get(cur, "conditions"), i, it)
		if (strcmp(k8s_str(it, "type", NULL), "Ready") == 0 &&
		    strcmp(k8s_str(it, "status", NULL), st) == 0)
			ltt = k8s_str(it, "lastTransitionTime", NULL);
	if (!ltt || !ltt[0])
		ltt = k8s_time_format(now_us, false, now);
	out = json_pack("{s:I, s:[{s:s, s:s, s:I, s:s, s:s, s:s}], s:I, s:I}", "observedGeneration",
			(json_int_t)gen, "conditions", "type", "Ready", "status", st,
			"observedGeneration", (json_int_t)gen, "lastTransitionTime", ltt, "reason",
			reason, "message", err, "assignedIPv4", (json_int_t)assigned,
			"availableIPv4", (json_int_t)(size - assigned));
	if (!out)
		errno = ENOMEM;
	return out;
}
