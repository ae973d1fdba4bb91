/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A reconcile pass's indexes (cp/k8s_build.h): EndpointSlices by namespace and Service, Pods
 * by namespace and set (controlling StatefulSet, else the pod-name label's prefix). A Service
 * gets its own slices only (not another namespace's Service of the same name, not a Service
 * whose name extends its own), a set its own Pods only (not a set whose name extends its own,
 * not another namespace's), in the order the caches hold them, as the scans did.
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

static void put(enum k8s_kind k, const char *text)
{
	json_t *o = t_json(text);

	assert_int_equal(k8s_cache_apply(&store.c[k], K8S_UPD_ADDED, o), 1);
	json_decref(o);
}

static void service(const char *ns, const char *name, uint16_t port)
{
	char b[1024];

	snprintf(b, sizeof(b),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"1\"},"
		 "\"spec\":{\"addresses\":[\"203.0.113.5\"],\"mode\":\"service\",\"serviceName\":"
		 "\"%s\",\"ports\":[{\"port\":%u,\"servicePort\":80}]}}",
		 ns, name, name, port);
	put(K8S_KIND_MAPPING, b);
	snprintf(b, sizeof(b),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"1\"},"
		 "\"spec\":{\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,"
		 "\"targetPort\":8080}]}}",
		 ns, name);
	put(K8S_KIND_SERVICE, b);
}

static void slice(const char *ns, const char *name, const char *svc, const char *ip)
{
	char b[1024];

	snprintf(b, sizeof(b),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"1\","
		 "\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},\"addressType\":\"IPv4\","
		 "\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":8080}],"
		 "\"endpoints\":[{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true}}]}",
		 ns, name, svc, ip);
	put(K8S_KIND_ENDPOINTSLICE, b);
}

/* A perPod Mapping @p name over set @p set from @p port; with @p replicas >= 0, a StatefulSet
 * of that many replicas. */
static void perpod(const char *ns, const char *name, const char *set, uint16_t port, int replicas)
{
	char b[1024];

	snprintf(
		b, sizeof(b),
		"{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"1\"},"
		"\"spec\":{\"addresses\":[\"203.0.113.6\"],\"mode\":\"perPod\",\"statefulSetName\":"
		"\"%s\",\"startPort\":%u,\"targetPort\":9092,\"backends\":\"pods\"}}",
		ns, name, set, port);
	put(K8S_KIND_MAPPING, b);
	if (replicas < 0)
		return;
	snprintf(b, sizeof(b),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"1\"},"
		 "\"spec\":{\"replicas\":%d,\"serviceName\":\"%s\"}}",
		 ns, set, replicas, set);
	put(K8S_KIND_STATEFULSET, b);
}

/* Pod @p ns/@p name (pod-name label the same) controlled by @p kind @p owner, at @p ip. */
static void pod(const char *ns, const char *name, const char *kind, const char *owner,
		const char *ip)
{
	char b[1024];

	snprintf(b, sizeof(b),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"1\","
		 "\"labels\":{\"statefulset.kubernetes.io/pod-name\":\"%s\"},\"ownerReferences\":"
		 "[{\"kind\":\"%s\",\"name\":\"%s\",\"controller\":true}]},\"status\":{\"podIP\":"
		 "\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		 ns, name, name, kind, owner, ip);
	put(K8S_KIND_POD, b);
}

/* The mapping of namespace @p ns whose first port is @p port. */
static const struct cfg_mapping *at(const char *ns, uint16_t port)
{
	for (unsigned int i = 0; i < d.n_maps; i++)
		if (strcmp(d.maps[i].ns, ns) == 0 && d.maps[i].ports[0].port == port)
			return &d.maps[i];
	fail_msg("no mapping %s :%u", ns, port);
	return NULL;
}

static void assert_backends(const struct cfg_mapping *m, const char *a, const char *b)
{
	assert_int_equal(m->n_backends, b ? 2 : 1);
	assert_int_equal(m->backends[0].addr, t_ip(a));
	if (b)
		assert_int_equal(m->backends[1].addr, t_ip(b));
}

static void services_read_their_own_slices_and_sets_their_own_pods(void **state)
{
	struct k8s_reconcile_params p = {.default_addr = 0xc6336401};

	(void)state;
	assert_int_equal(k8s_store_init(&store), 0);
	memset(&d, 0, sizeof(d));
	service("a", "web", 8080);
	service("b", "web", 8081);   // same name, another namespace
	service("a", "web-x", 8082); // a name that extends web's
	slice("a", "web-2", "web", "10.1.0.2");
	slice("a", "web-1", "web", "10.1.0.1");
	slice("a", "web-x-1", "web-x", "10.1.0.9");
	slice("b", "web-1", "web", "10.2.0.1");

	perpod("a", "k", "kafka", 30000, 2);
	perpod("a", "kx", "kafka-x", 31000, 1);
	perpod("a", "ps", "pool", 32000, -1); // no StatefulSet: the pod-name labels say
	pod("a", "kafka-0", "StatefulSet", "kafka", "10.3.0.1");
	pod("a", "kafka-1", "StatefulSet", "kafka", "10.3.0.2");
	pod("a", "kafka-x-0", "StatefulSet", "kafka-x", "10.3.0.3");
	pod("b", "kafka-0", "StatefulSet", "kafka", "10.4.0.1"); // another namespace
	pod("a", "pool-3", "StrimziPodSet", "pool", "10.5.0.3");
	pod("a", "pool-7", "StrimziPodSet", "pool", "10.5.0.7");
	pod("a", "pool-x-1", "StrimziPodSet", "pool-x", "10.5.1.1"); // another set

	t_reconcile(&store, &p, &d);
	assert_backends(at("a", 8080), "10.1.0.1", "10.1.0.2");
	assert_backends(at("b", 8081), "10.2.0.1", NULL);
	assert_backends(at("a", 8082), "10.1.0.9", NULL);
	assert_backends(at("a", 30000), "10.3.0.1", NULL);
	assert_backends(at("a", 30001), "10.3.0.2", NULL);
	assert_backends(at("a", 31000), "10.3.0.3", NULL);
	assert_backends(at("a", 32003), "10.5.0.3", NULL);
	assert_backends(at("a", 32007), "10.5.0.7", NULL);
	assert_int_equal(d.n_maps, 3 + 2 + 1 + 2);

	// A second pass over changed caches sees the change: the indexes live one pass.
	slice("a", "web-3", "web", "10.1.0.3");
	t_reconcile(&store, &p, &d);
	assert_int_equal(at("a", 8080)->n_backends, 3);
	t_store_done(&store, &d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(services_read_their_own_slices_and_sets_their_own_pods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
