/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Informers' decoders and caches on the bodies recorded from kube-apiserver v1.20.2: list
 * pages, watch streams (whole, split at every byte, and de-chunked from the raw HTTP/1.1
 * framing), BOOKMARK, the 410 Expired ERROR event, and relists applied as a difference; the
 * informers' backoff on a fake clock.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_client.h>
#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_queue.h>
#include <strait/k8s_stream.h>
#include <strait/k8s_watch.h>

#include "k8s_service.h"
#include "k8s_source.h"
#include "k8s_testlib.h"

struct seen {
	char types[16][16];
	char rvs[16][32];
	char names[16][64];
	long codes[16];
	unsigned int n;
};

static int record(void *arg, const char *type, json_t *obj)
{
	struct seen *s = arg;

	if (s->n < 16) {
		snprintf(s->types[s->n], sizeof(s->types[0]), "%s", type);
		snprintf(s->rvs[s->n], sizeof(s->rvs[0]), "%s",
			 k8s_str(obj, "metadata", "resourceVersion", NULL));
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s",
			 k8s_str(obj, "metadata", "name", NULL));
		s->codes[s->n] = (long)json_integer_value(json_object_get(obj, "code"));
		// The decoder leaves out what the recorded events carry.
		assert_null(k8s_get(obj, "metadata", "managedFields", NULL));
	}
	s->n++;
	return 0;
}

static void expect_services_watch(const struct seen *s)
{
	static const char *const types[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
	static const char *const rvs[] = {"221", "222", "223", "223"};

	assert_int_equal(s->n, 4);
	for (unsigned int i = 0; i < 4; i++) {
		assert_string_equal(s->types[i], types[i]);
		assert_string_equal(s->rvs[i], rvs[i]);
	}
	assert_string_equal(s->names[0], "game");
	assert_string_equal(s->names[3], ""); // a BOOKMARK carries only the resourceVersion
}

static void watch_stream_decodes_recorded_events(void **state)
{
	struct k8s_stream st = {0};
	struct seen s = {0};
	size_t len;
	char *b = t_wire("services-watch.jsonl", &len);

	(void)state;
	assert_int_equal(k8s_stream_feed(&st, b, len, record, &s), 0);
	expect_services_watch(&s);

	// The same bytes one at a time: an event spans many reads.
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < len; i++)
		assert_int_equal(k8s_stream_feed(&st, b + i, 1, record, &s), 0);
	expect_services_watch(&s);
	k8s_stream_reset(&st);
	free(b);
}

/* Undo HTTP/1.1 chunked framing as curl does: "<hex>\r\n<data>\r\n" ... "0\r\n\r\n". */
static size_t dechunk(const char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while (i < len) {
		size_t n = strtoul(in + i, NULL, 16);
		i = (size_t)(strstr(in + i, "\r\n") - in) + 2;
		if (n == 0)
			break;
		memcpy(out + o, in + i, n);
		o += n;
		i += n + 2;
	}
	return o;
}

static void watch_stream_from_raw_chunks_in_odd_splits(void **state)
{
	struct k8s_stream st = {0};
	struct seen s = {0};
	size_t len, blen;
	char *raw = t_wire("services-watch.raw-chunked.txt", &len);
	char *body = malloc(len);

	(void)state;
	blen = dechunk(raw, len, body);
	assert_true(blen > 1000);
	// Splits of 7, 13, 1, 100 bytes: never aligned with lines or chunks.
	static const size_t steps[] = {7, 13, 1, 100};
	for (size_t off = 0, k = 0; off < blen; k++) {
		size_t n = steps[k % 4] < blen - off ? steps[k % 4] : blen - off;
		assert_int_equal(k8s_stream_feed(&st, body + off, n, record, &s), 0);
		off += n;
	}
	expect_services_watch(&s);
	k8s_stream_reset(&st);
	free(body);
	free(raw);
}

