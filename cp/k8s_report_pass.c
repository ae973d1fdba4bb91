/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The status pass (k8s_report_run()): which results go to their source row's status writer
 * after a reconcile or an echo, the orphans' undoing, and the AddressPools' used addresses.
 * Apart from k8s_report.c, which the source rows' writers call, so that the writers and the
 * pass over the rows (k8s_source_of()) call each other in one direction only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>
#include <strait/k8s_pools.h>
#include <strait/k8s_status.h>
#include <strait/log.h>

#include "k8s_report.h"
#include "k8s_source.h"

/* One AddressPool's status: as k8s_report_status(), for an object that is no source. */
static void report_pool(const struct k8s_report *rep, const json_t *obj, const uint32_t *used,
			size_t n_used)
{
	struct k8s_result r = {.kind = K8S_KIND_ADDRESSPOOL};
	json_t *cur = json_object_get(obj, "status"), *sent, *want, *entry, *cond;
	char key[2 * K8S_NAME_MAX], path[512], summary[512];

	snprintf(r.name, sizeof(r.name), "%s", k8s_str(obj, "metadata", "name", NULL));
	k8s_report_key(r.kind, "", r.name, key, sizeof(key));
	entry = k8s_report_entry(rep, key);
	sent = json_object_get(json_object_get(entry, "sent"), "status");
	want = k8s_pool_status_build(obj, sent ? sent : cur, used, n_used, k8s_wall_us());
	if (!want)
		return;
	cond = json_array_get(json_object_get(want, "conditions"), 0);
	snprintf(summary, sizeof(summary),
		 "Ready=%s (%s: %s), assignedIPv4 %lld, availableIPv4 %lld",
		 k8s_str(cond, "status", NULL), k8s_str(cond, "reason", NULL),
		 k8s_str(cond, "message", NULL),
		 (long long)json_integer_value(json_object_get(want, "assignedIPv4")),
		 (long long)json_integer_value(json_object_get(want, "availableIPv4")));
	if (strcmp(k8s_str(entry, "log", NULL), summary) != 0) {
		if (rep->offline)
			K8S_LOG(NOTICE, "%s: %s", key, summary);
		else
			K8S_LOG(INFO, "%s: %s", key, summary);
		json_object_set_new(entry, "log", json_string(summary));
	}
	if (rep->offline || k8s_status_same(cur, want)) {
		json_object_del(entry, "sent");
		json_decref(want);
		return;
	}
	char what[sizeof(key) + 8];
	snprintf(what, sizeof(what), "%s status", key);
	k8s_report_patch(rep, entry, strcat(k8s_result_path(&r, path, sizeof(path) - 8), "/status"),
			 json_pack("{s:o}", "status", want), what);
}

/* The addresses of @p d's mappings when @p programmed, none otherwise, into *@p n; malloc'd,
 * NULL without memory. */
static uint32_t *pools_used(const struct k8s_desired *d, bool programmed, size_t *n)
{
	uint32_t *used;

	*n = 0;
	for (unsigned int i = 0; programmed && i < d->n_maps; i++)
		*n += d->maps[i].n_addrs;
	used = malloc((*n ? *n : 1) * sizeof(*used));
	if (!used)
		return NULL;
	*n = 0;
	for (unsigned int i = 0; programmed && i < d->n_maps; i++)
		for (unsigned int a = 0; a < d->maps[i].n_addrs; a++)
			used[(*n)++] = d->maps[i].addrs[a];
	return used;
}

static void report_pools_used(const struct k8s_report *rep, const uint32_t *used, size_t n)
{
	const json_t *objs = rep->store->c[K8S_KIND_ADDRESSPOOL].objs;
	const char *k;
	json_t *obj;

	json_object_foreach((json_t *)objs, k, obj)
		report_pool(rep, obj, used, n);
}

void k8s_report_pools(const struct k8s_report *rep, const struct k8s_desired *d, bool programmed)
{
	uint32_t *used;
	size_t n;

	if (json_object_size(rep->store->c[K8S_KIND_ADDRESSPOOL].objs) == 0)
		return;
	if ((used = pools_used(d, programmed, &n)))
		report_pools_used(rep, used, n);
	free(used);
}

/* ---- The status pass (k8s_report_run()) ---- */

unsigned long k8s_report_written;
unsigned long k8s_report_visited;
unsigned long k8s_report_touched_cleared;

