/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Reporting back to Kubernetes: Mapping status, the StatefulSet annotation
 * `strait.io/advertised`, Events, and the Lease that elects the one instance that writes them.
 *
 * API conventions followed:
 * - status: `PATCH .../mappings/NAME/status` with `Content-Type: application/merge-patch+json`
 *   (RFC 7386: lists are replaced whole) carrying `observedGeneration`, `conditions` in the
 *   metav1.Condition shape (type, status, reason, message, lastTransitionTime,
 *   observedGeneration; lastTransitionTime moves only when status changes) of types `Ready`,
 *   `Programmed` and `Conflict`, and `advertised`;
 * - annotation: a merge patch of `metadata.annotations` on the StatefulSet itself;
 * - events: `POST /apis/events.k8s.io/v1/namespaces/NS/events` (type Warning,
 *   reportingController `strait.io/gateway`, reportingInstance = the identity);
 * - leader election: a coordination.k8s.io/v1 Lease, client-go's leaderelection algorithm:
 *   create it if absent; renew it while we hold it (update with the resourceVersion we read,
 *   so a concurrent writer gets 409 Conflict); take it over when its holder has not renewed
 *   for leaseDurationSeconds as measured on our own monotonic clock since we last saw its
 *   resourceVersion change (no trust in other hosts' clocks). Identity = hostname_pid.
 *
 * Threads: a writer thread performs the requests (blocking libcurl, one connection kept);
 * the control thread only submits work (a mutex-protected table, newest patch per object
 * wins) and never waits for the network.
 */
#ifndef STRAIT_K8S_STATUS_H
#define STRAIT_K8S_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/k8s_client.h>
#include <strait/k8s_queue.h>
#include <strait/k8s_reconcile.h>

/**
 * The desired `.status` of Mapping result @p r.
 * @param cur        the object's current .status (for lastTransitionTime), or NULL.
 * @param programmed its mappings are in the published tables.
 * @param table_gen  the tables generation that last changed its mappings.
 * @param publish_error why the tables could not be published, or NULL.
 * @param now_us     wall clock, for new transitions.
 * @return a new object {observedGeneration, conditions, advertised}, or NULL (ENOMEM). It
 *         holds, not copies, the conditions of @p cur that are already what it says (key for
 *         key, in its order) and @p r's advertised list: nothing may change them in place.
 */
json_t *k8s_status_build(const struct k8s_result *r, const json_t *cur, bool programmed,
			 uint64_t table_gen, const char *publish_error, int64_t now_us);

/** Conditions k8s_status_build() made, and those it took whole from @p cur, since start
 *  (tests). */
extern unsigned long k8s_status_conditions_built;
extern unsigned long k8s_status_conditions_kept;

/**
 * Whether @p cur (an object's .status, may be NULL) already says what @p want says.
 */
bool k8s_status_same(const json_t *cur, const json_t *want);

/**
 * One line for logs and offline mode: "Ready=True (Programmed: ...), Programmed=True, ...".
 * @param brief leave out the Programmed message (its table generation), so that the line
 *              changes only when something a user acts on changes.
 * @return @p buf.
 */
char *k8s_status_summary(const json_t *status, bool brief, char *buf, size_t len);

/**
 * The events.k8s.io/v1 Event reporting @p reason / @p note on result @p r.
 * @param instance reportingInstance (the identity).
 * @return a new object or NULL.
 */
json_t *k8s_event_build(const struct k8s_result *r, const char *reason, const char *note,
			const char *instance, int64_t now_us);

/**
 * API path of result @p r's object, from its kind's row (k8s_kinds.h):
 * "/apis/strait.io/v1alpha1/namespaces/NS/mappings/N". Truncated to @p len. @return @p buf.
 */
char *k8s_result_path(const struct k8s_result *r, char *buf, size_t len);

/** The status writer and leader elector. */
struct k8s_writer;

struct k8s_writer_params {
	struct k8s_client *client; /**< borrowed, outlives the writer */
	struct k8s_queue *q;	   /**< leadership changes are pushed here (K8S_UPD_LEADER) */
	char lease_ns[CFG_NAME_MAX];
	char lease_name[CFG_NAME_MAX];
	char identity[128];	   /**< holderIdentity: hostname_pid */
	uint32_t lease_duration_s; /**< 15 like client-go; renew deadline 2/3 of it */
	uint32_t retry_ms;	   /**< between lease rounds; 2000 like client-go */
};

/**
 * Start the writer thread; it starts contending for the Lease at once.
 * @return the writer or NULL with errno.
 */
struct k8s_writer *k8s_writer_start(const struct k8s_writer_params *p);

/** Stop the thread; a held Lease is released (holder cleared) so another instance can take
 * over at once. Blocks up to one request timeout. */
void k8s_writer_stop(struct k8s_writer *w);

/**
 * Submit a merge patch of @p path (steals @p patch). A newer patch for the same path replaces
 * one not yet sent. Dropped when not the leader.
 * @param what for logs: "Mapping kafka/kafka-external status".
 * @return 0, -EAGAIN (not the leader: dropped), -ENOMEM. Control thread.
 */
int k8s_writer_patch(struct k8s_writer *w, const char *path, json_t *patch, const char *what);

/**
 * Submit an Event for namespace @p ns (steals @p event). Dropped when not the leader or when
 * more than 256 are waiting. @return 0, -EAGAIN, -ENOMEM. Control thread.
 */
int k8s_writer_event(struct k8s_writer *w, const char *ns, json_t *event);

/**
 * The log level of a failed write @p r (a non-2xx answer or a transport error): RTE_LOG_DEBUG
 * for a 404 to a status or annotation patch (@p patch: the object was deleted while its write
 * was on the way, ordinary churn), RTE_LOG_WARNING otherwise. Any thread.
 */
uint32_t k8s_write_failure_level(const struct k8s_response *r, bool patch);

/** Whether this instance holds the Lease now. Any thread. */
bool k8s_writer_is_leader(struct k8s_writer *w);

#endif
