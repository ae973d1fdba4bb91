/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config/crd/mapping.yaml: the OpenAPI v3 schema is applied, by a small validator of the
 * keywords it uses (what kube-apiserver applies to a structural schema), to the SmartNat
 * Mapping of the seed's appendix with only its apiVersion changed, to DESIGN.md's example, to
 * the recorded Mapping, to config/examples, and to Mappings it must refuse. And the schema is
 * compared with the one list of a Mapping's keys (cfg_mapping_fields, CFG_MAPPING_FIELDS): a
 * key, a range, a list size or an enum that one has and the other not fails here.
 */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <strait/config.h>
#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_manifests.h>
#include <strait/k8s_pools.h>

#include "k8s_testlib.h"

static json_t *crd, *schema;
static char why[1024];

static bool type_ok(const char *t, const json_t *v)
{
	if (!strcmp(t, "object"))
		return json_is_object(v);
	if (!strcmp(t, "array"))
		return json_is_array(v);
	if (!strcmp(t, "string"))
		return json_is_string(v);
	if (!strcmp(t, "integer"))
		return json_is_integer(v);
	if (!strcmp(t, "number"))
		return json_is_number(v);
	if (!strcmp(t, "boolean"))
		return json_is_boolean(v);
	return false;
}

static bool invalid(const char *path, const char *what)
{
	snprintf(why, sizeof(why), "%.500s: %.400s", path[0] ? path : "<root>", what);
	return false;
}

/* The OpenAPI v3 keywords the CRD uses; unknown fields are pruned, as the API server does. */
static bool valid(const json_t *s, const json_t *v, const char *path)
{
	const char *t = k8s_str(s, "type", NULL);
	json_t *kw, *it;
	char sub[512];
	size_t i;

	if (json_is_true(json_object_get(s, "x-kubernetes-int-or-string"))) {
		if (!json_is_integer(v) && !json_is_string(v))
			return invalid(path, "must be an integer or a string");
	} else if (t[0] && !type_ok(t, v)) {
		return invalid(path, "wrong type");
	}
	if ((kw = json_object_get(s, "enum"))) {
		bool found = false;
		json_array_foreach(kw, i, it)
			found |= json_equal(it, (json_t *)v);
		if (!found)
			return invalid(path, "not one of the enum values");
	}
	if (json_is_number(v)) {
		if ((kw = json_object_get(s, "minimum")) &&
		    json_number_value(v) < json_number_value(kw))
			return invalid(path, "below minimum");
		if ((kw = json_object_get(s, "maximum")) &&
		    json_number_value(v) > json_number_value(kw))
			return invalid(path, "above maximum");
	}
	if (json_is_string(v)) {
		size_t len = json_string_length(v);
		if ((kw = json_object_get(s, "maxLength")) && len > (size_t)json_integer_value(kw))
			return invalid(path, "too long");
		if ((kw = json_object_get(s, "minLength")) && len < (size_t)json_integer_value(kw))
			return invalid(path, "too short");
		if ((kw = json_object_get(s, "pattern"))) {
			regex_t re;
			assert_int_equal(
				regcomp(&re, json_string_value(kw), REG_EXTENDED | REG_NOSUB), 0);
			int m = regexec(&re, json_string_value(v), 0, NULL, 0);
			regfree(&re);
			if (m != 0)
				return invalid(path, "does not match the pattern");
		}
	}
	if (json_is_array(v)) {
		if ((kw = json_object_get(s, "minItems")) &&
		    json_array_size(v) < (size_t)json_integer_value(kw))
			return invalid(path, "too few items");
		if ((kw = json_object_get(s, "maxItems")) &&
		    json_array_size(v) > (size_t)json_integer_value(kw))
			return invalid(path, "too many items");
		if ((kw = json_object_get(s, "items")))
			json_array_foreach(v, i, it) {
				snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
				if (!valid(kw, it, sub))
					return false;
			}
	}
	if (json_is_object(v)) {
		const char *k;
		json_t *pv;
		json_array_foreach(json_object_get(s, "required"), i, it)
			if (!json_object_get(v, json_string_value(it))) {
				snprintf(sub, sizeof(sub), "required field %s missing",
					 json_string_value(it));
				return invalid(path, sub);
			}
		json_object_foreach(json_object_get(s, "properties"), k, pv) {
			json_t *fv = json_object_get(v, k);
			snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k);
			if (fv && !valid(pv, fv, sub))
				return false;
		}
	}
	if ((kw = json_object_get(s, "anyOf"))) {
		bool any = false;
		json_array_foreach(kw, i, it)
			any |= valid(it, v, path);
		if (!any)
			return invalid(path, "matches none of anyOf");
	}
	if ((kw = json_object_get(s, "oneOf"))) {
		int n = 0;
		json_array_foreach(kw, i, it)
			n += valid(it, v, path);
		if (n != 1)
			return invalid(path, n ? "matches more than one of oneOf"
					       : "matches none of oneOf (a field the mode needs)");
	}
	return true;
}

