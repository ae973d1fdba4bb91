/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The incremental reconcile's memo (k8s_memo.h): entries by "<kind>:<key>" (the same string
 * as a dependency on that object, k8s_build_dep_key()), and the reverse index dependency →
 * entries that read it, so that a change costs the entries it touches, not a scan.
 *
 * Memory: a copy of every memo'd source's result (~2 KB) and mappings (~2.3 KB each, plus
 * backends): ~30 MB at 2,800 sources and 10,000 mappings (cp_scale_bench).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>

#include "k8s_build.h"
#include "k8s_memo.h"
#include "k8s_perpod.h"
#include "k8s_service.h"

/* The switch of include/strait/k8s_reconcile.h: here, where it is read, so that the memo
 * does not call back into the reconcile. */
bool k8s_reconcile_incremental = true;

struct k8s_memo {
	uint64_t params_hash;
	json_t *entries; /* "<kind>:<key>" → integer: struct k8s_memo_entry * */
	json_t *rev;	 /* dependency → {entry key: null} */
	unsigned int kind_users[K8S_KIND_MAX]; /* entries that read kind k whole */
	unsigned int maps_hint;		       /* mappings built by the last pass */
	/* the EndpointSlice index of the last pass (k8s_memo_slices()), or NULL */
	json_t *slices;
	/* the last settled conflicts (k8s_memo_set_settled()): signature, results, and the
	 * outcome of those not accepted (most are: only they are kept), by result index */
	uint64_t settled_sig;
	unsigned int settled_n;
	bool settled;
	struct settled_out *outs;
	unsigned int n_outs;
	/* per kind: the source row's ours() of each cached object (k8s_memo_ours()), or NULL */
	bool *ours[K8S_KIND_MAX];
	size_t n_ours[K8S_KIND_MAX], yes_ours[K8S_KIND_MAX];
	/* per kind: the entry of each cached object, by its place in cache order, where
	 * k8s_memo_get_at() found one (else NULL); n_at[k] places */
	struct k8s_memo_entry **at[K8S_KIND_MAX];
	size_t n_at[K8S_KIND_MAX];
};

struct settled_out {
	unsigned int index;
	bool valid, conflict;
	char reason[K8S_REASON_MAX];
	char message[K8S_MESSAGE_MAX];
	char conflict_message[K8S_MESSAGE_MAX];
};

#define DEP_MAX (2 * K8S_NAME_MAX + 16)

/* The next memo'd mapping's id (struct k8s_memo_entry.first_id): never 0, never given twice
 * in a process, whatever store, so that an id names one mapping's bytes for good. */
static uint64_t next_id = 1;

static struct k8s_memo_entry *entry_of(json_t *v)
{
	return v ? (struct k8s_memo_entry *)(intptr_t)json_integer_value(v) : NULL;
}

static void entry_free(struct k8s_memo_entry *e)
{
	if (--e->refs > 0) // a desired set still shares its mappings' backends
		return;
	for (unsigned int i = 0; i < e->n_maps; i++)
		cfg_mapping_free(&e->maps[i]);
	free(e->maps);
	json_decref(e->res.advertised);
	json_decref(e->deps);
	free(e);
}

/* Forget where entry @p e was found (k8s_memo_get_at()): it leaves the memo. */
static void at_forget(struct k8s_memo *m, struct k8s_memo_entry *e)
{
	for (int k = 0; e->at && k < K8S_KIND_MAX; k++)
		if (e->at <= m->n_at[k] && m->at[k][e->at - 1] == e)
			m->at[k][e->at - 1] = NULL;
	e->at = 0;
}

static void at_drop(struct k8s_memo *m, int kind)
{
	for (size_t i = 0; i < m->n_at[kind]; i++)
		if (m->at[kind][i])
			m->at[kind][i]->at = 0;
	free(m->at[kind]);
	m->at[kind] = NULL;
	m->n_at[kind] = 0;
}

