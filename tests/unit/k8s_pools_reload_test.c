/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address pools beyond k8s_pools_test.c, on the objects recorded from kube-apiserver v1.20.2
 * (Mapping kafka/kafka-external on 203.0.113.10, the port-mapped StatefulSet kafka/kafka on
 * the ext address 198.51.100.1): a reload's new pools and budgets re-checking every object
 * (the reconcile inputs from the config, k8s_reconcile_params_cfg()), MetalLB's range form in
 * AddressPool objects, and the AddressPool status (k8s_pool_status_build()).
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

#include <strait/k8s_cache.h>
#include <strait/k8s_json.h>
#include <strait/k8s_pools.h>
#include <strait/k8s_reconcile.h>

#include "k8s_report.h"
#include "k8s_testlib.h"
#include "k8s_store_fixture.h"

#define PORTS "ports:\n  ext: {device: net_af_packet0, addresses: [198.51.100.1/24]}\n"

static struct k8s_store store;
static struct k8s_desired d;
static struct k8s_reconcile_params params;
static struct cfg cfg;

static int setup(void **state)
{
	(void)state;
	t_store_recorded(&store);
	memset(&d, 0, sizeof(d));
	memset(&params, 0, sizeof(params));
	memset(&cfg, 0, sizeof(cfg));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	k8s_desired_free(&d);
	k8s_store_fini(&store);
	cfg_free(&cfg);
	return 0;
}

/* (Re)load the running config from @p yaml, as a reload does, and reconcile with it. */
static void reload_and_run(const char *yaml)
{
	char err[512];

	cfg_free(&cfg);
	if (cfg_load_string("strait.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	k8s_reconcile_params_cfg(&params, &cfg);
	k8s_desired_free(&d);
	assert_int_equal(k8s_reconcile(&store, &params, &d), 0);
}

static void run(void)
{
	k8s_desired_free(&d);
	assert_int_equal(k8s_reconcile(&store, &params, &d), 0);
}

static const struct cfg_mapping *map(const char *name)
{
	for (unsigned int i = 0; i < d.n_maps; i++)
		if (strcmp(d.maps[i].name, name) == 0)
			return &d.maps[i];
	return NULL;
}

static const struct k8s_result *res(enum k8s_kind kind, const char *name)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (d.res[i].kind == kind && strcmp(d.res[i].name, name) == 0)
			return &d.res[i];
	fail_msg("no result for %s", name);
	return NULL;
}

#define MAPPING_RES() res(K8S_KIND_MAPPING, "kafka-external")
#define STS_RES()     res(K8S_KIND_STATEFULSET, "kafka")

static void pool_object(const char *name, const char *spec)
{
	static unsigned int version;
	char buf[1024];
	json_t *o;

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"strait.io/v1alpha1\",\"kind\":\"AddressPool\","
		 "\"metadata\":{\"name\":\"%s\",\"generation\":3,\"resourceVersion\":\"r%u\"},"
		 "\"spec\":%s}",
		 name, ++version, spec);
	o = t_json(buf);
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_ADDRESSPOOL], K8S_UPD_MODIFIED, o), 1);
	json_decref(o);
}

/* SIGHUP: the config's new pools re-check every object; one whose address left them is
 * unprogrammed, one whose address entered them is programmed. */
static void reload_rechecks_every_object_against_the_new_pools(void **state)
{
	(void)state;
	reload_and_run(PORTS "addressPools:\n- {name: public, addresses: [203.0.113.0/24]}\n");
	assert_true(MAPPING_RES()->accepted);
	assert_non_null(map("kafka-external-0"));
	assert_false(STS_RES()->accepted);
	assert_string_equal(STS_RES()->reason, "AddressNotAllowed");
	assert_null(map("broker-1"));

	// The pool moves to the gateway's own address (a range of one).
	reload_and_run(PORTS "addressPools:\n"
			     "- {name: gateway, addresses: [198.51.100.1-198.51.100.1]}\n");
	assert_false(MAPPING_RES()->accepted);
	assert_string_equal(MAPPING_RES()->reason, "AddressNotAllowed");
	assert_string_equal(
		MAPPING_RES()->message,
		"address 203.0.113.10 is in no address pool that admits namespace kafka");
	assert_null(map("kafka-external-0"));
	assert_true(STS_RES()->accepted);
	assert_non_null(map("broker-1"));

	// Both, the range ending on 203.0.113.10 itself; and the budgets come with the reload.
	reload_and_run(PORTS "addressPools:\n"
			     "- {name: gateway, addresses: [198.51.100.1/32]}\n"
			     "- {name: public, addresses: [203.0.113.1-203.0.113.10]}\n");
	assert_true(MAPPING_RES()->accepted);
	assert_true(STS_RES()->accepted);
	reload_and_run(PORTS "addressPools:\n"
			     "- {name: gateway, addresses: [198.51.100.1/32]}\n"
			     "- {name: public, addresses: [203.0.113.1-203.0.113.10]}\n"
			     "kubernetes: {limits: {portsPerObject: 3}}\n");
	assert_false(MAPPING_RES()->accepted); // 3 ordinals + bootstrap: 4 keys
	assert_string_equal(MAPPING_RES()->reason, "OverBudget");
	assert_string_equal(MAPPING_RES()->message,
			    "its ports need 4 service-table entries (addresses x ports), over the "
			    "budget of 3 per object (kubernetes.limits.portsPerObject)");
	assert_true(STS_RES()->accepted);

	// No pool left and none required: any address again.
	reload_and_run(PORTS);
	assert_false(d.pools.enforce);
	assert_true(MAPPING_RES()->accepted);
	assert_true(STS_RES()->accepted);
}

