/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A mapping's source rules (struct cfg_rule: an l7mp VirtualService's rules, flattened):
 * evaluated in order at session creation; the first match names the backend group, or
 * refuses; no match refuses (drop reason no_rule). Real frames through nat_process_burst().
 */
#include "nat_fixture.h"

/* echo (UDP 7777): 10.0.0.11 in group 0, 10.0.0.12 and .13 in group 1; rules:
 *   198.51.100.2/32 source port 9001     → group 1
 *   198.51.100.0/24 source ports 5000-5010 → group 0
 *   198.51.100.0/24 source port 5005     → refused (shadowed by the one before)
 *   0.0.0.0/0 source port 6000           → refused */
static int rules_setup(void **state)
{
	int rc = setup(state);

	be3[0].group = 0;
	be3[1].group = 1;
	be3[2].group = 1;
	maps[1].n_groups = 2;
	maps[1].rules[0] = (struct cfg_rule){{ip4("198.51.100.2"), 32}, 9001, 9001, 1};
	maps[1].rules[1] = (struct cfg_rule){{ip4("198.51.100.0"), 24}, 5000, 5010, 0};
	maps[1].rules[2] = (struct cfg_rule){{ip4("198.51.100.0"), 24}, 5005, 5005, -1};
	maps[1].rules[3] = (struct cfg_rule){{0, 0}, 6000, 6000, -1};
	maps[1].n_rules = 4;
	publish();
	return rc;
}

static int rules_teardown(void **state)
{
	for (int i = 0; i < 3; i++)
		be3[i].group = 0;
	return teardown(state);
}

/* The backend a datagram from 198.51.100.2:@p sport reaches, or 0 when none left. */
static uint32_t reach(uint16_t sport)
{
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", sport, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	if (dp_tx_n(w, DP_PORT_INT) == 0)
		return 0;
	uint8_t *f = take(DP_PORT_INT, &m);
	uint32_t b = rd32(f + 14 + 16);
	rte_pktmbuf_free(m);
	return b;
}

static void first_matching_rule_picks_the_group(void **state)
{
	(void)state;
	uint32_t b = reach(9001);
	assert_true(b == ip4("10.0.0.12") || b == ip4("10.0.0.13"));
	for (uint16_t p = 5000; p <= 5005; p++)
		assert_int_equal(reach(p), ip4("10.0.0.11")); /* 5005 too: the first match wins */
	assert_int_equal(w->stats.drops[DP_DROP_NO_RULE], 0);
	assert_int_equal(w->sess.active, 7); /* the fixture's worker holds 8 */
}

static void no_match_or_a_refusing_rule_is_dropped_as_no_rule(void **state)
{
	(void)state;
	assert_int_equal(reach(6000), 0); /* a refusing rule */
	assert_int_equal(reach(9002), 0); /* no rule */
	assert_int_equal(reach(4999), 0);
	assert_int_equal(w->stats.drops[DP_DROP_NO_RULE], 3);
	assert_int_equal(w->stats.map[1].drops, 3);
	assert_int_equal(w->sess.active, 0);
}

static void rules_of_one_mapping_leave_the_others_alone(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	/* web shares the backends (and their groups) but has no rules: all three, any port */
	size_t n = flow(buf, "198.51.100.2", 6000, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(w->stats.drops[DP_DROP_NO_RULE], 0);
}

static void a_rule_naming_a_missing_group_fails_the_build(void **state)
{
	(void)state;
	const struct cfg_mapping *p[RTE_DIM(maps)];
	char err[256];

	maps[1].rules[4] = (struct cfg_rule){{0, 0}, 1, 65535, 2};
	maps[1].n_rules = 5;
	for (unsigned int i = 0; i < RTE_DIM(maps); i++)
		p[i] = &maps[i];
	assert_null(tables_build(&cfg, p, RTE_DIM(maps), slot_of, ++gen, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "mapping echo: rule 4 names group 2 of 2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(first_matching_rule_picks_the_group, rules_setup,
						rules_teardown),
		cmocka_unit_test_setup_teardown(no_match_or_a_refusing_rule_is_dropped_as_no_rule,
						rules_setup, rules_teardown),
		cmocka_unit_test_setup_teardown(rules_of_one_mapping_leave_the_others_alone,
						rules_setup, rules_teardown),
		cmocka_unit_test_setup_teardown(a_rule_naming_a_missing_group_fails_the_build,
						rules_setup, rules_teardown),
	};
	return cmocka_run_group_tests_name("rules", tests, group_setup, group_teardown);
}
