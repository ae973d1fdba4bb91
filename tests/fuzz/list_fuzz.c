/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for a list response (cp/k8s_stream.c, k8s_list_decode()) and what the
 * control thread does with it (cp/k8s.c on K8S_UPD_RELIST): the page replaces the cache of
 * one kind (k8s_cache_replace(); the first input byte chooses which), the store, filled
 * with the recorded lists of the other kinds, is reconciled, and the kind's recorded list
 * is put back. Seeds: the recorded lists and error bodies of tests/data/k8s-wire.
 */
#include <errno.h>

#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>

#include "k8s_source.h"
#include "k8s_store_seed.h"

static struct k8s_store store;
static json_t *recorded[K8S_KIND_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_seed(&store, recorded);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char rv[64], cont[64];
	unsigned int changed;
	json_t *items = NULL;
	char *body;
	int kind, rc;

	if (size < 1)
		return 0;
	kind = data[0] % K8S_KIND_MAX;
	body = malloc(size - 1 ? size - 1 : 1); // exact size: no NUL after the body
	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	memset(rv, 'x', sizeof(rv));
	memset(cont, 'x', sizeof(cont));
	// As the informer of that kind decodes (EndpointSlices: with the keep).
	rc = k8s_list_decode(body, size - 1, k8s_keep_of((enum k8s_kind)kind), &items, rv,
			     sizeof(rv), cont, sizeof(cont));
	free(body);
	if (rc != 0) {
		FUZZ_CHECK(rc == -EBADMSG || rc == -ENOMEM);
		FUZZ_CHECK(items == NULL);
		return 0;
	}
	FUZZ_CHECK(json_is_array(items));
	FUZZ_CHECK(memchr(rv, '\0', sizeof(rv)) && memchr(cont, '\0', sizeof(cont)));
	// The decoder left managedFields out.
	for (size_t i = 0; i < json_array_size(items); i++)
		FUZZ_CHECK(!k8s_get(json_array_get(items, i), "metadata", "managedFields", NULL));
	FUZZ_CHECK(k8s_cache_replace(&store.c[kind], items, &changed) == 0);
	json_decref(items);
	fuzz_reconcile(&store);
	FUZZ_CHECK(k8s_cache_replace(&store.c[kind], recorded[kind], &changed) == 0);
	return 0;
}
