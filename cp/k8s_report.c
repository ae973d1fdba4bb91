/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The status writers of the source rows, and the book they share.
 *
 * Writes are level-based and deduplicated twice: against the cached object (the API server
 * already says it: nothing to send) and against the book's "sent" (the same patch was already
 * submitted and the cache has not caught up yet: do not send it again). Offline mode writes
 * nothing and logs a line per change instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_status.h>
#include <strait/log.h>

#include "k8s_report.h"

const char *k8s_report_key(enum k8s_kind kind, const char *ns, const char *name, char *buf,
			   size_t len)
{
	snprintf(buf, len, "%s/%s/%s", k8s_kind_info(kind)->kind, ns, name);
	return buf;
}

json_t *k8s_report_entry(const struct k8s_report *rep, const char *key)
{
	json_t *e = json_object_get(rep->book, key);

	if (!e) {
		e = json_object();
		json_object_set_new(rep->book, key, e);
	}
	json_object_set_new(rep->seen, key, json_true());
	return e;
}

unsigned long k8s_report_patches;

void k8s_report_patch(const struct k8s_report *rep, json_t *entry, const char *path, json_t *patch,
		      const char *what)
{
	if (k8s_json_equal(json_object_get(entry, "sent"), patch)) {
		json_decref(patch);
		return;
	}
	json_object_set(entry, "sent", patch);
	k8s_report_patches++;
	if (!rep->writer) { // tests, the benchmark: counted, sent nowhere
		json_decref(patch);
		return;
	}
	if (k8s_writer_patch(rep->writer, path, patch, what) < 0)
		json_object_del(entry, "sent"); // not the leader: nothing was sent
}

bool k8s_report_status_due(const struct k8s_report *rep, json_t *entry, const json_t *cur,
			   json_t *want, const char *summary, const char *key)
{
	const bool changed = summary && strcmp(k8s_str(entry, "log", NULL), summary) != 0;

	if (rep->offline) {
		if (changed) {
			char *js = json_dumps(want, JSON_COMPACT);
			K8S_LOG(NOTICE, "%s: %s", key, summary);
			K8S_LOG(INFO, "%s status: %s", key, js ? js : "?");
			free(js);
			json_object_set_new(entry, "log", json_string(summary));
		}
		json_decref(want);
		return false;
	}
	if (k8s_status_same(cur, want)) {
		json_object_del(entry, "sent");
		json_decref(want);
		return false;
	}
	if (changed) {
		K8S_LOG(INFO, "%s: %s", key, summary);
		json_object_set_new(entry, "log", json_string(summary));
	}
	return true;
}

unsigned long k8s_report_status_built;
unsigned long k8s_report_summaries;

/* What comes before the generation is what the summary reads of the inputs (with the
 * advertised list). */
