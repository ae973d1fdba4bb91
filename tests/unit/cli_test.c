/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI: command lines go through cli_exec() (the parser and renderers the prompt and the
 * socket use) and the exact text, the JSON fields and the state they leave are checked; the
 * socket protocol is checked on a real UNIX socket served by cp_modules_poll().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <rte_log.h>

#include <strait/log.h>

#include "cp_fixture.h"

static char sock_dir[] = "/tmp/strait-cli-test.XXXXXX";
static char sock_path[256];

/* Run @p line; check its status; return its output (freed by the next call). */
static const char *run(const char *line, bool json, int want_status)
{
	static char *out;
	int ret;

	free(out);
	out = NULL;
	ret = cli_exec(line, json, &out, NULL);
	if (ret != want_status)
		fail_msg("\"%s\": status %d, expected %d; output:\n%s", line, ret, want_status,
			 out ? out : "");
	return out ? out : "";
}

static json_t *run_json(const char *line, int want_status)
{
	json_error_t e;
	const char *out = run(line, true, want_status);
	json_t *doc = json_loads(out, 0, &e);

	if (!doc)
		fail_msg("\"%s\": not one JSON document (%s): %s", line, e.text, out);
	// One document on one line.
	assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
	return doc;
}

static int group_setup(void **state)
{
	(void)state;
	if (fixture_eal("cli_test") < 0 || !mkdtemp(sock_dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/run/cli.sock", sock_dir);
	return fixture_up(sock_path);
}

static int group_teardown(void **state)
{
	(void)state;
	fixture_down();
	char d[300];
	snprintf(d, sizeof(d), "%s/run", sock_dir);
	rmdir(d);
	rmdir(sock_dir);
	rte_eal_cleanup();
	return 0;
}

/* Each test starts with no session. */
static int setup(void **state)
{
	(void)state;
	dp_sessions_clear(-1, 0);
	return 0;
}

static void show_mappings_is_an_aligned_table(void **state)
{
	(void)state;
	assert_string_equal(
		run("show mappings", false, 0),
		"name      namespace  source  addresses     ports                           mode    nat "
		"     affinity   pickup  rules  ordinal  backends  sessions\n"
		"web       -          config  198.51.100.1  8080/tcp->80                    static  fullNat "
		" fiveTuple  no          0        -         2         0\n"
		"echo      -          config  198.51.100.1  7777/udp->7                     static  fullNat "
		" clientIP   no          0        -         1         0\n"
		"broker-0  -          config  198.51.100.1  32000/tcp->9092                 static  fullNat "
		" fiveTuple  no          0        0         1         0\n"
		"kafka     prod       config  198.51.100.1  9094/tcp->9092,30000-30009/udp  static  fullNat "
		" fiveTuple  no          0        -         1         0\n");
}

static void show_mappings_json_has_every_field(void **state)
{
	(void)state;
	json_t *doc = run_json("show mappings", 0), *m;

	assert_true(json_is_array(doc));
	assert_int_equal(json_array_size(doc), 4);
	m = json_array_get(doc, 3);
	assert_string_equal(json_string_value(json_object_get(m, "name")), "kafka");
	assert_string_equal(json_string_value(json_object_get(m, "namespace")), "prod");
	assert_string_equal(json_string_value(json_object_get(m, "source")), "config");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "ports"), 1)),
			    "30000-30009/udp");
	assert_true(json_is_null(json_object_get(m, "ordinal")));
	assert_string_equal(json_string_value(json_object_get(m, "affinity")), "fiveTuple");
	assert_true(json_is_false(json_object_get(m, "pickup")));
	assert_int_equal(json_integer_value(json_object_get(m, "rules")), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 1), "affinity")),
			    "clientIP");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(doc, 2), "ordinal")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(doc, 0), "backends")),
			 2);
	json_decref(doc);
}

