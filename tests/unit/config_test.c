/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: the shipped config and a file using every key, then one case per kind of
 * error. Error cases compare the whole message, because `FILE:LINE: KEY.PATH: what` is a
 * contract (DESIGN §6: "the message names the file, line and key") that scripts and users
 * read, not a detail.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <strait/config.h>

#ifndef STRAIT_TESTDATA
#error "build with -DSTRAIT_TESTDATA=\"<srcdir>/tests/unit/data\""
#endif
#define SOURCE_ROOT STRAIT_TESTDATA "/../../.."

// A valid ports section, two lines, that error cases put before what they test.
#define PORTS "ports:\n  ext: {device: net_af_packet0, addresses: [198.51.100.1/24]}\n"

static char err[512];

// Independent of cfg_parse_ipv4(), which is under test here too.
static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static int load(const char *yaml, struct cfg *c)
{
	return cfg_load_string("t.yaml", yaml, strlen(yaml), c, err, sizeof(err));
}

static void assert_zeroed(const void *p, size_t len)
{
	static const uint8_t zero[sizeof(struct cfg)];

	assert_true(len <= sizeof(zero));
	assert_memory_equal(p, zero, len);
}

/** Load @p yaml, expect -EINVAL and exactly @p msg, and a zeroed cfg. */
static void expect_error(const char *yaml, const char *msg)
{
	struct cfg c;

	memset(&c, 0xa5, sizeof(c));
	err[0] = '\0';
	assert_int_equal(load(yaml, &c), -EINVAL);
	assert_string_equal(err, msg);
	assert_zeroed(&c, sizeof(c));
}

static void expect_mapping_error(const char *yaml, const char *msg)
{
	struct cfg_mapping m;

	memset(&m, 0xa5, sizeof(m));
	err[0] = '\0';
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, msg);
	assert_zeroed(&m, sizeof(m));
}

static void assert_static_mapping(const struct cfg_mapping *m, const char *name, int32_t ordinal,
				  uint16_t port, uint16_t service_port, uint8_t proto,
				  unsigned int line)
{
	assert_string_equal(m->name, name);
	assert_string_equal(m->ns, "");
	assert_int_equal(m->n_addrs, 1);
	assert_int_equal(m->addrs[0], ip("198.51.100.1"));
	assert_int_equal(m->n_allowed, 0);
	assert_int_equal(m->mode, CFG_MODE_STATIC);
	assert_int_equal(m->n_ports, 1);
	assert_int_equal(m->ports[0].port, port);
	assert_int_equal(m->ports[0].end_port, port);
	assert_int_equal(m->ports[0].service_port, service_port);
	assert_string_equal(m->ports[0].service_port_name, "");
	assert_int_equal(m->ports[0].proto, proto);
	assert_string_equal(m->service_name, "");
	assert_string_equal(m->statefulset_name, "");
	assert_int_equal(m->start_port, 0);
	assert_int_equal(m->target_port, 0);
	assert_int_equal(m->bootstrap_port, 0);
	assert_int_equal(m->nat, CFG_NAT_FULL);
	assert_int_equal(m->timeouts.udp, 0);
	assert_int_equal(m->timeouts.tcp_established, 0);
	assert_int_equal(m->timeouts.tcp_transitory, 0);
	assert_int_equal(m->ordinal, ordinal);
	assert_int_equal(m->line, line);
	assert_non_null(m->backends);
}

static void assert_backend(const struct cfg_backend *b, const char *addr, uint16_t port,
			   uint16_t weight)
{
	assert_int_equal(b->addr, ip(addr));
	assert_int_equal(b->port, port);
	assert_int_equal(b->weight, weight);
	assert_false(b->serving_only);
	assert_string_equal(b->name, "");
}

static void load_default_config_has_six_mappings(void **state)
{
	struct cfg c;
	const struct cfg_mapping *m;

	(void)state;
	assert_int_equal(cfg_load_file(SOURCE_ROOT "/config/strait.yaml", &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, SOURCE_ROOT "/config/strait.yaml");

	assert_true(c.ext.present);
	assert_string_equal(c.ext.device, "net_af_packet0");
	assert_int_equal(c.ext.n_addrs, 1);
	assert_int_equal(c.ext.addrs[0].addr, ip("198.51.100.1"));
	assert_int_equal(c.ext.addrs[0].len, 24);
	assert_int_equal(c.ext.gateway, 0);
	assert_int_equal(c.ext.n_routes, 0);
	assert_true(c.intl.present);
	assert_string_equal(c.intl.device, "net_af_packet1");
	assert_int_equal(c.intl.n_addrs, 1);
	assert_int_equal(c.intl.addrs[0].addr, ip("10.0.0.1"));
	assert_int_equal(c.intl.addrs[0].len, 24);
	assert_int_equal(c.intl.gateway, 0);
	assert_int_equal(c.intl.n_routes, 0);

	assert_int_equal(c.workers, 1);
	assert_int_equal(c.sessions_max, 65536);
	assert_int_equal(c.timeouts.udp, 300);
	assert_int_equal(c.timeouts.tcp_established, 7440);
	assert_int_equal(c.timeouts.tcp_transitory, 240);
	assert_false(c.k8s.enabled);
	assert_string_equal(c.k8s.kubeconfig, "");
	assert_string_equal(c.k8s.ns, "");
	assert_string_equal(c.cli_socket, "/run/strait/cli.sock");
	assert_string_equal(c.metrics_listen, "127.0.0.1:9469");

	assert_int_equal(c.n_mappings, 6);
	m = &c.mappings[0];
	assert_static_mapping(m, "web", -1, 8080, 80, IPPROTO_TCP, 18);
	assert_int_equal(m->n_backends, 3);
	assert_backend(&m->backends[0], "10.0.0.11", 0, 1);
	assert_backend(&m->backends[1], "10.0.0.12", 0, 1);
	assert_backend(&m->backends[2], "10.0.0.13", 0, 1);
	m = &c.mappings[1];
	assert_static_mapping(m, "echo", -1, 7777, 7, IPPROTO_UDP, 22);
	assert_int_equal(m->n_backends, 3);
	assert_backend(&m->backends[0], "10.0.0.11", 0, 1);
	assert_backend(&m->backends[1], "10.0.0.12", 0, 1);
	assert_backend(&m->backends[2], "10.0.0.13", 0, 1);
	for (int i = 0; i < 3; i++) {
		static const char *const name[] = {"broker-0", "broker-1", "broker-2"};
		static const char *const pod[] = {"10.0.0.11", "10.0.0.12", "10.0.0.13"};

		m = &c.mappings[2 + i];
		assert_static_mapping(m, name[i], i, 32000 + i, 80, IPPROTO_TCP, 27 + 2 * i);
		assert_int_equal(m->n_backends, 1);
		assert_backend(&m->backends[0], pod[i], 0, 1);
	}
	m = &c.mappings[5];
	assert_static_mapping(m, "redis", -1, 6379, 0, IPPROTO_TCP, 33);
	assert_int_equal(m->n_backends, 1);
	assert_backend(&m->backends[0], "10.0.0.11", 6379, 1);
	cfg_free(&c);
	assert_null(c.mappings);
	assert_int_equal(c.n_mappings, 0);
}

static void parse_file(const char *path, struct cfg_mapping *m)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t len;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(cfg_mapping_parse(path, buf, len, m, err, sizeof(err)), 0);
}

