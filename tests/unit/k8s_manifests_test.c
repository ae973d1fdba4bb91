/* SPDX-License-Identifier: BSD-3-Clause */
/* Offline mode's input: YAML → JSON by the YAML 1.2 core schema, and manifest directories. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_manifests.h>

#include "k8s_testlib.h"

static char err[512];

static json_t *one(const char *yaml)
{
	json_t *docs, *v;

	assert_int_equal(k8s_yaml_to_json("t.yaml", yaml, strlen(yaml), &docs, err, sizeof(err)),
			 0);
	assert_int_equal(json_array_size(docs), 1);
	v = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return v;
}

static void scalars_follow_the_yaml_core_schema(void **state)
{
	json_t *v = one("i: 8080\nneg: -3\nhex: 0x1F\noct: 0o17\nlead0: 010\nf: 1.5\nexp: 1e3\n"
			"t: true\nT: True\nf2: FALSE\nyes: yes\nn: null\ntilde: ~\nempty:\n"
			"q: \"8080\"\nsq: 'true'\ns: hello world\nip: 10.0.0.1\ncidr: 10.0.0.0/16\n"
			"ver: 1.20.2\n");
	json_t *want = t_json("{\"i\":8080,\"neg\":-3,\"hex\":31,\"oct\":15,\"lead0\":\"010\","
			      "\"f\":1.5,\"exp\":1000.0,\"t\":true,\"T\":true,\"f2\":false,"
			      "\"yes\":\"yes\",\"n\":null,\"tilde\":null,\"empty\":null,"
			      "\"q\":\"8080\",\"sq\":\"true\",\"s\":\"hello world\","
			      "\"ip\":\"10.0.0.1\",\"cidr\":\"10.0.0.0/16\",\"ver\":\"1.20.2\"}");

	(void)state;
	if (!json_equal(v, want))
		fail_msg("got %s", json_dumps(v, JSON_COMPACT));
	json_decref(v);
	json_decref(want);
}

static void documents_flow_style_and_aliases(void **state)
{
	const char *y = "# comment only\n---\na: {b: [1, 2, {c: d}]}\n---\n---\n- x\n- &A {k: v}\n"
			"- *A\n...\n";
	json_t *docs;

	(void)state;
	assert_int_equal(k8s_yaml_to_json("t.yaml", y, strlen(y), &docs, err, sizeof(err)), 0);
	// An empty document between two "---" is null; the comment-only head is no document.
	assert_int_equal(json_array_size(docs), 3);
	assert_true(json_is_object(json_array_get(docs, 0)));
	assert_true(json_is_null(json_array_get(docs, 1)));
	json_t *want = t_json("[\"x\",{\"k\":\"v\"},{\"k\":\"v\"}]");
	assert_true(json_equal(json_array_get(docs, 2), want));
	json_decref(want);
	json_decref(docs);
}

static void syntax_errors_name_file_and_line(void **state)
{
	json_t *docs = NULL;

	(void)state;
	assert_int_equal(
		k8s_yaml_to_json("m.yaml", "a: 1\nb: [1, 2\n", 13, &docs, err, sizeof(err)),
		-EINVAL);
	assert_null(docs);
	assert_int_equal(strncmp(err, "m.yaml:", 7), 0);
	assert_non_null(strstr(err, "syntax error"));
	assert_int_equal(k8s_yaml_to_json("m.yaml", "? [a]\n: 1\n", 10, &docs, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "m.yaml:1: a mapping key must be a scalar");
	// A NUL, in a value or a key, as JSON's decoders refuse one.
	assert_int_equal(
		k8s_yaml_to_json("m.yaml", "a: 1\nb: \"\\0x\"\n", 14, &docs, err, sizeof(err)),
		-EINVAL);
	assert_null(docs);
	assert_string_equal(err, "m.yaml:2: a scalar holds a NUL (\\0)");
	assert_int_equal(k8s_yaml_to_json("m.yaml", "\"a\\0\": 1\n", 9, &docs, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "m.yaml:1: a scalar holds a NUL (\\0)");
}

// "Billion laughs": nine lines, each a list of ten aliases of the line before (10^9 scalars),
// in a manifest whose first document is fine.
static void alias_bomb_is_refused_quickly(void **state)
{
	const char *y = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"
			"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
			"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
			"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
			"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct timespec t0, t1;
	json_t *docs = NULL;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(k8s_yaml_to_json("m.yaml", y, strlen(y), &docs, err, sizeof(err)),
			 -EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(docs);
	assert_string_equal(err, "m.yaml:8: aliases expand the document past 10290 nodes (10 times "
				 "its 29, plus 10000): refused as an alias bomb");
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	// An alias of its own ancestor nests without end.
	assert_int_equal(k8s_yaml_to_json("m.yaml", "a: &a [*a]\n", 11, &docs, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "m.yaml:1: nested deeper than 64 levels");
}

static void the_examples_directory_loads(void **state)
{
	json_t *items[K8S_KIND_MAX];
	unsigned int files;

	(void)state;
	assert_int_equal(k8s_manifests_load(STRAIT_SOURCE_ROOT "/config/examples", items, &files,
					    err, sizeof(err)),
			 0);
	assert_int_equal(files, 4);
	assert_int_equal(json_array_size(items[K8S_KIND_MAPPING]), 1);
	assert_int_equal(json_array_size(items[K8S_KIND_SERVICE]), 1);
	assert_int_equal(json_array_size(items[K8S_KIND_ENDPOINTSLICE]), 1);
	assert_int_equal(json_array_size(items[K8S_KIND_STATEFULSET]), 1);
	assert_int_equal(json_array_size(items[K8S_KIND_POD]), 3);
	assert_int_equal(json_array_size(items[K8S_KIND_NODE]), 0);
	json_t *m = json_array_get(items[K8S_KIND_MAPPING], 0);
	// No namespace in SmartNat's example: "default", as kubectl would put it; generation 1.
	assert_string_equal(k8s_str(m, "metadata", "namespace", NULL), "default");
	assert_int_equal(json_integer_value(k8s_get(m, "metadata", "generation", NULL)), 1);
	assert_string_equal(k8s_str(m, "spec", "mode", NULL), "service");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_array_get(k8s_get(m, "spec", "ports", NULL), 1), "servicePort")),
		8080);
	for (int k = 0; k < K8S_KIND_MAX; k++)
		json_decref(items[k]);
}

static void lists_unknown_kinds_and_bad_objects(void **state)
{
	char d[256], f[512];
	json_t *items[K8S_KIND_MAX];
	unsigned int files;

	(void)state;
	t_mkdtemp(d, sizeof(d));
	snprintf(f, sizeof(f), "%s/a.yml", d);
	t_write(f, "apiVersion: v1\nkind: List\nitems:\n"
		   "- {apiVersion: v1, kind: Node, metadata: {name: n1, namespace: x}}\n"
		   "- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}}\n"
		   "---\n"
		   "apiVersion: smartnat.aureacentral.com/v1alpha1\nkind: Mapping\n"
		   "metadata: {name: old}\nspec: {}\n");
	snprintf(f, sizeof(f), "%s/.swap.yaml", d);
	t_write(f, "not: [valid\n");
	snprintf(f, sizeof(f), "%s/notes.txt", d);
	t_write(f, "not yaml at all: [\n");
	assert_int_equal(k8s_manifests_load(d, items, &files, err, sizeof(err)), 0);
	assert_int_equal(files, 1);
	assert_int_equal(json_array_size(items[K8S_KIND_NODE]), 1);
	// A Node is cluster-scoped: a namespace given to it is dropped.
	assert_null(
		k8s_get(json_array_get(items[K8S_KIND_NODE], 0), "metadata", "namespace", NULL));
	assert_int_equal(json_array_size(items[K8S_KIND_MAPPING]), 0); // old apiVersion: ignored
	for (int k = 0; k < K8S_KIND_MAX; k++)
		json_decref(items[k]);

	snprintf(f, sizeof(f), "%s/b.yaml", d);
	t_write(f, "apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n");
	assert_int_equal(k8s_manifests_load(d, items, &files, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "b.yaml: document 1: Service without metadata.name"));
	for (int k = 0; k < K8S_KIND_MAX; k++)
		assert_null(items[k]);
	t_write(f, "just: a mapping\n");
	assert_int_equal(k8s_manifests_load(d, items, &files, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "b.yaml: document 1: not a Kubernetes object"));
	t_rmdir(d);

	assert_int_equal(k8s_manifests_load("/nonexistent/dir", items, &files, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "--manifests /nonexistent/dir: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scalars_follow_the_yaml_core_schema),
		cmocka_unit_test(documents_flow_style_and_aliases),
		cmocka_unit_test(alias_bomb_is_refused_quickly),
		cmocka_unit_test(syntax_errors_name_file_and_line),
		cmocka_unit_test(the_examples_directory_loads),
		cmocka_unit_test(lists_unknown_kinds_and_bad_objects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
