/* SPDX-License-Identifier: BSD-3-Clause */
/* Control-plane internals shared by main.c and the management modules. */
#ifndef STRAIT_CP_PRIV_H
#define STRAIT_CP_PRIV_H

#include <stdbool.h>
#include <stddef.h>

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
/** Ask the control loop to stop (the `quit` command). */
void cp_request_quit(void);

#endif
