/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus page and readiness, over the same fixture as the CLI test: the page is
 * checked against the text exposition format 0.0.4 line by line, and its counters against
 * the packets the test puts through the pipeline.
 */
#include <ctype.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cp_fixture.h"

static char *page(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(cp_metrics_render(f), 0);
	fclose(f);
	return buf;
}

/* The value of the sample line that starts with @p prefix ("name{labels}"), or -1. */
static long long sample(const char *text, const char *prefix)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = strlen(prefix);
		if (strncmp(l, prefix, n) == 0 && l[n] == ' ')
			return atoll(l + n + 1);
	}
	return -1;
}

FIXTURE_GROUP("metrics_test")

/* Every line is a HELP, a TYPE or a sample of the family they announced, each family once. */
static void page_is_valid_exposition_format(void **state)
{
	(void)state;
	char *text = page(), *save = NULL, family[128] = "", seen[8192] = " ";
	regex_t help, type, smp;
	int samples = 0;

	assert_int_equal(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) [^\n]+$", REG_EXTENDED),
			 0);
	assert_int_equal(regcomp(&type,
				 "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|untyped)$",
				 REG_EXTENDED),
			 0);
	assert_int_equal(regcomp(&smp,
				 "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
				 "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})?"
				 " -?[0-9]+(\\.[0-9]+)?$",
				 REG_EXTENDED),
			 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[3];
		char name[128], key[132];

		if (regexec(&help, l, 2, m, 0) == 0) {
			snprintf(family, sizeof(family), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
				 l + m[1].rm_so);
			snprintf(key, sizeof(key), " %s ", family);
			if (strstr(seen, key))
				fail_msg("family %s twice", family);
			strcat(seen, key + 1);
			continue;
		}
		if (regexec(&type, l, 2, m, 0) == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
				 l + m[1].rm_so);
			assert_string_equal(name, family);
			// Counters are named *_total.
			if (strstr(l, " counter"))
				assert_string_equal(family + strlen(family) - 6, "_total");
			continue;
		}
		if (regexec(&smp, l, 2, m, 0) != 0)
			fail_msg("not a sample line: %s", l);
		snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
			 l + m[1].rm_so);
		assert_string_equal(name, family);
		samples++;
	}
	assert_true(samples > 50);
	regfree(&help);
	regfree(&type);
	regfree(&smp);
	free(text);
}

static void mapping_series_carry_ports_protocols_and_ordinal(void **state)
{
	(void)state;
	char *text = page();

	assert_int_equal(sample(text, "strait_sessions_active{namespace=\"\",name=\"broker-0\","
				      "port=\"32000\",protocol=\"tcp\",ordinal=\"0\"}"),
			 0);
	assert_int_equal(sample(text, "strait_sessions_created_total{namespace=\"prod\",name="
				      "\"kafka\",port=\"9094,30000-30009\",protocol=\"tcp,udp\","
				      "ordinal=\"\"}"),
			 0);
	for (int d = 0; d < DP_DROP_MAX; d++) {
		char p[96];
		snprintf(p, sizeof(p), "strait_drops_total{reason=\"%s\"}", dp_drop_name(d));
		assert_true(sample(text, p) >= 0);
	}
	assert_int_equal(sample(text, "strait_sessions_evicted_total"), 0);
	assert_int_equal(sample(text, "strait_sessions_snat_probed_total"), 0);
	assert_int_equal(sample(text, "strait_tables_generation"), (long long)cp_generation());
	assert_int_equal(sample(text, "strait_mappings"), 4);
	assert_int_equal(sample(text, "strait_port_up{port=\"ext\",device=\"net_null0\"}"), 1);
	assert_true(sample(text, "strait_worker_busy_ratio{worker=\"0\",lcore=\"0\"}") >= 0);
	free(text);
}

