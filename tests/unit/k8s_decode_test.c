/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * k8s_json_decode() (cp/k8s_decode.c) against jansson's own parser, json_loadb(): on every
 * recorded API body and seed document of tests/data, whole and line by line, and on crafted
 * texts at each edge of JSON (numbers at json_int_t's and double's limits, escapes, UTF-8,
 * NUL, nesting depth, what may follow the value). Where json_loadb() takes a text,
 * k8s_json_decode() gives the same tree, byte for byte as json_dumps() writes it (keys in
 * their order, integers apart from reals); where it refuses, so does k8s_json_decode(), with
 * a message. Then K8S_DECODE_NO_MANAGED_FIELDS: the recorded pods without their
 * managedFields, and nothing else left out.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <strait/k8s_json.h>

#include "k8s_decode_ref.h"
#include "k8s_service.h"
#include "k8s_testlib.h"

/* json_dumps() of @p v, keys in their order, reals apart from integers; "(null)" for NULL. */
static char *dump(const json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(null)");

	return t ? t : strdup("(not dumpable: a string is not UTF-8)");
}

/* Decode @p text (@p len bytes) both ways and compare; @return whether jansson took it. */
static bool same_as_jansson(const char *text, size_t len, const char *what)
{
	char err[160] = "";
	json_error_t jerr;
	json_t *want = json_loadb(text, len, 0, &jerr);
	json_t *got = k8s_json_decode(text, len, 0, NULL, err, sizeof(err));
	char *w = dump(want), *g = dump(got);

	if (strcmp(w, g) != 0) {
		fprintf(stderr, "%s: %.80s\n  jansson:  %.200s (%s)\n  decode:   %.200s (%s)\n",
			what, text, w, want ? "" : jerr.text, g, err);
		fail();
	}
	if (!got && !err[0]) {
		fprintf(stderr, "%s: refused without a message\n", what);
		fail();
	}
	free(w);
	free(g);
	json_decref(want);
	json_decref(got);
	return want != NULL;
}

/* Every file of @p dir (and its subfolders) whose name ends in .json or .jsonl: whole, and
 * each line alone (the watch streams' events). @return the number of texts jansson took. */
static unsigned int compare_tree(const char *dir)
{
	struct dirent *e;
	unsigned int took = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[1024];
		struct stat st;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			took += compare_tree(path);
			continue;
		}
		if (!strstr(e->d_name, ".json"))
			continue;
		char *b = t_read(path, &len);

		took += same_as_jansson(b, len, path);
		for (char *line = b, *nl; line < b + len; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(b + len - line));
			if (!nl)
				nl = b + len;
			took += same_as_jansson(line, (size_t)(nl - line), path);
		}
		free(b);
	}
	closedir(d);
	return took;
}

static void test_recorded_bodies(void **state)
{
	(void)state;
	unsigned int took = compare_tree(STRAIT_TESTS_DATA);

	// The recorded kube-apiserver bodies alone are 30-odd objects and lists (a walk that
	// found nothing would pass the comparison).
	printf("%u texts taken\n", took);
	assert_true(took >= 30);
}

static const char *const taken[] = {
	"{}",
	"[]",
	" \t\r\n{\"a\":1} \n",
	"{\"a\":1,\"a\":[2]}", // the last value
	"{\"b\":1,\"a\":2,\"c\":{\"z\":null,\"y\":true,\"x\":false}}",
	"[9223372036854775807,-9223372036854775808,0,-0]",
	"[1.5,-0.0,0.0,1E2,1e-2,2.5e+3,1e308,-1e308,1e-400]",
	"[10000000000000000000000000000000000000000000000000000000000000000000000.5]",
	"[1.00000000000000000000000000000000000000000000000000000000000000000000000001]",
	"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\"]",
	"[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
	"{\"\\u00e9\":\"k\"}",
	"[\"\\\\ud83d\"]", // an escaped backslash, then text
	"[\"\\uD83D\\uDE00\\\\uDE00\"]",
	"[\"\"]",
	"{\"\":\"\"}",
};

