/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway API (cp/k8s_gateway.h): the upstream conformance scenarios of the GATEWAY-TCP and
 * GATEWAY-UDP profiles (tcproute-*, udproute-*) on the reconcile pass: the mappings a
 * Gateway's listeners get (addresses, ports, backends and their Maglev weights, the reject
 * backend of a backendRef that does not resolve), and the status written on the Gateway and
 * on each route (conditions and reasons as the Gateway API spec names them).
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
#include <strait/k8s_kinds.h>
#include <strait/k8s_manifests.h>
#include <strait/k8s_reconcile.h>

#include "k8s_testlib.h"
#include "k8s_store_fixture.h"

#include "k8s_gateway.h"
#include "k8s_report.h"

static struct k8s_store store;
static struct k8s_desired d;
static struct k8s_reconcile_params params;
static struct cfg_pool cfg_pools[2];
static const uint32_t EXT_ADDR = 0xc6336401; // 198.51.100.1

/* Add an object written with ' for " (printf format). */
static void put(enum k8s_kind k, const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (char *p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_t *o = t_json(text);
	assert_true(k8s_cache_apply(&store.c[k], K8S_UPD_ADDED, o) >= 0);
	json_decref(o);
}

static void del(enum k8s_kind k, const char *ns, const char *name)
{
	json_t *o = json_pack("{s:{s:s, s:s}}", "metadata", "namespace", ns, "name", name);
	if (!ns[0])
		json_object_del(json_object_get(o, "metadata"), "namespace");
	assert_int_equal(k8s_cache_apply(&store.c[k], K8S_UPD_DELETED, o), 1);
	json_decref(o);
}

/* A Service @p name in @p ns with TCP and UDP port 6000 and @p n endpoints 10.244.x.(1..n):9000. */
static void service(const char *ns, const char *name, unsigned int x, unsigned int n)
{
	char eps[1024] = "";
	size_t len = 0;

	put(K8S_KIND_SERVICE,
	    "{'metadata':{'namespace':'%s','name':'%s'},'spec':{'ports':["
	    "{'name':'t','port':6000,'protocol':'TCP','targetPort':9000},"
	    "{'name':'u','port':6000,'protocol':'UDP','targetPort':9000}]}}",
	    ns, name);
	for (unsigned int i = 1; i <= n; i++)
		len += (size_t)snprintf(
			eps + len, sizeof(eps) - len,
			"%s{'addresses':['10.244.%u.%u'],'conditions':{'ready':true}}",
			i > 1 ? "," : "", x, i);
	put(K8S_KIND_ENDPOINTSLICE,
	    "{'metadata':{'namespace':'%s','name':'%s-1','labels':{'kubernetes.io/"
	    "service-name':'%s'}},'addressType':'IPv4','ports':[{'name':'t','port':9000,"
	    "'protocol':'TCP'},{'name':'u','port':9000,'protocol':'UDP'}],'endpoints':[%s]}",
	    ns, name, name, eps);
}

/* GatewayClass "strait" (ours) and "other"; Gateway gw-ns/gw on 203.0.113.5 with @p listeners. */
static void gateway(const char *listeners)
{
	put(K8S_KIND_GATEWAY,
	    "{'metadata':{'namespace':'gw-ns','name':'gw','generation':2,"
	    "'creationTimestamp':'2026-01-01T00:00:00Z'},'spec':{'gatewayClassName':'strait',"
	    "'addresses':[{'type':'IPAddress','value':'203.0.113.5'}],'listeners':[%s]}}",
	    listeners);
}

static const char *const TCP_FOO = "{'name':'foo','protocol':'TCP','port':8080}";

/* A route of @p kind (TCPROUTE/UDPROUTE) @p ns/@p name created at second @p sec. */
static void route(enum k8s_kind kind, const char *ns, const char *name, int sec,
		  const char *parents, const char *backends)
{
	put(kind,
	    "{'metadata':{'namespace':'%s','name':'%s','generation':1,"
	    "'creationTimestamp':'2026-01-02T00:00:%02dZ'},'spec':{'parentRefs':[%s],"
	    "'rules':[{'backendRefs':[%s]}]}}",
	    ns, name, sec, parents, backends);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(k8s_store_init(&store), 0);
	memset(&d, 0, sizeof(d));
	memset(cfg_pools, 0, sizeof(cfg_pools));
	params = (struct k8s_reconcile_params){.default_addr = EXT_ADDR, .pools = cfg_pools};
	put(K8S_KIND_GATEWAYCLASS, "{'metadata':{'name':'strait','generation':1},'spec':{"
				   "'controllerName':'strait.io/gateway-controller'}}");
	put(K8S_KIND_GATEWAYCLASS, "{'metadata':{'name':'other'},'spec':{"
				   "'controllerName':'example.com/other'}}");
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

static const struct k8s_result *res(enum k8s_kind k, const char *ns, const char *name)
{
	for (unsigned int i = 0; i < d.n_res; i++)
		if (d.res[i].kind == k && strcmp(d.res[i].name, name) == 0 &&
		    strcmp(d.res[i].ns, ns) == 0)
			return &d.res[i];
	fail_msg("no result for %s/%s", ns, name);
	return NULL;
}

static struct k8s_report rep(void)
{
	return (struct k8s_report){.store = &store};
}

/* The status a Gateway gets (owned by the caller). */
static json_t *gw_status(void)
{
	struct k8s_report r = rep();
	const struct k8s_result *g = res(K8S_KIND_GATEWAY, "gw-ns", "gw");
	json_t *s = k8s_gateway_status(&r, g, NULL, g->accepted);
	assert_non_null(s);
	return s;
}

static json_t *route_status(enum k8s_kind k, const char *ns, const char *name)
{
	struct k8s_report r = rep();
	json_t *s = k8s_route_status(&r, res(k, ns, name), NULL);
	assert_non_null(s);
	return s;
}

/* Condition @p type of conditions list @p conds: "True:Reason". */
static const char *cond(const json_t *conds, const char *type)
{
	static char buf[128];
	json_t *c;
	size_t i;

	json_array_foreach(conds, i, c)
		if (strcmp(k8s_str(c, "type", NULL), type) == 0) {
			snprintf(buf, sizeof(buf), "%s:%s", k8s_str(c, "status", NULL),
				 k8s_str(c, "reason", NULL));
			return buf;
		}
	return "absent";
}

/* Condition @p type of the route's parents[@p i]. */
static const char *pcond(const json_t *st, size_t i, const char *type)
{
	const json_t *p = json_array_get(json_object_get(st, "parents"), i);
	assert_non_null(p);
	assert_string_equal(k8s_str(p, "controllerName", NULL), K8S_GW_CONTROLLER);
	return cond(json_object_get(p, "conditions"), type);
}

static const json_t *listener(const json_t *st, size_t i)
{
	const json_t *l = json_array_get(json_object_get(st, "listeners"), i);
	assert_non_null(l);
	return l;
}

static void simple_tcp_route_programs_the_listener(void **state)
{
	(void)state;
	service("gw-ns", "svc", 1, 2);
	gateway(TCP_FOO);
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw','sectionName':'foo'}",
	      "{'name':'svc','port':6000}");
	run();

	const struct cfg_mapping *m = map("gw-gw-foo");
	assert_non_null(m);
	assert_int_equal(d.n_maps, 1);
	assert_string_equal(m->ns, "gw-ns");
	assert_int_equal(m->n_addrs, 1);
	assert_int_equal(m->addrs[0], t_ip("203.0.113.5"));
	assert_int_equal(m->n_ports, 1);
	assert_int_equal(m->ports[0].port, 8080);
	assert_int_equal(m->ports[0].end_port, 8080);
	assert_int_equal(m->ports[0].proto, IPPROTO_TCP);
	assert_int_equal(m->n_backends, 2);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.1"));
	assert_int_equal(m->backends[1].addr, t_ip("10.244.1.2"));
	assert_int_equal(m->backends[0].port, 9000); // the EndpointSlice's resolved port
	assert_int_equal(m->backends[0].weight, 256);
	assert_int_equal(m->backends[1].weight, 256);

	json_t *st = gw_status();
	assert_string_equal(cond(json_object_get(st, "conditions"), "Accepted"), "True:Accepted");
	assert_string_equal(cond(json_object_get(st, "conditions"), "Programmed"),
			    "True:Programmed");
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(st, "addresses"), 0), "type", NULL),
		"IPAddress");
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(st, "addresses"), 0), "value", NULL),
		"203.0.113.5");
	assert_int_equal(json_array_size(json_object_get(st, "addresses")), 1);
	const json_t *l = listener(st, 0);
	assert_string_equal(k8s_str(l, "name", NULL), "foo");
	assert_int_equal(json_integer_value(json_object_get(l, "attachedRoutes")), 1);
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(l, "supportedKinds"), 0), "kind", NULL),
		"TCPRoute");
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(l, "supportedKinds"), 0), "group", NULL),
		"gateway.networking.k8s.io");
	assert_string_equal(cond(json_object_get(l, "conditions"), "Accepted"), "True:Accepted");
	assert_string_equal(cond(json_object_get(l, "conditions"), "Programmed"),
			    "True:Programmed");
	assert_string_equal(cond(json_object_get(l, "conditions"), "ResolvedRefs"),
			    "True:ResolvedRefs");
	assert_string_equal(cond(json_object_get(l, "conditions"), "Conflicted"),
			    "False:NoConflicts");
	assert_int_equal(
		json_integer_value(k8s_get(json_array_get(json_object_get(st, "conditions"), 0),
					   "observedGeneration", NULL)),
		2);
	json_decref(st);

	st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "r");
	assert_int_equal(json_array_size(json_object_get(st, "parents")), 1);
	assert_string_equal(pcond(st, 0, "Accepted"), "True:Accepted");
	assert_string_equal(pcond(st, 0, "ResolvedRefs"), "True:ResolvedRefs");
	const json_t *pr =
		k8s_get(json_array_get(json_object_get(st, "parents"), 0), "parentRef", NULL);
	assert_string_equal(k8s_str(pr, "name", NULL), "gw");
	assert_string_equal(k8s_str(pr, "sectionName", NULL), "foo");
	assert_string_equal(k8s_str(pr, "kind", NULL), "Gateway");
	json_decref(st);
	assert_true(res(K8S_KIND_TCPROUTE, "gw-ns", "r")->valid);
	// The class is accepted too.
	assert_true(res(K8S_KIND_GATEWAYCLASS, "", "strait")->accepted);
}

