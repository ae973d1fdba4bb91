/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reconcilers on the objects recorded from kube-apiserver v1.20.2 (Mapping kafka-external in
 * mode perPod, StatefulSet kafka with strait.io/port-mapper, Pods kafka-0..2 with kafka-2 not
 * ready, Service kafka, a v1beta1 EndpointSlice, Node node-1), plus variations of them:
 * service mode by port name and number, nodePorts, terminating endpoints, several slices,
 * ordinals from labels, scaling, conflicts and bad input.
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

#include <strait/k8s_cache.h>
#include <strait/k8s_json.h>
#include <strait/k8s_manifests.h>
#include <strait/k8s_reconcile.h>

#include "k8s_testlib.h"
#include "k8s_service.h"
#include "k8s_store_fixture.h"

static struct k8s_store store;
static struct k8s_desired d;
static const uint32_t EXT_ADDR = 0xc6336401; // 198.51.100.1

static int setup(void **state)
{
	(void)state;
	t_store_recorded(&store);
	memset(&d, 0, sizeof(d));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_store_done(&store, &d);
	return 0;
}

static void run(const struct cfg_mapping *const *reserved, unsigned int n_reserved)
{
	struct k8s_reconcile_params p = {
		.default_addr = EXT_ADDR, .reserved = reserved, .n_reserved = n_reserved};

	k8s_desired_free(&d);
	assert_int_equal(k8s_reconcile(&store, &p, &d), 0);
}

static const struct cfg_mapping *map(const char *name)
{
	return t_map(&d, name);
}

static const struct k8s_result *res(const char *name)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (strcmp(d.res[i].name, name) == 0)
			return &d.res[i];
	fail_msg("no result for %s", name);
	return NULL;
}

/* Put an object (JSON text) into a cache, replacing one of the same key. */
/* put() decodes EndpointSlices as the informers do, with k8s_keep_endpointslice. */
static bool put_keep;

static void put(enum k8s_kind k, const char *text)
{
	static unsigned int version;
	json_t *o =
		put_keep && k == K8S_KIND_ENDPOINTSLICE
			? k8s_json_decode(text, strlen(text), 0, k8s_keep_endpointslice, NULL, 0)
			: t_json(text);
	char rv[16];

	// Every put is a new version of the object, as a write to the API server would be.
	snprintf(rv, sizeof(rv), "t%u", ++version);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	assert_int_equal(k8s_cache_apply(&store.c[k], K8S_UPD_MODIFIED, o), 1);
	json_decref(o);
}

static void del(enum k8s_kind k, const char *ns, const char *name)
{
	json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "namespace", ns, "name", name);

	k8s_cache_apply(&store.c[k], K8S_UPD_DELETED, o);
	json_decref(o);
}

static void perpod_mapping_from_recorded_objects(void **state)
{
	const struct cfg_mapping *m;
	const struct k8s_result *r;

	(void)state;
	run(NULL, 0);
	r = res("kafka-external");
	assert_true(r->valid && r->accepted && !r->conflict);
	assert_int_equal(r->kind, K8S_KIND_MAPPING);
	assert_int_equal(r->generation, 1);
	assert_string_equal(r->created, "2026-11-21T16:25:37Z");
	assert_int_equal(r->n_maps, 4);
	assert_int_equal(r->n_ports, 4);
	assert_int_equal(r->n_ports_ready, 3); // kafka-2 is not ready

	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "kafka-external-%d", i);
		m = map(name);
		assert_non_null(m);
		assert_string_equal(m->ns, "kafka");
		assert_int_equal(m->ordinal, i);
		assert_int_equal(m->mode, CFG_MODE_PER_POD);
		assert_int_equal(m->n_addrs, 1);
		assert_int_equal(m->addrs[0], t_ip("203.0.113.10"));
		assert_int_equal(m->n_allowed, 1);
		assert_int_equal(m->allowed[0].addr, t_ip("10.0.0.0"));
		assert_int_equal(m->allowed[0].len, 16);
		assert_int_equal(m->timeouts.udp, 300);
		assert_int_equal(m->timeouts.tcp_established, 7440);
		assert_int_equal(m->n_ports, 1);
		assert_int_equal(m->ports[0].port, 32000 + i);
		assert_int_equal(m->ports[0].end_port, 32000 + i);
		assert_int_equal(m->ports[0].service_port, 9092);
		assert_int_equal(m->ports[0].proto, IPPROTO_TCP);
		if (i < 2) {
			assert_int_equal(m->n_backends, 1);
			assert_int_equal(m->backends[0].addr,
					 t_ip(i ? "10.244.1.11" : "10.244.1.10"));
			assert_false(m->backends[0].serving_only);
			snprintf(name, sizeof(name), "kafka-%d", i);
			assert_string_equal(m->backends[0].name, name);
		} else {
			// Not ready: a draining backend (no new sessions, its sessions stay).
			assert_int_equal(m->n_backends, 1);
			assert_int_equal(m->backends[0].addr, t_ip("10.244.1.12"));
			assert_true(m->backends[0].serving_only);
		}
	}
	m = map("kafka-external-bootstrap");
	assert_non_null(m);
	assert_int_equal(m->ordinal, -1);
	assert_int_equal(m->ports[0].port, 31999);
	assert_int_equal(m->n_backends, 3); // kafka-2 drains there too
	assert_true(m->backends[2].serving_only);

	// status.advertised as the fixture's PATCH wrote it, plus the pod name.
	json_t *want = t_json("[{\"name\":\"kafka-0\",\"pod\":\"kafka-0\",\"ordinal\":0,"
			      "\"address\":\"203.0.113.10\","
			      "\"port\":32000,\"protocol\":\"tcp\"},"
			      "{\"name\":\"kafka-1\",\"pod\":\"kafka-1\",\"ordinal\":1,\"address\":"
			      "\"203.0.113.10\","
			      "\"port\":32001,\"protocol\":\"tcp\"},"
			      "{\"name\":\"kafka-2\",\"pod\":\"kafka-2\",\"ordinal\":2,\"address\":"
			      "\"203.0.113.10\","
			      "\"port\":32002,\"protocol\":\"tcp\"},"
			      "{\"name\":\"bootstrap\",\"address\":\"203.0.113.10\",\"port\":31999,"
			      "\"protocol\":\"tcp\"}]");
	assert_true(json_equal(want, r->advertised));
	json_decref(want);
}