/* AddressPool objects take MetalLB's ranges; a reversed one is refused with a message. */
static void address_pool_objects_take_ranges(void **state)
{
	uint32_t a = 0, used[1];

	(void)state;
	params.default_addr = t_ip("198.51.100.1");
	pool_object("public", "{\"addresses\":[\"203.0.113.11-203.0.113.20\"]}");
	run();
	assert_false(MAPPING_RES()->accepted); // 203.0.113.10 is just below the range
	pool_object("public", "{\"addresses\":[\"203.0.113.5 - 203.0.113.10\", \"198.51.100.1\"]}");
	run();
	assert_true(MAPPING_RES()->accepted); // both ends are in the range
	assert_true(STS_RES()->accepted);
	assert_int_equal(d.pools.v[0].ranges[0].first, t_ip("203.0.113.5"));
	assert_int_equal(d.pools.v[0].ranges[0].last, t_ip("203.0.113.10"));
	// A range's ends are allocated (a CIDR's network and broadcast are not).
	assert_int_equal(k8s_pools_allocate(&d.pools, "web", NULL, NULL, 0, &a), 0);
	assert_int_equal(a, t_ip("203.0.113.5"));
	used[0] = a;
	assert_int_equal(k8s_pools_allocate(&d.pools, "web", NULL, used, 1, &a), 0);
	assert_int_equal(a, t_ip("203.0.113.6"));

	pool_object("bad", "{\"addresses\":[\"203.0.113.20-203.0.113.11\"]}");
	run();
	assert_int_equal(d.pools.n_invalid, 1);
	assert_string_equal(
		d.pools.invalid,
		"AddressPool bad: spec.addresses[0]: \"203.0.113.20-203.0.113.11\" is a "
		"reversed range: 203.0.113.20 comes after 203.0.113.11");
	pool_object("bad", "{\"addresses\":[\"203.0.113.0/24\", \"203.0.113.7-203.0.113.8\"]}");
	run();
	assert_string_equal(
		d.pools.invalid,
		"AddressPool bad: spec.addresses[1]: \"203.0.113.7-203.0.113.8\" overlaps "
		"spec.addresses[0]");
	assert_true(MAPPING_RES()->accepted); // the valid pool still counts
}

