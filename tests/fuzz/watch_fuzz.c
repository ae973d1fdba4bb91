/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the watch stream (cp/k8s_stream.c) and what follows an event on the
 * control thread: the bytes of a watch body (as curl hands them over, de-chunked) arrive in
 * splits that the first input byte chooses; each event is handled as the informer does
 * (cp/k8s_watch.c: an ERROR decoded as a metav1.Status; managedFields left out by the
 * decoder, and an EndpointSlice stream's unread fields), applied to the cache of its kind
 * (k8s_cache_apply()), and the whole store is reconciled at the end
 * (cp/k8s_reconcile.c and every source row: Mappings, port-mapped StatefulSets, Services,
 * EndpointSlices, Pods, Nodes). Seeds: the recorded watches of tests/data/k8s-wire.
 */
#include <errno.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_stream.h>

#include "k8s_fuzz.h"
#include "k8s_source.h"

struct watch_ctx {
	struct k8s_store *store;
	unsigned int events, errors;
	uint8_t fallback_kind;
};

static int on_event(void *arg, const char *type, json_t *obj)
{
	struct watch_ctx *c = arg;
	enum k8s_update_type t;
	int kind;

	FUZZ_CHECK(type && json_is_object(obj));
	if (strcmp(type, "ERROR") == 0) {
		struct k8s_api_status st;
		k8s_api_status_decode(obj, &st);
		FUZZ_CHECK(memchr(st.reason, '\0', sizeof(st.reason)) != NULL);
		FUZZ_CHECK(memchr(st.message, '\0', sizeof(st.message)) != NULL);
		c->errors++;
		return c->errors > 3; // the informer stops at the first; go on a little
	}
	c->events++;
	if (strcmp(type, "ADDED") == 0)
		t = K8S_UPD_ADDED;
	else if (strcmp(type, "MODIFIED") == 0)
		t = K8S_UPD_MODIFIED;
	else if (strcmp(type, "DELETED") == 0)
		t = K8S_UPD_DELETED;
	else
		return 0; // BOOKMARK and unknown types
	kind = k8s_kind_of(k8s_str(obj, "apiVersion", NULL), k8s_str(obj, "kind", NULL));
	if (kind < 0)
		kind = c->fallback_kind % K8S_KIND_MAX; // an informer's stream is of one kind
	FUZZ_CHECK(!k8s_get(obj, "metadata", "managedFields", NULL)); // the decoder left it out
	FUZZ_CHECK(k8s_cache_apply(&c->store->c[kind], t, obj) >= 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8s_stream s;
	struct k8s_store store;
	struct watch_ctx c = {.store = &store};
	uint32_t seed;
	char *buf;
	size_t len;

	if (size < 1)
		return 0;
	seed = data[0];
	c.fallback_kind = data[0];
	len = size - 1;
	// Exact-size copy: a read past the last byte is an ASan report.
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	memset(&s, 0, sizeof(s));
	// As the informer of the input's kind decodes (an EndpointSlice stream: with the keep).
	s.keep = k8s_keep_of((enum k8s_kind)(c.fallback_kind % K8S_KIND_MAX));
	FUZZ_CHECK(k8s_store_init(&store) == 0);
	// Splits: byte 0 = 0 feeds everything at once, else chunks of 1..256 bytes from a
	// generator seeded by it (a line may straddle many chunks, as over TCP).
	for (size_t off = 0; off < len;) {
		size_t n = len - off;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			n = n < 1 + (seed >> 16) % 256 ? n : 1 + (seed >> 16) % 256;
		}
		int rc = k8s_stream_feed(&s, buf + off, n, on_event, &c);
		FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EBADMSG);
		if (rc == 1)
			break;
		off += n;
	}
	k8s_stream_reset(&s);
	FUZZ_CHECK(s.buf == NULL && s.len == 0);
	FUZZ_CHECK(s.keep == k8s_keep_of((enum k8s_kind)(c.fallback_kind % K8S_KIND_MAX)));
	fuzz_reconcile(&store);
	k8s_store_fini(&store);
	free(buf);
	return 0;
}
