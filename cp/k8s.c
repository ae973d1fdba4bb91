/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kubernetes on the control thread: apply what the k8s thread learned to the caches,
 * reconcile, publish through cp_mappings_replace(CP_SRC_K8S, ...) (the one path every source
 * takes to the data plane), and report back: each source kind's status writer (its row,
 * k8s_source.h; k8s_report.c) and Events, through the writer thread (API mode), or the log
 * (offline mode, --manifests DIR). Nothing here names a source kind.
 *
 * Nothing here blocks: the queue is only try-locked and the writer only takes submissions.
 * A reconcile runs only when something changed, and rebuilds only the sources whose objects
 * (or what they read) changed since the last one (k8s_reconcile(): the caches log the
 * changes, the store keeps the others' results); the tables are republished only when the
 * resulting mappings differ from the published ones, so unrelated object changes cost no
 * table generation. The watch's echoes of our own status writes cost no reconcile pass at
 * all: a new version that differs only in what no reconcile reads (.status of most kinds,
 * resourceVersion; k8s_cache.status_unread) replaces the cached object without being logged
 * as a change, and only the status writers look at that object again (k8s_report_run()). Changes are coalesced: each poll takes
 * every update queued since the last (all that arrived while a publication was built, since
 * building and publishing run here, on this thread) and reconciles and publishes once for
 * all of them; several changes to one object cost one build of its source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <strait/cp.h>
#include <strait/k8s_cache.h>
#include <strait/k8s_json.h>
#include <strait/k8s_manifests.h>
#include <strait/k8s_queue.h>
#include <strait/k8s_reconcile.h>
#include <strait/k8s_status.h>
#include <strait/k8s_watch.h>
#include <strait/log.h>
#include <strait/tables.h>

#include "cp_priv.h"
#include "k8s_report.h"
#include "k8s_source.h"

#define ALL_KINDS	 ((1u << K8S_KIND_MAX) - 1)
#define PUBLISH_RETRY_MS 5000

enum k8s_mode { MODE_OFF, MODE_API, MODE_OFFLINE };

static struct {
	enum k8s_mode mode;
	struct k8s_store store;
	struct k8s_queue q;
	struct k8s_client *client;
	struct k8s_watcher *watcher;
	struct k8s_writer *writer;
	char dir[CFG_PATH_MAX];
	char identity[128];
	unsigned int attempted; /* kinds whose first list finished, well or not */
	unsigned int failing;	/* kinds whose informer is retrying */
	bool dirty, resubmit;
	bool have_published; /* published_fp is meaningful */
	uint64_t published_fp;
	uint64_t isolated_fp; /* desired set that published as published_fp after isolation */
	bool warned_no_pools;
	char pool_err[256]; /* last invalid AddressPool logged */
	bool publish_failed;
	bool curl_ready;
	char publish_err[512];
	char publish_status[256]; /* publish_err without names, for every object's status */
	uint64_t retry_ms;
	/* the status pass: the book, per source object "Kind/ns/name" ({fp, gen, sent, in, ev,
	 * log}), and the last results */
	struct k8s_reporter rr;
} k;

static void identity_init(void)
{
	char host[64] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(k.identity, sizeof(k.identity), "%s_%d", host[0] ? host : "strait", (int)getpid());
}

/* The other sources' mappings: they win every conflict. */
static const struct cfg_mapping **reserved_mappings(unsigned int *n)
{
	unsigned int total = cp_mapping_count(), c = 0;
	const struct cfg_mapping **r = calloc(total ? total : 1, sizeof(*r));

	for (unsigned int i = 0; r && i < total; i++) {
		enum cp_source src;
		const struct cfg_mapping *m = cp_mapping_at(i, &src);
		if (src != CP_SRC_K8S)
			r[c++] = m;
	}
	*n = c;
	return r;
}

/* k8s_try_build_fn: a build of the other sources' mappings and @p maps, never published. */
static int try_build(void *arg, const struct cfg_mapping *maps, unsigned int n, int *failed,
		     char *err, size_t errlen)
{
	unsigned int n_reserved;
	const struct cfg_mapping **reserved = reserved_mappings(&n_reserved);
	const struct cfg_mapping **ptrs;
	struct tables *t;
	int f = -1, rc = 0;

	(void)arg;
	*failed = -1;
	ptrs = reserved ? realloc(reserved, (n_reserved + n + 1) * sizeof(*ptrs)) : NULL;
	if (!ptrs) {
		free(reserved);
		return -ENOMEM;
	}
	// The order cp_mappings_replace() builds in: the other sources', then ours.
	for (unsigned int i = 0; i < n; i++)
		ptrs[n_reserved + i] = &maps[i];
	t = tables_build_at(cp_config(), ptrs, n_reserved + n, cp_slot_of, 0, &f, err, errlen);
	if (t)
		tables_free(t);
	else
		rc = errno ? -errno : -ENOMEM;
	free(ptrs);
	if (rc < 0 && f >= (int)n_reserved)
		*failed = f - (int)n_reserved;
	return rc;
}

/* Publish @p d; a build failure on one object's mapping fails that object only. */
static int publish(struct k8s_desired *d, char *err, size_t errlen)
{
	uint64_t wanted = d->fingerprint;
	char ierr[512];
	int rc;

	rc = cp_mappings_replace_ids(CP_SRC_K8S, d->maps, d->ids, d->n_maps, err, errlen);
	if (rc < 0) {
		K8S_LOG(DEBUG, "publish: %s; isolating the objects at fault", err);
		if (k8s_desired_isolate(d, try_build, NULL, ierr, sizeof(ierr)) == 0)
			rc = cp_mappings_replace_ids(CP_SRC_K8S, d->maps, d->ids, d->n_maps, err,
						     errlen);
	}
	if (rc == 0)
		k.isolated_fp = d->fingerprint != wanted ? wanted : 0;
	return rc;
}

static void pools_log(const struct k8s_desired *d)
{
	if (!d->pools.enforce && d->n_res > 0 && !k.warned_no_pools) {
		K8S_LOG(WARNING,
			"no address pool is defined: Kubernetes objects may use any "
			"address as a VIP; define addressPools in the config or AddressPool "
			"objects to restrict them (docs/kubernetes.md, Address pools)");
		k.warned_no_pools = true;
	}
	if (strcmp(d->pools.invalid, k.pool_err) != 0 && d->pools.invalid[0])
		K8S_LOG(WARNING, "%u AddressPool objects left out: %s", d->pools.n_invalid,
			d->pools.invalid);
	snprintf(k.pool_err, sizeof(k.pool_err), "%s", d->pools.invalid);
}

static void report(struct k8s_desired *d);

static void reconcile(void)
{
	const struct cfg *cfg = cp_config();
	struct k8s_reconcile_params p = {0};
	struct k8s_desired d;
	char err[512];
	const struct cfg_mapping **reserved;
	bool published;
	int rc;

	k8s_reconcile_params_cfg(&p, cfg); // a reload (SIGHUP) may have changed the pools
	reserved = reserved_mappings(&p.n_reserved);
	if (!reserved)
		return;
	p.reserved = reserved;
	rc = k8s_reconcile(&k.store, &p, &d);
	free(reserved);
	if (rc < 0) {
		K8S_LOG(ERR, "reconcile: %s; will retry", strerror(-rc));
		k.retry_ms = k8s_now_ms() + PUBLISH_RETRY_MS;
		return;
	}
	k.dirty = false;
	pools_log(&d);
	// The same desired set as the one that published after isolation: fail the same
	// objects again (trial builds only), so that nothing is published again.
	if (k.have_published && !k.publish_failed && k.isolated_fp &&
	    d.fingerprint == k.isolated_fp) {
		char ierr[512];
		k8s_desired_isolate(&d, try_build, NULL, ierr, sizeof(ierr));
	}
	published = k.have_published && d.fingerprint == k.published_fp && !k.publish_failed;
	if (!published) {
		uint64_t before = cp_generation();
		rc = publish(&d, err, sizeof(err));
		if (rc < 0) {
			if (!k.publish_failed || strcmp(err, k.publish_err) != 0)
				K8S_LOG(ERR,
					"cannot publish %u Kubernetes mappings: %s; forwarding "
					"continues on tables generation %lu",
					d.n_maps, err, (unsigned long)before);
			snprintf(k.publish_err, sizeof(k.publish_err), "%s", err);
			// What every object's status says: no other object's name in it.
			snprintf(
				k.publish_status, sizeof(k.publish_status),
				"the gateway could not build its tables (%s); forwarding continues "
				"on tables generation %lu",
				strerror(-rc), (unsigned long)before);
			k.publish_failed = true;
			k.retry_ms = k8s_now_ms() + PUBLISH_RETRY_MS;
		} else {
			if (k.publish_failed)
				K8S_LOG(NOTICE, "Kubernetes mappings published again");
			k.publish_failed = false;
			k.have_published = true;
			k.published_fp = d.fingerprint;
			K8S_LOG(DEBUG,
				"%u mappings from %u Kubernetes objects: tables generation %lu",
				d.n_maps, d.n_res, (unsigned long)cp_generation());
		}
	}

	report(&d);
	k8s_desired_free(&d);
}

/* The status pass after reconcile @p d, or (NULL) after objects changed in what no reconcile
 * reads (echoes of our own status writes): only what changed is compared again. */
static void report(struct k8s_desired *d)
{
	struct k8s_report rep = {
		.writer = k.writer,
		.offline = k.mode == MODE_OFFLINE,
		.publish_error = k.publish_failed ? k.publish_status : NULL,
		.identity = k.identity,
		.generation = cp_generation(),
	};

	k8s_report_run(&k.rr, &rep, &k.store, d);
}

/* ---- Offline mode ---- */

static int manifests_apply(char *err, size_t errlen)
{
	json_t *items[K8S_KIND_MAX];
	unsigned int files, changed, total = 0, objs = 0;
	int rc;

	rc = k8s_manifests_load(k.dir, items, &files, err, errlen);
	if (rc < 0)
		return rc;
	for (int i = 0; i < K8S_KIND_MAX; i++) {
		changed = 0; // after a failed kind the rest are only released
		if (rc == 0)
			rc = k8s_cache_replace(&k.store.c[i], items[i], &changed);
		total += changed;
		objs += (unsigned int)json_array_size(items[i]);
		json_decref(items[i]);
	}
	if (rc < 0) {
		snprintf(err, errlen, "--manifests %s: %s", k.dir, strerror(-rc));
		return rc;
	}
	K8S_LOG(NOTICE, "manifests %s: %u objects in %u files, %u changed", k.dir, objs, files,
		total);
	k.dirty = k.dirty || total > 0 || !k.have_published;
	return 0;
}

/* ---- API mode ---- */

static int api_init(const struct cp_args *a, char *err, size_t errlen)
{
	const struct cfg *cfg = cp_config();
	const char *kc = cfg->k8s.kubeconfig, *env;
	struct k8s_writer_params wp = {.lease_duration_s = 15, .retry_ms = 2000};
	char home[CFG_PATH_MAX];
	struct k8s_conn conn;
	struct stat sb;
	int rc;

	(void)a;
	// kubectl's order: the given file, then in a pod the service account, then
	// $KUBECONFIG (its first file), then ~/.kube/config.
	if (!kc[0] && !getenv("KUBERNETES_SERVICE_HOST")) {
		env = getenv("KUBECONFIG");
		if (env && env[0]) {
			snprintf(home, sizeof(home), "%.*s", (int)strcspn(env, ":"), env);
			kc = home;
		} else if ((env = getenv("HOME"))) {
			snprintf(home, sizeof(home), "%s/.kube/config", env);
			kc = stat(home, &sb) == 0 ? home : "";
		}
	}
	rc = kc[0] ? k8s_kubeconfig_load(kc, &conn, err, errlen)
		   : k8s_incluster_load(&conn, err, errlen);
	if (rc < 0)
		return -EINVAL;
	if (conn.insecure)
		K8S_LOG(WARNING,
			"%s: insecure-skip-tls-verify: the API server is not authenticated",
			conn.source);
	char source[sizeof(conn.source)], ns[CFG_NAME_MAX];
	snprintf(source, sizeof(source), "%s", conn.source);
	snprintf(ns, sizeof(ns), "%s", conn.ns);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	k.curl_ready = true;
	k.client = k8s_client_new(&conn, err, errlen);
	k8s_conn_free(&conn);
	if (!k.client)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;

	identity_init();
	env = getenv("POD_NAMESPACE");
	snprintf(wp.lease_ns, sizeof(wp.lease_ns), "%s",
		 env && env[0]	  ? env
		 : cfg->k8s.ns[0] ? cfg->k8s.ns
		 : ns[0]	  ? ns
				  : "default");
	env = getenv("STRAIT_LEASE_NAME");
	snprintf(wp.lease_name, sizeof(wp.lease_name), "%s", env && env[0] ? env : "strait");
	snprintf(wp.identity, sizeof(wp.identity), "%s", k.identity);
	wp.client = k.client;
	wp.q = &k.q;
	k.watcher = k8s_watcher_start(k.client, cfg->k8s.ns, &k.q);
	if (!k.watcher) {
		snprintf(err, errlen, "cannot start the Kubernetes thread: %s", strerror(errno));
		return -errno;
	}
	k.writer = k8s_writer_start(&wp);
	if (!k.writer) {
		snprintf(err, errlen, "cannot start the status writer: %s", strerror(errno));
		return -errno;
	}
	K8S_LOG(NOTICE, "watching %s, %s; status writer elected on Lease %s/%s as %s", source,
		cfg->k8s.ns[0] ? cfg->k8s.ns : "all namespaces", wp.lease_ns, wp.lease_name,
		k.identity);
	return 0;
}

static void api_take(void)
{
	struct k8s_update *list = k8s_queue_take(&k.q);
	unsigned int changed;

	for (struct k8s_update *u = list; u; u = u->next) {
		unsigned int bit = 1u << u->kind;
		switch (u->type) {
		case K8S_UPD_ADDED:
		case K8S_UPD_MODIFIED:
		case K8S_UPD_DELETED:
			if (k8s_cache_apply(&k.store.c[u->kind], u->type, u->obj) != 0)
				k.dirty = true;
			break;
		case K8S_UPD_RELIST:
			if (k8s_cache_replace(&k.store.c[u->kind], u->obj, &changed) < 0 || changed)
				k.dirty = true;
			if (!(k.attempted & bit))
				k.dirty = true;
			k.attempted |= bit;
			k.failing &= ~bit;
			break;
		case K8S_UPD_FAILED:
			if (!(k.attempted & bit))
				k.dirty = true; // so the first pass runs without this kind
			k.attempted |= bit;
			k.failing |= bit;
			break;
		case K8S_UPD_RECOVERED:
			k.failing &= ~bit;
			break;
		case K8S_UPD_LEADER:
			// Forget what was sent and reported: start again from the cluster.
			json_object_clear(k.rr.book);
			k.rr.full = true;
			k.resubmit = true;
			break;
		}
	}
	k8s_update_list_free(list);
}

/* ---- Hooks (cp_priv.h) ---- */

int cp_k8s_init(const struct cp_args *a, char *err, size_t errlen)
{
	const struct cfg *cfg = cp_config();
	int rc;

	if (!a->manifests && !cfg->k8s.enabled)
		return 0;
	if (a->manifests && cfg->k8s.enabled) {
		snprintf(err, errlen,
			 "--manifests reads objects from files: it excludes kubernetes.enabled and "
			 "--kubeconfig");
		return -EINVAL;
	}
	if (k8s_store_init(&k.store) < 0 || !(k.rr.book = json_object()))
		return -ENOMEM;
	k8s_queue_init(&k.q);
	identity_init();
	if (a->manifests) {
		k.mode = MODE_OFFLINE;
		snprintf(k.dir, sizeof(k.dir), "%s", a->manifests);
		rc = manifests_apply(err, errlen);
		if (rc < 0) {
			cp_k8s_fini();
			return rc == -ENOMEM ? rc : -EINVAL;
		}
		reconcile();
		return 0;
	}
	k.mode = MODE_API;
	rc = api_init(a, err, errlen);
	if (rc < 0)
		cp_k8s_fini();
	return rc;
}

void cp_k8s_poll(void)
{
	if (k.mode == MODE_API)
		api_take();
	if (k.mode == MODE_OFF)
		return;
	if (k.mode == MODE_API && k.attempted != ALL_KINDS)
		return; // not all kinds listed yet: a partial view would remove mappings
	if (k.retry_ms && k8s_now_ms() >= k.retry_ms) {
		k.retry_ms = 0;
		k.dirty = true;
	}
	if (k.dirty || k.resubmit) {
		k.resubmit = false;
		reconcile();
	} else if (k8s_report_due(&k.rr, &k.store)) {
		report(NULL); // the echo of a status write: no reconcile, nothing rebuilt
	}
}

void cp_k8s_reload(void)
{
	char err[512];

	if (k.mode == MODE_API) {
		k.dirty = true; // the config's mappings may have changed what conflicts
		return;
	}
	if (k.mode != MODE_OFFLINE)
		return;
	if (manifests_apply(err, sizeof(err)) < 0) {
		K8S_LOG(ERR, "reload: %s; keeping the objects loaded before", err);
		return;
	}
	k.dirty = true;
	reconcile();
}

void cp_k8s_fini(void)
{
	k8s_watcher_stop(k.watcher);
	k8s_writer_stop(k.writer);
	k8s_client_free(k.client);
	if (k.mode != MODE_OFF || k.rr.book) {
		k8s_queue_fini(&k.q);
		k8s_store_fini(&k.store);
		k8s_desired_spare_free(); // what the passes left for the next
	}
	k8s_reporter_fini(&k.rr);
	if (k.curl_ready)
		curl_global_cleanup();
	memset(&k, 0, sizeof(k));
}

const char *cp_k8s_state(void)
{
	switch (k.mode) {
	case MODE_OFF:
		return "disabled";
	case MODE_OFFLINE:
		return "synced";
	default:
		if (k.attempted != ALL_KINDS)
			return "syncing";
		return k.failing || k.publish_failed ? "error" : "synced";
	}
}

/* ---- Module registration (cp/module.c) ---- */

static int k8s_module_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	return cp_k8s_init(ctx->args, err, errlen);
}

static void k8s_module_poll(int wait_ms)
{
	RTE_SET_USED(wait_ms);
	cp_k8s_poll();
}

static int k8s_module_reload(char *err, size_t errlen)
{
	RTE_SET_USED(err);
	RTE_SET_USED(errlen);
	cp_k8s_reload(); // logs its own failure: the mappings of the other sources are reloaded
	return 0;
}

static struct cp_module k8s_module = {
	.name = "kubernetes",
	.order = CP_MOD_K8S,
	.init = k8s_module_init,
	.poll = k8s_module_poll,
	.reload = k8s_module_reload,
	.fini = cp_k8s_fini,
};
CP_MODULE_REGISTER(k8s_module)