static json_t *yaml_doc(const char *name, const char *text, size_t len)
{
	json_t *docs, *d;
	char err[256];

	assert_int_equal(k8s_yaml_to_json(name, text, len, &docs, err, sizeof(err)), 0);
	d = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return d;
}

/* The first ```yaml block after @p marker in a markdown file. */
static json_t *markdown_yaml(const char *file, const char *marker)
{
	char *md = t_read(file, NULL);
	char *at = strstr(md, marker), *start, *end;
	json_t *d;

	assert_non_null(at);
	start = strstr(at, "```yaml\n");
	assert_non_null(start);
	start += 8;
	end = strstr(start, "```");
	d = yaml_doc(file, start, (size_t)(end - start));
	free(md);
	return d;
}

static int setup(void **state)
{
	size_t len;
	char *text = t_read(STRAIT_SOURCE_ROOT "/config/crd/mapping.yaml", &len);

	(void)state;
	crd = yaml_doc("mapping.yaml", text, len);
	free(text);
	schema = k8s_get(json_array_get(k8s_get(crd, "spec", "versions", NULL), 0), "schema",
			 "openAPIV3Schema", NULL);
	assert_non_null(schema);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(crd);
	return 0;
}

static void crd_declares_the_mapping_api(void **state)
{
	json_t *v = json_array_get(k8s_get(crd, "spec", "versions", NULL), 0), *col;
	static const char *const cols[] = {"Addresses", "Mode", "Ready", "Age"};
	size_t i;

	(void)state;
	assert_string_equal(k8s_str(crd, "apiVersion", NULL), "apiextensions.k8s.io/v1");
	assert_string_equal(k8s_str(crd, "metadata", "name", NULL), "mappings.strait.io");
	assert_string_equal(k8s_str(crd, "spec", "group", NULL), "strait.io");
	assert_string_equal(k8s_str(crd, "spec", "scope", NULL), "Namespaced");
	assert_string_equal(k8s_str(crd, "spec", "names", "kind", NULL), "Mapping");
	assert_true(json_array_size(k8s_get(crd, "spec", "names", "shortNames", NULL)) >= 1);
	assert_string_equal(k8s_str(v, "name", NULL), "v1alpha1");
	assert_true(json_is_true(json_object_get(v, "served")));
	assert_true(json_is_true(json_object_get(v, "storage")));
	assert_true(json_is_object(k8s_get(v, "subresources", "status", NULL)));
	json_array_foreach(json_object_get(v, "additionalPrinterColumns"), i, col)
		assert_string_equal(k8s_str(col, "name", NULL), cols[i]);
	assert_int_equal(json_array_size(json_object_get(v, "additionalPrinterColumns")), 4);
	assert_string_equal(
		k8s_str(json_array_get(json_object_get(v, "additionalPrinterColumns"), 2),
			"jsonPath", NULL),
		".status.conditions[?(@.type==\"Ready\")].status");
}