static void show_sessions_lists_the_flows(void **state)
{
	(void)state;
	fixture_inject(40001, 7777, IPPROTO_UDP);
	fixture_inject(40002, 32000, IPPROTO_TCP);
	assert_string_equal(run("show sessions", false, 0),
			    "total: 2\n"
			    "limit: 1000\n"
			    "sessions:\n"
			    "  worker  mapping   proto  client              external       "
			    "     snat           backend         state     idle-s  expires-"
			    "s  pkts-o2i  pkts-i2o  bytes-o2i  bytes-i2o\n"
			    "       0  echo      udp    198.51.100.2:40001  198.51.100.1:77"
			    "77   10.0.0.1:1024  10.0.0.11:7     udp            0        30"
			    "0         1         0         38          0\n"
			    "       0  broker-0  tcp    198.51.100.2:40002  198.51.100.1:32"
			    "000  10.0.0.1:1025  10.0.0.12:9092  syn_sent       0        12"
			    "0         1         0         50          0\n");

	json_t *doc = run_json("show sessions", 0), *s;
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 2);
	s = json_array_get(json_object_get(doc, "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "client")), "198.51.100.2:40001");
	assert_string_equal(json_string_value(json_object_get(s, "mapping")), "echo");
	assert_string_equal(json_string_value(json_object_get(s, "backend")), "10.0.0.11:7");
	assert_int_equal(json_integer_value(json_object_get(s, "pkts_o2i")), 1);
	json_decref(doc);
}

static void show_sessions_filters_by_mapping_and_limits(void **state)
{
	(void)state;
	fixture_inject(40011, 7777, IPPROTO_UDP);
	fixture_inject(40012, 7777, IPPROTO_UDP);
	fixture_inject(40013, 32000, IPPROTO_TCP);

	json_t *doc = run_json("show sessions mapping echo limit 1", 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 2);
	assert_int_equal(json_array_size(json_object_get(doc, "sessions")), 1);
	json_decref(doc);

	doc = run_json("show sessions mapping broker-0", 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(doc, "sessions"), 0), "client")),
			    "198.51.100.2:40013");
	json_decref(doc);

	// limit 0 counts without listing.
	assert_string_equal(run("show sessions limit 0", false, 0),
			    "total:    3\nlimit:    0\nsessions: (none)\n");
	assert_string_equal(run("show sessions mapping prod/kafka", false, 0),
			    "total:    0\nlimit:    1000\nsessions: (none)\n");
	assert_string_equal(run("show sessions mapping nope", false, -ENOENT),
			    "error: no mapping named \"nope\"\n");
}

static void clear_sessions_of_one_mapping_keeps_the_others(void **state)
{
	(void)state;
	fixture_inject(40021, 7777, IPPROTO_UDP);
	fixture_inject(40022, 7777, IPPROTO_UDP);
	fixture_inject(40023, 32000, IPPROTO_TCP);

	assert_string_equal(run("clear sessions mapping echo", false, 0),
			    "cleared 2 sessions of mapping echo\n");
	assert_int_equal(dp_sessions_active(), 1);
	json_t *doc = run_json("clear sessions", 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "cleared")), 1);
	assert_string_equal(json_string_value(json_object_get(doc, "message")),
			    "cleared 1 session");
	json_decref(doc);
	assert_int_equal(dp_sessions_active(), 0);
}

static void bad_commands_print_usage_and_change_nothing(void **state)
{
	(void)state;
	char *before = strdup(run("show mappings", true, 0));
	uint64_t gen = cp_generation();

	assert_string_equal(run("show sessions limit x", false, -EINVAL),
			    "error: unexpected \"x\"\n"
			    "usage: show sessions [mapping NAME] [limit N]\n");
	assert_string_equal(run("set timeout tcp 5", false, -EINVAL),
			    "error: unexpected \"tcp\"\n"
			    "usage: set timeout {udp|tcp-est|tcp-trans|tcp-syn} SECONDS\n");
	assert_string_equal(run("del mapping", false, -EINVAL),
			    "error: incomplete command\nusage: del mapping NAME\n");
	assert_string_equal(run("add mapping {name: x, addresses: [198.51.100.1]", false, -EINVAL),
			    "error: <cli>:1: syntax error: did not find expected ',' or '}'\n");
	assert_string_equal(run("add mapping {name: x, addresses: [198.51.100.1], ports: "
				"[{port: 70000}], backends: [{address: 10.0.0.11}]}",
				false, -EINVAL),
			    "error: <cli>:1: ports[0].port: 70000 is out of range 1-65535\n");
	assert_string_equal(run("del mapping web", false, -EPERM),
			    "error: mapping web comes from the config file: remove it there and "
			    "reload\n");
	assert_string_equal(run("set timeout udp 0", false, -EINVAL),
			    "error: timeout udp: 0 s is out of range 1-604800\n");
	const char *out = run("frobnicate now", false, -EINVAL);
	assert_non_null(strstr(out, "error: unknown command \"frobnicate\"\nusage: help\n"));
	assert_non_null(strstr(out, "       show sessions [mapping NAME] [limit N]\n"));

	// JSON: one document with the error and the usage.
	json_t *doc = run_json("show ports extra", -EINVAL);
	assert_string_equal(json_string_value(json_object_get(doc, "error")),
			    "unexpected \"extra\"");
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "usage"), 0)),
			    "show ports");
	json_decref(doc);

	assert_string_equal(run("show mappings", true, 0), before);
	assert_int_equal(cp_generation(), gen);
	assert_int_equal(cp_mapping_count(), 4);
	free(before);
}

