/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The l7mp VirtualService source (cp/k8s_virtualservice.c, cp/k8s_l7mp_match.c): the seed's
 * objects (tests/data/l7mp) reconciled into one mapping with source rules, the JSONPredicate
 * subset flattened, ConsistentHash as affinity, addresses from annotation or pool, and what
 * is not served named (condition Unsupported) or refused (reason Unsupported).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_json.h>
#include <strait/k8s_manifests.h>
#include <strait/k8s_reconcile.h>
#include <strait/k8s_status.h>

#include "k8s_testlib.h"
#include "k8s_store_fixture.h"

static struct k8s_store store;
static struct k8s_desired d;

static int setup(void **state)
{
	json_t *items[K8S_KIND_MAX];
	unsigned int files, changed;
	char e[512];

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(k8s_store_init(&store), 0);
	assert_int_equal(k8s_manifests_load(STRAIT_TESTS_DATA "/l7mp", items, &files, e, sizeof(e)),
			 0);
	assert_int_equal(files, 2);
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		k8s_cache_replace(&store.c[k], items[k], &changed);
		json_decref(items[k]);
	}
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
	struct k8s_reconcile_params p = {.default_addr = t_ip("198.51.100.1")};

	k8s_desired_free(&d);
	assert_int_equal(k8s_reconcile(&store, &p, &d), 0);
}

static const struct cfg_mapping *map(const char *name)
{
	for (unsigned int i = 0; i < d.n_maps; i++)
		if (strcmp(d.maps[i].name, name) == 0)
			return &d.maps[i];
	fail_msg("no mapping %s", name);
	return NULL;
}

static const struct k8s_result *res(const char *name)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (strcmp(d.res[i].name, name) == 0)
			return &d.res[i];
	fail_msg("no result for %s", name);
	return NULL;
}

static bool has_res(const char *name)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (strcmp(d.res[i].name, name) == 0)
			return true;
	return false;
}

/* A VirtualService in namespace default with @p spec (JSON) and @p ann (JSON object text). */
static void vs(const char *name, const char *ann, const char *spec)
{
	char buf[4096];
	static unsigned int v;
	json_t *o;

	v++;
	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"l7mp.io/v1\",\"kind\":\"VirtualService\",\"metadata\":{"
		 "\"name\":\"%s\",\"namespace\":\"default\",\"resourceVersion\":\"v%u\","
		 "\"creationTimestamp\":\"2026-12-01T00:00:0%uZ\",\"annotations\":%s},\"spec\":%s}",
		 name, v, v % 10, ann, spec);
	o = t_json(buf);
	assert_int_equal(k8s_cache_apply(&store.c[K8S_KIND_VIRTUALSERVICE], K8S_UPD_MODIFIED, o),
			 1);
	json_decref(o);
}

static void the_seeds_virtualservice_reconciles(void **state)
{
	const struct cfg_mapping *m;
	const struct k8s_result *r;

	(void)state;
	run();
	assert_false(has_res("worker")); /* a selector only: no listener, no source */
	r = res("transcoder");
	assert_false(r->valid);
	assert_string_equal(r->reason, "Unsupported");
	assert_string_equal(r->message, "spec.listener.spec.protocol: \"WebSocket\" is not "
					"served at L4 (UDP or TCP)");
	r = res("my-udp-service");
	assert_true(r->accepted);
	assert_string_equal(r->unsupported, "spec.virtualHost[0].rules[0].action.rewrite, "
					    "spec.virtualHost[0].rules[0].action.route.ingress");
	m = map("my-udp-service");
	/* no annotation: the pool that admits namespace default gave its one address */
	assert_int_equal(m->n_addrs, 1);
	assert_int_equal(m->addrs[0], t_ip("198.51.100.1"));
	assert_int_equal(m->n_ports, 1);
	assert_int_equal(m->ports[0].port, 9001);
	assert_int_equal(m->ports[0].proto, IPPROTO_UDP);
	assert_int_equal(m->n_rules, 1);
	assert_int_equal(m->rules[0].src.addr, t_ip("10.0.0.0"));
	assert_int_equal(m->rules[0].src.len, 24);
	assert_int_equal(m->rules[0].sport_lo, 9001);
	assert_int_equal(m->rules[0].sport_hi, 9001);
	assert_int_equal(m->rules[0].group, 0);
	assert_int_equal(m->n_groups, 1);
	assert_true(m->remove_orphan_sessions);
	assert_int_equal(m->affinity, CFG_AFFINITY_FIVE_TUPLE);
	/* cluster: worker → the VirtualService worker (no serviceName) → the Service worker */
	assert_int_equal(m->n_backends, 2);
	assert_int_equal(m->backends[0].addr, t_ip("10.0.0.11"));
	assert_int_equal(m->backends[0].port, 7);
	assert_int_equal(m->backends[1].addr, t_ip("10.0.0.12"));
	/* the address clients must use, in status.advertised */
	json_t *a = json_array_get(r->advertised, 0);
	assert_string_equal(k8s_str(a, "address", NULL), "198.51.100.1");
	assert_int_equal(json_integer_value(json_object_get(a, "port")), 9001);
	assert_string_equal(k8s_str(a, "name", NULL), "my-udp-endpoint");

	/* the status: Ready, and Unsupported naming the fields */
	json_t *st = k8s_status_build(r, NULL, true, 1, NULL, 0);
	json_t *c = json_object_get(st, "conditions");
	assert_int_equal(json_array_size(c), 4);
	assert_string_equal(k8s_str(json_array_get(c, 3), "type", NULL), "Unsupported");
	assert_string_equal(k8s_str(json_array_get(c, 3), "status", NULL), "True");
	assert_string_equal(k8s_str(json_array_get(c, 3), "message", NULL),
			    "not served at L4, ignored: spec.virtualHost[0].rules[0].action."
			    "rewrite, spec.virtualHost[0].rules[0].action.route.ingress");
	json_decref(st);
}