static void load_full_example_sets_every_key(void **state)
{
	struct cfg c;
	struct cfg_mapping svc, pp;
	const struct cfg_mapping *m;

	(void)state;
	assert_int_equal(cfg_load_file(STRAIT_TESTDATA "/full.yaml", &c, err, sizeof(err)), 0);

	assert_string_equal(c.ext.device, "net_af_packet0");
	assert_int_equal(c.ext.n_addrs, 2);
	assert_int_equal(c.ext.addrs[0].addr, ip("198.51.100.1"));
	assert_int_equal(c.ext.addrs[0].len, 24);
	assert_int_equal(c.ext.addrs[1].addr, ip("203.0.113.10"));
	assert_int_equal(c.ext.addrs[1].len, 32);
	assert_int_equal(c.ext.gateway, ip("198.51.100.254"));
	assert_int_equal(c.ext.n_routes, 0);
	assert_true(c.intl.present);
	assert_string_equal(c.intl.device, "0000:04:11.6");
	assert_int_equal(c.intl.n_addrs, 1);
	assert_int_equal(c.intl.gateway, 0);
	assert_int_equal(c.intl.n_routes, 2);
	assert_int_equal(c.intl.routes[0].prefix.addr, ip("10.244.0.0"));
	assert_int_equal(c.intl.routes[0].prefix.len, 16);
	assert_int_equal(c.intl.routes[0].via, ip("10.0.0.2"));
	assert_int_equal(c.intl.routes[1].prefix.addr, ip("10.96.0.0"));
	assert_int_equal(c.intl.routes[1].prefix.len, 12);
	assert_int_equal(c.intl.routes[1].via, ip("10.0.0.3"));

	assert_int_equal(c.workers, 4);
	assert_int_equal(c.sessions_max, 200000);
	assert_int_equal(c.timeouts.udp, 30);
	assert_int_equal(c.timeouts.tcp_established, 3600);
	assert_int_equal(c.timeouts.tcp_transitory, 120);
	assert_true(c.k8s.enabled);
	assert_string_equal(c.k8s.kubeconfig, "/etc/strait/kubeconfig");
	assert_string_equal(c.k8s.ns, "kafka");
	assert_string_equal(c.cli_socket, "/run/strait/test.sock");
	assert_string_equal(c.metrics_listen, "0.0.0.0:9100");

	assert_int_equal(c.n_mappings, 1);
	m = &c.mappings[0];
	assert_int_equal(m->mode, CFG_MODE_STATIC);
	assert_int_equal(m->n_backends, 2);
	assert_backend(&m->backends[0], "10.244.1.5", 80, 1);
	assert_backend(&m->backends[1], "10.244.2.7", 80, 2);
	assert_int_equal(m->line, 17);

	cfg_free(&c);

	// Mode service and perPod: Kubernetes (and the CLI) only, see
	// config_file_mappings_must_be_static.
	m = &svc;
	parse_file(STRAIT_TESTDATA "/mapping_service.yaml", &svc);
	assert_string_equal(m->name, "kafka-external");
	assert_string_equal(m->ns, "kafka");
	assert_int_equal(m->n_addrs, 2);
	assert_int_equal(m->addrs[0], ip("203.0.113.10"));
	assert_int_equal(m->addrs[1], ip("198.51.100.1"));
	assert_int_equal(m->n_allowed, 2);
	assert_int_equal(m->allowed[0].addr, ip("10.0.0.0"));
	assert_int_equal(m->allowed[0].len, 16);
	assert_int_equal(m->allowed[1].addr, ip("192.0.2.1"));
	assert_int_equal(m->allowed[1].len, 32);
	assert_int_equal(m->mode, CFG_MODE_SERVICE);
	assert_string_equal(m->service_name, "kafka");
	assert_int_equal(m->n_ports, 2);
	assert_int_equal(m->ports[0].port, 9094);
	assert_int_equal(m->ports[0].end_port, 9094);
	assert_int_equal(m->ports[0].service_port, 9092);
	assert_int_equal(m->ports[0].proto, IPPROTO_TCP);
	assert_int_equal(m->ports[1].port, 30000);
	assert_int_equal(m->ports[1].end_port, 30099);
	assert_int_equal(m->ports[1].service_port, 0);
	assert_string_equal(m->ports[1].service_port_name, "kafka-data");
	assert_int_equal(m->ports[1].proto, IPPROTO_UDP);
	assert_int_equal(m->nat, CFG_NAT_PRESERVE_SOURCE);
	assert_int_equal(m->backend_kind, CFG_BACKENDS_NODEPORTS);
	assert_int_equal(m->timeouts.udp, 60);
	assert_int_equal(m->timeouts.tcp_established, 600);
	assert_int_equal(m->timeouts.tcp_transitory, 30);
	assert_int_equal(m->ordinal, -1);
	assert_null(m->backends);
	assert_int_equal(m->n_backends, 0);
	assert_int_equal(m->line, 2);

	cfg_mapping_free(&svc);

	m = &pp;
	parse_file(STRAIT_TESTDATA "/mapping_perpod.yaml", &pp);
	assert_string_equal(m->name, "brokers");
	assert_int_equal(m->mode, CFG_MODE_PER_POD);
	assert_string_equal(m->statefulset_name, "redpanda");
	assert_int_equal(m->start_port, 32000);
	assert_int_equal(m->target_port, 9092);
	assert_int_equal(m->bootstrap_port, 31999);
	assert_int_equal(m->ordinal, 7);
	assert_int_equal(m->n_ports, 0);
	assert_int_equal(m->nat, CFG_NAT_FULL);
	assert_int_equal(m->backend_kind, CFG_BACKENDS_PODS);
	assert_int_equal(m->line, 2);
	cfg_mapping_free(&pp);
}

