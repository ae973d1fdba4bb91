/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The table of kinds strait reads: where each is served, and the reverse lookup that files
 * manifests by apiVersion and kind.
 */
#include <stddef.h>
#include <string.h>

#include <strait/k8s_kinds.h>

static const struct k8s_kind_info kinds[K8S_KIND_MAX] = {
	[K8S_KIND_MAPPING] = {"Mapping", "strait.io/v1alpha1", "mappings", "mappings.strait.io",
			      "/apis/strait.io/v1alpha1", NULL, NULL, true, NULL},
	[K8S_KIND_SERVICE] = {"Service", "v1", "services", "services", "/api/v1", NULL, NULL, true,
			      NULL},
	[K8S_KIND_ENDPOINTSLICE] = {"EndpointSlice", "discovery.k8s.io/v1", "endpointslices",
				    "endpointslices.discovery.k8s.io", "/apis/discovery.k8s.io/v1",
				    "/apis/discovery.k8s.io/v1beta1", "discovery.k8s.io/v1beta1",
				    true, "kubernetes.io%2Fservice-name"},
	[K8S_KIND_STATEFULSET] = {"StatefulSet", "apps/v1", "statefulsets", "statefulsets.apps",
				  "/apis/apps/v1", NULL, NULL, true, NULL},
	// Only StatefulSet pods matter, and every one carries this label: the selector keeps a
	// big cluster's other pods off the wire.
	[K8S_KIND_POD] = {"Pod", "v1", "pods", "pods", "/api/v1", NULL, NULL, true,
			  "statefulset.kubernetes.io%2Fpod-name"},
	[K8S_KIND_NODE] = {"Node", "v1", "nodes", "nodes", "/api/v1", NULL, NULL, false, NULL},
};

const struct k8s_kind_info *k8s_kind_info(enum k8s_kind k)
{
	return &kinds[k];
}

int k8s_kind_of(const char *api_version, const char *kind)
{
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		if (strcmp(kinds[k].kind, kind) != 0)
			continue;
		if (strcmp(kinds[k].api_version, api_version) == 0 ||
		    (kinds[k].fallback_api_version &&
		     strcmp(kinds[k].fallback_api_version, api_version) == 0))
			return k;
	}
	return -1;
}
