/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test fixture for the management modules: a whole control plane over a data plane that
 * does not run. EAL with --no-huge and two net_null ports, dp_init() with one worker (never
 * launched: the test injects packets into its pipeline itself), the desired state from a
 * config string, and the control plane's init list from the desired state on (cp/module.c:
 * state, snapshot, CLI, optional socket, metrics, Kubernetes; main.c's config, data plane and
 * workers modules are not linked: the fixture does their part. No telemetry thread, no
 * metrics server: --no-telemetry and metrics_listen "").
 */
#ifndef STRAIT_TEST_CP_FIXTURE_H
#define STRAIT_TEST_CP_FIXTURE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <strait/cli.h>
#include <strait/config.h>
#include <strait/cp.h>
#include <strait/dp.h>

#include "cp_priv.h"
#include "dp_priv.h"
#include "pkt_build.h"

static const char fixture_yaml[] =
	"ports:\n"
	"  ext: {device: net_null0, addresses: [198.51.100.1/24]}\n"
	"  int: {device: net_null1, addresses: [10.0.0.1/24]}\n"
	"workers: 1\n"
	"sessions: {max: 1024}\n"
	"cli_socket: \"\"\n"
	"metrics_listen: \"\"\n"
	"mappings:\n"
	"- {name: web, addresses: [198.51.100.1], ports: [{port: 8080, servicePort: 80}],\n"
	"   backends: [{address: 10.0.0.11}, {address: 10.0.0.12, weight: 2}]}\n"
	"- {name: echo, addresses: [198.51.100.1], affinity: clientIP, ports: [{port: 7777, "
	"servicePort: 7, protocol: udp}],\n"
	"   backends: [{address: 10.0.0.11}]}\n"
	"- {name: broker-0, ordinal: 0, addresses: [198.51.100.1], ports: [{port: 32000, "
	"servicePort: 9092}],\n"
	"   backends: [{address: 10.0.0.12}]}\n"
	"- {name: kafka, namespace: prod, addresses: [198.51.100.1], ports: [{port: 9094, "
	"servicePort: 9092},\n"
	"   {port: 30000, endPort: 30009, protocol: udp}], backends: [{address: 10.0.0.13}]}\n";

/* `quit` sets the control loop's flag (cp/module.c). */
#define fixture_quit cp_quit

static int fixture_eal(const char *prog)
{
	/* --no-huge implies legacy memory, which --in-memory refuses: --no-shconf instead. */
	char *argv[] = {(char *)prog,
			"--no-huge",
			"--no-pci",
			"--no-shconf",
			"--no-telemetry",
			"-m",
			"256",
			"-l",
			"0",
			"--vdev",
			"net_null0",
			"--vdev",
			"net_null1",
			"--log-level=*:error",
			NULL};
	return rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0 ? -1 : 0;
}

/* Config, data plane, state, management. @p cli_socket "" for none. */
static int fixture_up(const char *cli_socket)
{
	struct dp_params p = {.n_workers = 1, .sessions_per_worker = 1024};
	struct cfg cfg;
	struct cp_args args = {0};
	struct cp_ctx ctx = {.args = &args, .cfg = &cfg};
	char err[512];

	if (cfg_load_string("fixture.yaml", fixture_yaml, strlen(fixture_yaml), &cfg, err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "fixture: %s\n", err);
		return -1;
	}
	snprintf(cfg.cli_socket, sizeof(cfg.cli_socket), "%s", cli_socket);
	p.cfg = &cfg;
	if (rte_eth_dev_get_port_by_name("net_null0", &p.port_id[DP_PORT_EXT]) ||
	    rte_eth_dev_get_port_by_name("net_null1", &p.port_id[DP_PORT_INT]) ||
	    dp_init(&p, err, sizeof(err)) < 0 || cp_modules_init(&ctx, err, sizeof(err)) < 0) {
		fprintf(stderr, "fixture: %s\n", err);
		return -1;
	}
	// Backends answer ARP: the pipeline sends to them instead of queueing for the slow path.
	for (uint32_t i = 0; i < 3; i++) {
		struct rte_ether_addr mac = {{0x02, 0xb0, 0, 0, 0, (uint8_t)(11 + i)}};
		neigh_update(rte_cpu_to_be_32((10u << 24) + 11 + i), DP_PORT_INT, &mac);
	}
	return 0;
}

static void fixture_down(void)
{
	cp_modules_fini();
	dp_fini();
}

/* cmocka group setup and teardown of a test that needs no CLI socket: the whole fixture. */
#define FIXTURE_GROUP(name)                                                                        \
	static int group_setup(void **state)                                                       \
	{                                                                                          \
		(void)state;                                                                       \
		return fixture_eal(name) < 0 ? -1 : fixture_up("");                                \
	}                                                                                          \
	static int group_teardown(void **state)                                                    \
	{                                                                                          \
		(void)state;                                                                       \
		fixture_down();                                                                    \
		rte_eal_cleanup();                                                                 \
		return 0;                                                                          \
	}

/* A first packet of a flow from 198.51.100.2:@p sport to the gateway, through worker 0. */
static void fixture_inject(uint16_t sport, uint16_t dport, uint8_t proto)
{
	struct dp_worker *w = dp_workers[0];
	struct tb_flow f = {.src = "198.51.100.2",
			    .dst = "198.51.100.1",
			    .sport = sport,
			    .dport = dport,
			    .proto = proto,
			    .tcp_flags = 0x02,
			    .payload_len = 10,
			    .dmac = dp_port_mac(DP_PORT_EXT)->addr_bytes};
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_mempool());
	uint8_t frame[256];
	size_t len = tb_frame(frame, &f);

	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	// The worker is not running: give it a clock, ten seconds ahead, so that a session's
	// idle time reads 0 however slowly the test runs.
	w->now = rte_rdtsc() + 10 * rte_get_tsc_hz();
	nat_process_burst(w, tables_get(), DP_PORT_EXT, &m, 1);
	for (int p = 0; p < DP_PORT_MAX; p++) {
		for (int i = 0; i < dp_tx_n(w, p); i++)
			rte_pktmbuf_free(w->tx[p][i]);
		dp_tx_reset(w, p);
	}
}

#endif