static void absent_keys_take_their_defaults(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS, &c), 0);
	assert_string_equal(c.path, "t.yaml");
	assert_true(c.ext.present);
	assert_false(c.intl.present);
	assert_int_equal(c.workers, 1);
	assert_int_equal(c.sessions_max, 1048576);
	assert_int_equal(c.timeouts.udp, 300);
	assert_int_equal(c.timeouts.tcp_established, 7440);
	assert_int_equal(c.timeouts.tcp_transitory, 240);
	assert_false(c.k8s.enabled);
	assert_string_equal(c.cli_socket, "");
	assert_string_equal(c.metrics_listen, "");
	assert_int_equal(c.n_mappings, 0);
	assert_null(c.mappings);
	cfg_free(&c);
}

static void endpoint_change_keys_default_to_true_and_are_checked(void **state)
{
	static const char map[] = "{name: a, addresses: [198.51.100.1], ports: [{port: 80}], "
				  "backends: [{address: 10.0.0.1}]%s}";
	char yaml[256];
	struct cfg_mapping m;
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS, &c), 0);
	assert_true(c.reset_on_backend_removal);
	cfg_free(&c);
	assert_int_equal(load(PORTS "sessions: {resetOnBackendRemoval: false}\n", &c), 0);
	assert_false(c.reset_on_backend_removal);
	cfg_free(&c);
	expect_error(PORTS "sessions: {resetOnBackendRemoval: 1}\n",
		     "t.yaml:3: sessions.resetOnBackendRemoval: \"1\" is not true or false");

	snprintf(yaml, sizeof(yaml), map, "");
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	assert_true(m.remove_orphan_sessions);
	cfg_mapping_free(&m);
	snprintf(yaml, sizeof(yaml), map, ", removeOrphanSessions: false");
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	assert_false(m.remove_orphan_sessions);
	cfg_mapping_free(&m);
	snprintf(yaml, sizeof(yaml), map, ", removeOrphanSessions: sometimes");
	expect_mapping_error(yaml,
			     "cli:1: removeOrphanSessions: \"sometimes\" is not true or false");
}

static void quoted_numbers_and_null_lists_are_accepted(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS "workers: \"2\"\nsessions:\nmappings:\n", &c), 0);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.sessions_max, 1048576);
	assert_int_equal(c.n_mappings, 0);
	cfg_free(&c);
}

/* maglevThreads: 0 when absent, read, and bounded by CFG_MAX_MAGLEV_THREADS. */
static void maglev_threads_is_read_and_range_checked(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS "workers: 1\n", &c), 0);
	assert_int_equal(c.maglev_threads, 0);
	cfg_free(&c);
	assert_int_equal(load(PORTS "maglevThreads: 3\n", &c), 0);
	assert_int_equal(c.maglev_threads, 3);
	cfg_free(&c);
	expect_error(PORTS "maglevThreads: 65\n",
		     "t.yaml:3: maglevThreads: 65 is out of range 0-64");
	expect_error(PORTS "maglevThreads: -1\n",
		     "t.yaml:3: maglevThreads: -1 is out of range 0-64");
}

/* ---- One case per kind of error ---- */

static void tcp_mss_clamp_is_read_and_range_checked(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- name: a\n"
			   "  addresses: [198.51.100.1]\n"
			   "  ports: [{port: 80}]\n"
			   "  tcpMssClamp: 100\n"
			   "  backends: [{address: 10.0.0.1}]\n",
		     "t.yaml:7: mappings[0].tcpMssClamp: 100 is out of range 536-65535");
}

static void port_out_of_range_names_line_and_key(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}]}\n"
			   "- name: b\n"
			   "  addresses: [198.51.100.1]\n"
			   "  ports:\n"
			   "  - {port: 81}\n"
			   "  - port: 70000\n"
			   "  backends: [{address: 10.0.0.1}]\n",
		     "t.yaml:10: mappings[1].ports[1].port: 70000 is out of range 1-65535");
}

static void bad_port_address_names_line_and_key(void **state)
{
	(void)state;
	expect_error("ports:\n"
		     "  ext:\n"
		     "    addresses: [\"10.0.0.300/24\"]\n"
		     "    device: net_af_packet0\n",
		     "t.yaml:3: ports.ext.addresses[0]: \"10.0.0.300/24\" is not an IPv4 prefix");
}

static void prefix_len_over_32_is_rejected(void **state)
{
	(void)state;
	expect_error("ports:\n  ext: {device: net_af_packet0, addresses: [10.0.0.1/33]}\n",
		     "t.yaml:2: ports.ext.addresses[0]: \"10.0.0.1/33\" is not an IPv4 prefix");
}

static void bad_address_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}]}\n",
		     "t.yaml:4: mappings[0].addresses[0]: \"198.51.100\" is not an IPv4 address");
}

// limits, maglev.seed and tcpSyn (issue 10): read into the mapping, bad values named.
static void limits_seed_and_tcp_syn_are_read(void **state)
{
	(void)state;
	struct cfg c;
	const char *yaml = PORTS "sessions: {timeouts: {tcp_syn: 60}}\n"
				 "mappings:\n"
				 "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
				 "   backends: [{address: 10.0.0.1}], timeouts: {tcpSyn: 30},\n"
				 "   limits: {sessions: 1000, sessionsPerSource: 10,\n"
				 "            newSessionsPerSecond: 500}, maglev: {seed: 42,\n"
				 "   tableSize: 4093}}\n";

	assert_int_equal(load(yaml, &c), 0);
	assert_int_equal(c.timeouts.tcp_syn, 60);
	assert_int_equal(c.mappings[0].timeouts.tcp_syn, 30);
	assert_int_equal(c.mappings[0].limits.sessions, 1000);
	assert_int_equal(c.mappings[0].limits.sessions_per_source, 10);
	assert_int_equal(c.mappings[0].limits.new_per_second, 500);
	assert_int_equal(c.mappings[0].maglev.seed, 42);
	assert_int_equal(c.mappings[0].maglev.table_size, 4093);
	cfg_free(&c);
	assert_int_equal(load(PORTS, &c), 0);
	assert_int_equal(c.timeouts.tcp_syn, 120); /* the default */
	cfg_free(&c);
}