static void simple_udp_route_programs_the_listener(void **state)
{
	(void)state;
	service("gw-ns", "svc", 1, 1);
	gateway("{'name':'foo','protocol':'UDP','port':8080}");
	route(K8S_KIND_UDPROUTE, "gw-ns", "u", 1, "{'name':'gw','sectionName':'foo'}",
	      "{'name':'svc','port':6000}");
	run();
	const struct cfg_mapping *m = map("gw-gw-foo");
	assert_non_null(m);
	assert_int_equal(m->ports[0].proto, IPPROTO_UDP);
	assert_int_equal(m->n_backends, 1);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.1"));
	json_t *st = gw_status();
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(listener(st, 0), "supportedKinds"), 0),
			"kind", NULL),
		"UDPRoute");
	json_decref(st);
	st = route_status(K8S_KIND_UDPROUTE, "gw-ns", "u");
	assert_string_equal(pcond(st, 0, "Accepted"), "True:Accepted");
	json_decref(st);
}

static void weights_split_over_backend_refs_and_their_endpoints(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	service("gw-ns", "b", 2, 2);
	gateway(TCP_FOO);
	// a: weight 2 on one endpoint; b: weight 1 over two endpoints (1/2 each): 4:1:1.
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw'}",
	      "{'name':'a','port':6000,'weight':2},{'name':'b','port':6000,'weight':1},"
	      "{'name':'b','port':6000,'weight':0}");
	run();
	const struct cfg_mapping *m = map("gw-gw-foo");
	assert_non_null(m);
	assert_int_equal(m->n_backends, 3);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.1"));
	assert_int_equal(m->backends[0].weight, 256);
	assert_int_equal(m->backends[1].weight, 64);
	assert_int_equal(m->backends[2].weight, 64);
}

