/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The kinds strait reads from the API server: where each is served (API group, version,
 * resource) and how it is named. Pure data, no dependencies: every other k8s file may use it.
 */
#ifndef STRAIT_K8S_KINDS_H
#define STRAIT_K8S_KINDS_H

#include <stdbool.h>

/** The kinds strait reads. */
enum k8s_kind {
	K8S_KIND_MAPPING = 0,	/**< strait.io/v1alpha1 Mapping */
	K8S_KIND_SERVICE,	/**< v1 Service */
	K8S_KIND_ENDPOINTSLICE, /**< discovery.k8s.io/v1 EndpointSlice (v1beta1 on <= 1.20) */
	K8S_KIND_STATEFULSET,	/**< apps/v1 StatefulSet */
	K8S_KIND_POD,		/**< v1 Pod (only those of a StatefulSet: label selector) */
	K8S_KIND_NODE,		/**< v1 Node (cluster-scoped) */
	K8S_KIND_MAX
};

/** Where a kind is served. */
struct k8s_kind_info {
	const char *kind;	     /**< "Mapping" */
	const char *api_version;     /**< "strait.io/v1alpha1" */
	const char *resource;	     /**< "mappings": the URL's plural */
	const char *gr;		     /**< for messages: "mappings.strait.io" */
	const char *prefix;	     /**< "/apis/strait.io/v1alpha1" */
	const char *fallback_prefix; /**< served instead when @p prefix is 404, or NULL */
	const char *fallback_api_version;
	bool namespaced;
	const char *label_selector; /**< URL-escaped, or NULL */
};

/** The table of kinds. */
const struct k8s_kind_info *k8s_kind_info(enum k8s_kind k);

/**
 * The kind of an object from its apiVersion and kind (manifests), accepting the fallback
 * version too. @return the kind, or -1 when strait does not read that kind.
 */
int k8s_kind_of(const char *api_version, const char *kind);

#endif