static void bad_limits_name_line_and_key(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}],\n"
			   "   limits: {sessionsPerSource: 70000}}\n",
		     "t.yaml:6: mappings[0].limits.sessionsPerSource: 70000 is out of range "
		     "0-65535");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}],\n"
			   "   limits: {sessions: -1}}\n",
		     "t.yaml:6: mappings[0].limits.sessions: -1 is out of range 0-268435456");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}],\n"
			   "   limits: {newSessionsPerSecond: fast}}\n",
		     "t.yaml:6: mappings[0].limits.newSessionsPerSecond: \"fast\" is not an "
		     "integer");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}],\n"
			   "   maglev: {tableSize: 4096}}\n",
		     "t.yaml:6: mappings[0].maglev.tableSize: 4096 is not one of 251, 509, 1021, "
		     "2039, 4093, 8191, 16381, 32749, 65521");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}],\n"
			   "   maglev: {tableSize: 65537}}\n",
		     "t.yaml:6: mappings[0].maglev.tableSize: 65537 is out of range 251-65521");
	expect_mapping_error("{name: a, addresses: [198.51.100.1], ports: [{port: 80}],"
			     " backends: [{address: 10.0.0.1}], limits: {session: 5}}",
			     "cli:1: limits: unknown key \"session\"");
	expect_mapping_error("{name: a, addresses: [198.51.100.1], ports: [{port: 80}],"
			     " backends: [{address: 10.0.0.1}], maglev: {seed: 4294967296}}",
			     "cli:1: maglev.seed: 4294967296 is out of range 0-4294967295");
}

static void unknown_key_names_enclosing_mapping(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- name: web\n"
			   "  addresss: [198.51.100.1]\n",
		     "t.yaml:5: mappings[0]: unknown key \"addresss\"");
}

static void unknown_top_level_key_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "worker: 2\n", "t.yaml:3: unknown key \"worker\"");
}

// No ICMP session exists, so no ICMP timeout: a config that sets one learns why.
static void icmp_timeout_is_refused_with_the_reason(void **state)
{
	(void)state;
	expect_error(PORTS "sessions: {timeouts: {udp: 30,\n  icmp: 60}}\n",
		     "t.yaml:4: sessions.timeouts.icmp: strait keeps no ICMP sessions (echo "
		     "requests to its addresses are answered by the gateway, ICMP errors follow "
		     "their TCP or UDP session): remove the key");
	expect_mapping_error("{name: a, addresses: [198.51.100.1], ports: [{port: 80}],"
			     " backends: [{address: 10.0.0.1}], timeouts: {icmp: 5}}",
			     "cli:1: timeouts: unknown key \"icmp\"");
}

static void missing_key_names_line_of_enclosing_mapping(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}]}\n"
			   "- addresses: [198.51.100.1]\n"
			   "  ports: [{port: 81}]\n"
			   "  backends: [{address: 10.0.0.1}]\n",
		     "t.yaml:6: mappings[1].name: required key missing");
}

static void syntax_error_reports_libyaml_problem(void **state)
{
	(void)state;
	expect_error(PORTS "workers: 1\n  sessions: 2\n",
		     "t.yaml:4: syntax error: mapping values are not allowed in this context");
	expect_error(PORTS "mappings: [{name: a\n",
		     "t.yaml:3: syntax error: did not find expected ',' or '}'");
}

static void invalid_utf8_reports_its_line(void **state)
{
	(void)state;
	expect_error(PORTS "cli_socket: /run/\xff\n",
		     "t.yaml:3: syntax error: invalid leading UTF-8 octet");
}

static void duplicate_mapping_name_is_rejected(void **state)
{
	(void)state;
	expect_error(
		PORTS "mappings:\n"
		      "- {name: web, addresses: [198.51.100.1], ports: [{port: 80}],\n"
		      "   backends: [{address: 10.0.0.1}]}\n"
		      "- {name: web, addresses: [198.51.100.1], ports: [{port: 81}],\n"
		      "   backends: [{address: 10.0.0.1}]}\n",
		"t.yaml:6: mappings[1].name: duplicate mapping name \"web\" (first at line 4)");
}

static void same_name_in_other_namespace_is_accepted(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS
			      "mappings:\n"
			      "- {name: web, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			      "   backends: [{address: 10.0.0.1}]}\n"
			      "- {name: web, namespace: b, addresses: [198.51.100.1],\n"
			      "   ports: [{port: 81}], backends: [{address: 10.0.0.1}]}\n",
			      &c),
			 0);
	assert_int_equal(c.n_mappings, 2);
	assert_string_equal(c.mappings[1].ns, "b");
	cfg_free(&c);
}

static void duplicate_yaml_key_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "workers: 2\nworkers: 3\n", "t.yaml:4: duplicate key \"workers\"");
}

static void list_where_scalar_expected_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "workers: [1, 2]\n", "t.yaml:3: workers: expected a scalar, got a list");
}

static void mapping_where_list_expected_is_rejected(void **state)
{
	(void)state;
	expect_error("ports:\n  ext: {device: d, addresses: {a: 1}}\n",
		     "t.yaml:2: ports.ext.addresses: expected a list, got a mapping");
}

static void non_integer_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "workers: two\n", "t.yaml:3: workers: \"two\" is not an integer");
	expect_error(PORTS "workers: 1.5\n", "t.yaml:3: workers: \"1.5\" is not an integer");
}

static void leading_zero_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "workers: 010\n",
		     "t.yaml:3: workers: \"010\" has a leading zero (octal in YAML 1.1)");
}

static void null_value_is_reported_missing(void **state)
{
	(void)state;
	expect_error(PORTS "workers:\n", "t.yaml:3: workers: value missing");
}

static void workers_zero_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "workers: 0\n", "t.yaml:3: workers: 0 is out of range 1-16");
}

static void workers_over_max_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "workers: 17\n", "t.yaml:3: workers: 17 is out of range 1-16");
	expect_error(PORTS "workers: 99999999999999999999\n",
		     "t.yaml:3: workers: 99999999999999999999 is out of range 1-16");
}