static void missing_backend_share_goes_to_the_reject_backend(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	gateway(TCP_FOO);
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw'}",
	      "{'name':'a','port':6000,'weight':1},{'name':'nope','port':6000,'weight':3}");
	run();
	const struct cfg_mapping *m = map("gw-gw-foo");
	assert_non_null(m);
	assert_int_equal(m->n_backends, 2);
	assert_int_equal(m->backends[0].addr, t_ip("10.244.1.1"));
	assert_int_equal(m->backends[0].weight, 85); // 1/3 of the largest share
	assert_int_equal(m->backends[1].addr, 0);    // the reject backend
	assert_int_equal(m->backends[1].weight, 256);
	json_t *st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "r");
	assert_string_equal(pcond(st, 0, "Accepted"), "True:Accepted");
	assert_string_equal(pcond(st, 0, "ResolvedRefs"), "False:BackendNotFound");
	json_decref(st);
	// An Event names it.
	assert_string_equal(res(K8S_KIND_TCPROUTE, "gw-ns", "r")->reason, "BackendNotFound");

	// Only a missing backend: every connection is refused.
	del(K8S_KIND_SERVICE, "gw-ns", "a");
	run();
	m = map("gw-gw-foo");
	assert_int_equal(m->n_backends, 1);
	assert_int_equal(m->backends[0].addr, 0);
	// A Service port that does not exist is BackendNotFound as well.
	service("gw-ns", "a", 1, 1);
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw'}", "{'name':'a','port':6001}");
	run();
	assert_int_equal(map("gw-gw-foo")->backends[0].addr, 0);
	st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "r");
	assert_string_equal(pcond(st, 0, "ResolvedRefs"), "False:BackendNotFound");
	json_decref(st);
}