static void too_old_watch_is_a_410_expired_error_event(void **state)
{
	struct k8s_stream st = {0};
	struct seen s = {0};
	size_t len;
	char *b = t_wire("services-watch-too-old.jsonl", &len);
	struct k8s_api_status as;

	(void)state;
	assert_int_equal(k8s_stream_feed(&st, b, len, record, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.types[0], "ERROR");
	assert_int_equal(s.codes[0], 410);
	free(b);

	json_t *ev =
		t_json("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
		       "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
		       "version: 1 (199)\",\"reason\":\"Expired\",\"code\":410}}");
	assert_int_equal(k8s_api_status_decode(json_object_get(ev, "object"), &as), 0);
	assert_int_equal(as.code, 410);
	assert_string_equal(as.reason, "Expired");
	json_decref(ev);
	k8s_stream_reset(&st);
}

static int stop_at_first(void *arg, const char *type, json_t *obj)
{
	record(arg, type, obj);
	return 1;
}

static void stream_skips_bad_lines_and_stops_when_told(void **state)
{
	struct k8s_stream st = {0};
	struct seen s = {0};
	const char *in = "not json\n{\"type\":\"ADDED\"}\n\n"
			 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\r\n"
			 "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n";

	(void)state;
	// Two bad lines are reported (-EBADMSG) but the good ones still come through.
	assert_int_equal(k8s_stream_feed(&st, in, strlen(in), record, &s), -EBADMSG);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "a");
	assert_string_equal(s.names[1], "b");
	memset(&s, 0, sizeof(s));
	assert_int_equal(k8s_stream_feed(&st, in + 27, strlen(in) - 27, stop_at_first, &s), 1);
	assert_int_equal(s.n, 1);
	k8s_stream_reset(&st);
}

static void recorded_lists_decode(void **state)
{
	static const struct {
		const char *file;
		size_t items;
		const char *kind;
		int k;
	} lists[] = {
		{"services-list.json", 2, "Service", K8S_KIND_SERVICE},
		{"mappings-list.json", 1, "Mapping", K8S_KIND_MAPPING},
		{"pods-list.json", 3, "Pod", K8S_KIND_POD},
		{"statefulsets-list.json", 1, "StatefulSet", K8S_KIND_STATEFULSET},
		{"nodes-list.json", 1, "Node", K8S_KIND_NODE},
		{"endpointslices-v1beta1-list.json", 1, "EndpointSlice", K8S_KIND_ENDPOINTSLICE},
	};
	char rv[64], cont[256];
	json_t *items, *doc;
	size_t len;

	(void)state;
	for (unsigned int i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char *b = t_wire(lists[i].file, &len);
		assert_int_equal(
			k8s_list_decode(b, len, NULL, &items, rv, sizeof(rv), cont, sizeof(cont)),
			0);
		assert_int_equal(json_array_size(items), lists[i].items);
		// Every recorded item has managedFields; the decoder leaves them out.
		for (size_t k = 0; k < json_array_size(items); k++) {
			json_t *meta = json_object_get(json_array_get(items, k), "metadata");
			assert_non_null(json_object_get(meta, "name"));
			assert_null(json_object_get(meta, "managedFields"));
		}
		assert_string_equal(rv, "219"); // all taken at the same moment
		assert_string_equal(cont, "");
		doc = json_loadb(b, len, 0, NULL);
		// The list's apiVersion/kind say which kind it is (v1beta1 slices too).
		char kind[64];
		snprintf(kind, sizeof(kind), "%s", k8s_str(doc, "kind", NULL));
		kind[strlen(kind) - 4] = '\0'; // "...List"
		assert_string_equal(kind, lists[i].kind);
		assert_int_equal(k8s_kind_of(k8s_str(doc, "apiVersion", NULL), kind), lists[i].k);
		json_decref(doc);
		json_decref(items);
		free(b);
	}
	assert_int_equal(k8s_list_decode("{\"kind\":\"Status\"}", 17, NULL, &items, rv, sizeof(rv),
					 cont, sizeof(cont)),
			 -EBADMSG);
	assert_int_equal(
		k8s_list_decode("nope", 4, NULL, &items, rv, sizeof(rv), cont, sizeof(cont)),
		-EBADMSG);
	assert_int_equal(k8s_kind_of("smartnat.aureacentral.com/v1alpha1", "Mapping"), -1);
	assert_int_equal(k8s_kind_of("v1", "ConfigMap"), -1);
}

/* The informers decode each kind with its K8S_KINDS row's keep: EndpointSlices keep only what
 * endpoints_collect() reads of an endpoint (k8s_keep_endpointslice), every other kind all. */