static void ports_ext_missing_is_rejected(void **state)
{
	(void)state;
	expect_error("workers: 1\nports:\n  int: {device: d, addresses: [10.0.0.1/24]}\n",
		     "t.yaml:3: ports.ext: required key missing");
	expect_error("workers: 1\n", "t.yaml:1: ports: required key missing");
}

static void port_without_device_is_rejected(void **state)
{
	(void)state;
	expect_error("ports:\n  ext: {addresses: [10.0.0.1/24]}\n",
		     "t.yaml:2: ports.ext.device: required key missing");
	expect_error("ports:\n  ext: {device: \"\", addresses: [10.0.0.1/24]}\n",
		     "t.yaml:2: ports.ext.device: must not be empty");
}

static void route_without_via_is_rejected(void **state)
{
	(void)state;
	expect_error("ports:\n  ext:\n    device: d\n    addresses: [10.0.0.1/24]\n"
		     "    routes:\n    - {prefix: 10.244.0.0/16, via: 10.0.0.2}\n"
		     "    - {prefix: 10.96.0.0/12}\n",
		     "t.yaml:7: ports.ext.routes[1].via: required key missing");
}

static void end_port_below_port_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- name: a\n"
			   "  addresses: [198.51.100.1]\n"
			   "  ports: [{port: 30000, endPort: 29999}]\n"
			   "  backends: [{address: 10.0.0.1}]\n",
		     "t.yaml:6: mappings[0].ports[0].endPort: 29999 is less than port 30000");
}

static void weight_out_of_range_in_file_names_the_file(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(cfg_load_file(STRAIT_TESTDATA "/bad_weight.yaml", &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
		err, STRAIT_TESTDATA
		"/bad_weight.yaml:9: mappings[0].backends[1].weight: 0 is out of range 1-256");
	assert_zeroed(&c, sizeof(c));
}

static void bad_enum_lists_the_choices(void **state)
{
	(void)state;
	expect_error(PORTS
		     "mappings:\n"
		     "- {name: a, addresses: [198.51.100.1], ports: [{port: 80, protocol: sctp}],\n"
		     "   backends: [{address: 10.0.0.1}]}\n",
		     "t.yaml:4: mappings[0].ports[0].protocol: \"sctp\" is not one of tcp, udp");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], mode: static}\n",
		     "t.yaml:4: mappings[0].mode: \"static\" is not one of service, perPod");
}

static void bad_bool_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "kubernetes: {enabled: yes}\n",
		     "t.yaml:3: kubernetes.enabled: \"yes\" is not true or false");
}

static void invalid_name_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- {name: Web_1, addresses: [198.51.100.1]}\n",
		     "t.yaml:4: mappings[0].name: \"Web_1\" is not a valid name: use a-z, 0-9, '-' "
		     "and '.', and begin and end with a letter or digit");
	expect_error(
		PORTS "mappings:\n"
		      "- {name: a, addresses: [198.51.100.1], serviceName: kafka.svc,\n"
		      "   ports: [{port: 80}]}\n",
		"t.yaml:4: mappings[0].serviceName: \"kafka.svc\" is not a valid name: use a-z, "
		"0-9, '-', and begin and end with a letter or digit");
	expect_error(
		PORTS "kubernetes: {namespace: -kafka}\n",
		"t.yaml:3: kubernetes.namespace: \"-kafka\" is not a valid name: use a-z, 0-9, "
		"'-', and begin and end with a letter or digit");
}

static void name_over_63_bytes_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS
		     "mappings:\n"
		     "- {name: a123456789b123456789c123456789d123456789e123456789f123456789abcd,\n"
		     "   addresses: [198.51.100.1]}\n",
		     "t.yaml:4: mappings[0].name: longer than 63 bytes");
}

static void too_many_entries_are_rejected(void **state)
{
	(void)state;
	expect_error("ports:\n  ext:\n    device: d\n"
		     "    addresses: [1.0.0.1/8, 1.0.0.2/8, 1.0.0.3/8, 1.0.0.4/8, 1.0.0.5/8, "
		     "1.0.0.6/8, 1.0.0.7/8, 1.0.0.8/8, 1.0.0.9/8]\n",
		     "t.yaml:4: ports.ext.addresses: has 9 entries, at most 8 allowed");
}

static void empty_address_list_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [], ports: [{port: 80}],\n"
			   "   backends: [{address: 10.0.0.1}]}\n",
		     "t.yaml:4: mappings[0].addresses: at least one entry is required");
}

static void static_mapping_needs_ports_and_backends(void **state)
{
	(void)state;
	expect_error(PORTS
		     "mappings:\n"
		     "- {name: a, addresses: [198.51.100.1], backends: [{address: 10.0.0.1}]}\n",
		     "t.yaml:4: mappings[0].ports: required key missing for a static mapping");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [],\n"
			   "   backends: [{address: 10.0.0.1}]}\n",
		     "t.yaml:4: mappings[0].ports: at least one entry is required");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
			   "   backends: []}\n",
		     "t.yaml:5: mappings[0].backends: at least one entry is required");
}

static void mode_with_backends_list_is_rejected(void **state)
{
	(void)state;
	expect_error(
		PORTS "mappings:\n"
		      "- name: a\n"
		      "  addresses: [198.51.100.1]\n"
		      "  mode: service\n"
		      "  backends: [{address: 10.0.0.1}]\n",
		"t.yaml:6: mappings[0].mode: a mapping with a backends list is static and takes "
		"no mode");
}

static void config_file_mappings_must_be_static(void **state)
{
	(void)state;
	expect_error(PORTS
		     "mappings:\n"
		     "- {name: a, addresses: [198.51.100.1], mode: service, serviceName: web,\n"
		     "   ports: [{port: 80}]}\n",
		     "t.yaml:4: mappings[0].mode: service is resolved only for a Kubernetes "
		     "Mapping: a config file mapping is static (a backends list)");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], statefulSetName: k,\n"
			   "   mode: perPod, startPort: 32000, targetPort: 9092}\n",
		     "t.yaml:5: mappings[0].mode: perPod is resolved only for a Kubernetes "
		     "Mapping: a config file mapping is static (a backends list)");
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], serviceName: web,\n"
			   "   ports: [{port: 80}]}\n",
		     "t.yaml:4: mappings[0].backends: required key missing: a config file mapping "
		     "is static (a Service is resolved only for a Kubernetes Mapping)");
}

