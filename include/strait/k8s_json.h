/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Reading Kubernetes objects (jansson values): values at a JSON path, an object's cache key.
 * Pure functions of their arguments: any thread.
 */
#ifndef STRAIT_K8S_JSON_H
#define STRAIT_K8S_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/**
 * The cache key of @p obj: "namespace/name", or "name" for a cluster-scoped object (no
 * metadata.namespace), into @p buf (@p len bytes, truncated to fit). @return @p buf.
 */
const char *k8s_obj_key(const json_t *obj, char *buf, size_t len);

/**
 * The string at a JSON path of object keys, NULL-terminated:
 * k8s_str(o, "metadata", "name", NULL). @p obj may be NULL.
 * @return borrowed from @p obj; "" when a step is absent or not an object, or the value is not
 *         a string.
 */
const char *k8s_str(const json_t *obj, ...) __attribute__((sentinel));

/** The value (any type) at a JSON path as for k8s_str(); borrowed; NULL if absent. */
json_t *k8s_get(const json_t *obj, ...) __attribute__((sentinel));

/** The deepest nesting k8s_json_decode() takes, as jansson's parser (JSON_PARSER_MAX_DEPTH):
 *  freeing a value recurses once per level. */
#define K8S_JSON_DEPTH_MAX 2048

/** k8s_json_decode(): leave out the value of `managedFields` in every object that is the value
 *  of a `metadata` key (metav1.ObjectMeta's field-manager bookkeeping: a quarter to half of a
 *  real object's bytes, read by nothing in strait), as client-go's informers drop it
 *  (cache.TransformStripManagedFields). It is never built. */
#define K8S_DECODE_NO_MANAGED_FIELDS 0x1u

/**
 * Which fields k8s_json_decode() keeps, as a list ended by {NULL, NULL}: each @c key kept with
 * what to keep of its value, @c only (NULL: all of it; else, of an object value, only these
 * keys, filtered the same way; of an array value, the same of each object in it). Given to
 * k8s_json_decode() as anchors: each key in the list, wherever it appears outside a value
 * already filtered, has its value filtered by its @c only (and is kept). An informer's
 * transform of its objects, as client-go's SetTransform(), done while decoding: what is left
 * out is never built (k8s_service.h: the EndpointSlices' endpoints, kept packed, @c pack).
 */
struct k8s_keep {
	const char *key;
	const struct k8s_keep *only;
	/** NULL, or how an array value of @c key is kept packed: one string instead of a tree
	 *  (struct k8s_pack). A value of any other type is kept as @c only says. */
	const struct k8s_pack *pack;
};

/** The first byte of every packed value (struct k8s_pack): a NUL, which no JSON text's string
 *  holds (k8s_json_decode() and json_loadb() refuse "\u0000"), so no string from the API
 *  server or a file passes for one. */
#define K8S_PACKED_MARK '\0'

/** An event of a packed array's contents, as the decoder meets them (yajl's order). */
enum k8s_pack_event {
	K8S_PACK_START_MAP,
	K8S_PACK_START_ARRAY,
	K8S_PACK_END,	 /**< of the object or array opened at this depth */
	K8S_PACK_KEY,	 /**< an object's key; its value's events follow */
	K8S_PACK_STRING, /**< UTF-8, checked, without a NUL */
	K8S_PACK_TRUE,
	K8S_PACK_OTHER, /**< false, null or a number (checked as in a tree) */
};

/** A packer's work in progress: the text so far, and the packer's own state. */
struct k8s_pack_state {
	char *buf; /**< malloc'd; starts with K8S_PACKED_MARK */
	size_t len, cap;
	/** the packer's own, zeroed when the array starts */
	union {
		uint64_t align;
		unsigned char b[320];
	} priv;
};

/**
 * How an array value is kept as one JSON string, where the informers keep of a kind one or two
 * fields of thousands of small objects (the endpoints of an EndpointSlice: ~20 allocations
 * each as a tree, 38 a slice on average, all made and freed again on every change). Its reader
 * reads the packed string; @c tree makes the same string from a tree (a file's objects, a
 * test's), the reference the streaming packer is compared with (k8s_decode_test,
 * json_decode_fuzz).
 */
struct k8s_pack {
	/**
	 * One event of the array's contents, at @p depth (1: the array's elements; an object's
	 * keys and values one deeper than the object); @p s and @p len are the key or the
	 * string (else NULL, 0). Appends to @p st->buf (k8s_pack_put()).
	 * @return 0, or -ENOMEM (the decode fails).
	 */
	int (*event)(struct k8s_pack_state *st, enum k8s_pack_event ev, unsigned int depth,
		     const char *s, size_t len);
	/** The packed string of @p array (an array; borrowed): a new reference, NULL when out
	 *  of memory. */
	json_t *(*tree)(const json_t *array);
};

/** Append @p len bytes at @p s to @p st->buf (grown as needed). @return 0 or -ENOMEM. */
int k8s_pack_put(struct k8s_pack_state *st, const void *s, size_t len);

/** The value of the @p n (<= 15) hex digits at @p s, either case (JSON's `\uXXXX` escapes, a
 *  packed record's fields); -1 when one of them is not a hex digit. */
long k8s_hex(const char *s, unsigned int n);

/** Whether @p v is a packed value: a string whose first byte is K8S_PACKED_MARK. */
static inline bool k8s_is_packed(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 &&
	       json_string_value(v)[0] == K8S_PACKED_MARK;
}

/**
 * Decode one JSON text (RFC 8259) into jansson values: the tree json_loadb(@p buf, @p len, 0,
 * ...) makes (objects' keys in their order, integers as json_int_t, other numbers as double),
 * 2.5 times faster on the API server's objects, as yajl's event parser lexes it. It refuses
 * what json_loadb() refuses: a text that is not one object or array with only white space
 * after it; invalid UTF-8 (RFC 3629) or an escaped surrogate not in a pair; a string or key
 * with a NUL ("\u0000"); an integer outside json_int_t; a number that overflows a double;
 * nesting deeper than K8S_JSON_DEPTH_MAX; and a NUL byte anywhere (json_loadb() loses one
 * after a literal or a number). A key given twice keeps its last value, as in json_loadb().
 * @param buf    the text, @p len bytes (need not be NUL-terminated).
 * @param flags  0 or K8S_DECODE_NO_MANAGED_FIELDS.
 * @param keep   NULL, or the anchors of the fields to keep (struct k8s_keep); a value left out
 *               is still checked as above, and so is an array kept packed (its packed string
 *               in its place: struct k8s_pack).
 * @param err    if not NULL, receives why the text was refused (@p errlen bytes, truncated).
 * @return a new reference to the top-level value; NULL when refused or out of memory.
 * Any thread; no globals.
 */
json_t *k8s_json_decode(const char *buf, size_t len, unsigned int flags,
			const struct k8s_keep *keep, char *err, size_t errlen);

/**
 * json_equal(@p a, @p b), the same answer (for keys without a NUL inside, which the JSON
 * decoder refuses), cheaper for what an object's next version mostly is: its keys in the same
 * order. Two objects' keys are compared in their order while they match (none hashed, none
 * looked up); from the first that does not, the rest of @p a's keys are looked up in @p b
 * (k8s_json_equal_lookups counts those objects). NULL is equal to nothing, as in json_equal().
 */
bool k8s_json_equal(const json_t *a, const json_t *b);

/** Objects k8s_json_equal() compared key by key lookup, keys not in the same order, since
 *  start (tests). */
extern unsigned long k8s_json_equal_lookups;

#endif