/* Drop entry @p ekey, if any, and its reverse-index links. */
static void drop(struct k8s_memo *m, const char *ekey)
{
	struct k8s_memo_entry *e = entry_of(json_object_get(m->entries, ekey));
	json_t *d;
	size_t i;

	if (!e)
		return;
	json_array_foreach(e->deps, i, d) {
		json_t *set = json_object_get(m->rev, json_string_value(d));
		json_object_del(set, ekey);
		if (set && json_object_size(set) == 0)
			json_object_del(m->rev, json_string_value(d));
	}
	for (int k = 0; k < K8S_KIND_MAX; k++)
		if (e->dep_kinds & (1ull << k))
			m->kind_users[k]--;
	at_forget(m, e);
	entry_free(e);
	json_object_del(m->entries, ekey);
}

/* Drop every entry whose key is in JSON array @p keys. */
static void drop_all(struct k8s_memo *m, json_t *keys)
{
	json_t *k;
	size_t i;

	json_array_foreach(keys, i, k)
		drop(m, json_string_value(k));
}

/* Drop the entries that read dependency @p dep. @return 0 or -ENOMEM. */
static int invalidate(struct k8s_memo *m, const char *dep)
{
	json_t *set = json_object_get(m->rev, dep), *keys, *v;
	const char *ek;

	if (!set)
		return 0;
	if (!(keys = json_array()))
		return -ENOMEM;
	json_object_foreach(set, ek, v)
		if (json_array_append_new(keys, json_string(ek)) < 0) {
			json_decref(keys);
			return -ENOMEM;
		}
	drop_all(m, keys);
	json_decref(keys);
	return 0;
}

/* Drop the entries that read kind @p kind whole. @return 0 or -ENOMEM. */
static int invalidate_kind(struct k8s_memo *m, enum k8s_kind kind)
{
	json_t *keys = json_array(), *v;
	const char *ek;

	if (!keys)
		return -ENOMEM;
	json_object_foreach(m->entries, ek, v)
		if (entry_of(v)->dep_kinds & (1ull << kind) &&
		    json_array_append_new(keys, json_string(ek)) < 0) {
			json_decref(keys);
			return -ENOMEM;
		}
	drop_all(m, keys);
	json_decref(keys);
	return 0;
}

unsigned int k8s_memo_maps_hint(const struct k8s_memo *m)
{
	return m->maps_hint;
}

void k8s_memo_set_maps_hint(struct k8s_memo *m, unsigned int n)
{
	m->maps_hint = n;
}

static void ours_drop(struct k8s_memo *m, int kind)
{
	free(m->ours[kind]);
	m->ours[kind] = NULL;
	m->n_ours[kind] = m->yes_ours[kind] = 0;
}

const bool *k8s_memo_ours(const struct k8s_memo *m, enum k8s_kind kind, size_t n, size_t *yes)
{
	if (!m->ours[kind] || m->n_ours[kind] != n)
		return NULL;
	*yes = m->yes_ours[kind];
	return m->ours[kind];
}

void k8s_memo_set_ours(struct k8s_memo *m, enum k8s_kind kind, bool *v, size_t n, size_t yes)
{
	ours_drop(m, kind);
	m->ours[kind] = v;
	m->n_ours[kind] = n;
	m->yes_ours[kind] = yes;
}

void k8s_memo_flush(struct k8s_memo *m)
{
	const char *ek;
	json_t *v;

	for (int k = 0; k < K8S_KIND_MAX; k++) {
		ours_drop(m, k);
		at_drop(m, k);
	}

	json_object_foreach(m->entries, ek, v)
		entry_free(entry_of(v));
	json_object_clear(m->entries);
	json_object_clear(m->rev);
	memset(m->kind_users, 0, sizeof(m->kind_users));
	json_decref(m->slices);
	m->slices = NULL;
	m->settled = false;
}

/* Whether a logged change of EndpointSlices moves one in or out of the index of slices by
 * Service (k8s_memo_slices()): added, deleted, another Service, namespace or addressType. */