static void cross_namespace_backend_needs_a_reference_grant(void **state)
{
	(void)state;
	service("backends", "svc", 3, 1);
	gateway(TCP_FOO);
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw'}",
	      "{'name':'svc','namespace':'backends','port':6000}");
	run();
	assert_int_equal(map("gw-gw-foo")->n_backends, 1);
	assert_int_equal(map("gw-gw-foo")->backends[0].addr, 0);
	json_t *st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "r");
	assert_string_equal(pcond(st, 0, "ResolvedRefs"), "False:RefNotPermitted");
	json_decref(st);

	// A grant from UDPRoutes, or to another Service name, is not enough.
	put(K8S_KIND_REFERENCEGRANT,
	    "{'metadata':{'namespace':'backends','name':'g'},'spec':{'from':[{'group':"
	    "'gateway.networking.k8s.io','kind':'UDPRoute','namespace':'gw-ns'}],'to':[{'group':"
	    "'','kind':'Service'}]}}");
	run();
	assert_int_equal(map("gw-gw-foo")->backends[0].addr, 0);
	put(K8S_KIND_REFERENCEGRANT,
	    "{'metadata':{'namespace':'backends','name':'g'},'spec':{'from':[{'group':"
	    "'gateway.networking.k8s.io','kind':'TCPRoute','namespace':'gw-ns'}],'to':[{'group':"
	    "'','kind':'Service','name':'svc'}]}}");
	run();
	assert_int_equal(map("gw-gw-foo")->backends[0].addr, t_ip("10.244.3.1"));
	st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "r");
	assert_string_equal(pcond(st, 0, "ResolvedRefs"), "True:ResolvedRefs");
	json_decref(st);
}