size_t k8s_report_status_inputs(const struct k8s_result *r, bool programmed, uint64_t gen,
				const char *publish_error, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%d%d%d%d %u %u %lld %c%zu:%s %zu:%s %zu:%s %zu:%s %zu:%s",
			 r->valid, r->conflict, r->accepted, programmed, r->n_ports,
			 r->n_ports_ready, (long long)r->generation, publish_error ? 's' : 'n',
			 publish_error ? strlen(publish_error) : 0,
			 publish_error ? publish_error : "", strlen(r->reason), r->reason,
			 strlen(r->message), r->message, strlen(r->conflict_message),
			 r->conflict_message, strlen(r->unsupported), r->unsupported);
	int m = n < 0 || (size_t)n >= len
			? -1
			: snprintf(buf + n, len - (size_t)n, " %llu", (unsigned long long)gen);

	if (m < 0 || (size_t)(n + m) >= len) { // cut: not the whole input, never compared
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/* Whether the brief summary of the status built from inputs @p in (their first @p n bytes,
 * k8s_report_status_inputs()) and @p r's advertised list is @p entry's "log" without making it: the
 * summary reads all of the status but the Programmed message and the transition times, so the
 * same inputs but the generation and the same list make the same text. */
static bool summary_said(const json_t *entry, const struct k8s_result *r, const char *in, size_t n)
{
	const json_t *said = json_object_get(entry, "login");

	return n && json_string_length(said) == n && memcmp(json_string_value(said), in, n) == 0 &&
	       json_equal(json_object_get(entry, "logadv"),
			  r->advertised ? r->advertised : json_null());
}

/* After the summary @p summary was made of inputs @p in (n bytes) and @p r's advertised list:
 * kept as what "log" says when it says that, forgotten otherwise. */
static void summary_keep(json_t *entry, const struct k8s_result *r, const char *in, size_t n,
			 const char *summary)
{
	if (n && strcmp(k8s_str(entry, "log", NULL), summary) == 0 &&
	    json_object_set_new(entry, "login", json_stringn_nocheck(in, n)) == 0 &&
	    json_object_set_new(entry, "logadv",
				r->advertised ? json_deep_copy(r->advertised) : json_null()) == 0)
		return;
	json_object_del(entry, "login");
	json_object_del(entry, "logadv");
}

void k8s_report_status(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
		       bool programmed, const char *key)
{
	json_t *obj = k8s_cache_get(&rep->store->c[r->kind], r->ns, r->name);
	json_t *cur = json_object_get(obj, "status"), *sent, *want;
	const uint64_t gen = (uint64_t)json_integer_value(json_object_get(entry, "gen"));
	char path[512], summary[1024], in[4 * K8S_MESSAGE_MAX + 128];
	size_t n_in;

	// Transition times come from what we last sent if the cache has not caught up yet,
	// so that an unchanged condition keeps its time and the same patch is not sent twice.
	sent = json_object_get(json_object_get(entry, "sent"), "status");
	n_in = k8s_report_status_inputs(r, programmed, gen, rep->publish_error, in, sizeof(in));
	// The same inputs as the status sent, built from it: that status again, each condition
	// with its time (the echo of our write, a touched object whose result did not change).
	// What follows would find it said (delete "sent") or sent already (nothing): so here.
	json_t *adv = json_object_get(sent, "advertised");
	if (in[0] && json_is_object(sent) && json_is_array(adv) &&
	    strcmp(k8s_str(entry, "in", NULL), in) == 0 &&
	    (programmed && r->accepted ? k8s_json_equal(adv, r->advertised)
				       : json_array_size(adv) == 0)) {
		if (k8s_status_same(cur, sent))
			json_object_del(entry, "sent");
		return;
	}
	k8s_report_status_built++;
	want = k8s_status_build(r, sent ? sent : cur, programmed, gen, rep->publish_error,
				k8s_wall_us());
	if (!want)
		return;
	// The summary logged already (the inputs changed in the generation alone, as each
	// change of the object's mappings does): not made again, nothing to log.
	const bool said = summary_said(entry, r, in, n_in);
	if (!said) {
		k8s_report_summaries++;
		k8s_status_summary(want, true, summary, sizeof(summary));
	}
	const bool due = k8s_report_status_due(rep, entry, cur, want, said ? NULL : summary, key);
	if (!said)
		summary_keep(entry, r, in, n_in, summary);
	if (!due)
		return;
	json_t *patch = json_pack("{s:o}", "status", want);
	snprintf(summary, sizeof(summary), "%s status", key);
	k8s_report_patch(rep, entry, strcat(k8s_result_path(r, path, sizeof(path) - 8), "/status"),
			 patch, summary);
	// What the status sent ("sent", if the writer took it) was built from.
	json_object_set_new(entry, "in", json_string(in));
}

void k8s_report_annotation(const struct k8s_report *rep, const struct k8s_result *r, json_t *entry,
			   bool programmed, const char *key)
{
	json_t *obj = k8s_cache_get(&rep->store->c[r->kind], r->ns, r->name);
	const char *cur = k8s_str(obj, "metadata", "annotations", K8S_ANN_ADVERTISED, NULL);
	json_t *want = programmed && r->accepted ? r->advertised : NULL;
	json_t *empty = json_array(), *have = json_loads(cur, 0, NULL);
	char *text = json_dumps(want ? want : empty, JSON_COMPACT);
	char path[512], what[2 * K8S_NAME_MAX + 96];
	bool same = have && json_equal(have, want ? want : empty);

	json_decref(have);
	json_decref(empty);
	if (!text)
		return;
	if (rep->offline) {
		if (strcmp(k8s_str(entry, "log", NULL), text) != 0) {
			K8S_LOG(NOTICE, "%s: %s=%s%s%s", key, K8S_ANN_ADVERTISED, text,
				r->valid && !r->conflict ? "" : "; ",
				r->valid && !r->conflict ? "" : r->message);
			json_object_set_new(entry, "log", json_string(text));
		}
	} else if (same) {
		json_object_del(entry, "sent");
	} else {
		json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
					  K8S_ANN_ADVERTISED, text);
		snprintf(what, sizeof(what), "%s annotation %s", key, K8S_ANN_ADVERTISED);
		k8s_report_patch(rep, entry, k8s_result_path(r, path, sizeof(path)), patch, what);
	}
	free(text);
}

void k8s_report_annotation_orphan(const struct k8s_report *rep, enum k8s_kind kind,
				  const json_t *obj)
{
	struct k8s_result r = {.kind = kind};
	char path[512], key[2 * K8S_NAME_MAX], what[2 * K8S_NAME_MAX + 64];

	if (!json_object_get(k8s_get(obj, "metadata", "annotations", NULL), K8S_ANN_ADVERTISED))
		return;
	snprintf(r.ns, sizeof(r.ns), "%s", k8s_str(obj, "metadata", "namespace", NULL));
	snprintf(r.name, sizeof(r.name), "%s", k8s_str(obj, "metadata", "name", NULL));
	k8s_report_key(kind, r.ns, r.name, key, sizeof(key));
	snprintf(what, sizeof(what), "%s annotation %s removal", key, K8S_ANN_ADVERTISED);
	k8s_report_patch(rep, k8s_report_entry(rep, key), k8s_result_path(&r, path, sizeof(path)),
			 json_pack("{s:{s:{s:n}}}", "metadata", "annotations", K8S_ANN_ADVERTISED),
			 what);
}