static bool slices_regrouped(const struct k8s_cache *c)
{
	const char *key;
	json_t *old;

	if (c->reordered || c->dirty_lost)
		return true;
	json_object_foreach(c->dirty, key, old) {
		const json_t *now = json_object_get(c->objs, key);
		if (!now || json_is_null(old))
			return true;
		if (strcmp(k8s_str(old, "addressType", NULL), k8s_str(now, "addressType", NULL)) ||
		    strcmp(k8s_str(old, "metadata", "namespace", NULL),
			   k8s_str(now, "metadata", "namespace", NULL)) ||
		    strcmp(k8s_str(old, "metadata", "labels", "kubernetes.io/service-name", NULL),
			   k8s_str(now, "metadata", "labels", "kubernetes.io/service-name", NULL)))
			return true;
	}
	return false;
}

json_t *k8s_memo_slices(struct k8s_memo *m)
{
	return m->slices;
}

void k8s_memo_set_slices(struct k8s_memo *m, json_t *ix)
{
	json_decref(m->slices);
	m->slices = json_incref(ix);
}

static void memo_free(void *p)
{
	struct k8s_memo *m = p;

	k8s_memo_flush(m);
	free(m->outs);
	json_decref(m->entries);
	json_decref(m->rev);
	free(m);
}

/* The groups changed object @p obj (borrowed, may be NULL or JSON null) of @p kind is read
 * through: itself, or its Service's slices, or its set's Pods. */
static int invalidate_obj(struct k8s_memo *m, enum k8s_kind kind, const json_t *obj)
{
	char g[2 * K8S_NAME_MAX + 2], dep[DEP_MAX];

	if (!obj || json_is_null(obj))
		return 0;
	if (kind == K8S_KIND_ENDPOINTSLICE)
		k8s_service_slice_key(obj, g, sizeof(g));
	else if (kind == K8S_KIND_POD)
		k8s_perpod_set_key(obj, g, sizeof(g));
	else
		return 0;
	return g[0] ? invalidate(m, k8s_build_dep_key(kind, g, dep, sizeof(dep))) : 0;
}

/* Drop what the logged changes of kind @p kind make stale. @return 0 or -ENOMEM. */
static int invalidate_changes(struct k8s_memo *m, const struct k8s_cache *c, enum k8s_kind kind)
{
	char dep[DEP_MAX];
	const char *key;
	json_t *old;
	int rc = 0;

	json_object_foreach(c->dirty, key, old) {
		k8s_build_dep_key(kind, key, dep, sizeof(dep));
		drop(m, dep);			     // the object's own entry, when it is a source
		if ((rc = invalidate(m, dep)) < 0 || // read by name (a Service, a StatefulSet)
		    (rc = invalidate_obj(m, kind, old)) < 0 ||
		    (rc = invalidate_obj(m, kind, json_object_get(c->objs, key))) < 0)
			return rc;
	}
	if (json_object_size(c->dirty) && m->kind_users[kind])
		rc = invalidate_kind(m, kind);
	return rc;
}

unsigned long k8s_memo_dirty_cleared;

struct k8s_memo *k8s_memo_begin(struct k8s_store *s, uint64_t params_hash)
{
	struct k8s_memo *m = s->memo;
	bool flush = !k8s_reconcile_incremental;

