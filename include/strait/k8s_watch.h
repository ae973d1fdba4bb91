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

#endif
