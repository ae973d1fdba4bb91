/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source kinds: the Kubernetes kinds whose objects are sources of mappings. Each has one row,
 * a struct k8s_source named `k8s_source_<name>`, defined in its own file cp/k8s_<name>.c and
 * named in its kind's K8S_KINDS row (strait/k8s_kinds.h), which says where it is served. The
 * reconcile pass (k8s_reconcile.c) and the reporting (k8s.c) go through the rows only.
 *
 * Adding a source kind: write cp/k8s_<name>.c with its decoder, builder (k8s_build.h, and the
 * building blocks k8s_service.h and k8s_perpod.h) and row; name the row in a K8S_KINDS row.
 *
 * The same rows name each kind's keep: what its informer keeps of an object as it decodes
 * it (k8s_keep_of()), a `k8s_keep_<keep>` list defined beside the code that reads the kind.
 */
#ifndef STRAIT_K8S_SOURCE_H
#define STRAIT_K8S_SOURCE_H

#include <stddef.h>

#include <jansson.h>

#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_reconcile.h>

#include "k8s_report.h"

struct k8s_build;

/** How objects of one kind become mappings, conflict and are reported. Control thread. */
struct k8s_source {
	/** Reason of a result whose input is bad (decode's -EINVAL, a port used twice). */
	const char *invalid_reason;
	/** Size of the decoded spec decode() fills. */
	size_t spec_size;
	/**
	 * Whether @p obj is a source in this pass by what only the parameters tell (a
	 * LoadBalancer Service without a class is strait's when it is the default), checked
	 * before decode(); NULL = decode() alone decides.
	 */
	bool (*ours)(const json_t *obj, const struct k8s_reconcile_params *p);
	/**
	 * Decode @p obj into @p spec (spec_size bytes, zeroed).
	 * @return 1: a source, @p spec filled; 0: not a source, skipped (nothing held);
	 *         -EINVAL with @p err: a source whose input is bad (the result says
	 *         invalid_reason and @p err); -ENOMEM.
	 */
	int (*decode)(const json_t *obj, void *spec, char *err, size_t errlen);
	/** Release what decode() put in @p spec after it returned 1; NULL when nothing. */
	void (*spec_free)(void *spec);
	/**
	 * Append @p r's mappings to @p b (k8s_build_map(); r->first_map, r->n_maps) and its
	 * advertised entries, or fail @p r (k8s_result_fail()). @return 0 or -ENOMEM.
	 */
	int (*build)(struct k8s_build *b, struct k8s_result *r, void *spec);
	/** Conflict age: the RFC 3339 time ordering sources (oldest wins; "" = youngest). */
	const char *(*age)(const json_t *obj);
	/**
	 * Whether a result and mappings may be kept from one pass to the next until the object
	 * or what build() read changes (the incremental reconcile, k8s_memo.h): true only when
	 * build() reads the store through the recording helpers alone (k8s_build_dep(): the
	 * building blocks k8s_service.h and k8s_perpod.h record what they read).
	 */
	bool memo;
	/** report() reads only the result, its book entry, its own cached object and the
	 *  publication's error: it is not called again while none of them changed (the status
	 *  pass in proportion to the change, k8s_report_run()). False: called every pass. */
	bool report_own;
	/** Status writer of a result (k8s_report.h). */
	void (*report)(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
		       bool programmed, const char *key);
	/** For an object of the kind that is no source in this pass: undo what report() wrote
	 * (API mode), or NULL. */
	void (*orphan)(const struct k8s_report *rep, enum k8s_kind kind, const json_t *obj);
};

/* The rows, declared from K8S_KINDS: k8s_source_mapping, ..., and k8s_source_none. */
#define K8S_SOURCE_DECLARE(id, kind, av, res, gr, prefix, fb_prefix, fb_av, namespaced, sel, name, \
			   keep)                                                                   \
	extern const struct k8s_source k8s_source_##name;
K8S_KINDS(K8S_SOURCE_DECLARE)
#undef K8S_SOURCE_DECLARE

/** The source row of kind @p k, or NULL when objects of @p k are only read. */
const struct k8s_source *k8s_source_of(enum k8s_kind k);

/* What the informers keep of each object, declared from K8S_KINDS: k8s_keep_endpointslice
 * (k8s_service.h), ..., and k8s_keep_all. */
#define K8S_KEEP_DECLARE(id, kind, av, res, gr, prefix, fb_prefix, fb_av, namespaced, sel, name,   \
			 keep)                                                                     \
	extern const struct k8s_keep k8s_keep_##keep[];
K8S_KINDS(K8S_KEEP_DECLARE)
#undef K8S_KEEP_DECLARE

/**
 * What the informers of kind @p k keep of each object as they decode it (k8s_json_decode()'s
 * keep; the K8S_KINDS row's): NULL when they keep it all. Any thread.
 */
const struct k8s_keep *k8s_keep_of(enum k8s_kind k);

#endif
