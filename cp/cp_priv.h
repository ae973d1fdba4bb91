/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane internals: the module list (cp/module.c), the Kubernetes hooks (cp/k8s.c),
 * the snapshot other threads read (cp/snapshot.c), telemetry and metrics. The views the
 * management interfaces render are in cp/view.h.
 */
#ifndef STRAIT_CP_PRIV_H
#define STRAIT_CP_PRIV_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include <strait/config.h>
#include <strait/tables.h>

#include "view.h"

/** The daemon's command line after the EAL arguments. */
struct cp_args {
	const char *config;	/**< --config FILE, or NULL for the embedded config */
	const char *manifests;	/**< --manifests DIR, or NULL */
	const char *kubeconfig; /**< --kubeconfig FILE, or NULL */
	bool interactive;	/**< -i */
};

/* ---- the module list (cp/module.c) ------------------------------------------------------- */

/**
 * The control plane's init order: cp_modules_init() runs the modules in this order and
 * cp_modules_fini() unwinds them in reverse. One module per place; main.c owns the config,
 * the data plane and the workers, the others are in the file named after them.
 */
enum cp_module_order {
	CP_MOD_CONFIG,	  /**< main.c: the config file (--config, or the embedded one) */
	CP_MOD_DATAPLANE, /**< main.c: lcores, ports, dp_init() */
	CP_MOD_STATE,	  /**< state.c: the desired state and the first tables */
	CP_MOD_KERNEL,	  /**< kernel_port.c: the kernel TAPs, their addresses (netlink) */
	CP_MOD_SYNC,	  /**< sync.c: session sync with the peer gateways (ha.sync) */
	CP_MOD_SNAPSHOT,  /**< snapshot.c: what telemetry and metrics read; refreshed every pass */
	CP_MOD_CLI,	  /**< cli.c: the command context */
	CP_MOD_MGMT,	  /**< mgmt.c: the CLI socket and the interactive prompt */
	CP_MOD_METRICS,	  /**< metrics.c: /metrics, /healthz, /readyz */
	CP_MOD_K8S,	  /**< k8s.c: Kubernetes (API or --manifests) */
	CP_MOD_WORKERS,	  /**< main.c: dp_start(); its fini stops them and prints the stats */
	CP_MOD_MAX,
};

/** What the modules' init hooks share. */
struct cp_ctx {
	const struct cp_args *args;
	/** the loaded config: CP_MOD_CONFIG fills it, CP_MOD_STATE takes its mappings */
	struct cfg *cfg;
};

/** A control-plane module. Every hook may be NULL. Control thread. */
struct cp_module {
	const char *name;
	enum cp_module_order order;
	/** @return 0 or -errno (-EINVAL: a bad setting, exit code 2), message in @p err. */
	int (*init)(struct cp_ctx *ctx, char *err, size_t errlen);
	/** Every control loop pass; may block up to @p wait_ms (only mgmt does: its poll()). */
	void (*poll)(int wait_ms);
	/** SIGHUP and `reload`: re-read its inputs. @return 0 or -errno with @p err. */
	int (*reload)(char *err, size_t errlen);
	/** Undo init; runs only after a successful init. */
	void (*fini)(void);
};

/** Register @p m (static storage) at its place. Constructors only, before main(). */
void cp_module_register(struct cp_module *m);
#define CP_MODULE_REGISTER(m)                                                                      \
	RTE_INIT(cp_module_register_##m)                                                           \
	{                                                                                          \
		cp_module_register(&m);                                                            \
	}

/** Run every registered module's init in order; on a failure, unwind the ones done.
 * @return 0, or the failing init's -errno with @p err. */
int cp_modules_init(struct cp_ctx *ctx, char *err, size_t errlen);
/** One control loop pass: every started module's poll hook, in order. Control thread. An
 * iteration of the whole loop (slow path and modules, from the end of the previous pass) of
 * 100 ms or more is counted and logged (WARNING, at most once a second) with its longest
 * step (cp_loop_step()). */
void cp_modules_poll(int wait_ms);
/** Forget the previous iteration and the last slow-iteration log: the loop was not running
 * (the time until the next cp_modules_poll() is not an iteration). Control thread. */
void cp_loop_restart(void);
/** Name the step of the control loop that begins now (a string constant), for the log of a
 * slow iteration: a module's poll hook names its own finer steps. Control thread. */
void cp_loop_step(const char *what);
/** The control loop's iterations of 100 ms or more since start (@p slow) and its longest
 * iteration (@p max_ns, nanoseconds, CLOCK_MONOTONIC). Any thread. */
void cp_loop_stats(uint64_t *slow, uint64_t *max_ns);
/** Every started module's reload hook, in order (SIGHUP: @p keep_going; `reload`: stop at the
 * first failure). @return 0 or the first failure's -errno, message in @p err. */
int cp_modules_reload(bool keep_going, char *err, size_t errlen);
/** Every started module's fini hook, in reverse order. */
void cp_modules_fini(void);

/** Set by cp_request_quit() (the `quit` command, end of input on the prompt) and by the
 * daemon's signal handlers; the control loop runs while it is 0. */
extern volatile sig_atomic_t cp_quit;
/** Ask the control loop to stop. Async-signal-safe. */
void cp_request_quit(void);
/** Set while a stop drains (ha.drainSeconds): /readyz answers not ready ("draining") and ha
 *  mode bgp withdraws the mapping addresses, the workers still forward. Control thread sets,
 *  any thread reads. */
extern volatile sig_atomic_t cp_draining;

/* ---- Kubernetes (cp/k8s.c) ----------------------------------------------------------------- */

/** Start watching per the config / --kubeconfig / --manifests.
 * @return 0 (also when Kubernetes is not enabled), -EINVAL with @p err on a bad setting. */
int cp_k8s_init(const struct cp_args *a, char *err, size_t errlen);
/** Apply what the Kubernetes side has learned since the last call. Never blocks. */
void cp_k8s_poll(void);
/** SIGHUP: re-read the --manifests directory. */
void cp_k8s_reload(void);
void cp_k8s_fini(void);
/** Kubernetes sync state for metrics, /readyz and `show config`: "disabled", "syncing",
 * "synced" or "error" (static strings: compare pointers to see a change). Control thread. */
const char *cp_k8s_state(void);

/* ---- the snapshot for the telemetry and metrics threads (cp/snapshot.c) ------------------ */

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
	uint64_t generation;   /**< tables generation the mapping list belongs to */
	const char *k8s_state; /**< cp_k8s_state() */
	bool k8s_enabled;
	unsigned int n_mappings;
	struct cp_view_mapping *maps;		/**< the desired state's mappings, in its order */
	struct cp_snap_port ports[DP_PORT_MAX]; /**< refreshed every second */
	unsigned int n_workers;
	unsigned int lcore[CFG_MAX_WORKERS];
	double busy_ratio[CFG_MAX_WORKERS]; /**< busy/total cycles over the last second */
	uint64_t refreshed_ns; /**< CLOCK_MONOTONIC of the last refresh: the liveness beat */
};

