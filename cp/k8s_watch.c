/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The k8s thread: every informer's list and watch on one curl multi handle.
 *
 * One thread and one poll loop, rather than a thread per informer: six long-lived watches are
 * mostly idle, a multi handle waits on all of them at once, a shutdown is one
 * curl_multi_wakeup(), and against an HTTP/2 API server curl multiplexes all of them on one
 * TLS connection (the multi handle's connection cache also lets a relist reuse the connection
 * a finished watch left open).
 *
 * Each informer is a small state machine: LIST (pages of 500) → WATCH (from the list's
 * resourceVersion, then from the last one seen) → WATCH ... and, on failure, WAIT (backoff)
 * then WATCH again from the last resourceVersion, or LIST when that version is gone (410).
 * The backoff (k8s_backoff_on(), a pure function of the informer's backoff state, the event and
 * the time) grows on every failure, an expired continue token included, and starts over only
 * once the informer has run K8S_BACKOFF_RESET_MS without one, never on a 200 header alone.
 * Errors are logged once per informer and per kind of failure, and recovery once.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_stream.h>
#include <strait/k8s_watch.h>
#include <strait/log.h>

#include "k8s_source.h"

#define WATCH_TIMEOUT_MIN_S 300 /* client-go: a random timeout in [5, 10) minutes */
#define LIST_PAGE	    500
#define LIST_TIMEOUT_S	    60L
#define WATCH_SHORT_MS	    1000 /* shorter and empty: a failure */
#define POLL_MAX_MS	    1000

enum inf_state { INF_START, INF_LIST, INF_WATCH, INF_WAIT };

struct informer {
	struct k8s_watcher *w;
	enum k8s_kind kind;
	const struct k8s_kind_info *ki;
	enum inf_state state;
	bool fallback;	 /**< the server does not serve ki->prefix: use ki->fallback_prefix */
	bool need_list;	 /**< the next request is a list (first, or after 410) */
	char rv[128];	 /**< last resourceVersion seen */
	char cont[2048]; /**< continue token of a paged list in progress */
	json_t *items;	 /**< the list being assembled */
	char *body;	 /**< list page or error body */
	size_t len, cap;
	bool too_big;
	struct k8s_stream stream;
	bool expired;	   /**< the watch stream said 410 */
	bool stream_error; /**< the watch stream carried another ERROR */
	bool established;  /**< the watch answered 200: it works */
	char stream_msg[640];
	unsigned int events; /**< events in the current watch */
	CURL *h;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	uint64_t started_ms, wait_until_ms;
	struct k8s_backoff bo;
	uint32_t seed;
	long logged_err; /**< the failure last logged, 0 = none */
	bool listed_once;
};

struct k8s_watcher {
	struct k8s_client *c;
	struct k8s_queue *q;
	char ns[CFG_NAME_MAX];
	CURLM *multi;
	pthread_t thread;
	atomic_bool stop;
	struct informer inf[K8S_KIND_MAX];
};

static const char *inf_scope(const struct informer *f)
{
	return f->ki->namespaced && f->w->ns[0] ? f->w->ns : "all namespaces";
}

static const char *inf_prefix(const struct informer *f)
{
	return f->fallback ? f->ki->fallback_prefix : f->ki->prefix;
}

/* Log a failure once per change of its kind; the retry itself is silent. */
static void inf_failed(struct informer *f, const char *op, long key, const char *what, bool backoff)
{
	uint32_t delay = 0;

	if (backoff) {
		uint64_t now = k8s_now_ms();
		delay = k8s_backoff_on(&f->bo, K8S_BO_FAILED, now);
		f->state = INF_WAIT;
		f->wait_until_ms = now + delay;
	} else {
		f->state = INF_START;
	}
	if (key != f->logged_err) {
		K8S_LOG(WARNING, "%s %s (%s): %s; retrying%s", op, f->ki->gr, inf_scope(f), what,
			backoff ? " with backoff" : "");
		f->logged_err = key;
	}
	// Tells the control thread that this kind is not in sync (first list, or state).
	k8s_queue_push(f->w->q, K8S_UPD_FAILED, f->kind, NULL, false);
}

