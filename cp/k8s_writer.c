/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer thread: status and annotation patches, Events, and the Lease that allows them.
 *
 * Patches are level-based: the table holds at most one per object path, the newest, so a
 * burst of changes to one object costs one request, and a patch that failed is retried (with
 * backoff) only while nothing newer has replaced it. Events are edge-based and best effort: a
 * bounded list, dropped when full. Nothing is written unless this instance holds the Lease;
 * on a change of leadership everything pending is dropped and the control thread, told
 * through the queue, resubmits what the cluster lacks.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strait/k8s_status.h>
#include <strait/log.h>

#include "k8s_lease.h"

#define WRITE_TIMEOUT_S 15L
#define EVENTS_MAX	256

enum job_type { JOB_PATCH, JOB_EVENT };

struct job {
	struct job *next;
	enum job_type type;
	char path[512];
	char what[192];
	char *body;
	uint64_t next_ms;
	uint32_t backoff_ms;
	long logged_err;
};

struct k8s_writer {
	struct k8s_writer_params p;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	atomic_bool stopping; /**< stop, readable without the lock: cancels a request */
	atomic_bool leader;
	struct job *jobs;
	unsigned int n_events;
	CURL *h;
	struct k8s_lease lease;
	uint64_t lease_next_ms;
	uint32_t seed;
};

static void job_free(struct job *j)
{
	free(j->body);
	free(j);
}

static void jobs_drop(struct k8s_writer *w)
{
	while (w->jobs) {
		struct job *j = w->jobs;
		w->jobs = j->next;
		job_free(j);
	}
	w->n_events = 0;
}

/* Unlink and return the first job due at @p now, or NULL; *next_ms gets the earliest due. */
static struct job *job_take(struct k8s_writer *w, uint64_t now, uint64_t *next_ms)
{
	for (struct job **pp = &w->jobs; *pp; pp = &(*pp)->next) {
		struct job *j = *pp;
		if (j->next_ms <= now) {
			*pp = j->next;
			if (j->type == JOB_EVENT)
				w->n_events--;
			return j;
		}
		if (j->next_ms < *next_ms)
			*next_ms = j->next_ms;
	}
	return NULL;
}

static bool job_superseded(struct k8s_writer *w, const struct job *j)
{
	for (struct job *o = w->jobs; o; o = o->next)
		if (o->type == JOB_PATCH && strcmp(o->path, j->path) == 0)
			return true;
	return false;
}

/* Perform one job without the lock. @return true when done (or hopeless), false to retry. */
static bool job_run(struct k8s_writer *w, struct job *j)
{
	struct k8s_response r;
	char what[640];
	bool done;
	long key;

	if (j->type == JOB_PATCH)
		k8s_client_request(w->p.client, w->h, "PATCH", j->path,
				   "application/merge-patch+json", j->body, WRITE_TIMEOUT_S,
				   &w->stopping, &r);
	else
		k8s_client_request(w->p.client, w->h, "POST", j->path, "application/json", j->body,
				   WRITE_TIMEOUT_S, &w->stopping, &r);
	key = k8s_response_error_key(&r);
	// 404: the object is gone, nothing to report on. 4xx other than 401/403/409/429: the
	// request itself is wrong and will not improve by repetition.
	done = key == 0 || r.code == 404 ||
	       (r.code >= 400 && r.code < 500 && r.code != 401 && r.code != 403 && r.code != 409 &&
		r.code != 429);
	if (key != j->logged_err && key != 0)
		rte_log(k8s_write_failure_level(&r, j->type == JOB_PATCH), strait_logtype_k8s,
			"strait.k8s: %s: %s%s\n", j->what,
			k8s_response_describe(&r, what, sizeof(what)),
			done ? "" : "; retrying with backoff");
	else if (key == 0 && j->logged_err)
		K8S_LOG(NOTICE, "%s: written after earlier failures", j->what);
	else if (key == 0)
		K8S_LOG(DEBUG, "%s: written", j->what);
	j->logged_err = key;
	k8s_response_free(&r);
	return done;
}

uint32_t k8s_write_failure_level(const struct k8s_response *r, bool patch)
{
	// A patch of an object deleted meanwhile (a Mapping removed while its status was on
	// the way): ordinary churn, nothing anyone needs to act on.
	if (patch && r->result == CURLE_OK && r->code == 404)
		return RTE_LOG_DEBUG;
	return RTE_LOG_WARNING;
}

static void lease_round(struct k8s_writer *w)
{
	bool was = w->lease.leader, now_leader;

	pthread_mutex_unlock(&w->lock);
	now_leader = k8s_lease_step(&w->lease, w->p.client, w->h);
	pthread_mutex_lock(&w->lock);
	w->lease.leader = now_leader;
	if (now_leader != was) {
		// Whatever was queued was decided under the other regime.
		jobs_drop(w);
		atomic_store(&w->leader, now_leader);
		if (now_leader)
			K8S_LOG(NOTICE, "lease %s/%s acquired as %s: this instance writes status",
				w->lease.ns, w->lease.name, w->lease.identity);
		else
			K8S_LOG(NOTICE, "lease %s/%s %s: status is written by %s", w->lease.ns,
				w->lease.name, was ? "lost" : "held by another instance",
				w->lease.holder[0] ? w->lease.holder : "nobody yet");
		k8s_queue_push(w->p.q, K8S_UPD_LEADER, K8S_KIND_MAPPING, NULL, now_leader);
	} else if (!was && !w->lease.logged_err && w->lease.holder[0] && w->lease_next_ms == 0) {
		K8S_LOG(NOTICE, "lease %s/%s is held by %s: this instance does not write status",
			w->lease.ns, w->lease.name, w->lease.holder);
	}
}

