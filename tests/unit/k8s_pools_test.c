/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address pools (strait/k8s_pools.h) and failure isolation in the reconcile pass, on the
 * objects recorded from kube-apiserver v1.20.2 (Mapping kafka/kafka-external on 203.0.113.10,
 * the port-mapped StatefulSet kafka/kafka on the ext address 198.51.100.1): an address outside
 * the pools that admit the object's namespace, AddressPool objects coming and going, the
 * per-object budgets, the total key budget, and an object failing the table build alone.
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
#include <strait/k8s_pools.h>
#include <strait/k8s_reconcile.h>
#include <strait/k8s_status.h>

#include "k8s_testlib.h"
#include "k8s_store_fixture.h"

static struct k8s_store store;
static struct k8s_desired d;
static struct k8s_reconcile_params params;
static struct cfg_pool cfg_pools[4];
static const uint32_t EXT_ADDR = 0xc6336401; // 198.51.100.1

static int setup(void **state)
{
	(void)state;
	t_store_recorded(&store);
	memset(&d, 0, sizeof(d));
	memset(cfg_pools, 0, sizeof(cfg_pools));
	params = (struct k8s_reconcile_params){.default_addr = EXT_ADDR, .pools = cfg_pools};
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

static const struct k8s_result *res(const char *ns, const char *name)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (strcmp(d.res[i].name, name) == 0 && strcmp(d.res[i].ns, ns) == 0)
			return &d.res[i];
	fail_msg("no result for %s/%s", ns, name);
	return NULL;
}

/* The Mapping (kind MAPPING) and the StatefulSet (kind STATEFULSET) are both kafka/kafka*. */
static const struct k8s_result *sts_res(void)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (d.res[i].kind == K8S_KIND_STATEFULSET && strcmp(d.res[i].name, "kafka") == 0)
			return &d.res[i];
	fail_msg("no result for StatefulSet kafka");
	return NULL;
}

static void put(enum k8s_kind k, const char *text)
{
	static unsigned int version;
	json_t *o = t_json(text);
	char rv[16];

	snprintf(rv, sizeof(rv), "p%u", ++version);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	assert_int_equal(k8s_cache_apply(&store.c[k], K8S_UPD_MODIFIED, o), 1);
	json_decref(o);
}

static void del_pool(const char *name)
{
	json_t *o = json_pack("{s:{s:s}}", "metadata", "name", name);

	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_ADDRESSPOOL], K8S_UPD_DELETED, o), 1);
	json_decref(o);
}

static void pool_object(const char *name, const char *spec)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"strait.io/v1alpha1\",\"kind\":\"AddressPool\","
		 "\"metadata\":{\"name\":\"%s\"},\"spec\":%s}",
		 name, spec);
	put(K8S_KIND_ADDRESSPOOL, buf);
}

static void cfg_pool(unsigned int i, const char *name, const char *cidr, const char *ns)
{
	struct cfg_pool *p = &cfg_pools[i];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	char why[96];
	assert_int_equal(cfg_pool_range_parse(cidr, &p->ranges[0], why, sizeof(why)), 0);
	p->n_ranges = 1;
	if (ns) {
		snprintf(p->namespaces[0], CFG_NAME_MAX, "%s", ns);
		p->n_namespaces = 1;
	}
	p->auto_assign = true;
	if (params.n_pools <= i)
		params.n_pools = i + 1;
}

#define MAPPING(ns, name, created, spec)                                                             \
	"{\"apiVersion\":\"strait.io/v1alpha1\",\"kind\":\"Mapping\",\"metadata\":{\"name\":\"" name \
	"\",\"namespace\":\"" ns "\",\"generation\":1,\"uid\":\"u-" name "\","                       \
	"\"creationTimestamp\":\"" created "\"},\"spec\":" spec "}"

/* A failed object's message names nothing of any other object. */
static void assert_names_only_itself(const struct k8s_result *r)
{
	static const char *const others[] = {"kafka-external", "broker-", "wide",
					     "young",	       "stray",	  "outside"};

	for (unsigned int i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (strncmp(r->name, others[i], strlen(others[i])) == 0 ||
		    (r->kind == K8S_KIND_STATEFULSET && strcmp(others[i], "broker-") == 0))
			continue; // its own name, or its own mappings' names
		if (strstr(r->message, others[i]))
			fail_msg("%s/%s's message names another object: %s", r->ns, r->name,
				 r->message);
	}
}

