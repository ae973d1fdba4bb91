/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The incremental reconcile (cp/k8s_memo.c, issue 12 item 4): a pass rebuilds only the sources
 * whose object, or an object their last build read, changed since the last pass (counted by
 * k8s_reconcile_builds), and gives what a full pass gives, result for result and byte for byte,
 * down to the published tables' backends and Maglev table.
 *
 * Objects: Mappings svc-0..3 in mode service over Services svc-0..3, one EndpointSlice each
 * (svc-<i>-x, endpoints 10.1.<i>.1..3, ready), and Mapping b in mode perPod over StatefulSet b
 * (2 replicas, Pods b-0 and b-1).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <rte_eal.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>
#include <strait/k8s_status.h>
#include <strait/tables.h>

#include "eal_fixture.h"
#include "k8s_memo.h"
#include "k8s_report.h"
#include "k8s_testlib.h"
#include "k8s_store_fixture.h"

#define N_SVC 4

static struct k8s_store store;
static struct k8s_desired d;
static struct k8s_reconcile_params params = {.default_addr = 0xc6336401}; // 198.51.100.1
static unsigned int version;

static void put(enum k8s_kind k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Put an object (printf-formatted JSON) into its cache, a new version each time. */
static void put(enum k8s_kind k, const char *fmt, ...)
{
	char text[2048], rv[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_t *o = t_json(text);
	snprintf(rv, sizeof(rv), "m%u", ++version);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	assert_int_equal(k8s_cache_apply(&store.c[k], K8S_UPD_MODIFIED, o), 1); // a change
	json_decref(o);
}

/* EndpointSlice @p name of Service svc-@p svc: endpoints 10.@p net.<svc>.1..3, ready unless
 * bit e of @p unready. */
static void slice_in(const char *name, unsigned int svc, unsigned int net, unsigned int unready)
{
	char eps[512] = "";
	size_t n = 0;

	for (unsigned int e = 0; e < 3; e++)
		n += (size_t)snprintf(eps + n, sizeof(eps) - n,
				      "%s{\"addresses\":[\"10.%u.%u.%u\"],\"conditions\":"
				      "{\"ready\":%s}}",
				      e ? "," : "", net, svc, e + 1,
				      unready & (1u << e) ? "false" : "true");
	put(K8S_KIND_ENDPOINTSLICE,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"%s\",\"labels\":"
	    "{\"kubernetes.io/service-name\":\"svc-%u\"}},\"addressType\":\"IPv4\","
	    "\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":8080}],"
	    "\"endpoints\":[%s]}",
	    name, svc, eps);
}

/* slice_in() with endpoints 10.1.<svc>.1..3. */
static void slice(const char *name, unsigned int svc, unsigned int unready)
{
	slice_in(name, svc, 1, unready);
}

static void service(unsigned int i, unsigned int port)
{
	put(K8S_KIND_SERVICE,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-%u\"},\"spec\":{\"ports\":"
	    "[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":%u,\"targetPort\":8080}]}}",
	    i, port);
}

static void pod(unsigned int k, bool ready)
{
	put(K8S_KIND_POD,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"b-%u\",\"labels\":"
	    "{\"statefulset.kubernetes.io/pod-name\":\"b-%u\",\"apps.kubernetes.io/pod-index\":"
	    "\"%u\"},\"ownerReferences\":[{\"kind\":\"StatefulSet\",\"name\":\"b\","
	    "\"controller\":true}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.2.0.%u\","
	    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
	    k, k, k, k + 1, ready ? "True" : "False");
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(k8s_store_init(&store), 0);
	memset(&d, 0, sizeof(d));
	k8s_reconcile_incremental = true;
	for (unsigned int i = 0; i < N_SVC; i++) {
		char name[32];
		put(K8S_KIND_MAPPING,
		    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-%u\"},\"spec\":{\"addresses\":"
		    "[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-%u\",\"ports\":"
		    "[{\"port\":%u,\"servicePort\":80}]}}",
		    i, i, 1000 + i);
		service(i, 80);
		snprintf(name, sizeof(name), "svc-%u-x", i);
		slice(name, i, 0);
	}
	put(K8S_KIND_MAPPING,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"b\"},\"spec\":{\"addresses\":"
	    "[\"198.51.100.7\"],\"mode\":\"perPod\",\"statefulSetName\":\"b\",\"startPort\":2000,"
	    "\"targetPort\":9092}}");
	put(K8S_KIND_STATEFULSET,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"b\"},\"spec\":{\"replicas\":2,"
	    "\"serviceName\":\"b\"}}");
	pod(0, true);
	pod(1, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	k8s_reconcile_incremental = true;
	t_store_done(&store, &d);
	k8s_mapping_decoded_clear();
	return 0;
}

/* Reconcile; @return how many sources were built (not taken from the memo). */
static unsigned long pass(void)
{
	unsigned long b0 = k8s_reconcile_builds;

	t_reconcile(&store, &params, &d);
	return k8s_reconcile_builds - b0;
}

static const struct k8s_result *res(const struct k8s_desired *x, const char *name)
{
	for (unsigned int i = 0; i < x->n_res; i++)
		if (strcmp(x->res[i].name, name) == 0)
			return &x->res[i];
	fail_msg("no result for %s", name);
	return NULL;
}

/* @p d is what a full pass over the same caches (@p n_sources sources) gives: every result,
 * every mapping, bytes. */
static void assert_as_full_pass_n(unsigned int n_sources)
{
	struct k8s_desired full = {0};
	unsigned long b0 = k8s_reconcile_builds;

	k8s_reconcile_incremental = false;
	k8s_mapping_decoded_clear(); // every spec parsed again, not copied from the last parse
	assert_int_equal(k8s_reconcile(&store, &params, &full), 0);
	k8s_reconcile_incremental = true;
	assert_int_equal(k8s_reconcile_builds - b0, n_sources); // all of them
	assert_int_equal(full.n_res, d.n_res);
	assert_int_equal(full.n_maps, d.n_maps);
	assert_true(full.fingerprint == d.fingerprint);
	for (unsigned int i = 0; i < d.n_res; i++) {
		const struct k8s_result *a = &d.res[i], *b = &full.res[i];
		// Every field (a memo'd result is taken field by field, result_take()).
		assert_int_equal(a->kind, b->kind);
		assert_string_equal(a->ns, b->ns);
		assert_string_equal(a->name, b->name);
		assert_string_equal(a->uid, b->uid);
		assert_int_equal(a->generation, b->generation);
		assert_string_equal(a->created, b->created);
		assert_int_equal(a->valid, b->valid);
		assert_int_equal(a->conflict, b->conflict);
		assert_int_equal(a->accepted, b->accepted);
		assert_string_equal(a->reason, b->reason);
		assert_string_equal(a->message, b->message);
		assert_string_equal(a->conflict_message, b->conflict_message);
		assert_int_equal(a->first_map, b->first_map);
		assert_int_equal(a->n_maps, b->n_maps);
		assert_int_equal(a->n_ports, b->n_ports);
		assert_int_equal(a->n_ports_ready, b->n_ports_ready);
		assert_string_equal(a->unsupported, b->unsupported);
		assert_true(a->fingerprint == b->fingerprint);
		assert_true(a->claim_fp == b->claim_fp);
		assert_true(json_equal(a->advertised, b->advertised));
	}
	for (unsigned int i = 0; i < d.n_maps; i++) {
		struct cfg_mapping x = d.maps[i], y = full.maps[i];
		assert_int_equal(x.n_backends, y.n_backends);
		assert_memory_equal(x.backends, y.backends, x.n_backends * sizeof(*x.backends));
		x.backends = y.backends = NULL;
		assert_memory_equal(&x, &y, sizeof(x));
	}
	k8s_desired_free(&full);
}

static void assert_as_full_pass(void)
{
	assert_as_full_pass_n(N_SVC + 1);
}

static void an_unchanged_source_is_not_recomputed(void **state)
{
	(void)state;
	assert_int_equal(pass(), N_SVC + 1);
	assert_int_equal(d.n_res, N_SVC + 1);
	assert_int_equal(d.n_maps, N_SVC + 2); // b-0, b-1
	assert_int_equal(pass(), 0);
	assert_int_equal(pass(), 0);
	assert_as_full_pass();
	// The full pass recomputed everything, but changed nothing: the memo still holds.
	assert_int_equal(pass(), 0);
}

/* @p name's mapping id in @p d (struct k8s_desired.ids). */
static uint64_t id_of(const char *name)
{
	assert_non_null(d.ids);
	for (unsigned int i = 0; i < d.n_maps; i++)
		if (strcmp(d.maps[i].name, name) == 0)
			return d.ids[i];
	fail_msg("no mapping %s", name);
	return 0;
}

/* Every memo'd mapping comes with an id (cp_mappings_replace_ids()): the same from pass to
 * pass while its source is taken from the memo, a new one when its source is rebuilt, even
 * to the same bytes; never shared by two mappings. */
static void a_memoed_mapping_keeps_its_id_a_rebuilt_one_gets_another(void **state)
{
	uint64_t before[N_SVC + 2];

	(void)state;
	pass();
	assert_int_equal(d.n_maps, N_SVC + 2);
	for (unsigned int i = 0; i < d.n_maps; i++) {
		before[i] = d.ids[i];
		assert_true(before[i] != 0);
		for (unsigned int j = 0; j < i; j++)
			assert_true(before[i] != before[j]);
	}
	uint64_t svc2 = id_of("svc-2"), b1 = id_of("b-1");
	assert_int_equal(pass(), 0);
	for (unsigned int i = 0; i < d.n_maps; i++)
		assert_true(d.ids[i] == before[i]);

	slice("svc-2-x", 2, 1u << 1); // rebuilt: a new id
	assert_int_equal(pass(), 1);
	assert_true(id_of("svc-2") != svc2);
	assert_true(id_of("svc-1") == before[1]);
	assert_true(id_of("b-1") == b1);
	svc2 = id_of("svc-2");
	slice("svc-2-x", 2, 1u << 2); // rebuilt: a new id
	assert_int_equal(pass(), 1);
	assert_true(id_of("svc-2") != svc2);
	pod(1, false); // the StatefulSet's mappings rebuilt
	assert_int_equal(pass(), 1);
	assert_true(id_of("b-1") != b1);
	assert_as_full_pass();
}

/* A memo'd source's mappings share the memo's backends instead of copying them each pass
 * (k8s_desired.borrowed): two sets from consecutive passes, both alive, point to the same
 * backends of an unchanged source; a rebuilt source's are its own. A set outlives the memo
 * entries it borrows from: after its source is rebuilt (the entry dropped) and the store
 * destroyed, its backends still read as they were. */
static void memoed_mappings_share_the_memos_backends_for_as_long_as_the_set_lives(void **state)
{
	struct k8s_desired d2 = {0};

	(void)state;
	pass();
	pass();
	const struct cfg_mapping *a1 = t_map(&d, "svc-1"), *a2 = t_map(&d, "svc-2");
	assert_non_null(a1);
	assert_non_null(a2);
	assert_int_equal(a2->n_backends, 3);
	struct cfg_backend saved[3];
	memcpy(saved, a2->backends, sizeof(saved));

	slice("svc-2-x", 2, 1u << 1); // svc-2 rebuilt: its memo entry replaced
	assert_int_equal(k8s_reconcile(&store, &params, &d2), 0);
	assert_ptr_equal(t_map(&d2, "svc-1")->backends, a1->backends);
	assert_ptr_not_equal(t_map(&d2, "svc-2")->backends, a2->backends);
	for (unsigned int i = 0; i < d2.n_maps; i++)
		assert_int_equal(d2.borrowed[i], strcmp(d2.maps[i].name, "svc-2") != 0);
	assert_memory_equal(a2->backends, saved, sizeof(saved)); // d still holds the old entry
	k8s_desired_free(&d2);
	k8s_store_fini(&store);
	assert_memory_equal(a2->backends, saved, sizeof(saved));
	k8s_desired_free(&d);
	assert_int_equal(k8s_store_init(&store), 0); // for the teardown
}

/* pass(), and how much @p counter (a k8s_* test counter) grew in it. */
static unsigned long pass_delta(const unsigned long *counter)
{
	unsigned long c0 = *counter;

	pass();
	return *counter - c0;
}

/* Mappings copied from the memo into the set by the last pass(). */
static unsigned long copied;

static void pass_counted(void)
{
	copied = pass_delta(&k8s_reconcile_copied);
}

/* A pass starts from the arrays of the last set freed and copies a memo'd mapping only where
 * that set did not hold it (by id, at its position): an endpoint change copies none of the
 * unchanged sources' mappings; a mapping the last set had built itself is copied once, when
 * it is first taken from the memo; a removed source shifts the ones after it, which are
 * copied to their new places. Each set is what a full pass gives. */
static void a_pass_copies_only_the_memoed_mappings_the_last_set_lacks(void **state)
{
	(void)state;
	pass_counted(); // every source built: none copied
	assert_int_equal(copied, 0);
	pass_counted(); // the last set's were its own: every one copied, once
	assert_int_equal(copied, N_SVC + 2);
	const struct cfg_mapping *maps = d.maps;
	pass_counted();
	assert_int_equal(copied, 0);
	assert_ptr_equal(d.maps, maps); // the last set's arrays
	assert_as_full_pass();
	// A full pass memos every source again, under new ids: copied once more.
	pass_counted();
	assert_int_equal(copied, N_SVC + 2);

	slice("svc-2-x", 2, 1u << 1); // svc-2 rebuilt; the rest already where it goes
	pass_counted();
	assert_int_equal(copied, 0);
	assert_true(t_map(&d, "svc-2")->backends[1].serving_only);
	pass_counted(); // svc-2 now from the memo, where the last set had its own
	assert_int_equal(copied, 1);
	assert_true(t_map(&d, "svc-2")->backends[1].serving_only);
	assert_as_full_pass();
	pass();

	// svc-1's Mapping deleted: the sources after it move up one and are copied.
	json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "namespace", "t", "name", "svc-1");
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_MAPPING], K8S_UPD_DELETED, o), 1);
	json_decref(o);
	pass_counted();
	assert_int_equal(copied, N_SVC - 2 + 2); // svc-2.. and b-0, b-1
	assert_null(t_map(&d, "svc-1"));
	pass_counted();
	assert_int_equal(copied, 0);
	assert_as_full_pass_n(N_SVC);
}

