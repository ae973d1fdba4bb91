/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Kubernetes API client: where the API server is and how to authenticate (a kubeconfig file or
 * the in-cluster service account), and HTTP requests over libcurl with those settings.
 *
 * Follows client-go's conventions: a kubeconfig's current-context selects a cluster (server,
 * certificate-authority[-data], insecure-skip-tls-verify) and a user (client-certificate[-data],
 * client-key[-data], token, tokenFile); relative paths are relative to the kubeconfig's
 * directory; in a pod, `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` and the files
 * `token`, `ca.crt`, `namespace` of /var/run/secrets/kubernetes.io/serviceaccount (the
 * directory is overridden by the environment variable `STRAIT_SA_DIR`, for tests) are used,
 * and the token is re-read when the file changes (projected tokens rotate hourly).
 *
 * TLS is verified unless the kubeconfig says insecure-skip-tls-verify. Every request sends
 * `Accept: application/json` and `User-Agent: strait/<version>`: kube-apiserver answers
 * compact one-line JSON to any agent that is not curl, Wget or a browser.
 *
 * Thread context: a k8s_conn is plain data. A k8s_client may be shared by threads (the token
 * is guarded by a mutex); each thread uses its own CURL easy handles.
 */
#ifndef STRAIT_K8S_CLIENT_H
#define STRAIT_K8S_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include <strait/config.h>

#define K8S_URL_MAX   512
#define K8S_TOKEN_MAX 8192 /**< bytes; service-account JWTs are ~1 KB, OIDC ones larger */

/** How to reach one API server: the outcome of a kubeconfig or of the in-cluster config. */
struct k8s_conn {
	char server[K8S_URL_MAX];   /**< "https://host:port", no trailing slash */
	char ca_file[CFG_PATH_MAX]; /**< PEM bundle, "" = ca_data or the system store */
	char *ca_data;		    /**< PEM of certificate-authority-data; owned */
	size_t ca_len;
	char cert_file[CFG_PATH_MAX]; /**< client certificate, PEM */
	char *cert_data;	      /**< owned */
	size_t cert_len;
	char key_file[CFG_PATH_MAX]; /**< client key, PEM */
	char *key_data;		     /**< owned */
	size_t key_len;
	char token[K8S_TOKEN_MAX];     /**< static bearer token, "" = none */
	char token_file[CFG_PATH_MAX]; /**< bearer token re-read when it changes, "" = none */
	bool insecure; /**< insecure-skip-tls-verify: do not verify the server's certificate */
	char ns[CFG_NAME_MAX]; /**< the context's or service account's namespace, "" = none */
	char source[CFG_PATH_MAX + 64]; /**< for messages: "kubeconfig FILE (context C)" */
};

/**
 * Load the current context of a kubeconfig file.
 * @param path kubeconfig (YAML); relative certificate and token paths resolve against its
 *             directory.
 * @param out  filled on success (release with k8s_conn_free()); zeroed on failure.
 * @return 0; -ENOENT/-EACCES when the file cannot be read; -EINVAL (bad YAML, no
 *         current-context, unknown cluster or user, bad base64, an exec or auth-provider
 *         plugin, which strait does not run) with @p err naming the file and the key.
 */
int k8s_kubeconfig_load(const char *path, struct k8s_conn *out, char *err, size_t errlen);

/**
 * The in-cluster config of a pod: `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`, and
 * the service-account directory (`$STRAIT_SA_DIR` or
 * /var/run/secrets/kubernetes.io/serviceaccount): `token` (re-read on change), `ca.crt`,
 * `namespace` (optional).
 * @return 0; -ENOENT when not in a pod (no KUBERNETES_SERVICE_HOST) or the token is missing,
 *         with @p err saying which.
 */
int k8s_incluster_load(struct k8s_conn *out, char *err, size_t errlen);

/** Release what a k8s_conn owns (the -data blobs). Safe on a zeroed one. */
void k8s_conn_free(struct k8s_conn *c);

/**
 * Decode standard base64 (RFC 4648 §4; whitespace ignored, padding optional).
 * @param out  receives a malloc'ed buffer, NUL-terminated for convenience (PEM is text).
 * @return 0, -EINVAL on a character outside the alphabet, -ENOMEM.
 */
int k8s_base64_decode(const char *in, size_t len, char **out, size_t *outlen);

/** An API client: connection settings plus the current bearer token. */
struct k8s_client {
	struct k8s_conn conn;		    /**< owned copy */
	pthread_mutex_t lock;		    /**< guards token and token_* */
	char token[K8S_TOKEN_MAX];	    /**< current token ("" = none) */
	int64_t token_mtime_ns, token_size; /**< of token_file when last read */
	char user_agent[64];
};