static void annotated_statefulset_from_recorded_objects(void **state)
{
	const struct k8s_result *r;
	const struct cfg_mapping *m;

	(void)state;
	run(NULL, 0);
	r = res("kafka");
	assert_int_equal(r->kind, K8S_KIND_STATEFULSET);
	assert_true(r->accepted);
	assert_int_equal(r->n_maps, 3); // no bootstrap_port in the annotation
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "broker-%d", i); // the annotation's prefix
		m = map(name);
		assert_non_null(m);
		assert_int_equal(m->ordinal, i);
		assert_int_equal(m->addrs[0], EXT_ADDR); // no address: the ext port's first
		assert_int_equal(m->ports[0].port, 32000 + i);
		assert_int_equal(m->ports[0].service_port, 9092);
		assert_int_equal(m->n_allowed, 0);
	}
	// Same ports as kafka-external, other address: no conflict.
	assert_false(res("kafka-external")->conflict);
	assert_false(r->conflict);
}

static void ordinals_come_from_labels_never_from_names_or_order(void **state)
{
	const struct cfg_mapping *m;

	(void)state;
	// A pod whose name says nothing, labelled as ordinal 2, ready: it is kafka-2's backend.
	put(K8S_KIND_POD,
	    "{\"metadata\":{\"name\":\"zzz\",\"namespace\":\"kafka\",\"labels\":"
	    "{\"statefulset.kubernetes.io/pod-name\":\"kafka-2\"},\"ownerReferences\":"
	    "[{\"kind\":\"StatefulSet\",\"name\":\"kafka\",\"controller\":true}]},"
	    "\"status\":{\"podIP\":\"10.244.1.99\",\"conditions\":[{\"type\":\"Ready\","
	    "\"status\":\"True\"}]}}");
	// The pod-index label wins over the pod-name label.
	put(K8S_KIND_POD,
	    "{\"metadata\":{\"name\":\"kafka-0\",\"namespace\":\"kafka\",\"labels\":"
	    "{\"statefulset.kubernetes.io/pod-name\":\"kafka-0\","
	    "\"apps.kubernetes.io/pod-index\":\"1\"},\"ownerReferences\":"
	    "[{\"kind\":\"StatefulSet\",\"name\":\"kafka\",\"controller\":true}]},"
	    "\"status\":{\"podIP\":\"10.244.1.50\",\"conditions\":[{\"type\":\"Ready\","
	    "\"status\":\"True\"}]}}");
	del(K8S_KIND_POD, "kafka", "kafka-1");
	run(NULL, 0);
	m = map("broker-2");
	assert_int_equal(m->n_backends, 1);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.99"));
	assert_string_equal(m->backends[0].name, "zzz");
	m = map("broker-1");
	assert_int_equal(m->n_backends, 1);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.50"));
	assert_int_equal(map("broker-0")->n_backends, 0);
}

static void pod_ordinal_rules(void **state)
{
	json_t *p;

	(void)state;
	p = t_json("{\"metadata\":{\"name\":\"web-3\",\"labels\":{\"statefulset.kubernetes.io/"
		   "pod-name\":\"web-3\"}}}");
	assert_int_equal(k8s_pod_ordinal(p, "web"), 3); // no owner reference: the label decides
	assert_int_equal(k8s_pod_ordinal(p, "we"), -1);
	assert_int_equal(k8s_pod_ordinal(p, "web-3"), -1);
	json_decref(p);
	p = t_json("{\"metadata\":{\"name\":\"web-3\",\"labels\":{\"statefulset.kubernetes.io/"
		   "pod-name\":\"web-3\"},\"ownerReferences\":[{\"kind\":\"StatefulSet\","
		   "\"name\":\"other\",\"controller\":true}]}}");
	assert_int_equal(k8s_pod_ordinal(p, "web"), -1); // someone else's pod
	json_decref(p);
	// Strimzi: a StrimziPodSet controls the Pod, which keeps the StatefulSet labels.
	p = t_json("{\"metadata\":{\"name\":\"c-broker-7\",\"labels\":{\"statefulset.kubernetes.io/"
		   "pod-name\":\"c-broker-7\"},\"ownerReferences\":[{\"kind\":\"StrimziPodSet\","
		   "\"name\":\"c-broker\",\"controller\":true}]}}");
	assert_int_equal(k8s_pod_ordinal(p, "c-broker"), 7);
	assert_int_equal(k8s_pod_ordinal(p, "c"), -1);
	json_decref(p);
	p = t_json("{\"metadata\":{\"labels\":{\"statefulset.kubernetes.io/pod-name\":\"c-b-7\","
		   "\"apps.kubernetes.io/pod-index\":\"3\"},\"ownerReferences\":[{\"kind\":"
		   "\"ReplicaSet\",\"name\":\"c-b\",\"controller\":true}]}}");
	assert_int_equal(k8s_pod_ordinal(p, "c-b"), 3); // the pod-index label wins
	json_decref(p);
	p = t_json("{\"metadata\":{\"name\":\"web-3\"}}");
	assert_int_equal(k8s_pod_ordinal(p, "web"), -1); // a name is not an ordinal
	json_decref(p);
	p = t_json(
		"{\"metadata\":{\"labels\":{\"statefulset.kubernetes.io/pod-name\":\"web-x\"}}}");
	assert_int_equal(k8s_pod_ordinal(p, "web"), -1);
	json_decref(p);
}

