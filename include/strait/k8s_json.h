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
