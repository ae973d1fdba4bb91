/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-broker ports without a StatefulSet object (cp/k8s_perpod.c): Pods that an operator
 * manages itself and that keep the StatefulSet labels, as Strimzi's StrimziPodSets do
 * (controller StrimziPodSet, label statefulset.kubernetes.io/pod-name=<cluster>-<pool>-<id>,
 * node IDs not necessarily from 0 nor contiguous), served by a Mapping in mode perPod whose
 * statefulSetName names the set. On the recorded objects (tests/data/k8s-wire) plus such Pods.
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
#include <strait/k8s_reconcile.h>

#include "k8s_testlib.h"
#include "k8s_store_fixture.h"

static struct k8s_store store;
static struct k8s_desired d;
static struct k8s_reconcile_params params;

static int setup(void **state)
{
	(void)state;
	t_store_recorded(&store);
	memset(&d, 0, sizeof(d));
	params = (struct k8s_reconcile_params){.default_addr = 0xc6336401};
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_store_done(&store, &d);
	return 0;
}

static void run(void)
{
	t_reconcile(&store, &params, &d);
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

static void put(enum k8s_kind k, const char *text)
{
	static unsigned int version;
	json_t *o = t_json(text);
	char rv[16];

	snprintf(rv, sizeof(rv), "s%u", ++version);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	assert_int_equal(k8s_cache_apply(&store.c[k], K8S_UPD_MODIFIED, o), 1);
	json_decref(o);
}

/* A Strimzi broker Pod of node pool "broker" of cluster "c": c-broker-<id>. */
static void broker(int id, const char *ip, bool ready)
{
	char buf[1024];

	snprintf(
		buf, sizeof(buf),
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"c-broker-%d\","
		"\"namespace\":\"kafka\",\"labels\":{\"strimzi.io/cluster\":\"c\","
		"\"strimzi.io/pool-name\":\"broker\",\"statefulset.kubernetes.io/pod-name\":"
		"\"c-broker-%d\"},\"ownerReferences\":[{\"apiVersion\":\"core.strimzi.io/v1beta2\","
		"\"kind\":\"StrimziPodSet\",\"name\":\"c-broker\",\"controller\":true}]},"
		"\"spec\":{\"containers\":[{\"name\":\"kafka\",\"ports\":[{\"containerPort\":9090},"
		"{\"containerPort\":9094}]}]},\"status\":{\"podIP\":\"%s\",\"conditions\":[{"
		"\"type\":\"Ready\",\"status\":\"%s\"}]}}",
		id, id, ip, ready ? "True" : "False");
	put(K8S_KIND_POD, buf);
}

#define MAPPING(spec)                                                                              \
	"{\"apiVersion\":\"strait.io/v1alpha1\",\"kind\":\"Mapping\",\"metadata\":{\"name\":"      \
	"\"brokers\",\"namespace\":\"kafka\",\"generation\":1,\"uid\":\"u-b\","                    \
	"\"creationTimestamp\":\"2026-11-22T00:00:00Z\"},\"spec\":" spec "}"

static void strimzi_pods_get_per_broker_ports(void **state)
{
	const struct cfg_mapping *m;
	const struct k8s_result *r;

	(void)state;
	broker(3, "10.244.2.3", true);
	broker(4, "10.244.2.4", true);
	broker(6, "10.244.2.6", false);
	put(K8S_KIND_MAPPING,
	    MAPPING("{\"mode\":\"perPod\",\"statefulSetName\":\"c-broker\",\"addresses\":["
		    "\"203.0.113.20\"],\"startPort\":31000,\"targetPort\":9094,"
		    "\"bootstrapPort\":30999}"));
	run();
	r = res("brokers");
	assert_true(r->accepted);
	assert_int_equal(r->n_ports, 4); // three brokers and the bootstrap
	assert_int_equal(r->n_ports_ready, 3);
	m = map("brokers-3");
	assert_non_null(m);
	assert_int_equal(m->ordinal, 3);
	assert_int_equal(m->addrs[0], t_ip("203.0.113.20"));
	assert_int_equal(m->ports[0].port, 31003);
	assert_int_equal(m->ports[0].service_port, 9094);
	assert_int_equal(m->n_backends, 1);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.2.3"));
	assert_string_equal(m->backends[0].name, "c-broker-3");
	assert_int_equal(map("brokers-4")->ports[0].port, 31004);
	m = map("brokers-6");
	assert_int_equal(m->ports[0].port, 31006);
	assert_true(m->backends[0].serving_only); // not ready
	assert_null(map("brokers-5"));		  // no such node ID
	m = map("brokers-bootstrap");
	assert_int_equal(m->ports[0].port, 30999);
	assert_int_equal(m->n_backends, 3);
	// The advertised list names the brokers' Pods.
	json_t *adv = json_array_get(r->advertised, 0);
	assert_string_equal(k8s_str(adv, "pod", NULL), "c-broker-3");
	assert_int_equal(json_integer_value(json_object_get(adv, "port")), 31003);
}

static void no_statefulset_and_no_pod_is_reported(void **state)
{
	const struct k8s_result *r;

	(void)state;
	put(K8S_KIND_MAPPING,
	    MAPPING("{\"mode\":\"perPod\",\"statefulSetName\":\"c-broker\",\"addresses\":["
		    "\"203.0.113.20\"],\"startPort\":31000,\"targetPort\":9094}"));
	run();
	r = res("brokers");
	assert_false(r->valid);
	assert_string_equal(r->reason, "StatefulSetNotFound");
	assert_string_equal(r->message, "StatefulSet kafka/c-broker not found, and no Pod labelled "
					"statefulset.kubernetes.io/pod-name=c-broker-<ordinal>");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(strimzi_pods_get_per_broker_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(no_statefulset_and_no_pod_is_reported, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
