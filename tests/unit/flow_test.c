/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_flow steering of the SNAT partitions (dp/flow.c): the port ranges as aligned blocks
 * (exact cover, fewest blocks, bounds), and the all-or-nothing install on a device that
 * offers no rte_flow (net_null: the vdevs of this machine, net_tap included, have none), which
 * must leave the port to the handoff ring with the device's reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "flow.h"
#include "worker.h"

/* Every port in [0, 65535] is matched by exactly one block iff it lies in [lo, hi]. */
static void assert_exact_cover(uint16_t lo, uint16_t hi, int want_blocks)
{
	struct dp_flow_block b[DP_FLOW_MAX_BLOCKS];
	int n = dp_flow_port_blocks(lo, hi, b, DP_FLOW_MAX_BLOCKS);

	assert_int_equal(n, want_blocks);
	for (uint32_t p = 0; p < 65536u; p++) {
		int hits = 0;
		for (int i = 0; i < n; i++)
			hits += ((uint16_t)p & b[i].mask) == b[i].value;
		if (hits != (p >= lo && p <= hi))
			fail_msg("[%u, %u]: port %u matched by %d blocks", lo, hi, p, hits);
	}
	for (int i = 0; i < n; i++) {
		// A prefix mask, and the value aligned to it.
		uint16_t inv = (uint16_t)~b[i].mask;
		assert_int_equal(inv & (inv + 1u) & 0xffff, 0);
		assert_int_equal(b[i].value & inv, 0);
		if (i > 0)
			assert_true(b[i].value > b[i - 1].value);
	}
}

static void blocks_cover_exactly(void **state)
{
	(void)state;
	// Two workers' partitions as worker.c cuts them: span (65536 - 1024) / 2 = 32256.
	assert_exact_cover(1024, 33279, 6);
	assert_exact_cover(33280, 65535, 6);
	assert_exact_cover(0, 65535, 1);
	assert_exact_cover(7, 7, 1);
	assert_exact_cover(1, 65534, 30); // the worst case: DP_FLOW_MAX_BLOCKS
	// Three workers: 21504 each, the last to 65535.
	assert_exact_cover(1024, 22527, 6);
	assert_exact_cover(22528, 44031, 5);
	assert_exact_cover(44032, 65535, 3);
}

static void blocks_bounds(void **state)
{
	struct dp_flow_block b[4];
	(void)state;
	assert_int_equal(dp_flow_port_blocks(9, 8, b, 4), -EINVAL);
	assert_int_equal(dp_flow_port_blocks(1024, 33279, b, 4), -ENOSPC);
	assert_int_equal(dp_flow_port_blocks(1024, 2047, b, 1), 1);
	assert_int_equal(b[0].value, 1024);
	assert_int_equal(b[0].mask, 0xfc00);
}

static uint16_t null_port;

static int group_setup(void **state)
{
	(void)state;
	char *argv[] = {
		"flow_test", "--no-huge", "--no-pci",  "--no-shconf",	      "-m", "256", "-l",
		"0",	     "--vdev",	  "net_null0", "--log-level=*:error", NULL};
	struct rte_eth_conf conf = {0};
	struct rte_mempool *mp;

	if (rte_eal_init(11, argv) < 0)
		return -1;
	if (rte_eth_dev_get_port_by_name("net_null0", &null_port) != 0)
		return -1;
	mp = rte_pktmbuf_pool_create("flow_mbufs", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (!mp || rte_eth_dev_configure(null_port, 2, 2, &conf) != 0)
		return -1;
	for (uint16_t q = 0; q < 2; q++)
		if (rte_eth_rx_queue_setup(null_port, q, 64, 0, NULL, mp) != 0 ||
		    rte_eth_tx_queue_setup(null_port, q, 64, 0, NULL) != 0)
			return -1;
	return rte_eth_dev_start(null_port);
}

static void steer_refused_leaves_no_rule(void **state)
{
	char err[256] = "";
	struct rte_flow_error fe;
	(void)state;

	int ret = dp_flow_steer_snat(null_port, 2, err, sizeof(err));
	assert_true(ret < 0);
	print_message("net_null: %s\n", err);
	// The first rule asked for, and the device's reason.
	assert_non_null(strstr(err, "tcp dst 1024/0xfc00 -> queue 0: "));
	// Nothing left behind: a flush finds no rule to remove and the call can be repeated.
	assert_int_equal(rte_flow_flush(null_port, &fe), ret);
	assert_int_equal(dp_flow_steer_snat(null_port, 2, err, sizeof(err)), ret);
	dp_flow_unsteer(null_port);
}

static void steer_needs_workers(void **state)
{
	char err[128] = "";
	(void)state;
	assert_int_equal(dp_flow_steer_snat(null_port, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "steering needs 2 to 16 workers, not 1");
	assert_int_equal(dp_flow_steer_snat(null_port, CFG_MAX_WORKERS + 1, err, sizeof(err)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocks_cover_exactly),
		cmocka_unit_test(blocks_bounds),
		cmocka_unit_test(steer_refused_leaves_no_rule),
		cmocka_unit_test(steer_needs_workers),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