static void statefulset_scaled_up_and_down(void **state)
{
	const struct k8s_result *r;

	(void)state;
	json_t *sts =
		json_deep_copy(k8s_cache_get(&store.c[K8S_KIND_STATEFULSET], "kafka", "kafka"));
	json_object_set_new(json_object_get(sts, "spec"), "replicas", json_integer(5));
	json_object_set_new(json_object_get(sts, "metadata"), "resourceVersion",
			    json_string("999"));
	k8s_cache_apply(&store.c[K8S_KIND_STATEFULSET], K8S_UPD_MODIFIED, sts);
	run(NULL, 0);
	r = res("kafka");
	assert_int_equal(r->n_maps, 5);
	assert_int_equal(r->n_ports_ready, 2);
	assert_non_null(map("broker-4"));
	assert_int_equal(map("broker-4")->n_backends, 0);
	assert_int_equal(json_array_size(r->advertised), 5);
	assert_int_equal(res("kafka-external")->n_maps, 6);

	json_object_set_new(json_object_get(sts, "spec"), "replicas", json_integer(1));
	json_object_set_new(json_object_get(sts, "metadata"), "resourceVersion",
			    json_string("1000"));
	k8s_cache_apply(&store.c[K8S_KIND_STATEFULSET], K8S_UPD_MODIFIED, sts);
	run(NULL, 0);
	assert_int_equal(res("kafka")->n_maps, 1);
	assert_null(map("broker-1")); // its pod still exists: ordinal >= replicas gets no port
	assert_int_equal(res("kafka-external")->n_maps, 2);
	assert_int_equal(map("kafka-external-bootstrap")->n_backends, 1);
	json_decref(sts);
}

/* A port-mapped StatefulSet scaled to 0, the only source: accepted, with no mapping at all
 * (k8s_reconcile() packed its mappings from a NULL array: UB found by tests/fuzz/watch_fuzz,
 * reported by the ASan/UBSan build of this test). */
static void statefulset_scaled_to_zero_is_accepted_with_no_mappings(void **state)
{
	const struct k8s_result *r;

	(void)state;
	del(K8S_KIND_MAPPING, "kafka", "kafka-external");
	json_t *sts =
		json_deep_copy(k8s_cache_get(&store.c[K8S_KIND_STATEFULSET], "kafka", "kafka"));
	json_object_set_new(json_object_get(sts, "spec"), "replicas", json_integer(0));
	json_object_set_new(json_object_get(sts, "metadata"), "resourceVersion",
			    json_string("999"));
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_STATEFULSET], K8S_UPD_MODIFIED, sts), 1);
	json_decref(sts);
	run(NULL, 0);
	assert_int_equal(d.n_res, 1);
	r = res("kafka");
	assert_true(r->accepted);
	assert_int_equal(r->n_maps, 0);
	assert_int_equal(r->first_map, 0);
	assert_int_equal(json_array_size(r->advertised), 0);
	assert_int_equal(d.n_maps, 0);
	assert_null(d.maps);
	// The fingerprint of no mapping, for the object as for the whole set (FNV-1a basis).
	assert_int_equal(r->fingerprint, 0xcbf29ce484222325ull);
	assert_int_equal(d.fingerprint, 0xcbf29ce484222325ull);
}

#define MAPPING(name, created, spec)                                                               \
	"{\"apiVersion\":\"strait.io/"                                                             \
	"v1alpha1\",\"kind\":\"Mapping\",\"metadata\":{\"name\":\"" name                           \
	"\",\"namespace\":\"kafka\",\"generation\":2,\"uid\":\"u-" name "\","                      \
	"\"creationTimestamp\":\"" created "\",\"resourceVersion\":\"1\"},\"spec\":" spec "}"

static void service_mode_by_port_name_and_number(void **state)
{
	const struct cfg_mapping *m;
	const struct k8s_result *r;

	(void)state;
	put(K8S_KIND_MAPPING,
	    MAPPING("svc", "2026-11-21T17:00:00Z",
		    "{\"addresses\":[\"203.0.113.20\"],\"mode\":\"service\",\"serviceName\":"
		    "\"kafka\",\"ports\":[{\"port\":9094,\"servicePort\":\"kafka\"},{\"port\":514,"
		    "\"protocol\":\"UDP\"}]}"));
	run(NULL, 0);
	r = res("svc");
	assert_true(r->accepted);
	assert_int_equal(r->n_maps, 1); // both ports have the same endpoints: one mapping
	assert_int_equal(r->n_ports, 2);
	assert_int_equal(r->n_ports_ready, 2);
	m = map("svc");
	assert_int_equal(m->n_ports, 2);
	// Service port kafka → slice port kafka 9092; 514/UDP (by number) → syslog 5514.
	assert_int_equal(m->ports[0].port, 9094);
	assert_int_equal(m->ports[0].service_port, 9092);
	assert_int_equal(m->ports[0].proto, IPPROTO_TCP);
	assert_int_equal(m->ports[1].port, 514);
	assert_int_equal(m->ports[1].service_port, 5514);
	assert_int_equal(m->ports[1].proto, IPPROTO_UDP);
	// kafka-2's endpoint is not ready nor serving: it drains (keeps its sessions, gets no
	// new ones) instead of being removed (which would clear its sessions).
	assert_int_equal(m->n_backends, 3);
	assert_true(m->backends[2].serving_only);
	assert_false(m->backends[0].serving_only);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.10"));
	assert_int_equal(m->backends[0].port, 0); // the port's target applies
	assert_string_equal(m->backends[0].name, "kafka-0");
	assert_int_equal(m->backends[1].addr, t_ip("10.244.1.11"));
	json_t *want = t_json("[{\"name\":\"kafka\",\"address\":\"203.0.113.20\",\"port\":9094,"
			      "\"protocol\":\"tcp\"},{\"name\":\"syslog\",\"address\":"
			      "\"203.0.113.20\",\"port\":514,\"protocol\":\"udp\"}]");
	assert_true(json_equal(want, r->advertised));
	json_decref(want);
}