static void *writer_main(void *arg)
{
	struct k8s_writer *w = arg;
	struct timespec ts;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		uint64_t now = k8s_now_ms(), next;
		struct job *j;

		if (now >= w->lease_next_ms) {
			lease_round(w);
			w->lease_next_ms = k8s_now_ms() + w->p.retry_ms;
			continue;
		}
		next = w->lease_next_ms;
		if (w->lease.leader && (j = job_take(w, now, &next)) != NULL) {
			pthread_mutex_unlock(&w->lock);
			bool done = job_run(w, j);
			pthread_mutex_lock(&w->lock);
			if (done || !w->lease.leader || job_superseded(w, j) ||
			    (j->type == JOB_EVENT && w->n_events >= EVENTS_MAX)) {
				job_free(j);
			} else {
				j->next_ms =
					k8s_now_ms() + k8s_backoff_next(&j->backoff_ms, &w->seed);
				j->next = w->jobs;
				w->jobs = j;
				w->n_events += j->type == JOB_EVENT;
			}
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wait_ms = next > now ? next - now : 1;
		ts.tv_sec += (time_t)(wait_ms / 1000);
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	k8s_lease_release(&w->lease, w->p.client, w->h);
	return NULL;
}

struct k8s_writer *k8s_writer_start(const struct k8s_writer_params *p)
{
	struct k8s_writer *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int rc;

	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->p = *p;
	if (!w->p.lease_duration_s)
		w->p.lease_duration_s = 15;
	if (!w->p.retry_ms)
		w->p.retry_ms = 2000;
	w->h = curl_easy_init();
	if (!w->h) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(w->lease.ns, sizeof(w->lease.ns), "%s", p->lease_ns);
	snprintf(w->lease.name, sizeof(w->lease.name), "%s", p->lease_name);
	snprintf(w->lease.identity, sizeof(w->lease.identity), "%s", p->identity);
	w->lease.duration_s = w->p.lease_duration_s;
	w->lease.timeout_s = 10;
	w->lease.cancel = &w->stopping;
	w->seed = (uint32_t)k8s_now_ms() | 1u;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc) {
		curl_easy_cleanup(w->h);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		errno = rc;
		return NULL;
	}
	pthread_setname_np(w->thread, "strait-k8s-wr");
	return w;
}

void k8s_writer_stop(struct k8s_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	atomic_store(&w->stopping, true);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	jobs_drop(w);
	k8s_lease_fini(&w->lease);
	curl_easy_cleanup(w->h);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

bool k8s_writer_is_leader(struct k8s_writer *w)
{
	return atomic_load(&w->leader);
}

static int submit(struct k8s_writer *w, enum job_type type, const char *path, json_t *body,
		  const char *what)
{
	struct job *j;
	char *text;

	if (!atomic_load(&w->leader)) {
		json_decref(body);
		return -EAGAIN;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	j = text ? calloc(1, sizeof(*j)) : NULL;
	if (!j) {
		free(text);
		return -ENOMEM;
	}
	j->type = type;
	j->body = text;
	snprintf(j->path, sizeof(j->path), "%s", path);
	snprintf(j->what, sizeof(j->what), "%s", what);
	pthread_mutex_lock(&w->lock);
	if (type == JOB_EVENT && w->n_events >= EVENTS_MAX) {
		pthread_mutex_unlock(&w->lock);
		job_free(j);
		return -EAGAIN;
	}
	// The newest patch of an object replaces a pending one; its log state carries over.
	for (struct job **pp = &w->jobs; type == JOB_PATCH && *pp; pp = &(*pp)->next) {
		struct job *o = *pp;
		if (o->type == JOB_PATCH && strcmp(o->path, path) == 0) {
			j->logged_err = o->logged_err;
			j->backoff_ms = o->backoff_ms;
			*pp = o->next;
			job_free(o);
			break;
		}
	}
	j->next = w->jobs;
	w->jobs = j;
	w->n_events += type == JOB_EVENT;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int k8s_writer_patch(struct k8s_writer *w, const char *path, json_t *patch, const char *what)
{
	return submit(w, JOB_PATCH, path, patch, what);
}

int k8s_writer_event(struct k8s_writer *w, const char *ns, json_t *event)
{
	char path[256], what[128];

	snprintf(path, sizeof(path), "/apis/events.k8s.io/v1/namespaces/%s/events", ns);
	snprintf(what, sizeof(what), "event in namespace %s", ns);
	return submit(w, JOB_EVENT, path, event, what);
}
