/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for k8s_json_decode() (cp/k8s_decode.c), differential: whatever the bytes,
 * it takes what jansson's json_loadb() takes, refuses (with a message) what it refuses (and
 * any text with a NUL byte, some of which json_loadb() takes), and makes the same tree,
 * compared as json_dumps() writes it (keys in their order, integers apart from reals). The
 * first input byte chooses K8S_DECODE_NO_MANAGED_FIELDS (bit 0) and the keep (the rest, mod 3:
 * none, anchors of every shape, the informers' EndpointSlice keep); the tree is then
 * jansson's with the same left out (tests/unit/k8s_decode_ref.h). Seeds: the recorded bodies
 * of tests/data/k8s-wire and the edges of tests/unit/k8s_decode_test.c.
 */
#include <strait/k8s_json.h>

#include "fuzz_util.h"
#include "k8s_decode_ref.h"
#include "k8s_service.h"

/* Anchors with every shape (nested filters, a key kept whole), and the informers' keep of
 * EndpointSlices. */
static const struct k8s_keep f_leaf[] = {{"x", NULL}, {"ready", NULL}, {NULL, NULL}};
static const struct k8s_keep f_mid[] = {{"a", f_leaf}, {"whole", NULL}, {NULL, NULL}};
static const struct k8s_keep f_anchors[] = {
	{"spec", f_mid}, {"items", f_leaf}, {"endpoints", f_mid}, {NULL, NULL}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct k8s_keep *keep;
	unsigned int flags;
	char err[128] = "";
	json_t *want, *got;
	char *text, *w, *g;

	if (size < 1)
		return 0;
	flags = data[0] & 1 ? K8S_DECODE_NO_MANAGED_FIELDS : 0;
	keep = (data[0] >> 1) % 3 == 1	 ? f_anchors
	       : (data[0] >> 1) % 3 == 2 ? k8s_keep_endpointslice
					 : NULL;
	text = malloc(size - 1 ? size - 1 : 1); // exact size: no NUL after the text
	FUZZ_CHECK(text != NULL);
	memcpy(text, data + 1, size - 1);
	want = json_loadb(text, size - 1, 0, NULL);
	got = k8s_json_decode(text, size - 1, flags, keep, err, sizeof(err));
	// A NUL byte is never JSON (RFC 8259: not white space, and unescaped in no string);
	// json_loadb() loses one after a literal or a number ("[true\0]"), k8s_json_decode()
	// refuses every one.
	if (memchr(text, '\0', size - 1)) {
		json_decref(want);
		want = NULL;
	}
	free(text);
	FUZZ_CHECK(!want == !got);
	if (!got) {
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
		return 0;
	}
	if (flags)
		strip(want);
	if (keep)
		ref_keep(want, keep, NULL, false);
	w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
	g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
	FUZZ_CHECK(w && g && strcmp(w, g) == 0);
	free(w);
	free(g);
	json_decref(want);
	json_decref(got);
	return 0;
}