static void expect_valid(json_t *obj, const char *what)
{
	if (!valid(schema, obj, ""))
		fail_msg("%s: %s", what, why);
}

static void smartnat_mapping_validates_after_changing_only_apiversion(void **state)
{
	json_t *m = markdown_yaml(STRAIT_TESTS_DATA "/seeds/smartnat-appendix1.md", "Appendix 1");

	(void)state;
	assert_string_equal(k8s_str(m, "apiVersion", NULL), "smartnat.aureacentral.com/v1alpha1");
	json_object_set_new(m, "apiVersion", json_string("strait.io/v1alpha1"));
	expect_valid(m, "SmartNat appendix Mapping");
	// The shipped example is that very object.
	json_t *items[K8S_KIND_MAX];
	unsigned int files;
	char err[256];
	assert_int_equal(k8s_manifests_load(STRAIT_SOURCE_ROOT "/config/examples", items, &files,
					    err, sizeof(err)),
			 0);
	json_t *ex = json_array_get(items[K8S_KIND_MAPPING], 0);
	assert_true(json_equal(json_object_get(ex, "spec"), json_object_get(m, "spec")));
	expect_valid(ex, "config/examples/smartnat-mapping.yaml");
	for (int k = 0; k < K8S_KIND_MAX; k++)
		json_decref(items[k]);
	json_decref(m);
}

static void design_and_recorded_mappings_validate(void **state)
{
	json_t *m = markdown_yaml(STRAIT_TESTS_DATA "/seeds/design-mapping.md", "`Mapping` — ");
	json_t *list = t_wire_json("mappings-list.json");

	(void)state;
	// Its status is abbreviated ("reason: Programmed, ..."): the spec is the example.
	json_object_del(m, "status");
	expect_valid(m, "DESIGN.md §5 Mapping");
	json_decref(m);
	// With the status strait wrote, as recorded from kube-apiserver.
	expect_valid(json_array_get(json_object_get(list, "items"), 0), "recorded kafka-external");
	json_decref(list);
}

static void expect_invalid(const char *spec_json, const char *reason)
{
	char buf[2048];
	json_t *m;

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"strait.io/v1alpha1\",\"kind\":\"Mapping\",\"metadata\":"
		 "{\"name\":\"x\"},\"spec\":%s}",
		 spec_json);
	m = t_json(buf);
	if (valid(schema, m, ""))
		fail_msg("accepted: %s", spec_json);
	if (!strstr(why, reason))
		fail_msg("%s: refused for \"%s\", not \"%s\"", spec_json, why, reason);
	json_decref(m);
}

