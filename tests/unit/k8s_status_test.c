/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Status, Events and their shapes: the status is compared with the PATCH body recorded
 * against kube-apiserver v1.20.2 (mapping-status-patch.request.json), field for field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>
#include <strait/k8s_status.h>
#include <strait/log.h>

#include "k8s_report.h"
#include "k8s_testlib.h"

// 2026-11-21T16:30:00Z, the recorded patch's lastTransitionTime.
#define T0 (1795278600LL * 1000000)

static struct k8s_result res;

/* The recorded Mapping kafka-external, as the reconciler sees it (all four ports ready). */
static int setup(void **state)
{
	json_t *req = t_wire_json("mapping-status-patch.request.json"), *it;
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.kind = K8S_KIND_MAPPING;
	snprintf(res.ns, sizeof(res.ns), "kafka");
	snprintf(res.name, sizeof(res.name), "kafka-external");
	snprintf(res.uid, sizeof(res.uid), "c9bf6487-281e-4e28-ac9b-bd4aba077794");
	res.generation = 1;
	res.valid = res.accepted = true;
	res.n_ports = res.n_ports_ready = 3;
	res.advertised = json_deep_copy(k8s_get(req, "status", "advertised", NULL));
	json_array_foreach(res.advertised, i, it)
		if (json_object_get(it, "ordinal"))
			json_object_set(it, "pod", json_object_get(it, "name"));
	json_decref(req);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(res.advertised);
	return 0;
}

static void status_has_the_shape_of_the_recorded_patch(void **state)
{
	json_t *req = t_wire_json("mapping-status-patch.request.json");
	json_t *want = json_object_get(req, "status"), *got, *wc, *gc;
	size_t i;
	const char *k;
	json_t *v;

	(void)state;
	got = k8s_status_build(&res, NULL, true, 7, NULL, T0);
	assert_non_null(got);
	// Same top-level fields, same conditions in the same order, field for field, with
	// the recorded values (this status says 3 ports, as the recording does).
	json_object_foreach(want, k, v)
		assert_non_null(json_object_get(got, k));
	assert_int_equal(json_object_size(got), json_object_size(want));
	assert_int_equal(json_integer_value(json_object_get(got, "observedGeneration")), 1);
	json_array_foreach(json_object_get(want, "conditions"), i, wc) {
		gc = json_array_get(json_object_get(got, "conditions"), i);
		assert_int_equal(json_object_size(gc), json_object_size(wc));
		json_object_foreach(wc, k, v)
			if (!json_equal(v, json_object_get(gc, k)))
				fail_msg("condition %zu field %s: want %s got %s", i, k,
					 json_dumps(v, JSON_ENCODE_ANY),
					 json_dumps(json_object_get(gc, k), JSON_ENCODE_ANY));
	}
	// advertised: the recorded entries, plus the pod name per ordinal.
	json_array_foreach(json_object_get(want, "advertised"), i, wc) {
		gc = json_array_get(json_object_get(got, "advertised"), i);
		json_object_foreach(wc, k, v)
			assert_true(json_equal(v, json_object_get(gc, k)));
	}
	json_decref(got);
	json_decref(req);
}

/* One condition as JSON text, its keys in their order, at T0 and observedGeneration 1. */
#define COND(type, status, reason, message)                                                        \
	"{\"type\":\"" type "\",\"status\":\"" status "\",\"observedGeneration\":1,"               \
	"\"lastTransitionTime\":\"2026-11-21T16:30:00Z\",\"reason\":\"" reason "\","               \
	"\"message\":\"" message "\"}"

/* The conditions, as text: each key in its place (the order json_pack() gave them before
 * cond_json() set them itself), and none without valid UTF-8 in every string. */