/* Whether a Service is a LoadBalancer of ours (a source) is asked of every Service once, then
 * again only after a Service changed, came or went: endpoint changes ask none. */
static void a_service_is_asked_whether_it_is_ours_only_after_a_service_changed(void **state)
{
	unsigned long a0 = k8s_reconcile_ours_asked;

	(void)state;
	pass();
	assert_int_equal(k8s_reconcile_ours_asked - a0, N_SVC);
	a0 = k8s_reconcile_ours_asked;
	pass();
	slice("svc-2-x", 2, 1u << 1);
	pass();
	assert_int_equal(k8s_reconcile_ours_asked - a0, 0);
	assert_int_equal(d.n_res, N_SVC + 1);

	// A LoadBalancer Service of ours comes: asked again, and a source.
	put(K8S_KIND_SERVICE,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"lb\"},\"spec\":{\"type\":"
	    "\"LoadBalancer\",\"loadBalancerClass\":\"" K8S_LB_CLASS "\",\"ports\":"
	    "[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":81,\"targetPort\":8080}]}}");
	a0 = k8s_reconcile_ours_asked;
	pass();
	assert_int_equal(k8s_reconcile_ours_asked - a0, N_SVC + 1);
	assert_int_equal(d.n_res, N_SVC + 2);
	assert_non_null(res(&d, "lb"));
	a0 = k8s_reconcile_ours_asked;
	pass();
	assert_int_equal(k8s_reconcile_ours_asked - a0, 0);
	assert_int_equal(d.n_res, N_SVC + 2);
	assert_as_full_pass_n(N_SVC + 2);

	// No longer a LoadBalancer: asked again, and no longer a source.
	put(K8S_KIND_SERVICE, "{\"metadata\":{\"namespace\":\"t\",\"name\":\"lb\"},\"spec\":"
			      "{\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\","
			      "\"port\":81,\"targetPort\":8080}]}}");
	a0 = k8s_reconcile_ours_asked;
	pass();
	assert_int_equal(k8s_reconcile_ours_asked - a0, N_SVC + 1);
	assert_int_equal(d.n_res, N_SVC + 1);
	assert_as_full_pass();
}

/* A pass walks a kind whose row asks ours() only up to its last object of ours
 * (k8s_reconcile_walked): none of the Services while none is a LoadBalancer of ours; up to
 * the one that becomes one; every one when the last in cache order is. */
static void a_pass_walks_the_services_only_up_to_the_last_of_ours(void **state)
{
	(void)state;
	pass();
	// The five Mappings and the StatefulSet; not the N_SVC Services.
	assert_int_equal(pass_delta(&k8s_reconcile_walked), N_SVC + 2);
	put(K8S_KIND_SERVICE, // svc-1 becomes a LoadBalancer of ours: svc-0 and svc-1 walked
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-1\"},\"spec\":{\"type\":"
	    "\"LoadBalancer\",\"loadBalancerClass\":\"" K8S_LB_CLASS "\",\"ports\":"
	    "[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,\"targetPort\":8080}]}}");
	assert_int_equal(pass_delta(&k8s_reconcile_walked), N_SVC + 2 + 2);
	assert_non_null(res(&d, "svc-1"));
	assert_int_equal(d.n_res, N_SVC + 2);
	assert_int_equal(pass_delta(&k8s_reconcile_walked), N_SVC + 2 + 2); // kept by the memo
	assert_as_full_pass_n(N_SVC + 2);
	put(K8S_KIND_SERVICE, // another, last in cache order: every Service walked
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"lb\"},\"spec\":{\"type\":"
	    "\"LoadBalancer\",\"loadBalancerClass\":\"" K8S_LB_CLASS "\",\"ports\":"
	    "[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":81,\"targetPort\":8080}]}}");
	assert_int_equal(pass_delta(&k8s_reconcile_walked), N_SVC + 2 + N_SVC + 1);
	assert_int_equal(d.n_res, N_SVC + 3);
	assert_as_full_pass_n(N_SVC + 3);
	service(1, 80); // no longer: up to lb
	assert_int_equal(pass_delta(&k8s_reconcile_walked), N_SVC + 2 + N_SVC + 1);
	assert_int_equal(d.n_res, N_SVC + 2);
	assert_as_full_pass_n(N_SVC + 2);
}

