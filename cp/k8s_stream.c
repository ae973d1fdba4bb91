/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API server's wire format: a watch stream cut into event lines (bytes arrive in any
 * split; a line is decoded in place when whole, else assembled in a buffer), and list pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_stream.h>

#define K8S_LINE_MAX (64u << 20)

void k8s_stream_reset(struct k8s_stream *s)
{
	const struct k8s_keep *keep = s->keep;

	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->keep = keep;
}

static int stream_line(const struct k8s_stream *s, const char *line, size_t len, k8s_stream_cb cb,
		       void *arg)
{
	json_t *ev, *obj;
	const char *type;
	int rc;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	ev = k8s_json_decode(line, len, K8S_DECODE_NO_MANAGED_FIELDS, s->keep, NULL, 0);
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		json_decref(ev);
		return -EBADMSG;
	}
	rc = cb(arg, type, obj);
	json_decref(ev);
	return rc;
}

int k8s_stream_feed(struct k8s_stream *s, const char *data, size_t len, k8s_stream_cb cb, void *arg)
{
	int ret = 0;

	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;

		// A whole line in the input and nothing buffered: decode it in place.
		if (nl && s->len == 0) {
			int rc = stream_line(s, data, take, cb, arg);
			if (rc > 0)
				return rc;
			if (rc < 0)
				ret = rc;
		} else {
			if (s->len + take + 1 > K8S_LINE_MAX) {
				s->len = 0;
				return -E2BIG;
			}
			if (s->len + take + 1 > s->cap) {
				size_t cap = s->cap ? s->cap : 16384;
				while (cap < s->len + take + 1)
					cap *= 2;
				char *b = realloc(s->buf, cap);
				if (!b)
					return -ENOMEM;
				s->buf = b;
				s->cap = cap;
			}
			memcpy(s->buf + s->len, data, take);
			s->len += take;
			if (nl) {
				int rc = stream_line(s, s->buf, s->len, cb, arg);
				s->len = 0;
				if (rc > 0)
					return rc;
				if (rc < 0)
					ret = rc;
			}
		}
		if (!nl)
			break;
		data = nl + 1;
		len -= take + 1;
	}
	return ret;
}

int k8s_list_decode(const char *body, size_t len, const struct k8s_keep *keep, json_t **items,
		    char *rv, size_t rvlen, char *cont, size_t contlen)
{
	json_t *doc = k8s_json_decode(body, len, K8S_DECODE_NO_MANAGED_FIELDS, keep, NULL, 0);
	json_t *it = json_object_get(doc, "items");

	*items = NULL;
	// A list with no objects has "items": [] (older servers: null).
	if (!json_is_object(doc) || !(json_is_array(it) || json_is_null(it) || !it) ||
	    !json_is_object(json_object_get(doc, "metadata"))) {
		json_decref(doc);
		return -EBADMSG;
	}
	snprintf(rv, rvlen, "%s", k8s_str(doc, "metadata", "resourceVersion", NULL));
	snprintf(cont, contlen, "%s", k8s_str(doc, "metadata", "continue", NULL));
	*items = json_is_array(it) ? json_incref(it) : json_array();
	json_decref(doc);
	return *items ? 0 : -ENOMEM;
}