static void add_and_del_mapping_go_through_the_state(void **state)
{
	(void)state;
	uint64_t gen = cp_generation();
	char want[128];

	snprintf(want, sizeof(want), "mapping ops added: tables generation %lu\n",
		 (unsigned long)gen + 1);
	assert_string_equal(run("add mapping {name: ops, addresses: [198.51.100.1], ports: "
				"[{port: 9000, protocol: udp}], backends: [{address: 10.0.0.12, "
				"port: 7}]}",
				false, 0),
			    want);
	assert_int_equal(cp_generation(), gen + 1);
	assert_int_equal(cp_mapping_count(), 5);
	assert_non_null(tables_svc_lookup(tables_get(), rte_cpu_to_be_32(0xc6336401),
					  rte_cpu_to_be_16(9000), IPPROTO_UDP));
	json_t *doc = run_json("show mappings", 0);
	json_t *m = json_array_get(doc, 4);
	assert_string_equal(json_string_value(json_object_get(m, "name")), "ops");
	assert_string_equal(json_string_value(json_object_get(m, "source")), "cli");
	json_decref(doc);

	// Same name again: replaced, not duplicated.
	doc = run_json("add mapping {name: ops, addresses: [198.51.100.1], ports: [{port: 9001, "
		       "protocol: udp}], backends: [{address: 10.0.0.12, port: 7}]}",
		       0);
	snprintf(want, sizeof(want), "mapping ops replaced: tables generation %lu",
		 (unsigned long)gen + 2);
	assert_string_equal(json_string_value(json_object_get(doc, "message")), want);
	assert_string_equal(json_string_value(json_object_get(doc, "mapping")), "ops");
	assert_int_equal(json_integer_value(json_object_get(doc, "generation")), gen + 2);
	json_decref(doc);
	assert_int_equal(cp_mapping_count(), 5);
	assert_null(tables_svc_lookup(tables_get(), rte_cpu_to_be_32(0xc6336401),
				      rte_cpu_to_be_16(9000), IPPROTO_UDP));

	// A second "echo" in another namespace makes the bare name ambiguous.
	run("add mapping {name: echo, namespace: dev, addresses: [198.51.100.1], ports: [{port: "
	    "7778, protocol: udp}], backends: [{address: 10.0.0.11, port: 7}]}",
	    false, 0);
	assert_string_equal(run("clear sessions mapping echo", false, -EINVAL),
			    "error: 2 mappings are named \"echo\": say NAMESPACE/echo\n");
	snprintf(want, sizeof(want), "mapping dev/echo deleted: tables generation %lu\n",
		 (unsigned long)gen + 4);
	assert_string_equal(run("del mapping dev/echo", false, 0), want);

	snprintf(want, sizeof(want), "mapping ops deleted: tables generation %lu\n",
		 (unsigned long)gen + 5);
	assert_string_equal(run("del mapping ops", false, 0), want);
	assert_int_equal(cp_mapping_count(), 4);
	assert_null(tables_svc_lookup(tables_get(), rte_cpu_to_be_32(0xc6336401),
				      rte_cpu_to_be_16(9001), IPPROTO_UDP));
	assert_string_equal(run("del mapping ops", false, -ENOENT),
			    "error: no mapping named \"ops\"\n");
}

static void set_timeout_changes_the_running_config(void **state)
{
	(void)state;
	assert_string_equal(run("set timeout udp 120", false, 0),
			    "udp timeout is 120 s for new sessions\n");
	json_t *doc = run_json("show config", 0);
	json_t *to = json_object_get(doc, "timeouts");
	assert_int_equal(json_integer_value(json_object_get(to, "udp")), 120);
	assert_int_equal(json_integer_value(json_object_get(to, "tcp_established")), 7440);
	json_decref(doc);
	fixture_inject(40031, 7777, IPPROTO_UDP);
	doc = run_json("show sessions", 0);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(doc, "sessions"), 0), "expires_s")),
			 120);
	json_decref(doc);
	run("set timeout udp 300", false, 0);
}