static void predicates_flatten_to_ordered_rules(void **state)
{
	const struct cfg_mapping *m;

	(void)state;
	vs("pred", "{\"strait.io/address\":\"198.51.100.1\"}",
	   "{\"listener\":{\"spec\":{\"protocol\":\"UDP\",\"port\":9002},\"rules\":["
	   "{\"match\":{\"op\":\"or\",\"apply\":["
	   "{\"op\":\"test\",\"path\":\"/IP/src_addr\",\"value\":\"192.0.2.0/24\"},"
	   "{\"op\":\"and\",\"apply\":["
	   "{\"op\":\"starts\",\"path\":\"/IP/src_addr\",\"value\":\"203.0.113.\"},"
	   "{\"op\":\"test\",\"path\":\"/UDP/src_port\",\"value\":\"5000-5100\"},"
	   "{\"op\":\"test\",\"path\":\"/TCP/src_port\",\"value\":1}]},"
	   "{\"op\":\"and\",\"apply\":["
	   "{\"op\":\"more\",\"path\":\"/UDP/src_port\",\"value\":8999},"
	   "{\"op\":\"less\",\"path\":\"/UDP/src_port\",\"value\":9100}]}]},"
	   "\"action\":{\"route\":{\"destination\":\"worker\"}}},"
	   "{\"match\":{\"op\":\"not\",\"apply\":["
	   "{\"op\":\"test\",\"path\":\"/IP/src_addr\",\"value\":\"10.0.0.0/8\"}]},"
	   "\"action\":{\"route\":{\"cluster\":\"worker\",\"loadbalancer\":{\"policy\":"
	   "\"ConsistentHash\",\"key\":\"/IP/src_addr\"}}}}]}}");
	run();
	assert_true(res("pred")->accepted);
	assert_string_equal(res("pred")->unsupported, "");
	m = map("pred");
	/* rule 0: 192.0.2.0/24 any port; the and with a TCP port matches nothing on UDP;
	 * 9000-9099 from anywhere. rule 1: not 10/8 = 8 prefixes (0/5, 8/7 ... 11/8 ...). */
	assert_int_equal(m->n_rules, 2 + 8);
	assert_int_equal(m->rules[0].src.addr, t_ip("192.0.2.0"));
	assert_int_equal(m->rules[0].src.len, 24);
	assert_int_equal(m->rules[0].sport_lo, 0);
	assert_int_equal(m->rules[0].sport_hi, 65535);
	assert_int_equal(m->rules[1].src.len, 0);
	assert_int_equal(m->rules[1].sport_lo, 9000);
	assert_int_equal(m->rules[1].sport_hi, 9099);
	for (unsigned int i = 2; i < m->n_rules; i++) {
		assert_int_equal(m->rules[i].src.len, i - 1);
		/* the sibling of 10/8's prefix at each length: never contains 10.0.0.0 */
		assert_false(cfg_cidr_contains(&m->rules[i].src, t_ip("10.1.2.3")));
	}
	assert_true(cfg_cidr_contains(&m->rules[2].src, t_ip("192.0.2.1")));
	assert_int_equal(m->affinity, CFG_AFFINITY_CLIENT_IP);
}