static void bad_mappings_are_refused_by_the_schema(void **state)
{
	(void)state;
#define SVC "\"mode\":\"service\",\"serviceName\":\"web\""
	expect_invalid("{\"addresses\":[\"1.2.3.4\"],\"allowedSources\":[\"10.0.0.0/33\"]," SVC
		       ",\"ports\":[{\"port\":80}]}",
		       "spec.allowedSources[0]: does not match the pattern");
	expect_invalid("{\"addresses\":[\"1.2.3.400\"]," SVC ",\"ports\":[{\"port\":80}]}",
		       "spec.addresses[0]: does not match the pattern");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"]," SVC ",\"ports\":[{\"port\":70000}]}",
		       "spec.ports[0].port: above maximum");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"]," SVC ",\"ports\":[{\"port\":0}]}",
		       "spec.ports[0].port: below minimum");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"]," SVC
		       ",\"ports\":[{\"port\":80,\"servicePort\":70000}]}",
		       "spec.ports[0].servicePort: above maximum");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"]," SVC
		       ",\"ports\":[{\"port\":80,\"servicePort\":\"Bad_Name\"}]}",
		       "spec.ports[0].servicePort: does not match the pattern");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"]," SVC
		       ",\"ports\":[{\"port\":80,\"protocol\":\"sctp\"}]}",
		       "spec.ports[0].protocol: not one of the enum values");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"],\"mode\":\"roundRobin\",\"serviceName\":\"w\","
		       "\"ports\":[{\"port\":80}]}",
		       "spec.mode: not one of the enum values");
	expect_invalid("{" SVC ",\"ports\":[{\"port\":80}]}", "required field addresses missing");
	expect_invalid("{\"addresses\":[]," SVC ",\"ports\":[{\"port\":80}]}",
		       "spec.addresses: too few items");
	expect_invalid(
		"{\"addresses\":[\"1.2.3.4\"],\"mode\":\"service\",\"ports\":[{\"port\":80}]}",
		"matches none of oneOf");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"],\"mode\":\"perPod\",\"statefulSetName\":\"k\","
		       "\"targetPort\":9092}",
		       "matches none of oneOf");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"]," SVC ",\"ports\":[{\"port\":80}],"
		       "\"backends\":\"endpoints\"}",
		       "spec.backends: not one of the enum values");
	expect_invalid("{\"addresses\":[\"1.2.3.4\"]," SVC ",\"ports\":[{\"port\":80}],"
		       "\"timeouts\":{\"udp\":-1}}",
		       "spec.timeouts.udp: below minimum");
	// And a perPod Mapping with everything it needs is fine, unknown fields pruned.
	json_t *ok = t_json("{\"apiVersion\":\"strait.io/v1alpha1\",\"kind\":\"Mapping\","
			    "\"metadata\":{\"name\":\"x\"},\"spec\":{\"addresses\":[\"1.2.3.4\"],"
			    "\"mode\":\"perPod\",\"statefulSetName\":\"k\",\"startPort\":32000,"
			    "\"targetPort\":9092,\"protocol\":\"udp\",\"future\":1}}");
	expect_valid(ok, "perPod");
	json_decref(ok);
}

/* ---- The schema against the Mapping field list ---- */

/* Spec keys that k8s_mapping_decode() reads itself rather than the Mapping parser. */
static const char *const decoder_only_keys[] = {"protocol", NULL};

static void expect_integer(const json_t *p, const char *path, long long min, long long max)
{
	if (!json_is_integer(json_object_get(p, "minimum")) ||
	    json_integer_value(json_object_get(p, "minimum")) != min)
		fail_msg("%s: CRD minimum is not the field list's %lld", path, min);
	if (!json_is_integer(json_object_get(p, "maximum")) ||
	    json_integer_value(json_object_get(p, "maximum")) != max)
		fail_msg("%s: CRD maximum is not the field list's %lld", path, max);
}

static void expect_type(const json_t *p, const char *path, const char *type)
{
	if (strcmp(k8s_str(p, "type", NULL), type) != 0)
		fail_msg("%s: CRD type is \"%s\", the field list's %s", path,
			 k8s_str(p, "type", NULL), type);
}