static const char *const refused[] = {
	"",
	"   ",
	"1",
	"\"s\"",
	"null",
	"true",
	"[1,2",
	"{\"a\":1}x",
	"{\"a\":1}{}",
	"[] []",
	"/* c */[]",
	"[1,]",
	"{\"a\":1,}",
	"{a:1}",
	"['a']",
	"[01]",
	"[1.]",
	"[.5]",
	"[-]",
	"[+1]",
	"[1e]",
	"[NaN]",
	"[Infinity]",
	"[9223372036854775808]",
	"[-9223372036854775809]",
	"[100000000000000000000000000000000000000000000000000000000000000000000000000000000]",
	"[1e309]",
	"[-1e309]",
	"[\"\\u0000\"]",
	"{\"a\\u0000b\":1}",
	"[\"\\x\"]",
	"[\"\\u12\"]",
	"[\"a\tb\"]",
	"[\"a\nb\"]",
	"[\"\xff\"]",
	"[\"\xc3\"]",
	"[\"\xc0\xaf\"]",	  // overlong '/'
	"[\"\xe0\x80\xaf\"]",	  // overlong '/'
	"[\"\xed\xa0\x80\"]",	  // U+D800, a surrogate
	"[\"\xf4\x90\x80\x80\"]", // above U+10FFFF
	"[\"\xf5\x80\x80\x80\"]",
	"[\"\xe2\x82\"]", // cut short
	"{\"\xff\":1}",
	"[\"\\ud83d\"]", // escaped surrogates not in pairs
	"[\"\\ude00\"]",
	"[\"a\\ud83dx\"]",
	"[\"\\ud83d\\u0041\"]",
	"[\"\\ud83d\\ud83d\"]",
	"[\"\\ude00\\ud83d\"]",
	"[\"\\uD83D\\\"]",
	"[\"\\ud83d\\ude0\"]",
	"{\"a\"}",
	"{\"a\" 1}",
	"{1:2}",
	"[}",
	"]",
	"[1]\f", // white space to yajl, not to JSON
	"\v[1]",
	"[1,\f2]",
	"[\"a\fb\"]",
	"[1] \"x", // a token after the value that does not end
	"{}\"}]",
	"[1] tru",
	"[1] 12",
	"[1] \"\\",
};

static void test_edges(void **state)
{
	char what[32], err[160];
	json_t *t;

	(void)state;
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		snprintf(what, sizeof(what), "taken[%zu]", i);
		assert_true(same_as_jansson(taken[i], strlen(taken[i]), what));
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(what, sizeof(what), "refused[%zu]", i);
		assert_false(same_as_jansson(refused[i], strlen(refused[i]), what));
	}
	// Bytes after a NUL are the text's own: not a C string.
	assert_false(same_as_jansson("[1]\0[2]", 7, "NUL after the value"));
	assert_false(same_as_jansson("[\"a\0b\"]", 7, "NUL in a string"));
	// Stricter than json_loadb(), which loses a NUL byte after a literal or a number.
	assert_non_null(t = json_loadb("[true\0]", 7, 0, NULL));
	json_decref(t);
	assert_null(k8s_json_decode("[true\0]", 7, 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "invalid char"));
	assert_null(k8s_json_decode("[1\0]", 5, 0, NULL, NULL, 0));
}

/* @p depth arrays, one inside the other. */
static char *nested(unsigned int depth)
{
	char *t = malloc(2 * depth + 1);

	assert_non_null(t);
	memset(t, '[', depth);
	memset(t + depth, ']', depth);
	t[2 * depth] = '\0';
	return t;
}

static void test_depth(void **state)
{
	char *ok = nested(K8S_JSON_DEPTH_MAX), *deep = nested(K8S_JSON_DEPTH_MAX + 1);
	char err[160] = "";

	(void)state;
	assert_true(same_as_jansson(ok, strlen(ok), "K8S_JSON_DEPTH_MAX"));
	assert_false(same_as_jansson(deep, strlen(deep), "K8S_JSON_DEPTH_MAX + 1"));
	assert_null(k8s_json_decode(deep, strlen(deep), 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "maximum parsing depth reached"));
	free(ok);
	free(deep);
}

