/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LoadBalancer Services as sources (cp/k8s_lbservice.c), on the objects recorded from
 * kube-apiserver v1.20.2 (Service kafka/kafka, TCP 9092 "kafka" and UDP 514 "syslog", and its
 * EndpointSlice: 10.244.1.10 and .11 ready, .12 not): which Services are strait's, the
 * address (requested, kept from the status, shared by key, allocated from a pool), the
 * mappings, the failures with their reasons, and the status.loadBalancer.ingress written.
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
#include <strait/k8s_pools.h>
#include <strait/k8s_reconcile.h>

#include "k8s_testlib.h"
#include "k8s_store_fixture.h"

static struct k8s_store store;
static struct k8s_desired d;
static struct k8s_reconcile_params params;
static struct cfg_pool cfg_pools[2];
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

static const struct k8s_result *svc_res(const char *name)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (d.res[i].kind == K8S_KIND_SERVICE && strcmp(d.res[i].name, name) == 0)
			return &d.res[i];
	return NULL;
}

static void put(const char *text)
{
	static unsigned int version;
	json_t *o = t_json(text);
	char rv[16];

	snprintf(rv, sizeof(rv), "l%u", ++version);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_SERVICE], K8S_UPD_MODIFIED, o), 1);
	json_decref(o);
}

static void pool(unsigned int i, const char *name, const char *cidr, const char *ns)
{
	t_pool_set(&cfg_pools[i], name, cidr, ns);
	if (params.n_pools <= i)
		params.n_pools = i + 1;
}

/* A Service of namespace kafka: name, creationTimestamp, annotations, spec keys, status. */
#define SVC(name, created, ann, spec, status)                                                      \
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" name               \
	"\",\"namespace\":\"kafka\",\"uid\":\"u-" name "\",\"creationTimestamp\":\"" created       \
	"\",\"annotations\":{" ann "}},\"spec\":{" spec "},\"status\":{" status "}}"
#define LB "\"type\":\"LoadBalancer\",\"loadBalancerClass\":\"strait.io/gateway\","
#define KAFKA_PORTS                                                                                \
	"\"ports\":[{\"name\":\"kafka\",\"protocol\":\"TCP\",\"port\":9092,\"targetPort\":9092},"  \
	"{\"name\":\"syslog\",\"protocol\":\"UDP\",\"port\":514,\"targetPort\":5514}]"
#define PORT(p) "\"ports\":[{\"protocol\":\"TCP\",\"port\":" #p "}]"

static void only_strait_services_are_sources(void **state)
{
	(void)state;
	pool(0, "public", "203.0.113.0/29", NULL);
	run(); // the recorded Services are ClusterIP
	assert_null(svc_res("kafka"));
	put(SVC("kafka", "2026-11-21T16:25:49Z", "",
		"\"type\":\"LoadBalancer\",\"loadBalancerClass\":\"metallb.io/x\"," KAFKA_PORTS,
		""));
	put(SVC("plain", "2026-11-21T16:25:49Z", "", "\"type\":\"LoadBalancer\"," PORT(80), ""));
	run();
	assert_null(svc_res("kafka")); // another class
	assert_null(svc_res("plain")); // no class, strait not the default
	// kubernetes.defaultLoadBalancer, through the config as the daemon passes it.
	struct cfg c = {.k8s = {.default_lb = true}};
	k8s_reconcile_params_cfg(&params, &c);
	assert_true(params.default_lb);
	params.pools = cfg_pools;
	params.n_pools = 1;
	run();
	assert_null(svc_res("kafka"));
	assert_non_null(svc_res("plain"));
	assert_true(svc_res("plain")->accepted);
	assert_non_null(map("lb-plain"));
}

