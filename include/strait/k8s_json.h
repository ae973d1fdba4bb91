/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Reading Kubernetes objects (jansson values): values at a JSON path, an object's cache key.
 * Pure functions of their arguments: any thread.
 */
#ifndef STRAIT_K8S_JSON_H
#define STRAIT_K8S_JSON_H

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

#endif