/* Lookups of memo entries by key in the last pass(). */
static unsigned long lookups;

static void pass_looked_up(void)
{
	lookups = pass_delta(&k8s_memo_key_lookups);
}

/* A pass finds a source's memo entry at its object's place in cache order, where an earlier
 * pass found it, without a lookup by key: only a changed source is looked up (missing, then
 * its new entry once), and every one after the cache is reordered (an object added or
 * deleted). */
static void memo_entries_are_found_by_place_until_the_cache_is_reordered(void **state)
{
	(void)state;
	pass_looked_up(); // every source built
	pass_looked_up(); // every one found by key, its place remembered
	assert_true(lookups >= N_SVC + 1);
	pass_looked_up();
	assert_int_equal(lookups, 0);
	assert_as_full_pass();
	pass_looked_up(); // the full pass memo'd every source again: new entries
	pass_looked_up();
	assert_int_equal(lookups, 0);

	slice("svc-2-x", 2, 1u << 1); // svc-2 rebuilt: its entry dropped, a new one put
	pass_looked_up();
	assert_int_equal(lookups, 1); // svc-2's place is empty: looked up, missing
	pass_looked_up();
	assert_int_equal(lookups, 1); // svc-2's new entry, by key once
	assert_true(t_map(&d, "svc-2")->backends[1].serving_only);
	pass_looked_up();
	assert_int_equal(lookups, 0);
	assert_true(t_map(&d, "svc-2")->backends[1].serving_only);
	assert_int_equal(res(&d, "svc-2")->n_ports_ready, 1);

	// svc-1's Mapping deleted: the Mappings after it move up, found by key again.
	json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "namespace", "t", "name", "svc-1");
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_MAPPING], K8S_UPD_DELETED, o), 1);
	json_decref(o);
	pass_looked_up();
	assert_true(lookups >= N_SVC);
	assert_null(t_map(&d, "svc-1"));
	assert_non_null(t_map(&d, "svc-3"));
	assert_non_null(t_map(&d, "b-1"));
	pass_looked_up();
	assert_int_equal(lookups, 0);
	assert_as_full_pass_n(N_SVC);
}

/* Conflicts are settled over every source only when a source's claims (names, addresses,
 * ports, age) changed; an endpoint change takes the last pass's outcome, the loser's
 * condition and message too, as a full pass gives them. */
static void conflicts_are_settled_again_only_when_claims_change(void **state)
{
	(void)state;
	// zz-clash claims svc-1's port: svc-1 is older by name (neither has an age), and wins.
	put(K8S_KIND_MAPPING,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"zz-clash\"},\"spec\":{\"addresses\":"
	    "[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-3\",\"ports\":"
	    "[{\"port\":1001,\"servicePort\":80}]}}");
	unsigned long s0 = k8s_reconcile_settles;
	pass();
	assert_int_equal(k8s_reconcile_settles - s0, 1);
	assert_true(res(&d, "zz-clash")->conflict);
	assert_false(res(&d, "zz-clash")->accepted);
	assert_true(res(&d, "svc-1")->accepted);
	char message[K8S_MESSAGE_MAX];
	snprintf(message, sizeof(message), "%s", res(&d, "zz-clash")->message);

	s0 = k8s_reconcile_settles;
	slice("svc-3-x", 3, 1u << 1); // zz-clash's own Service: rebuilt, same claims
	assert_int_equal(pass(), 2);
	slice("svc-1-x", 1, 1u << 2);
	assert_int_equal(pass(), 1);
	assert_int_equal(k8s_reconcile_settles - s0, 0);
	assert_true(res(&d, "zz-clash")->conflict);
	assert_string_equal(res(&d, "zz-clash")->message, message);
	assert_true(res(&d, "svc-1")->accepted);
	assert_as_full_pass_n(N_SVC + 2);

	// Another port: settled again, both accepted.
	s0 = k8s_reconcile_settles;
	put(K8S_KIND_MAPPING,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"zz-clash\"},\"spec\":{\"addresses\":"
	    "[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-3\",\"ports\":"
	    "[{\"port\":1500,\"servicePort\":80}]}}");
	pass();
	assert_int_equal(k8s_reconcile_settles - s0, 1);
	assert_true(res(&d, "zz-clash")->accepted);
	assert_false(res(&d, "zz-clash")->conflict);
	assert_as_full_pass_n(N_SVC + 2);
}

static void an_endpoint_change_rebuilds_its_service_only(void **state)
{
	(void)state;
	pass();
	slice("svc-2-x", 2, 1u << 1); // 10.1.2.2 not ready
	assert_int_equal(pass(), 1);
	const struct cfg_mapping *m = t_map(&d, "svc-2");
	assert_non_null(m);
	assert_int_equal(m->n_backends, 3);
	assert_int_equal(m->backends[1].addr, t_ip("10.1.2.2"));
	assert_true(m->backends[1].serving_only);
	assert_false(m->backends[0].serving_only);
	assert_int_equal(res(&d, "svc-2")->n_ports_ready, 1);
	assert_as_full_pass();

	// A second slice for svc-1, then one moved from svc-1 to svc-3: both rebuilt.
	slice("extra", 1, 0);
	assert_int_equal(pass(), 1);
	slice("extra", 3, 0);
	assert_int_equal(pass(), 2);
	assert_as_full_pass();

	// Two changes of the same Service before a pass: one build.
	slice("svc-0-x", 0, 1);
	slice("svc-0-x", 0, 3);
	assert_int_equal(pass(), 1);
	assert_true(t_map(&d, "svc-0")->backends[1].serving_only);

	// A deleted slice: its Service has no endpoint left.
	json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "namespace", "t", "name", "svc-0-x");
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_ENDPOINTSLICE], K8S_UPD_DELETED, o), 1);
	json_decref(o);
	assert_int_equal(pass(), 1);
	assert_int_equal(res(&d, "svc-0")->n_ports_ready, 0);
	assert_as_full_pass();
}

/* A Mapping rebuilt for an endpoint change has the same spec: it is not parsed again
 * (k8s_mapping_parses), its parse is copied; a changed spec is parsed, once, and a spec the
 * parser refuses is refused every time with the same message. Each set is what a full pass
 * gives, whose specs are all parsed afresh. */
static void an_unchanged_mapping_spec_is_parsed_once(void **state)
{
	(void)state;
	unsigned long p0 = k8s_mapping_parses;
	pass();
	assert_int_equal(k8s_mapping_parses - p0, N_SVC + 1);
	slice("svc-2-x", 2, 1u << 1);
	p0 = k8s_mapping_parses;
	assert_int_equal(pass(), 1);
	assert_int_equal(k8s_mapping_parses - p0, 0);
	assert_as_full_pass();
	service(1, 80); // the Service: its Mapping rebuilt, not parsed
	p0 = k8s_mapping_parses;
	assert_int_equal(pass(), 1);
	assert_int_equal(k8s_mapping_parses - p0, 0);

	// Another port: a new spec text, parsed; back to the old one: a copy of its parse.
	const char *fmt =
		"{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-1\"},\"spec\":"
		"{\"addresses\":[\"198.51.100.7\"],\"mode\":\"service\","
		"\"serviceName\":\"svc-1\",\"ports\":[{\"port\":%u,\"servicePort\":80}]}}";
	put(K8S_KIND_MAPPING, fmt, 1101u);
	p0 = k8s_mapping_parses;
	assert_int_equal(pass(), 1);
	assert_int_equal(k8s_mapping_parses - p0, 1);
	assert_int_equal(t_map(&d, "svc-1")->ports[0].port, 1101);
	put(K8S_KIND_MAPPING, fmt, 1001u);
	p0 = k8s_mapping_parses;
	assert_int_equal(pass(), 1);
	assert_int_equal(k8s_mapping_parses - p0, 0);
	assert_int_equal(t_map(&d, "svc-1")->ports[0].port, 1001);
	assert_string_equal(t_map(&d, "svc-1")->name, "svc-1");
	assert_as_full_pass();

	// Refused: not kept, parsed each time, the same message.
	put(K8S_KIND_MAPPING, fmt, 70000u);
	assert_int_equal(pass(), 1);
	assert_false(res(&d, "svc-1")->valid);
	char msg[K8S_MESSAGE_MAX];
	snprintf(msg, sizeof(msg), "%s", res(&d, "svc-1")->message);
	assert_non_null(strstr(msg, "spec.ports[0].port"));
	assert_as_full_pass(); // the same message from a fresh parse
	const json_t *obj = k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", "svc-1");
	for (unsigned int i = 0; i < 2; i++) {
		struct cfg_mapping m;
		char err[K8S_MESSAGE_MAX];
		uint8_t proto;
		p0 = k8s_mapping_parses;
		assert_int_equal(k8s_mapping_decode(obj, &m, &proto, err, sizeof(err)), -EINVAL);
		assert_int_equal(k8s_mapping_parses - p0, 1); // not kept: parsed again
		assert_string_equal(err, msg);
	}
}