	if (!m) {
		m = calloc(1, sizeof(*m));
		if (m && (!(m->entries = json_object()) || !(m->rev = json_object()))) {
			json_decref(m->entries);
			free(m);
			m = NULL;
		}
		if (m) {
			s->memo = m;
			s->memo_free = memo_free;
			m->params_hash = params_hash;
		}
	}
	if (m && m->params_hash != params_hash)
		flush = true;
	for (int k = 0; k < K8S_KIND_MAX; k++)
		flush |= s->c[k].dirty_lost ||
			 (k == K8S_KIND_ADDRESSPOOL && json_object_size(s->c[k].dirty));
	for (int k = 0; m && !flush && k < K8S_KIND_MAX; k++)
		if (json_object_size(s->c[k].dirty) && invalidate_changes(m, &s->c[k], k) < 0)
			flush = true;
	if (m && flush)
		k8s_memo_flush(m);
	if (m && m->slices && slices_regrouped(&s->c[K8S_KIND_ENDPOINTSLICE]))
		k8s_memo_set_slices(m, NULL);
	if (m)
		m->params_hash = params_hash;
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		// An object changed, came or went, or moved: ours() is asked again.
		if (m &&
		    (json_object_size(s->c[k].dirty) || s->c[k].dirty_lost || s->c[k].reordered))
			ours_drop(m, k);
		if (m && (s->c[k].dirty_lost || s->c[k].reordered)) // places moved
			at_drop(m, k);
		// Only a log that holds some, and dropped, not cleared: json_object_clear() walks
		// every bucket of the table, as large as the log ever was (every object after a
		// list) however few it holds; the next change makes a small one.
		if (json_object_size(s->c[k].dirty)) {
			json_decref(s->c[k].dirty);
			s->c[k].dirty = NULL;
			k8s_memo_dirty_cleared++;
		}
		s->c[k].dirty_lost = false;
		s->c[k].reordered = false;
	}
	return m;
}

unsigned long k8s_memo_key_lookups;

const struct k8s_memo_entry *k8s_memo_get(struct k8s_memo *m, enum k8s_kind kind, const char *key)
{
	char ek[DEP_MAX];

	k8s_memo_key_lookups++;
	return entry_of(json_object_get(m->entries, k8s_build_dep_key(kind, key, ek, sizeof(ek))));
}

const struct k8s_memo_entry *k8s_memo_get_at(struct k8s_memo *m, enum k8s_kind kind, size_t i,
					     size_t n, const char *key)
{
	if (m->n_at[kind] == n && i < n && m->at[kind][i])
		return m->at[kind][i];
	struct k8s_memo_entry *e = (struct k8s_memo_entry *)(uintptr_t)k8s_memo_get(m, kind, key);
	if (!e || i >= n)
		return e;
	if (m->n_at[kind] != n) {
		at_drop(m, kind);
		if (!(m->at[kind] = calloc(n, sizeof(*m->at[kind]))))
			return e; // found by key again next time
		m->n_at[kind] = n;
	}
	at_forget(m, e);
	if (m->at[kind][i])
		m->at[kind][i]->at = 0;
	m->at[kind][i] = e;
	e->at = i + 1;
	return e;
}

/* How far ahead k8s_memo_prefetch_at() fetches an entry, and the list of one nearer. */
#define AT_AHEAD      8
#define AT_AHEAD_LIST 4

void k8s_memo_prefetch_at(const struct k8s_memo *m, enum k8s_kind kind, size_t i, size_t n)
{
	const struct k8s_memo_entry *e;

	if (m->n_at[kind] != n)
		return;
	if (i + AT_AHEAD < n && (e = m->at[kind][i + AT_AHEAD])) {
		__builtin_prefetch(e);
		__builtin_prefetch((const char *)e + 64);
	}
	// fetched AT_AHEAD - AT_AHEAD_LIST places ago: its line is in, most often
	if (i + AT_AHEAD_LIST < n && (e = m->at[kind][i + AT_AHEAD_LIST]) && e->res.advertised)
		__builtin_prefetch(e->res.advertised, 1);
}