/* The AddressPool status: Ready and MetalLB's assignedIPv4 / availableIPv4. */
static void address_pool_status_counts_and_conditions(void **state)
{
	json_t *pool = t_json("{\"metadata\":{\"name\":\"public\",\"generation\":4},\"spec\":{"
			      "\"addresses\":[\"203.0.113.0/24\",\"192.0.2.10-192.0.2.19\"]}}");
	json_t *bad = t_json("{\"metadata\":{\"name\":\"bad\",\"generation\":2},\"spec\":{"
			     "\"addresses\":[\"192.0.2.19-192.0.2.10\"]}}");
	json_t *badns = t_json("{\"metadata\":{\"name\":\"badns\"},\"spec\":{"
			       "\"addresses\":[\"192.0.2.1\"],\"namespaces\":[\"\"]}}");
	const uint32_t used[] = {t_ip("203.0.113.10"), t_ip("192.0.2.19"), t_ip("203.0.113.10"),
				 t_ip("198.51.100.1")};
	const int64_t t0 = 1764806400000000, t1 = t0 + 60000000; // 2025-12-04T00:00:00Z, +1 min
	json_t *st, *st2, *c;

	(void)state;
	// 256 + 10 addresses; 203.0.113.10 (twice) and 192.0.2.19 used, 198.51.100.1 not ours.
	st = k8s_pool_status_build(pool, NULL, used, 4, t0);
	assert_non_null(st);
	assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 4);
	assert_int_equal(json_integer_value(json_object_get(st, "assignedIPv4")), 2);
	assert_int_equal(json_integer_value(json_object_get(st, "availableIPv4")), 264);
	c = json_array_get(json_object_get(st, "conditions"), 0);
	assert_int_equal(json_array_size(json_object_get(st, "conditions")), 1);
	assert_string_equal(k8s_str(c, "type", NULL), "Ready");
	assert_string_equal(k8s_str(c, "status", NULL), "True");
	assert_string_equal(k8s_str(c, "reason", NULL), "Valid");
	assert_string_equal(k8s_str(c, "message", NULL),
			    "266 addresses, 2 used by Kubernetes objects");
	assert_string_equal(k8s_str(c, "lastTransitionTime", NULL), "2025-12-04T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(c, "observedGeneration")), 4);

	// Nothing used (no publication): all available; the transition time stays.
	st2 = k8s_pool_status_build(pool, st, NULL, 0, t1);
	assert_int_equal(json_integer_value(json_object_get(st2, "assignedIPv4")), 0);
	assert_int_equal(json_integer_value(json_object_get(st2, "availableIPv4")), 266);
	c = json_array_get(json_object_get(st2, "conditions"), 0);
	assert_string_equal(k8s_str(c, "lastTransitionTime", NULL), "2025-12-04T00:00:00Z");
	json_decref(st2);

	// Invalid: Ready=False with the field, nothing counted; the time moves with the status.
	st2 = k8s_pool_status_build(bad, st, used, 4, t1);
	c = json_array_get(json_object_get(st2, "conditions"), 0);
	assert_string_equal(k8s_str(c, "status", NULL), "False");
	assert_string_equal(k8s_str(c, "reason", NULL), "InvalidAddress");
	assert_string_equal(k8s_str(c, "message", NULL),
			    "spec.addresses[0]: \"192.0.2.19-192.0.2.10\" is a reversed range: "
			    "192.0.2.19 comes after 192.0.2.10");
	assert_string_equal(k8s_str(c, "lastTransitionTime", NULL), "2025-12-04T00:01:00Z");
	assert_int_equal(json_integer_value(json_object_get(st2, "assignedIPv4")), 0);
	assert_int_equal(json_integer_value(json_object_get(st2, "availableIPv4")), 0);
	json_decref(st2);
	st2 = k8s_pool_status_build(badns, NULL, NULL, 0, t1);
	c = json_array_get(json_object_get(st2, "conditions"), 0);
	assert_string_equal(k8s_str(c, "reason", NULL), "InvalidSpec");
	assert_string_equal(k8s_str(c, "message", NULL),
			    "spec.namespaces[0]: not a namespace name");
	json_decref(st2);
	json_decref(st);
	json_decref(pool);
	json_decref(bad);
	json_decref(badns);
}

/* The reporting pass counts the addresses of the published mappings (offline: logged). */
static void address_pool_status_is_reported_from_the_published_mappings(void **state)
{
	struct k8s_report rep = {.store = &store, .offline = true};
	const char *log;

	(void)state;
	params.default_addr = t_ip("198.51.100.1");
	pool_object("public", "{\"addresses\":[\"203.0.113.0/24\", \"198.51.100.1\"]}");
	run();
	assert_true(MAPPING_RES()->accepted);
	assert_true(STS_RES()->accepted);
	rep.book = json_object();
	rep.seen = json_object();
	k8s_report_pools(&rep, &d, true);
	log = k8s_str(rep.book, "AddressPool//public", "log", NULL);
	assert_string_equal(log, "Ready=True (Valid: 257 addresses, 2 used by Kubernetes objects), "
				 "assignedIPv4 2, availableIPv4 255");
	assert_non_null(json_object_get(rep.seen, "AddressPool//public"));
	k8s_report_pools(&rep, &d, false); // not published: nothing is used
	log = k8s_str(rep.book, "AddressPool//public", "log", NULL);
	assert_string_equal(log, "Ready=True (Valid: 257 addresses, 0 used by Kubernetes objects), "
				 "assignedIPv4 0, availableIPv4 257");
	json_decref(rep.book);
	json_decref(rep.seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(reload_rechecks_every_object_against_the_new_pools),
		T(address_pool_objects_take_ranges),
		T(address_pool_status_counts_and_conditions),
		T(address_pool_status_is_reported_from_the_published_mappings),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
