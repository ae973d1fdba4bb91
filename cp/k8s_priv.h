/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the reconcilers (k8s_reconcile.c drives k8s_mapping.c, k8s_service.c and
 * k8s_statefulset.c): the desired state under construction. */
#ifndef STRAIT_K8S_PRIV_H
#define STRAIT_K8S_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/config.h>
#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>

/** The desired state being built: mappings are appended, results were sized up front. */
struct k8s_build {
	const struct k8s_store *s;
	const struct k8s_reconcile_params *p;
	struct cfg_mapping *maps;
	unsigned int n_maps, cap_maps;
	struct k8s_result *res;
	unsigned int n_res, cap_res;
};

/** Append a zeroed mapping (ordinal -1); @return its index, or -ENOMEM. Pointers into
 * b->maps are invalidated. */
int k8s_build_map(struct k8s_build *b);

/** Set a mapping's backends (copied). @return 0 or -ENOMEM. */
int k8s_map_set_backends(struct cfg_mapping *m, const struct cfg_backend *be, unsigned int n);

/** Mark @p r not valid with a CamelCase @p reason and a message. @return 0 (for chaining). */
int k8s_result_fail(struct k8s_result *r, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Append an advertised entry. @p ordinal < 0 and @p pod NULL when not per pod. */
int k8s_result_advertise(struct k8s_result *r, const char *name, const char *pod, int32_t ordinal,
			 uint32_t addr, uint16_t port, uint16_t end_port, uint8_t proto);

/** "tcp" or "udp". */
const char *k8s_proto_name(uint8_t proto);

/** Mode service: resolve the Service, its ports and endpoints (k8s_service.c). */
int k8s_service_build(struct k8s_build *b, struct k8s_result *r, const struct cfg_mapping *tmpl);

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

/** Mode perPod and annotations: ordinals → ports → pods (k8s_statefulset.c). */
int k8s_perpod_build(struct k8s_build *b, struct k8s_result *r, const struct k8s_perpod *pp);

/** A Mapping (k8s_mapping.c). */
int k8s_mapping_reconcile(struct k8s_build *b, struct k8s_result *r, const json_t *obj);

/** A StatefulSet with a port-mapper annotation (k8s_statefulset.c). */
int k8s_statefulset_reconcile(struct k8s_build *b, struct k8s_result *r, const json_t *sts);

/** Whether an EndpointSlice/Pod address is an IPv4 address; @p addr host order. */
bool k8s_ipv4(const char *s, uint32_t *addr);

#endif