static void service_mode_needs_service_name(void **state)
{
	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}]}\n",
		     "t.yaml:4: mappings[0].serviceName: required key missing for mode service");
	expect_error(PORTS
		     "mappings:\n"
		     "- {name: a, addresses: [198.51.100.1], mode: perPod, statefulSetName: k,\n"
		     "   startPort: 32000}\n",
		     "t.yaml:4: mappings[0].targetPort: required key missing for mode perPod");
}

static void port_name_in_static_mapping_is_rejected(void **state)
{
	(void)state;
	expect_error(
		PORTS "mappings:\n"
		      "- name: a\n"
		      "  addresses: [198.51.100.1]\n"
		      "  ports: [{port: 80, servicePort: http}]\n"
		      "  backends: [{address: 10.0.0.1}]\n",
		"t.yaml:6: mappings[0].ports[0].servicePort: a port name needs a Service: use a "
		"number in a static mapping");
	expect_error(
		PORTS "mappings:\n"
		      "- {name: a, addresses: [198.51.100.1], serviceName: s,\n"
		      "   ports: [{port: 80, servicePort: Http_1}]}\n",
		"t.yaml:5: mappings[0].ports[0].servicePort: \"Http_1\" is not a port number or "
		"a port name");
}

static void bad_backends_kind_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS
		     "mappings:\n"
		     "- {name: a, addresses: [198.51.100.1], serviceName: s, ports: [{port: 80}],\n"
		     "   backends: endpoints}\n",
		     "t.yaml:5: mappings[0].backends: \"endpoints\" is not one of pods, nodePorts");
}

static void bad_listen_and_socket_are_rejected(void **state)
{
	char yaml[512];

	(void)state;
	expect_error(PORTS "metrics_listen: 9469\n",
		     "t.yaml:3: metrics_listen: \"9469\" is not host:port");
	expect_error(PORTS "metrics_listen: \"127.0.0.1:99999\"\n",
		     "t.yaml:3: metrics_listen: \"127.0.0.1:99999\" is not host:port");
	snprintf(yaml, sizeof(yaml), PORTS "cli_socket: /%0120d\n", 0);
	expect_error(yaml, "t.yaml:3: cli_socket: longer than 107 bytes");
}

static void nul_byte_in_scalar_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "cli_socket: \"/run/a\\0b\"\n",
		     "t.yaml:3: cli_socket: contains a NUL byte");
}

static void second_document_is_rejected(void **state)
{
	(void)state;
	expect_error(PORTS "---\nworkers: 2\n", "t.yaml:4: only one YAML document is allowed");
}

static void empty_document_is_rejected(void **state)
{
	(void)state;
	expect_error("# nothing\n", "t.yaml:1: document is empty");
	expect_error("- a\n", "t.yaml:1: expected a mapping, got a list");
}

static void missing_file_returns_enoent(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(cfg_load_file(STRAIT_TESTDATA "/no-such.yaml", &c, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, STRAIT_TESTDATA "/no-such.yaml: cannot open: No such file or "
						 "directory");
	assert_zeroed(&c, sizeof(c));
}

static void directory_returns_read_error(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(cfg_load_file(STRAIT_TESTDATA, &c, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, STRAIT_TESTDATA ": cannot read: Is a directory");
	assert_zeroed(&c, sizeof(c));
}

static void short_error_buffer_is_truncated_not_overrun(void **state)
{
	char small[12];
	struct cfg c;

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(
		cfg_load_string("t.yaml", PORTS "workers: 0\n", strlen(PORTS) + 11, &c, small, 8),
		-EINVAL);
	assert_string_equal(small, "t.yaml:");
	assert_int_equal(small[8], 'x');
}

/* ---- cfg_mapping_parse: the CLI's `add mapping {...}` ---- */

static void mapping_parse_flow_style_matches_config_entry(void **state)
{
	static const char yaml[] =
		"{name: web, addresses: [198.51.100.1], allowedSources: [10.0.0.0/8],"
		" ports: [{port: 8080, servicePort: 80}],"
		" backends: [{address: 10.0.0.11, weight: 256}, {address: 10.0.0.12}]}";
	struct cfg_mapping m, copy;

	(void)state;
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "web");
	assert_int_equal(m.n_addrs, 1);
	assert_int_equal(m.addrs[0], ip("198.51.100.1"));
	assert_int_equal(m.n_allowed, 1);
	assert_int_equal(m.allowed[0].addr, ip("10.0.0.0"));
	assert_int_equal(m.allowed[0].len, 8);
	assert_int_equal(m.mode, CFG_MODE_STATIC);
	assert_int_equal(m.n_ports, 1);
	assert_int_equal(m.ports[0].port, 8080);
	assert_int_equal(m.ports[0].service_port, 80);
	assert_int_equal(m.ports[0].proto, IPPROTO_TCP);
	assert_int_equal(m.n_backends, 2);
	assert_backend(&m.backends[0], "10.0.0.11", 0, 256);
	assert_backend(&m.backends[1], "10.0.0.12", 0, 1);
	assert_int_equal(m.ordinal, -1);
	assert_int_equal(m.line, 1);

	assert_int_equal(cfg_mapping_copy(&copy, &m), 0);
	assert_ptr_not_equal(copy.backends, m.backends);
	assert_int_equal(copy.n_backends, 2);
	assert_memory_equal(copy.backends, m.backends, 2 * sizeof(*m.backends));
	cfg_mapping_free(&m);
	assert_null(m.backends);
	// The copy must survive the original: it owns its own backends.
	assert_backend(&copy.backends[1], "10.0.0.12", 0, 1);
	assert_string_equal(copy.name, "web");
	cfg_mapping_free(&copy);
}

static void mapping_parse_block_style_defaults_to_service(void **state)
{
	static const char yaml[] = "name: kafka\n"
				   "addresses: [203.0.113.10]\n"
				   "serviceName: kafka\n"
				   "ports: [{port: 9094, servicePort: kafka}]\n";
	struct cfg_mapping m;

	(void)state;
	assert_int_equal(cfg_mapping_parse("cli", yaml, strlen(yaml), &m, err, sizeof(err)), 0);
	assert_int_equal(m.mode, CFG_MODE_SERVICE);
	assert_int_equal(m.backend_kind, CFG_BACKENDS_PODS);
	assert_string_equal(m.ports[0].service_port_name, "kafka");
	assert_int_equal(m.ports[0].service_port, 0);
	assert_null(m.backends);
	cfg_mapping_free(&m);
}

static void mapping_parse_error_path_starts_at_mapping_keys(void **state)
{
	(void)state;
	expect_mapping_error("{name: web, addresses: [198.51.100.1], ports: [{port: 70000}],"
			     " backends: [{address: 10.0.0.1}]}",
			     "cli:1: ports[0].port: 70000 is out of range 1-65535");
	expect_mapping_error("{name: web, address: 1.2.3.4}", "cli:1: unknown key \"address\"");
	expect_mapping_error("{addresses: [198.51.100.1]}", "cli:1: name: required key missing");
	expect_mapping_error("web", "cli:1: expected a mapping, got a scalar");
	expect_mapping_error("{name: web", "cli:1: syntax error: did not find expected ',' or '}'");
}

// "Billion laughs": nine lines, each a list of ten aliases of the line before (10^9 scalars).
#define BILLION_LAUGHS                                                                             \
	"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"                               \
	"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"                                         \
	"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"                                         \
	"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"                                         \
	"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"                                         \
	"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"                                         \
	"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"                                         \
	"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"                                         \
	"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void alias_bomb_is_refused_quickly(void **state)
{
	double t0 = now_s();

	(void)state;
	// Line 4: d's 11111 nodes are the first to pass the budget of 10 x 29 + 10000.
	expect_error(BILLION_LAUGHS, "t.yaml:4: aliases expand the document past 10290 nodes (10 "
				     "times its 29, plus 10000): refused as an alias bomb");
	assert_true(now_s() - t0 < 5.0);
}

// Aliases also multiply what the schema stores: one list of 1024 backends, named by 64
// mappings, is 64 Ki backends from a file of about 1200 lines.
static void aliased_backends_past_the_budget_are_refused(void **state)
{
	size_t cap = 1 << 20, off = 0;
	char *y = malloc(cap);

	(void)state;
	assert_non_null(y);
	off += (size_t)snprintf(y + off, cap - off, PORTS "mappings:\n");
	for (unsigned int i = 0; i < 64; i++) {
		off += (size_t)snprintf(y + off, cap - off,
					"- name: m%u\n  addresses: [198.51.100.1]\n"
					"  ports: [{port: %u}]\n",
					i, 1000 + i);
		if (i > 0) {
			off += (size_t)snprintf(y + off, cap - off, "  backends: *b\n");
			continue;
		}
		off += (size_t)snprintf(y + off, cap - off, "  backends: &b\n");
		for (unsigned int b = 0; b < 1024; b++)
			off += (size_t)snprintf(y + off, cap - off, "  - {address: 10.0.%u.%u}\n",
						b / 256, b % 256);
	}
	expect_error(y, "t.yaml:7: aliases expand the document past 48530 nodes (10 times its "
			"3853, plus 10000): refused as an alias bomb");
	free(y);
}

static void alias_cycle_is_refused(void **state)
{
	(void)state;
	expect_error("a: &a [*a]\n", "t.yaml:1: nested deeper than 64 levels");
}

static void anchors_within_the_budget_still_load(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(PORTS "mappings:\n"
				    "- {name: a, addresses: [198.51.100.1], ports: [{port: 80}],\n"
				    "   backends: &b [{address: 10.0.0.1}, {address: 10.0.0.2}]}\n"
				    "- {name: b, addresses: [198.51.100.2], ports: [{port: 80}],\n"
				    "   backends: *b}\n",
			      &c),
			 0);
	assert_int_equal(c.n_mappings, 2);
	assert_int_equal(c.mappings[1].n_backends, 2);
	assert_int_equal(c.mappings[1].backends[1].addr, ip("10.0.0.2"));
	cfg_free(&c);
}

