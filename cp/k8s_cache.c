/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-kind caches of the informers.
 *
 * A cache is a jansson object used as a hash table from "namespace/name" to the object as the
 * API server last sent it (minus managedFields, which only cost memory, and what the kind's
 * informer does not keep; an EndpointSlice's endpoints packed: k8s_service.h). Change detection uses
 * metadata.resourceVersion, which the API server bumps on every write: equal versions are the
 * same object, whatever the serialization.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>

int k8s_store_init(struct k8s_store *s)
{
	memset(s, 0, sizeof(*s));
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		s->c[k].objs = json_object();
		// The kinds whose status a build reads: a Service's (LoadBalancer address kept),
		// a VirtualService's, a Gateway's (their addresses), a Pod's and a Node's. And
		// EndpointSlices, which strait never writes: no echo of ours comes back, and a new
		// version is nearly always a change, found only after comparing half its
		// endpoints (~17 k instructions each at 50 endpoints).
		s->c[k].status_unread = k != K8S_KIND_SERVICE && k != K8S_KIND_VIRTUALSERVICE &&
					k != K8S_KIND_GATEWAY && k != K8S_KIND_POD &&
					k != K8S_KIND_NODE && k != K8S_KIND_ENDPOINTSLICE;
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
		json_decref(s->c[k].dirty);
		json_decref(s->c[k].touched);
		s->c[k].objs = NULL;
		s->c[k].dirty = NULL;
		s->c[k].touched = NULL;
	}
	if (s->memo && s->memo_free)
		s->memo_free(s->memo);
	s->memo = NULL;
}

/* Tell the status writers that @p key's object changed. @return 0 or -ENOMEM. */
static int touch(struct k8s_cache *c, const char *key)
{
	if (!c->touched && !(c->touched = json_object()))
		return -ENOMEM;
	return json_object_set_new(c->touched, key, json_true()) < 0 ? -ENOMEM : 0;
}

/* Log that @p key changed; @p old is what it was before (NULL: absent). Only the first
 * change since the reconcile took the log is kept: the reconcile needs what it last saw. */
static void dirty_mark(struct k8s_cache *c, const char *key, json_t *old)
{
	if (touch(c, key) < 0)
		c->touch_lost = true;
	if (!c->dirty && !(c->dirty = json_object())) {
		c->dirty_lost = true;
		return;
	}
	if (json_object_get(c->dirty, key))
		return;
	if (json_object_set_new(c->dirty, key, old ? json_incref(old) : json_null()) < 0)
		c->dirty_lost = true;
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

/* What no reconcile reads of an object whose status it does not read, per level: the object,
 * its metadata, its annotations (each level's nested object is the next level's). */
static const char *const unread[][3] = {
	{"status", NULL},
	{"resourceVersion", "managedFields", NULL},
	{K8S_ANN_ADVERTISED, NULL},
};
static const char *const nested[] = {"metadata", "annotations", NULL};

static bool is_unread(unsigned int lvl, const char *key)
{
	for (unsigned int i = 0; unread[lvl][i]; i++)
		if (strcmp(unread[lvl][i], key) == 0)
			return true;
	return false;
}

/* Whether @p a and @p b are equal but for what is_unread() names. */
static bool same_but_unread(json_t *a, json_t *b, unsigned int lvl)
{
	size_t na = 0, nb = 0;
	const char *key;
	json_t *va, *vb;

	if (!json_is_object(a) || !json_is_object(b))
		return k8s_json_equal(a, b);
	json_object_foreach(a, key, va) {
		if (is_unread(lvl, key))
			continue;
		na++;
		if (!(vb = json_object_get(b, key)))
			return false;
		if (nested[lvl] && strcmp(key, nested[lvl]) == 0 ? !same_but_unread(va, vb, lvl + 1)
								 : !k8s_json_equal(va, vb))
			return false;
	}
	json_object_foreach(b, key, vb)
		nb += !is_unread(lvl, key);
	return na == nb;
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
		dirty_mark(c, key, old);
		json_object_del(c->objs, key);
		c->reordered = true;
		return 1;
	}
	if (old && same_version(old, obj)) {
		// The cached object itself, given again: it may have been changed in place (tests
		// do), which no version tells. Log it, so that what read it is recomputed.
		if (old == obj)
			dirty_mark(c, key, old);
		return 0;
	}
	if (old && c->status_unread && same_but_unread(old, obj, 0)) {
		// Nothing a build reads changed (the echo of a status write): keep the cache
		// current for the status writers, tell them, and log nothing. Whatever read the
		// old object holds it by key (or its own reference), not by pointer.
		if (touch(c, key) < 0)
			return -ENOMEM;
		return json_object_set(c->objs, key, obj) < 0 ? -ENOMEM : 0;
	}
	json_incref(old); // the log's reference must outlive the replacement
	if (json_object_set(c->objs, key, obj)) {
		json_decref(old);
		return -ENOMEM;
	}
	dirty_mark(c, key, old);
	c->reordered |= old == NULL; // appended
	json_decref(old);
	return 1;
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
		if (json_object_set(next, kbuf, it)) {
			json_decref(next);
			return -ENOMEM;
		}
	}
	// Count and log once the new set is whole (nothing is logged for a failed replace); a
	// key listed twice counts once, with its last object, as it is cached.
	json_object_foreach(next, key, it) {
		old = json_object_get(c->objs, key);
		if (!old || !same_version(old, it)) {
			(*changed)++;
			dirty_mark(c, key, old);
		}
	}
	json_object_foreach(c->objs, key, old)
		if (!json_object_get(next, key)) {
			(*changed)++;
			dirty_mark(c, key, old);
		}
	json_decref(c->objs);
	c->objs = next;
	c->reordered = true; // in the list's order now
	return 0;
}

json_t *k8s_cache_get(const struct k8s_cache *c, const char *ns, const char *name)
{
	char key[2 * 256];

	snprintf(key, sizeof(key), "%s%s%s", ns, ns[0] ? "/" : "", name);
	return json_object_get(c->objs, key);
}
