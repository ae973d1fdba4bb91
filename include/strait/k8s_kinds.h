/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The kinds strait reads from the API server: where each is served (API group, version,
 * resource) and how it is named. Pure data, no dependencies: every other k8s file may use it.
 */
#ifndef STRAIT_K8S_KINDS_H
#define STRAIT_K8S_KINDS_H

#include <stdbool.h>

/**
 * The kinds strait reads, one row each (a new kind is one row here; a new source kind also
 * has its file cp/k8s_<source>.c defining its source row):
 *
 *   X(ID, kind, apiVersion, resource, group-resource for messages, path prefix,
 *     fallback prefix served instead when the prefix is 404 or NULL, its apiVersion or NULL,
 *     namespaced, label selector (URL-escaped) or NULL, source, keep)
 *
 * ID makes the enum value K8S_KIND_<ID>. source is the name of the kind's source row,
 * `k8s_source_<source>` (cp/k8s_source.h), when its objects are sources of mappings, or
 * `none` when they are only read. keep names what the informers keep of each object as they
 * decode it, `k8s_keep_<keep>` (a struct k8s_keep list, strait/k8s_json.h: an informer's
 * transform, as client-go's SetTransform()), or is `all`. The order is the enum's, the
 * informers' and the reconcile pass's.
 *
 * Pods: only StatefulSet pods matter, and every one carries the selector's label: it keeps a
 * big cluster's other pods off the wire. EndpointSlice: discovery.k8s.io/v1beta1 on <= 1.20.
 * StatefulSets are sources only when annotated, Services only when of type LoadBalancer and
 * strait's class (strait/k8s_reconcile.h); the Pod selector also catches the Pods that
 * operators such as Strimzi manage without a StatefulSet (they keep its labels). AddressPools
 * (cluster-scoped) are no source: they say which addresses sources may use (k8s_pools.h).
 * Gateway API (cp/k8s_gateway.h): Gateways are the sources of mappings (one per listener);
 * GatewayClasses and the routes are sources of status only (no mapping); TCPRoute/UDPRoute
 * gateway.networking.k8s.io/v1alpha2 where v1 is not served; Namespaces and ReferenceGrants
 * are read for allowedRoutes selectors and cross-namespace backendRefs.
 */
#define K8S_KINDS(X)                                                                               \
	X(MAPPING, "Mapping", "strait.io/v1alpha1", "mappings", "mappings.strait.io",              \
	  "/apis/strait.io/v1alpha1", NULL, NULL, true, NULL, mapping, all)                        \
	X(SERVICE, "Service", "v1", "services", "services", "/api/v1", NULL, NULL, true, NULL,     \
	  lbservice, all)                                                                          \
	X(ENDPOINTSLICE, "EndpointSlice", "discovery.k8s.io/v1", "endpointslices",                 \
	  "endpointslices.discovery.k8s.io", "/apis/discovery.k8s.io/v1",                          \
	  "/apis/discovery.k8s.io/v1beta1", "discovery.k8s.io/v1beta1", true,                      \
	  "kubernetes.io%2Fservice-name", none, endpointslice)                                     \
	X(STATEFULSET, "StatefulSet", "apps/v1", "statefulsets", "statefulsets.apps",              \
	  "/apis/apps/v1", NULL, NULL, true, NULL, statefulset, all)                               \
	X(VIRTUALSERVICE, "VirtualService", "l7mp.io/v1", "virtualservices",                       \
	  "virtualservices.l7mp.io", "/apis/l7mp.io/v1", NULL, NULL, true, NULL, virtualservice,   \
	  all)                                                                                     \
	X(POD, "Pod", "v1", "pods", "pods", "/api/v1", NULL, NULL, true,                           \
	  "statefulset.kubernetes.io%2Fpod-name", none, all)                                       \
	X(NODE, "Node", "v1", "nodes", "nodes", "/api/v1", NULL, NULL, false, NULL, none, all)     \
	X(ADDRESSPOOL, "AddressPool", "strait.io/v1alpha1", "addresspools",                        \
	  "addresspools.strait.io", "/apis/strait.io/v1alpha1", NULL, NULL, false, NULL, none,     \
	  all)                                                                                     \
	X(NAMESPACE, "Namespace", "v1", "namespaces", "namespaces", "/api/v1", NULL, NULL, false,  \
	  NULL, none, all)                                                                         \
	X(GATEWAYCLASS, "GatewayClass", "gateway.networking.k8s.io/v1", "gatewayclasses",          \
	  "gatewayclasses.gateway.networking.k8s.io", "/apis/gateway.networking.k8s.io/v1", NULL,  \
	  NULL, false, NULL, gatewayclass, all)                                                    \
	X(GATEWAY, "Gateway", "gateway.networking.k8s.io/v1", "gateways",                          \
	  "gateways.gateway.networking.k8s.io", "/apis/gateway.networking.k8s.io/v1", NULL, NULL,  \
	  true, NULL, gateway, all)                                                                \
	X(TCPROUTE, "TCPRoute", "gateway.networking.k8s.io/v1", "tcproutes",                       \
	  "tcproutes.gateway.networking.k8s.io", "/apis/gateway.networking.k8s.io/v1",             \
	  "/apis/gateway.networking.k8s.io/v1alpha2", "gateway.networking.k8s.io/v1alpha2", true,  \
	  NULL, tcproute, all)                                                                     \
	X(UDPROUTE, "UDPRoute", "gateway.networking.k8s.io/v1", "udproutes",                       \
	  "udproutes.gateway.networking.k8s.io", "/apis/gateway.networking.k8s.io/v1",             \
	  "/apis/gateway.networking.k8s.io/v1alpha2", "gateway.networking.k8s.io/v1alpha2", true,  \
	  NULL, udproute, all)                                                                     \
	X(REFERENCEGRANT, "ReferenceGrant", "gateway.networking.k8s.io/v1beta1",                   \
	  "referencegrants", "referencegrants.gateway.networking.k8s.io",                          \
	  "/apis/gateway.networking.k8s.io/v1beta1", NULL, NULL, true, NULL, none, all)

/** The kinds strait reads: K8S_KIND_MAPPING, K8S_KIND_SERVICE, ... in K8S_KINDS order. */
enum k8s_kind {
#define K8S_KIND_ENUM(id, ...) K8S_KIND_##id,
	K8S_KINDS(K8S_KIND_ENUM)
#undef K8S_KIND_ENUM
		K8S_KIND_MAX
};

/** Where a kind is served: its K8S_KINDS row, but the source and the keep. */
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

/**
 * The row of kind @p k (0 <= @p k < K8S_KIND_MAX; anything else is undefined behaviour).
 * @return a pointer to static data, never NULL. Any thread.
 */
const struct k8s_kind_info *k8s_kind_info(enum k8s_kind k);

/**
 * The kind of an object from its apiVersion and kind (manifests), accepting the fallback
 * version too. @return the kind, or -1 when strait does not read that kind. Any thread.
 */
int k8s_kind_of(const char *api_version, const char *kind);

#endif