static void informers_keep_what_their_kind_row_says(void **state)
{
	char rv[64], cont[256];
	json_t *items;
	size_t len;

	(void)state;
	for (int k = 0; k < K8S_KIND_MAX; k++)
		if (k == K8S_KIND_ENDPOINTSLICE)
			assert_ptr_equal(k8s_keep_of(k), k8s_keep_endpointslice);
		else
			assert_null(k8s_keep_of(k));
	char *b = t_wire("endpointslices-v1beta1-list.json", &len);
	assert_int_equal(k8s_list_decode(b, len, k8s_keep_of(K8S_KIND_ENDPOINTSLICE), &items, rv,
					 sizeof(rv), cont, sizeof(cont)),
			 0);
	// The endpoints packed (k8s_pack_endpoints): what a tree of all of them packs to, the
	// recorded three (addresses, conditions, hostname, nodeName, targetRef, topology each)
	// in 11 bytes and a Pod's name.
	json_t *all, *eps = json_object_get(json_array_get(items, 0), "endpoints");
	assert_int_equal(k8s_list_decode(b, len, NULL, &all, rv, sizeof(rv), cont, sizeof(cont)),
			 0);
	json_t *full = json_object_get(json_array_get(all, 0), "endpoints");
	json_t *want = k8s_pack_endpoints.tree(full);
	assert_int_equal(json_array_size(full), 3);
	assert_true(k8s_is_packed(eps));
	assert_true(json_equal(eps, want));
	assert_memory_equal(json_string_value(eps),
			    "\0"
			    "0af4010a107kafka-0"
			    "0af4010b107kafka-1"
			    "0af4010c007kafka-2",
			    55);
	assert_int_equal(json_string_length(eps), 55);
	json_decref(want);
	json_decref(all);
	// What is outside the endpoints is kept.
	assert_string_equal(k8s_str(json_array_get(items, 0), "addressType", NULL), "IPv4");
	json_decref(items);
	free(b);
}

static json_t *watch_object(unsigned int i)
{
	size_t len;
	char *b = t_wire("services-watch.jsonl", &len);
	char *line = b;
	json_t *ev, *obj;

	for (unsigned int k = 0; k < i; k++)
		line = strchr(line, '\n') + 1;
	ev = json_loadb(line, strcspn(line, "\n"), 0, NULL);
	obj = json_incref(json_object_get(ev, "object"));
	json_decref(ev);
	free(b);
	return obj;
}

static void cache_follows_added_modified_deleted(void **state)
{
	struct k8s_store s;
	json_t *added = watch_object(0), *modified = watch_object(1), *deleted = watch_object(2);
	struct k8s_cache *c;

	(void)state;
	assert_int_equal(k8s_store_init(&s), 0);
	c = &s.c[K8S_KIND_SERVICE];
	assert_int_equal(k8s_cache_apply(c, K8S_UPD_ADDED, added), 1);
	assert_int_equal(k8s_cache_apply(c, K8S_UPD_ADDED, added), 0); // same resourceVersion
	assert_string_equal(
		k8s_str(k8s_cache_get(c, "kafka", "game"), "metadata", "resourceVersion", NULL),
		"221");
	assert_int_equal(k8s_cache_apply(c, K8S_UPD_MODIFIED, modified), 1);
	assert_int_equal(
		json_array_size(k8s_get(k8s_cache_get(c, "kafka", "game"), "spec", "ports", NULL)),
		2);
	assert_int_equal(k8s_cache_apply(c, K8S_UPD_DELETED, deleted), 1);
	assert_null(k8s_cache_get(c, "kafka", "game"));
	assert_int_equal(k8s_cache_apply(c, K8S_UPD_DELETED, deleted), 0);
	json_decref(added);
	json_decref(modified);
	json_decref(deleted);
	k8s_store_fini(&s);
}

static void relist_applies_the_difference(void **state)
{
	struct k8s_store s;
	json_t *items, *next;
	char rv[64], cont[64];
	unsigned int changed;
	size_t len;
	char *b = t_wire("services-list.json", &len);
	struct k8s_cache *c;

	(void)state;
	assert_int_equal(k8s_store_init(&s), 0);
	c = &s.c[K8S_KIND_SERVICE];
	assert_int_equal(k8s_list_decode(b, len, NULL, &items, rv, sizeof(rv), cont, sizeof(cont)),
			 0);
	assert_int_equal(k8s_cache_replace(c, items, &changed), 0);
	assert_int_equal(changed, 2);
	assert_int_equal(k8s_cache_replace(c, items, &changed), 0);
	assert_int_equal(changed, 0); // the same list again: nothing to do
	assert_non_null(k8s_cache_get(c, "default", "kubernetes"));

	// After a 410 the relist lacks kubernetes (deleted meanwhile), has kafka at a newer
	// version, and a new "game": three changes.
	next = json_array();
	json_t *kafka = json_deep_copy(json_array_get(items, 1));
	json_object_set_new(json_object_get(kafka, "metadata"), "resourceVersion",
			    json_string("300"));
	json_array_append_new(next, kafka);
	json_array_append_new(next, watch_object(0));
	assert_int_equal(k8s_cache_replace(c, next, &changed), 0);
	assert_int_equal(changed, 3);
	assert_null(k8s_cache_get(c, "default", "kubernetes"));
	assert_string_equal(
		k8s_str(k8s_cache_get(c, "kafka", "kafka"), "metadata", "resourceVersion", NULL),
		"300");
	assert_non_null(k8s_cache_get(c, "kafka", "game"));
	json_decref(next);
	json_decref(items);
	free(b);
	k8s_store_fini(&s);
}

