/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reporting the reconcile results back (k8s_report.c; the pass over them, k8s_report_pass.c):
 * the status writers a source row can name (the Mapping-style .status, the StatefulSet-style
 * advertised annotation), and what they share: the book of what was last sent per object, and
 * the patch submission.
 *
 * A writer compares what it wants with the cached object and what it last sent, then submits
 * a patch to the writer thread (API mode) or logs the result (offline mode). Control thread:
 * nothing here blocks.
 */
#ifndef STRAIT_K8S_REPORT_H
#define STRAIT_K8S_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_reconcile.h>

struct k8s_writer;

/** What the status writers see during one reporting pass. */
struct k8s_report {
	const struct k8s_store *store; /**< the caches: the objects as the API server has them */
	struct k8s_writer *writer;     /**< where patches go (API mode) */
	bool offline;		       /**< offline mode (--manifests): log, write nothing */
	const char *publish_error;     /**< why the tables could not be published, or NULL */
	json_t *book; /**< per object key: {fp, gen, sent, in, ev, log}, kept across passes */
	json_t *seen; /**< keys reported in this pass: the others are forgotten after it */
	const char *identity; /**< the reporting component of our Events */
	uint64_t generation;  /**< the tables generation that published (the results' "gen") */
};

/**
 * What the status pass keeps from one pass to the next (cp/k8s.c holds one): the book, the
 * results last reported (to report again only those that changed), the addresses the last
 * published mappings use (the AddressPools' status).
 */
struct k8s_reporter {
	json_t *book;		 /**< per object key: {fp, gen, sent, in, ev, log}; owned */
	struct k8s_result *last; /**< the last pass's results, owned (taken from its set) */
	unsigned int n_last;	 /**< entries in @c last */
	unsigned int cap_last;	 /**< room in @c last (k8s_results_free()) */
	/** the AddressPools' used addresses of the last pass; NULL without AddressPools (not
	 *  collected then: a walk over every mapping) */
	uint32_t *used;
	size_t n_used; /**< entries in @c used */
	/** "<kind>:<cache key>" → the place in @c last of the result of a report_own row, to
	 *  find the results of touched objects without a walk; NULL: not built (next pass full) */
	json_t *at;
	unsigned int *always; /**< places in @c last of the other rows' results */
	unsigned int n_always;
	char error[256]; /**< the last pass's publish_error, "" none */
	bool have_last;	 /**< a pass ran: @c last is meaningful */
	bool full;	 /**< report every object in the next pass (the book was reset) */
};

/** Status passes' results given to their writer (report()), and patches submitted (the
 *  writer NULL: counted only), since start: tests and the benchmark. */
extern unsigned long k8s_report_written;
extern unsigned long k8s_report_patches;
/** Results a status pass looked at, whether given to their writer or not (tests, bench). */
extern unsigned long k8s_report_visited;
/** Sets of touched objects (k8s_cache.touched) status passes emptied, since start: not
 *  those already empty (tests). */
extern unsigned long k8s_report_touched_cleared;
/** Results a status pass after a reconcile compared field by field with the last pass's,
 *  since start: not those both taken accepted from the same memo entry (tests). */
extern unsigned long k8s_report_compared;
/** Statuses k8s_report_status() built (k8s_status_build()), since start: not when the
 *  status it last sent is what it would build (tests). */
extern unsigned long k8s_report_status_built;
/** Brief summaries k8s_report_status() made of the statuses it built (k8s_status_summary()),
 *  since start: not when the one logged is made of the same inputs but the table
 *  generation (tests). */
extern unsigned long k8s_report_summaries;

/**
 * One status pass after a reconcile (@p d, its set: its results are taken, d->res NULL
 * after) or, @p d NULL, after objects changed in what no reconcile reads (the last pass's
 * results again). @p rep says where to write (writer, offline, identity, publish_error,
 * generation); the rest of it is filled here. Each result goes to its kind's report() only
 * when something it reads changed since the last pass: its result, its object
 * (k8s_cache.touched), the publication's error; every one in the first pass, after @p rr's
 * @c full was set, when the set's objects are not the last pass's or a touch was lost. Empties
 * every cache's @c touched. Control thread.
 */
void k8s_report_run(struct k8s_reporter *rr, struct k8s_report *rep, struct k8s_store *s,
		    struct k8s_desired *d);

/** Whether objects changed since the last pass (k8s_cache.touched) after a first pass. */
bool k8s_report_due(const struct k8s_reporter *rr, const struct k8s_store *s);

/** Release what @p rr holds, the book too, and zero it. */
void k8s_reporter_fini(struct k8s_reporter *rr);

/** The book key of an object, "Kind/ns/name", into @p buf. @return @p buf. */
const char *k8s_report_key(enum k8s_kind kind, const char *ns, const char *name, char *buf,
			   size_t len);

/** The book entry of @p key (created empty when new), marked seen in this pass. Borrowed. */
json_t *k8s_report_entry(const struct k8s_report *rep, const char *key);

/**
 * Submit merge patch @p patch of @p path (stolen) unless the very same one was the last
 * submitted for this object (@p entry's "sent"). @p what names it in the writer's logs.
 */
void k8s_report_patch(const struct k8s_report *rep, json_t *entry, const char *path, json_t *patch,
		      const char *what);

/**
 * What every status writer does with the status it wants, @p want (owned), against the
 * object's current one @p cur (from the cache): offline, log @p summary (and the status) when
 * it changed and drop @p want; when the API already has it, forget what was sent (so that
 * another writer's later change is put right, not taken for ours) and drop @p want; otherwise
 * log @p summary when it changed. @p summary NULL: the one logged already (what "log" says).
 * @p key names the object in the logs. Control thread.
 * @return true when @p want is still to be patched (the caller still owns it), else false.
 */
bool k8s_report_status_due(const struct k8s_report *rep, json_t *entry, const json_t *cur,
			   json_t *want, const char *summary, const char *key);

/**
 * Into @p buf (@p len bytes): everything k8s_status_build() reads of @p r and the pass but the
 * transition times and the advertised list, as text (strings with their lengths: two different
 * inputs never make the same text), the table generation @p gen last; "" when it does not
 * fit. What k8s_report_status() keeps of the status it sent ("in"). Control thread, tests.
 * @return the length of what comes before the generation, 0 when cut.
 */
size_t k8s_report_status_inputs(const struct k8s_result *r, bool programmed, uint64_t gen,
				const char *publish_error, char *buf, size_t len);

/**
 * Status writer: the object's `.status` (conditions Ready, Programmed, Conflict, and the
 * advertised list; k8s_status_build()), patched on its status subresource.
 * @param programmed its mappings are in the published tables.
 * @param key        its book key, for logs.
 */
void k8s_report_status(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
		       bool programmed, const char *key);

/** Status writer: the annotation K8S_ANN_ADVERTISED on the object itself ([] when not live). */
void k8s_report_annotation(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
			   bool programmed, const char *key);

/** Orphan sweep of k8s_report_annotation(): an object that carries K8S_ANN_ADVERTISED but is
 * no source any more has it removed. API mode. */
void k8s_report_annotation_orphan(const struct k8s_report *rep, enum k8s_kind kind,
				  const json_t *obj);

/**
 * Status writer of the AddressPool objects (not a source kind: no result): each one's
 * k8s_pool_status_build(), with the addresses of @p d's mappings as the used ones when
 * @p programmed (the tables published), none otherwise. Deduplicated as the others are.
 */
void k8s_report_pools(const struct k8s_report *rep, const struct k8s_desired *d, bool programmed);

#endif