static void what_is_not_served_is_refused_by_path(void **state)
{
	static const struct {
		const char *spec, *msg;
	} cases[] = {
		{"{\"op\":\"starts\",\"path\":\"/IP/src_addr\",\"value\":\"10.0.1\"}",
		 "spec.listener.rules[0].match.value: \"10.0.1\" ends in a partial octet (write "
		 "\"10.0.0.\" for 10.0.0.0/24, or op test with a CIDR)"},
		{"{\"op\":\"test\",\"path\":\"/HTTP/headers\",\"value\":1}",
		 "spec.listener.rules[0].match.path: \"/HTTP/headers\" is not served at L4 "
		 "(/IP/src_addr, /UDP/src_port, /TCP/src_port)"},
		{"{\"op\":\"and\",\"apply\":[{\"op\":\"matches\",\"path\":\"/IP/src_addr\","
		 "\"value\":\"x\"}]}",
		 "spec.listener.rules[0].match.apply[0].op: \"matches\" on /IP/src_addr is not "
		 "served (starts, test)"},
		// A number where the CIDR goes (watch_fuzz found it: the parser got NULL).
		{"{\"op\":\"test\",\"path\":\"/IP/src_addr\",\"value\":10}",
		 "spec.listener.rules[0].match.value: must be an IPv4 address or CIDR, as a "
		 "string"},
		{"{\"op\":\"test\",\"path\":\"/UDP/src_port\",\"value\":\"9-x\"}",
		 "spec.listener.rules[0].match.value: must be a port or a range \"LO-HI\" within "
		 "0-65535"},
	};
	char spec[1024];

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(spec, sizeof(spec),
			 "{\"listener\":{\"spec\":{\"protocol\":\"UDP\",\"port\":9003},\"rules\":[{"
			 "\"match\":%s,\"action\":{\"route\":{\"cluster\":\"worker\"}}}]}}",
			 cases[i].spec);
		vs("bad", "{}", spec);
		run();
		assert_false(res("bad")->valid);
		assert_string_equal(res("bad")->reason, "Unsupported");
		assert_string_equal(res("bad")->message, cases[i].msg);
	}
}

static void addresses_route_targets_and_stubs(void **state)
{
	(void)state;
	/* a stub (no rules) routes everything to its selector's Service; a route to a
	 * VirtualService with selector.serviceName reaches that Service */
	vs("stub", "{\"strait.io/address\":\"198.51.100.1\"}",
	   "{\"selector\":{\"serviceName\":\"worker\"},\"udp\":{\"port\":9004}}");
	vs("alias", "{}", "{\"selector\":{\"serviceName\":\"worker\"}}");
	vs("via-alias", "{\"strait.io/address\":\"198.51.100.1\"}",
	   "{\"listener\":{\"spec\":{\"protocol\":\"UDP\",\"port\":9005},\"rules\":{\"action\":{"
	   "\"route\":{\"destination\":\"alias\"}}}}}");
	vs("nosvc", "{\"strait.io/address\":\"198.51.100.1\"}",
	   "{\"listener\":{\"spec\":{\"protocol\":\"UDP\",\"port\":9006},\"rules\":{\"action\":{"
	   "\"route\":{\"destination\":\"missing\"}}}}}");
	vs("tcp", "{\"strait.io/address\":\"198.51.100.1\"}",
	   "{\"listener\":{\"spec\":{\"protocol\":\"TCP\",\"port\":9007},\"rules\":{\"action\":{"
	   "\"route\":{\"destination\":\"worker\"}}}}}");
	run();
	assert_true(res("stub")->accepted);
	assert_int_equal(map("stub")->n_rules, 1);
	assert_int_equal(map("stub")->n_backends, 2);
	assert_true(res("via-alias")->accepted);
	assert_int_equal(map("via-alias")->n_backends, 2);
	assert_int_equal(map("via-alias")->n_rules, 1);
	assert_int_equal(map("via-alias")->rules[0].src.len, 0);
	assert_false(res("nosvc")->valid);
	assert_string_equal(res("nosvc")->reason, "ServiceNotFound");
	assert_false(res("tcp")->valid);
	assert_string_equal(res("tcp")->reason, "ServicePortNotFound");
	assert_string_equal(res("tcp")->message, "Service default/worker has no tcp port");
}

static void no_pool_and_no_annotation_is_no_address(void **state)
{
	(void)state;
	json_t *o = json_pack("{s:{s:s}}", "metadata", "name", "l7mp-gateway");
	k8s_cache_apply(&store.c[K8S_KIND_ADDRESSPOOL], K8S_UPD_DELETED, o);
	json_decref(o);
	run();
	assert_false(res("my-udp-service")->valid);
	assert_string_equal(res("my-udp-service")->reason, "NoAddress");
	assert_string_equal(res("my-udp-service")->message,
			    "no strait.io/address annotation and no address pool with autoAssign "
			    "admits namespace default");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(the_seeds_virtualservice_reconciles),	    T(predicates_flatten_to_ordered_rules),
		T(what_is_not_served_is_refused_by_path),   T(addresses_route_targets_and_stubs),
		T(no_pool_and_no_annotation_is_no_address),
	};
	return cmocka_run_group_tests_name("k8s_l7mp", tests, NULL, NULL);
}