static void show_stats_text_hides_zero_drops_json_keeps_them(void **state)
{
	(void)state;
	const char *out = run("show stats", false, 0);
	assert_non_null(strstr(out, "sessions:\n  active:      0\n"));
	assert_non_null(strstr(out, "  snat_probed: 0\n"));
	assert_non_null(strstr(out, "drops:            (none)\n"));
	assert_non_null(strstr(out, "mappings:\n  mapping     sessions  created"));
	json_t *doc = run_json("show stats", 0);
	json_t *drops = json_object_get(doc, "drops");
	assert_int_equal(json_object_size(drops), DP_DROP_MAX);
	assert_non_null(json_object_get(drops, "no_mapping"));
	json_t *kafka = json_array_get(json_object_get(doc, "mappings"), 3);
	assert_string_equal(json_string_value(json_object_get(kafka, "mapping")), "prod/kafka");
	json_decref(doc);
}

/* An iteration of the control loop that takes 100 ms or more is counted and shown: one whose
 * module sleeps 150 ms (a sleep never ends early, so the count cannot miss it). */
static int slow_polls;
static void slow_poll(int wait_ms)
{
	(void)wait_ms;
	if (slow_polls-- > 0)
		usleep(150 * 1000);
}
static struct cp_module slow_module = {
	.name = "slow-test", .order = CP_MOD_WORKERS, .poll = slow_poll};
CP_MODULE_REGISTER(slow_module) // main.c's slot, free here: started by cp_modules_init()

static void a_slow_control_loop_iteration_is_counted_and_shown(void **state)
{
	(void)state;
	json_t *doc = run_json("show stats", 0);
	uint64_t slow0 = (uint64_t)json_integer_value(json_object_get(doc, "ctl_loop_slow"));
	assert_non_null(json_object_get(doc, "ctl_loop_max_us"));
	json_decref(doc);

	char *log = NULL;
	size_t log_len = 0;
	FILE *mem = open_memstream(&log, &log_len);
	assert_non_null(mem);
	assert_int_equal(rte_openlog_stream(mem), 0);
	int level = rte_log_get_level(strait_logtype_cp);
	rte_log_set_level(strait_logtype_cp, RTE_LOG_WARNING);
	cp_loop_restart(); // whatever the tests before did between their polls
	cp_modules_poll(0);
	slow_polls = 1;
	cp_modules_poll(0); // sleeps 150 ms
	rte_log_set_level(strait_logtype_cp, (uint32_t)level);
	rte_openlog_stream(NULL);
	fclose(mem);
	assert_non_null(strstr(log, "control loop: one iteration took "));
	assert_non_null(strstr(log, " ms, the longest step slow-test 1")); // 1xx ms
	free(log);
	doc = run_json("show stats", 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "ctl_loop_slow")), slow0 + 1);
	assert_true(json_integer_value(json_object_get(doc, "ctl_loop_max_us")) >= 150000);
	json_decref(doc);
	const char *out = run("show stats", false, 0);
	assert_non_null(strstr(out, "ctl_loop_slow:"));
}