/* The CRD enum lists @p names, each also upper-cased when @p anycase, and nothing else. */
static void expect_enum(const json_t *p, const char *path, const char *const names[], bool anycase)
{
	json_t *e = json_object_get(p, "enum");
	size_t n = 0;

	for (unsigned int i = 0; names[i]; i++) {
		char up[64];
		bool found = false, found_up = !anycase;
		size_t j;
		json_t *it;

		snprintf(up, sizeof(up), "%s", names[i]);
		for (char *c = up; *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		json_array_foreach(e, j, it) {
			found |= !strcmp(json_string_value(it), names[i]);
			found_up |= !strcmp(json_string_value(it), up);
		}
		if (!found || !found_up)
			fail_msg("%s: %s is not in the CRD enum", path, names[i]);
		n += anycase ? 2 : 1;
	}
	if (json_array_size(e) != n)
		fail_msg("%s: the CRD enum has %zu values, the field list %zu", path,
			 json_array_size(e), n);
}

static void expect_fields(const struct cfg_field *fields, const json_t *obj, const char *path,
			  const char *const extra[]);

static void expect_field(const struct cfg_field *f, const json_t *p, const char *path)
{
	const json_t *items = json_object_get(p, "items");

	switch (f->type) {
	case CFG_FT_NAME:
	case CFG_FT_LABEL:
	case CFG_FT_ADDR:
		expect_type(p, path, "string");
		break;
	case CFG_FT_INT:
		expect_type(p, path, "integer");
		expect_integer(p, path, f->min, f->max);
		break;
	case CFG_FT_SERVICE_PORT:
		assert_true(json_is_true(json_object_get(p, "x-kubernetes-int-or-string")));
		expect_integer(p, path, f->min, f->max);
		break;
	case CFG_FT_ENUM:
	case CFG_FT_MODE:
	case CFG_FT_BACKENDS: // the CRD has no static mappings: pods or nodePorts
		expect_type(p, path, "string");
		expect_enum(p, path, f->names, false);
		break;
	case CFG_FT_BOOL:
		expect_type(p, path, "boolean");
		break;
	case CFG_FT_PROTO:
		expect_type(p, path, "string");
		expect_enum(p, path, f->names, true);
		break;
	case CFG_FT_OBJECT:
		expect_type(p, path, "object");
		expect_fields(f->sub, p, path, NULL);
		break;
	case CFG_FT_ADDRS:
	case CFG_FT_CIDRS:
	case CFG_FT_PORTS:
		expect_type(p, path, "array");
		if (json_integer_value(json_object_get(p, "maxItems")) != f->max)
			fail_msg("%s: CRD maxItems is not the field list's %lld", path, f->max);
		if (f->min > 0 && json_integer_value(json_object_get(p, "minItems")) != f->min)
			fail_msg("%s: CRD minItems is not the field list's %lld", path, f->min);
		if (f->type == CFG_FT_PORTS) {
			expect_type(items, path, "object");
			expect_fields(f->sub, items, path, NULL);
		} else {
			expect_type(items, path, "string");
		}
		break;
	}
}

/* Every CRD key of @p fields is a property of @p obj, and every property a field or @p extra. */
static void expect_fields(const struct cfg_field *fields, const json_t *obj, const char *path,
			  const char *const extra[])
{
	const json_t *props = json_object_get(obj, "properties"), *p;
	char sub[256];
	const char *k;

	for (const struct cfg_field *f = fields; f->key; f++) {
		if (!(f->flags & CFG_F_CRD))
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, f->key);
		p = json_object_get(props, f->key);
		if (!p)
			fail_msg("%s: a CRD key of the field list, not in the CRD", sub);
		expect_field(f, p, sub);
		if (f->flags & CFG_F_REQUIRED) {
			bool req = false;
			size_t i;
			json_t *it;

			json_array_foreach(json_object_get(obj, "required"), i, it)
				req |= !strcmp(json_string_value(it), f->key);
			if (!req)
				fail_msg("%s: required in the field list, not in the CRD", sub);
		}
	}
	json_object_foreach((json_t *)props, k, p) {
		const struct cfg_field *f = cfg_field_find(fields, k);
		bool listed = false;

		for (unsigned int i = 0; extra && extra[i]; i++)
			listed |= !strcmp(extra[i], k);
		if (!listed && (!f || !(f->flags & CFG_F_CRD)))
			fail_msg("%s.%s: in the CRD, not a CRD key of the field list (the decoder "
				 "would drop it)",
				 path, k);
	}
}

static void crd_schema_matches_the_mapping_field_list(void **state)
{
	(void)state;
	expect_fields(cfg_mapping_fields, k8s_get(schema, "properties", "spec", NULL), "spec",
		      decoder_only_keys);
}