/* A request went well: log the recovery once, and tell the backoff. */
static void inf_ok(struct informer *f, const char *op, enum k8s_backoff_event ev)
{
	if (f->logged_err) {
		K8S_LOG(NOTICE, "%s %s (%s): working again", op, f->ki->gr, inf_scope(f));
		k8s_queue_push(f->w->q, K8S_UPD_RECOVERED, f->kind, NULL, false);
	}
	f->logged_err = 0;
	(void)k8s_backoff_on(&f->bo, ev, k8s_now_ms());
}

uint32_t k8s_backoff_on(struct k8s_backoff *b, enum k8s_backoff_event ev, uint64_t now_ms)
{
	uint32_t delay;

	switch (ev) {
	case K8S_BO_WATCH_OPEN: // a 200 header says nothing of how long the watch lasts
	case K8S_BO_WATCH_END:
	case K8S_BO_LIST_DONE:
		return 0;
	case K8S_BO_CONTINUE_EXPIRED:
	case K8S_BO_FAILED:
		break;
	}
	// client-go's ExponentialBackoffManager: no failure for 2 min since the last retry, the
	// server is healthy and the backoff starts over. Judged at the next failure.
	if (b->nominal_ms && now_ms >= b->retry_ms && now_ms - b->retry_ms >= K8S_BACKOFF_RESET_MS)
		b->nominal_ms = 0;
	delay = k8s_backoff_next(&b->nominal_ms, &b->seed);
	b->retry_ms = now_ms + delay;
	return delay;
}

static size_t inf_body_write(struct informer *f, const char *data, size_t n)
{
	if (f->len + n + 1 > (256u << 20)) {
		f->too_big = true;
		return 0;
	}
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 65536;
		while (cap < f->len + n + 1)
			cap *= 2;
		char *p = realloc(f->body, cap);
		if (!p)
			return 0;
		f->body = p;
		f->cap = cap;
	}
	memcpy(f->body + f->len, data, n);
	f->len += n;
	f->body[f->len] = '\0';
	return n;
}

/* A watch event, on the k8s thread. */
static int inf_event(void *arg, const char *type, json_t *obj)
{
	struct informer *f = arg;
	enum k8s_update_type t;
	const char *rv;

	if (strcmp(type, "ERROR") == 0) {
		struct k8s_api_status st;
		k8s_api_status_decode(obj, &st);
		if (st.code == 410)
			f->expired = true;
		else
			f->stream_error = true;
		snprintf(f->stream_msg, sizeof(f->stream_msg), "%ld %s: %.500s", st.code, st.reason,
			 st.message);
		return 1; // the server ends the stream after an ERROR anyway
	}
	rv = k8s_str(obj, "metadata", "resourceVersion", NULL);
	if (rv[0])
		snprintf(f->rv, sizeof(f->rv), "%s", rv);
	f->events++;
	if (strcmp(type, "BOOKMARK") == 0)
		return 0;
	if (strcmp(type, "ADDED") == 0)
		t = K8S_UPD_ADDED;
	else if (strcmp(type, "MODIFIED") == 0)
		t = K8S_UPD_MODIFIED;
	else if (strcmp(type, "DELETED") == 0)
		t = K8S_UPD_DELETED;
	else
		return 0;
	k8s_queue_push(f->w->q, t, f->kind, json_incref(obj), false);
	return 0;
}

static size_t inf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct informer *f = arg;
	size_t n = size * nmemb;
	long code = 0;

	if (f->state == INF_LIST)
		return inf_body_write(f, data, n);
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return inf_body_write(f, data, n); // an error Status, decoded at the end
	if (!f->established) {
		// The watch is up: a failure before it is over. The backoff is not reset here: a
		// server that accepts watches and closes them at once would be retried every 0.5 s;
		// it starts over only after K8S_BACKOFF_RESET_MS without a failure.
		f->established = true;
		inf_ok(f, "watch", K8S_BO_WATCH_OPEN);
	}
	int rc = k8s_stream_feed(&f->stream, data, n, inf_event, f);
	if (rc == -EBADMSG)
		K8S_LOG(WARNING, "watch %s: skipped a line that is not a watch event", f->ki->gr);
	// After an ERROR event nothing useful follows: end the transfer now.
	return rc > 0 || rc == -E2BIG || rc == -ENOMEM ? 0 : n;
}

