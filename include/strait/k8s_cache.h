/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The local caches the informers fill: per kind, "namespace/name" → the object as the API
 * server last sent it. They belong to the control thread: every function here is control
 * thread only (or single-threaded tests and tools).
 */
#ifndef STRAIT_K8S_CACHE_H
#define STRAIT_K8S_CACHE_H

#include <stdbool.h>

#include <jansson.h>

#include <strait/k8s_kinds.h>
#include <strait/k8s_queue.h>

/** The local cache of one kind: key (k8s_obj_key) → object. */
struct k8s_cache {
	json_t *objs; /**< JSON object used as a hash table */
	/**
	 * What changed since the incremental reconcile last took it (k8s_reconcile()): key →
	 * the object as it was before its first change since then (JSON null: it was absent).
	 * Filled by k8s_cache_apply() and k8s_cache_replace() for every change they count;
	 * NULL until the first change and after the reconcile took it. At most one entry per
	 * key, so bounded by the cache.
	 */
	json_t *dirty;
	/** A change could not be logged in @c dirty (no memory): the next reconcile recomputes
	 *  every source. */
	bool dirty_lost;
	/** Since the incremental reconcile last took the log: a key was added or deleted, or the
	 *  whole cache replaced, so that iterating @c objs may give another order than before
	 *  (a MODIFIED object keeps its place). What the reconcile keeps in cache order across
	 *  passes (the EndpointSlices by Service) is rebuilt then. */
	bool reordered;
	/**
	 * Set by k8s_store_init() for the kinds whose `.status` no reconcile reads (Mappings,
	 * StatefulSets, AddressPools, EndpointSlices, routes...): a new version of an object that
	 * differs from the cached one only in what the reconcile never reads (.status,
	 * metadata.resourceVersion and managedFields, the annotation K8S_ANN_ADVERTISED), such as
	 * the watch's echo of our own status writes, replaces it without being logged in
	 * @c dirty. False in a cache made otherwise: every new version is a change.
	 */
	bool status_unread;
	/**
	 * Every key whose object changed in any way (added, replaced, deleted; those logged in
	 * @c dirty and those replaced without being logged there) since the status writers
	 * last took the set (k8s_report_run()): key → true. What the API server says of them
	 * may have changed, so what we write on them is compared again. NULL until the first
	 * and after the status writers took it.
	 */
	json_t *touched;
	/** A key could not be added to @c touched (no memory): the next status pass reports
	 *  every object. */
	bool touch_lost;
};

/** The caches of every kind. */
struct k8s_store {
	struct k8s_cache c[K8S_KIND_MAX];
	/** The incremental reconcile's memo of this store's sources (cp/k8s_memo.c), NULL
	 *  until the first k8s_reconcile(); released by k8s_store_fini() with memo_free. */
	void *memo;
	void (*memo_free)(void *memo);
};

/** Make an empty cache per kind in @p s. @return 0 or -ENOMEM (nothing held). */
int k8s_store_init(struct k8s_store *s);
/** Release every cached object of every kind, the change logs and the reconcile's memo; a
 * store that failed init is fine. */
void k8s_store_fini(struct k8s_store *s);

/**
 * Apply one ADDED/MODIFIED/DELETED event (@p type; any other is an add) of @p obj, an object
 * with metadata.name. Steals nothing: takes its own reference.
 * A change is logged in c->dirty (the incremental reconcile's input), except a new version
 * that differs only in what no reconcile reads (k8s_cache.status_unread): it replaces the
 * cached object and is logged in c->touched instead.
 * @return 1 when the cache changed, 0 when not for the reconcile (same resourceVersion, the
 *         deleted object was not cached, or a change it does not read), -ENOMEM (the cache
 *         is unchanged).
 */
int k8s_cache_apply(struct k8s_cache *c, enum k8s_update_type type, json_t *obj);

/**
 * Replace the whole cache with a list (a relist after 410, a reconnect, a manifests reload):
 * objects missing from @p items are deleted, the others added or updated.
 * @param items   array of objects, borrowed (the cache takes its own references).
 * @param changed receives how many objects were added, updated or deleted (each logged in
 *                c->dirty; an object of the same resourceVersion is no change).
 * @return 0 or -ENOMEM (the cache is unchanged).
 */
int k8s_cache_replace(struct k8s_cache *c, json_t *items, unsigned int *changed);

/** The cached object @p ns/@p name (ns "" for cluster-scoped), borrowed, or NULL. */
json_t *k8s_cache_get(const struct k8s_cache *c, const char *ns, const char *name);

#endif