static void conditions_text_key_for_key(void **state)
{
	json_t *got;
	char *text;

	(void)state;
	got = k8s_status_build(&res, NULL, true, 7, NULL, T0);
	assert_non_null(got);
	text = json_dumps(json_object_get(got, "conditions"), JSON_COMPACT);
	assert_string_equal(
		text,
		"[" COND("Ready", "True", "Programmed", "3 ports programmed on 203.0.113.10") "," COND(
			"Programmed", "True", "TablesPublished",
			"mapping table generation 7") "," COND("Conflict", "False", "NoConflict",
							       "") "]");
	free(text);
	json_decref(got);

	// Not UTF-8: no status, as json_pack() refused it.
	res.valid = false;
	snprintf(res.reason, sizeof(res.reason), "InvalidSpec");
	snprintf(res.message, sizeof(res.message), "spec.x: \xff\xfe");
	errno = 0;
	assert_null(k8s_status_build(&res, NULL, true, 7, NULL, T0));
	assert_int_equal(errno, ENOMEM);
	snprintf(res.message, sizeof(res.message), "spec.x: caf\xc3\xa9");
	assert_non_null(got = k8s_status_build(&res, NULL, true, 7, NULL, T0));
	text = json_dumps(json_object_get(got, "conditions"), JSON_COMPACT);
	assert_string_equal(
		text,
		"[" COND("Ready", "False", "InvalidSpec", "spec.x: caf\xc3\xa9") "," COND(
			"Programmed", "False", "InvalidSpec",
			"spec.x: caf\xc3\xa9") "," COND("Conflict", "False", "NoConflict", "") "]");
	free(text);
	json_decref(got);
}

static void transition_time_moves_only_when_status_changes(void **state)
{
	json_t *first, *second, *third;

	(void)state;
	first = k8s_status_build(&res, NULL, true, 7, NULL, T0);
	// Later, another table generation: Programmed's message changes, not its status.
	second = k8s_status_build(&res, first, true, 9, NULL, T0 + 60000000);
	assert_string_equal(k8s_str(json_array_get(json_object_get(second, "conditions"), 1),
				    "lastTransitionTime", NULL),
			    "2026-11-21T16:30:00Z");
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(second, "conditions"), 1), "message", NULL),
		"mapping table generation 9");
	assert_false(k8s_status_same(first, second));
	// A port loses its backend: Ready flips, at the new time; the others keep theirs.
	res.n_ports_ready = 2;
	third = k8s_status_build(&res, second, true, 9, NULL, T0 + 120000000);
	json_t *ready = json_array_get(json_object_get(third, "conditions"), 0);
	assert_string_equal(k8s_str(ready, "status", NULL), "False");
	assert_string_equal(k8s_str(ready, "reason", NULL), "NoReadyEndpoints");
	assert_string_equal(k8s_str(ready, "message", NULL), "2 of 3 ports have a ready backend");
	assert_string_equal(k8s_str(ready, "lastTransitionTime", NULL), "2026-11-21T16:32:00Z");
	assert_string_equal(k8s_str(json_array_get(json_object_get(third, "conditions"), 2),
				    "lastTransitionTime", NULL),
			    "2026-11-21T16:30:00Z");
	// The same status again is "the same", whatever else the object's status holds.
	json_t *cur = json_deep_copy(third);
	json_object_set_new(cur, "somethingElse", json_true());
	json_t *again = k8s_status_build(&res, cur, true, 9, NULL, T0 + 180000000);
	assert_true(k8s_status_same(cur, again));
	assert_false(k8s_status_same(NULL, again));
	json_decref(first);
	json_decref(second);
	json_decref(third);
	json_decref(cur);
	json_decref(again);
}

/* k8s_status_conditions_built and _kept since the last call, into *@p built, *@p kept. */
static void conds_counted(unsigned long *built, unsigned long *kept)
{
	static unsigned long b0, k0;

	*built = k8s_status_conditions_built - b0;
	*kept = k8s_status_conditions_kept - k0;
	b0 = k8s_status_conditions_built;
	k0 = k8s_status_conditions_kept;
}

/* @p st with each condition's keys in reverse order: the same values, another text. */
static json_t *keys_reversed(const json_t *st)
{
	json_t *out = json_deep_copy(st), *conds = json_array(), *it;
	size_t i;

	json_array_foreach(json_object_get(st, "conditions"), i, it) {
		json_t *o = json_object();
		const char *keys[] = {
			"message", "reason", "lastTransitionTime", "observedGeneration",
			"status",  "type"};
		for (unsigned int k = 0; k < 6; k++)
			json_object_set(o, keys[k], json_object_get(it, keys[k]));
		json_array_append_new(conds, o);
	}
	json_object_set_new(out, "conditions", conds);
	return out;
}

/* The text of @p st (released), compact. */
static char *text_of(json_t *st)
{
	char *t = json_dumps(st, JSON_COMPACT);

	json_decref(st);
	assert_non_null(t);
	return t;
}

/* A status built from one that already says some of its conditions holds those conditions
 * (and the result's advertised list), not copies: its text is what building each condition
 * gives (from the same conditions with their keys in another order, which none matches). A
 * condition that changed, or another generation, or a condition with another key, is built. */