static uint32_t inf_rand(struct informer *f)
{
	uint32_t x = f->seed ? f->seed : 0x2545f491u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	f->seed = x;
	return x;
}

static void inf_build_path(struct informer *f, bool list, char *path, size_t len)
{
	const bool nsd = f->ki->namespaced && f->w->ns[0];
	int n;

	n = snprintf(path, len, "%s/%s%s%s%s?", inf_prefix(f), nsd ? "namespaces/" : "",
		     nsd ? f->w->ns : "", nsd ? "/" : "", f->ki->resource);
	if (f->ki->label_selector)
		n += snprintf(path + n, len - n, "labelSelector=%s&", f->ki->label_selector);
	if (list) {
		char *esc = f->cont[0] ? curl_easy_escape(f->h, f->cont, 0) : NULL;
		snprintf(path + n, len - n, "limit=%d%s%s", LIST_PAGE, esc ? "&continue=" : "",
			 esc ? esc : "");
		curl_free(esc);
	} else {
		char *esc = curl_easy_escape(f->h, f->rv, 0);
		// A random timeout spreads the reconnects of many watchers over time.
		long t = WATCH_TIMEOUT_MIN_S + (long)(inf_rand(f) % WATCH_TIMEOUT_MIN_S);
		snprintf(path + n, len - n,
			 "watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%ld",
			 esc ? esc : "", t);
		curl_free(esc);
	}
}

static void inf_start(struct informer *f)
{
	bool list = f->need_list || !f->rv[0];
	char path[4096];
	int rc;

	f->len = 0;
	f->too_big = false;
	f->expired = f->stream_error = f->established = false;
	f->events = 0;
	k8s_stream_reset(&f->stream);
	curl_slist_free_all(f->hdrs);
	f->hdrs = NULL;
	inf_build_path(f, list, path, sizeof(path));
	rc = k8s_client_prepare(f->w->c, f->h, "GET", path, NULL, &f->hdrs);
	if (rc < 0) {
		inf_failed(f, list ? "list" : "watch", -1000 + rc, strerror(-rc), true);
		return;
	}
	curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, inf_write);
	curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->h, CURLOPT_PRIVATE, f);
	curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, f->errbuf);
	// A watch ends at the server's timeoutSeconds (<= 600 s); a minute more and it is dead.
	curl_easy_setopt(f->h, CURLOPT_TIMEOUT,
			 list ? LIST_TIMEOUT_S : 2L * WATCH_TIMEOUT_MIN_S + 60);
	f->errbuf[0] = '\0';
	f->state = list ? INF_LIST : INF_WATCH;
	f->started_ms = k8s_now_ms();
	curl_multi_add_handle(f->w->multi, f->h);
}

/* The CRD set a kind belongs to when strait reads it only if installed (a 404 on its list is
 * an empty list), or NULL: the Gateway API's kinds and l7mp's VirtualService. */
static const char *optional_crds(const struct k8s_kind_info *ki)
{
	if (strncmp(ki->prefix, "/apis/gateway.networking.k8s.io/", 32) == 0)
		return "Gateway API";
	if (strncmp(ki->prefix, "/apis/l7mp.io/", 14) == 0)
		return "l7mp";
	return NULL;
}