/* One pass that rebuilds one source: @p texts Mapping texts made, @p parses parsed. */
static void pass_makes(unsigned long texts, unsigned long parses)
{
	unsigned long t0 = k8s_mapping_texts, p0 = k8s_mapping_parses;

	assert_int_equal(pass(), 1);
	assert_int_equal(k8s_mapping_texts - t0, texts);
	assert_int_equal(k8s_mapping_parses - p0, parses);
}

/* A Mapping rebuilt with the spec it last decoded to a kept parse, its keys in the same order,
 * takes that parse without making the spec's text (k8s_mapping_texts); another spec makes
 * its text, the same keys in another order too (another text: parsed), and a refused spec
 * makes it every time. Each set is what a full pass gives. */
static void an_unchanged_mapping_spec_makes_no_text(void **state)
{
	const char *fmt = "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-1\"},\"spec\":%s}";
	unsigned long t0 = k8s_mapping_texts, p0 = k8s_mapping_parses;

	(void)state;
	pass();
	assert_int_equal(k8s_mapping_texts - t0, N_SVC + 1);
	assert_int_equal(k8s_mapping_parses - p0, N_SVC + 1);
	slice("svc-1-x", 1, 1u << 2); // its Mapping rebuilt
	pass_makes(0, 0);
	assert_int_equal(t_map(&d, "svc-1")->ports[0].port, 1001);

	// Another value one level down, the keys in another order: a text, parsed.
	put(K8S_KIND_MAPPING, fmt,
	    "{\"mode\":\"service\",\"addresses\":[\"198.51.100.7\"],\"serviceName\":\"svc-1\","
	    "\"ports\":[{\"servicePort\":80,\"port\":1101}]}");
	pass_makes(1, 1);
	assert_int_equal(t_map(&d, "svc-1")->ports[0].port, 1101);
	slice("svc-1-x", 1, 0);
	pass_makes(0, 0); // the new spec is now the one seen

	// The same JSON with its keys in another order (the cache takes it as no change, so
	// decoded here): another text, parsed; then the other order's again: a text, copied.
	const json_t *cached = k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", "svc-1");
	json_t *other = t_json("{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-1\"},\"spec\":"
			       "{\"addresses\":[\"198.51.100.7\"],\"mode\":\"service\","
			       "\"serviceName\":\"svc-1\",\"ports\":[{\"port\":1101,"
			       "\"servicePort\":80}]}}");
	const json_t *objs[] = {cached, other, other, cached};
	const unsigned int texts[] = {0, 1, 0, 1}, parses[] = {0, 1, 0, 0};
	for (unsigned int i = 0; i < 4; i++) {
		struct cfg_mapping m;
		char err[K8S_MESSAGE_MAX];
		uint8_t proto;
		t0 = k8s_mapping_texts;
		p0 = k8s_mapping_parses;
		assert_int_equal(k8s_mapping_decode(objs[i], &m, &proto, err, sizeof(err)), 0);
		assert_int_equal(k8s_mapping_texts - t0, texts[i]);
		assert_int_equal(k8s_mapping_parses - p0, parses[i]);
		assert_int_equal(m.ports[0].port, 1101);
		assert_string_equal(m.name, "svc-1");
		cfg_mapping_free(&m);
	}
	json_decref(other);

	// Back to the first spec: its text again, its parse copied.
	put(K8S_KIND_MAPPING, fmt,
	    "{\"addresses\":[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-1\","
	    "\"ports\":[{\"port\":1001,\"servicePort\":80}]}");
	pass_makes(1, 0);
	assert_int_equal(t_map(&d, "svc-1")->ports[0].port, 1001);
	// A key the parser does not read (dropped from the text) still makes another text.
	put(K8S_KIND_MAPPING, fmt,
	    "{\"addresses\":[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-1\","
	    "\"ports\":[{\"port\":1001,\"servicePort\":80}],\"x-unknown\":1}");
	pass_makes(1, 0); // the same text once filtered
	assert_as_full_pass();

	// Refused: a text every time, the same message.
	put(K8S_KIND_MAPPING, fmt,
	    "{\"addresses\":[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-1\","
	    "\"ports\":[{\"port\":70000,\"servicePort\":80}]}");
	assert_int_equal(pass(), 1);
	assert_false(res(&d, "svc-1")->valid);
	assert_non_null(strstr(res(&d, "svc-1")->message, "spec.ports[0].port"));
	cached = k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", "svc-1");
	for (unsigned int i = 0; i < 2; i++) {
		struct cfg_mapping m;
		char err[K8S_MESSAGE_MAX];
		uint8_t proto;
		t0 = k8s_mapping_texts;
		assert_int_equal(k8s_mapping_decode(cached, &m, &proto, err, sizeof(err)), -EINVAL);
		assert_int_equal(k8s_mapping_texts - t0, 1);
		assert_string_equal(err, res(&d, "svc-1")->message);
	}
	assert_as_full_pass();
}

/* A rebuilt source's memo entry shares the result's advertised list (no copy of it per
 * rebuild), which neither changes after: the next pass's result, taken from the memo, is
 * that list, unchanged (a pass that fails the source replaces its list, not the memo's:
 * isolating_a_memoed_source_leaves_the_memo_whole). Each set is what a full pass gives. */
static void a_rebuilt_sources_memo_entry_shares_its_advertised_list(void **state)
{
	(void)state;
	pass();
	slice("svc-2-x", 2, 1u << 1); // svc-2 rebuilt
	assert_int_equal(pass(), 1);
	const struct k8s_memo_entry *e = k8s_memo_get(store.memo, K8S_KIND_MAPPING, "t/svc-2");
	assert_non_null(e);
	json_t *adv = res(&d, "svc-2")->advertised;
	assert_ptr_equal(e->res.advertised, adv);
	assert_int_equal(json_array_size(adv), 1);
	json_t *want = json_deep_copy(adv);
	assert_int_equal(pass(), 0);
	assert_ptr_equal(res(&d, "svc-2")->advertised, e->res.advertised);
	assert_true(json_equal(e->res.advertised, want));
	assert_as_full_pass();
	assert_true(json_equal(e->res.advertised, want));
	json_decref(want);
}

/* The EndpointSlice index by Service (k8s_memo_slices()) is kept from pass to pass while
 * slices only change in place; when a slice is added, deleted or the cache reordered
 * (deleted and put back, a relist in another order) it is built again: a Service reads every
 * slice it has, as a full pass does. */
static void a_kept_slice_index_follows_the_cache_order(void **state)
{
	(void)state;
	pass();
	slice_in("a-extra", 1, 9, 0); // a second slice for svc-1: added, the index built again
	assert_int_equal(pass(), 1);
	slice("svc-1-x", 1, 1); // changed in place: the kept index serves
	assert_int_equal(pass(), 1);
	assert_as_full_pass();
	pass();

	// svc-1-x deleted and put back before a pass: after a-extra in the cache now.
	json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "namespace", "t", "name", "svc-1-x");
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_ENDPOINTSLICE], K8S_UPD_DELETED, o), 1);
	json_decref(o);
	slice("svc-1-x", 1, 2);
	assert_int_equal(pass(), 1);
	const struct cfg_mapping *m = t_map(&d, "svc-1");
	assert_int_equal(m->n_backends, 6);
	assert_true(m->backends[1].serving_only); // 10.1.1.2: backends in address order
	assert_false(m->backends[4].serving_only);
	assert_as_full_pass();
	pass();

	// A relist that gives the slices in another order, svc-1-x changed: in the list's order.
	json_t *items = json_array(), *sl;
	const char *key;
	slice("svc-1-x", 1, 4);
	pass();
	json_object_foreach(store.c[K8S_KIND_ENDPOINTSLICE].objs, key, sl)
		json_array_insert(items, 0, sl);
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *it = json_array_get(items, i), *c;
		if (strcmp(k8s_str(it, "metadata", "name", NULL), "svc-1-x") != 0)
			continue;
		c = json_deep_copy(it);
		json_object_set_new(json_object_get(c, "metadata"), "resourceVersion",
				    json_string("relisted"));
		json_object_set_new(json_array_get(json_object_get(c, "endpoints"), 0),
				    "conditions", json_pack("{s:b}", "ready", 0));
		json_array_set_new(items, i, c);
	}
	unsigned int n_changed;
	assert_int_equal(k8s_cache_replace(&store.c[K8S_KIND_ENDPOINTSLICE], items, &n_changed), 0);
	json_decref(items);
	assert_int_equal(n_changed, 1);
	assert_int_equal(pass(), 1);
	assert_as_full_pass();
}

