/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * strait [EAL args] -- [--config FILE] [--manifests DIR] [--kubeconfig FILE] [-i]
 *
 * The daemon: EAL and the command line, then the control plane's one init list (cp/module.c,
 * the order in enum cp_module_order), the control loop, and the list unwound in reverse.
 * This file registers the modules that only the daemon has: the config file, the data plane
 * (lcores, ports, dp_init()) and the workers (dp_start()). Exit codes (DESIGN §6): 0 clean
 * stop, 2 bad command line or config (an init hook's -EINVAL), 1 runtime failure.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include <strait/config.h>
#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/log.h>

#include "cp_priv.h"

#define EXIT_USAGE   2
#define EXIT_RUNTIME 1

static volatile sig_atomic_t reload;
static volatile sig_atomic_t stops; /**< SIGTERM and SIGINT received */

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else if (stops < 2)
		stops++;
}

/*
 * A stop asked by a signal. In ha mode bgp with ha.drainSeconds, the first one drains: not
 * ready (so that the mapping addresses come off the ext TAP at the next announcement poll and
 * BIRD withdraws them at once, rather than the router waiting for BFD to notice a dead
 * gateway), forwarding what still comes for that long; then, or at a second signal, stop.
 */
static void stop_poll(void)
{
	static uint64_t end;
	const struct cfg *c = cp_config();
	uint64_t now;

	if (stops == 0 || cp_quit)
		return;
	now = rte_get_timer_cycles();
	if (!cp_draining) {
		if (stops > 1 || c->ha_mode != CFG_HA_BGP || c->ha_drain_s == 0) {
			cp_request_quit();
			return;
		}
		cp_draining = 1;
		end = now + (uint64_t)c->ha_drain_s * rte_get_timer_hz();
		printf("strait: draining: withdrawing the mapping addresses, stopping in %u s "
		       "(a second signal stops at once)\n",
		       c->ha_drain_s);
		fflush(stdout);
		return;
	}
	if (stops > 1 || now >= end)
		cp_request_quit();
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: strait [EAL options] -- [--config FILE] [--manifests DIR]\n"
		"                                 [--kubeconfig FILE] [-i]\n"
		"       strait --help | --version\n"
		"  --config FILE      config file (default: the embedded config/strait.yaml)\n"
		"  --manifests DIR    read Kubernetes objects from YAML files (offline mode)\n"
		"  --kubeconfig FILE  watch the cluster of this kubeconfig\n"
		"  -i, --interactive  a testpmd-style prompt on stdin\n"
		"  -h, --help         this text, without starting anything\n"
		"  -V, --version      the version of strait, of DPDK and of its malloc\n"
		"EAL options (lcores, --vdev, -a, --no-huge, --file-prefix, ...) come before \"--\":\n"
		"  DPDK's linux_eal_parameters guide, or `strait --no-pci --no-huge --help --`\n"
		"  for EAL's own list.\n"
		"Exit status: 0 clean stop; 1 runtime failure; 2 bad command line or config (the\n"
		"message names the file, line and key).\n");
}

static void version(void)
{
	printf("strait %s (%s, malloc %s)\n", STRAIT_VERSION, rte_version(), STRAIT_MALLOC);
}

/*
 * --help and --version before anything else: EAL would take -h/--help as its own (and start
 * hugepages first), so they are answered without it when they come first or after "--".
 * @return 0 when answered (exit 0), 1 otherwise.
 */
static int early_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		bool after = false;
		for (int j = 1; j < i; j++)
			after |= strcmp(argv[j], "--") == 0;
		if (i > 1 && !after)
			continue; // an EAL option's turn: EAL answers its own --help
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			version();
			return 0;
		}
	}
	return 1;
}

/*
 * The port of an arm: a device EAL already has (--vdev, -a), or a vdev string in the config
 * ("net_af_xdp0,iface=eth1") or a PCI address that is probed here, so a config file alone can
 * describe a port.
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
	// A PCI address EAL has not probed (no -a for it: `device: {fromEnv: PCIDEVICE_...}`).
	if (!comma && strchr(name, ':') && rte_dev_probe(name) == 0 &&
	    rte_eth_dev_get_port_by_name(name, id) == 0)
		return 0;
	if (comma) {
		int ret = rte_dev_probe(p->device);
		if (ret == 0 && rte_eth_dev_get_port_by_name(name, id) == 0)
			return 0;
		fprintf(stderr, "strait: %s:%u: ports.%s.device: cannot probe \"%s\": %s\n",
			c->path, p->device_line, role, p->device,
			ret < 0 ? rte_strerror(-ret) : "no port");
		return -ENODEV;
	}
	fprintf(stderr,
		"strait: %s:%u: ports.%s.device: no DPDK port named \"%s\"; EAL has:", c->path,
		p->device_line, role, p->device);
	uint16_t pid;
	RTE_ETH_FOREACH_DEV(pid) {
		char other[RTE_ETH_NAME_MAX_LEN];
		if (rte_eth_dev_get_name_by_port(pid, other) == 0)
			fprintf(stderr, " %s", other);
	}
	fprintf(stderr, "%s (give it with --vdev or -a, or as a vdev string)\n",
		rte_eth_dev_count_avail() ? "" : " none");
	return -ENODEV;
}

/* ---- the daemon's own modules ------------------------------------------------------------ */

static struct {
	struct cfg cfg;
	struct dp_params dpp;
} d;