static void inf_list_done(struct informer *f, CURLcode res, long code)
{
	const char *optional;
	struct k8s_response r = {.code = code, .result = res, .body = f->body, .len = f->len};
	char what[768], rv[128], cont[2048];
	json_t *items;

	snprintf(r.error, sizeof(r.error), "%s", f->errbuf);
	if (res == CURLE_OK && code == 200) {
		if (k8s_list_decode(f->body, f->len, f->stream.keep, &items, rv, sizeof(rv), cont,
				    sizeof(cont))) {
			inf_failed(f, "list", -2000, "the response is not a list", true);
			return;
		}
		if (!f->items)
			f->items = json_array();
		json_t *it;
		size_t i;
		json_array_foreach(items, i, it)
			json_array_append(f->items, it);
		json_decref(items);
		snprintf(f->cont, sizeof(f->cont), "%s", cont);
		if (cont[0]) {
			f->state = INF_START; // next page at once
			return;
		}
		snprintf(f->rv, sizeof(f->rv), "%s", rv);
		K8S_LOG(INFO, "list %s (%s): %zu objects at resourceVersion %s", f->ki->gr,
			inf_scope(f), json_array_size(f->items), rv);
		k8s_queue_push(f->w->q, K8S_UPD_RELIST, f->kind, f->items, false);
		f->items = NULL;
		f->need_list = false;
		f->listed_once = true;
		inf_ok(f, "list", K8S_BO_LIST_DONE);
		f->state = INF_START; // and watch from rv
		return;
	}
	json_decref(f->items);
	f->items = NULL;
	f->cont[0] = '\0';
	if (res == CURLE_OK && code == 410) {
		// The continue token expired mid-list: start the list over, after the backoff (a
		// server whose tokens always expire would otherwise be listed in a loop).
		uint64_t now = k8s_now_ms();
		uint32_t delay = k8s_backoff_on(&f->bo, K8S_BO_CONTINUE_EXPIRED, now);
		K8S_LOG(INFO, "list %s: continue token expired; listing again in %u ms", f->ki->gr,
			delay);
		f->state = delay ? INF_WAIT : INF_START;
		f->wait_until_ms = now + delay;
		return;
	}
	if (res == CURLE_OK && code == 404 && f->ki->fallback_prefix && !f->fallback) {
		K8S_LOG(NOTICE, "%s is not served at %s; using %s (Kubernetes <= 1.20)", f->ki->gr,
			f->ki->prefix, f->ki->fallback_prefix);
		f->fallback = true;
		f->state = INF_START;
		return;
	}
	if (res == CURLE_OK && code == 404 && (optional = optional_crds(f->ki)) != NULL) {
		// The Gateway API and l7mp CRDs are optional: not installed is an empty list,
		// looked for again every minute (the cache then says "synced", not "error").
		json_t *none = json_array();
		if (!f->listed_once)
			K8S_LOG(NOTICE,
				"%s is not served (%s CRDs not installed); "
				"looking again every 60 s",
				f->ki->gr, optional);
		f->fallback = false;
		f->listed_once = true;
		if (none)
			k8s_queue_push(f->w->q, K8S_UPD_RELIST, f->kind, none, false);
		f->state = INF_WAIT;
		f->wait_until_ms = k8s_now_ms() + 60000;
		return;
	}
	k8s_response_describe(&r, what, sizeof(what));
	if (code == 404 && (f->kind == K8S_KIND_MAPPING || f->kind == K8S_KIND_ADDRESSPOOL))
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " (is the CRD installed? kubectl apply -f config/crd/%s.yaml)",
			 f->kind == K8S_KIND_MAPPING ? "mapping" : "addresspool");
	inf_failed(f, "list", k8s_response_error_key(&r), what, true);
}

static void inf_watch_done(struct informer *f, CURLcode res, long code)
{
	struct k8s_response r = {.code = code, .result = res, .body = f->body, .len = f->len};
	char what[768];

	snprintf(r.error, sizeof(r.error), "%s", f->errbuf);
	if (f->expired || (res == CURLE_OK && code == 410)) {
		// Our resourceVersion was compacted away: what changed meanwhile is unknown, so
		// list again; the cache then applies the difference.
		K8S_LOG(INFO, "watch %s (%s): resourceVersion %s expired (%s); listing again",
			f->ki->gr, inf_scope(f), f->rv, f->expired ? f->stream_msg : "410 Gone");
		f->need_list = true;
		f->state = INF_START;
		return;
	}
	if (f->stream_error) {
		inf_failed(f, "watch", -3000, f->stream_msg, true);
		return;
	}
	if ((res == CURLE_OK || res == CURLE_OPERATION_TIMEDOUT) && code == 200) {
		// The server's timeoutSeconds: the normal end of a watch; resume from rv. A watch
		// the server ends at once with nothing in it is a failure in disguise.
		if (f->events == 0 && k8s_now_ms() - f->started_ms < WATCH_SHORT_MS) {
			inf_failed(f, "watch", -4000, "the server ended the watch at once", true);
			return;
		}
		inf_ok(f, "watch", K8S_BO_WATCH_END);
		f->state = INF_START;
		return;
	}
	k8s_response_describe(&r, what, sizeof(what));
	inf_failed(f, "watch", k8s_response_error_key(&r), what, true);
}