static void test_messages(void **state)
{
	char err[160];

	(void)state;
	assert_null(k8s_json_decode("[9223372036854775808]", 21, 0, NULL, err, sizeof(err)));
	assert_string_equal(err, "too big integer near byte 20");
	assert_null(k8s_json_decode("[1e309]", 7, 0, NULL, err, sizeof(err)));
	assert_string_equal(err, "real number overflow near byte 6");
	assert_null(k8s_json_decode("{\"a\\u0000\":1}", 13, 0, NULL, err, sizeof(err)));
	assert_string_equal(err, "a key holds a NUL (\\u0000) near byte 10");
	assert_null(k8s_json_decode("[\"ab\\ud83d\"]", 12, 0, NULL, err, sizeof(err)));
	assert_string_equal(err, "an escaped surrogate is not paired near byte 4");
	assert_null(k8s_json_decode("[1] \n\"x", 7, 0, NULL, err, sizeof(err)));
	assert_string_equal(err, "end of file expected near byte 5");
	assert_null(k8s_json_decode("7", 1, 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "'[' or '{' expected near byte "));
	// yajl's own, on one line; and the message is cut to the buffer, never overrun.
	assert_null(k8s_json_decode("[1,,]", 5, 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "parse error"));
	assert_null(strchr(err, '\n'));
	memset(err, 'x', sizeof(err));
	assert_null(k8s_json_decode("[1,,]", 5, 0, NULL, err, 8));
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'x');
	assert_null(k8s_json_decode("[1,,]", 5, 0, NULL, NULL, 0));
}

static void test_no_managed_fields(void **state)
{
	static const char *const lists[] = {"pods-list.json", "services-list.json",
					    "statefulsets-list.json", "mappings-list.json"};
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char *b = t_wire(lists[i], &len);
		json_t *want = json_loadb(b, len, 0, NULL), *got;
		char *w, *g;

		assert_non_null(want);
		assert_non_null(strstr(b, "\"managedFields\""));
		strip(want);
		got = k8s_json_decode(b, len, K8S_DECODE_NO_MANAGED_FIELDS, NULL, NULL, 0);
		w = dump(want);
		g = dump(got);
		assert_string_equal(g, w);
		assert_null(strstr(g, "managedFields"));
		free(w);
		free(g);
		json_decref(want);
		json_decref(got);
		free(b);
	}
	// Only under an object named metadata; and what follows the left-out value is kept.
	static const char text[] =
		"{\"metadata\":{\"managedFields\":[{\"a\":{\"b\":[1,{}]}}],\"name\":\"x\"},"
		"\"spec\":{\"managedFields\":1},\"managedFields\":2,"
		"\"items\":[{\"metadata\":{\"managedFields\":null,\"uid\":\"u\"}}],"
		"\"m\":[{\"metadata\":[{\"managedFields\":3}]}]}";
	json_t *got = k8s_json_decode(text, sizeof(text) - 1, K8S_DECODE_NO_MANAGED_FIELDS, NULL,
				      NULL, 0);
	char *g = dump(got);

	assert_string_equal(g, "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"managedFields\":1},"
			       "\"managedFields\":2,\"items\":[{\"metadata\":{\"uid\":\"u\"}}],"
			       "\"m\":[{\"metadata\":[{\"managedFields\":3}]}]}");
	free(g);
	json_decref(got);
	// A left-out value is still checked: a bad one refuses the text.
	static const char *const bad[] = {
		"{\"metadata\":{\"managedFields\":[1e309]}}",
		"{\"metadata\":{\"managedFields\":[9223372036854775808]}}",
		"{\"metadata\":{\"managedFields\":[\"\\u0000\"]}}",
		"{\"metadata\":{\"managedFields\":{\"\\u0000\":1}}}",
		"{\"metadata\":{\"managedFields\":[\"\xff\"]}}",
		"{\"metadata\":{\"managedFields\":[01]}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(k8s_json_decode(bad[i], strlen(bad[i]), K8S_DECODE_NO_MANAGED_FIELDS,
					    NULL, NULL, 0));
}

/* A keep with every shape: nested filters, arrays of arrays, a key kept whole. */
static const struct k8s_keep t_leaf[] = {{"x", NULL}, {NULL, NULL}};
static const struct k8s_keep t_mid[] = {{"a", t_leaf}, {"whole", NULL}, {NULL, NULL}};
static const struct k8s_keep t_anchors[] = {{"spec", t_mid}, {"items", t_leaf}, {NULL, NULL}};