static void conditions_already_said_are_held_not_built(void **state)
{
	unsigned long built, kept;
	json_t *first, *second, *third;
	char *a, *b;

	(void)state;
	conds_counted(&built, &kept);
	first = k8s_status_build(&res, NULL, true, 7, NULL, T0);
	conds_counted(&built, &kept);
	assert_int_equal(built, 3);
	assert_int_equal(kept, 0);
	assert_ptr_equal(json_object_get(first, "advertised"), res.advertised);

	// Another table generation: Programmed's message alone is new.
	second = k8s_status_build(&res, first, true, 9, NULL, T0 + 60000000);
	conds_counted(&built, &kept);
	assert_int_equal(built, 1);
	assert_int_equal(kept, 2);
	json_t *c1 = json_object_get(first, "conditions"),
	       *c2 = json_object_get(second, "conditions");
	assert_ptr_equal(json_array_get(c2, 0), json_array_get(c1, 0));
	assert_ptr_not_equal(json_array_get(c2, 1), json_array_get(c1, 1));
	assert_ptr_equal(json_array_get(c2, 2), json_array_get(c1, 2));
	json_t *rev = keys_reversed(first);
	a = text_of(json_incref(second));
	b = text_of(k8s_status_build(&res, rev, true, 9, NULL, T0 + 60000000));
	conds_counted(&built, &kept);
	assert_int_equal(built, 3);
	assert_int_equal(kept, 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(rev);

	// A port loses its backend: Ready is built, at the new time; the others are held.
	res.n_ports_ready = 2;
	third = k8s_status_build(&res, second, true, 9, NULL, T0 + 120000000);
	conds_counted(&built, &kept);
	assert_int_equal(built, 1);
	assert_int_equal(kept, 2);
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(third, "conditions"), 0), "status", NULL),
		"False");
	assert_false(k8s_status_same(second, third));
	rev = keys_reversed(second);
	a = text_of(json_incref(third));
	b = text_of(k8s_status_build(&res, rev, true, 9, NULL, T0 + 120000000));
	conds_counted(&built, &kept);
	assert_int_equal(built, 3);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(rev);

	// Another generation of the object: every condition's observedGeneration.
	res.generation = 2;
	json_decref(k8s_status_build(&res, third, true, 9, NULL, T0));
	conds_counted(&built, &kept);
	assert_int_equal(built, 3);
	assert_int_equal(kept, 0);
	// A key of another writer in a condition (or one missing): that condition built.
	res.generation = 1;
	json_t *other = json_deep_copy(third);
	json_object_set_new(json_array_get(json_object_get(other, "conditions"), 0), "x",
			    json_true());
	json_object_del(json_array_get(json_object_get(other, "conditions"), 2), "message");
	json_decref(k8s_status_build(&res, other, true, 9, NULL, T0));
	conds_counted(&built, &kept);
	assert_int_equal(built, 2);
	assert_int_equal(kept, 1);
	json_decref(other);
	json_decref(first);
	json_decref(second);
	json_decref(third);
}

/* The inputs' text of a status (what the book keeps of the one sent) is what the format
 * engine wrote of them before, byte for byte, cut ("") where that did not fit. */