static void route_of_another_namespace_is_not_allowed_by_default(void **state)
{
	(void)state;
	service("apps", "svc", 1, 1);
	gateway(TCP_FOO);
	route(K8S_KIND_TCPROUTE, "apps", "r", 1, "{'name':'gw','namespace':'gw-ns'}",
	      "{'name':'svc','port':6000}");
	run();
	assert_null(map("gw-gw-foo"));
	json_t *st = route_status(K8S_KIND_TCPROUTE, "apps", "r");
	assert_string_equal(pcond(st, 0, "Accepted"), "False:NotAllowedByListeners");
	json_decref(st);
	st = gw_status();
	assert_int_equal(json_integer_value(json_object_get(listener(st, 0), "attachedRoutes")), 0);
	json_decref(st);

	// from: Selector over the Namespace's labels.
	gateway("{'name':'foo','protocol':'TCP','port':8080,'allowedRoutes':{'namespaces':{"
		"'from':'Selector','selector':{'matchLabels':{'team':'a'}}}}}");
	put(K8S_KIND_NAMESPACE, "{'metadata':{'name':'apps','labels':{'team':'b'}}}");
	run();
	assert_null(map("gw-gw-foo"));
	put(K8S_KIND_NAMESPACE, "{'metadata':{'name':'apps','labels':{'team':'a'}}}");
	run();
	assert_non_null(map("gw-gw-foo"));
	st = route_status(K8S_KIND_TCPROUTE, "apps", "r");
	assert_string_equal(pcond(st, 0, "Accepted"), "True:Accepted");
	json_decref(st);

	// from: All; a kind the listener does not allow.
	gateway("{'name':'foo','protocol':'TCP','port':8080,'allowedRoutes':{'namespaces':{"
		"'from':'All'},'kinds':[{'kind':'UDPRoute'}]}}");
	run();
	assert_null(map("gw-gw-foo"));
	st = gw_status();
	assert_string_equal(cond(json_object_get(listener(st, 0), "conditions"), "ResolvedRefs"),
			    "False:InvalidRouteKinds");
	assert_int_equal(json_array_size(json_object_get(listener(st, 0), "supportedKinds")), 0);
	json_decref(st);
}

static void parent_ref_by_port_and_by_section_name(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	service("gw-ns", "b", 2, 1);
	gateway("{'name':'one','protocol':'TCP','port':8080},"
		"{'name':'two','protocol':'TCP','port':8081}");
	route(K8S_KIND_TCPROUTE, "gw-ns", "by-port", 1, "{'name':'gw','port':8081}",
	      "{'name':'b','port':6000}");
	route(K8S_KIND_TCPROUTE, "gw-ns", "by-name", 2, "{'name':'gw','sectionName':'one'}",
	      "{'name':'a','port':6000}");
	route(K8S_KIND_TCPROUTE, "gw-ns", "no-such", 3, "{'name':'gw','sectionName':'three'}",
	      "{'name':'a','port':6000}");
	route(K8S_KIND_TCPROUTE, "gw-ns", "bad-pair", 4,
	      "{'name':'gw','sectionName':'one','port':8081}", "{'name':'a','port':6000}");
	run();
	assert_int_equal(map("gw-gw-two")->backends[0].addr, t_ip("10.244.2.1"));
	assert_int_equal(map("gw-gw-one")->backends[0].addr, t_ip("10.244.1.1"));
	json_t *st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "no-such");
	assert_string_equal(pcond(st, 0, "Accepted"), "False:NoMatchingParent");
	json_decref(st);
	st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "bad-pair");
	assert_string_equal(pcond(st, 0, "Accepted"), "False:NoMatchingParent");
	json_decref(st);
	assert_string_equal(res(K8S_KIND_TCPROUTE, "gw-ns", "no-such")->reason, "NoMatchingParent");
}

static void route_without_section_attaches_to_every_listener_of_its_kind(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	gateway("{'name':'one','protocol':'TCP','port':8080},"
		"{'name':'two','protocol':'TCP','port':8081},"
		"{'name':'u','protocol':'UDP','port':8080}");
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw'}", "{'name':'a','port':6000}");
	run();
	assert_non_null(map("gw-gw-one"));
	assert_non_null(map("gw-gw-two"));
	assert_null(map("gw-gw-u"));
	assert_int_equal(d.n_maps, 2);
	json_t *st = gw_status();
	assert_int_equal(json_integer_value(json_object_get(listener(st, 0), "attachedRoutes")), 1);
	assert_int_equal(json_integer_value(json_object_get(listener(st, 1), "attachedRoutes")), 1);
	assert_int_equal(json_integer_value(json_object_get(listener(st, 2), "attachedRoutes")), 0);
	json_decref(st);
}