static void inf_done(struct informer *f, CURLcode res)
{
	long code = 0;

	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(f->w->multi, f->h);
	curl_slist_free_all(f->hdrs);
	f->hdrs = NULL;
	if (res == CURLE_OK && code == 401)
		k8s_client_token_invalidate(f->w->c);
	if (f->state == INF_LIST)
		inf_list_done(f, res, code);
	else
		inf_watch_done(f, res, code);
}

static void *watcher_main(void *arg)
{
	struct k8s_watcher *w = arg;

	while (!atomic_load(&w->stop)) {
		uint64_t now = k8s_now_ms(), next = now + POLL_MAX_MS;
		int running, left;
		CURLMsg *msg;

		for (int k = 0; k < K8S_KIND_MAX; k++) {
			struct informer *f = &w->inf[k];
			if (f->state == INF_WAIT && now >= f->wait_until_ms)
				f->state = INF_START;
			if (f->state == INF_START)
				inf_start(f);
			if (f->state == INF_WAIT && f->wait_until_ms < next)
				next = f->wait_until_ms;
		}
		curl_multi_perform(w->multi, &running);
		while ((msg = curl_multi_info_read(w->multi, &left))) {
			struct informer *f;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
			inf_done(f, msg->data.result);
		}
		now = k8s_now_ms();
		bool pending = false;
		for (int k = 0; k < K8S_KIND_MAX; k++)
			pending |= w->inf[k].state == INF_START;
		if (pending)
			continue;
		curl_multi_poll(w->multi, NULL, 0, next > now ? (int)(next - now) : 0, NULL);
	}
	return NULL;
}

struct k8s_watcher *k8s_watcher_start(struct k8s_client *c, const char *ns, struct k8s_queue *q)
{
	struct k8s_watcher *w = calloc(1, sizeof(*w));
	int rc;

	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->c = c;
	w->q = q;
	snprintf(w->ns, sizeof(w->ns), "%s", ns ? ns : "");
	w->multi = curl_multi_init();
	if (!w->multi)
		goto nomem;
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		struct informer *f = &w->inf[k];
		f->w = w;
		f->kind = (enum k8s_kind)k;
		f->ki = k8s_kind_info(f->kind);
		f->stream.keep = k8s_keep_of(f->kind);
		f->state = INF_START;
		f->need_list = true;
		f->seed = (uint32_t)(k8s_now_ms() * 2654435761u) ^ (uint32_t)k;
		f->bo.seed = f->seed;
		f->h = curl_easy_init();
		if (!f->h)
			goto nomem;
	}
	rc = pthread_create(&w->thread, NULL, watcher_main, w);
	if (rc) {
		errno = rc;
		goto fail;
	}
	pthread_setname_np(w->thread, "strait-k8s");
	return w;
nomem:
	errno = ENOMEM;
fail:
	for (int k = 0; k < K8S_KIND_MAX; k++)
		if (w->inf[k].h)
			curl_easy_cleanup(w->inf[k].h);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	free(w);
	return NULL;
}

void k8s_watcher_stop(struct k8s_watcher *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		struct informer *f = &w->inf[k];
		if (f->state == INF_LIST || f->state == INF_WATCH)
			curl_multi_remove_handle(w->multi, f->h);
		curl_easy_cleanup(f->h);
		curl_slist_free_all(f->hdrs);
		k8s_stream_reset(&f->stream);
		json_decref(f->items);
		free(f->body);
	}
	curl_multi_cleanup(w->multi);
	free(w);
}