static void service_port_range_past_65535_is_rejected(void **state)
{
	struct cfg c;

	(void)state;
	expect_error(PORTS "mappings:\n"
			   "- name: a\n"
			   "  addresses: [198.51.100.1]\n"
			   "  ports: [{port: 30000, endPort: 30600,\n"
			   "           servicePort: 65000}]\n"
			   "  backends: [{address: 10.0.0.1}]\n",
		     "t.yaml:7: mappings[0].ports[0].servicePort: 65000 + (endPort 30600 - port "
		     "30000) = 65600 is past 65535");
	expect_mapping_error("{name: web, addresses: [198.51.100.1], ports: [{port: 1, endPort: "
			     "65535, servicePort: 2}], backends: [{address: 10.0.0.1}]}",
			     "cli:1: ports[0].servicePort: 2 + (endPort 65535 - port 1) = 65536 is "
			     "past 65535");
	// The last port of the range lands on 65535 exactly: fine.
	assert_int_equal(load(PORTS
			      "mappings:\n"
			      "- {name: a, addresses: [198.51.100.1], backends: [{address: "
			      "10.0.0.1}],\n"
			      "   ports: [{port: 30000, endPort: 30535, servicePort: 65000}]}\n",
			      &c),
			 0);
	assert_int_equal(c.mappings[0].ports[0].service_port, 65000);
	cfg_free(&c);
}

static void sessions_max_is_bounded(void **state)
{
	struct cfg c;

	(void)state;
	expect_error(PORTS "sessions: {max: 4294967295}\n",
		     "t.yaml:3: sessions.max: 4294967295 is out of range 1-268435456");
	expect_error(PORTS "sessions: {max: 268435457}\n",
		     "t.yaml:3: sessions.max: 268435457 is out of range 1-268435456");
	assert_int_equal(load(PORTS "workers: 16\nsessions: {max: 268435456}\n", &c), 0);
	assert_int_equal(c.sessions_max, 268435456u);
	cfg_free(&c);
}

static void mapping_free_and_cfg_free_are_safe_on_zeroed(void **state)
{
	struct cfg c;
	struct cfg_mapping m;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	cfg_free(&c);
	cfg_mapping_free(&m);
	assert_null(c.mappings);
	assert_null(m.backends);
}

/* ---- Address helpers ---- */

