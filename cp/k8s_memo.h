/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The incremental reconcile's memo (k8s_memo.c): per source object of a kind whose row says
 * `memo` (k8s_source.h), the result and mappings its last build gave, and what that build
 * read (k8s_build_dep()). A pass takes a source from the memo unless the object itself, or
 * something it read, changed since: the caches' change logs (struct k8s_cache.dirty) name
 * what changed, and k8s_memo_begin() drops every entry that depends on it. What a memo'd
 * source gives is what its build would give again: the same inputs, the same function.
 *
 * Everything is dropped (every source recomputed) when the reconcile's parameters change (a
 * reload), when an AddressPool changes (every object's admission), when a change could not be
 * logged, and when k8s_reconcile_incremental is false.
 *
 * Control thread only; the memo lives in its store (k8s_store.memo) and goes with it.
 */
#ifndef STRAIT_K8S_MEMO_H
#define STRAIT_K8S_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/config.h>
#include <strait/k8s_cache.h>
#include <strait/k8s_reconcile.h>

/** One source object's last build. */
struct k8s_memo_entry {
	// What every pass reads of every entry first (k8s_reconcile()'s walk, memo_emit()), the
	// result's own first fields next: a line or two an entry, not one at each end of a
	// 2 KB result.
	bool source;		  /**< decode() said it is a source; false: skipped */
	struct cfg_mapping *maps; /**< owned, n_maps (none when the result is not valid) */
	unsigned int n_maps;
	/** maps[i]'s identity, first_id + i: unique to this entry (never given again), so that a
	 *  mapping with the same id is this one, byte for byte (k8s_desired.ids) */
	uint64_t first_id;
	/** the memo's own and one per desired set whose mappings share these ones' backends
	 *  (k8s_memo_entry_hold()): the last release frees the entry */
	unsigned int refs;
	/** where k8s_memo_get_at() last found it: 1 + its object's place in its kind's cache
	 *  order, 0 = none */
	size_t at;
	json_t *deps;	       /**< what build() read: "<kind>:<key>" strings */
	uint64_t dep_kinds;    /**< kinds read whole */
	struct k8s_result res; /**< before conflicts; advertised owned */
};

struct k8s_memo;

/**
 * Start a pass over store @p s: create its memo on first use, drop every entry made stale by
 * the changes the caches logged since the last pass (and everything when @p params_hash
 * differs from the last pass's), and empty the logs. @return the memo, or NULL without
 * memory for it (the pass then recomputes every source).
 */
struct k8s_memo *k8s_memo_begin(struct k8s_store *s, uint64_t params_hash);

/** Change logs (struct k8s_cache.dirty) k8s_memo_begin() emptied since start: only those
 *  that held some are (tests). */
extern unsigned long k8s_memo_dirty_cleared;

/** The entry of object @p key of @p kind, or NULL (recompute it). */
const struct k8s_memo_entry *k8s_memo_get(struct k8s_memo *m, enum k8s_kind kind, const char *key);

/**
 * Keep what the build of object @p key of @p kind gave: @p r (NULL: not a source; its
 * advertised list is shared, a reference taken: changed by neither after) and its @p n
 * mappings @p maps (copied), read @p deps (a reference taken: not changed after) and
 * @p dep_kinds. Without memory nothing is kept (it is recomputed next pass).
 * @return the kept mappings' first id (struct k8s_memo_entry.first_id), or 0: not kept.
 */
/** k8s_memo_get() lookups by key since start (tests: k8s_memo_get_at() finds most by place). */
extern unsigned long k8s_memo_key_lookups;

/**
 * k8s_memo_get() of the object @p key at place @p i of the @p n objects of kind @p kind in
 * cache order. The entry found is remembered at that place, and found there again by the
 * next passes without a lookup by key, until it is dropped or the cache is reordered (a key
 * added or deleted, a relist: k8s_cache.reordered); a modified object keeps its place.
 */
const struct k8s_memo_entry *k8s_memo_get_at(struct k8s_memo *m, enum k8s_kind kind, size_t i,
					     size_t n, const char *key);

/**
 * A hint for a walk in cache order at place @p i of the @p n objects of kind @p kind: the
 * entry remembered a few places on is prefetched (its first two lines, what a pass reads),
 * and the list that memo_emit() takes a reference on of one nearer. The entries are an
 * allocation each: at 10,000 objects the walk is a miss an object otherwise. Reads nothing
 * that it does not own; no effect on any result.
 */
void k8s_memo_prefetch_at(const struct k8s_memo *m, enum k8s_kind kind, size_t i, size_t n);

uint64_t k8s_memo_put(struct k8s_memo *m, enum k8s_kind kind, const char *key,
		      const struct k8s_result *r, const struct cfg_mapping *maps, unsigned int n,
		      json_t *deps, uint64_t dep_kinds);

/** Keep @p e (and its mappings' backends) alive until k8s_memo_entry_release(), whatever
 *  the memo drops meanwhile. */
void k8s_memo_entry_hold(const struct k8s_memo_entry *e);
void k8s_memo_entry_release(struct k8s_memo_entry *e);

/** How many mappings the last pass built (before conflicts): the next one's first size. */
unsigned int k8s_memo_maps_hint(const struct k8s_memo *m);
void k8s_memo_set_maps_hint(struct k8s_memo *m, unsigned int n);

/**
 * The conflicts' outcome of the last pass, if it settled the same claims: @p sig (a hash of
 * every result's claim_fp and validity, in order, and of the other sources' keys) equal to
 * the last k8s_memo_set_settled()'s and as many results. Then each valid one of @p res gets
 * that pass's outcome (accepted; or failed, with its reason and messages). @return whether so.
 */
bool k8s_memo_settled(struct k8s_memo *m, uint64_t sig, struct k8s_result *res, unsigned int n);
/** Keep the outcome of settling @p n results @p res under @p sig (without memory: none);
 *  @p was_valid: which were valid before (the others the conflicts did not read). */
void k8s_memo_set_settled(struct k8s_memo *m, uint64_t sig, const struct k8s_result *res,
			  const bool *was_valid, unsigned int n);

/** Drop every entry (after a failed pass), and the slice index. */
void k8s_memo_flush(struct k8s_memo *m);

/**
 * The index of IPv4 EndpointSlices by Service that a pass built ("namespace/service-name" →
 * [slice keys], in cache order: k8s_service.c), kept for the next passes while no slice is
 * added, deleted or moves to another Service, namespace or addressType and the cache keeps
 * its order (k8s_cache.reordered): k8s_memo_begin() drops it otherwise. A pass that builds
 * one Service then looks its slices up instead of indexing every slice of the cluster.
 * @return the index, borrowed, or NULL (none kept: build it and k8s_memo_set_slices()).
 */
/**
 * The answers of kind @p kind's source row's ours() (k8s_source.h: a function of the object
 * and the parameters only) for each of its @p n cached objects in cache order, as the last
 * pass kept them (k8s_memo_set_ours()), or NULL: the cache changed since (a change logged, a
 * key added or deleted, a relist), the parameters changed, or none kept. @p yes: how many
 * are true.
 */
const bool *k8s_memo_ours(const struct k8s_memo *m, enum k8s_kind kind, size_t n, size_t *yes);
/** Keep @p v (malloc'd, @p n answers, @p yes of them true; taken over) for the next passes. */
void k8s_memo_set_ours(struct k8s_memo *m, enum k8s_kind kind, bool *v, size_t n, size_t yes);

json_t *k8s_memo_slices(struct k8s_memo *m);
/** Keep @p ix (a reference is taken; NULL drops the kept one). */
void k8s_memo_set_slices(struct k8s_memo *m, json_t *ix);

#endif