/* k8s_try_build_fn failing on svc-2's mapping. */
static int fail_svc2(void *arg, const struct cfg_mapping *maps, unsigned int n, int *failed,
		     char *err, size_t errlen)
{
	(void)arg;
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(maps[i].name, "svc-2") == 0) {
			*failed = (int)i;
			snprintf(err, errlen, "no");
			return -ENOSPC;
		}
	*failed = -1;
	return 0;
}

/* A result taken from the memo shares its advertised list with it: failing the object in
 * the desired set (isolation) leaves the memo's list whole for the next pass. */
static void isolating_a_memoed_source_leaves_the_memo_whole(void **state)
{
	char err[128];

	(void)state;
	pass();
	pass(); // every result from the memo
	size_t n_adv = json_array_size(res(&d, "svc-2")->advertised);
	assert_true(n_adv > 0);
	assert_int_equal(k8s_desired_isolate(&d, fail_svc2, NULL, err, sizeof(err)), 0);
	assert_false(res(&d, "svc-2")->accepted);
	assert_int_equal(json_array_size(res(&d, "svc-2")->advertised), 0);
	assert_int_equal(pass(), 0);
	assert_true(res(&d, "svc-2")->accepted);
	assert_int_equal(json_array_size(res(&d, "svc-2")->advertised), n_adv);
	assert_as_full_pass();
}

static void a_pod_statefulset_or_service_change_rebuilds_its_readers(void **state)
{
	(void)state;
	pass();
	pod(1, false);
	assert_int_equal(pass(), 1); // Mapping b only
	assert_int_equal(res(&d, "b")->n_ports_ready, 1);
	assert_as_full_pass();

	put(K8S_KIND_STATEFULSET,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"b\"},\"spec\":{\"replicas\":1,"
	    "\"serviceName\":\"b\"}}");
	assert_int_equal(pass(), 1);
	assert_int_equal(res(&d, "b")->n_maps, 1);
	assert_as_full_pass();

	service(3, 81); // servicePort 80 is gone: svc-3 fails
	assert_int_equal(pass(), 1);
	assert_false(res(&d, "svc-3")->valid);
	assert_string_equal(res(&d, "svc-3")->reason, "ServicePortNotFound");
	assert_as_full_pass();

	// The Mapping itself.
	put(K8S_KIND_MAPPING,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-1\"},\"spec\":{\"addresses\":"
	    "[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-1\",\"ports\":"
	    "[{\"port\":1500,\"servicePort\":80}]}}");
	assert_int_equal(pass(), 1);
	assert_int_equal(t_map(&d, "svc-1")->ports[0].port, 1500);
	assert_as_full_pass();
}

static void other_parameters_or_a_relist_rebuild_what_they_touch(void **state)
{
	(void)state;
	pass();
	// The reconcile's parameters (a reload): every source.
	params.default_addr = 0xc6336402;
	assert_int_equal(pass(), N_SVC + 1);
	assert_int_equal(pass(), 0);
	params.default_addr = 0xc6336401;
	assert_int_equal(pass(), N_SVC + 1);

	// A relist with the same versions changes nothing; with one new version, one source.
	json_t *items = json_array(), *it;
	const char *key;
	json_object_foreach(store.c[K8S_KIND_ENDPOINTSLICE].objs, key, it)
		json_array_append_new(items, json_deep_copy(it));
	unsigned int changed;
	assert_int_equal(k8s_cache_replace(&store.c[K8S_KIND_ENDPOINTSLICE], items, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(pass(), 0);
	json_t *again = json_deep_copy(json_array_get(items, 2)); // the cache holds items[2]
	json_object_set_new(json_object_get(again, "metadata"), "resourceVersion",
			    json_string("relisted"));
	json_array_set_new(items, 2, again);
	assert_int_equal(k8s_cache_replace(&store.c[K8S_KIND_ENDPOINTSLICE], items, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(pass(), 1);
	json_decref(items);
	assert_as_full_pass();
}

static void node(const char *name, const char *ip, bool ready)
{
	put(K8S_KIND_NODE,
	    "{\"metadata\":{\"name\":\"%s\"},\"status\":{\"conditions\":[{\"type\":"
	    "\"Ready\",\"status\":\"%s\"}],\"addresses\":[{\"type\":\"InternalIP\","
	    "\"address\":\"%s\"}]}}",
	    name, ready ? "True" : "False", ip);
}

/* A Mapping over node ports reads every Node: any Node's change rebuilds it, and only it. */
static void a_node_change_rebuilds_the_node_port_mappings_only(void **state)
{
	(void)state;
	put(K8S_KIND_SERVICE,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"np\"},\"spec\":{\"type\":"
	    "\"NodePort\",\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,"
	    "\"targetPort\":8080,\"nodePort\":30080}]}}");
	put(K8S_KIND_MAPPING,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"np\"},\"spec\":{\"addresses\":"
	    "[\"198.51.100.8\"],\"mode\":\"service\",\"serviceName\":\"np\",\"backends\":"
	    "\"nodePorts\",\"ports\":[{\"port\":3000,\"servicePort\":80}]}}");
	node("n1", "192.168.49.2", true);
	node("n2", "192.168.49.3", true);
	assert_int_equal(pass(), N_SVC + 2);
	assert_int_equal(t_map(&d, "np")->n_backends, 2);

	node("n2", "192.168.49.3", false);
	assert_int_equal(pass(), 1);
	assert_int_equal(t_map(&d, "np")->n_backends, 1);
	assert_int_equal(t_map(&d, "np")->backends[0].addr, t_ip("192.168.49.2"));
	assert_as_full_pass_n(N_SVC + 2);

	// An EndpointSlice change leaves it alone.
	slice("svc-0-x", 0, 1);
	assert_int_equal(pass(), 1);
	assert_int_equal(t_map(&d, "np")->n_backends, 1);
}

/* The service of mapping @p name in @p t. */
static const struct tbl_service *svc_of(const struct tables *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_services; i++)
		if (strcmp(t->mappings[t->services[i].mapping].name, name) == 0)
			return &t->services[i];
	fail_msg("no service for %s", name);
	return NULL;
}

static int slot_of(const char *ns, const char *name)
{
	static char names[16][2 * CFG_NAME_MAX];
	static int n;
	char k[2 * CFG_NAME_MAX];

	snprintf(k, sizeof(k), "%s/%s", ns, name);
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], k) == 0)
			return i;
	snprintf(names[n], sizeof(names[n]), "%s", k);
	return n++;
}

static struct tables *build(const struct k8s_desired *x, uint64_t gen)
{
	const struct cfg_mapping *p[16];
	struct cfg c = {0};
	char err[256];

	t_tables_cfg(&c);
	for (unsigned int i = 0; i < x->n_maps; i++)
		p[i] = &x->maps[i];
	struct tables *t = tables_build(&c, p, x->n_maps, slot_of, gen, err, sizeof(err));
	assert_non_null(t);
	return t;
}

static void an_endpoint_change_reaches_the_published_tables(void **state)
{
	(void)state;
	pass();
	struct tables *t1 = build(&d, 1);
	tables_publish(t1, NULL);
	const struct tbl_service *s = svc_of(t1, "svc-1");
	assert_int_equal(s->n_eligible, 3);

	slice("svc-1-x", 1, 1u << 2); // 10.1.1.3 not ready
	assert_int_equal(pass(), 1);
	struct tables *t2 = build(&d, 2);
	const struct tbl_service *s2 = svc_of(t2, "svc-1");
	assert_int_equal(s2->n_backends, 3);
	assert_int_equal(s2->n_eligible, 2);
	assert_int_equal(t2->backends[s2->first_backend + 2].addr, htonl(t_ip("10.1.1.3")));
	assert_int_equal(t2->backends[s2->first_backend + 2].weight, 0);
	for (uint32_t i = 0; i < s2->maglev_size; i++)
		assert_int_not_equal(s2->maglev[i], 2);
	// The other services' tables are those of the previous generation.
	assert_ptr_equal(svc_of(t2, "svc-0")->maglev, svc_of(t1, "svc-0")->maglev);

	// Byte for byte what a full reconcile and a build without reuse give.
	struct k8s_desired full = {0};
	k8s_reconcile_incremental = false;
	k8s_mapping_decoded_clear(); // every spec parsed again, not copied from the last parse
	assert_int_equal(k8s_reconcile(&store, &params, &full), 0);
	k8s_reconcile_incremental = true;
	tables_reuse_maglev = false;
	struct tables *t3 = build(&full, 3);
	tables_reuse_maglev = true;
	const struct tbl_service *s3 = svc_of(t3, "svc-1");
	assert_int_equal(s3->maglev_size, s2->maglev_size);
	assert_memory_equal(s3->maglev, s2->maglev, s2->maglev_size * sizeof(uint16_t));
	assert_memory_equal(&t3->backends[s3->first_backend], &t2->backends[s2->first_backend],
			    3 * sizeof(struct tbl_backend));
	tables_free(t3);
	k8s_desired_free(&full);
	tables_publish(t2, NULL);
	tables_publish(NULL, NULL);
}