static void keep_is(const char *text, const struct k8s_keep *keep, const char *want)
{
	json_t *got =
		k8s_json_decode(text, strlen(text), K8S_DECODE_NO_MANAGED_FIELDS, keep, NULL, 0);
	json_t *ref = json_loads(text, 0, NULL);
	char *g = dump(got), *r;

	assert_non_null(ref);
	strip(ref);
	ref_keep(ref, keep, NULL, false);
	r = dump(ref);
	assert_string_equal(g, want); // the bytes, as written here
	assert_string_equal(r, want); // and as the reference has them
	free(g);
	free(r);
	json_decref(got);
	json_decref(ref);
}

static void test_keep(void **state)
{
	(void)state;
	keep_is("{\"spec\":{\"a\":{\"x\":1,\"y\":2},\"b\":3,\"whole\":{\"spec\":{\"q\":1},"
		"\"y\":[1]}},\"y\":{\"spec\":{\"b\":1,\"a\":[{\"x\":[{\"y\":1}],\"y\":2},[{"
		"\"x\":3,\"z\":4}],5]}}}",
		t_anchors,
		"{\"spec\":{\"a\":{\"x\":1},\"whole\":{\"spec\":{\"q\":1},\"y\":[1]}},\"y\":{"
		"\"spec\":{\"a\":[{\"x\":[{\"y\":1}]},[{\"x\":3}],5]}}}");
	// An anchor whose value is not an object; anchors in a list's items; managedFields too.
	keep_is("{\"items\":[{\"x\":1,\"spec\":{\"b\":1}},{\"metadata\":{\"managedFields\":[]},"
		"\"spec\":\"s\"}],\"spec\":7}",
		t_anchors, "{\"items\":[{\"x\":1},{}],\"spec\":7}");

	// The informers' keep on the recorded slices: as the reference has it, and smaller.
	size_t len;
	char *b = t_wire("endpointslices-v1beta1-list.json", &len);
	json_t *got = k8s_json_decode(b, len, K8S_DECODE_NO_MANAGED_FIELDS, k8s_keep_endpointslice,
				      NULL, 0);
	json_t *ref = json_loadb(b, len, 0, NULL);
	char *g = dump(got), *r, *all;

	strip(ref);
	all = dump(ref);
	ref_keep(ref, k8s_keep_endpointslice, NULL, false);
	r = dump(ref);
	assert_string_equal(g, r);
	assert_non_null(strstr(all, "\"nodeName\""));
	assert_null(strstr(g, "\"nodeName\""));
	// packed: 10.244.1.10, ready, Pod kafka-0; .11 ready, kafka-1; .12 not ready, kafka-2
	assert_non_null(strstr(g, "\"endpoints\":\"\\u00000af4010a107kafka-00af4010b107kafka-1"
				  "0af4010c007kafka-2\""));
	assert_true(strlen(g) < strlen(all));
	free(g);
	free(r);
	free(all);
	free(b);
	json_decref(got);
	json_decref(ref);
}

/* An EndpointSlice's endpoints as the informers keep them: packed by the decoder's events
 * the same as by the packer's tree (keep_is() compares both with the bytes), whatever the
 * types, the keys given twice, the elements that are no endpoint. */