static void terminating_endpoints_serve_but_take_no_new_sessions(void **state)
{
	json_t *slices = store.c[K8S_KIND_ENDPOINTSLICE].objs, *sl;
	const struct cfg_mapping *m;

	(void)state;
	sl = json_deep_copy(json_object_get(slices, "kafka/kafka-x7k2p"));
	json_t *ep2 = json_array_get(json_object_get(sl, "endpoints"), 2);
	json_object_set_new(ep2, "conditions",
			    t_json("{\"ready\":false,\"serving\":true,\"terminating\":true}"));
	json_t *ep0 = json_array_get(json_object_get(sl, "endpoints"), 0);
	json_object_set_new(ep0, "conditions", json_object()); // unset conditions: ready
	json_object_set_new(json_object_get(sl, "metadata"), "resourceVersion", json_string("500"));
	k8s_cache_apply(&store.c[K8S_KIND_ENDPOINTSLICE], K8S_UPD_MODIFIED, sl);
	json_decref(sl);
	// A second slice of the same Service: merged; a duplicate address keeps its ready entry.
	put(K8S_KIND_ENDPOINTSLICE,
	    "{\"metadata\":{\"name\":\"kafka-b\",\"namespace\":\"kafka\",\"labels\":{"
	    "\"kubernetes.io/service-name\":\"kafka\"},\"resourceVersion\":\"501\"},"
	    "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"kafka\",\"protocol\":\"TCP\","
	    "\"port\":9092}],\"endpoints\":[{\"addresses\":[\"10.244.2.7\"],\"conditions\":{"
	    "\"ready\":true}},{\"addresses\":[\"10.244.1.10\"],\"conditions\":{\"ready\":false,"
	    "\"serving\":true,\"terminating\":true}}]}");
	put(K8S_KIND_MAPPING, MAPPING("svc", "2026-11-21T17:00:00Z",
				      "{\"addresses\":[\"203.0.113.20\"],\"mode\":\"service\","
				      "\"serviceName\":\"kafka\",\"ports\":[{\"port\":9092}]}"));
	run(NULL, 0);
	m = map("svc");
	assert_int_equal(m->n_backends, 4);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.10"));
	assert_false(m->backends[0].serving_only);
	assert_int_equal(m->backends[2].addr, t_ip("10.244.1.12"));
	assert_true(m->backends[2].serving_only);
	assert_int_equal(m->backends[3].addr, t_ip("10.244.2.7"));
	assert_false(m->backends[3].serving_only);
}

/* The backend of @p m at address @p ip, or NULL. */
static const struct cfg_backend *backend_at(const struct cfg_mapping *m, const char *ip)
{
	for (unsigned int i = 0; i < m->n_backends; i++)
		if (m->backends[i].addr == t_ip(ip))
			return &m->backends[i];
	return NULL;
}

/* An endpoint's fields are read in one walk over its keys (ep_read()): whatever their order,
 * beside keys strait does not read, each means what it means by name. With @p keep, the slice
 * is decoded as the informers decode it (k8s_keep_endpointslice): the same backends, from
 * fewer fields. */
static void endpoint_fields(bool keep)
{
	const struct cfg_backend *be;
	const struct cfg_mapping *m;

	put_keep = keep;
	put(K8S_KIND_ENDPOINTSLICE,
	    "{\"metadata\":{\"name\":\"kafka-o\",\"namespace\":\"kafka\",\"labels\":{"
	    "\"kubernetes.io/service-name\":\"kafka\"}},\"addressType\":\"IPv4\","
	    "\"ports\":[{\"name\":\"kafka\",\"protocol\":\"TCP\",\"port\":9092}],\"endpoints\":["
	    // every key, reversed, and keys not read
	    "{\"zone\":\"a\",\"targetRef\":{\"name\":\"p1\",\"kind\":\"Pod\"},\"conditions\":{"
	    "\"terminating\":false,\"serving\":true,\"ready\":true},\"nodeName\":\"n\","
	    "\"addresses\":[\"10.244.3.1\"]},"
	    // not ready; a targetRef of another kind names nothing
	    "{\"conditions\":{\"serving\":true,\"ready\":false},\"addresses\":[\"10.244.3.2\"],"
	    "\"targetRef\":{\"kind\":\"Node\",\"name\":\"x\"}},"
	    // ready but terminating
	    "{\"addresses\":[\"10.244.3.3\"],\"hints\":{},\"conditions\":{\"terminating\":true,"
	    "\"ready\":true}},"
	    // a ready that is set but not true
	    "{\"conditions\":{\"ready\":null},\"addresses\":[\"10.244.3.4\"]},"
	    // addresses not a list: left out
	    "{\"addresses\":\"10.244.3.5\",\"conditions\":{}},"
	    // conditions not an object: unset, ready; the first address only
	    "{\"conditions\":\"x\",\"addresses\":[\"10.244.3.6\",\"10.244.3.7\"]},"
	    // the same names one level down are not the endpoint's
	    "{\"addresses\":[\"10.244.3.8\"],\"x\":{\"ready\":false,\"terminating\":true},"
	    "\"conditions\":{\"x\":{\"ready\":false}}}]}");
	put(K8S_KIND_MAPPING, MAPPING("svc", "2026-11-21T17:00:00Z",
				      "{\"addresses\":[\"203.0.113.20\"],\"mode\":\"service\","
				      "\"serviceName\":\"kafka\",\"ports\":[{\"port\":9092}]}"));
	run(NULL, 0);
	m = map("svc");
	assert_int_equal(m->n_backends, 3 + 6); // the recorded slice's 3
	assert_non_null(be = backend_at(m, "10.244.3.1"));
	assert_false(be->serving_only);
	assert_false(be->terminating);
	assert_string_equal(be->name, "p1");
	assert_non_null(be = backend_at(m, "10.244.3.2"));
	assert_true(be->serving_only);
	assert_false(be->terminating);
	assert_string_equal(be->name, "");
	assert_non_null(be = backend_at(m, "10.244.3.3"));
	assert_true(be->serving_only);
	assert_true(be->terminating);
	assert_non_null(be = backend_at(m, "10.244.3.4"));
	assert_true(be->serving_only);
	assert_false(be->terminating);
	assert_null(backend_at(m, "10.244.3.5"));
	assert_non_null(be = backend_at(m, "10.244.3.6"));
	assert_false(be->serving_only);
	assert_null(backend_at(m, "10.244.3.7"));
	assert_non_null(be = backend_at(m, "10.244.3.8"));
	assert_false(be->serving_only);
	assert_false(be->terminating);
	// Kept: what was read, packed (and only that); else the tree as it came.
	json_t *eps = k8s_get(k8s_cache_get(&store.c[K8S_KIND_ENDPOINTSLICE], "kafka", "kafka-o"),
			      "endpoints", NULL);
	if (keep) {
		const char want[] = "\0"
				    "0af40301102p1" // ready, Pod p1
				    "0af40302000"   // not ready, no Pod
				    "0af40303300"   // ready, terminating
				    "0af40304000"   // ready null: not ready
				    "0af40306100"   // conditions not an object; first address
				    "0af40308100";  // the names one level down
		assert_true(k8s_is_packed(eps));
		assert_int_equal(json_string_length(eps), sizeof(want) - 1);
		assert_memory_equal(json_string_value(eps), want, sizeof(want) - 1);
	} else {
		char *text = json_dumps(json_array_get(eps, 0), JSON_COMPACT);
		assert_string_equal(text, "{\"zone\":\"a\",\"targetRef\":{\"name\":\"p1\","
					  "\"kind\":\"Pod\"},\"conditions\":{\"terminating\":"
					  "false,\"serving\":true,\"ready\":true},\"nodeName\":"
					  "\"n\",\"addresses\":[\"10.244.3.1\"]}");
		free(text);
		assert_int_equal(json_object_size(json_array_get(eps, 6)), 3);
	}
	put_keep = false;
}