static void service_gets_a_pool_address_and_its_endpoints(void **state)
{
	const struct cfg_mapping *m;
	const struct k8s_result *r;

	(void)state;
	pool(0, "public", "203.0.113.0/29", "kafka");
	put(SVC("kafka", "2026-11-21T16:25:49Z", "", LB KAFKA_PORTS, ""));
	run();
	r = svc_res("kafka");
	assert_non_null(r);
	assert_true(r->accepted);
	m = map("lb-kafka");
	assert_non_null(m);
	// .0 is the network address; the Mapping kafka-external's 203.0.113.10 is not in /29.
	assert_int_equal(m->n_addrs, 1);
	assert_int_equal(m->addrs[0], t_ip("203.0.113.1"));
	assert_int_equal(m->mode, CFG_MODE_SERVICE);
	assert_int_equal(m->nat, CFG_NAT_FULL);
	assert_string_equal(m->ns, "kafka");
	// Both ports share the endpoints: one mapping, each port on its own target.
	assert_int_equal(m->n_ports, 2);
	assert_int_equal(m->ports[0].port, 9092);
	assert_int_equal(m->ports[0].proto, IPPROTO_TCP);
	assert_int_equal(m->ports[0].service_port, 9092);
	assert_int_equal(m->ports[1].port, 514);
	assert_int_equal(m->ports[1].proto, IPPROTO_UDP);
	assert_int_equal(m->ports[1].service_port, 5514);
	assert_int_equal(m->n_backends, 3);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.10"));
	assert_false(m->backends[0].serving_only);
	assert_true(m->backends[2].serving_only); // .12 not ready: drains
	assert_int_equal(r->n_ports, 2);

	// Its status.loadBalancer.ingress.
	json_t *want =
		k8s_lb_ingress(r, k8s_cache_get(&store.c[K8S_KIND_SERVICE], "kafka", "kafka"));
	char *text = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "[{\"ip\":\"203.0.113.1\",\"ipMode\":\"Proxy\",\"ports\":[{"
				  "\"port\":9092,\"protocol\":\"TCP\"},{\"port\":514,"
				  "\"protocol\":\"UDP\"}]}]");
	free(text);
	// What the API server has: the same (ipMode dropped by a server before 1.29), or not.
	json_t *cur = t_json("[{\"ip\":\"203.0.113.1\",\"ports\":[{\"port\":9092,\"protocol\":"
			     "\"TCP\"},{\"port\":514,\"protocol\":\"UDP\"}]}]");
	assert_true(k8s_lb_ingress_same(cur, want));
	json_object_set_new(json_array_get(cur, 0), "ipMode", json_string("VIP"));
	assert_false(k8s_lb_ingress_same(cur, want));
	json_object_set_new(json_array_get(cur, 0), "ipMode", json_string("Proxy"));
	assert_true(k8s_lb_ingress_same(cur, want));
	json_object_set_new(json_array_get(cur, 0), "ip", json_string("203.0.113.2"));
	assert_false(k8s_lb_ingress_same(cur, want));
	assert_false(k8s_lb_ingress_same(NULL, want));
	json_decref(cur);
	json_decref(want);
}

static void local_policy_is_preserve_source_and_affinity_is_kept(void **state)
{
	struct k8s_lb_info info;
	char err[256];
	json_t *svc;

	(void)state;
	pool(0, "public", "203.0.113.0/29", NULL);
	put(SVC("kafka", "2026-11-21T16:25:49Z", "",
		LB "\"externalTrafficPolicy\":\"Local\",\"sessionAffinity\":\"ClientIP\","
		   "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":600}}," KAFKA_PORTS,
		""));
	run();
	assert_int_equal(map("lb-kafka")->nat, CFG_NAT_PRESERVE_SOURCE);
	assert_int_equal(map("lb-kafka")->affinity, CFG_AFFINITY_CLIENT_IP);
	svc = k8s_cache_get(&store.c[K8S_KIND_SERVICE], "kafka", "kafka");
	assert_int_equal(k8s_lb_decode(svc, &info, err, sizeof(err)), 0);
	assert_true(info.local);
	assert_true(info.affinity_client_ip);
	assert_int_equal(info.affinity_timeout, 600);
}

static void status_address_is_kept(void **state)
{
	(void)state;
	pool(0, "public", "203.0.113.0/29", NULL);
	put(SVC("kafka", "2026-11-21T16:25:49Z", "", LB KAFKA_PORTS,
		"\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.5\",\"ipMode\":\"Proxy\"}]}"));
	put(SVC("new", "2026-11-22T00:00:00Z", "", LB PORT(80), ""));
	run();
	assert_int_equal(map("lb-kafka")->addrs[0], t_ip("203.0.113.5"));
	assert_int_equal(map("lb-new")->addrs[0], t_ip("203.0.113.1"));
	// A status address that no pool allows any more is given up.
	pool(0, "public", "203.0.113.8/29", NULL);
	run();
	assert_int_equal(map("lb-kafka")->addrs[0], t_ip("203.0.113.9"));
	// .10 is the Mapping kafka-external's, now allowed by the pool.
	assert_int_equal(map("lb-new")->addrs[0], t_ip("203.0.113.11"));
}