static void show_ports_workers_config_neighbors_backends_render(void **state)
{
	(void)state;
	json_t *doc = run_json("show ports", 0);
	assert_int_equal(json_array_size(doc), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 1), "device")),
			    "net_null1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 0), "link")),
			    "up");
	json_decref(doc);

	// rx by arm (flow_bench.sh reads the int arm's: where the device delivered), as the
	// worker counted them, and their sum
	dp_workers[0]->stats.rx_pkts[DP_PORT_EXT] += 5;
	dp_workers[0]->stats.rx_pkts[DP_PORT_INT] += 7;
	doc = run_json("show workers", 0);
	assert_int_equal(json_array_size(doc), 1);
	json_t *w0 = json_array_get(doc, 0);
	assert_true(json_is_real(json_object_get(w0, "busy_percent")));
	assert_int_equal(json_integer_value(json_object_get(w0, "rx_ext")),
			 dp_workers[0]->stats.rx_pkts[DP_PORT_EXT]);
	assert_int_equal(json_integer_value(json_object_get(w0, "rx_int")),
			 dp_workers[0]->stats.rx_pkts[DP_PORT_INT]);
	assert_true(json_integer_value(json_object_get(w0, "rx_int")) >= 7);
	assert_int_equal(json_integer_value(json_object_get(w0, "rx_ext")) +
				 json_integer_value(json_object_get(w0, "rx_int")),
			 json_integer_value(json_object_get(w0, "rx_packets")));
	json_decref(doc);

	doc = run_json("show config", 0);
	assert_string_equal(json_string_value(json_object_get(doc, "cli_socket")), sock_path);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "kubernetes"), "state")),
		"disabled");
	json_decref(doc);

	// The age column depends on how long the tests took: compare up to it.
	char *neigh = strdup(run("show neighbors", false, 0)), *line, *save = NULL;
	static const char *const want[] = {"address    mac                port  state     ",
					   "10.0.0.11  02:B0:00:00:00:0B  int   resolved  ",
					   "10.0.0.12  02:B0:00:00:00:0C  int   resolved  ",
					   "10.0.0.13  02:B0:00:00:00:0D  int   resolved  "};
	int rows = 0;
	for (line = strtok_r(neigh, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(rows < 4);
		assert_int_equal(strncmp(line, want[rows], strlen(want[rows])), 0);
		assert_int_equal(strlen(line), strlen(want[0]) + strlen("age-s"));
		rows++;
	}
	assert_int_equal(rows, 4);
	free(neigh);

	fixture_inject(40041, 7777, IPPROTO_UDP);
	assert_string_equal(run("show backends", false, 0),
			    "mapping     address    port  weight  state  pod  sessions\n"
			    "web         10.0.0.11    80       1  ready  -           0\n"
			    "web         10.0.0.12    80       2  ready  -           0\n"
			    "echo        10.0.0.11     7       1  ready  -           1\n"
			    "broker-0    10.0.0.12  9092       1  ready  -           0\n"
			    "prod/kafka  10.0.0.13  9092       1  ready  -           0\n");
}

/* show backends labels each backend by its state; the read paths take no counter slot. */
static void show_backends_labels_states_and_reads_take_no_slot(void **state)
{
	struct cfg_backend be[3] = {
		{.weight = 1},
		{.weight = 1, .serving_only = true},			  // not ready
		{.weight = 1, .serving_only = true, .terminating = true}, // being deleted
	};
	struct cfg_mapping m = {
		.n_addrs = 1, .n_ports = 1, .backends = be, .n_backends = 3, .ordinal = -1};
	char err[256];
	json_t *doc, *row;
	size_t i;
	unsigned int slots;
	const char *want[3] = {"ready", "draining", "terminating"};
	int seen = 0;

	(void)state;
	snprintf(m.name, sizeof(m.name), "drain");
	assert_int_equal(cfg_parse_ipv4("198.51.100.1", &m.addrs[0]), 0);
	m.ports[0] = (struct cfg_map_port){.port = 8500, .end_port = 8500, .proto = IPPROTO_TCP};
	for (unsigned int b = 0; b < 3; b++)
		be[b].addr = (10u << 24) + 11 + b;
	assert_int_equal(cp_mapping_upsert(CP_SRC_CLI, &m, err, sizeof(err)), 0);
	slots = cp_slots_in_use();
	doc = run_json("show backends", 0);
	json_array_foreach(doc, i, row) {
		if (strcmp(json_string_value(json_object_get(row, "mapping")), "drain") != 0)
			continue;
		assert_string_equal(json_string_value(json_object_get(row, "state")), want[seen]);
		seen++;
	}
	assert_int_equal(seen, 3);
	json_decref(doc);
	run("show sessions mapping drain", false, 0);
	run("show mappings", false, 0);
	assert_int_equal(cp_slots_in_use(), slots);
	// The lookup finds the mapping's slot, and takes none for a name that has none.
	assert_int_equal(cp_slot_find("", "drain"), cp_slot_of("", "drain"));
	assert_int_equal(cp_slot_find("", "no-such-mapping"), -1);
	assert_int_equal(cp_slots_in_use(), slots);
	assert_int_equal(cp_mapping_delete(CP_SRC_CLI, "", "drain"), 0);
}

static void help_lists_each_command_once(void **state)
{
	(void)state;
	json_t *doc = run_json("help", 0), *row;
	size_t i;
	int sessions = 0;

	assert_int_equal(json_array_size(doc), 15);
	json_array_foreach(doc, i, row)
		sessions += strcmp(json_string_value(json_object_get(row, "command")),
				   "show sessions [mapping NAME] [limit N]") == 0;
	assert_int_equal(sessions, 1);
	json_decref(doc);
}

