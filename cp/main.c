/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * strait [EAL args] -- [--config FILE] [--manifests DIR] [--kubeconfig FILE] [-i]
 *
 * One ordered init list, unwound with goto on failure (DPVS). Exit codes (DESIGN §6):
 * 0 clean stop, 2 bad command line or config, 1 runtime failure.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <strait/config.h>
#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/log.h>

#include "cp_priv.h"

#define EXIT_USAGE 2
#define EXIT_RUNTIME 1

static volatile sig_atomic_t quit, reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		quit = 1;
}

void cp_request_quit(void)
{
	quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: strait [EAL options] -- [--config FILE] [--manifests DIR]\n"
		   "                                 [--kubeconfig FILE] [-i]\n"
		   "  --config FILE      config file (default: the embedded config/strait.yaml)\n"
		   "  --manifests DIR    read Kubernetes objects from YAML files (offline mode)\n"
		   "  --kubeconfig FILE  watch the cluster of this kubeconfig\n"
		   "  -i, --interactive  a testpmd-style prompt on stdin\n");
}

/*
 * The port of an arm: a device EAL already has (--vdev, -a), or a vdev string in the config
 * ("net_af_xdp0,iface=eth1") that is probed here, so a config file alone can describe a port.
 */
static int port_lookup(const struct cfg *c, const struct cfg_port *p, const char *role,
		       uint16_t *id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	const char *comma = strchr(p->device, ',');
	size_t n = comma ? (size_t)(comma - p->device) : strlen(p->device);

	snprintf(name, sizeof(name), "%.*s", (int)n, p->device);
	if (rte_eth_dev_get_port_by_name(name, id) == 0)
		return 0;
	if (comma) {
		int ret = rte_dev_probe(p->device);
		if (ret == 0 && rte_eth_dev_get_port_by_name(name, id) == 0)
			return 0;
		fprintf(stderr, "strait: %s:%u: ports.%s.device: cannot probe \"%s\": %s\n", c->path,
			p->device_line, role, p->device, ret < 0 ? rte_strerror(-ret) : "no port");
		return -ENODEV;
	}
	fprintf(stderr, "strait: %s:%u: ports.%s.device: no DPDK port named \"%s\"; EAL has:",
		c->path, p->device_line, role, p->device);
	uint16_t pid;
	RTE_ETH_FOREACH_DEV(pid)
	{
		char other[RTE_ETH_NAME_MAX_LEN];
		if (rte_eth_dev_get_name_by_port(pid, other) == 0)
			fprintf(stderr, " %s", other);
	}
	fprintf(stderr, "%s (give it with --vdev or -a, or as a vdev string)\n",
		rte_eth_dev_count_avail() ? "" : " none");
	return -ENODEV;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"manifests", required_argument, NULL, 'm'},
		{"kubeconfig", required_argument, NULL, 'k'},
		{"interactive", no_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cp_args args = {0};
	struct dp_params dpp = {0};
	struct cfg cfg;
	char err[512];
	int ret, opt, code = EXIT_RUNTIME;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "strait: EAL: %s\n", rte_strerror(rte_errno));
		return EXIT_USAGE;
	}
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:m:k:ih", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			args.config = optarg;
			break;
		case 'm':
			args.manifests = optarg;
			break;
		case 'k':
			args.kubeconfig = optarg;
			break;
		case 'i':
			args.interactive = true;
			break;
		case 'h':
			usage(stdout);
			rte_eal_cleanup();
			return 0;
		default:
			usage(stderr);
			rte_eal_cleanup();
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "strait: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		rte_eal_cleanup();
		return EXIT_USAGE;
	}

	// 1. config
	if (args.config)
		ret = cfg_load_file(args.config, &cfg, err, sizeof(err));
	else
		ret = cfg_load_string("<embedded>", strait_default_config,
				      strlen(strait_default_config), &cfg, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "strait: %s\n", err);
		rte_eal_cleanup();
		return EXIT_USAGE;
	}
	if (args.kubeconfig) {
		snprintf(cfg.k8s.kubeconfig, sizeof(cfg.k8s.kubeconfig), "%s", args.kubeconfig);
		cfg.k8s.enabled = true;
	}

	// 2. lcores and ports
	unsigned int lcore, n = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (n < cfg.workers)
			dpp.worker_lcore[n] = lcore;
		n++;
	}
	if (n < cfg.workers) {
		fprintf(stderr,
			"strait: %s: workers: %u needs %u worker lcores, EAL has %u (e.g. -l 0-%u)\n",
			cfg.path, cfg.workers, cfg.workers, n, cfg.workers);
		code = EXIT_USAGE;
		goto err_cfg;
	}
	if (port_lookup(&cfg, &cfg.ext, "ext", &dpp.port_id[DP_PORT_EXT]) < 0 ||
	    port_lookup(&cfg, &cfg.intl, "int", &dpp.port_id[DP_PORT_INT]) < 0) {
		code = EXIT_USAGE;
		goto err_cfg;
	}
	if (dpp.port_id[DP_PORT_EXT] == dpp.port_id[DP_PORT_INT]) {
		fprintf(stderr, "strait: %s: ports.int.device: the same device as ports.ext\n",
			cfg.path);
		code = EXIT_USAGE;
		goto err_cfg;
	}
	dpp.cfg = &cfg;
	dpp.n_workers = cfg.workers;
	dpp.sessions_per_worker = (cfg.sessions_max + cfg.workers - 1) / cfg.workers;

	// 3. data plane
	ret = dp_init(&dpp, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "strait: %s\n", err);
		code = ret == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		goto err_dp;
	}

	// 4. desired state → first tables (the config's mappings are checked for conflicts here)
	ret = cp_state_init(&cfg, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "strait: %s: %s\n", cp_config()->path, err);
		code = ret == -EINVAL || ret == -EEXIST ? EXIT_USAGE : EXIT_RUNTIME;
		goto err_state;
	}

	// 5. management and Kubernetes
	ret = cp_mgmt_init(&args, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "strait: %s\n", err);
		code = ret == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		goto err_mgmt;
	}

	// 6. workers
	if (dp_start() < 0) {
		fprintf(stderr, "strait: cannot launch workers\n");
		goto err_start;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("strait: ready: %u worker(s), %u mapping(s), tables generation %lu\n", cfg.workers,
	       cp_mapping_count(), (unsigned long)cp_generation());
	fflush(stdout);

	// The control loop: slow path, management, Kubernetes. Never blocks for long: the slow
	// path wants attention every millisecond or so.
	while (!quit) {
		if (reload) {
			reload = 0;
			cp_on_sighup();
		}
		unsigned int busy = dp_slowpath_poll();
		cp_mgmt_poll(busy ? 0 : 1);
	}
	code = 0;

	dp_stop();
	printf("strait: stopping\n");
	cp_print_stats(stdout);
	fflush(stdout);
err_start:
	cp_mgmt_fini();
err_mgmt:
	cp_state_fini();
err_state:
err_dp:
	dp_fini();
err_cfg:
	cfg_free(&cfg);
	rte_eal_cleanup();
	return code;
}