static void without_pools_any_address_is_allowed(void **state)
{
	(void)state;
	run();
	assert_false(d.pools.enforce);
	assert_true(res("kafka", "kafka-external")->accepted);
	assert_true(sts_res()->accepted);
	assert_non_null(map("broker-0"));

	params.require_pools = true; // kubernetes.requireAddressPools with no pool: nothing
	run();
	assert_true(d.pools.enforce);
	assert_false(res("kafka", "kafka-external")->accepted);
	assert_string_equal(res("kafka", "kafka-external")->reason, "AddressNotAllowed");
	assert_false(sts_res()->accepted);
	assert_int_equal(d.n_maps, 0);
}

static void mapping_outside_its_pools_is_refused_alone(void **state)
{
	const struct k8s_result *r;

	(void)state;
	cfg_pool(0, "public", "203.0.113.0/24", "kafka");
	cfg_pool(1, "gateway", "198.51.100.0/24", NULL);
	put(K8S_KIND_MAPPING,
	    MAPPING("kafka", "outside", "2026-11-22T10:00:00Z",
		    "{\"addresses\":[\"192.0.2.5\"],\"mode\":\"service\",\"serviceName\":"
		    "\"kafka\",\"ports\":[{\"port\":9092}]}"));
	run();
	assert_true(d.pools.enforce);
	r = res("kafka", "outside");
	assert_false(r->valid);
	assert_false(r->accepted);
	assert_int_equal(r->n_maps, 0);
	assert_string_equal(r->reason, "AddressNotAllowed");
	assert_string_equal(r->message,
			    "address 192.0.2.5 is in no address pool that admits namespace kafka");
	assert_null(map("outside"));
	for (unsigned int i = 0; i < d.n_maps; i++)
		for (unsigned int a = 0; a < d.maps[i].n_addrs; a++)
			assert_int_not_equal(d.maps[i].addrs[a], t_ip("192.0.2.5"));
	assert_names_only_itself(r);
	// What it reports: Ready=False and Programmed=False with the reason, and one Event.
	json_t *st = k8s_status_build(r, NULL, false, 7, NULL, 1000000);
	json_t *ready = json_array_get(json_object_get(st, "conditions"), 0);
	assert_string_equal(k8s_str(ready, "type", NULL), "Ready");
	assert_string_equal(k8s_str(ready, "status", NULL), "False");
	assert_string_equal(k8s_str(ready, "reason", NULL), "AddressNotAllowed");
	assert_string_equal(k8s_str(ready, "message", NULL), r->message);
	assert_int_equal(json_array_size(json_object_get(st, "advertised")), 0);
	json_decref(st);
	json_t *ev = k8s_event_build(r, r->reason, r->message, "gw-1_42", 1000000);
	assert_string_equal(k8s_str(ev, "reason", NULL), "AddressNotAllowed");
	assert_string_equal(k8s_str(ev, "type", NULL), "Warning");
	assert_string_equal(k8s_str(ev, "regarding", "name", NULL), "outside");
	assert_string_equal(k8s_str(ev, "note", NULL), r->message);
	json_decref(ev);
	// The others are published.
	assert_true(res("kafka", "kafka-external")->accepted);
	assert_non_null(map("kafka-external-0"));
	assert_true(sts_res()->accepted);
	assert_non_null(map("broker-2"));
}

static void annotation_address_outside_its_pools_is_refused(void **state)
{
	const struct k8s_result *r;

	(void)state;
	cfg_pool(0, "public", "203.0.113.0/24", "kafka"); // not the ext address 198.51.100.1
	run();
	r = sts_res();
	assert_false(r->accepted);
	assert_string_equal(r->reason, "AddressNotAllowed");
	assert_string_equal(r->message, "address 198.51.100.1 is in no address pool that admits "
					"namespace kafka");
	assert_null(map("broker-0"));
	assert_int_equal(json_array_size(r->advertised), 0);
	assert_true(res("kafka", "kafka-external")->accepted);

	// Its own address in the annotation, inside the pool: programmed.
	put(K8S_KIND_STATEFULSET,
	    "{\"metadata\":{\"name\":\"kafka\",\"namespace\":\"kafka\",\"annotations\":{"
	    "\"strait.io/port-mapper\":\"{\\\"prefix\\\": \\\"broker-\\\", \\\"start_port\\\": "
	    "32000, \\\"target_port\\\": 9092, \\\"address\\\": \\\"203.0.113.11\\\"}\"}},"
	    "\"spec\":{\"replicas\":3}}");
	run();
	assert_true(sts_res()->accepted);
	assert_int_equal(map("broker-0")->addrs[0], t_ip("203.0.113.11"));
}