static int config_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	const struct cp_args *a = ctx->args;
	int ret;

	if (a->config)
		ret = cfg_load_file(a->config, &d.cfg, err, errlen);
	else
		ret = cfg_load_string("<embedded>", strait_default_config,
				      strlen(strait_default_config), &d.cfg, err, errlen);
	if (ret < 0)
		return -EINVAL;
	if (a->kubeconfig) {
		snprintf(d.cfg.k8s.kubeconfig, sizeof(d.cfg.k8s.kubeconfig), "%s", a->kubeconfig);
		d.cfg.k8s.enabled = true;
	}
	ctx->cfg = &d.cfg;
	return 0;
}

static void config_fini(void)
{
	cfg_free(&d.cfg);
}

static struct cp_module config_module = {
	.name = "config",
	.order = CP_MOD_CONFIG,
	.init = config_init,
	.fini = config_fini,
};
CP_MODULE_REGISTER(config_module)

/* Lcores and ports, then dp_init(). port_lookup() prints its own message (the ports EAL has). */
static int dataplane_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	struct cfg *cfg = ctx->cfg;
	unsigned int lcore, n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n < cfg->workers)
			d.dpp.worker_lcore[n] = lcore;
		n++;
	}
	if (n < cfg->workers) {
		snprintf(err, errlen,
			 "%s: workers: %u needs %u worker lcores, EAL has %u (e.g. -l 0-%u)",
			 cfg->path, cfg->workers, cfg->workers, n, cfg->workers);
		return -EINVAL;
	}
	if (port_lookup(cfg, &cfg->ext, "ext", &d.dpp.port_id[DP_PORT_EXT]) < 0 ||
	    port_lookup(cfg, &cfg->intl, "int", &d.dpp.port_id[DP_PORT_INT]) < 0)
		return -EINVAL;
	if (d.dpp.port_id[DP_PORT_EXT] == d.dpp.port_id[DP_PORT_INT]) {
		snprintf(err, errlen, "%s: ports.int.device: the same device as ports.ext",
			 cfg->path);
		return -EINVAL;
	}
	if (cfg->workers == 0) { // the loader bounds it to 1..CFG_MAX_WORKERS; a cfg is a struct
		snprintf(err, errlen, "%s: workers: 0 is out of range 1-%u", cfg->path,
			 CFG_MAX_WORKERS);
		return -EINVAL;
	}
	d.dpp.cfg = cfg;
	d.dpp.n_workers = cfg->workers;
	d.dpp.sessions_per_worker = (cfg->sessions_max + cfg->workers - 1) / cfg->workers;
	dp_slowpath_reset();
	int ret = dp_init(&d.dpp, err, errlen);
	if (ret == 0 && cfg->workers > 1)
		CP_LOG(INFO, "ports: int steering: %s; ext steering: %s",
		       dp_port_steering(DP_PORT_INT), dp_port_steering(DP_PORT_EXT));
	return ret;
}

static struct cp_module dataplane_module = {
	.name = "dataplane",
	.order = CP_MOD_DATAPLANE,
	.init = dataplane_init,
	.fini = dp_fini,
};
CP_MODULE_REGISTER(dataplane_module)

static int workers_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	RTE_SET_USED(ctx);
	if (dp_start() < 0) {
		snprintf(err, errlen, "cannot launch workers");
		return -ECHILD;
	}
	return 0;
}

static void workers_fini(void)
{
	dp_stop();
	printf("strait: stopping\n");
	cp_print_stats(stdout);
	fflush(stdout);
}

static struct cp_module workers_module = {
	.name = "workers",
	.order = CP_MOD_WORKERS,
	.init = workers_init,
	.fini = workers_fini,
};
CP_MODULE_REGISTER(workers_module)

/* SIGHUP: the config file's mappings, then the manifests directory, whatever the first did. */
static void on_sighup(void)
{
	char err[512];

	if (cp_modules_reload(true, err, sizeof(err)) < 0)
		CP_LOG(ERR, "reload: %s; keeping the running mappings", err);
	else
		CP_LOG(NOTICE, "reload: tables generation %lu", (unsigned long)cp_generation());
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"manifests", required_argument, NULL, 'm'},
		{"kubeconfig", required_argument, NULL, 'k'},
		{"interactive", no_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cp_args args = {0};
	struct cp_ctx ctx = {.args = &args};
	char err[512];
	int ret, opt;

	if (early_args(argc, argv) == 0)
		return 0;
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "strait: EAL: %s\n", rte_strerror(rte_errno));
		return EXIT_USAGE;
	}
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:m:k:ihV", opts, NULL)) != -1) {
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
		case 'V':
			version();
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

	// The one init list: config, data plane, state, snapshot, CLI, its socket, metrics,
	// Kubernetes, workers (enum cp_module_order). A failure unwinds what was done.
	ret = cp_modules_init(&ctx, err, sizeof(err));
	if (ret < 0) {
		if (err[0])
			fprintf(stderr, "strait: %s\n", err);
		rte_eal_cleanup();
		return ret == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("strait: ready: %u worker(s), %u mapping(s), tables generation %lu\n",
	       cp_config()->workers, cp_mapping_count(), (unsigned long)cp_generation());
	fflush(stdout);

	// The control loop: slow path, management, Kubernetes. Never blocks for long: the slow
	// path wants attention every millisecond or so.
	while (!cp_quit) {
		if (reload) {
			reload = 0;
			on_sighup();
		}
		unsigned int busy = dp_slowpath_poll();
		cp_modules_poll(busy ? 0 : 1);
		stop_poll();
	}
	cp_modules_fini();
	rte_eal_cleanup();
	return 0;
}