static void test_packed_endpoints(void **state)
{
	const struct k8s_keep *k = k8s_keep_endpointslice;

	(void)state;
	// a key given twice counts its last value, at each level
	keep_is("{\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"addresses\":[\"10.0.0.2\"],"
		"\"conditions\":{\"ready\":true},\"conditions\":{\"ready\":false,\"ready\":true,"
		"\"terminating\":true},\"targetRef\":{\"kind\":\"Pod\",\"name\":\"a\",\"kind\":"
		"\"Node\"},\"nodeName\":\"n\"}]}",
		k, "{\"endpoints\":\"\\u00000a000002300\"}");
	// the first address only, and only a string; an element that is not an object
	keep_is("{\"endpoints\":[{\"addresses\":\"10.0.0.1\"},{\"addresses\":[[\"10.0.0.1\"]]},"
		"{\"addresses\":[]},{\"addresses\":[null,\"10.0.0.3\"]},{\"addresses\":"
		"[\"10.0.0.4\",\"x\"]},5,[{\"addresses\":[\"10.0.0.9\"]}],null,{\"addresses\":"
		"[\"10.0.0.010\"]},{\"addresses\":[\"10.0.0.1000000000\"]},{\"addresses\":{\"0\":"
		"\"10.0.0.5\"}},{\"x\":{\"addresses\":[\"10.0.0.6\"]}}]}",
		k, "{\"endpoints\":\"\\u00000a000004100\"}");
	// ready: unset (or conditions not an object) is ready; anything but true is not
	keep_is("{\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},{\"addresses\":[\"10.0.0.2\"],"
		"\"conditions\":[]},{\"addresses\":[\"10.0.0.3\"],\"conditions\":{\"ready\":null}},"
		"{\"addresses\":[\"10.0.0.4\"],\"conditions\":{\"ready\":\"true\"}},{\"addresses\":"
		"[\"10.0.0.5\"],\"conditions\":{\"ready\":1}},{\"addresses\":[\"10.0.0.6\"],"
		"\"conditions\":{\"ready\":{\"x\":true}}},{\"addresses\":[\"10.0.0.7\"],\"conditions\":"
		"{\"terminating\":[true],\"serving\":true}},{\"addresses\":[\"10.0.0.8\"],"
		"\"conditions\":{\"ready\":true,\"terminating\":true},\"conditions\":7}]}",
		k,
		"{\"endpoints\":\"\\u00000a0000011000a0000021000a0000030000a0000040000a00000500"
		"00a0000060000a0000071000a000008100\"}");
	// the name of a Pod only, cut at CFG_NAME_MAX - 1 bytes; a name not a string is none
	keep_is("{\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"targetRef\":{\"name\":\"p1\","
		"\"kind\":\"Pod\",\"uid\":\"u\"}},{\"addresses\":[\"10.0.0.2\"],\"targetRef\":"
		"{\"kind\":\"pod\",\"name\":\"p2\"}},{\"addresses\":[\"10.0.0.3\"],\"targetRef\":"
		"{\"kind\":\"Pod\",\"name\":3}},{\"addresses\":[\"10.0.0.4\"],\"targetRef\":{\"kind\":"
		"\"Pod\",\"name\":\""
		"0123456789012345678901234567890123456789012345678901234567"
		"89abcdefghij\"}},{\"addresses\":[\"10.0.0.5\"],\"targetRef\":\"Pod\"}]}",
		k,
		"{\"endpoints\":\"\\u00000a000001102p10a0000021000a0000031000a00000413f"
		"012345678901234567890123456789012345678901234567890123456789abc0a000005100\"}");
	// in a list's items, each; not an array: filtered as before; an empty one; deeper
	// "endpoints" are not anchors inside the packed value
	keep_is("{\"items\":[{\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"endpoints\":[]}]},"
		"{\"endpoints\":{\"addresses\":[\"10.0.0.2\"],\"zone\":\"z\"}},{\"endpoints\":[]},"
		"{\"endpoints\":\"s\"},{\"endpoints\":null}]}",
		k,
		"{\"items\":[{\"endpoints\":\"\\u00000a000001100\"},{\"endpoints\":{\"addresses\":"
		"[\"10.0.0.2\"]}},{\"endpoints\":\"\\u0000\"},{\"endpoints\":\"s\"},{\"endpoints\":"
		"null}]}");
	// a packed string is never a JSON text's: its mark is a NUL, which decoding refuses
	json_t *no = json_string("0a000001100"), *ok = json_stringn("\0"
								    "0a000001100",
								    12);
	assert_false(k8s_is_packed(no));
	assert_true(k8s_is_packed(ok));
	json_decref(no);
	json_decref(ok);
	// as deep as a tree may be, and no deeper
	for (unsigned int n = K8S_JSON_DEPTH_MAX - 2; n <= K8S_JSON_DEPTH_MAX; n++) {
		size_t len = 2 * n + 16;
		char *t = malloc(len + 1), err[160] = "";
		size_t o;

		assert_non_null(t);
		memcpy(t, "{\"endpoints\":", o = 13);
		for (unsigned int i = 0; i < n; i++)
			t[o++] = '[';
		for (unsigned int i = 0; i < n; i++)
			t[o++] = ']';
		t[o++] = '}';
		t[o] = '\0';
		json_t *ref = json_loads(t, 0, NULL),
		       *got = k8s_json_decode(t, o, 0, k, err, sizeof(err));
		assert_int_equal(!ref, !got);
		assert_int_equal(!got, n == K8S_JSON_DEPTH_MAX);
		if (!got)
			assert_non_null(strstr(err, "maximum parsing depth reached"));
		json_decref(ref);
		json_decref(got);
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_bodies),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_no_managed_fields),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_packed_endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