static void a_pool_admits_namespace_a_not_b(void **state)
{
	(void)state;
	cfg_pool(0, "team-a", "203.0.113.0/24", "a");
	// The same StatefulSet and Mapping in namespaces a and b (Services and pods aside: a
	// perPod Mapping with no pods is still valid, on no ready backend).
	put(K8S_KIND_MAPPING,
	    MAPPING("a", "m", "2026-11-22T10:00:00Z",
		    "{\"addresses\":[\"203.0.113.20\"],\"mode\":\"perPod\",\"statefulSetName\":"
		    "\"s\",\"startPort\":40000,\"targetPort\":80}"));
	put(K8S_KIND_MAPPING,
	    MAPPING("b", "m", "2026-11-22T10:00:00Z",
		    "{\"addresses\":[\"203.0.113.21\"],\"mode\":\"perPod\",\"statefulSetName\":"
		    "\"s\",\"startPort\":40000,\"targetPort\":80}"));
	put(K8S_KIND_STATEFULSET,
	    "{\"metadata\":{\"name\":\"s\",\"namespace\":\"a\",\"creationTimestamp\":"
	    "\"2026-11-22T09:00:00Z\"},\"spec\":{\"replicas\":1}}");
	put(K8S_KIND_STATEFULSET,
	    "{\"metadata\":{\"name\":\"s\",\"namespace\":\"b\",\"creationTimestamp\":"
	    "\"2026-11-22T09:00:00Z\"},\"spec\":{\"replicas\":1}}");
	run();
	assert_true(res("a", "m")->accepted);
	assert_false(res("b", "m")->accepted);
	assert_string_equal(res("b", "m")->reason, "AddressNotAllowed");
	assert_string_equal(res("b", "m")->message,
			    "address 203.0.113.21 is in no address pool that admits namespace b");
	assert_names_only_itself(res("b", "m"));
	assert_true(k8s_pools_admit(&d.pools, "a", t_ip("203.0.113.21")));
	assert_false(k8s_pools_admit(&d.pools, "b", t_ip("203.0.113.20")));
	assert_false(k8s_pools_admit(&d.pools, "a", t_ip("203.0.114.1")));
}

static void address_pool_objects_change_the_verdict(void **state)
{
	(void)state;
	pool_object("public", "{\"addresses\":[\"203.0.113.0/24\"],\"namespaces\":[\"kafka\"]}");
	run();
	assert_true(d.pools.enforce);
	assert_int_equal(d.pools.n, 1);
	assert_true(res("kafka", "kafka-external")->accepted);
	assert_false(sts_res()->accepted); // 198.51.100.1 is in no pool
	assert_string_equal(sts_res()->reason, "AddressNotAllowed");

	pool_object("gateway", "{\"addresses\":[\"198.51.100.1/32\"],\"autoAssign\":false}");
	run();
	assert_int_equal(d.pools.n, 2);
	assert_true(sts_res()->accepted);
	assert_non_null(map("broker-1"));
	assert_true(res("kafka", "kafka-external")->accepted);

	del_pool("public");
	run();
	assert_false(res("kafka", "kafka-external")->accepted);
	assert_string_equal(res("kafka", "kafka-external")->reason, "AddressNotAllowed");
	assert_null(map("kafka-external-0"));
	assert_true(sts_res()->accepted);

	// An invalid AddressPool is left out (and said so), the valid ones still count.
	pool_object("bad", "{\"addresses\":[\"203.0.113.0/33\"]}");
	run();
	assert_int_equal(d.pools.n, 1);
	assert_int_equal(d.pools.n_invalid, 1);
	assert_string_equal(d.pools.invalid, "AddressPool bad: spec.addresses[0]: "
					     "\"203.0.113.0/33\" is not an IPv4 CIDR or range "
					     "(A.B.C.D-E.F.G.H)");

	del_pool("gateway");
	del_pool("bad");
	run(); // no pool left at all: enforcement off again
	assert_false(d.pools.enforce);
	assert_true(res("kafka", "kafka-external")->accepted);
}

