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
 * compacted away: list again and apply the difference; any other failure, and a paged list's
 * `continue` token that expired (410), is retried after an exponential backoff with jitter
 * capped at 30 s, which starts over once the informer has run 2 minutes without a failure
 * (the reset rule of client-go's reflector, `NewExponentialBackoffManager(800ms, 30s, 2min,
 * ...)`), not when a watch merely answers 200. A watch stream is chunked HTTP, one JSON event
 * `{"type": ..., "object": ...}` per line.
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

/** How long an informer must run without a failure for its backoff to start over (client-go). */
#define K8S_BACKOFF_RESET_MS 120000u

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
	uint64_t retry_ms;   /**< when the last wait ended (ms, the caller's clock) */
};

/**
 * The informer's retry decision, a pure function of its state, what happened and the time (no
 * clock read, no I/O): tests drive it with a fake clock.
 *
 * K8S_BO_FAILED and K8S_BO_CONTINUE_EXPIRED return the next delay of k8s_backoff_next()
 * (500 ms doubled up to 30 s, equal jitter); when @p now_ms is K8S_BACKOFF_RESET_MS or more
 * after the end of the last wait, with no failure since, the backoff first starts over. The
 * other events return 0 and change nothing: a 200 header, a list or a watch that ends well do
 * not reset the backoff by themselves (client-go's ExponentialBackoffManager resets when no
 * backoff was asked for 2 minutes).
 * @param b      in/out: the informer's backoff state.
 * @param ev     what the request just did.
 * @param now_ms the monotonic time of @p ev, in ms (k8s_now_ms()).
 * @return the delay before the next request in ms, 0 = at once; <= K8S_BACKOFF_MAX_MS. Never
 *         fails. Thread: whichever thread owns @p b (the k8s thread for the informers).
 */
uint32_t k8s_backoff_on(struct k8s_backoff *b, enum k8s_backoff_event ev, uint64_t now_ms);

#endif