static void report_event(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
			 const char *key)
{
	char ev[K8S_REASON_MAX + K8S_MESSAGE_MAX + 2];

	if (r->valid && !r->conflict) {
		json_object_set_new(entry, "ev", json_string(""));
		return;
	}
	// One Event per distinct error, not one per reconcile pass.
	snprintf(ev, sizeof(ev), "%s|%s", r->reason, r->message);
	if (strcmp(k8s_str(entry, "ev", NULL), ev) == 0)
		return;
	json_object_set_new(entry, "ev", json_string(ev));
	K8S_LOG(WARNING, "%s: %s: %s", key, r->reason, r->message);
	if (!rep->offline && rep->writer)
		k8s_writer_event(
			rep->writer, r->ns,
			k8s_event_build(r, r->reason, r->message, rep->identity, k8s_wall_us()));
}

/* The index key of @p kind's object @p cache_key ("ns/name", or "name"). */
static const char *at_key(enum k8s_kind kind, const char *cache_key, char *buf, size_t len)
{
	snprintf(buf, len, "%d:%s", (int)kind, cache_key);
	return buf;
}

/* Whether @p r is a source in @p res (its @p n results). */
static bool is_result(const struct k8s_result *res, unsigned int n, enum k8s_kind kind,
		      const char *ns, const char *name)
{
	for (unsigned int i = 0; i < n; i++)
		if (res[i].kind == kind && strcmp(res[i].name, name) == 0 &&
		    strcmp(res[i].ns, ns) == 0)
			return true;
	return false;
}

/* Objects of a source kind that are no source in this pass: undo what was reported on them.
 * Every object of those kinds when @p res is NULL (those not seen in the pass), else only
 * the changed ones (k8s_cache.touched) that are none of @p res (found through @p at, the
 * index of their places, when not NULL). */
static void report_orphans(const struct k8s_report *rep, const struct k8s_result *res,
			   unsigned int n, const json_t *at)
{
	char bkey[2 * K8S_NAME_MAX + 16];
	const char *key;
	json_t *obj, *v;

	if (rep->offline)
		return;
	for (int kind = 0; kind < K8S_KIND_MAX; kind++) {
		const struct k8s_source *src = k8s_source_of(kind);
		const struct k8s_cache *c = &rep->store->c[kind];

		if (!src || !src->orphan)
			continue;
		if (!res) {
			json_object_foreach(c->objs, key, obj) {
				k8s_report_key(kind, k8s_str(obj, "metadata", "namespace", NULL),
					       k8s_str(obj, "metadata", "name", NULL), bkey,
					       sizeof(bkey));
				if (!json_object_get(rep->seen, bkey)) // reported: a source
					src->orphan(rep, kind, obj);
			}
			continue;
		}
		json_object_foreach(c->touched, key, v) {
			if (!(obj = json_object_get(c->objs, key)) ||
			    (at ? json_object_get(at, at_key(kind, key, bkey, sizeof(bkey))) != NULL
				: is_result(res, n, kind,
					    k8s_str(obj, "metadata", "namespace", NULL),
					    k8s_str(obj, "metadata", "name", NULL))))
				continue;
			src->orphan(rep, kind, obj);
		}
	}
}

/* Whether @p a and @p b are the same object's results (the same memo entry's are). */
static bool result_key_same(const struct k8s_result *a, const struct k8s_result *b)
{
	if (a->memo_id && a->memo_id == b->memo_id)
		return true;
	return a->kind == b->kind && strcmp(a->name, b->name) == 0 && strcmp(a->ns, b->ns) == 0;
}

unsigned long k8s_report_compared;

/* Whether @p a and @p b say the same of their object to a report() (but where its mappings
 * are in the set). Two accepted results of the same memo entry do (struct
 * k8s_result.memo_id): what the reconcile took unchanged is not compared field by field.
 * Their mappings are compared but for their backends (programmed_fp): no writer reads the
 * backends, only how many ports have a ready one (n_ports_ready), so an endpoint change
 * that leaves those counts is not reported (report_one() would build the status only to
 * find it unchanged). */
static bool result_same(const struct k8s_result *a, const struct k8s_result *b)
{
	if (a->memo_id && a->memo_id == b->memo_id && a->accepted && b->accepted)
		return true;
	k8s_report_compared++;
	return a->programmed_fp == b->programmed_fp && a->claim_fp == b->claim_fp &&
	       a->valid == b->valid && a->conflict == b->conflict && a->accepted == b->accepted &&
	       a->generation == b->generation && a->n_maps == b->n_maps &&
	       a->n_ports == b->n_ports && a->n_ports_ready == b->n_ports_ready &&
	       (a->advertised == b->advertised || json_equal(a->advertised, b->advertised)) &&
	       strcmp(a->reason, b->reason) == 0 && strcmp(a->message, b->message) == 0 &&
	       strcmp(a->conflict_message, b->conflict_message) == 0 &&
	       strcmp(a->unsupported, b->unsupported) == 0 && strcmp(a->uid, b->uid) == 0 &&
	       strcmp(a->created, b->created) == 0;
}