/* ---- The watch's echoes and the status pass (cp/k8s.c: api_take(), cp_k8s_poll()) ---- */

static struct k8s_reporter rr;

/* A status pass after the last pass() (@p after_reconcile: its results, taken from d) or
 * after touched objects alone, as cp/k8s.c runs them, the writer absent (patches counted).
 * @return the results given to their status writer; *@p patches the patches submitted. */
static unsigned long status_pass(bool after_reconcile, unsigned long *patches)
{
	struct k8s_report rep = {.generation = 1};
	unsigned long w0 = k8s_report_written, p0 = k8s_report_patches;

	if (!rr.book)
		rr.book = json_object();
	k8s_report_run(&rr, &rep, &store, after_reconcile ? &d : NULL);
	*patches = k8s_report_patches - p0;
	return k8s_report_written - w0;
}

/* k8s_cache_apply() of MODIFIED @p o (released). */
static int modified(enum k8s_kind k, json_t *o)
{
	int rc = k8s_cache_apply(&store.c[k], K8S_UPD_MODIFIED, o);

	json_decref(o);
	return rc;
}

/* One event of the watch taken as the control loop takes it: a reconcile pass (and its status
 * pass) when the cache says the reconcile reads what changed, else a status pass when an
 * object changed at all. @return the reconcile passes it cost. */
static unsigned long loop_take(enum k8s_kind k, json_t *obj)
{
	unsigned long passes = k8s_reconcile_passes, patches;
	int rc = modified(k, obj);

	assert_true(rc >= 0);
	if (rc)
		pass(), status_pass(true, &patches);
	else if (k8s_report_due(&rr, &store))
		status_pass(false, &patches);
	return k8s_reconcile_passes - passes;
}

/* The cached Mapping @p name with @p status (stolen) and a new resourceVersion: what the
 * watch sends after a status write. */
static json_t *with_status(const char *name, json_t *status)
{
	json_t *o = json_deep_copy(k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", name));
	char rv[16];

	snprintf(rv, sizeof(rv), "m%u", ++version);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	json_object_set_new(o, "status", status);
	return o;
}

/* The watch's echo of the status last patched on Mapping @p name. */
static json_t *echo(const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), "Mapping/t/%s", name);
	json_t *st = k8s_get(json_object_get(rr.book, key), "sent", "status", NULL);
	assert_non_null(st);
	return with_status(name, json_deep_copy(st));
}

/* The watch delivers our own status writes back: each differs from the cached Mapping only in
 * .status and metadata.resourceVersion, which no reconcile reads. It updates the cache and
 * costs no reconcile pass (nor a source build); a change of the spec costs one. */
static void a_status_write_echoed_by_the_watch_costs_no_reconcile_pass(void **state)
{
	unsigned long patches, builds;
	json_t *o;

	(void)state;
	pass();
	assert_int_equal(status_pass(true, &patches), N_SVC + 1);
	assert_int_equal(patches, N_SVC + 1); // every Mapping's first status

	builds = k8s_reconcile_builds;
	assert_int_equal(loop_take(K8S_KIND_MAPPING, echo("svc-1")), 0);
	assert_int_equal(k8s_reconcile_builds, builds);
	assert_non_null(k8s_get(k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", "svc-1"), "status",
				"conditions", NULL)); // the cache has it
	assert_null(json_object_get(json_object_get(rr.book, "Mapping/t/svc-1"), "sent"));

	o = with_status("svc-2", json_object()); // another writer's: put right, no reconcile
	assert_int_equal(loop_take(K8S_KIND_MAPPING, o), 0);
	assert_non_null(json_object_get(json_object_get(rr.book, "Mapping/t/svc-2"), "sent"));

	o = with_status("svc-1", json_deep_copy(json_object_get(
					 k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", "svc-1"),
					 "status")));
	json_object_set_new(json_array_get(k8s_get(o, "spec", "ports", NULL), 0), "port",
			    json_integer(1501)); // the spec: one pass, one build
	assert_int_equal(loop_take(K8S_KIND_MAPPING, o), 1);
	assert_int_equal(k8s_reconcile_builds, builds + 1);
	assert_int_equal(t_map(&d, "svc-1")->ports[0].port, 1501);
	k8s_reporter_fini(&rr);
}

/* A new version of an EndpointSlice is logged as a change without being compared with the
 * cached one (strait never writes EndpointSlices, so no echo of its own comes back): its
 * Service's source is built again, finds the same mappings, and the set's fingerprint is the
 * same (nothing to publish). */
static void a_new_endpointslice_version_is_a_change_uncompared(void **state)
{
	unsigned long builds;
	uint64_t fp;

	(void)state;
	pass();
	fp = d.fingerprint;
	builds = k8s_reconcile_builds;
	slice("svc-1-x", 1, 0); // the same endpoints, a new resourceVersion: put() wants 1
	pass();
	assert_int_equal(k8s_reconcile_builds - builds, 1);
	assert_int_equal(d.fingerprint, fp);
}

/* k8s_report_status_built since the last call. */
static unsigned long built(void)
{
	static unsigned long last;
	unsigned long n = k8s_report_status_built - last;

	last = k8s_report_status_built;
	return n;
}

/* The echo of a status write is compared, not built again: the same result and pass give
 * the status sent, which the echo now holds (the book forgets it as sent). What it holds is
 * what a build gives: a status pass of another book over the same results submits nothing.
 * A changed result, another publication error or another writer's status are built. */
static void an_echoed_status_is_not_built_again(void **state)
{
	unsigned long patches;
	char name[16];

	(void)state;
	pass();
	built();
	assert_int_equal(status_pass(true, &patches), N_SVC + 1);
	assert_int_equal(built(), N_SVC + 1);
	for (unsigned int i = 0; i < N_SVC; i++) {
		snprintf(name, sizeof(name), "svc-%u", i);
		assert_int_equal(modified(K8S_KIND_MAPPING, echo(name)), 0);
	}
	assert_int_equal(modified(K8S_KIND_MAPPING, echo("b")), 0);
	assert_int_equal(status_pass(false, &patches), N_SVC + 1);
	assert_int_equal(patches, 0);
	assert_int_equal(built(), 0);
	for (unsigned int i = 0; i < N_SVC; i++) {
		char key[32];
		snprintf(key, sizeof(key), "Mapping/t/svc-%u", i);
		assert_null(json_object_get(json_object_get(rr.book, key), "sent"));
	}

	// Another writer's status before the echo: not ours, still sent; then put right.
	slice("svc-2-x", 2, 7); // no ready endpoint: another status
	pass();
	assert_int_equal(status_pass(true, &patches), 1);
	assert_int_equal(patches, 1);
	assert_int_equal(built(), 1);
	assert_int_equal(modified(K8S_KIND_MAPPING, with_status("svc-2", json_object())), 0);
	assert_int_equal(status_pass(false, &patches), 1);
	assert_int_equal(patches, 0);
	assert_int_equal(built(), 0);
	assert_int_equal(modified(K8S_KIND_MAPPING, echo("svc-2")), 0);
	assert_int_equal(status_pass(false, &patches), 1);
	assert_int_equal(patches, 0);
	assert_int_equal(built(), 0);
	assert_int_equal(modified(K8S_KIND_MAPPING, with_status("svc-2", json_object())), 0);
	assert_int_equal(status_pass(false, &patches), 1);
	assert_int_equal(patches, 1);
	assert_int_equal(built(), 1);
	assert_int_equal(modified(K8S_KIND_MAPPING, echo("svc-2")), 0);
	assert_int_equal(status_pass(false, &patches), 1);
	assert_int_equal(built(), 0);

	// Another book (every status built from the cached one): nothing to submit.
	struct k8s_reporter saved = rr;
	memset(&rr, 0, sizeof(rr));
	pass();
	assert_int_equal(status_pass(true, &patches), N_SVC + 1);
	assert_int_equal(patches, 0);
	assert_int_equal(built(), N_SVC + 1);
	k8s_reporter_fini(&rr);
	rr = saved;

	// A publication error: every status built again.
	struct k8s_report rep = {.generation = 1, .publish_error = "no room"};
	pass();
	k8s_report_run(&rr, &rep, &store, &d);
	assert_int_equal(built(), N_SVC + 1);

	// Inputs too long to be kept whole (an error of 3000 bytes): built every time.
	char *err = malloc(3001);
	assert_non_null(err);
	memset(err, 'e', 3000);
	err[3000] = '\0';
	rep.publish_error = err;
	for (unsigned int round = 0; round < 2; round++) {
		pass();
		k8s_report_run(&rr, &rep, &store, &d);
		assert_int_equal(built(), N_SVC + 1);
		for (unsigned int i = 0; round == 0 && i < N_SVC; i++) {
			snprintf(name, sizeof(name), "svc-%u", i); // echoed: compared next
			assert_int_equal(modified(K8S_KIND_MAPPING, echo(name)), 0);
		}
	}
	free(err);
	k8s_reporter_fini(&rr);
}