static void oldest_route_wins_a_listener(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	service("gw-ns", "b", 2, 1);
	gateway(TCP_FOO);
	route(K8S_KIND_TCPROUTE, "gw-ns", "young", 9, "{'name':'gw'}", "{'name':'b','port':6000}");
	route(K8S_KIND_TCPROUTE, "gw-ns", "old", 1, "{'name':'gw'}", "{'name':'a','port':6000}");
	run();
	assert_int_equal(map("gw-gw-foo")->backends[0].addr, t_ip("10.244.1.1"));
	json_t *st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "young");
	assert_string_equal(pcond(st, 0, "Accepted"), "False:ListenerInUse");
	json_decref(st);
	st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "old");
	assert_string_equal(pcond(st, 0, "Accepted"), "True:Accepted");
	json_decref(st);
	st = gw_status();
	assert_int_equal(json_integer_value(json_object_get(listener(st, 0), "attachedRoutes")), 1);
	json_decref(st);
	// The old one goes: the young one takes over.
	del(K8S_KIND_TCPROUTE, "gw-ns", "old");
	run();
	assert_int_equal(map("gw-gw-foo")->backends[0].addr, t_ip("10.244.2.1"));
}

static void non_tcp_listener_is_not_accepted(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	gateway("{'name':'web','protocol':'HTTP','port':80},"
		"{'name':'foo','protocol':'TCP','port':8080},"
		"{'name':'dup','protocol':'TCP','port':8080}");
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw','sectionName':'web'}",
	      "{'name':'a','port':6000}");
	run();
	assert_int_equal(d.n_maps, 0);
	json_t *st = gw_status();
	assert_string_equal(cond(json_object_get(st, "conditions"), "Accepted"), "True:Accepted");
	assert_string_equal(cond(json_object_get(listener(st, 0), "conditions"), "Accepted"),
			    "False:UnsupportedProtocol");
	assert_int_equal(json_array_size(json_object_get(listener(st, 0), "supportedKinds")), 0);
	assert_string_equal(cond(json_object_get(listener(st, 2), "conditions"), "Conflicted"),
			    "True:HostnameConflict");
	assert_string_equal(cond(json_object_get(listener(st, 1), "conditions"), "Conflicted"),
			    "False:NoConflicts");
	json_decref(st);
	st = route_status(K8S_KIND_TCPROUTE, "gw-ns", "r");
	assert_string_equal(pcond(st, 0, "Accepted"), "False:NotAllowedByListeners");
	json_decref(st);

	// No listener strait can serve: the Gateway is not accepted.
	gateway("{'name':'web','protocol':'HTTP','port':80}");
	run();
	st = gw_status();
	assert_string_equal(cond(json_object_get(st, "conditions"), "Accepted"),
			    "False:ListenersNotValid");
	assert_string_equal(cond(json_object_get(st, "conditions"), "Programmed"), "False:Invalid");
	json_decref(st);
}

static void gateway_of_another_class_is_left_alone(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	put(K8S_KIND_GATEWAY,
	    "{'metadata':{'namespace':'gw-ns','name':'gw'},'spec':{"
	    "'gatewayClassName':'other','listeners':[%s]}}",
	    TCP_FOO);
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw'}", "{'name':'a','port':6000}");
	run();
	assert_int_equal(d.n_maps, 0);
	assert_string_equal(res(K8S_KIND_GATEWAY, "gw-ns", "gw")->reason, K8S_GW_NOT_OURS);
	assert_true(res(K8S_KIND_GATEWAY, "gw-ns", "gw")->valid); // no Event
	struct k8s_report r = rep();
	assert_null(k8s_route_status(&r, res(K8S_KIND_TCPROUTE, "gw-ns", "r"), NULL));
	// A route that was ours: strait's entry is taken back, another controller's kept.
	json_t *cur = t_json("{\"parents\": [{\"controllerName\": \"example.com/other\"},"
			     " {\"controllerName\": \"strait.io/gateway-controller\"}]}");
	json_t *st = k8s_route_status(&r, res(K8S_KIND_TCPROUTE, "gw-ns", "r"), cur);
	assert_non_null(st);
	assert_int_equal(json_array_size(json_object_get(st, "parents")), 1);
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(st, "parents"), 0), "controllerName", NULL),
		"example.com/other");
	json_decref(st);
	json_decref(cur);
	for (unsigned int i = 0; i < d.n_res; i++)
		assert_false(d.res[i].kind == K8S_KIND_GATEWAYCLASS &&
			     strcmp(d.res[i].name, "other") == 0);
}