static void allocation_picks_a_free_address_of_an_admitting_pool(void **state)
{
	struct k8s_pools p = {0};
	uint32_t a = 0, used[3];

	(void)state;
	cfg_pool(0, "manual", "192.0.2.0/24", NULL);
	cfg_pools[0].auto_assign = false;
	cfg_pool(1, "team-a", "203.0.113.0/30", "a");
	cfg_pool(2, "all", "198.51.100.16/31", NULL);
	assert_int_equal(k8s_pools_collect(cfg_pools, 3, NULL, false, &p), 0);
	// /30: .0 and .3 are network and broadcast; .1 is used: .2.
	used[0] = t_ip("203.0.113.1");
	assert_int_equal(k8s_pools_allocate(&p, "a", NULL, used, 1, &a), 0);
	assert_int_equal(a, t_ip("203.0.113.2"));
	// Namespace b is not admitted to team-a: the next pool (a /31 keeps both addresses).
	assert_int_equal(k8s_pools_allocate(&p, "b", NULL, used, 1, &a), 0);
	assert_int_equal(a, t_ip("198.51.100.16"));
	used[1] = t_ip("198.51.100.16");
	used[2] = t_ip("198.51.100.17");
	assert_int_equal(k8s_pools_allocate(&p, "b", NULL, used, 3, &a), -ENOSPC);
	assert_int_equal(k8s_pools_allocate(&p, "b", "team-a", used, 0, &a), -ENOENT);
	assert_int_equal(k8s_pools_allocate(&p, "b", "manual", used, 0, &a), -ENOENT);
	assert_int_equal(k8s_pools_allocate(&p, "a", "team-a", NULL, 0, &a), 0);
	assert_int_equal(a, t_ip("203.0.113.1"));
	k8s_pools_free(&p);
}

static void port_range_over_its_budget_is_refused_alone(void **state)
{
	const struct k8s_result *r;

	(void)state;
	// 2 addresses x 40000 ports: over the default 65536 keys of one object.
	put(K8S_KIND_MAPPING,
	    MAPPING("kafka", "wide", "2026-11-20T10:00:00Z",
		    "{\"addresses\":[\"203.0.113.30\",\"203.0.113.31\"],\"mode\":\"service\","
		    "\"serviceName\":\"kafka\",\"ports\":[{\"port\":1,\"endPort\":40000,"
		    "\"servicePort\":\"kafka\"}]}"));
	run();
	r = res("kafka", "wide");
	assert_false(r->accepted);
	assert_string_equal(r->reason, "OverBudget");
	assert_string_equal(r->message, "its ports need 80000 service-table entries (addresses x "
					"ports), over the budget of 65536 per object "
					"(kubernetes.limits.portsPerObject)");
	assert_null(map("wide"));
	assert_names_only_itself(r);
	assert_true(res("kafka", "kafka-external")->accepted);
	assert_true(sts_res()->accepted);

	// Budgets from the params; backends: 1 ports entry x the Service's endpoints (3: the
	// not-ready kafka-2 drains, and holds its entry).
	params.limits.keys = 100000;
	params.limits.backends = 1;
	run();
	assert_string_equal(res("kafka", "wide")->message,
			    "it needs 3 backend entries (ports x backends), over the budget of "
			    "1 per object (kubernetes.limits.backendsPerObject)");
	params.limits.backends = 0;
	run();
	assert_true(res("kafka", "wide")->accepted);
}

static void total_budget_leaves_the_youngest_out(void **state)
{
	const struct k8s_result *r;

	(void)state;
	// kafka-external: 3 ordinals + bootstrap = 4 keys; the StatefulSet's 3: 7 in all.
	put(K8S_KIND_MAPPING,
	    MAPPING("kafka", "young", "2030-01-01T00:00:00Z",
		    "{\"addresses\":[\"203.0.113.40\"],\"mode\":\"service\",\"serviceName\":"
		    "\"kafka\",\"ports\":[{\"port\":100,\"endPort\":104,\"servicePort\":"
		    "\"kafka\"}]}"));
	params.limits.total_keys = 10;
	run();
	r = res("kafka", "young");
	assert_false(r->accepted);
	assert_string_equal(r->reason, "OverBudget");
	assert_string_equal(r->message, "its 5 service-table entries would take the gateway past "
					"its total of 10 (kubernetes.limits.totalPorts); older "
					"objects come first");
	assert_names_only_itself(r);
	assert_true(res("kafka", "kafka-external")->accepted);
	assert_true(sts_res()->accepted);
	assert_int_equal(d.n_maps, 7);
	params.limits.total_keys = 12;
	run();
	assert_true(res("kafka", "young")->accepted);
}

/* A fake table build: fails with fail_errno on the mapping named fail_name (if present). */
static const char *fail_name;
static int fail_errno, builds;