/* Index the results @p res (@p n) for the next passes: where each report_own result is, by
 * its object (rr->at), and which are not report_own (rr->always). @return 0 or -ENOMEM. */
static int index_build(struct k8s_reporter *rr, const struct k8s_result *res, unsigned int n)
{
	char ck[2 * K8S_NAME_MAX + 2], key[2 * K8S_NAME_MAX + 16];

	json_decref(rr->at);
	free(rr->always);
	rr->n_always = 0;
	rr->at = json_object();
	rr->always = malloc((n ? n : 1) * sizeof(*rr->always));
	if (!rr->at || !rr->always)
		goto fail;
	for (unsigned int i = 0; i < n; i++) {
		const struct k8s_result *r = &res[i];

		if (!k8s_source_of(r->kind)->report_own) {
			rr->always[rr->n_always++] = i;
			continue;
		}
		snprintf(ck, sizeof(ck), "%s%s%s", r->ns, r->ns[0] ? "/" : "", r->name);
		if (json_object_set_new(rr->at, at_key(r->kind, ck, key, sizeof(key)),
					json_integer(i)) < 0)
			goto fail;
	}
	return 0;
fail:
	json_decref(rr->at);
	free(rr->always);
	rr->at = NULL;
	rr->always = NULL;
	rr->n_always = 0;
	return -ENOMEM;
}

/* The places in the last pass's results of the objects touched since (k8s_cache.touched),
 * through rr->at, into @p out (n_last entries), unsorted. @return how many. */
static unsigned int touched_places(const struct k8s_reporter *rr, const struct k8s_store *s,
				   unsigned int *out)
{
	char key[2 * K8S_NAME_MAX + 16];
	unsigned int n = 0;
	const char *ck;
	json_t *v, *at;

	for (int k = 0; k < K8S_KIND_MAX; k++)
		json_object_foreach(s->c[k].touched, ck, v) {
			if (!(at = json_object_get(rr->at, at_key(k, ck, key, sizeof(key)))))
				continue;
			const json_int_t i = json_integer_value(at);
			if (i >= 0 && (unsigned int)i < rr->n_last && n < rr->n_last)
				out[n++] = (unsigned int)i;
		}
	return n;
}

/* Release the last pass's results: for the next reconcile (k8s_results_free()) when
 * @p keep, else freed. */
static void last_free(struct k8s_reporter *rr, bool keep)
{
	if (keep) {
		k8s_results_free(rr->last, rr->n_last, rr->cap_last);
	} else {
		for (unsigned int i = 0; i < rr->n_last; i++)
			json_decref(rr->last[i].advertised);
		free(rr->last);
	}
	rr->last = NULL;
	rr->n_last = rr->cap_last = 0;
}

void k8s_reporter_fini(struct k8s_reporter *rr)
{
	last_free(rr, false); // after the reconcile's spare arrays are gone (cp/k8s.c)
	free(rr->used);
	json_decref(rr->book);
	json_decref(rr->at);
	free(rr->always);
	memset(rr, 0, sizeof(*rr));
}

bool k8s_report_due(const struct k8s_reporter *rr, const struct k8s_store *s)
{
	if (!rr->have_last)
		return false;
	for (int k = 0; k < K8S_KIND_MAX; k++)
		if (json_object_size(s->c[k].touched) || s->c[k].touch_lost)
			return true;
	return false;
}

/* Give result @p r to its status writer. */
static void report_one(struct k8s_report *rep, const struct k8s_result *r)
{
	const struct k8s_source *src = k8s_source_of(r->kind);
	const bool programmed = r->accepted && !rep->publish_error;
	char key[2 * K8S_NAME_MAX + 16];
	json_t *entry;

	k8s_report_written++;
	entry = k8s_report_entry(rep, k8s_report_key(r->kind, r->ns, r->name, key, sizeof(key)));
	// The table generation that the Programmed condition names: the one that last changed the
	// object's mappings but for their backends. An endpoint change alone leaves the status as
	// it was (at thousands of endpoint changes a second, as many status writes would load the
	// API server); Ready still follows whether each port has a ready backend.
	if (programmed &&
	    (json_integer_value(json_object_get(entry, "fp")) != (json_int_t)r->programmed_fp ||
	     !json_object_get(entry, "gen"))) {
		json_object_set_new(entry, "fp", json_integer((json_int_t)r->programmed_fp));
		json_object_set_new(entry, "gen", json_integer((json_int_t)rep->generation));
	}
	src->report(rep, r, entry, programmed, key);
	report_event(rep, r, entry, key);
}

