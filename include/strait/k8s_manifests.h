/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Kubernetes objects from YAML files (offline mode, `--manifests DIR`) and YAML → JSON.
 *
 * Offline mode runs the very reconcilers of the API mode on objects read from every `*.yaml`
 * and `*.yml` file of a directory (not recursive, in name order), each file holding one or
 * more `---`-separated documents as `kubectl apply -f` takes them; a `kind: List` document
 * contributes its items. Objects of kinds strait does not read are skipped; a namespaced
 * object without metadata.namespace is in `default`, as kubectl would put it.
 *
 * YAML scalars become JSON values by the YAML 1.2 core schema, as kubectl reads them: plain
 * `true`/`false` (any case form of the spec), `null`/`~`/empty, integers and floats; quoted
 * scalars and everything else are strings.
 */
#ifndef STRAIT_K8S_MANIFESTS_H
#define STRAIT_K8S_MANIFESTS_H

#include <stddef.h>

#include <jansson.h>

#include <strait/k8s_kinds.h>

/**
 * Parse every document of a YAML stream.
 * @param name for messages ("file.yaml").
 * @param docs receives a new array with one JSON value per non-empty document.
 * @return 0, -EINVAL with @p err "name:LINE: problem" on a syntax error, a non-scalar
 *         mapping key, or a document that aliases expand past its budget or nest too deep
 *         (cfg_yaml_check_expansion()), -ENOMEM. Control plane only.
 */
int k8s_yaml_to_json(const char *name, const char *buf, size_t len, json_t **docs, char *err,
		     size_t errlen);

/**
 * Read the objects of a manifests directory, sorted by kind.
 * @param items receives, per kind, a new array of objects (empty when none).
 * @param n_files receives the number of files read.
 * @return 0; -ENOENT/-ENOTDIR/-EACCES when @p dir cannot be read; -EINVAL on a YAML syntax
 *         error or an object without metadata.name (@p err names file, line or document);
 *         -ENOMEM. Nothing is returned on failure.
 */
int k8s_manifests_load(const char *dir, json_t *items[K8S_KIND_MAX], unsigned int *n_files,
		       char *err, size_t errlen);

#endif