/* config/crd/addresspool.yaml serves the K8S_KINDS row strait watches, with strait's limits. */
static void addresspool_crd_declares_the_watched_kind(void **state)
{
	const struct k8s_kind_info *ki = k8s_kind_info(K8S_KIND_ADDRESSPOOL);
	size_t len;
	char *text = t_read(STRAIT_SOURCE_ROOT "/config/crd/addresspool.yaml", &len);
	json_t *pc = yaml_doc("addresspool.yaml", text, len), *v, *spec, *pool;
	char gr[128];

	(void)state;
	free(text);
	v = json_array_get(k8s_get(pc, "spec", "versions", NULL), 0);
	snprintf(gr, sizeof(gr), "%s.%s", k8s_str(pc, "spec", "names", "plural", NULL),
		 k8s_str(pc, "spec", "group", NULL));
	assert_string_equal(k8s_str(pc, "metadata", "name", NULL), ki->gr);
	assert_string_equal(gr, ki->gr);
	assert_string_equal(k8s_str(pc, "spec", "names", "plural", NULL), ki->resource);
	assert_string_equal(k8s_str(pc, "spec", "names", "kind", NULL), ki->kind);
	assert_string_equal(k8s_str(pc, "spec", "scope", NULL), "Cluster");
	assert_false(ki->namespaced);
	snprintf(gr, sizeof(gr), "%s/%s", k8s_str(pc, "spec", "group", NULL),
		 k8s_str(v, "name", NULL));
	assert_string_equal(gr, ki->api_version);
	spec = k8s_get(v, "schema", "openAPIV3Schema", "properties", "spec", "properties", NULL);
	assert_int_equal(json_integer_value(k8s_get(spec, "addresses", "maxItems", NULL)),
			 CFG_MAX_POOL_CIDRS);
	assert_int_equal(json_integer_value(k8s_get(spec, "namespaces", "maxItems", NULL)),
			 CFG_MAX_POOL_NAMESPACES);
	// Ranges (MetalLB's form) pass the pattern; the status subresource holds strait's status.
	json_t *item = k8s_get(spec, "addresses", "items", NULL), *s;
	s = json_string("192.0.2.10-192.0.2.20");
	assert_true(valid(item, s, "a"));
	json_decref(s);
	s = json_string("192.0.2.10 - 192.0.2.20");
	assert_true(valid(item, s, "a"));
	json_decref(s);
	s = json_string("192.0.2.10-");
	assert_false(valid(item, s, "a"));
	json_decref(s);
	assert_non_null(k8s_get(v, "subresources", "status", NULL));
	json_t *status =
		k8s_get(v, "schema", "openAPIV3Schema", "properties", "status", "properties", NULL);
	assert_string_equal(k8s_str(status, "assignedIPv4", "type", NULL), "integer");
	assert_string_equal(k8s_str(status, "availableIPv4", "type", NULL), "integer");
	assert_non_null(k8s_get(status, "conditions", "items", NULL));
	// An object the schema admits decodes (strait checks again, with its own messages).
	pool = t_json("{\"metadata\":{\"name\":\"public\"},\"spec\":{\"addresses\":["
		      "\"203.0.113.0/24\"],\"namespaces\":[\"kafka\"],\"autoAssign\":false}}");
	struct cfg_pool p;
	char err[256];
	assert_int_equal(k8s_pool_decode(pool, &p, err, sizeof(err)), 0);
	assert_string_equal(p.name, "public");
	assert_int_equal(p.n_ranges, 1);
	assert_false(p.auto_assign);
	json_decref(pool);
	json_decref(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crd_declares_the_mapping_api),
		cmocka_unit_test(smartnat_mapping_validates_after_changing_only_apiversion),
		cmocka_unit_test(design_and_recorded_mappings_validate),
		cmocka_unit_test(bad_mappings_are_refused_by_the_schema),
		cmocka_unit_test(crd_schema_matches_the_mapping_field_list),
		cmocka_unit_test(addresspool_crd_declares_the_watched_kind),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
