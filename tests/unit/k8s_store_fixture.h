/* SPDX-License-Identifier: BSD-3-Clause */
/* A store filled with the recorded lists of tests/data/k8s-wire, as the informers leave it
 * after their first lists, for the reconcile tests (k8s_reconcile_test.c, k8s_pools_test.c).
 * Include after <cmocka.h> and "k8s_testlib.h". */
#ifndef STRAIT_K8S_STORE_FIXTURE_H
#define STRAIT_K8S_STORE_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_reconcile.h>

/* Dotted quad → host-order address. */
static inline uint32_t t_ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

/* Replace kind @p k's cache in @p store with the items of recorded list @p file. */
static inline void t_load_list(struct k8s_store *store, enum k8s_kind k, const char *file)
{
	json_t *doc = t_wire_json(file);
	unsigned int changed;

	assert_int_equal(k8s_cache_replace(&store->c[k], json_object_get(doc, "items"), &changed),
			 0);
	json_decref(doc);
}

/* Initialise @p store with every kind's recorded list (AddressPool: none recorded). */
static inline void t_store_recorded(struct k8s_store *store)
{
	assert_int_equal(k8s_store_init(store), 0);
	t_load_list(store, K8S_KIND_MAPPING, "mappings-list.json");
	t_load_list(store, K8S_KIND_SERVICE, "services-list.json");
	t_load_list(store, K8S_KIND_ENDPOINTSLICE, "endpointslices-v1beta1-list.json");
	t_load_list(store, K8S_KIND_STATEFULSET, "statefulsets-list.json");
	t_load_list(store, K8S_KIND_POD, "pods-list.json");
	t_load_list(store, K8S_KIND_NODE, "nodes-list.json");
}

/* Fill pool @p p: named @p name, one entry @p range (CIDR or A-B), admitting namespace @p ns
 * (NULL: every namespace), autoAssign. */
static inline void t_pool_set(struct cfg_pool *p, const char *name, const char *range,
			      const char *ns)
{
	char why[96];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	assert_int_equal(cfg_pool_range_parse(range, &p->ranges[0], why, sizeof(why)), 0);
	p->n_ranges = 1;
	if (ns) {
		snprintf(p->namespaces[0], CFG_NAME_MAX, "%s", ns);
		p->n_namespaces = 1;
	}
	p->auto_assign = true;
}

/* Free what a test's reconcile left in @p d and the store @p store (a teardown). */
static inline void t_store_done(struct k8s_store *store, struct k8s_desired *d)
{
	k8s_desired_free(d);
	k8s_store_fini(store);
	k8s_desired_spare_free(); // as cp/k8s.c's fini: the next test starts with none
}

/* Reconcile @p store into @p d (its previous content freed), which must succeed. */
static inline void t_reconcile(struct k8s_store *store, const struct k8s_reconcile_params *params,
			       struct k8s_desired *d)
{
	k8s_desired_free(d);
	assert_int_equal(k8s_reconcile(store, params, d), 0);
}

/* The mapping named @p name in @p d, or NULL. */
static inline const struct cfg_mapping *t_map(const struct k8s_desired *d, const char *name)
{
	for (unsigned int i = 0; i < d->n_maps; i++)
		if (strcmp(d->maps[i].name, name) == 0)
			return &d->maps[i];
	return NULL;
}

#endif