static void endpoint_fields_in_any_order_read_by_name(void **state)
{
	(void)state;
	endpoint_fields(false);
}

static void endpoint_fields_read_are_the_fields_kept(void **state)
{
	(void)state;
	endpoint_fields(true);
}

static void remove_orphan_sessions_reaches_every_mapping_of_the_resource(void **state)
{
	(void)state;
	put(K8S_KIND_MAPPING, MAPPING("keep", "2026-11-21T17:00:00Z",
				      "{\"addresses\":[\"203.0.113.20\"],\"mode\":\"service\","
				      "\"serviceName\":\"kafka\",\"ports\":[{\"port\":9092}],"
				      "\"removeOrphanSessions\":false}"));
	put(K8S_KIND_MAPPING, MAPPING("dflt", "2026-11-21T17:00:00Z",
				      "{\"addresses\":[\"203.0.113.21\"],\"mode\":\"service\","
				      "\"serviceName\":\"kafka\",\"ports\":[{\"port\":9092}]}"));
	run(NULL, 0);
	assert_non_null(map("keep"));
	assert_false(map("keep")->remove_orphan_sessions);
	assert_non_null(map("dflt"));
	assert_true(map("dflt")->remove_orphan_sessions);
	// per-pod mappings copy it from the Mapping too (the recorded kafka-external: absent)
	assert_true(map("kafka-external-0")->remove_orphan_sessions);
}

static void node_ports_go_to_ready_nodes(void **state)
{
	const struct cfg_mapping *m;

	(void)state;
	put(K8S_KIND_MAPPING, MAPPING("np", "2026-11-21T17:00:00Z",
				      "{\"addresses\":[\"203.0.113.20\"],\"mode\":\"service\","
				      "\"serviceName\":\"kafka\",\"backends\":\"nodePorts\","
				      "\"ports\":[{\"port\":9092}]}"));
	run(NULL, 0);
	// The recorded Service is a ClusterIP: no nodePort to go to.
	assert_false(res("np")->valid);
	assert_string_equal(res("np")->reason, "NoNodePort");
	assert_string_equal(res("np")->message, "spec.ports[0]: Service kafka/kafka port 9092 has "
						"no nodePort (type ClusterIP)");

	json_t *svc = json_deep_copy(k8s_cache_get(&store.c[K8S_KIND_SERVICE], "kafka", "kafka"));
	json_object_set_new(json_array_get(k8s_get(svc, "spec", "ports", NULL), 0), "nodePort",
			    json_integer(30092));
	json_object_set_new(json_object_get(svc, "metadata"), "resourceVersion", json_string("9"));
	k8s_cache_apply(&store.c[K8S_KIND_SERVICE], K8S_UPD_MODIFIED, svc);
	json_decref(svc);
	// A second node, not ready: left out.
	put(K8S_KIND_NODE, "{\"metadata\":{\"name\":\"node-2\"},\"status\":{\"conditions\":[{"
			   "\"type\":\"Ready\",\"status\":\"False\"}],\"addresses\":[{\"type\":"
			   "\"InternalIP\",\"address\":\"192.168.49.3\"}]}}");
	run(NULL, 0);
	m = map("np");
	assert_non_null(m);
	assert_int_equal(m->ports[0].service_port, 30092);
	assert_int_equal(m->n_backends, 1);
	assert_int_equal(m->backends[0].addr, t_ip("192.168.49.2"));
	assert_int_equal(m->backends[0].port, 0);
	assert_string_equal(m->backends[0].name, "node-1");
}

