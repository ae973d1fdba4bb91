/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Informers: list, then watch, every kind strait reads, and keep a local cache per kind.
 *
 * The Kubernetes API convention followed is client-go's reflector
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
 * list (paged with limit/continue), then watch from the list's `metadata.resourceVersion` with
 * `allowWatchBookmarks=true`; a watch that ends (the server's timeoutSeconds) is restarted from
 * the last resourceVersion seen in an event or a BOOKMARK; `410 Gone`, as an HTTP status or as
 * an `ERROR` event with a Status of code 410 (reason Expired), means that resourceVersion is
 * compacted away: list again and apply the difference; any other failure is retried after an
 * exponential backoff with jitter capped at 30 s. A watch stream is chunked HTTP, one JSON
 * event `{"type": ..., "object": ...}` per line.
 *
 * Threads: one k8s thread runs every list and watch through one curl multi handle (so one
 * poll loop serves all of them and HTTP/2 servers multiplex them on one connection). It hands
 * what it learns to the control thread through a k8s_queue (mutex-protected, the control
 * thread only ever try-locks it), so the control thread never blocks on the network. The
 * caches belong to the control thread.
 */
#ifndef STRAIT_K8S_WATCH_H
#define STRAIT_K8S_WATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/k8s_client.h>

/** The kinds strait reads. */
enum k8s_kind {
	K8S_KIND_MAPPING = 0,	/**< strait.io/v1alpha1 Mapping */
	K8S_KIND_SERVICE,	/**< v1 Service */
	K8S_KIND_ENDPOINTSLICE, /**< discovery.k8s.io/v1 EndpointSlice (v1beta1 on <= 1.20) */
	K8S_KIND_STATEFULSET,	/**< apps/v1 StatefulSet */
	K8S_KIND_POD,		/**< v1 Pod (only those of a StatefulSet: label selector) */
	K8S_KIND_NODE,		/**< v1 Node (cluster-scoped) */
	K8S_KIND_MAX
};

/** Where a kind is served. */
struct k8s_kind_info {
	const char *kind;	     /**< "Mapping" */
	const char *api_version;     /**< "strait.io/v1alpha1" */
	const char *resource;	     /**< "mappings": the URL's plural */
	const char *gr;		     /**< for messages: "mappings.strait.io" */
	const char *prefix;	     /**< "/apis/strait.io/v1alpha1" */
	const char *fallback_prefix; /**< served instead when @p prefix is 404, or NULL */
	const char *fallback_api_version;
	bool namespaced;
	const char *label_selector; /**< URL-escaped, or NULL */
};

/** The table of kinds. */
const struct k8s_kind_info *k8s_kind_info(enum k8s_kind k);

/**
 * The kind of an object from its apiVersion and kind (manifests), accepting the fallback
 * version too. @return the kind, or -1 when strait does not read that kind.
 */
int k8s_kind_of(const char *api_version, const char *kind);

/** What an informer tells the control thread. */
enum k8s_update_type {
	K8S_UPD_ADDED = 0, /**< obj: the object */
	K8S_UPD_MODIFIED,  /**< obj: the object */
	K8S_UPD_DELETED,   /**< obj: the object's last state */
	K8S_UPD_RELIST,	   /**< obj: array of every object of the kind: replace the cache */
	K8S_UPD_FAILED,	   /**< a list or watch failed: obj NULL, the informer backs off */
	K8S_UPD_RECOVERED, /**< the informer works again after K8S_UPD_FAILED */
	K8S_UPD_LEADER,	   /**< status-writer leadership changed: leader says which way */
};

/** One message on the queue. */
struct k8s_update {
	struct k8s_update *next;
	enum k8s_update_type type;
	enum k8s_kind kind;
	json_t *obj; /**< owned reference, or NULL */
	bool leader; /**< K8S_UPD_LEADER */
};

/** A multi-producer, single-consumer queue of updates. */
struct k8s_queue {
	pthread_mutex_t lock;
	struct k8s_update *head, **tail;
	unsigned int n;
};

/** Make @p q an empty queue (no allocation; cannot fail). */
void k8s_queue_init(struct k8s_queue *q);

/** Free every update left and the mutex. */
void k8s_queue_fini(struct k8s_queue *q);

/**
 * Append an update. Steals the reference to @p obj (also on failure).
 * @return 0 or -ENOMEM. Any thread; blocks only for another push or a take.
 */
int k8s_queue_push(struct k8s_queue *q, enum k8s_update_type type, enum k8s_kind kind, json_t *obj,
		   bool leader);

/**
 * Take every queued update, oldest first, or NULL when the queue is empty or another thread
 * holds its lock at this instant (try again next time). Never blocks. Control thread.
 */
struct k8s_update *k8s_queue_take(struct k8s_queue *q);

/** Free a list of updates returned by k8s_queue_take(). */
void k8s_update_list_free(struct k8s_update *u);

/**
 * Decoder of a watch stream: bytes in (in any split), one callback per complete event line.
 */
struct k8s_stream {
	char *buf;
	size_t len, cap;
};

/**
 * Called for each event of a stream.
 * @param type "ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR".
 * @param obj  borrowed: the event's object (take a reference to keep it).
 * @return 0 to go on, non-zero to stop decoding (k8s_stream_feed() returns it).
 */
typedef int (*k8s_stream_cb)(void *arg, const char *type, json_t *obj);

/**
 * Feed bytes of a (de-chunked) watch body.
 * @return 0; the callback's non-zero value; -EBADMSG on a line that is not an event
 *         (the line is skipped); -E2BIG when a line exceeds 64 MB; -ENOMEM.
 */
int k8s_stream_feed(struct k8s_stream *s, const char *data, size_t len, k8s_stream_cb cb,
		    void *arg);

/** Free the partial line held by @p s and zero it, for a new watch connection (the
 * previous one's unfinished event is never completed). */
void k8s_stream_reset(struct k8s_stream *s);

/**
 * Decode one page of a list response.
 * @param items receives a new reference to the `items` array.
 * @param rv    metadata.resourceVersion of the list (>= 64 bytes).
 * @param cont  metadata.continue, "" when this is the last page.
 * @return 0 or -EBADMSG.
 */
int k8s_list_decode(const char *body, size_t len, json_t **items, char *rv, size_t rvlen,
		    char *cont, size_t contlen);

/** "namespace/name" (or "name" for cluster-scoped objects) of @p obj into @p buf. */
const char *k8s_obj_key(const json_t *obj, char *buf, size_t len);

/** String at a JSON path of objects, e.g. k8s_str(o, "metadata", "name", NULL); "" if absent. */
const char *k8s_str(const json_t *obj, ...) __attribute__((sentinel));

/** Object (or any value) at a JSON path; NULL if absent. */
json_t *k8s_get(const json_t *obj, ...) __attribute__((sentinel));

/** The local cache of one kind: key (k8s_obj_key) → object. Control thread only. */
struct k8s_cache {
	json_t *objs; /**< JSON object used as a hash table */
};

/** The caches of every kind. */
struct k8s_store {
	struct k8s_cache c[K8S_KIND_MAX];
};

/** Make an empty cache per kind. Control thread. @return 0 or -ENOMEM (nothing held). */
int k8s_store_init(struct k8s_store *s);
/** Release every cached object of every kind; a store that failed init is fine. */
void k8s_store_fini(struct k8s_store *s);

/**
 * Apply one ADDED/MODIFIED/DELETED event. Steals nothing: takes its own reference.
 * @return 1 when the cache changed, 0 when not (same resourceVersion), -ENOMEM.
 */
int k8s_cache_apply(struct k8s_cache *c, enum k8s_update_type type, json_t *obj);

/**
 * Replace the whole cache with a list (a relist after 410, a reconnect, a manifests reload):
 * objects missing from @p items are deleted, the others added or updated.
 * @param changed receives how many objects were added, updated or deleted.
 * @return 0 or -ENOMEM.
 */
int k8s_cache_replace(struct k8s_cache *c, json_t *items, unsigned int *changed);

/** The cached object @p ns/@p name (ns "" for cluster-scoped), borrowed, or NULL. */
json_t *k8s_cache_get(const struct k8s_cache *c, const char *ns, const char *name);

/** The informers' k8s thread. */
struct k8s_watcher;

/**
 * Start the k8s thread: one informer per kind, listing then watching.
 * @param c   the client (borrowed; outlives the watcher).
 * @param ns  namespace filter for namespaced kinds, "" = all namespaces.
 * @param q   where updates go (borrowed).
 * @return the watcher, or NULL with errno.
 */
struct k8s_watcher *k8s_watcher_start(struct k8s_client *c, const char *ns, struct k8s_queue *q);

/** Stop the thread (within ~100 ms: it is woken up) and free everything. */
void k8s_watcher_stop(struct k8s_watcher *w);

#endif
