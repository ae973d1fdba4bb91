/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The informers' data side: the table of kinds, the queue from the k8s thread to the control
 * thread, the watch-stream and list decoders, and the per-kind caches.
 *
 * A cache is a jansson object used as a hash table from "namespace/name" to the object as the
 * API server last sent it (minus managedFields, which only cost memory). Change detection uses
 * metadata.resourceVersion, which the API server bumps on every write: equal versions are the
 * same object, whatever the serialization.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_watch.h>

#define K8S_LINE_MAX (64u << 20)

static const struct k8s_kind_info kinds[K8S_KIND_MAX] = {
	[K8S_KIND_MAPPING] = {"Mapping", "strait.io/v1alpha1", "mappings", "mappings.strait.io",
			      "/apis/strait.io/v1alpha1", NULL, NULL, true, NULL},
	[K8S_KIND_SERVICE] = {"Service", "v1", "services", "services", "/api/v1", NULL, NULL, true,
			      NULL},
	[K8S_KIND_ENDPOINTSLICE] = {"EndpointSlice", "discovery.k8s.io/v1", "endpointslices",
				    "endpointslices.discovery.k8s.io", "/apis/discovery.k8s.io/v1",
				    "/apis/discovery.k8s.io/v1beta1", "discovery.k8s.io/v1beta1",
				    true, "kubernetes.io%2Fservice-name"},
	[K8S_KIND_STATEFULSET] = {"StatefulSet", "apps/v1", "statefulsets", "statefulsets.apps",
				  "/apis/apps/v1", NULL, NULL, true, NULL},
	// Only StatefulSet pods matter, and every one carries this label: the selector keeps a
	// big cluster's other pods off the wire.
	[K8S_KIND_POD] = {"Pod", "v1", "pods", "pods", "/api/v1", NULL, NULL, true,
			  "statefulset.kubernetes.io%2Fpod-name"},
	[K8S_KIND_NODE] = {"Node", "v1", "nodes", "nodes", "/api/v1", NULL, NULL, false, NULL},
};

const struct k8s_kind_info *k8s_kind_info(enum k8s_kind k)
{
	return &kinds[k];
}

int k8s_kind_of(const char *api_version, const char *kind)
{
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		if (strcmp(kinds[k].kind, kind) != 0)
			continue;
		if (strcmp(kinds[k].api_version, api_version) == 0 ||
		    (kinds[k].fallback_api_version &&
		     strcmp(kinds[k].fallback_api_version, api_version) == 0))
			return k;
	}
	return -1;
}

/* ---- JSON paths ---- */

static json_t *vget(const json_t *obj, va_list ap)
{
	const char *key;
	json_t *v = (json_t *)obj;

	while (v && (key = va_arg(ap, const char *)) != NULL)
		v = json_object_get(v, key);
	return v;
}

json_t *k8s_get(const json_t *obj, ...)
{
	va_list ap;
	json_t *v;

	va_start(ap, obj);
	v = vget(obj, ap);
	va_end(ap);
	return v;
}

const char *k8s_str(const json_t *obj, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, obj);
	s = json_string_value(vget(obj, ap));
	va_end(ap);
	return s ? s : "";
}

const char *k8s_obj_key(const json_t *obj, char *buf, size_t len)
{
	const char *ns = k8s_str(obj, "metadata", "namespace", NULL);

	snprintf(buf, len, "%s%s%s", ns, ns[0] ? "/" : "", k8s_str(obj, "metadata", "name", NULL));
	return buf;
}

/* ---- Queue ---- */

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

/* ---- Watch stream ---- */

void k8s_stream_reset(struct k8s_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static int stream_line(const char *line, size_t len, k8s_stream_cb cb, void *arg)
{
	json_t *ev, *obj;
	const char *type;
	int rc;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	ev = json_loadb(line, len, 0, NULL);
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		json_decref(ev);
		return -EBADMSG;
	}
	rc = cb(arg, type, obj);
	json_decref(ev);
	return rc;
}