/* k8s_report_summaries since the last call. */
static unsigned long summaries(void)
{
	static unsigned long last;
	unsigned long n = k8s_report_summaries - last;

	last = k8s_report_summaries;
	return n;
}

/* The status of the Mapping @p name last submitted (the book's "sent"). */
static json_t *sent_status(const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), "Mapping/t/%s", name);
	return k8s_get(json_object_get(rr.book, key), "sent", "status", NULL);
}

/* Whether the book's "log" of Mapping @p name is the brief summary of the status last sent. */
static bool logged_is_summary_of_sent(const char *name)
{
	char key[64], text[1024];

	snprintf(key, sizeof(key), "Mapping/t/%s", name);
	k8s_status_summary(sent_status(name), true, text, sizeof(text));
	return strcmp(k8s_str(json_object_get(rr.book, key), "log", NULL), text) == 0;
}

/* A reconcile pass, then a status pass after it with table generation @p generation.
 * @return the patches it submitted. */
static unsigned long published(uint64_t generation)
{
	struct k8s_report rep = {.generation = generation};
	const unsigned long p0 = k8s_report_patches;

	pass();
	k8s_report_run(&rr, &rep, &store, &d);
	return k8s_report_patches - p0;
}

/* The Programmed message of Mapping @p name's status in the cache (what the watch echoed). */
static const char *programmed_message(const char *name)
{
	json_t *m = k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", name);

	return k8s_str(json_array_get(k8s_get(m, "status", "conditions", NULL), 1), "message",
		       NULL);
}

/* A result whose mappings changed in their backends alone (its Service's endpoints moved, all
 * still ready) keeps its status: nothing is written, and the Programmed message still names
 * the generation that programmed the Mapping. A change of its mappings but for their backends
 * (the Mapping's MSS clamp, its object's generation as it was) has a new table generation in
 * its Programmed message: its status is built and written, but its brief summary (what is
 * logged, which leaves that message out) is the one logged and not made again. A changed
 * condition (no ready endpoint left) makes it, and is written and logged; so is an invalid
 * Mapping's. */
static void an_endpoint_change_alone_writes_no_status(void **state)
{
	unsigned long p0;
	char name[16], want[64];

	(void)state;
	if (!rr.book)
		rr.book = json_object();
	built();
	summaries();
	published(1);
	assert_int_equal(built(), N_SVC + 1);
	assert_int_equal(summaries(), N_SVC + 1); // every one's first
	for (unsigned int i = 0; i < N_SVC; i++) {
		snprintf(name, sizeof(name), "svc-%u", i);
		assert_int_equal(modified(K8S_KIND_MAPPING, echo(name)), 0);
	}
	assert_int_equal(modified(K8S_KIND_MAPPING, echo("b")), 0);
	assert_int_equal(status_pass(false, &p0), N_SVC + 1);
	assert_int_equal(built(), 0);
	assert_string_equal(programmed_message("svc-2"), "mapping table generation 1");

	for (unsigned int round = 0; round < 3; round++) { // endpoints moved, all ready
		const unsigned long b0 = k8s_reconcile_builds;
		slice_in("svc-2-x", 2, 3 + round, 0);
		assert_int_equal(published(2 + round), 0);
		assert_int_equal(k8s_reconcile_builds - b0, 1); // rebuilt, with its new backends
		assert_int_equal(summaries(), 0);
		assert_string_equal(programmed_message("svc-2"), "mapping table generation 1");
	}
	built();

	for (unsigned int round = 0; round < 2; round++) { // another MSS clamp, all ready
		put(K8S_KIND_MAPPING,
		    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-2\"},\"spec\":{\"addresses\":"
		    "[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-2\",\"ports\":"
		    "[{\"port\":1002,\"servicePort\":80}],\"tcpMssClamp\":%u}}",
		    1400 + round);
		assert_int_equal(published(5 + round), 1);
		assert_int_equal(built(), 1);
		assert_int_equal(summaries(), 0);
		snprintf(want, sizeof(want), "mapping table generation %u", 5 + round);
		assert_string_equal(
			k8s_str(json_array_get(json_object_get(sent_status("svc-2"), "conditions"),
					       1),
				"message", NULL),
			want);
		assert_true(logged_is_summary_of_sent("svc-2"));
		assert_int_equal(modified(K8S_KIND_MAPPING, echo("svc-2")), 0);
		assert_int_equal(status_pass(false, &p0), 1);
		assert_int_equal(built(), 0);
		assert_string_equal(programmed_message("svc-2"), want);
	}

	slice_in("svc-2-x", 2, 3, 7); // no ready endpoint: Ready false, written and logged
	assert_int_equal(published(9), 1);
	assert_int_equal(built(), 1);
	assert_int_equal(summaries(), 1);
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(sent_status("svc-2"), "conditions"), 0),
			"status", NULL),
		"False");
	assert_non_null(strstr(k8s_str(json_object_get(rr.book, "Mapping/t/svc-2"), "log", NULL),
			       "Ready=False (NoReadyEndpoints"));
	assert_true(logged_is_summary_of_sent("svc-2"));
	assert_int_equal(modified(K8S_KIND_MAPPING, echo("svc-2")), 0);
	assert_int_equal(status_pass(false, &p0), 1);

	slice_in("svc-2-x", 2, 4, 7); // moved, still none ready: the same summary
	published(10);
	assert_int_equal(summaries(), 0);
	assert_true(logged_is_summary_of_sent("svc-2") || !sent_status("svc-2"));

	service(1, 1600); // the Mapping's port gone: its reason, written and logged
	assert_int_equal(published(11), 1);
	assert_int_equal(summaries(), 1);
	assert_true(logged_is_summary_of_sent("svc-1"));
	assert_non_null(strstr(k8s_str(json_object_get(rr.book, "Mapping/t/svc-1"), "log", NULL),
			       "Ready=False (ServicePortNotFound"));
	k8s_reporter_fini(&rr);
}

/* The status pass after a reconcile gives to their status writer only the results that
 * changed or whose objects changed since the last pass; the first pass, every one. */
static void the_status_pass_reports_only_what_changed(void **state)
{
	unsigned long patches;
	char name[16];

	(void)state;
	pass();
	assert_int_equal(status_pass(true, &patches), N_SVC + 1);
	assert_int_equal(patches, N_SVC + 1);
	assert_null(rr.used); // no AddressPool: the mappings' addresses are not collected
	for (unsigned int i = 0; i < N_SVC; i++) { // the watch echoes every status written
		snprintf(name, sizeof(name), "svc-%u", i);
		assert_int_equal(modified(K8S_KIND_MAPPING, echo(name)), 0);
	}
	assert_int_equal(modified(K8S_KIND_MAPPING, echo("b")), 0);
	assert_true(k8s_report_due(&rr, &store));
	assert_int_equal(status_pass(false, &patches), N_SVC + 1); // each compared once more
	assert_int_equal(patches, 0);
	assert_false(k8s_report_due(&rr, &store));
	unsigned long visited = k8s_report_visited;	    // one echo: that object's result alone
	unsigned long cleared = k8s_report_touched_cleared; // and the Mappings' touched set
	assert_int_equal(modified(K8S_KIND_MAPPING, with_status("svc-1", json_object())), 0);
	assert_int_equal(status_pass(false, &patches), 1);
	assert_int_equal(patches, 1); // another writer's status: put right
	assert_int_equal(k8s_report_visited - visited, 1);
	assert_int_equal(k8s_report_touched_cleared - cleared, 1); // not every kind's, empty
	assert_null(store.c[K8S_KIND_MAPPING].touched); // dropped: not a large empty table
	assert_int_equal(modified(K8S_KIND_MAPPING, echo("svc-1")), 0);
	assert_int_equal(status_pass(false, &patches), 1);
	assert_int_equal(patches, 0);

	pass(); // nothing changed: nothing given to a writer (each result compared)
	visited = k8s_report_visited;
	assert_int_equal(status_pass(true, &patches), 0);
	assert_int_equal(k8s_report_visited - visited, N_SVC + 1);
	assert_int_equal(patches, 0);

	// One Service's endpoints, its port still served: its Mapping's result says what it
	// said, and no writer is given it.
	slice("svc-2-x", 2, 1u << 1);
	pass();
	assert_int_equal(status_pass(true, &patches), 0);
	slice("svc-2-x", 2, 7); // none ready: its Mapping's Ready condition changes
	pass();
	assert_int_equal(status_pass(true, &patches), 1);
	assert_int_equal(patches, 1);
	pod(1, false); // a broker's readiness: the perPod Mapping's result
	pass();
	assert_int_equal(status_pass(true, &patches), 1);

	put(K8S_KIND_MAPPING, // made invalid: its result alone, a status to write
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-3\"},\"spec\":{}}");
	pass();
	assert_int_equal(status_pass(true, &patches), 1);
	assert_int_equal(patches, 1);
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_MAPPING], K8S_UPD_DELETED,
					 k8s_cache_get(&store.c[K8S_KIND_MAPPING], "t", "svc-3")),
			 1); // another set of objects: every one again, the book forgets svc-3
	pass();
	assert_int_equal(status_pass(true, &patches), N_SVC);
	assert_null(json_object_get(rr.book, "Mapping/t/svc-3"));
	pass();
	assert_int_equal(status_pass(true, &patches), 0);
	k8s_reporter_fini(&rr);
}