static void oldest_wins_a_conflict_then_namespace_and_name(void **state)
{
	const char *spec = "{\"addresses\":[\"203.0.113.10\"],\"mode\":\"service\","
			   "\"serviceName\":\"kafka\",\"ports\":[{\"port\":31999,"
			   "\"servicePort\":9092}]}";
	char buf[1024];

	(void)state;
	// Older than kafka-external (16:25:37): takes 31999 from its bootstrap port.
	snprintf(buf, sizeof(buf), MAPPING("old", "2026-11-21T16:00:00Z", "%s"), spec);
	put(K8S_KIND_MAPPING, buf);
	snprintf(buf, sizeof(buf), MAPPING("young", "2026-11-21T18:00:00Z", "%s"), spec);
	put(K8S_KIND_MAPPING, buf);
	run(NULL, 0);
	assert_true(res("old")->accepted);
	assert_true(res("kafka-external")->conflict);
	assert_false(res("kafka-external")->accepted);
	assert_string_equal(res("kafka-external")->conflict_message,
			    "203.0.113.10:31999/tcp is already served by Mapping kafka/old, which "
			    "is older");
	assert_string_equal(res("kafka-external")->reason, "PortConflict");
	assert_null(map("kafka-external-0")); // the loser is left out entirely
	assert_true(res("young")->conflict);
	assert_true(res("kafka")->accepted); // the StatefulSet is elsewhere: unaffected

	// Same creationTimestamp: namespace/name decides ("a-same" < "old").
	snprintf(buf, sizeof(buf), MAPPING("a-same", "2026-11-21T16:00:00Z", "%s"), spec);
	put(K8S_KIND_MAPPING, buf);
	run(NULL, 0);
	assert_true(res("a-same")->accepted);
	assert_true(res("old")->conflict);
}

static void config_mappings_always_win(void **state)
{
	struct cfg_mapping cfgm = {.name = "broker-0", .n_addrs = 1, .n_ports = 1, .ordinal = 0};
	const struct cfg_mapping *reserved[] = {&cfgm};

	(void)state;
	cfgm.addrs[0] = EXT_ADDR;
	cfgm.ports[0] =
		(struct cfg_map_port){.port = 32001, .end_port = 32001, .proto = IPPROTO_TCP};
	run(reserved, 1);
	assert_true(res("kafka")->conflict);
	assert_string_equal(res("kafka")->conflict_message,
			    "198.51.100.1:32001/tcp is already served by mapping broker-0 of the "
			    "gateway's config");
	assert_true(res("kafka-external")->accepted);
	// Another protocol on the same port is no conflict.
	cfgm.ports[0].proto = IPPROTO_UDP;
	run(reserved, 1);
	assert_true(res("kafka")->accepted);
}

static void expect_invalid(const char *spec, const char *reason, const char *message)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), MAPPING("bad", "2026-11-21T17:00:00Z", "%s"), spec);
	put(K8S_KIND_MAPPING, buf);
	run(NULL, 0);
	const struct k8s_result *r = res("bad");
	assert_false(r->valid);
	assert_false(r->accepted);
	assert_int_equal(r->n_maps, 0);
	assert_string_equal(r->reason, reason);
	assert_string_equal(r->message, message);
	assert_null(map("bad"));
	// Nothing else disturbed.
	assert_true(res("kafka-external")->accepted);
	assert_non_null(map("kafka-external-0"));
	assert_true(res("kafka")->accepted);
}

static void bad_mappings_are_reported_and_left_out(void **state)
{
	(void)state;
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"allowedSources\":[\"10.0.0.0/33\"],"
		       "\"mode\":\"service\",\"serviceName\":\"kafka\",\"ports\":[{\"port\":1}]}",
		       "InvalidSpec",
		       "spec.allowedSources[0]: \"10.0.0.0/33\" is not an IPv4 prefix");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"service\",\"serviceName\":"
		       "\"kafka\",\"ports\":[{\"port\":70000}]}",
		       "InvalidSpec", "spec.ports[0].port: 70000 is out of range 1-65535");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"roundRobin\",\"serviceName\":"
		       "\"kafka\",\"ports\":[{\"port\":9092}]}",
		       "InvalidSpec", "spec.mode: \"roundRobin\" is not one of service, perPod");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"serviceName\":\"kafka\",\"ports\":[{"
		       "\"port\":9092}]}",
		       "InvalidSpec", "spec.mode: required key missing (service or perPod)");
	expect_invalid("{\"addresses\":[],\"mode\":\"service\",\"serviceName\":\"kafka\","
		       "\"ports\":[{\"port\":9092}]}",
		       "InvalidSpec", "spec.addresses: at least one entry is required");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"service\",\"ports\":[{"
		       "\"port\":9092}]}",
		       "InvalidSpec", "spec.serviceName: required key missing for mode service");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"service\",\"serviceName\":"
		       "\"nope\",\"ports\":[{\"port\":9092}]}",
		       "ServiceNotFound", "Service kafka/nope not found");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"service\",\"serviceName\":"
		       "\"kafka\",\"ports\":[{\"port\":9092,\"servicePort\":\"http\"}]}",
		       "ServicePortNotFound",
		       "spec.ports[0]: Service kafka/kafka has no port named http");
	expect_invalid(
		"{\"addresses\":[\"203.0.113.30\"],\"mode\":\"service\",\"serviceName\":"
		"\"kafka\",\"ports\":[{\"port\":9092},{\"port\":9092,\"servicePort\":\"kafka\"}]}",
		"InvalidSpec", "203.0.113.30:9092/tcp is used twice by this object's ports");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"perPod\",\"statefulSetName\":"
		       "\"nope\",\"startPort\":40000,\"targetPort\":80}",
		       "StatefulSetNotFound",
		       "StatefulSet kafka/nope not found, and no Pod labelled "
		       "statefulset.kubernetes.io/pod-name=nope-<ordinal>");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"perPod\",\"statefulSetName\":"
		       "\"kafka\",\"startPort\":65534,\"targetPort\":80}",
		       "InvalidSpec", "port 65534 + ordinal 2 is beyond 65535");
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"perPod\",\"statefulSetName\":"
		       "\"kafka\",\"startPort\":40000,\"targetPort\":80,\"bootstrapPort\":40001}",
		       "InvalidSpec",
		       "203.0.113.30:40001/tcp is used twice by this object's ports");
	expect_invalid(
		"{\"addresses\":[\"203.0.113.30\"],\"mode\":\"service\",\"serviceName\":"
		"\"kafka\",\"backends\":[{\"address\":\"1.2.3.4\"}],\"ports\":[{\"port\":1}]}",
		"InvalidSpec",
		"spec.mode: a mapping with a backends list is static and takes no mode");
	// Service port kafka (9092) targets 9092 on the endpoints: the range's end would wrap.
	expect_invalid("{\"addresses\":[\"203.0.113.30\"],\"mode\":\"service\",\"serviceName\":"
		       "\"kafka\",\"ports\":[{\"port\":1,\"endPort\":60000,\"servicePort\":"
		       "\"kafka\"}]}",
		       "InvalidSpec",
		       "spec.ports[0]: Service kafka/kafka port 9092 targets 9092: 9092 + (endPort "
		       "60000 - port 1) = 69091 is past 65535");
	expect_invalid("\"just a string\"", "InvalidSpec", "spec: required, an object");
}