static void cluster_scoped_objects_have_no_namespace_in_their_key(void **state)
{
	json_t *nodes = t_wire_json("nodes-list.json");
	char key[128];

	(void)state;
	assert_string_equal(
		k8s_obj_key(json_array_get(json_object_get(nodes, "items"), 0), key, sizeof(key)),
		"node-1");
	json_decref(nodes);
}

static void queue_keeps_order_and_never_blocks_the_taker(void **state)
{
	struct k8s_queue q;
	struct k8s_update *u;

	(void)state;
	k8s_queue_init(&q);
	assert_null(k8s_queue_take(&q));
	assert_int_equal(k8s_queue_push(&q, K8S_UPD_ADDED, K8S_KIND_POD, json_object(), false), 0);
	assert_int_equal(k8s_queue_push(&q, K8S_UPD_RELIST, K8S_KIND_NODE, json_array(), false), 0);
	assert_int_equal(k8s_queue_push(&q, K8S_UPD_LEADER, K8S_KIND_MAPPING, NULL, true), 0);
	// Held by another thread (here: us): take gives up at once rather than wait.
	pthread_mutex_lock(&q.lock);
	assert_null(k8s_queue_take(&q));
	pthread_mutex_unlock(&q.lock);
	u = k8s_queue_take(&q);
	assert_non_null(u);
	assert_int_equal(u->type, K8S_UPD_ADDED);
	assert_int_equal(u->next->kind, K8S_KIND_NODE);
	assert_true(u->next->next->leader);
	assert_null(u->next->next->next);
	assert_null(k8s_queue_take(&q));
	k8s_update_list_free(u);
	// What is left at shutdown is freed by fini.
	k8s_queue_push(&q, K8S_UPD_MODIFIED, K8S_KIND_POD, json_object(), false);
	k8s_queue_fini(&q);
}

/* ---- Backoff: k8s_backoff_on() on a fake clock ---- */

/* The nominal delay after @p n failures in a row: 500 ms doubled, capped at 30 s. */
static uint32_t nominal_after(unsigned int n)
{
	uint32_t d = K8S_BACKOFF_MIN_MS;

	for (unsigned int i = 1; i < n; i++)
		d = d >= K8S_BACKOFF_MAX_MS / 2 ? K8S_BACKOFF_MAX_MS : d * 2;
	return d;
}

/* A failure at @p *now: the delay is in [nominal/2, nominal]; the clock then waits it out. */
static void fail_expecting(struct k8s_backoff *b, enum k8s_backoff_event ev, uint64_t *now,
			   uint32_t nominal)
{
	uint32_t d = k8s_backoff_on(b, ev, *now);

	assert_int_equal(b->nominal_ms, nominal);
	assert_in_range(d, nominal / 2, nominal);
	*now += d;
}

/* A watch that answers 200 and is closed at once, @p n times: the delays grow to the cap. */
static void watch_closed_at_once(struct k8s_backoff *b, uint64_t *now, unsigned int n)
{
	for (unsigned int i = 1; i <= n; i++) {
		assert_int_equal(k8s_backoff_on(b, K8S_BO_WATCH_OPEN, *now), 0);
		*now += 20; // the server closes it with nothing in it
		fail_expecting(b, K8S_BO_FAILED, now, nominal_after(i));
	}
}

