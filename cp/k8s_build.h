/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The desired state under construction, and the helpers every source kind's builder uses to
 * add to it (k8s_build.c). The builders (k8s_mapping.c, k8s_statefulset.c, and the building
 * blocks k8s_service.c and k8s_perpod.c) include this; k8s_reconcile.c owns the pass.
 *
 * All of it: control thread, no I/O, no logs.
 */
#ifndef STRAIT_K8S_BUILD_H
#define STRAIT_K8S_BUILD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/config.h>
#include <strait/k8s_cache.h>
#include <strait/k8s_reconcile.h>

/** The desired state being built: mappings are appended, results were sized up front. */
struct k8s_build {
	const struct k8s_store *s;
	const struct k8s_reconcile_params *p;
	const struct k8s_pools *pools; /**< the addresses sources may use */
	struct k8s_limits limits;      /**< p->limits with the defaults filled in */
	struct cfg_mapping *maps;
	/** per mapping: its memo id (k8s_desired.ids), 0 while unknown; cap_maps entries */
	uint64_t *ids;
	/** per mapping: its backends are a memo entry's (held[]), not its own; cap_maps */
	bool *borrowed;
	unsigned int n_maps, cap_maps;
	/** the memo entries whose backends borrowed mappings share, a reference each */
	struct k8s_memo_entry **held;
	unsigned int n_held, cap_held;
	struct k8s_result *res;
	unsigned int n_res, cap_res;
	/** the first res_kept entries of res hold an earlier pass's results, released
	 *  (k8s_results_free()): memo_emit() takes the same entry's accepted one as it is */
	unsigned int res_kept;
	/** "namespace/service-name" → [keys of the IPv4 EndpointSlices of that Service], in
	 *  cache order, built on first use in a pass (k8s_service.c), or the one the memo kept
	 *  from an earlier pass (k8s_memo_slices(), set and kept by k8s_reconcile.c): each
	 *  Service reads its own slices instead of scanning every slice of the cluster */
	json_t *slices_by_svc;
	/** per kind whose source has k8s_source.ours: its answer for each cached object, in
	 *  cache order, from the pass's first look (sizing the results), or NULL (asked again) */
	bool *ours[K8S_KIND_MAX];
	/** ours[k] is the memo's (k8s_memo_ours()), not freed with the build */
	bool ours_kept[K8S_KIND_MAX];
	/** with ours[k]: 1 + the last place whose answer is true, 0 = none; the places after it
	 *  hold no source, and the pass does not walk them (k8s_reconcile_walked) */
	size_t ours_end[K8S_KIND_MAX];
	/** "namespace/set" → [Pods of that StatefulSet or pod set], in cache order, the same
	 *  way (k8s_perpod.c): the controlling StatefulSet's name, else the pod-name label's
	 *  "<set>-<ordinal>" prefix */
	json_t *pods_by_set;
	/** What the source being built read (k8s_build_dep()): "<kind>:<key>" strings, NULL when
	 *  not recorded (a source kind without memo, k8s_source.memo) */
	json_t *deps;
	uint64_t dep_kinds; /**< kinds read whole (k8s_build_dep_kind()), bit per kind */
	bool dep_lost;	    /**< a dependency could not be recorded: do not memoize */
};

/**
 * Record that the source being built read object @p ns/@p name of @p kind, or its absence
 * (for K8S_KIND_ENDPOINTSLICE: the slices of Service @p ns/@p name; for K8S_KIND_POD: the
 * Pods of set @p ns/@p name, k8s_perpod_set_key()). The memo recomputes the source when one
 * changes (k8s_memo.h). A no-op when b->deps is NULL.
 */
void k8s_build_dep(struct k8s_build *b, enum k8s_kind kind, const char *ns, const char *name);

/** Record that the source being built read every object of @p kind (Nodes). */
void k8s_build_dep_kind(struct k8s_build *b, enum k8s_kind kind);

/** The dependency string of @p kind's key @p key ("ns/name"): "<kind>:<key>" into @p buf. */
const char *k8s_build_dep_key(enum k8s_kind kind, const char *key, char *buf, size_t len);

/** Make room for @p n more mappings in b->maps (doubling). @return 0 or -ENOMEM. Pointers
 * into b->maps are invalidated. */
int k8s_build_reserve(struct k8s_build *b, unsigned int n);

/** Append a zeroed mapping (ordinal -1); @return its index, or -ENOMEM. Pointers into
 * b->maps are invalidated. */
int k8s_build_map(struct k8s_build *b);

/** Set a mapping's backends (copied). @return 0 or -ENOMEM. */
int k8s_map_set_backends(struct cfg_mapping *m, const struct cfg_backend *be, unsigned int n);

/** Mark @p r not valid with a CamelCase @p reason and a message. @return 0 (for chaining). */
int k8s_result_fail(struct k8s_result *r, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Append an advertised entry. @p ordinal < 0 and @p pod NULL when not per pod. */
int k8s_result_advertise(struct k8s_result *r, const char *name, const char *pod, int32_t ordinal,
			 uint32_t addr, uint16_t port, uint16_t end_port, uint8_t proto);

/** "tcp" or "udp". */
const char *k8s_proto_name(uint8_t proto);

/** Whether an EndpointSlice/Pod address is an IPv4 address; @p addr host order. */
bool k8s_ipv4(const char *s, uint32_t *addr);

/** A source's conflict age by the API's rule: metadata.creationTimestamp ("" when absent). */
const char *k8s_age_created(const json_t *obj);

#endif