void k8s_report_run(struct k8s_reporter *rr, struct k8s_report *rep, struct k8s_store *s,
		    struct k8s_desired *d)
{
	const struct k8s_result *res = d ? d->res : rr->last;
	const unsigned int n = d ? d->n_res : rr->n_last;
	const char *err = rep->publish_error ? rep->publish_error : "";
	bool full = rr->full || !rr->have_last || !rr->at || n != rr->n_last ||
		    strcmp(err, rr->error) != 0;
	bool any = false;
	unsigned int *places = NULL, n_places = 0;
	bool *hit = NULL;

	rep->store = s;
	rep->book = rr->book;
	rep->seen = json_object();
	for (int k = 0; k < K8S_KIND_MAX; k++)
		full |= s->c[k].touch_lost;
	// The same objects as in the last pass, in the same order: only the changed ones
	// (their results or their objects) are reported again; else every one.
	for (unsigned int i = 0; !full && d && i < n; i++)
		full = !result_key_same(&res[i], &rr->last[i]);
	if (!full) { // the touched objects' places, the same in res as in the last pass
		places = malloc((n ? n : 1) * sizeof(*places));
		hit = calloc(n ? n : 1, sizeof(*hit));
		if (!places || !hit)
			full = true;
		else
			n_places = touched_places(rr, s, places);
	}
	if (full) {
		for (unsigned int i = 0; i < n; i++, k8s_report_visited++)
			report_one(rep, &res[i]);
		any = n > 0;
	} else if (d) { // after a reconcile: each result against the last pass's
		for (unsigned int i = 0; i < n_places; i++)
			hit[places[i]] = true;
		for (unsigned int i = 0; i < n; i++, k8s_report_visited++)
			if (!k8s_source_of(res[i].kind)->report_own || hit[i] ||
			    !result_same(&res[i], &rr->last[i])) {
				report_one(rep, &res[i]);
				any = true;
			}
	} else { // the same results: those of the touched objects, and the others' rows
		for (unsigned int i = 0; i < rr->n_always; i++, k8s_report_visited++)
			report_one(rep, &res[rr->always[i]]);
		for (unsigned int i = 0; i < n_places; i++, k8s_report_visited++)
			if (!hit[places[i]]) { // a key listed twice
				hit[places[i]] = true;
				report_one(rep, &res[places[i]]);
			}
		any = rr->n_always + n_places > 0;
	}
	free(places);
	free(hit);
	report_orphans(rep, full ? NULL : res, n, rr->at);
	if (d) { // read only when AddressPools exist: a walk over every mapping
		free(rr->used);
		rr->used = NULL;
		rr->n_used = 0;
		if (json_object_size(s->c[K8S_KIND_ADDRESSPOOL].objs))
			rr->used = pools_used(d, !rep->publish_error, &rr->n_used);
	}
	if (rr->used && json_object_size(s->c[K8S_KIND_ADDRESSPOOL].objs) &&
	    (full || any || json_object_size(s->c[K8S_KIND_ADDRESSPOOL].touched)))
		report_pools_used(rep, rr->used, rr->n_used);
	if (full) {
		// Forget objects that are gone (a re-created one starts afresh).
		const char *bk;
		json_t *v, *tmp;
		json_object_foreach_safe(rr->book, tmp, bk, v)
			if (!json_object_get(rep->seen, bk))
				json_object_del(rr->book, bk);
	}
	json_decref(rep->seen);
	rep->seen = NULL;
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		// Only a set that holds some, and dropped, not cleared: json_object_clear() walks
		// every bucket of the table, as large as the set ever was (thousands after the
		// first echoes) however few it holds; the next change makes a small one.
		if (json_object_size(s->c[k].touched)) {
			json_decref(s->c[k].touched);
			s->c[k].touched = NULL;
			k8s_report_touched_cleared++;
		}
		s->c[k].touch_lost = false;
	}
	if (d) { // the results of this pass: the next one's comparison
		last_free(rr, true);
		rr->last = d->res;
		rr->n_last = d->n_res;
		rr->cap_last = d->cap_res;
		d->res = NULL;
		d->n_res = d->cap_res = 0;
		if (full || !rr->at) // places moved: indexed again (the next pass is full else)
			index_build(rr, rr->last, rr->n_last);
	}
	snprintf(rr->error, sizeof(rr->error), "%s", err);
	rr->full = false;
	rr->have_last = true;
}