static void packets_and_sessions_count_what_went_through(void **state)
{
	(void)state;
	static const char echo[] =
		"{namespace=\"\",name=\"echo\",port=\"7777\",protocol=\"udp\",ordinal=\"\"";
	char o2i[256], bytes[256], created[256], active[256];
	char *before, *after;

	snprintf(o2i, sizeof(o2i), "strait_packets_total%s,direction=\"out2in\"}", echo);
	snprintf(bytes, sizeof(bytes), "strait_bytes_total%s,direction=\"out2in\"}", echo);
	snprintf(created, sizeof(created), "strait_sessions_created_total%s}", echo);
	snprintf(active, sizeof(active), "strait_sessions_active%s}", echo);
	before = page();
	for (uint16_t i = 0; i < 5; i++)
		fixture_inject((uint16_t)(41000 + i), 7777, IPPROTO_UDP);
	after = page();
	assert_int_equal(sample(after, o2i) - sample(before, o2i), 5);
	// Each frame: IPv4 header 20 + UDP header 8 + payload 10.
	assert_int_equal(sample(after, bytes) - sample(before, bytes), 5 * 38);
	assert_int_equal(sample(after, created) - sample(before, created), 5);
	assert_int_equal(sample(after, active), 5);
	dp_sessions_clear(-1, 0);
	free(before);
	free(after);
	before = page();
	assert_int_equal(sample(before, active), 0);
	free(before);
}

static void kubernetes_state_is_a_state_set(void **state)
{
	(void)state;
	char *text = page();

	assert_int_equal(sample(text, "strait_kubernetes_state{state=\"disabled\"}"), 1);
	assert_int_equal(sample(text, "strait_kubernetes_state{state=\"syncing\"}"), 0);
	assert_int_equal(sample(text, "strait_kubernetes_state{state=\"synced\"}"), 0);
	assert_int_equal(sample(text, "strait_kubernetes_state{state=\"error\"}"), 0);
	free(text);
}

static void readyz_names_a_port_that_is_down(void **state)
{
	(void)state;
	char why[256];

	assert_true(cp_metrics_ready(why, sizeof(why)));
	assert_string_equal(why, "");
	// net_null has no link control: a stopped port reports its link down.
	assert_int_equal(rte_eth_dev_stop(dp_port_id(DP_PORT_EXT)), 0);
	usleep(1100000); // the snapshot refreshes port figures once a second
	cp_snap_update();
	assert_false(cp_metrics_ready(why, sizeof(why)));
	assert_string_equal(why, "port ext (net_null0) link down");
	assert_int_equal(rte_eth_dev_start(dp_port_id(DP_PORT_EXT)), 0);
	usleep(1100000);
	cp_snap_update();
	assert_true(cp_metrics_ready(why, sizeof(why)));
}

/* A stop that drains (ha.drainSeconds) answers not ready, saying so, at once. */
static void readyz_is_not_ready_while_draining(void **state)
{
	(void)state;
	char why[256];

	assert_true(cp_metrics_ready(why, sizeof(why)));
	cp_draining = 1;
	assert_false(cp_metrics_ready(why, sizeof(why)));
	assert_string_equal(why, "draining: stopping");
	cp_draining = 0;
	assert_true(cp_metrics_ready(why, sizeof(why)));
}

static void metrics_listen_must_be_host_and_port(void **state)
{
	(void)state;
	char err[256];

	assert_int_equal(cp_metrics_start("9469", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "metrics_listen: \"9469\" is not host:port");
	assert_int_equal(cp_metrics_start("no.such.host.invalid:9469", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "metrics_listen: no.such.host.invalid:9469: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(page_is_valid_exposition_format),
		cmocka_unit_test(mapping_series_carry_ports_protocols_and_ordinal),
		cmocka_unit_test(packets_and_sessions_count_what_went_through),
		cmocka_unit_test(kubernetes_state_is_a_state_set),
		cmocka_unit_test(readyz_names_a_port_that_is_down),
		cmocka_unit_test(readyz_is_not_ready_while_draining),
		cmocka_unit_test(metrics_listen_must_be_host_and_port),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