static void status_inputs_text_as_formatted(void **state)
{
	char got[4 * K8S_MESSAGE_MAX + 128], want[sizeof(got)], err[3001];
	const int64_t gens[] = {0, 1, -7, INT64_MAX, INT64_MIN};

	(void)state;
	memset(err, 'e', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	for (unsigned int round = 0; round < 2 * (sizeof(gens) / sizeof(gens[0])); round++) {
		const char *pe = round % 3 == 0 ? NULL : round % 3 == 1 ? "no room" : "";
		res.generation = gens[round % (sizeof(gens) / sizeof(gens[0]))];
		res.valid = round & 1;
		res.conflict = round & 2;
		res.accepted = !(round & 4);
		res.n_ports = round * 1000u;
		res.n_ports_ready = round;
		snprintf(res.reason, sizeof(res.reason), "%s", round & 1 ? "Programmed" : "");
		snprintf(res.message, sizeof(res.message), "%.*s", (int)(round * 50), err);
		snprintf(res.conflict_message, sizeof(res.conflict_message), "caf\xc3\xa9 %u",
			 round);
		snprintf(res.unsupported, sizeof(res.unsupported), "%s",
			 round > 5 ? "rewrite" : "");
		for (unsigned int cut = 0; cut < 2; cut++) {
			const size_t len = cut ? 300 : sizeof(got);
			int n = snprintf(
				want, len,
				"%d%d%d%d %u %u %lld %c%zu:%s %zu:%s %zu:%s %zu:%s %zu:%s",
				res.valid, res.conflict, res.accepted, round & 1, res.n_ports,
				res.n_ports_ready, (long long)res.generation, pe ? 's' : 'n',
				pe ? strlen(pe) : 0, pe ? pe : "", strlen(res.reason), res.reason,
				strlen(res.message), res.message, strlen(res.conflict_message),
				res.conflict_message, strlen(res.unsupported), res.unsupported);
			int m = n < 0 || (size_t)n >= len
					? -1
					: snprintf(want + n, len - (size_t)n, " %llu",
						   (unsigned long long)round * 1000003u);
			bool fits = m >= 0 && (size_t)(n + m) < len;
			size_t before = k8s_report_status_inputs(
				&res, round & 1, (uint64_t)round * 1000003u, pe, got, len);
			assert_string_equal(got, fits ? want : "");
			assert_int_equal(before, fits ? (size_t)n : 0);
		}
	}
	// An error too long to be kept whole: cut.
	assert_int_equal(k8s_report_status_inputs(&res, true, 1, err, got, sizeof(got)), 0);
	assert_string_equal(got, "");
}

static void conflicts_invalid_specs_and_failed_publishes(void **state)
{
	json_t *s;
	char sum[1024];

	(void)state;
	res.accepted = false;
	res.conflict = true;
	snprintf(res.reason, sizeof(res.reason), "PortConflict");
	snprintf(res.message, sizeof(res.message), "203.0.113.10:32000/tcp is already served");
	snprintf(res.conflict_message, sizeof(res.conflict_message), "%s", res.message);
	s = k8s_status_build(&res, NULL, false, 0, NULL, T0);
	assert_string_equal(k8s_status_summary(s, true, sum, sizeof(sum)),
			    "Ready=False (PortConflict: 203.0.113.10:32000/tcp is already served), "
			    "Programmed=False (PortConflict), Conflict=True (PortConflict: "
			    "203.0.113.10:32000/tcp is already served); advertised: none");
	assert_int_equal(json_array_size(json_object_get(s, "advertised")), 0);
	json_decref(s);

	res.conflict = false;
	res.valid = false;
	snprintf(res.reason, sizeof(res.reason), "InvalidSpec");
	snprintf(res.message, sizeof(res.message), "spec.ports[0].port: 70000 is out of range");
	s = k8s_status_build(&res, NULL, false, 0, NULL, T0);
	assert_string_equal(k8s_status_summary(s, false, sum, sizeof(sum)),
			    "Ready=False (InvalidSpec: spec.ports[0].port: 70000 is out of range), "
			    "Programmed=False (InvalidSpec: spec.ports[0].port: 70000 is out of "
			    "range), Conflict=False (NoConflict); advertised: none");
	json_decref(s);

	res.valid = res.accepted = true;
	s = k8s_status_build(&res, NULL, false, 0, "cannot build tables: no memory", T0);
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(s, "conditions"), 1), "reason", NULL),
		"PublishFailed");
	json_decref(s);

	s = k8s_status_build(&res, NULL, true, 12, NULL, T0);
	assert_string_equal(
		k8s_status_summary(s, false, sum, sizeof(sum)),
		"Ready=True (Programmed: 3 ports programmed on 203.0.113.10), "
		"Programmed=True (TablesPublished: mapping table generation 12), "
		"Conflict=False (NoConflict); advertised: 203.0.113.10:32000/tcp=kafka-0#0 "
		"203.0.113.10:32001/tcp=kafka-1#1 203.0.113.10:32002/tcp=kafka-2#2 "
		"203.0.113.10:31999/tcp=bootstrap");
	json_decref(s);
}