static void backoff_grows_when_watches_are_closed_at_once(void **state)
{
	struct k8s_backoff b = {.seed = 7};
	uint64_t now = 5000000;

	(void)state;
	// 500 ms, 1 s, 2 s, ... 16 s, then 30 s for good: the 200 header resets nothing.
	watch_closed_at_once(&b, &now, 12);
	assert_int_equal(b.nominal_ms, K8S_BACKOFF_MAX_MS);
	// The relist in between (the list works, the watch does not) resets nothing either.
	assert_int_equal(k8s_backoff_on(&b, K8S_BO_LIST_DONE, now), 0);
	fail_expecting(&b, K8S_BO_FAILED, &now, K8S_BACKOFF_MAX_MS);
}

static void backoff_resets_after_a_healthy_watch(void **state)
{
	struct k8s_backoff b = {.seed = 11};
	uint64_t now = 5000000;

	(void)state;
	watch_closed_at_once(&b, &now, 10);
	// A watch that streams events for a while but less than the threshold, then breaks: the
	// backoff stays where it was.
	assert_int_equal(k8s_backoff_on(&b, K8S_BO_WATCH_OPEN, now), 0);
	now += K8S_BACKOFF_RESET_MS / 2;
	assert_int_equal(k8s_backoff_on(&b, K8S_BO_WATCH_END, now), 0);
	assert_int_equal(k8s_backoff_on(&b, K8S_BO_WATCH_OPEN, now), 0);
	now += 1000;
	fail_expecting(&b, K8S_BO_FAILED, &now, K8S_BACKOFF_MAX_MS);
	// A watch healthy for the threshold, then a failure: the backoff starts over at 500 ms.
	assert_int_equal(k8s_backoff_on(&b, K8S_BO_WATCH_OPEN, now), 0);
	now += K8S_BACKOFF_RESET_MS;
	fail_expecting(&b, K8S_BO_FAILED, &now, K8S_BACKOFF_MIN_MS);
	// And grows again from there.
	assert_int_equal(k8s_backoff_on(&b, K8S_BO_WATCH_OPEN, now), 0);
	fail_expecting(&b, K8S_BO_FAILED, &now, 2 * K8S_BACKOFF_MIN_MS);
	// Healthy across normal watch ends (timeoutSeconds) and relists: it counts the same.
	for (int i = 0; i < 4; i++) {
		assert_int_equal(k8s_backoff_on(&b, K8S_BO_WATCH_OPEN, now), 0);
		now += K8S_BACKOFF_RESET_MS / 3;
		assert_int_equal(k8s_backoff_on(&b, K8S_BO_WATCH_END, now), 0);
	}
	fail_expecting(&b, K8S_BO_FAILED, &now, K8S_BACKOFF_MIN_MS);
}

static void continue_token_expiry_goes_through_the_backoff(void **state)
{
	struct k8s_backoff b = {.seed = 3};
	uint64_t now = 5000000;

	(void)state;
	// A server whose continue tokens always expire: the list restarts after growing delays,
	// not at once.
	for (unsigned int i = 1; i <= 10; i++) {
		now += 50; // a page, then the next one's 410
		fail_expecting(&b, K8S_BO_CONTINUE_EXPIRED, &now, nominal_after(i));
	}
	// It is the same backoff as the other failures.
	fail_expecting(&b, K8S_BO_FAILED, &now, K8S_BACKOFF_MAX_MS);
	// And a list that completes does not reset it: only time without failure does.
	assert_int_equal(k8s_backoff_on(&b, K8S_BO_LIST_DONE, now), 0);
	fail_expecting(&b, K8S_BO_CONTINUE_EXPIRED, &now, K8S_BACKOFF_MAX_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watch_stream_decodes_recorded_events),
		cmocka_unit_test(watch_stream_from_raw_chunks_in_odd_splits),
		cmocka_unit_test(too_old_watch_is_a_410_expired_error_event),
		cmocka_unit_test(stream_skips_bad_lines_and_stops_when_told),
		cmocka_unit_test(recorded_lists_decode),
		cmocka_unit_test(informers_keep_what_their_kind_row_says),
		cmocka_unit_test(cache_follows_added_modified_deleted),
		cmocka_unit_test(relist_applies_the_difference),
		cmocka_unit_test(cluster_scoped_objects_have_no_namespace_in_their_key),
		cmocka_unit_test(queue_keeps_order_and_never_blocks_the_taker),
		cmocka_unit_test(backoff_grows_when_watches_are_closed_at_once),
		cmocka_unit_test(backoff_resets_after_a_healthy_watch),
		cmocka_unit_test(continue_token_expiry_goes_through_the_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