/** Control thread, every loop: rebuild what changed; ports and workers once a second; answer
 * the pending cp_snap_sessions() query. */
void cp_snap_update(void);
/**
 * Any thread: read-lock the snapshot. @return it, or NULL before the first update and after
 * cp_snap_fini(). While held, the data plane's counters may be read too (never the tables:
 * they are freed after a grace period that waits for the workers only). Pair a non-NULL
 * return with cp_snap_put().
 */
const struct cp_snap *cp_snap_get(void);
void cp_snap_put(void);
/**
 * Any thread but the control thread, without the read lock: ask the control thread for the
 * live sessions of mapping slot @p slot (-1: all) as views, the first @p limit into @p rows,
 * and wait for its next loop pass (at most CP_SNAP_QUERY_TIMEOUT_MS).
 * @param shown receives the number of rows written (<= @p limit).
 * @param total receives the number of sessions that matched.
 * @return 0; -ENODEV before the first update and after cp_snap_fini(); -ETIMEDOUT when the
 *         control loop did not answer in time.
 */
#define CP_SNAP_QUERY_TIMEOUT_MS 2000
int cp_snap_sessions(int slot, unsigned int limit, struct cp_view_session *rows,
		     unsigned int *shown, uint64_t *total);
/** Stop readers; must run before dp_fini(). */
void cp_snap_fini(void);
/** CLOCK_MONOTONIC now, in ns. Any thread. */
uint64_t cp_snap_now_ns(void);
/** The snapshot mapping named "NAME" or "NAMESPACE/NAME" in @p s; NULL when there is none or
 * NAME alone is ambiguous. Any thread holding the snapshot. */
const struct cp_view_mapping *cp_snap_mapping_find(const struct cp_snap *s, const char *arg);

/* ---- telemetry (cp/telemetry.c) ------------------------------------------------------------ */

/**
 * Register a /strait/... command on DPDK's telemetry socket (rte_telemetry_register_cmd()).
 * @p path and @p help (under 128 bytes: 22.11's limit) must be static strings. The handler
 * runs on the telemetry thread: it reads only the snapshot (cp_snap_get()) and the workers'
 * counters while holding it. Constructors (RTE_INIT), at most CP_TELEMETRY_MAX_CMDS in all.
 */
#define CP_TELEMETRY_MAX_CMDS 32
void cp_telemetry_register(const char *path, telemetry_cb fn, const char *help);
/** A new telemetry dict (rte_tel_data_alloc() + start_dict), or NULL on ENOMEM. Any thread. */
struct rte_tel_data *cp_tel_dict(void);
/** Run the /strait/... telemetry command @p path as the telemetry socket does (tests).
 * @return the handler's result, or -ENOENT for an unknown path. Any thread. */
int cp_telemetry_call(const char *path, const char *params, struct rte_tel_data *d);

/* ---- metrics (cp/metrics.c) ------------------------------------------------------------ */

/**
 * Add a module's families to the /metrics page: @p render writes them (HELP, TYPE, samples)
 * to @p f, from the snapshot it is given (held for it) and the workers' counters. It runs on
 * the metrics thread. Constructors (RTE_INIT), at most CP_METRICS_MAX_RENDERERS.
 */
#define CP_METRICS_MAX_RENDERERS 16
void cp_metrics_register(void (*render)(FILE *f, const struct cp_snap *snap));
/** "# HELP name help" and "# TYPE name type" (counter, gauge). Any thread. */
void cp_metrics_family(FILE *f, const char *name, const char *type, const char *help);
/** A label value with backslash, double quote and newline escaped (format 0.0.4). */
void cp_metrics_label_value(FILE *f, const char *v);
/** Write the Prometheus text exposition (format 0.0.4) to @p f. @return 0 or -ENODEV
 * (no snapshot), -ENOMEM. Any thread. */
int cp_metrics_render(FILE *f);
/** Readiness for /readyz: @return true when ready; otherwise @p why says why. Any thread. */
bool cp_metrics_ready(char *why, size_t len);
/** Serve /metrics, /healthz and /readyz on "host:port" (libmicrohttpd thread).
 * @return 0, -EINVAL (bad address, message in err), or -errno of the listen. Control thread. */
int cp_metrics_start(const char *listen, char *err, size_t errlen);
void cp_metrics_stop(void);

#endif