static int fake_build(void *arg, const struct cfg_mapping *maps, unsigned int n, int *failed,
		      char *err, size_t errlen)
{
	(void)arg;
	builds++;
	*failed = -1;
	for (unsigned int i = 0; i < n; i++)
		if (fail_name && strcmp(maps[i].name, fail_name) == 0) {
			*failed = (int)i;
			snprintf(err, errlen, "mapping %s: no counter slot left", maps[i].name);
			return -fail_errno;
		}
	if (fail_name && strcmp(fail_name, "*") == 0) {
		snprintf(err, errlen, "cannot create the service table");
		return -fail_errno;
	}
	return 0;
}

static void a_build_failure_fails_its_object_alone(void **state)
{
	char err[256];
	uint64_t before;
	const struct k8s_result *r;

	(void)state;
	run();
	before = d.fingerprint;
	fail_name = "broker-1";
	fail_errno = ENOSPC;
	builds = 0;
	assert_int_equal(k8s_desired_isolate(&d, fake_build, NULL, err, sizeof(err)), 0);
	assert_int_equal(builds, 2);
	r = sts_res();
	assert_false(r->accepted);
	assert_false(r->valid);
	assert_string_equal(r->reason, "NoCounterSlot");
	assert_string_equal(
		r->message,
		"no counter slot left for its mapping broker-1 (16384 mappings at most)");
	assert_int_equal(r->n_maps, 0);
	assert_null(map("broker-0"));
	assert_null(map("broker-1"));
	assert_names_only_itself(r);
	// The other object is still there, whole.
	r = res("kafka", "kafka-external");
	assert_true(r->accepted);
	assert_int_equal(r->n_maps, 4);
	assert_int_equal(d.n_maps, 4);
	assert_string_equal(d.maps[r->first_map].name, "kafka-external-0");
	assert_int_not_equal(d.fingerprint, before);

	run();
	fail_name = "kafka-external-bootstrap";
	fail_errno = ENOMEM;
	assert_int_equal(k8s_desired_isolate(&d, fake_build, NULL, err, sizeof(err)), 0);
	assert_string_equal(res("kafka", "kafka-external")->reason, "OutOfMemory");
	assert_true(sts_res()->accepted);
	assert_non_null(map("broker-2"));
	assert_null(map("kafka-external-0"));

	// A failure that is no one mapping's: nothing isolated, the error returned.
	run();
	fail_name = "*";
	fail_errno = ENOMEM;
	assert_int_equal(k8s_desired_isolate(&d, fake_build, NULL, err, sizeof(err)), -ENOMEM);
	assert_true(sts_res()->accepted);
	assert_true(res("kafka", "kafka-external")->accepted);
	fail_name = NULL;
}

/* --manifests: AddressPool objects from files count as the API's do (cluster-scoped). */
static void address_pools_from_manifests(void **state)
{
	json_t *items[K8S_KIND_MAX];
	unsigned int files, changed;
	char dir[64], path[128], err[256];

	(void)state;
	t_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/pools.yaml", dir);
	t_write(path, "apiVersion: strait.io/v1alpha1\n"
		      "kind: AddressPool\n"
		      "metadata: {name: public, namespace: ignored}\n"
		      "spec: {addresses: [203.0.113.0/24], namespaces: [kafka]}\n");
	assert_int_equal(k8s_manifests_load(dir, items, &files, err, sizeof(err)), 0);
	t_rmdir(dir);
	assert_int_equal(json_array_size(items[K8S_KIND_ADDRESSPOOL]), 1);
	assert_null(k8s_get(json_array_get(items[K8S_KIND_ADDRESSPOOL], 0), "metadata", "namespace",
			    NULL));
	assert_int_equal(k8s_cache_replace(&store.c[K8S_KIND_ADDRESSPOOL],
					   items[K8S_KIND_ADDRESSPOOL], &changed),
			 0);
	for (int k = 0; k < K8S_KIND_MAX; k++)
		json_decref(items[k]);
	run();
	assert_true(d.pools.enforce);
	assert_true(res("kafka", "kafka-external")->accepted);
	assert_string_equal(sts_res()->reason, "AddressNotAllowed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(without_pools_any_address_is_allowed),
		T(mapping_outside_its_pools_is_refused_alone),
		T(annotation_address_outside_its_pools_is_refused),
		T(a_pool_admits_namespace_a_not_b),
		T(address_pool_objects_change_the_verdict),
		T(allocation_picks_a_free_address_of_an_admitting_pool),
		T(port_range_over_its_budget_is_refused_alone),
		T(total_budget_leaves_the_youngest_out),
		T(a_build_failure_fails_its_object_alone),
		T(address_pools_from_manifests),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