static void shared_key_shares_one_address(void **state)
{
	(void)state;
	pool(0, "public", "203.0.113.0/29", NULL);
	put(SVC("a", "2026-11-21T00:00:00Z", "\"strait.io/allow-shared-ip\":\"k1\"", LB PORT(80),
		""));
	put(SVC("b", "2026-11-21T00:00:01Z", "\"strait.io/allow-shared-ip\":\"k1\"", LB PORT(443),
		""));
	put(SVC("c", "2026-11-21T00:00:02Z", "", LB PORT(8080), ""));
	run();
	assert_true(svc_res("a")->accepted);
	assert_true(svc_res("b")->accepted);
	assert_true(svc_res("c")->accepted);
	assert_int_equal(map("lb-a")->addrs[0], map("lb-b")->addrs[0]);
	assert_int_not_equal(map("lb-c")->addrs[0], map("lb-a")->addrs[0]);

	// Same key, same port: the address is not shared, a new one is allocated.
	put(SVC("d", "2026-11-21T00:00:03Z", "\"strait.io/allow-shared-ip\":\"k1\"", LB PORT(80),
		""));
	run();
	assert_true(svc_res("d")->accepted);
	assert_int_not_equal(map("lb-d")->addrs[0], map("lb-a")->addrs[0]);

	// Asking for a held address with the same key and an overlapping port: PortConflict
	// (a and b hold 203.0.113.1 by their status, as strait wrote it).
	put(SVC("a", "2026-11-21T00:00:00Z", "\"strait.io/allow-shared-ip\":\"k1\"", LB PORT(80),
		"\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.1\"}]}"));
	put(SVC("b", "2026-11-21T00:00:01Z", "\"strait.io/allow-shared-ip\":\"k1\"", LB PORT(443),
		"\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.1\"}]}"));
	put(SVC("e", "2026-11-21T00:00:04Z", "\"strait.io/allow-shared-ip\":\"k1\"",
		LB "\"loadBalancerIP\":\"203.0.113.1\"," PORT(443), ""));
	run();
	assert_int_equal(map("lb-a")->addrs[0], t_ip("203.0.113.1"));
	assert_int_equal(map("lb-b")->addrs[0], t_ip("203.0.113.1"));
	assert_false(svc_res("e")->accepted);
	assert_true(svc_res("e")->conflict);
	assert_string_equal(svc_res("e")->reason, "PortConflict");
}

static void held_address_without_the_key_is_refused(void **state)
{
	const struct k8s_result *r;

	(void)state;
	pool(0, "public", "203.0.113.0/29", NULL);
	put(SVC("a", "2026-11-21T00:00:00Z", "", LB "\"loadBalancerIP\":\"203.0.113.3\"," PORT(80),
		""));
	put(SVC("b", "2026-11-21T00:00:01Z", "\"strait.io/address\":\"203.0.113.3\"", LB PORT(443),
		""));
	run();
	assert_true(svc_res("a")->accepted);
	r = svc_res("b");
	assert_false(r->accepted);
	assert_string_equal(r->reason, "AddressInUse");
	assert_string_equal(r->message, "address 203.0.113.3 is held by Service kafka/a; Services "
					"share an address only with the same annotation "
					"strait.io/allow-shared-ip");
	assert_null(map("lb-b"));
}

