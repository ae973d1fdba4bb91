/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kubernetes client: kubeconfig and in-cluster config, base64, the token re-read on rotation,
 * backoff, time formats, and error descriptions from recorded API error bodies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <strait/k8s_client.h>

#include "k8s_testlib.h"

static char dir[256], path[512], err[512];

static int setup(void **state)
{
	(void)state;
	t_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_rmdir(dir);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("STRAIT_SA_DIR");
	return 0;
}

// "-----BEGIN CERTIFICATE-----\nAAA\n" and the client cert/key, as base64.
#define CA_PEM "-----BEGIN CERTIFICATE-----\nAAA\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQQo="

static void kubeconfig_token_and_ca_data_load(void **state)
{
	struct k8s_conn c;

	(void)state;
	t_write(path, "apiVersion: v1\n"
		      "kind: Config\n"
		      "current-context: prod\n"
		      "clusters:\n"
		      "- name: other\n"
		      "  cluster: {server: https://10.9.9.9:6443}\n"
		      "- name: c1\n"
		      "  cluster:\n"
		      "    server: https://127.0.0.1:6443/\n"
		      "    certificate-authority-data: " CA_B64 "\n"
		      "users:\n"
		      "- name: u1\n"
		      "  user: {token: abc.def.ghi}\n"
		      "contexts:\n"
		      "- name: dev\n"
		      "  context: {cluster: other, user: u1}\n"
		      "- name: prod\n"
		      "  context: {cluster: c1, user: u1, namespace: kafka}\n");
	assert_int_equal(k8s_kubeconfig_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://127.0.0.1:6443"); // trailing slash dropped
	assert_string_equal(c.token, "abc.def.ghi");
	assert_string_equal(c.ns, "kafka");
	assert_non_null(c.ca_data);
	assert_int_equal(c.ca_len, strlen(CA_PEM));
	assert_memory_equal(c.ca_data, CA_PEM, c.ca_len);
	assert_false(c.insecure);
	assert_string_equal(c.cert_file, "");
	assert_null(c.cert_data);
	assert_non_null(strstr(c.source, "context prod"));
	k8s_conn_free(&c);
}

static void kubeconfig_relative_paths_resolve_against_its_directory(void **state)
{
	struct k8s_conn c;
	char want[600];

	(void)state;
	t_write(path, "current-context: x\n"
		      "clusters: [{name: c, cluster: {server: 'https://k:443', "
		      "certificate-authority: ca.crt, insecure-skip-tls-verify: true}}]\n"
		      "users: [{name: u, user: {client-certificate: certs/me.crt, "
		      "client-key: /abs/me.key, tokenFile: tok}}]\n"
		      "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	assert_int_equal(k8s_kubeconfig_load(path, &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/ca.crt", dir);
	assert_string_equal(c.ca_file, want);
	snprintf(want, sizeof(want), "%s/certs/me.crt", dir);
	assert_string_equal(c.cert_file, want);
	assert_string_equal(c.key_file, "/abs/me.key");
	snprintf(want, sizeof(want), "%s/tok", dir);
	assert_string_equal(c.token_file, want);
	assert_true(c.insecure);
	k8s_conn_free(&c);
}

/* The file is read into a buffer that grows: one past several doublings loads whole, one
 * past the 1 MB bound is refused with EFBIG, not cut. */
static void kubeconfig_of_any_size_up_to_1mb_loads_whole(void **state)
{
	const char *head = "current-context: x\n"
			   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			   "users: [{name: u, user: {token: t0k}}]\n";
	const char *tail = "clusters: [{name: c, cluster: {server: 'https://k:6443'}}]\n";
	size_t sizes[] = {300 * 1024, (1 << 20) + 1};
	struct k8s_conn c;

	(void)state;
	for (int i = 0; i < 2; i++) {
		size_t n = sizes[i], hl = strlen(head), tl = strlen(tail);
		char *yaml = malloc(n + 1);

		assert_non_null(yaml);
		memcpy(yaml, head, hl);
		// a comment line padding the middle, so that the last key sits past 4 KB
		memset(yaml + hl, '#', n - hl - tl);
		yaml[n - tl - 1] = '\n';
		memcpy(yaml + n - tl, tail, tl + 1);
		t_write(path, yaml);
		free(yaml);
		if (i == 0) {
			assert_int_equal(k8s_kubeconfig_load(path, &c, err, sizeof(err)), 0);
			assert_string_equal(c.server, "https://k:6443");
			assert_string_equal(c.token, "t0k");
			k8s_conn_free(&c);
		} else {
			assert_int_equal(k8s_kubeconfig_load(path, &c, err, sizeof(err)), -EFBIG);
			assert_non_null(strstr(err, "cannot read"));
		}
	}
}

static void expect_kubeconfig_error(const char *yaml, int rc, const char *msg_part)
{
	struct k8s_conn c;

	t_write(path, yaml);
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(k8s_kubeconfig_load(path, &c, err, sizeof(err)), rc);
	if (!strstr(err, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err, msg_part);
	assert_null(c.ca_data);
	assert_string_equal(c.server, "");
}

static void kubeconfig_errors_name_file_and_key(void **state)
{
	(void)state;
	expect_kubeconfig_error("clusters: []\n", -EINVAL, "current-context is not set");
	expect_kubeconfig_error("current-context: a\ncontexts: []\n", -EINVAL,
				"contexts: no context named \"a\"");
	expect_kubeconfig_error("current-context: a\n"
				"contexts: [{name: a, context: {cluster: nope, user: u}}]\n",
				-EINVAL, "clusters: no cluster named \"nope\" (context a)");
	expect_kubeconfig_error("current-context: a\n"
				"clusters: [{name: c, cluster: {server: https://x}}]\n"
				"contexts: [{name: a, context: {cluster: c, user: who}}]\n",
				-EINVAL, "users: no user named \"who\"");
	expect_kubeconfig_error("current-context: a\n"
				"clusters: [{name: c, cluster: {server: 'ftp://x'}}]\n"
				"contexts: [{name: a, context: {cluster: c}}]\n",
				-EINVAL, "server \"ftp://x\" is not an http(s) URL");
	expect_kubeconfig_error("current-context: a\n"
				"clusters: [{name: c, cluster: {server: https://x, "
				"certificate-authority-data: '@@@'}}]\n"
				"contexts: [{name: a, context: {cluster: c}}]\n",
				-EINVAL, "certificate-authority-data: not base64");
	expect_kubeconfig_error("current-context: a\n"
				"clusters: [{name: c, cluster: {server: https://x}}]\n"
				"users: [{name: u, user: {exec: {command: aws}}}]\n"
				"contexts: [{name: a, context: {cluster: c, user: u}}]\n",
				-EINVAL,
				"exec and auth-provider credential plugins are not supported");
	expect_kubeconfig_error("current-context: a\n"
				"clusters: [{name: c, cluster: {server: https://x}}]\n"
				"users: [{name: u, user: {client-certificate: a.crt}}]\n"
				"contexts: [{name: a, context: {cluster: c, user: u}}]\n",
				-EINVAL, "client-certificate and client-key go together");
	expect_kubeconfig_error("a: [\n", -EINVAL, "syntax error");
	snprintf(path, sizeof(path), "%s/nope", dir);
	struct k8s_conn c;
	assert_int_equal(k8s_kubeconfig_load(path, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read"));
}

static void incluster_uses_env_and_service_account_dir(void **state)
{
	struct k8s_conn c;
	char f[600];

	(void)state;
	assert_int_equal(k8s_incluster_load(&c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv("STRAIT_SA_DIR", dir, 1);
	assert_int_equal(k8s_incluster_load(&c, err, sizeof(err)), -ENOENT); // no token yet
	snprintf(f, sizeof(f), "%s/token", dir);
	t_write(f, "tok-1\n");
	snprintf(f, sizeof(f), "%s/namespace", dir);
	t_write(f, "strait-system");
	snprintf(f, sizeof(f), "%s/ca.crt", dir);
	t_write(f, CA_PEM);
	assert_int_equal(k8s_incluster_load(&c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.ns, "strait-system");
	assert_string_equal(c.ca_file, f);
	snprintf(f, sizeof(f), "%s/token", dir);
	assert_string_equal(c.token_file, f);
	k8s_conn_free(&c);

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(k8s_incluster_load(&c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	k8s_conn_free(&c);
}

static void token_file_is_read_again_when_it_rotates(void **state)
{
	struct k8s_conn c = {0};
	struct k8s_client *cl;
	struct curl_slist *h;
	struct timespec later[2] = {{0, UTIME_NOW}, {time(NULL) + 10, 0}};
	CURL *e = curl_easy_init();
	char f[600];

	(void)state;
	assert_non_null(e);
	snprintf(f, sizeof(f), "%s/token", dir);
	t_write(f, "first\n");
	snprintf(c.server, sizeof(c.server), "https://127.0.0.1:1");
	snprintf(c.token_file, sizeof(c.token_file), "%.200s", f);
	cl = k8s_client_new(&c, err, sizeof(err));
	assert_non_null(cl);
	assert_string_equal(cl->token, "first"); // the newline is not part of the token

	t_write(f, "second-token\n");
	utimensat(AT_FDCWD, f, later, 0); // a rotation always moves mtime; make sure it shows
	assert_int_equal(k8s_client_prepare(cl, e, "GET", "/api/v1/pods", NULL, &h), 0);
	curl_slist_free_all(h);
	assert_string_equal(cl->token, "second-token");

	// After a 401 the file is read again even if stat() shows no change.
	t_write(f, "third-token!");
	utimensat(AT_FDCWD, f, later, 0);
	k8s_client_token_invalidate(cl);
	assert_int_equal(k8s_client_prepare(cl, e, "GET", "/", "application/json", &h), 0);
	curl_slist_free_all(h);
	assert_string_equal(cl->token, "third-token!");
	k8s_client_free(cl);
	curl_easy_cleanup(e);

	// No token file at all: refused at creation, errno set.
	memset(&c, 0, sizeof(c));
	snprintf(c.token_file, sizeof(c.token_file), "%.200s/none", dir);
	assert_null(k8s_client_new(&c, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
}

static void base64_decodes_rfc4648_vectors(void **state)
{
	static const char *const v[][2] = {
		{"", ""},
		{"Zg==", "f"},
		{"Zm8=", "fo"},
		{"Zm9v", "foo"},
		{"Zm9vYg==", "foob"},
		{"Zm9vYmE=", "fooba"},
		{"Zm9vYmFy", "foobar"},
		{"Zm9v\nYmFy", "foobar"},
		{"Zm9vYg", "foob"},
	};
	char *out;
	size_t len;

	(void)state;
	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(k8s_base64_decode(v[i][0], strlen(v[i][0]), &out, &len), 0);
		assert_int_equal(len, strlen(v[i][1]));
		assert_string_equal(out, v[i][1]);
		free(out);
	}
	assert_int_equal(k8s_base64_decode("Zm9v!", 5, &out, &len), -EINVAL);
	assert_int_equal(k8s_base64_decode("Zg==Zg", 6, &out, &len), -EINVAL); // data after pad
}

static void backoff_doubles_with_jitter_and_caps_at_30s(void **state)
{
	uint32_t nominal = 0, seed = 1, d;
	uint32_t want[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};

	(void)state;
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		d = k8s_backoff_next(&nominal, &seed);
		assert_int_equal(nominal, want[i]);
		assert_true(d >= want[i] / 2 && d <= want[i]);
	}
	// Two callers with different seeds do not retry in lockstep.
	uint32_t n1 = 16000, n2 = 16000, s1 = 7, s2 = 8;
	bool differ = false;
	for (int i = 0; i < 8; i++)
		differ |= k8s_backoff_next(&n1, &s1) != k8s_backoff_next(&n2, &s2);
	assert_true(differ);
}

static void times_are_rfc3339_utc(void **state)
{
	char b[32];

	(void)state;
	// 2026-11-21T16:25:37Z, the fixtures' creationTimestamp of Mapping kafka-external.
	int64_t us = 1795278337LL * 1000000 + 123456;
	assert_string_equal(k8s_time_format(us, false, b), "2026-11-21T16:25:37Z");
	assert_string_equal(k8s_time_format(us, true, b), "2026-11-21T16:25:37.123456Z");
}

static void error_bodies_are_described_with_the_status_message(void **state)
{
	struct k8s_response r = {.code = 403, .result = CURLE_OK};
	struct k8s_api_status st;
	char d[600];
	json_t *j;

	(void)state;
	r.body = t_wire("error-403-serviceaccount-forbidden.json", &r.len);
	assert_string_equal(k8s_response_describe(&r, d, sizeof(d)),
			    "403 Forbidden: services is forbidden: User "
			    "\"system:serviceaccount:kafka:no-perms\" cannot list resource "
			    "\"services\" in API group \"\" in the namespace \"kafka\"");
	assert_int_equal(k8s_response_error_key(&r), 403);
	k8s_response_free(&r);

	static const struct {
		const char *file;
		long code;
		const char *reason;
	} errs[] = {
		{"error-401-bad-token.json", 401, "Unauthorized"},
		{"error-403-serviceaccount-forbidden-watch.json", 403, "Forbidden"},
		{"error-404-mapping-not-found.json", 404, "NotFound"},
		{"error-404-service-not-found.json", 404, "NotFound"},
		{"error-410-list-rv-compacted.json", 410, "Expired"},
		{"mapping-status-patch-conflict.response.json", 409, "Conflict"},
	};
	for (unsigned int i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		j = t_wire_json(errs[i].file);
		assert_int_equal(k8s_api_status_decode(j, &st), 0);
		assert_int_equal(st.code, errs[i].code);
		assert_string_equal(st.reason, errs[i].reason);
		assert_true(st.message[0] != '\0');
		json_decref(j);
	}
	j = t_wire_json("version.json");
	assert_int_equal(k8s_api_status_decode(j, &st), -EINVAL);
	json_decref(j);

	struct k8s_response refused = {.result = CURLE_COULDNT_CONNECT};
	snprintf(refused.error, sizeof(refused.error), "Failed to connect to 127.0.0.1 port 6443");
	assert_string_equal(k8s_response_describe(&refused, d, sizeof(d)),
			    "Couldn't connect to server: Failed to connect to 127.0.0.1 port 6443");
	assert_int_equal(k8s_response_error_key(&refused), -(long)CURLE_COULDNT_CONNECT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(kubeconfig_token_and_ca_data_load, setup, teardown),
		cmocka_unit_test_setup_teardown(
			kubeconfig_relative_paths_resolve_against_its_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(kubeconfig_of_any_size_up_to_1mb_loads_whole, setup,
						teardown),
		cmocka_unit_test_setup_teardown(kubeconfig_errors_name_file_and_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(incluster_uses_env_and_service_account_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(token_file_is_read_again_when_it_rotates, setup,
						teardown),
		cmocka_unit_test(base64_decodes_rfc4648_vectors),
		cmocka_unit_test(backoff_doubles_with_jitter_and_caps_at_30s),
		cmocka_unit_test(times_are_rfc3339_utc),
		cmocka_unit_test(error_bodies_are_described_with_the_status_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