/* A Mapping svc-@p i over Service svc-@p svc, serving port @p port. */
static void mapping(unsigned int i, unsigned int svc, unsigned int port)
{
	put(K8S_KIND_MAPPING,
	    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"svc-%u\"},\"spec\":{\"addresses\":"
	    "[\"198.51.100.7\"],\"mode\":\"service\",\"serviceName\":\"svc-%u\",\"ports\":"
	    "[{\"port\":%u,\"servicePort\":80}]}}",
	    i, svc, port);
}

/* After a reconcile, the status pass compares with the last pass's result field by field
 * (k8s_report_compared) only what the reconcile did not take accepted from the same memo
 * entry (k8s_result.memo_id): a rebuilt source, once; a memo'd source whose conflicts'
 * outcome changed, which is then reported. */
static void the_status_pass_compares_only_what_the_reconcile_rebuilt(void **state)
{
	unsigned long patches, c0;

	(void)state;
	pass();
	assert_int_equal(status_pass(true, &patches), N_SVC + 1);
	pass(); // nothing changed: every result the same memo entry's, accepted
	assert_int_not_equal(res(&d, "svc-1")->memo_id, 0);
	c0 = k8s_report_compared;
	assert_int_equal(status_pass(true, &patches), 0);
	assert_int_equal(k8s_report_compared - c0, 0);

	// Its Mapping rebuilt: compared, and but for its backends the same (its port still
	// served): not reported.
	slice("svc-2-x", 2, 1u << 1);
	pass();
	c0 = k8s_report_compared;
	assert_int_equal(status_pass(true, &patches), 0);
	assert_int_equal(k8s_report_compared - c0, 1);
	slice("svc-2-x", 2, 7); // none ready: compared, and reported
	pass();
	c0 = k8s_report_compared;
	assert_int_equal(status_pass(true, &patches), 1);
	assert_int_equal(k8s_report_compared - c0, 1);
	pass(); // taken from the memo entry it was kept as: not compared again
	c0 = k8s_report_compared;
	assert_int_equal(status_pass(true, &patches), 0);
	assert_int_equal(k8s_report_compared - c0, 0);

	mapping(9, 1, 1000); // svc-0's port, and younger (by name): left out
	pass();
	assert_true(res(&d, "svc-9")->conflict);
	status_pass(true, &patches); // another set of objects: every one reported
	pass(); // the same outcome, but not accepted: compared, the same, not reported
	c0 = k8s_report_compared;
	assert_int_equal(status_pass(true, &patches), 0);
	assert_int_equal(k8s_report_compared - c0, 1);

	mapping(0, 0, 1100); // svc-0 moves: svc-9, from the same memo entry, is now accepted
	pass();
	assert_true(res(&d, "svc-9")->accepted);
	assert_as_full_pass_n(N_SVC + 2);
	c0 = k8s_report_compared;
	assert_int_equal(status_pass(true, &patches), 2);
	assert_int_equal(patches, 2);
	assert_int_equal(k8s_report_compared - c0, 1); // svc-0's object changed: not compared
	k8s_reporter_fini(&rr);
}

/* A pass starts from the results array last released (k8s_results_free(): by
 * k8s_desired_free(), or by the status pass for the set before the one it keeps), when it
 * has the room, and copies a memo'd result (k8s_reconcile_results_copied) only where that
 * array did not hold the same entry's, accepted: not the unchanged sources' in endpoint
 * churn; every one into a new array; a result left out by a conflict every time. Each set is
 * a full pass's. */
static void a_pass_copies_only_the_memoed_results_the_last_array_lacks(void **state)
{
	unsigned long patches;

	(void)state;
	pass();								// built
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), 0); // the last set's array
	slice("svc-2-x", 2, 1u << 1);
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), 0); // svc-2 built again
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), 0); // and kept as it was
	assert_as_full_pass();

	// The status pass keeps the set's results: the array it drops is the one before.
	pass(); // after the full pass: every source built
	status_pass(true, &patches);
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), N_SVC + 1); // a new array
	status_pass(true, &patches);
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), 0); // the one before
	status_pass(true, &patches);

	mapping(9, 1, 1000); // svc-0's port, younger: left out
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), N_SVC + 1); // more room
	assert_true(res(&d, "svc-9")->conflict);
	status_pass(true, &patches);
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), N_SVC + 2); // too small
	status_pass(true, &patches);
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), 1); // svc-9, not accepted
	status_pass(true, &patches);
	assert_int_equal(pass_delta(&k8s_reconcile_results_copied), 1);
	assert_true(res(&d, "svc-9")->conflict);
	assert_as_full_pass_n(N_SVC + 2);
	k8s_reporter_fini(&rr);
}

/* A pass empties only the change logs (k8s_cache.dirty) that hold some
 * (k8s_memo_dirty_cleared), and drops them: json_object_clear() of a table walks every bucket
 * it grew to, however few it holds. */
static void a_pass_empties_only_the_change_logs_that_hold_some(void **state)
{
	(void)state;
	// The setup's Mappings, Services, slices, StatefulSet and Pods.
	assert_int_equal(pass_delta(&k8s_memo_dirty_cleared), 5);
	assert_int_equal(pass_delta(&k8s_memo_dirty_cleared), 0);
	slice("svc-2-x", 2, 1u << 1);
	assert_int_equal(pass_delta(&k8s_memo_dirty_cleared), 1);
	assert_null(store.c[K8S_KIND_ENDPOINTSLICE].dirty); // dropped: not a large empty table
	slice("svc-1-x", 1, 1u << 1);
	pod(1, false);
	assert_int_equal(pass_delta(&k8s_memo_dirty_cleared), 2);
	assert_null(store.c[K8S_KIND_POD].dirty);
	slice("svc-1-x", 1, 0); // logged after the pass emptied the log: rebuilt
	assert_int_equal(pass(), 1);
	assert_as_full_pass();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			a_memoed_mapping_keeps_its_id_a_rebuilt_one_gets_another, setup, teardown),
		cmocka_unit_test_setup_teardown(a_new_endpointslice_version_is_a_change_uncompared,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_status_write_echoed_by_the_watch_costs_no_reconcile_pass, setup,
			teardown),
		cmocka_unit_test_setup_teardown(the_status_pass_reports_only_what_changed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			the_status_pass_compares_only_what_the_reconcile_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(a_pass_empties_only_the_change_logs_that_hold_some,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_pass_copies_only_the_memoed_results_the_last_array_lacks, setup,
			teardown),
		cmocka_unit_test_setup_teardown(an_endpoint_change_alone_writes_no_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_echoed_status_is_not_built_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			memoed_mappings_share_the_memos_backends_for_as_long_as_the_set_lives,
			setup, teardown),
		cmocka_unit_test_setup_teardown(conflicts_are_settled_again_only_when_claims_change,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_pass_copies_only_the_memoed_mappings_the_last_set_lacks, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_service_is_asked_whether_it_is_ours_only_after_a_service_changed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			memo_entries_are_found_by_place_until_the_cache_is_reordered, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			a_pass_walks_the_services_only_up_to_the_last_of_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unchanged_source_is_not_recomputed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(isolating_a_memoed_source_leaves_the_memo_whole,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_kept_slice_index_follows_the_cache_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_endpoint_change_rebuilds_its_service_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_unchanged_mapping_spec_is_parsed_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_unchanged_mapping_spec_makes_no_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_rebuilt_sources_memo_entry_shares_its_advertised_list, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_pod_statefulset_or_service_change_rebuilds_its_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(
			other_parameters_or_a_relist_rebuild_what_they_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(a_node_change_rebuilds_the_node_port_mappings_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(an_endpoint_change_reaches_the_published_tables,
						setup, teardown),
	};

	if (t_eal_init("k8s_memo_test") < 0)
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
