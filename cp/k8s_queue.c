/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The queue from the k8s threads to the control thread: a mutex-protected singly linked
 * list; the consumer takes the whole list at once, and only ever try-locks.
 */
#include <errno.h>
#include <stdlib.h>

#include <strait/k8s_queue.h>

void k8s_queue_init(struct k8s_queue *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
}

void k8s_update_list_free(struct k8s_update *u)
{
	while (u) {
		struct k8s_update *next = u->next;
		json_decref(u->obj);
		free(u);
		u = next;
	}
}

void k8s_queue_fini(struct k8s_queue *q)
{
	k8s_update_list_free(q->head);
	q->head = NULL;
	q->tail = &q->head;
	pthread_mutex_destroy(&q->lock);
}

int k8s_queue_push(struct k8s_queue *q, enum k8s_update_type type, enum k8s_kind kind, json_t *obj,
		   bool leader)
{
	struct k8s_update *u = calloc(1, sizeof(*u));

	if (!u) {
		json_decref(obj);
		return -ENOMEM;
	}
	u->type = type;
	u->kind = kind;
	u->obj = obj;
	u->leader = leader;
	pthread_mutex_lock(&q->lock);
	*q->tail = u;
	q->tail = &u->next;
	q->n++;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

struct k8s_update *k8s_queue_take(struct k8s_queue *q)
{
	struct k8s_update *u;

	// The control thread must never wait on the k8s thread: if it is pushing right now,
	// its update is taken on the next pass, a millisecond later.
	if (pthread_mutex_trylock(&q->lock) != 0)
		return NULL;
	u = q->head;
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
	pthread_mutex_unlock(&q->lock);
	return u;
}