uint64_t k8s_memo_put(struct k8s_memo *m, enum k8s_kind kind, const char *key,
		      const struct k8s_result *r, const struct cfg_mapping *maps, unsigned int n,
		      json_t *deps, uint64_t dep_kinds)
{
	struct k8s_memo_entry *e = calloc(1, sizeof(*e));
	char ek[DEP_MAX];
	json_t *d;
	size_t i;

	k8s_build_dep_key(kind, key, ek, sizeof(ek));
	drop(m, ek);
	if (!e)
		return 0;
	e->refs = 1;
	e->source = r != NULL;
	if (r) {
		e->res = *r;
		// Shared with the result, as memo_emit() shares it: neither changes it (a pass
		// replaces a failed result's list, k8s_desired_isolate()).
		e->res.advertised = json_incref(r->advertised);
		if (!e->res.advertised)
			goto fail;
	}
	if (n && !(e->maps = calloc(n, sizeof(*e->maps))))
		goto fail;
	for (; e->n_maps < n; e->n_maps++)
		if (cfg_mapping_copy(&e->maps[e->n_maps], &maps[e->n_maps]) < 0)
			goto fail;
	e->deps = deps ? json_incref(deps) : json_array(); // the build drops its own after
	e->dep_kinds = dep_kinds;
	if (!e->deps)
		goto fail;
	json_t *v = json_integer((json_int_t)(intptr_t)e);
	if (json_object_set_new(m->entries, ek, v) < 0)
		goto fail;
	for (int k = 0; k < K8S_KIND_MAX; k++)
		if (dep_kinds & (1ull << k))
			m->kind_users[k]++;
	json_array_foreach(e->deps, i, d) {
		const char *dk = json_string_value(d);
		json_t *set = json_object_get(m->rev, dk);
		if (!set && json_object_set_new(m->rev, dk, set = json_object()) < 0) {
			drop(m, ek); // unlinks what was linked, frees e
			return 0;
		}
		if (json_object_set_new(set, ek, json_null()) < 0) {
			drop(m, ek);
			return 0;
		}
	}
	e->first_id = next_id;
	next_id += n ? n : 1;
	return e->first_id;
fail:
	entry_free(e);
	return 0;
}

void k8s_memo_entry_hold(const struct k8s_memo_entry *e)
{
	((struct k8s_memo_entry *)(uintptr_t)e)->refs++;
}

void k8s_memo_entry_release(struct k8s_memo_entry *e)
{
	if (e)
		entry_free(e);
}

bool k8s_memo_settled(struct k8s_memo *m, uint64_t sig, struct k8s_result *res, unsigned int n)
{
	unsigned int o = 0;

	if (!m->settled || m->settled_sig != sig || m->settled_n != n)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		struct k8s_result *r = &res[i];
		if (o < m->n_outs && m->outs[o].index == i) {
			const struct settled_out *x = &m->outs[o++];
			r->valid = x->valid;
			r->conflict = x->conflict;
			r->accepted = false;
			memcpy(r->reason, x->reason, sizeof(r->reason));
			memcpy(r->message, x->message, sizeof(r->message));
			memcpy(r->conflict_message, x->conflict_message,
			       sizeof(r->conflict_message));
		} else {
			r->accepted = r->valid;
		}
	}
	return true;
}

void k8s_memo_set_settled(struct k8s_memo *m, uint64_t sig, const struct k8s_result *res,
			  const bool *was_valid, unsigned int n)
{
	unsigned int n_outs = 0;

	m->settled = false;
	for (unsigned int i = 0; i < n; i++)
		n_outs += was_valid[i] && !res[i].accepted;
	free(m->outs);
	m->outs = NULL;
	m->n_outs = 0;
	if (n_outs && !(m->outs = calloc(n_outs, sizeof(*m->outs))))
		return;
	for (unsigned int i = 0; i < n; i++) {
		const struct k8s_result *r = &res[i];
		if (!was_valid[i] || r->accepted)
			continue;
		struct settled_out *x = &m->outs[m->n_outs++];
		x->index = i;
		x->valid = r->valid;
		x->conflict = r->conflict;
		memcpy(x->reason, r->reason, sizeof(x->reason));
		memcpy(x->message, r->message, sizeof(x->message));
		memcpy(x->conflict_message, r->conflict_message, sizeof(x->conflict_message));
	}
	m->settled_sig = sig;
	m->settled_n = n;
	m->settled = true;
}
