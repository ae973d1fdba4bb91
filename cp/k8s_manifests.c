/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offline mode's source: a directory of YAML manifests. A load is all or nothing: a file
 * with a syntax error fails the whole load, so that a half-edited directory on SIGHUP leaves
 * the running state alone instead of deleting whatever that file held.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_manifests.h>
#include <strait/log.h>

#define MANIFEST_MAX (16u << 20)

static bool is_yaml(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false; // editors' swap and backup files
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_all(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	size_t n;
	char *b;

	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	b = malloc(MANIFEST_MAX + 1);
	if (!b) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(b, 1, MANIFEST_MAX + 1, f);
	if (ferror(f) || n > MANIFEST_MAX) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(f) ? "read error" : "larger than 16 MB");
		fclose(f);
		free(b);
		return -EINVAL;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

/* File one object (a document, or an item of a List) into its kind's array. */
static int add_object(json_t *items[K8S_KIND_MAX], json_t *obj, const char *file, unsigned int doc,
		      char *err, size_t errlen)
{
	const char *av = k8s_str(obj, "apiVersion", NULL), *kind = k8s_str(obj, "kind", NULL);
	json_t *md;
	int k;

	if (strcmp(kind, "List") == 0) {
		json_t *it;
		size_t i;
		json_array_foreach(json_object_get(obj, "items"), i, it) {
			int rc = add_object(items, it, file, doc, err, errlen);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (!json_is_object(obj) || !av[0] || !kind[0]) {
		snprintf(err, errlen,
			 "%s: document %u: not a Kubernetes object (no apiVersion/kind)", file,
			 doc);
		return -EINVAL;
	}
	k = k8s_kind_of(av, kind);
	if (k < 0) {
		if (strcmp(kind, "Mapping") == 0)
			K8S_LOG(WARNING,
				"%s: document %u: Mapping of apiVersion %s ignored: strait reads "
				"%s",
				file, doc, av, k8s_kind_info(K8S_KIND_MAPPING)->api_version);
		else
			K8S_LOG(DEBUG, "%s: document %u: %s %s ignored", file, doc, av, kind);
		return 0;
	}
	md = json_object_get(obj, "metadata");
	if (!json_is_string(json_object_get(md, "name"))) {
		snprintf(err, errlen, "%s: document %u: %s without metadata.name", file, doc, kind);
		return -EINVAL;
	}
	if (k8s_kind_info(k)->namespaced && !json_is_string(json_object_get(md, "namespace")))
		json_object_set_new(md, "namespace", json_string("default"));
	if (!k8s_kind_info(k)->namespaced)
		json_object_del(md, "namespace");
	// What the API server gives a new object: status reports observedGeneration 1.
	if (!json_object_get(md, "generation"))
		json_object_set_new(md, "generation", json_integer(1));
	return json_array_append(items[k], obj) ? -ENOMEM : 0;
}

int k8s_manifests_load(const char *dir, json_t *items[K8S_KIND_MAX], unsigned int *n_files,
		       char *err, size_t errlen)
{
	char **names = NULL, path[4096];
	unsigned int n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*n_files = 0;
	for (int k = 0; k < K8S_KIND_MAX; k++)
		items[k] = NULL;
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "--manifests %s: %s", dir, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d))) {
		if (!is_yaml(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **p = realloc(names, cap * sizeof(*p));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			names = p;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (int k = 0; k < K8S_KIND_MAX && rc == 0; k++)
		if (!(items[k] = json_array()))
			rc = -ENOMEM;

	for (unsigned int i = 0; i < n && rc == 0; i++) {
		json_t *docs, *doc;
		char *buf = NULL;
		size_t len = 0, j;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((rc = read_all(path, &buf, &len, err, errlen)) < 0)
			break;
		rc = k8s_yaml_to_json(path, buf, len, &docs, err, errlen);
		free(buf);
		if (rc < 0)
			break;
		json_array_foreach(docs, j, doc) {
			if (json_is_null(doc))
				continue;
			if ((rc = add_object(items, doc, path, (unsigned int)j + 1, err, errlen)) <
			    0)
				break;
		}
		json_decref(docs);
		(*n_files)++;
	}
	for (unsigned int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc < 0) {
		for (int k = 0; k < K8S_KIND_MAX; k++) {
			json_decref(items[k]);
			items[k] = NULL;
		}
	}
	return rc;
}