static void address_failures_are_reported(void **state)
{
	(void)state;
	pool(0, "tiny", "203.0.113.4/31", NULL);
	pool(1, "other", "192.0.2.0/24", "elsewhere");
	put(SVC("a", "2026-11-21T00:00:00Z", "", LB PORT(80), ""));
	put(SVC("b", "2026-11-21T00:00:01Z", "", LB PORT(81), ""));
	put(SVC("c", "2026-11-21T00:00:02Z", "", LB PORT(82), ""));
	put(SVC("d", "2026-11-21T00:00:03Z", "\"strait.io/address-pool\":\"other\"", LB PORT(83),
		""));
	put(SVC("e", "2026-11-21T00:00:04Z", "", LB "\"loadBalancerIP\":\"192.0.2.7\"," PORT(84),
		""));
	put(SVC("f", "2026-11-21T00:00:05Z", "",
		LB "\"ports\":[{\"protocol\":\"SCTP\",\"port\":3868}]", ""));
	run();
	// The objects go in the cache's order, a to f: a and b take the /31's two addresses.
	assert_int_equal(map("lb-a")->addrs[0], t_ip("203.0.113.4"));
	assert_int_equal(map("lb-b")->addrs[0], t_ip("203.0.113.5"));
	assert_string_equal(svc_res("c")->reason, "AddressPoolExhausted");
	assert_string_equal(svc_res("c")->message,
			    "every address of the pools that admit namespace kafka is in use");
	assert_string_equal(svc_res("d")->reason, "NoAddressPool");
	assert_string_equal(svc_res("d")->message,
			    "no address pool named other with autoAssign admits namespace kafka");
	assert_string_equal(svc_res("e")->reason, "AddressNotAllowed");
	assert_string_equal(svc_res("f")->reason, "InvalidSpec");
	assert_string_equal(svc_res("f")->message,
			    "spec.ports[0].protocol: SCTP is not served (TCP or UDP)");
	assert_null(map("lb-c"));
	assert_null(map("lb-f"));
}

static void decode_errors_name_the_field(void **state)
{
	struct k8s_lb_info info;
	char err[256];
	json_t *svc;

	(void)state;
	svc = t_json(SVC("x", "", "", LB "\"loadBalancerIP\":\"10.0.0.300\"," PORT(80), ""));
	assert_int_equal(k8s_lb_decode(svc, &info, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec.loadBalancerIP: \"10.0.0.300\" is not an IPv4 address");
	json_decref(svc);
	svc = t_json(SVC("x", "", "\"strait.io/address\":\"10.0.0.2\"",
			 LB "\"loadBalancerIP\":\"10.0.0.1\"," PORT(80), ""));
	assert_int_equal(k8s_lb_decode(svc, &info, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec.loadBalancerIP and annotation strait.io/address name "
				 "different addresses");
	json_decref(svc);
	svc = t_json(SVC("x", "", "\"strait.io/address\":\"10.0.0.2\"", LB PORT(80), ""));
	assert_int_equal(k8s_lb_decode(svc, &info, err, sizeof(err)), 0);
	assert_int_equal(info.want, t_ip("10.0.0.2"));
	assert_false(info.affinity_client_ip);
	json_decref(svc);
}

static void status_removal_only_of_ours(void **state)
{
	json_t *svc;

	(void)state;
	svc = t_json(SVC("x", "", "", "\"type\":\"ClusterIP\"",
			 "\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.1\","
			 "\"ipMode\":\"Proxy\"}]}"));
	assert_true(k8s_lb_status_ours(svc)); // left the class (type changed): remove
	json_decref(svc);
	svc = t_json(SVC("x", "", "",
			 "\"type\":\"LoadBalancer\",\"loadBalancerClass\":\"metallb.io/x\"",
			 "\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.1\","
			 "\"ipMode\":\"Proxy\"}]}"));
	assert_false(k8s_lb_status_ours(svc)); // another class's controller wrote it
	json_decref(svc);
	svc = t_json(SVC("x", "", "", "\"type\":\"LoadBalancer\"",
			 "\"loadBalancer\":{\"ingress\":[{\"ip\":\"203.0.113.1\"}]}"));
	assert_false(k8s_lb_status_ours(svc)); // a VIP-mode default implementation's
	json_decref(svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(only_strait_services_are_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(service_gets_a_pool_address_and_its_endpoints,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			local_policy_is_preserve_source_and_affinity_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(status_address_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_key_shares_one_address, setup, teardown),
		cmocka_unit_test_setup_teardown(held_address_without_the_key_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(address_failures_are_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(decode_errors_name_the_field, setup, teardown),
		cmocka_unit_test_setup_teardown(status_removal_only_of_ours, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
