/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP to the API server over libcurl. Every easy handle is set up here, so TLS and
 * authentication are decided in one place for the watcher's multi handle and the writer's
 * blocking requests alike.
 *
 * The bearer token of a service account is a file that the kubelet rewrites before the token
 * expires (projected tokens last an hour, rotated at 80%). Like client-go's
 * CachedFileTokenSource, the file is re-read when it changes, checked with one stat() per
 * request (cheaper than a timer thread and never stale), and again after a 401.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <strait/k8s_client.h>
#include <strait/log.h>

#define K8S_CONNECT_TIMEOUT_S 10L
#define K8S_BODY_MAX	      (256u << 20) /* 500 pods are a few MB: refuse absurd */

uint64_t k8s_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t k8s_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *k8s_time_format(int64_t unix_us, bool micro, char *buf)
{
	time_t s = (time_t)(unix_us / 1000000);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(buf + n, 32 - n, ".%06dZ", (int)(unix_us % 1000000));
	else
		snprintf(buf + n, 32 - n, "Z");
	return buf;
}

uint32_t k8s_backoff_next(uint32_t *nominal_ms, uint32_t *seed)
{
	uint32_t n = *nominal_ms;

	n = n == 0 ? K8S_BACKOFF_MIN_MS : n >= K8S_BACKOFF_MAX_MS / 2 ? K8S_BACKOFF_MAX_MS : n * 2;
	*nominal_ms = n;
	// xorshift32: a jitter source per caller, no shared state between threads.
	uint32_t x = *seed ? *seed : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*seed = x;
	// Half fixed, half random: instances that failed together do not retry together, and
	// none retries sooner than half the nominal delay.
	return n / 2 + x % (n / 2 + 1);
}

/* Read the token file if it changed; caller holds c->lock. */
static int token_refresh(struct k8s_client *c)
{
	struct stat sb;
	FILE *f;
	size_t n;

	if (!c->conn.token_file[0])
		return 0;
	if (stat(c->conn.token_file, &sb) < 0)
		return c->token[0] ? 0 : -errno; // keep the last good token if it vanishes briefly
	int64_t mtime = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	if (c->token[0] && mtime == c->token_mtime_ns && sb.st_size == c->token_size)
		return 0;
	f = fopen(c->conn.token_file, "re");
	if (!f)
		return c->token[0] ? 0 : -errno;
	n = fread(c->token, 1, sizeof(c->token) - 1, f);
	fclose(f);
	c->token[n] = '\0';
	// Files written by hand end with a newline; a header value must not.
	c->token[strcspn(c->token, "\r\n")] = '\0';
	c->token_mtime_ns = mtime;
	c->token_size = sb.st_size;
	return 0;
}

struct k8s_client *k8s_client_new(struct k8s_conn *conn, char *err, size_t errlen)
{
	struct k8s_client *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->conn = *conn;
	memset(conn, 0, sizeof(*conn));
	pthread_mutex_init(&c->lock, NULL);
	snprintf(c->token, sizeof(c->token), "%s", c->conn.token);
	snprintf(c->user_agent, sizeof(c->user_agent), "strait/0.1.0");
	rc = token_refresh(c);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read the token: %s", c->conn.token_file,
			 strerror(-rc));
		k8s_client_free(c);
		errno = -rc;
		return NULL;
	}
	return c;
}

void k8s_client_free(struct k8s_client *c)
{
	if (!c)
		return;
	k8s_conn_free(&c->conn);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void k8s_client_token_invalidate(struct k8s_client *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->conn.token_file[0])
		c->token_mtime_ns = -1;
	pthread_mutex_unlock(&c->lock);
}

