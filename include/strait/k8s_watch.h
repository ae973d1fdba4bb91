/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Informers: list, then watch, every kind strait reads (k8s_kinds.h), and hand what they learn
 * to the control thread, which keeps it in the caches (k8s_cache.h).
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

#include <strait/k8s_client.h>
#include <strait/k8s_queue.h>

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

/** What an informer's request just did, as its backoff sees it. */
enum k8s_backoff_event {
	K8S_BO_WATCH_OPEN, /**< a watch answered 200 (the stream begins) */
	K8S_BO_WATCH_END,  /**< a watch ended normally (timeoutSeconds, or it carried events) */
	K8S_BO_LIST_DONE,  /**< a list's last page arrived */
	K8S_BO_CONTINUE_EXPIRED, /**< a paged list's continue token expired (410): list again */
	K8S_BO_FAILED, /**< any other failure, a watch the server ended at once included */
};

/** An informer's backoff: plain data, zero-initialised (seed: any value). */
struct k8s_backoff {
	uint32_t nominal_ms; /**< the nominal delay (k8s_backoff_next()), 0 = start over */
	uint32_t seed;	     /**< jitter PRNG state */
};

/**
 * The informer's retry decision, a pure function of its state, what happened and the time (no
 * clock read, no I/O): tests drive it with a fake clock.
 * @param b      in/out: the informer's backoff state.
 * @param ev     what the request just did.
 * @param now_ms the monotonic time of @p ev, in ms (k8s_now_ms()).
 * @return the delay before the next request in ms, 0 = at once; <= K8S_BACKOFF_MAX_MS. Never
 *         fails. Thread: whichever thread owns @p b (the k8s thread for the informers).
 */
uint32_t k8s_backoff_on(struct k8s_backoff *b, enum k8s_backoff_event ev, uint64_t now_ms);

#endif