static void address_from_a_pool_or_refused_outside_the_pools(void **state)
{
	(void)state;
	service("gw-ns", "a", 1, 1);
	t_pool_set(&cfg_pools[0], "p", "192.0.2.0/30", NULL);
	params.n_pools = 1;
	put(K8S_KIND_GATEWAY,
	    "{'metadata':{'namespace':'gw-ns','name':'gw'},'spec':{"
	    "'gatewayClassName':'strait','listeners':[%s]}}",
	    TCP_FOO);
	route(K8S_KIND_TCPROUTE, "gw-ns", "r", 1, "{'name':'gw'}", "{'name':'a','port':6000}");
	run();
	assert_int_equal(map("gw-gw-foo")->addrs[0], t_ip("192.0.2.1"));
	json_t *st = gw_status();
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(st, "addresses"), 0), "value", NULL),
		"192.0.2.1");
	json_decref(st);

	gateway(TCP_FOO); // spec.addresses 203.0.113.5: in no pool
	run();
	assert_int_equal(d.n_maps, 0);
	assert_string_equal(res(K8S_KIND_GATEWAY, "gw-ns", "gw")->reason, "AddressNotAllowed");
	st = gw_status();
	assert_string_equal(cond(json_object_get(st, "conditions"), "Accepted"), "True:Accepted");
	assert_string_equal(cond(json_object_get(st, "conditions"), "Programmed"),
			    "False:AddressNotUsable");
	json_decref(st);
}