static void quit_asks_the_loop_to_stop(void **state)
{
	(void)state;
	fixture_quit = false;
	assert_string_equal(run("quit", false, 0), "stopping strait\n");
	assert_true(fixture_quit);
	// Blank lines and comments are no command and no error.
	assert_string_equal(run("", false, 0), "");
	assert_string_equal(run("   # a comment", false, 0), "");
}

/* A client connection with what it has received and not yet consumed. */
struct conn {
	int fd;
	char buf[65536];
	size_t len;
};

/* Next response (output, NUL, status, newline) while the control loop serves us.
 * @return the status, -1 on timeout; *out gets the output (malloc'ed). */
static int next_response(struct conn *c, char **out)
{
	for (int spin = 0; spin < 2000; spin++) {
		char *nul = memchr(c->buf, '\0', c->len), *nl;
		ssize_t n;

		if (nul && (nl = memchr(nul + 1, '\n', c->len - (size_t)(nul + 1 - c->buf)))) {
			int status = atoi(nul + 1);
			*out = strndup(c->buf, (size_t)(nul - c->buf));
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			return status;
		}
		cp_modules_poll(1);
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
		if (n > 0)
			c->len += (size_t)n;
	}
	return -1;
}

static void socket_serves_framed_responses(void **state)
{
	(void)state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static struct conn c;
	struct stat st;
	char *out, *expect;

	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	memset(&c, 0, sizeof(c));
	c.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	// Three requests at once: answered in order, each with its own trailer.
	const char req[] = "show mappings\njson show sessions\nshow sessions limit x\n";
	assert_int_equal(send(c.fd, req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);

	expect = strdup(run("show mappings", false, 0));
	assert_int_equal(next_response(&c, &out), 0);
	assert_string_equal(out, expect);
	free(out);
	free(expect);
	assert_int_equal(next_response(&c, &out), 0);
	assert_string_equal(out, "{\"total\":0,\"limit\":1000,\"sessions\":[]}\n");
	free(out);
	assert_int_equal(next_response(&c, &out), EINVAL);
	assert_string_equal(out, "error: unexpected \"x\"\n"
				 "usage: show sessions [mapping NAME] [limit N]\n");
	free(out);
	close(c.fd);

	// One request per connection, as straitctl does, then the server closes.
	memset(&c, 0, sizeof(c));
	c.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(c.fd, "json del mapping nope\n", 22, 0), 22);
	shutdown(c.fd, SHUT_WR);
	assert_int_equal(next_response(&c, &out), ENOENT);
	assert_string_equal(out, "{\"error\":\"no mapping named \\\"nope\\\"\"}\n");
	free(out);
	ssize_t n = -1;
	for (int spin = 0; spin < 200 && n != 0; spin++) {
		cp_modules_poll(1);
		n = recv(c.fd, c.buf, sizeof(c.buf), MSG_DONTWAIT);
	}
	assert_int_equal(n, 0);
	close(c.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(show_mappings_is_an_aligned_table, setup),
		cmocka_unit_test_setup(show_mappings_json_has_every_field, setup),
		cmocka_unit_test_setup(show_sessions_lists_the_flows, setup),
		cmocka_unit_test_setup(show_sessions_filters_by_mapping_and_limits, setup),
		cmocka_unit_test_setup(clear_sessions_of_one_mapping_keeps_the_others, setup),
		cmocka_unit_test_setup(bad_commands_print_usage_and_change_nothing, setup),
		cmocka_unit_test_setup(add_and_del_mapping_go_through_the_state, setup),
		cmocka_unit_test_setup(set_timeout_changes_the_running_config, setup),
		cmocka_unit_test_setup(show_stats_text_hides_zero_drops_json_keeps_them, setup),
		cmocka_unit_test_setup(show_ports_workers_config_neighbors_backends_render, setup),
		cmocka_unit_test_setup(show_backends_labels_states_and_reads_take_no_slot, setup),
		cmocka_unit_test_setup(help_lists_each_command_once, setup),
		cmocka_unit_test_setup(quit_asks_the_loop_to_stop, setup),
		cmocka_unit_test_setup(socket_serves_framed_responses, setup),
		cmocka_unit_test_setup(a_slow_control_loop_iteration_is_counted_and_shown, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
