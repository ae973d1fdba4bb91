/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for YAML → JSON (cp/k8s_yaml.c, k8s_yaml_to_json()), the reader of
 * manifests and kubeconfigs: any bytes give an array of documents that serialise back to
 * JSON, or -EINVAL with a message naming the file. Seeds: config/ and the manifests of
 * config/examples and config/deploy (tests/fuzz/corpus/k8s_yaml_fuzz).
 */
#include <errno.h>

#include <strait/k8s_manifests.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL, *d;
	char err[512];
	size_t i;
	int rc;

	err[0] = '\0';
	rc = k8s_yaml_to_json("fuzz.yaml", (const char *)data, size, &docs, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_CHECK(rc == -ENOMEM || strncmp(err, "fuzz.yaml", 9) == 0);
		FUZZ_CHECK(docs == NULL);
		return 0;
	}
	FUZZ_CHECK(json_is_array(docs));
	json_array_foreach(docs, i, d) {
		// Every document is a JSON value: it serialises (no NaN, no cycle).
		char *s = json_dumps(d, JSON_ENCODE_ANY | JSON_COMPACT);
		FUZZ_CHECK(s != NULL);
		free(s);
	}
	json_decref(docs);
	return 0;
}
