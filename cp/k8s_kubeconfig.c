/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where the API server is: a kubeconfig's current context, or the pod's service account.
 * The kubeconfig is read with the same YAML → JSON path as manifests; only the fields of
 * clientcmd's v1 Config that strait can honour are read, and the ones it cannot (exec and
 * auth-provider plugins) are refused by name rather than ignored, since ignoring them would
 * mean anonymous requests and confusing 401s.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <strait/k8s_client.h>
#include <strait/k8s_json.h>
#include <strait/k8s_manifests.h>

#define K8S_SA_DIR   "/var/run/secrets/kubernetes.io/serviceaccount"
#define K8S_FILE_MAX (1 << 20) /* a kubeconfig, a CA bundle or a token: 1 MB is plenty */

void k8s_conn_free(struct k8s_conn *c)
{
	free(c->ca_data);
	free(c->cert_data);
	free(c->key_data);
	c->ca_data = c->cert_data = c->key_data = NULL;
	c->ca_len = c->cert_len = c->key_len = 0;
}

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int k8s_base64_decode(const char *in, size_t len, char **out, size_t *outlen)
{
	char *buf = malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;
	bool pad = false;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		int v;

		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		if (ch == '=') {
			pad = true;
			continue;
		}
		v = b64_value(ch);
		if (v < 0 || pad) {
			free(buf);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (char)(acc >> bits & 0xff);
		}
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

/*
 * Read a whole small file (at most K8S_FILE_MAX bytes) into a buffer that grows with it, so
 * that a 2 KB kubeconfig costs a 4 KB buffer, not a megabyte. @return 0 or -errno (-EFBIG
 * when larger).
 */
static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 4096, n = 0;
	char *b = NULL;
	int e = 0;

	if (!f)
		return errno ? -errno : -EIO; // 0 would read as "read, with nothing in *buf"
	for (;;) {
		char *nb = realloc(b, cap + 1);

		if (!nb) {
			e = ENOMEM;
			break;
		}
		b = nb;
		n += fread(b + n, 1, cap + 1 - n, f);
		if (ferror(f)) {
			e = EIO;
			break;
		}
		if (n <= cap)
			break; // at the end: the buffer was not filled
		if (cap >= K8S_FILE_MAX) {
			e = EFBIG;
			break;
		}
		cap *= 2;
	}
	fclose(f);
	if (e) {
		free(b);
		return -e;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* @p path relative to the kubeconfig's directory, as clientcmd resolves it. */
static int resolve_path(const char *dir, const char *path, char *out, size_t outlen)
{
	int n;

	if (path[0] == '/' || dir[0] == '\0')
		n = snprintf(out, outlen, "%s", path);
	else
		n = snprintf(out, outlen, "%s/%s", dir, path);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Find the entry named @p name in list @p key ("clusters", "users", "contexts"). */
static json_t *named(const json_t *root, const char *key, const char *name)
{
	json_t *list = json_object_get(root, key), *it;
	size_t i;

	json_array_foreach(list, i, it)
		if (strcmp(k8s_str(it, "name", NULL), name) == 0)
			return it;
	return NULL;
}

/* One file-or-data pair: "<key>" (a path) or "<key>-data" (base64). */
static int load_pem(const json_t *obj, const char *key, const char *dir, char *file, size_t filelen,
		    char **data, size_t *len, const char *what, char *err, size_t errlen)
{
	char dkey[64];
	const char *d, *p;
	int rc;

	snprintf(dkey, sizeof(dkey), "%s-data", key);
	d = k8s_str(obj, dkey, NULL);
	p = k8s_str(obj, key, NULL);
	if (d[0]) {
		rc = k8s_base64_decode(d, strlen(d), data, len);
		if (rc == -EINVAL)
			snprintf(err, errlen, "%s.%s: not base64", what, dkey);
		return rc;
	}
	if (p[0] && resolve_path(dir, p, file, filelen) < 0) {
		snprintf(err, errlen, "%s.%s: path too long", what, key);
		return -EINVAL;
	}
	return 0;
}

int k8s_kubeconfig_load(const char *path, struct k8s_conn *out, char *err, size_t errlen)
{
	char *buf = NULL, dirbuf[CFG_PATH_MAX], dir[CFG_PATH_MAX], msg[512];
	json_t *docs = NULL, *root, *ctx, *cluster, *user;
	const char *cur, *cl_name, *us_name, *v;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_file(path, &buf, &len);
	if (rc < 0) {
		snprintf(err, errlen, "kubeconfig %s: cannot read: %s", path, strerror(-rc));
		return rc;
	}
	rc = k8s_yaml_to_json(path, buf, len, &docs, msg, sizeof(msg));
	free(buf);
	if (rc < 0) {
		snprintf(err, errlen, "kubeconfig %s", msg);
		return rc;
	}
	root = json_array_get(docs, 0);
	rc = -EINVAL;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "kubeconfig %s: not a kubeconfig (expected a mapping)", path);
		goto out;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(dirbuf));

	cur = k8s_str(root, "current-context", NULL);
	if (!cur[0]) {
		snprintf(err, errlen, "kubeconfig %s: current-context is not set", path);
		goto out;
	}
	ctx = json_object_get(named(root, "contexts", cur), "context");
	if (!ctx) {
		snprintf(err, errlen, "kubeconfig %s: contexts: no context named \"%s\"", path,
			 cur);
		goto out;
	}
	cl_name = k8s_str(ctx, "cluster", NULL);
	us_name = k8s_str(ctx, "user", NULL);
	cluster = json_object_get(named(root, "clusters", cl_name), "cluster");
	if (!cluster) {
		snprintf(err, errlen,
			 "kubeconfig %s: clusters: no cluster named \"%s\" (context %s)", path,
			 cl_name, cur);
		goto out;
	}
	user = us_name[0] ? json_object_get(named(root, "users", us_name), "user") : NULL;
	if (us_name[0] && !user) {
		snprintf(err, errlen, "kubeconfig %s: users: no user named \"%s\" (context %s)",
			 path, us_name, cur);
		goto out;
	}
	snprintf(out->ns, sizeof(out->ns), "%s", k8s_str(ctx, "namespace", NULL));
	snprintf(out->source, sizeof(out->source), "kubeconfig %s (context %s)", path, cur);

	v = k8s_str(cluster, "server", NULL);
	if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) {
		snprintf(err, errlen,
			 "kubeconfig %s: cluster %s: server \"%s\" is not an http(s) URL", path,
			 cl_name, v);
		goto out;
	}
	snprintf(out->server, sizeof(out->server), "%s", v);
	len = strlen(out->server);
	while (len > 0 && out->server[len - 1] == '/')
		out->server[--len] = '\0';
	out->insecure = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));

	snprintf(msg, sizeof(msg), "kubeconfig %s: cluster %s", path, cl_name);
	rc = load_pem(cluster, "certificate-authority", dir, out->ca_file, sizeof(out->ca_file),
		      &out->ca_data, &out->ca_len, msg, err, errlen);
	if (rc < 0)
		goto out;
	if (user) {
		if (json_object_get(user, "exec") || json_object_get(user, "auth-provider")) {
			snprintf(
				err, errlen,
				"kubeconfig %s: user %s: exec and auth-provider credential plugins "
				"are not supported; use a token or a client certificate",
				path, us_name);
			rc = -EINVAL;
			goto out;
		}
		snprintf(msg, sizeof(msg), "kubeconfig %s: user %s", path, us_name);
		rc = load_pem(user, "client-certificate", dir, out->cert_file,
			      sizeof(out->cert_file), &out->cert_data, &out->cert_len, msg, err,
			      errlen);
		if (rc == 0)
			rc = load_pem(user, "client-key", dir, out->key_file, sizeof(out->key_file),
				      &out->key_data, &out->key_len, msg, err, errlen);
		if (rc < 0)
			goto out;
		v = k8s_str(user, "token", NULL);
		if (strlen(v) >= sizeof(out->token)) {
			snprintf(err, errlen, "%s: token: longer than %zu bytes", msg,
				 sizeof(out->token) - 1);
			rc = -EINVAL;
			goto out;
		}
		snprintf(out->token, sizeof(out->token), "%s", v);
		v = k8s_str(user, "tokenFile", NULL);
		if (v[0] && resolve_path(dir, v, out->token_file, sizeof(out->token_file)) < 0) {
			snprintf(err, errlen, "%s: tokenFile: path too long", msg);
			rc = -EINVAL;
			goto out;
		}
		if ((out->cert_file[0] || out->cert_data) != (out->key_file[0] || out->key_data)) {
			snprintf(err, errlen, "%s: client-certificate and client-key go together",
				 msg);
			rc = -EINVAL;
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(docs);
	if (rc < 0) {
		k8s_conn_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int k8s_incluster_load(struct k8s_conn *out, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("STRAIT_SA_DIR");
	char path[CFG_PATH_MAX], *ns = NULL;
	struct stat sb;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if (!dir || !dir[0])
		dir = K8S_SA_DIR;
	if (!host || !host[0]) {
		snprintf(err, errlen,
			 "not running in a pod (KUBERNETES_SERVICE_HOST is not set) and no "
			 "kubeconfig given");
		return -ENOENT;
	}
	if (!port || !port[0])
		port = "443";
	// An IPv6 service address needs brackets in a URL.
	snprintf(out->server, sizeof(out->server),
		 strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	snprintf(out->token_file, sizeof(out->token_file), "%s/token", dir);
	if (stat(out->token_file, &sb) < 0) {
		int e = errno;
		snprintf(err, errlen, "in-cluster config: %s: %s", out->token_file, strerror(e));
		return -e;
	}
	snprintf(out->ca_file, sizeof(out->ca_file), "%s/ca.crt", dir);
	if (stat(out->ca_file, &sb) < 0)
		out->ca_file[0] = '\0'; // then the system store, as client-go does
	snprintf(path, sizeof(path), "%s/namespace", dir);
	if (read_file(path, &ns, &len) == 0 && ns) {
		ns[strcspn(ns, " \r\n")] = '\0';
		snprintf(out->ns, sizeof(out->ns), "%s", ns);
		free(ns);
	}
	snprintf(out->source, sizeof(out->source), "in-cluster config (%.160s, %.120s)",
		 out->server, dir);
	return 0;
}
