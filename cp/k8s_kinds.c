/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The table of kinds strait reads, from the K8S_KINDS rows: where each is served, and the
 * reverse lookup that files manifests by apiVersion and kind.
 */
#include <stddef.h>
#include <string.h>

#include <strait/k8s_kinds.h>

static const struct k8s_kind_info kinds[K8S_KIND_MAX] = {
#define KIND_INFO(id, kind, av, res, gr, prefix, fb_prefix, fb_av, namespaced, selector, source,   \
		  keep)                                                                            \
	[K8S_KIND_##id] = {kind, av, res, gr, prefix, fb_prefix, fb_av, namespaced, selector},
	K8S_KINDS(KIND_INFO)
#undef KIND_INFO
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