static void routes_are_read_in_v1_and_v1alpha2(void **state)
{
	(void)state;
	assert_int_equal(k8s_kind_of("gateway.networking.k8s.io/v1", "TCPRoute"),
			 K8S_KIND_TCPROUTE);
	assert_int_equal(k8s_kind_of("gateway.networking.k8s.io/v1alpha2", "TCPRoute"),
			 K8S_KIND_TCPROUTE);
	assert_int_equal(k8s_kind_of("gateway.networking.k8s.io/v1alpha2", "UDPRoute"),
			 K8S_KIND_UDPROUTE);
	assert_string_equal(k8s_kind_info(K8S_KIND_UDPROUTE)->fallback_prefix,
			    "/apis/gateway.networking.k8s.io/v1alpha2");
	assert_int_equal(k8s_kind_of("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
			 K8S_KIND_REFERENCEGRANT);
}

/* The first document of tests/data/gateway-api/@p file, in namespace default. */
static json_t *upstream(const char *file)
{
	char path[512], err[256];
	size_t len;
	json_t *docs;

	snprintf(path, sizeof(path), "%s/gateway-api/%s", STRAIT_TESTS_DATA, file);
	char *text = t_read(path, &len);
	assert_int_equal(k8s_yaml_to_json(file, text, len, &docs, err, sizeof(err)), 0);
	free(text);
	json_t *o = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	assert_non_null(o);
	json_object_set_new(json_object_get(o, "metadata"), "namespace", json_string("default"));
	return o;
}

static void upstream_examples_are_served(void **state)
{
	(void)state;
	static const struct {
		const char *gw, *route, *class;
		enum k8s_kind kind;
		uint8_t proto;
	} ex[] = {
		{"example-tcp-routing-gateway.yaml", "example-tcp-routing-tcp-route.yaml",
		 "my-tcp-gateway-class", K8S_KIND_TCPROUTE, IPPROTO_TCP},
		{"example-udp-routing-gateway.yaml", "example-udp-routing-udp-route.yaml",
		 "my-udp-gateway-class", K8S_KIND_UDPROUTE, IPPROTO_UDP},
	};

	service("default", "my-foo-service", 1, 2);
	for (unsigned int i = 0; i < 2; i++) {
		json_t *gw = upstream(ex[i].gw), *rt = upstream(ex[i].route);
		put(K8S_KIND_GATEWAYCLASS,
		    "{'metadata':{'name':'%s'},'spec':{'controllerName':'%s'}}", ex[i].class,
		    K8S_GW_CONTROLLER);
		assert_int_equal(
			k8s_kind_of(k8s_str(gw, "apiVersion", NULL), k8s_str(gw, "kind", NULL)),
			K8S_KIND_GATEWAY);
		assert_int_equal(
			k8s_kind_of(k8s_str(rt, "apiVersion", NULL), k8s_str(rt, "kind", NULL)),
			(int)ex[i].kind);
		assert_true(k8s_cache_apply(&store.c[K8S_KIND_GATEWAY], K8S_UPD_ADDED, gw) >= 0);
		assert_true(k8s_cache_apply(&store.c[ex[i].kind], K8S_UPD_ADDED, rt) >= 0);
		json_decref(gw);
		json_decref(rt);
	}
	run();
	// No spec.addresses and no pool: the ext port's address; both on 8080 (TCP and UDP).
	const struct cfg_mapping *t = map("gw-my-tcp-gateway-foo");
	const struct cfg_mapping *u = map("gw-my-udp-gateway-foo");
	assert_non_null(t);
	assert_non_null(u);
	assert_int_equal(t->addrs[0], EXT_ADDR);
	assert_int_equal(t->ports[0].port, 8080);
	assert_int_equal(t->ports[0].proto, IPPROTO_TCP);
	assert_int_equal(u->ports[0].proto, IPPROTO_UDP);
	assert_int_equal(t->n_backends, 2);
	assert_int_equal(u->n_backends, 2);
	assert_true(res(K8S_KIND_GATEWAY, "default", "my-tcp-gateway")->accepted);
	json_t *st = route_status(K8S_KIND_TCPROUTE, "default", "tcp-app-1");
	assert_string_equal(pcond(st, 0, "Accepted"), "True:Accepted");
	assert_string_equal(pcond(st, 0, "ResolvedRefs"), "True:ResolvedRefs");
	json_decref(st);
}

/* The versions the rows read are the ones the v1.6.1 CRDs serve. */
static void crds_serve_the_versions_strait_reads(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		enum k8s_kind kind;
	} crd[] = {
		{"gateway.networking.k8s.io_gatewayclasses.yaml", K8S_KIND_GATEWAYCLASS},
		{"gateway.networking.k8s.io_gateways.yaml", K8S_KIND_GATEWAY},
		{"gateway.networking.k8s.io_tcproutes.yaml", K8S_KIND_TCPROUTE},
		{"gateway.networking.k8s.io_udproutes.yaml", K8S_KIND_UDPROUTE},
		{"gateway.networking.k8s.io_referencegrants.yaml", K8S_KIND_REFERENCEGRANT},
	};

	for (unsigned int i = 0; i < 5; i++) {
		const struct k8s_kind_info *ki = k8s_kind_info(crd[i].kind);
		json_t *c = upstream(crd[i].file), *v;
		bool found = false, fb = !ki->fallback_api_version;
		size_t j;

		assert_string_equal(k8s_str(c, "spec", "names", "plural", NULL), ki->resource);
		assert_string_equal(k8s_str(c, "spec", "names", "kind", NULL), ki->kind);
		assert_int_equal(strcmp(k8s_str(c, "spec", "scope", NULL), "Namespaced") == 0,
				 ki->namespaced);
		json_array_foreach(k8s_get(c, "spec", "versions", NULL), j, v) {
			char av[128];
			snprintf(av, sizeof(av), "gateway.networking.k8s.io/%s",
				 k8s_str(v, "name", NULL));
			if (strcmp(av, ki->api_version) == 0)
				found = json_is_true(json_object_get(v, "served"));
			if (ki->fallback_api_version && strcmp(av, ki->fallback_api_version) == 0)
				fb = true; // v1alpha2: not served by v1.6.1, by older releases
		}
		assert_true(found);
		assert_true(fb);
		json_decref(c);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(simple_tcp_route_programs_the_listener),
		T(simple_udp_route_programs_the_listener),
		T(weights_split_over_backend_refs_and_their_endpoints),
		T(missing_backend_share_goes_to_the_reject_backend),
		T(cross_namespace_backend_needs_a_reference_grant),
		T(route_of_another_namespace_is_not_allowed_by_default),
		T(parent_ref_by_port_and_by_section_name),
		T(route_without_section_attaches_to_every_listener_of_its_kind),
		T(oldest_route_wins_a_listener),
		T(non_tcp_listener_is_not_accepted),
		T(gateway_of_another_class_is_left_alone),
		T(address_from_a_pool_or_refused_outside_the_pools),
		T(routes_are_read_in_v1_and_v1alpha2),
		T(upstream_examples_are_served),
		T(crds_serve_the_versions_strait_reads),
	};
	return cmocka_run_group_tests_name("k8s_gateway", tests, NULL, NULL);
}
