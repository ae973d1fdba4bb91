/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The queue from the k8s threads (informers, status writer) to the control thread: what an
 * informer learned, one update at a time. Mutex-protected; the control thread only ever
 * try-locks it, so it never waits for the network.
 */
#ifndef STRAIT_K8S_QUEUE_H
#define STRAIT_K8S_QUEUE_H

#include <pthread.h>
#include <stdbool.h>

#include <jansson.h>

#include <strait/k8s_kinds.h>

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

/** Make @p q an empty queue (no allocation; cannot fail). Before any producer starts. */
void k8s_queue_init(struct k8s_queue *q);

/** Free every update left and the mutex. After every producer has stopped. */
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

/** Free a list of updates returned by k8s_queue_take() (NULL is fine). Its owner's thread. */
void k8s_update_list_free(struct k8s_update *u);

#endif