int k8s_client_prepare(struct k8s_client *c, CURL *h, const char *method, const char *path,
		       const char *content_type, struct curl_slist **hdrs)
{
	char url[K8S_URL_MAX + 4096];
	char auth[K8S_TOKEN_MAX + 32];
	struct curl_slist *l = NULL, *n;

	*hdrs = NULL;
	snprintf(url, sizeof(url), "%s%s", c->conn.server, path);
	pthread_mutex_lock(&c->lock);
	token_refresh(c);
	auth[0] = '\0';
	if (c->token[0])
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	pthread_mutex_unlock(&c->lock);

	// Reset everything a previous request on this handle set, but keep its connection.
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, K8S_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); // gzip when the server offers it
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

	if (c->conn.insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->conn.ca_data) {
		struct curl_blob b = {
			.data = c->conn.ca_data, .len = c->conn.ca_len, .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	} else if (c->conn.ca_file[0]) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->conn.ca_file);
	}
	if (c->conn.cert_data) {
		struct curl_blob b = {.data = c->conn.cert_data,
				      .len = c->conn.cert_len,
				      .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->conn.cert_file[0]) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->conn.cert_file);
	}
	if (c->conn.key_data) {
		struct curl_blob b = {.data = c->conn.key_data,
				      .len = c->conn.key_len,
				      .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->conn.key_file[0]) {
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->conn.key_file);
	}

	const char *fixed[] = {"Accept: application/json", auth[0] ? auth : NULL};
	for (unsigned int i = 0; i < 2; i++) {
		if (!fixed[i])
			continue;
		if (!(n = curl_slist_append(l, fixed[i])))
			goto nomem;
		l = n;
	}
	if (content_type) {
		char ct[128];
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		if (!(n = curl_slist_append(l, ct)))
			goto nomem;
		l = n;
	}
	// No "Expect: 100-continue" round trip before a body: the API server answers at once.
	if (!(n = curl_slist_append(l, "Expect:")))
		goto nomem;
	l = n;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	*hdrs = l;
	return 0;
nomem:
	curl_slist_free_all(l);
	return -ENOMEM;
}

struct body_buf {
	char *p;
	size_t len, cap;
	bool too_big;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > K8S_BODY_MAX) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* curl calls this about once a second, and at every block of data. */
static int request_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			    curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load((const atomic_bool *)arg) ? 1 : 0;
}

int k8s_client_request(struct k8s_client *c, CURL *h, const char *method, const char *path,
		       const char *content_type, const char *body, long timeout_s,
		       const atomic_bool *cancel, struct k8s_response *r)
{
	struct body_buf b = {0};
	struct curl_slist *hdrs;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = k8s_client_prepare(c, h, method, path, body ? content_type : NULL, &hdrs);
	if (rc < 0)
		return rc;
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->error);
	if (cancel) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, request_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);
	}
	r->result = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
	r->body = b.p;
	r->len = b.len;
	if (r->result != CURLE_OK) {
		if (!r->error[0])
			snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(r->result));
		r->code = 0;
		return b.too_big ? -EFBIG : -EIO;
	}
	if (r->code == 401)
		k8s_client_token_invalidate(c);
	return 0;
}

void k8s_response_free(struct k8s_response *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int k8s_api_status_decode(const json_t *obj, struct k8s_api_status *st)
{
	const char *s;

	memset(st, 0, sizeof(*st));
	s = json_string_value(json_object_get(obj, "kind"));
	if (!s || strcmp(s, "Status") != 0)
		return -EINVAL;
	st->code = (long)json_integer_value(json_object_get(obj, "code"));
	s = json_string_value(json_object_get(obj, "reason"));
	snprintf(st->reason, sizeof(st->reason), "%s", s ? s : "");
	s = json_string_value(json_object_get(obj, "message"));
	snprintf(st->message, sizeof(st->message), "%s", s ? s : "");
	return 0;
}

static const char *http_reason(long code)
{
	switch (code) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "";
	}
}

char *k8s_response_describe(const struct k8s_response *r, char *buf, size_t len)
{
	struct k8s_api_status st;
	json_t *obj;

	if (r->result != CURLE_OK) {
		snprintf(buf, len, "%s: %s", curl_easy_strerror(r->result), r->error);
		return buf;
	}
	obj = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	if (obj && k8s_api_status_decode(obj, &st) == 0 && st.message[0])
		snprintf(buf, len, "%ld %s: %s", r->code, http_reason(r->code), st.message);
	else
		snprintf(buf, len, "%ld %s", r->code, http_reason(r->code));
	json_decref(obj);
	return buf;
}

long k8s_response_error_key(const struct k8s_response *r)
{
	if (r->result != CURLE_OK)
		return -(long)r->result;
	return r->code >= 200 && r->code < 300 ? 0 : r->code;
}
