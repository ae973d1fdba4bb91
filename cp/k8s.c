/* SPDX-License-Identifier: BSD-3-Clause */
/* Kubernetes: not built yet. The config's `kubernetes.enabled` and --kubeconfig/--manifests
 * are refused rather than silently ignored. */
#include <errno.h>
#include <stdio.h>

#include <strait/cp.h>

#include "cp_priv.h"

int cp_k8s_init(const struct cp_args *a, char *err, size_t errlen)
{
	if (a->manifests || a->kubeconfig || cp_config()->k8s.enabled) {
		snprintf(err, errlen, "Kubernetes support is not built in this version");
		return -EINVAL;
	}
	return 0;
}

void cp_k8s_poll(void)
{
}

void cp_k8s_reload(void)
{
}

void cp_k8s_fini(void)
{
}

const char *cp_k8s_state(void)
{
	return "disabled";
}
