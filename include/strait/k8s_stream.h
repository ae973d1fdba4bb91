/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Decoders of the API server's wire format: a watch stream (chunked HTTP, one JSON event
 * `{"type": ..., "object": ...}` per line) and one page of a list, each by k8s_json_decode()
 * with K8S_DECODE_NO_MANAGED_FIELDS: objects come without metadata.managedFields. No I/O, no
 * globals: any thread, one decoder per stream.
 */
#ifndef STRAIT_K8S_STREAM_H
#define STRAIT_K8S_STREAM_H

#include <stddef.h>

#include <jansson.h>

#include <strait/k8s_json.h>

/**
 * Decoder of a watch stream: bytes in (in any split), one callback per complete event line.
 * Zero it to start (then set @c keep if wanted); one per stream, used by one thread at a time.
 */
struct k8s_stream {
	char *buf;
	size_t len, cap;
	const struct k8s_keep *keep; /**< the fields of each event to keep (NULL: all) */
};

/**
 * Called for each event of a stream.
 * @param type "ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR".
 * @param obj  borrowed: the event's object (take a reference to keep it).
 * @return 0 to go on, non-zero to stop decoding (k8s_stream_feed() returns it).
 */
typedef int (*k8s_stream_cb)(void *arg, const char *type, json_t *obj);

/**
 * Feed bytes of a (de-chunked) watch body.
 * @return 0; the callback's non-zero value; -EBADMSG on a line that is not an event
 *         (the line is skipped); -E2BIG when a line exceeds 64 MB; -ENOMEM.
 */
int k8s_stream_feed(struct k8s_stream *s, const char *data, size_t len, k8s_stream_cb cb,
		    void *arg);

/** Free the partial line held by @p s and zero it but for @c keep, for a new watch connection
 * (the previous one's unfinished event is never completed). */
void k8s_stream_reset(struct k8s_stream *s);

/**
 * Decode one page of a list response.
 * @param body  the response body, @p len bytes (not NUL-terminated).
 * @param keep  the fields to keep (NULL: all), as k8s_json_decode() takes them.
 * @param items receives a new reference to the `items` array ([] when null or absent), or
 *              NULL on failure.
 * @param rv    metadata.resourceVersion of the list (>= 64 bytes; truncated to @p rvlen).
 * @param cont  metadata.continue, "" when this is the last page (truncated to @p contlen).
 * @return 0; -EBADMSG when @p body is not a list (not JSON, no metadata, items not an
 *         array); -ENOMEM.
 */
int k8s_list_decode(const char *body, size_t len, const struct k8s_keep *keep, json_t **items,
		    char *rv, size_t rvlen, char *cont, size_t contlen);

#endif