static void parse_ipv4_is_strict(void **state)
{
	static const char *const bad[] = {
		"",	     "1.2.3",	   "1.2.3.4.5", " 1.2.3.4",  "1.2.3.4 ",
		"1.2.3.256", "01.2.3.4",   "1..2.3",	"1.2.3.4/",  "a.b.c.d",
		"-1.2.3.4",  "1.2.3.0004", "1.2.3.+4",	"0x1.2.3.4",
	};
	uint32_t a = 0xdeadbeef;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cfg_parse_ipv4(bad[i], &a) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(a, 0xdeadbeef);
	assert_int_equal(cfg_parse_ipv4("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(cfg_parse_ipv4("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffff);
	assert_int_equal(cfg_parse_ipv4("198.51.100.1", &a), 0);
	assert_int_equal(a, 0xc6336401);
}

static void parse_cidr_keeps_host_bits_and_takes_bare_address(void **state)
{
	static const char *const bad[] = {"10.0.0.1/33", "10.0.0.1/",	"10.0.0.1/08",
					  "10.0.0.1/-1", "10.0.0.1/1 ", "10.0.0.1/100",
					  "/24",	 "10.0.0/24"};
	struct cfg_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cfg_parse_cidr(bad[i], &c) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(cfg_parse_cidr("10.0.0.1/24", &c), 0);
	assert_int_equal(c.addr, 0x0a000001);
	assert_int_equal(c.len, 24);
	assert_int_equal(cfg_parse_cidr("10.0.0.1", &c), 0);
	assert_int_equal(c.len, 32);
	assert_int_equal(cfg_parse_cidr("0.0.0.0/0", &c), 0);
	assert_int_equal(c.len, 0);
	assert_true(cfg_cidr_contains(&c, 0x01020304));
	assert_int_equal(cfg_parse_cidr("10.244.0.0/16", &c), 0);
	assert_true(cfg_cidr_contains(&c, 0x0af4ff01));
	assert_false(cfg_cidr_contains(&c, 0x0af50001));
}

static void ipv4_str_formats_dotted_quad(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(cfg_ipv4_str(0xc6336401, buf), "198.51.100.1");
	assert_string_equal(cfg_ipv4_str(0xffffffff, buf), "255.255.255.255");
	assert_string_equal(cfg_ipv4_str(0, buf), "0.0.0.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_default_config_has_six_mappings),
		cmocka_unit_test(load_full_example_sets_every_key),
		cmocka_unit_test(absent_keys_take_their_defaults),
		cmocka_unit_test(endpoint_change_keys_default_to_true_and_are_checked),
		cmocka_unit_test(maglev_threads_is_read_and_range_checked),
		cmocka_unit_test(quoted_numbers_and_null_lists_are_accepted),
		cmocka_unit_test(port_out_of_range_names_line_and_key),
		cmocka_unit_test(tcp_mss_clamp_is_read_and_range_checked),
		cmocka_unit_test(bad_port_address_names_line_and_key),
		cmocka_unit_test(prefix_len_over_32_is_rejected),
		cmocka_unit_test(bad_address_is_rejected),
		cmocka_unit_test(limits_seed_and_tcp_syn_are_read),
		cmocka_unit_test(bad_limits_name_line_and_key),
		cmocka_unit_test(unknown_key_names_enclosing_mapping),
		cmocka_unit_test(unknown_top_level_key_is_rejected),
		cmocka_unit_test(icmp_timeout_is_refused_with_the_reason),
		cmocka_unit_test(missing_key_names_line_of_enclosing_mapping),
		cmocka_unit_test(syntax_error_reports_libyaml_problem),
		cmocka_unit_test(invalid_utf8_reports_its_line),
		cmocka_unit_test(duplicate_mapping_name_is_rejected),
		cmocka_unit_test(same_name_in_other_namespace_is_accepted),
		cmocka_unit_test(duplicate_yaml_key_is_rejected),
		cmocka_unit_test(list_where_scalar_expected_is_rejected),
		cmocka_unit_test(mapping_where_list_expected_is_rejected),
		cmocka_unit_test(non_integer_is_rejected),
		cmocka_unit_test(leading_zero_is_rejected),
		cmocka_unit_test(null_value_is_reported_missing),
		cmocka_unit_test(workers_zero_is_rejected),
		cmocka_unit_test(workers_over_max_is_rejected),
		cmocka_unit_test(ports_ext_missing_is_rejected),
		cmocka_unit_test(port_without_device_is_rejected),
		cmocka_unit_test(route_without_via_is_rejected),
		cmocka_unit_test(end_port_below_port_is_rejected),
		cmocka_unit_test(weight_out_of_range_in_file_names_the_file),
		cmocka_unit_test(bad_enum_lists_the_choices),
		cmocka_unit_test(bad_bool_is_rejected),
		cmocka_unit_test(invalid_name_is_rejected),
		cmocka_unit_test(name_over_63_bytes_is_rejected),
		cmocka_unit_test(too_many_entries_are_rejected),
		cmocka_unit_test(empty_address_list_is_rejected),
		cmocka_unit_test(static_mapping_needs_ports_and_backends),
		cmocka_unit_test(mode_with_backends_list_is_rejected),
		cmocka_unit_test(service_mode_needs_service_name),
		cmocka_unit_test(config_file_mappings_must_be_static),
		cmocka_unit_test(port_name_in_static_mapping_is_rejected),
		cmocka_unit_test(bad_backends_kind_is_rejected),
		cmocka_unit_test(bad_listen_and_socket_are_rejected),
		cmocka_unit_test(nul_byte_in_scalar_is_rejected),
		cmocka_unit_test(second_document_is_rejected),
		cmocka_unit_test(empty_document_is_rejected),
		cmocka_unit_test(missing_file_returns_enoent),
		cmocka_unit_test(directory_returns_read_error),
		cmocka_unit_test(short_error_buffer_is_truncated_not_overrun),
		cmocka_unit_test(mapping_parse_flow_style_matches_config_entry),
		cmocka_unit_test(mapping_parse_block_style_defaults_to_service),
		cmocka_unit_test(mapping_parse_error_path_starts_at_mapping_keys),
		cmocka_unit_test(alias_bomb_is_refused_quickly),
		cmocka_unit_test(aliased_backends_past_the_budget_are_refused),
		cmocka_unit_test(alias_cycle_is_refused),
		cmocka_unit_test(anchors_within_the_budget_still_load),
		cmocka_unit_test(service_port_range_past_65535_is_rejected),
		cmocka_unit_test(sessions_max_is_bounded),
		cmocka_unit_test(mapping_free_and_cfg_free_are_safe_on_zeroed),
		cmocka_unit_test(parse_ipv4_is_strict),
		cmocka_unit_test(parse_cidr_keeps_host_bits_and_takes_bare_address),
		cmocka_unit_test(ipv4_str_formats_dotted_quad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