static void unknown_fields_are_ignored(void **state)
{
	(void)state;
	put(K8S_KIND_MAPPING,
	    MAPPING("fwd", "2026-11-21T17:00:00Z",
		    "{\"addresses\":[\"203.0.113.40\"],\"mode\":\"service\",\"serviceName\":"
		    "\"kafka\",\"ports\":[{\"port\":9092,\"appProtocol\":\"kafka\"}],"
		    "\"timeouts\":{\"udp\":30,\"sctp\":5},\"loadBalancing\":{\"algo\":\"x\"}}"));
	run(NULL, 0);
	assert_true(res("fwd")->accepted);
	assert_int_equal(map("fwd")->timeouts.udp, 30);
	put(K8S_KIND_MAPPING,
	    MAPPING("lim", "2026-11-21T17:00:01Z",
		    "{\"addresses\":[\"203.0.113.41\"],\"mode\":\"service\",\"serviceName\":"
		    "\"kafka\",\"ports\":[{\"port\":9092}],\"timeouts\":{\"tcpSyn\":20},"
		    "\"limits\":{\"sessions\":9,\"sessionsPerSource\":3,\"newSessionsPerSecond\":"
		    "7},\"maglev\":{\"seed\":5},\"affinity\":\"clientIP\"}"));
	run(NULL, 0);
	assert_true(res("lim")->accepted);
	assert_int_equal(map("lim")->timeouts.tcp_syn, 20);
	assert_int_equal(map("lim")->limits.sessions, 9);
	assert_int_equal(map("lim")->limits.sessions_per_source, 3);
	assert_int_equal(map("lim")->limits.new_per_second, 7);
	assert_int_equal(map("lim")->maglev.seed, 5);
	assert_int_equal(map("lim")->affinity, CFG_AFFINITY_CLIENT_IP);
}

static void bad_annotations_are_reported(void **state)
{
	static const struct {
		const char *ann;
		const char *msg;
	} cases[] = {
		{"{\\\"prefix\\\": \\\"b-\\\"}",
		 "annotation strait.io/port-mapper: start_port: required"},
		{"nope", "annotation strait.io/port-mapper: not a JSON object: "},
		{"{\\\"start_port\\\": 0}",
		 "annotation strait.io/port-mapper: start_port: must be a port number 1-65535"},
		{"{\\\"start_port\\\": 1, \\\"address\\\": \\\"x\\\"}",
		 "annotation strait.io/port-mapper: address: must be an IPv4 address"},
		{"{\\\"start_port\\\": 1, \\\"prefix\\\": \\\"B_\\\"}",
		 "annotation strait.io/port-mapper: prefix: \"B_\" must be lower-case letters, "
		 "digits, '-' or '.'"},
		{"{\\\"start_port\\\": 1, \\\"limits\\\": {\\\"sessions_per_source\\\": 70000}}",
		 "annotation strait.io/port-mapper: limits.sessions_per_source: must be an integer "
		 "0-65535"},
		{"{\\\"start_port\\\": 1, \\\"limits\\\": {\\\"sessions\\\": 1, \\\"rate\\\": 2}}",
		 "annotation strait.io/port-mapper: limits.rate: unknown key"},
		{"{\\\"start_port\\\": 1, \\\"affinity\\\": \\\"sticky\\\"}",
		 "annotation strait.io/port-mapper: affinity: must be fiveTuple, clientIP or "
		 "clientIPAndPort"},
	};
	char buf[1024];

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"metadata\":{\"name\":\"kafka\",\"namespace\":\"kafka\","
			 "\"resourceVersion\":"
			 "\"x%u\",\"annotations\":{\"strait.io/port-mapper\":\"%s\"}},\"spec\":{"
			 "\"replicas\":3}}",
			 i, cases[i].ann);
		put(K8S_KIND_STATEFULSET, buf);
		run(NULL, 0);
		assert_false(res("kafka")->valid);
		assert_string_equal(res("kafka")->reason, "InvalidAnnotation");
		if (strncmp(res("kafka")->message, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("got \"%s\", want \"%s\"", res("kafka")->message, cases[i].msg);
		assert_true(res("kafka-external")->accepted);
	}
}

static void psc_portmapper_keys_and_precedence(void **state)
{
	struct k8s_portmap_spec spec;
	char e[256];
	json_t *sts;

	(void)state;
	sts = t_json(
		"{\"metadata\":{\"annotations\":{\"psc-portmapper.0x5d.org/spec\":"
		"\"{\\\"prefix\\\":\\\"p-\\\",\\\"start_port\\\":100,\\\"protocol\\\":\\\"udp\\\","
		"\\\"bootstrap_port\\\":99,\\\"address\\\":\\\"192.0.2.1\\\"}\"}}}");
	assert_int_equal(k8s_portmap_parse(sts, &spec, e, sizeof(e)), 1);
	assert_string_equal(spec.annotation, "psc-portmapper.0x5d.org/spec");
	assert_string_equal(spec.prefix, "p-");
	assert_int_equal(spec.start_port, 100);
	assert_int_equal(spec.bootstrap_port, 99);
	assert_int_equal(spec.proto, IPPROTO_UDP);
	assert_int_equal(spec.addr, t_ip("192.0.2.1"));
	json_decref(sts);
	sts = t_json("{\"metadata\":{\"annotations\":{\"0x5d.org/psc-portmapper\":"
		     "\"{\\\"start_port\\\":1}\",\"strait.io/"
		     "port-mapper\":\"{\\\"start_port\\\":2}\"}}}");
	assert_int_equal(k8s_portmap_parse(sts, &spec, e, sizeof(e)), 1);
	assert_string_equal(spec.annotation, "strait.io/port-mapper");
	assert_int_equal(spec.start_port, 2);
	assert_int_equal(spec.limits.sessions, 0);
	json_decref(sts);
	sts = t_json("{\"metadata\":{\"annotations\":{\"strait.io/port-mapper\":"
		     "\"{\\\"start_port\\\":2,\\\"limits\\\":{\\\"sessions\\\":100,"
		     "\\\"sessions_per_source\\\":5,\\\"new_sessions_per_second\\\":50},"
		     "\\\"affinity\\\":\\\"clientIPAndPort\\\"}\"}}}");
	assert_int_equal(k8s_portmap_parse(sts, &spec, e, sizeof(e)), 1);
	assert_int_equal(spec.limits.sessions, 100);
	assert_int_equal(spec.limits.sessions_per_source, 5);
	assert_int_equal(spec.limits.new_per_second, 50);
	assert_int_equal(spec.affinity, CFG_AFFINITY_CLIENT_IP_AND_PORT);
	json_decref(sts);
	sts = t_json("{\"metadata\":{\"annotations\":{\"other\":\"x\"}}}");
	assert_int_equal(k8s_portmap_parse(sts, &spec, e, sizeof(e)), 0);
	json_decref(sts);
}

