/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building block of the source kinds: one port per StatefulSet ordinal (k8s_perpod.c).
 */
#ifndef STRAIT_K8S_PERPOD_H
#define STRAIT_K8S_PERPOD_H

#include <stdbool.h>
#include <stdint.h>

#include <strait/config.h>

#include "k8s_build.h"

/** What a perPod source asks for: a Mapping in mode perPod or an annotated StatefulSet. */
struct k8s_perpod {
	const struct cfg_mapping *tmpl; /**< ns, addrs, allow-list, nat, timeouts */
	const char *sts_name;
	const char *map_prefix; /**< mapping names: prefix + ordinal, prefix + "bootstrap" */
	bool name_is_pod;	/**< advertise the pod's name, not the mapping's */
	uint16_t start_port, target_port, bootstrap_port; /**< target 0 = first container port */
	uint8_t proto;
	const char *invalid_reason; /**< reason for bad input: InvalidSpec or InvalidAnnotation */
};

/**
 * Ordinals → ports → pods: one mapping per ordinal of StatefulSet @p pp->sts_name in
 * [spec.ordinals.start, + spec.replicas), plus the bootstrap mapping when asked for. Without
 * such a StatefulSet: one per ordinal of the Pods labelled
 * statefulset.kubernetes.io/pod-name=<sts_name>-<n> that no StatefulSet controls (Strimzi).
 * @return 0 (@p r failed when neither exists, or a port is missing) or -ENOMEM.
 */
int k8s_perpod_build(struct k8s_build *b, struct k8s_result *r, const struct k8s_perpod *pp);

/**
 * The set Pod @p pod can belong to, "namespace/set" into @p k (@p size bytes): its
 * controlling StatefulSet, else the "<set>" of its pod-name label "<set>-<digits>"; "" for
 * none. The key of k8s_build_dep(K8S_KIND_POD) (the incremental reconcile's Pod groups).
 */
void k8s_perpod_set_key(const json_t *pod, char *k, size_t size);

#endif
