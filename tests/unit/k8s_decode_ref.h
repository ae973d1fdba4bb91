/* SPDX-License-Identifier: BSD-3-Clause */
/* What k8s_json_decode()'s options mean, applied to a tree json_loadb() made: the references
 * k8s_decode_test.c and json_decode_fuzz.c compare the decoder with. */
#ifndef STRAIT_K8S_DECODE_REF_H
#define STRAIT_K8S_DECODE_REF_H

#include <stdbool.h>
#include <string.h>

#include <strait/k8s_json.h>

/* Remove metadata.managedFields from every object of @p v that has metadata. */
static inline void strip(json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;

	if (json_is_array(v))
		json_array_foreach(v, i, m)
			strip(m);
	if (!json_is_object(v))
		return;
	json_object_del(json_object_get(v, "metadata"), "managedFields");
	json_object_foreach(v, k, m)
		strip(m);
}

/* What struct k8s_keep means, applied to a decoded tree @p v: the reference the decoder is
 * compared with (a packed array: its packer's tree(), which its streaming events must match).
 * @p only filters @p v's keys (or its objects' keys, for an array); @p proj: inside a
 * filtered value, where no anchor applies. */
static inline void ref_keep(json_t *v, const struct k8s_keep *anchors, const struct k8s_keep *only,
			    bool proj)
{
	const char *key;
	json_t *m;
	void *tmp;
	size_t i;

	if (json_is_array(v))
		json_array_foreach(v, i, m)
			ref_keep(m, anchors, only, proj);
	if (!json_is_object(v))
		return;
	json_object_foreach_safe(v, tmp, key, m) {
		const struct k8s_keep *k = NULL;

		if (only || !proj)
			for (k = only ? only : anchors; k->key && strcmp(k->key, key) != 0; k++)
				;
		if (only && !k->key) {
			json_object_del(v, key);
			continue;
		}
		const struct k8s_keep *sub = k && k->key ? k->only : NULL;
		// An array under a key kept packed: the packer's string of the whole tree.
		if (k && k->key && k->pack && json_is_array(m)) {
			json_object_set_new(v, key, k->pack->tree(m));
			continue;
		}
		ref_keep(m, anchors, sub, proj || sub);
	}
}

#endif