static void fingerprints_move_only_with_what_is_programmed(void **state)
{
	uint64_t all, mine, other;

	(void)state;
	run(NULL, 0);
	all = d.fingerprint;
	mine = res("kafka-external")->fingerprint;
	other = res("kafka")->fingerprint;
	run(NULL, 0);
	assert_true(d.fingerprint == all && res("kafka-external")->fingerprint == mine);
	// A status-only change of the Mapping (what our own writes do) changes nothing.
	json_t *m = json_deep_copy(
		k8s_cache_get(&store.c[K8S_KIND_MAPPING], "kafka", "kafka-external"));
	json_object_set_new(json_object_get(m, "metadata"), "resourceVersion", json_string("1234"));
	json_object_set_new(m, "status", json_object());
	k8s_cache_apply(&store.c[K8S_KIND_MAPPING], K8S_UPD_MODIFIED, m);
	run(NULL, 0);
	assert_true(d.fingerprint == all);
	// kafka-2 becomes ready: both sources change, and the whole set.
	json_t *p = json_deep_copy(k8s_cache_get(&store.c[K8S_KIND_POD], "kafka", "kafka-2"));
	json_object_set_new(json_array_get(k8s_get(p, "status", "conditions", NULL), 1), "status",
			    json_string("True"));
	json_object_set_new(json_object_get(p, "metadata"), "resourceVersion", json_string("77"));
	k8s_cache_apply(&store.c[K8S_KIND_POD], K8S_UPD_MODIFIED, p);
	run(NULL, 0);
	assert_true(d.fingerprint != all);
	assert_true(res("kafka-external")->fingerprint != mine);
	assert_true(res("kafka")->fingerprint != other);
	assert_int_equal(res("kafka")->n_ports_ready, 3);
	json_decref(m);
	json_decref(p);
}

static void the_seeds_examples_reconcile(void **state)
{
	json_t *items[K8S_KIND_MAX];
	unsigned int files, changed;
	char e[512];
	const struct cfg_mapping *m;

	(void)state;
	k8s_store_fini(&store);
	assert_int_equal(k8s_store_init(&store), 0);
	assert_int_equal(k8s_manifests_load(STRAIT_SOURCE_ROOT "/config/examples", items, &files, e,
					    sizeof(e)),
			 0);
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		k8s_cache_replace(&store.c[k], items[k], &changed);
		json_decref(items[k]);
	}
	run(NULL, 0);
	assert_int_equal(d.n_res, 2);
	// SmartNat's Mapping: 8080/tcp → Service 8080/TCP → :80; 8081 tcp and udp → 8080.
	assert_true(res("mapping-sample")->accepted);
	m = map("mapping-sample");
	assert_int_equal(m->n_addrs, 2);
	assert_int_equal(m->n_allowed, 2);
	assert_int_equal(m->n_ports, 3);
	assert_int_equal(m->ports[0].service_port, 80);
	assert_int_equal(m->ports[1].port, 8081);
	assert_int_equal(m->ports[1].service_port, 80);
	assert_int_equal(m->ports[2].proto, IPPROTO_UDP);
	assert_int_equal(m->ports[2].service_port, 7);
	assert_int_equal(m->n_backends, 3);
	// psc-portmapper's StatefulSet: domain-0..2 on the default address, container port 80.
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "domain-%d", i);
		m = map(name);
		assert_non_null(m);
		assert_int_equal(m->ports[0].port, 32000 + i);
		assert_int_equal(m->ports[0].service_port, 80);
		assert_int_equal(m->backends[0].addr, t_ip("10.0.0.11") + (uint32_t)i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(perpod_mapping_from_recorded_objects),
		T(annotated_statefulset_from_recorded_objects),
		T(ordinals_come_from_labels_never_from_names_or_order),
		T(pod_ordinal_rules),
		T(statefulset_scaled_up_and_down),
		T(statefulset_scaled_to_zero_is_accepted_with_no_mappings),
		T(service_mode_by_port_name_and_number),
		T(terminating_endpoints_serve_but_take_no_new_sessions),
		T(endpoint_fields_in_any_order_read_by_name),
		T(endpoint_fields_read_are_the_fields_kept),
		T(remove_orphan_sessions_reaches_every_mapping_of_the_resource),
		T(node_ports_go_to_ready_nodes),
		T(oldest_wins_a_conflict_then_namespace_and_name),
		T(config_mappings_always_win),
		T(bad_mappings_are_reported_and_left_out),
		T(unknown_fields_are_ignored),
		T(bad_annotations_are_reported),
		T(psc_portmapper_keys_and_precedence),
		T(fingerprints_move_only_with_what_is_programmed),
		T(the_seeds_examples_reconcile),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
