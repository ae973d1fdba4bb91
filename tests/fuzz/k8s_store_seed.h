/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A store filled from the recorded list responses of tests/data/k8s-wire (one per kind), as
 * the informers leave it after their first lists: the background against which a fuzzed
 * list or StatefulSet is reconciled.
 */
#ifndef STRAIT_FUZZ_K8S_STORE_SEED_H
#define STRAIT_FUZZ_K8S_STORE_SEED_H

#include <strait/k8s_stream.h>

#include "k8s_fuzz.h"

static const char *const fuzz_wire_lists[K8S_KIND_MAX] = {
	[K8S_KIND_MAPPING] = "mappings-list.json",
	[K8S_KIND_SERVICE] = "services-list.json",
	[K8S_KIND_ENDPOINTSLICE] = "endpointslices-v1beta1-list.json",
	[K8S_KIND_STATEFULSET] = "statefulsets-list.json",
	[K8S_KIND_POD] = "pods-list.json",
	[K8S_KIND_NODE] = "nodes-list.json",
};

/* Fill @p s from the recordings; @p items receives each kind's list (a new reference). */
static inline void fuzz_store_seed(struct k8s_store *s, json_t *items[K8S_KIND_MAX])
{
	FUZZ_CHECK(k8s_store_init(s) == 0);
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		char rv[128], cont[2048];
		unsigned int changed;
		size_t len;

		if (!fuzz_wire_lists[k]) { // no recording (AddressPool): an empty list
			items[k] = json_array();
			FUZZ_CHECK(k8s_cache_replace(&s->c[k], items[k], &changed) == 0);
			continue;
		}
		char *body = fuzz_wire_file(fuzz_wire_lists[k], &len);

		FUZZ_CHECK(k8s_list_decode(body, len, NULL, &items[k], rv, sizeof(rv), cont,
					   sizeof(cont)) == 0);
		FUZZ_CHECK(k8s_cache_replace(&s->c[k], items[k], &changed) == 0);
		free(body);
	}
}

#endif