/**
 * Create a client. Takes ownership of @p c's blobs (@p c is zeroed).
 * @return the client, or NULL with errno ENOMEM, or with errno and @p err set when the token
 *         file cannot be read.
 */
struct k8s_client *k8s_client_new(struct k8s_conn *c, char *err, size_t errlen);

/** Free a client made by k8s_client_new() and its curl handle; NULL is a no-op. Control
 * thread (the thread that used it). */
void k8s_client_free(struct k8s_client *c);

/**
 * Forget the token read from token_file so the next request reads it again: after a 401,
 * which may mean the token rotated under us.
 */
void k8s_client_token_invalidate(struct k8s_client *c);

/**
 * Prepare easy handle @p h for one request: URL = server + @p path (path and query, already
 * escaped), method, TLS settings, headers (Authorization, Accept, User-Agent, and Content-Type
 * when @p content_type is not NULL), a 10 s connect timeout, TCP keepalive. The handle keeps
 * its connection between requests: reuse it.
 * @param hdrs receives the header list; the caller frees it (curl_slist_free_all()) after the
 *             transfer.
 * @return 0 or -ENOMEM.
 */
int k8s_client_prepare(struct k8s_client *c, CURL *h, const char *method, const char *path,
		       const char *content_type, struct curl_slist **hdrs);

/** A response, or the reason there is none. */
struct k8s_response {
	long code;	 /**< HTTP status, 0 when the transfer failed */
	CURLcode result; /**< CURLE_OK or the transfer error */
	char *body;	 /**< NUL-terminated, owned; NULL when empty */
	size_t len;
	char error[CURL_ERROR_SIZE]; /**< curl's message when result != CURLE_OK */
};

/**
 * Perform one request and wait for the whole response (the status writer's and lease's
 * requests, never a watch). Blocks: never on the control thread.
 * @param body request body or NULL; @p content_type its type.
 * @param timeout_s whole-transfer limit.
 * @param cancel when not NULL and set by another thread, the transfer is abandoned within
 *               about a second (a shutdown must not wait for an unreachable server).
 * @return 0 when a response arrived (any HTTP status: see r->code), -EIO when the transfer
 *         failed or was cancelled (r->result, r->error), -ENOMEM.
 */
int k8s_client_request(struct k8s_client *c, CURL *h, const char *method, const char *path,
		       const char *content_type, const char *body, long timeout_s,
		       const atomic_bool *cancel, struct k8s_response *r);

/** Free the body held by @p r (body NULL, len 0 after); @p r itself is the caller's. */
void k8s_response_free(struct k8s_response *r);

/** A metav1.Status (the body of every API error, and of a watch's ERROR event). */
struct k8s_api_status {
	long code;	 /**< e.g. 410 */
	char reason[64]; /**< e.g. "Expired", "Forbidden" */
	char message[512];
};

/**
 * Decode a metav1.Status from @p obj (a JSON object with kind "Status").
 * @return 0 or -EINVAL when @p obj is not a Status.
 */
int k8s_api_status_decode(const json_t *obj, struct k8s_api_status *st);

/**
 * One-line description of a failed request for logs, e.g. "403 Forbidden: services is
 * forbidden: User ..." or "connection refused: Failed to connect to 127.0.0.1 port 6443".
 * @return @p buf.
 */
char *k8s_response_describe(const struct k8s_response *r, char *buf, size_t len);

/**
 * A key that changes when a failure changes kind (HTTP status, or curl error), so that a
 * failure is logged once per state change and not at every retry. 0 = success.
 */
long k8s_response_error_key(const struct k8s_response *r);

/** Monotonic clock in milliseconds. Any thread. */
uint64_t k8s_now_ms(void);

/**
 * Next retry delay for exponential backoff with jitter (AWS "equal jitter"): doubles the
 * nominal delay from 500 ms up to 30 s and returns a uniform value in [nominal/2, nominal].
 * @param nominal_ms in/out: the nominal delay; 0 starts over.
 * @param seed       in/out: per-caller PRNG state (any value to start).
 * @return the delay in ms, <= 30000.
 */
uint32_t k8s_backoff_next(uint32_t *nominal_ms, uint32_t *seed);

#define K8S_BACKOFF_MAX_MS 30000u
#define K8S_BACKOFF_MIN_MS 500u

/**
 * Format a time as RFC 3339 UTC ("2026-11-21T16:25:37Z"), or with microseconds when @p micro
 * (metav1.MicroTime, "2026-11-21T16:25:37.123456Z"). @p buf >= 32 bytes. @return buf.
 */
char *k8s_time_format(int64_t unix_us, bool micro, char *buf);

/** Current time in microseconds since the epoch (wall clock). */
int64_t k8s_wall_us(void);

#endif
