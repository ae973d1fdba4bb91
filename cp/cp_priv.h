/* SPDX-License-Identifier: BSD-3-Clause */
/* Control-plane internals shared by main.c and the management modules. */
#ifndef STRAIT_CP_PRIV_H
#define STRAIT_CP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ethdev.h>

#include <strait/config.h>
#include <strait/tables.h>

struct cp_args {
	const char *config;
	const char *manifests;
	const char *kubeconfig;
	bool interactive;
};

/** Start management (CLI socket, interactive prompt, telemetry, metrics) and Kubernetes.
 * @return 0, -EINVAL (bad setting, message in err), or -errno. */
int cp_mgmt_init(const struct cp_args *a, char *err, size_t errlen);
/** One pass over management and Kubernetes inputs; waits up to @p wait_ms when idle. */
void cp_mgmt_poll(int wait_ms);
void cp_mgmt_fini(void);
/** Kubernetes (cp/k8s*.c): start watching per the config / --kubeconfig / --manifests.
 * @return 0 (also when Kubernetes is not enabled), -EINVAL with @p err on a bad setting. */
int cp_k8s_init(const struct cp_args *a, char *err, size_t errlen);
/** Apply what the Kubernetes side has learned since the last call. Never blocks. */
void cp_k8s_poll(void);
/** SIGHUP: re-read the --manifests directory. */
void cp_k8s_reload(void);
void cp_k8s_fini(void);
/** Kubernetes sync state for metrics, /readyz and `show config`: "disabled", "syncing",
 * "synced" or "error". */
const char *cp_k8s_state(void);

/** SIGHUP: reload the config file's mappings (and the manifests directory). */
void cp_on_sighup(void);
/** Ask the control loop to stop (the `quit` command). Defined by the daemon's main.c. */
void cp_request_quit(void);

/* ---- snapshot for the telemetry and metrics threads (cp/snapshot.c) ---------------------- */

/** A mapping as other threads see it: labels and the counter slot. */
struct cp_snap_mapping {
	char name[CFG_NAME_MAX];
	char ns[CFG_NAME_MAX];
	uint16_t slot; /**< index into dp_stats.map */
	int32_t ordinal; /**< -1 = none */
	uint8_t source; /**< enum cp_source */
	char ports[128]; /**< external ports, "8080" or "30000-30099", comma-joined */
	char protocol[12]; /**< "tcp", "udp" or "tcp,udp" */
};

/** A port's ethdev figures, read on the control thread. */
struct cp_snap_port {
	char role[4]; /**< "ext" or "int" */
	char device[CFG_PATH_MAX];
	uint16_t port_id;
	bool valid; /**< rte_eth_stats_get() succeeded */
	bool link_up;
	uint32_t speed_mbps;
	struct rte_eth_stats stats;
};

/** What threads other than the control thread may read. See cp/snapshot.c. */
struct cp_snap {
	uint64_t generation; /**< tables generation the mapping list belongs to */
	const char *k8s_state; /**< cp_k8s_state() */
	bool k8s_enabled;
	unsigned int n_mappings;
	struct cp_snap_mapping *maps;
	struct cp_snap_port ports[DP_PORT_MAX]; /**< refreshed every second */
	unsigned int n_workers;
	unsigned int lcore[CFG_MAX_WORKERS];
	double busy_ratio[CFG_MAX_WORKERS]; /**< busy/total cycles over the last second */
	uint64_t refreshed_ns; /**< CLOCK_MONOTONIC of the last refresh: the liveness beat */
};

/** Control thread, every loop: rebuild what changed; ports and workers once a second. */
void cp_snap_update(void);
/**
 * Any thread: read-lock the snapshot. @return it, or NULL before the first update and after
 * cp_snap_fini(). While held, the data plane's counters and sessions may be read too.
 * Pair a non-NULL return with cp_snap_put().
 */
const struct cp_snap *cp_snap_get(void);
void cp_snap_put(void);
/** Busy ratio (0..1) of worker @p i over the last second. Control thread. */
double cp_snap_busy_ratio(unsigned int worker);
/** Stop readers; must run before dp_fini(). */
void cp_snap_fini(void);
/** CLOCK_MONOTONIC now, in ns. */
uint64_t cp_snap_now_ns(void);

/* ---- telemetry (cp/telemetry.c) -------------------------------------------------------- */

struct rte_tel_data;
/** Run the /strait/... telemetry command @p path as the telemetry socket does (tests).
 * @return the handler's result, or -ENOENT for an unknown path. Any thread. */
int cp_telemetry_call(const char *path, const char *params, struct rte_tel_data *d);

/* ---- metrics (cp/metrics.c) ------------------------------------------------------------ */

/** Write the Prometheus text exposition (format 0.0.4) to @p f. @return 0 or -ENODEV
 * (no snapshot). Any thread. */
int cp_metrics_render(FILE *f);
/** Readiness for /readyz: @return true when ready; otherwise @p why says why. Any thread. */
bool cp_metrics_ready(char *why, size_t len);
/** Serve /metrics, /healthz and /readyz on "host:port" (libmicrohttpd thread).
 * @return 0, -EINVAL (bad address, message in err), or -errno of the listen. */
int cp_metrics_start(const char *listen, char *err, size_t errlen);
void cp_metrics_stop(void);

#endif