static void events_are_events_k8s_io_v1(void **state)
{
	char note[2000], path[256];
	json_t *e;

	(void)state;
	memset(note, 'x', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	e = k8s_event_build(&res, "InvalidSpec", note, "gw-1_42", T0);
	assert_string_equal(k8s_str(e, "apiVersion", NULL), "events.k8s.io/v1");
	assert_string_equal(k8s_str(e, "kind", NULL), "Event");
	assert_string_equal(k8s_str(e, "metadata", "namespace", NULL), "kafka");
	assert_int_equal(strncmp(k8s_str(e, "metadata", "name", NULL), "kafka-external.", 15), 0);
	assert_string_equal(k8s_str(e, "eventTime", NULL), "2026-11-21T16:30:00.000000Z");
	assert_string_equal(k8s_str(e, "type", NULL), "Warning");
	assert_string_equal(k8s_str(e, "reason", NULL), "InvalidSpec");
	assert_string_equal(k8s_str(e, "action", NULL), "Reconcile");
	assert_string_equal(k8s_str(e, "reportingController", NULL), "strait.io/gateway");
	assert_string_equal(k8s_str(e, "reportingInstance", NULL), "gw-1_42");
	assert_int_equal(strlen(k8s_str(e, "note", NULL)), 1023); // the API's limit is 1 kB
	assert_string_equal(k8s_str(e, "regarding", "kind", NULL), "Mapping");
	assert_string_equal(k8s_str(e, "regarding", "apiVersion", NULL), "strait.io/v1alpha1");
	assert_string_equal(k8s_str(e, "regarding", "uid", NULL),
			    "c9bf6487-281e-4e28-ac9b-bd4aba077794");
	json_decref(e);

	assert_string_equal(k8s_result_path(&res, path, sizeof(path)),
			    "/apis/strait.io/v1alpha1/namespaces/kafka/mappings/kafka-external");
	res.kind = K8S_KIND_STATEFULSET;
	snprintf(res.name, sizeof(res.name), "kafka");
	assert_string_equal(k8s_result_path(&res, path, sizeof(path)),
			    "/apis/apps/v1/namespaces/kafka/statefulsets/kafka");
	e = k8s_event_build(&res, "InvalidAnnotation", "x", "gw", T0);
	assert_string_equal(k8s_str(e, "regarding", "kind", NULL), "StatefulSet");
	assert_string_equal(k8s_str(e, "regarding", "apiVersion", NULL), "apps/v1");
	json_decref(e);
}

/* A status patch that meets a 404 (the Mapping was deleted meanwhile) is churn: DEBUG, not
 * WARNING; other failures, and a 404 to an Event, stay warnings. */
static void a_404_on_a_status_patch_is_logged_at_debug(void **state)
{
	struct k8s_response r = {.code = 404, .result = CURLE_OK};

	(void)state;
	assert_int_equal(k8s_write_failure_level(&r, true), RTE_LOG_DEBUG);
	assert_int_equal(k8s_write_failure_level(&r, false), RTE_LOG_WARNING);
	r.code = 403;
	assert_int_equal(k8s_write_failure_level(&r, true), RTE_LOG_WARNING);
	r.code = 500;
	assert_int_equal(k8s_write_failure_level(&r, true), RTE_LOG_WARNING);
	r = (struct k8s_response){.code = 0, .result = CURLE_COULDNT_CONNECT};
	assert_int_equal(k8s_write_failure_level(&r, true), RTE_LOG_WARNING);
}

/* json_equal()'s answer for @p a and @p b (texts), from k8s_json_equal(), which looks up
 * @p lookups objects' keys (those whose keys come in another order). */
static void equal_as_jansson(const char *a, const char *b, bool equal, unsigned long lookups)
{
	json_t *x = t_json(a), *y = t_json(b);
	const unsigned long l0 = k8s_json_equal_lookups;

	assert_int_equal(json_equal(x, y), equal);
	assert_int_equal(k8s_json_equal(x, y), equal);
	assert_int_equal(k8s_json_equal_lookups - l0, lookups);
	assert_int_equal(k8s_json_equal(y, x), equal);
	json_decref(x);
	json_decref(y);
}

/* A random JSON value @p depth levels deep at most, from @p seed. */
static json_t *random_json(unsigned int *seed, unsigned int depth)
{
	const unsigned int kind = rand_r(seed) % (depth ? 7 : 5);
	char key[8];
	json_t *v;

	switch (kind) {
	case 0:
		return json_integer(rand_r(seed) % 3);
	case 1:
		return json_real(rand_r(seed) % 2);
	case 2:
		snprintf(key, sizeof(key), "s%d", rand_r(seed) % 3);
		return json_string(key);
	case 3:
		return json_boolean(rand_r(seed) % 2);
	case 4:
		return json_null();
	case 5:
		v = json_array();
		for (int i = rand_r(seed) % 4; i > 0; i--)
			json_array_append_new(v, random_json(seed, depth - 1));
		return v;
	default:
		v = json_object();
		for (int i = rand_r(seed) % 5; i > 0; i--) {
			snprintf(key, sizeof(key), "k%d", rand_r(seed) % 6);
			json_object_set_new(v, key, random_json(seed, depth - 1));
		}
		return v;
	}
}

/* @p v's copy, each object's keys in reverse order when @p seed says so, and one leaf in ten
 * changed. */
static json_t *random_variant(const json_t *v, unsigned int *seed)
{
	if (json_is_array(v)) {
		json_t *c = json_array();
		for (size_t i = 0; i < json_array_size(v); i++)
			json_array_append_new(c, random_variant(json_array_get(v, i), seed));
		return c;
	}
	if (json_is_object(v)) {
		const size_t n = json_object_size(v);
		const char *keys[8];
		json_t *c = json_object();
		size_t k = 0;
		const char *key;
		json_t *x;
		json_object_foreach((json_t *)v, key, x)
			keys[k++] = key;
		const bool reverse = rand_r(seed) % 2;
		for (size_t i = 0; i < n; i++) {
			const char *kk = keys[reverse ? n - 1 - i : i];
			json_object_set_new(c, kk, random_variant(json_object_get(v, kk), seed));
		}
		if (rand_r(seed) % 20 == 0) // a key more
			json_object_set_new(c, "extra", json_null());
		return c;
	}
	if (rand_r(seed) % 10 == 0)
		return random_json(seed, 0);
	return json_deep_copy(v);
}

/* k8s_json_equal() answers as json_equal(), and looks keys up only in the objects whose keys
 * come in another order (k8s_json_equal_lookups): none for an object's next version written
 * in the same order (the watch's, the status patches'). */
static void json_equal_in_order_without_lookups(void **state)
{
	(void)state;
	const char *slice = "{\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"b\"}},"
			    "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"conditions\":"
			    "{\"ready\":true,\"serving\":true}},{\"addresses\":[\"10.0.0.2\"],"
			    "\"conditions\":{\"ready\":false,\"serving\":true}}]}";
	equal_as_jansson(slice, slice, true, 0);
	equal_as_jansson(slice,
			 "{\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"b\"}},"
			 "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"conditions\":"
			 "{\"ready\":true,\"serving\":true}},{\"addresses\":[\"10.0.0.2\"],"
			 "\"conditions\":{\"ready\":true,\"serving\":true}}]}",
			 false, 0);
	equal_as_jansson(slice, // keys in another order, two levels down, and at the top
			 "{\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"conditions\":"
			 "{\"serving\":true,\"ready\":true}},{\"addresses\":[\"10.0.0.2\"],"
			 "\"conditions\":{\"ready\":false,\"serving\":true}}],"
			 "\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"b\"}}}",
			 true, 2);
	static const struct {
		const char *a, *b;
		bool equal;
		unsigned long lookups;
	} cases[] = {
		{"{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"c\":3,\"b\":2}", true, 1},
		{"{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"c\":3,\"b\":4}", false, 1},
		{"{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":2}", false, 1},
		{"{\"a\":1}", "{\"a\":1,\"b\":2}", false, 0},
		{"{}", "{}", true, 0},
		{"[1,2]", "[2,1]", false, 0},
		{"[1,2]", "[1,2,3]", false, 0},
		{"[1,{\"a\":null}]", "[1,{\"a\":null}]", true, 0},
		{"[1]", "[1.0]", false, 0},
		{"[\"1\"]", "[1]", false, 0},
		{"[true,false,null]", "[true,false,null]", true, 0},
		{"[true]", "[false]", false, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		equal_as_jansson(cases[i].a, cases[i].b, cases[i].equal, cases[i].lookups);
	assert_false(k8s_json_equal(NULL, NULL));
	assert_false(k8s_json_equal(json_null(), NULL));

	unsigned int seed = 12;
	unsigned int same = 0;
	for (int i = 0; i < 2000; i++) {
		json_t *a = random_json(&seed, 4), *b = random_variant(a, &seed);
		const bool want = json_equal(a, b);
		assert_int_equal(k8s_json_equal(a, b), want);
		assert_int_equal(k8s_json_equal(b, a), want);
		same += want;
		json_decref(a);
		json_decref(b);
	}
	assert_in_range(same, 200, 1800); // both answers, often
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(status_has_the_shape_of_the_recorded_patch),
		T(conditions_text_key_for_key),
		T(transition_time_moves_only_when_status_changes),
		T(conditions_already_said_are_held_not_built),
		T(status_inputs_text_as_formatted),
		T(conflicts_invalid_specs_and_failed_publishes),
		T(events_are_events_k8s_io_v1),
		T(a_404_on_a_status_patch_is_logged_at_debug),
		T(json_equal_in_order_without_lookups),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