int k8s_stream_feed(struct k8s_stream *s, const char *data, size_t len, k8s_stream_cb cb, void *arg)
{
	int ret = 0;

	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;

		// A whole line in the input and nothing buffered: decode it in place.
		if (nl && s->len == 0) {
			int rc = stream_line(data, take, cb, arg);
			if (rc > 0)
				return rc;
			if (rc < 0)
				ret = rc;
		} else {
			if (s->len + take + 1 > K8S_LINE_MAX) {
				s->len = 0;
				return -E2BIG;
			}
			if (s->len + take + 1 > s->cap) {
				size_t cap = s->cap ? s->cap : 16384;
				while (cap < s->len + take + 1)
					cap *= 2;
				char *b = realloc(s->buf, cap);
				if (!b)
					return -ENOMEM;
				s->buf = b;
				s->cap = cap;
			}
			memcpy(s->buf + s->len, data, take);
			s->len += take;
			if (nl) {
				int rc = stream_line(s->buf, s->len, cb, arg);
				s->len = 0;
				if (rc > 0)
					return rc;
				if (rc < 0)
					ret = rc;
			}
		}
		if (!nl)
			break;
		data = nl + 1;
		len -= take + 1;
	}
	return ret;
}

/* ---- Lists ---- */

int k8s_list_decode(const char *body, size_t len, json_t **items, char *rv, size_t rvlen,
		    char *cont, size_t contlen)
{
	json_t *doc = json_loadb(body, len, 0, NULL);
	json_t *it = json_object_get(doc, "items");

	*items = NULL;
	// A list with no objects has "items": [] (older servers: null).
	if (!json_is_object(doc) || !(json_is_array(it) || json_is_null(it) || !it) ||
	    !json_is_object(json_object_get(doc, "metadata"))) {
		json_decref(doc);
		return -EBADMSG;
	}
	snprintf(rv, rvlen, "%s", k8s_str(doc, "metadata", "resourceVersion", NULL));
	snprintf(cont, contlen, "%s", k8s_str(doc, "metadata", "continue", NULL));
	*items = json_is_array(it) ? json_incref(it) : json_array();
	json_decref(doc);
	return *items ? 0 : -ENOMEM;
}

/* ---- Caches ---- */

int k8s_store_init(struct k8s_store *s)
{
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		s->c[k].objs = json_object();
		if (!s->c[k].objs) {
			k8s_store_fini(s);
			return -ENOMEM;
		}
	}
	return 0;
}

void k8s_store_fini(struct k8s_store *s)
{
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		json_decref(s->c[k].objs);
		s->c[k].objs = NULL;
	}
}

static bool same_version(const json_t *a, const json_t *b)
{
	const char *ra = k8s_str(a, "metadata", "resourceVersion", NULL);
	const char *rb = k8s_str(b, "metadata", "resourceVersion", NULL);

	// Objects from files have no resourceVersion: compare them whole.
	if (!ra[0] || !rb[0])
		return json_equal((json_t *)a, (json_t *)b);
	return strcmp(ra, rb) == 0;
}

int k8s_cache_apply(struct k8s_cache *c, enum k8s_update_type type, json_t *obj)
{
	char key[2 * 256];
	json_t *old;

	k8s_obj_key(obj, key, sizeof(key));
	old = json_object_get(c->objs, key);
	if (type == K8S_UPD_DELETED) {
		if (!old)
			return 0;
		json_object_del(c->objs, key);
		return 1;
	}
	if (old && same_version(old, obj))
		return 0;
	return json_object_set(c->objs, key, obj) ? -ENOMEM : 1;
}

int k8s_cache_replace(struct k8s_cache *c, json_t *items, unsigned int *changed)
{
	json_t *next = json_object(), *it, *old;
	const char *key;
	char kbuf[2 * 256];
	size_t i;

	*changed = 0;
	if (!next)
		return -ENOMEM;
	json_array_foreach(items, i, it) {
		k8s_obj_key(it, kbuf, sizeof(kbuf));
		old = json_object_get(c->objs, kbuf);
		if (!old || !same_version(old, it))
			(*changed)++;
		if (json_object_set(next, kbuf, it)) {
			json_decref(next);
			return -ENOMEM;
		}
	}
	json_object_foreach(c->objs, key, old)
		if (!json_object_get(next, key))
			(*changed)++;
	json_decref(c->objs);
	c->objs = next;
	return 0;
}

json_t *k8s_cache_get(const struct k8s_cache *c, const char *ns, const char *name)
{
	char key[2 * 256];

	snprintf(key, sizeof(key), "%s%s%s", ns, ns[0] ? "/" : "", name);
	return json_object_get(c->objs, key);
}
