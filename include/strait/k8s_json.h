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

/** "namespace/name" (or "name" for cluster-scoped objects) of @p obj into @p buf. */
const char *k8s_obj_key(const json_t *obj, char *buf, size_t len);

/** String at a JSON path of objects, e.g. k8s_str(o, "metadata", "name", NULL); "" if absent. */
const char *k8s_str(const json_t *obj, ...) __attribute__((sentinel));

/** Object (or any value) at a JSON path; NULL if absent. */
json_t *k8s_get(const json_t *obj, ...) __attribute__((sentinel));

#endif
