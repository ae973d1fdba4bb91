/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the port-mapper annotation (cp/k8s_statefulset.c,
 * k8s_portmap_parse()) and the per-pod mappings built from it (cp/k8s_perpod.c): the input
 * is the annotation's text on the recorded StatefulSet "kafka" (the first byte chooses which
 * of the three annotation keys carries it, and its replica count), parsed, then put in a
 * store with the recorded Pods, Services and Nodes and reconciled. Seeds: the annotations
 * of the recordings, config/examples and docs (tests/fuzz/corpus/portmap_fuzz).
 */
#include <errno.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>

#include "k8s_store_seed.h"

static struct k8s_store store;
static json_t *recorded[K8S_KIND_MAX];
static json_t *sts_template;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_seed(&store, recorded);
	sts_template = json_deep_copy(json_array_get(recorded[K8S_KIND_STATEFULSET], 0));
	FUZZ_CHECK(json_is_object(sts_template));
	json_object_del(json_object_get(sts_template, "metadata"), "annotations");
	// Only the fuzzed StatefulSet in its cache.
	json_t *none = json_array();
	unsigned int changed;
	FUZZ_CHECK(k8s_cache_replace(&store.c[K8S_KIND_STATEFULSET], none, &changed) == 0);
	json_decref(none);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {K8S_ANN_PORT_MAPPER, K8S_ANN_PSC, K8S_ANN_PSC_SPEC};
	struct k8s_portmap_spec spec;
	char err[K8S_MESSAGE_MAX];
	json_t *sts, *ann, *text;
	int rc;

	if (size < 1)
		return 0;
	sts = json_deep_copy(sts_template);
	ann = json_object();
	// json_stringn refuses invalid UTF-8, as the API server never sends it: then as bytes
	// escaped to Latin-1 would not be the same input; skip those.
	text = json_stringn((const char *)data + 1, size - 1);
	if (!sts || !ann || !text) {
		json_decref(sts);
		json_decref(ann);
		json_decref(text);
		return 0;
	}
	json_object_set_new(ann, keys[data[0] % 3], text);
	json_object_set_new(json_object_get(sts, "metadata"), "annotations", ann);
	json_object_set_new(json_object_get(sts, "spec"), "replicas",
			    json_integer((data[0] >> 2) % 8));
	err[0] = '\0';
	rc = k8s_portmap_parse(sts, &spec, err, sizeof(err));
	FUZZ_CHECK(rc == 1 || rc == -EINVAL);
	if (rc == 1)
		FUZZ_CHECK(spec.proto == IPPROTO_TCP || spec.proto == IPPROTO_UDP);
	else
		FUZZ_CHECK(strncmp(err, "annotation ", 11) == 0);
	FUZZ_CHECK(k8s_cache_apply(&store.c[K8S_KIND_STATEFULSET], K8S_UPD_ADDED, sts) == 1);
	fuzz_reconcile(&store);
	FUZZ_CHECK(k8s_cache_apply(&store.c[K8S_KIND_STATEFULSET], K8S_UPD_DELETED, sts) == 1);
	json_decref(sts);
	return 0;
}
