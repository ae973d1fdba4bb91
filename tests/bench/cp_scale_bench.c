/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_scale_bench: the control plane at scale (issue 12, item 4).
 *
 * Generates, in memory, the Kubernetes objects of S Services behind service-mode Mappings
 * (each Service with one EndpointSlice of 10-50 endpoints) and B per-broker ports
 * (perPod Mappings over StatefulSets of 10 brokers, one Pod each), and drives the real
 * path of the control thread: k8s_cache_replace() per kind -> k8s_reconcile() ->
 * cp_mappings_replace(CP_SRC_K8S) (cp/state.c: tables_build(), tables_publish() with the
 * data plane's rte_rcu_qsbr). One real worker (dp_start(), lcore 1, polling two net_null
 * ports) reports quiescent states: tables_publish() returns once it has passed one after the
 * pointer store, so from then on every worker reads the new generation. "Visible on every
 * worker" below is that return.
 *
 * Then endpoint churn: each change flips one endpoint's ready condition in one EndpointSlice
 * (k8s_cache_apply(MODIFIED)); changes come in bursts of --burst, and a burst is reconciled
 * and published once (as the control loop does: cp/k8s.c reconciles once per drained queue).
 * A change's latency is from its k8s_cache_apply() to the return of the publication that
 * carries it. After each publication the status pass runs (k8s_report_run(), the writer
 * absent: patches counted), then the watch's echoes of its patches are taken as cp/k8s.c
 * takes them; both timed apart (phase=churn-status). --rate R instead offers R changes a
 * second as an open loop (churn_at_rate(): the loop takes what has arrived, so its bursts
 * are what its own pace makes them; latency from each change's arrival, phase=churn-rate:
 * applied_per_s over the whole run, its last publication's lag included; sustained_per_s
 * over the run but its first quarter and that lag; lag_growth_ms_per_s, how fast the median
 * lag grew from the first half of the changes to the second: the loop's deficit, 10 ms a
 * second for 1 % behind; kept_up=yes below that).
 * --old-status: every result to its
 * writer each pass and every echo a change that costs a reconcile pass, as before.
 *
 * The churn's changes are made as JSON objects on the control thread (json_pack(); their CPU
 * is given apart as generator_cpu_ms), which is cheaper than decoding them: --wire makes them
 * all first as the API server's watch event lines and decodes each in the run with strait's
 * own watch decoding (k8s_stream_feed() with the slices' informer's k8s_keep_endpointslice,
 * on a watch thread in strait; here on the control thread, as on a gateway whose other vCPU
 * is the worker's), phase=churn-decode giving its CPU. --rich gives each endpoint what the
 * EndpointSlice controller also writes (nodeName, zone, targetRef): the bytes a real slice of
 * that many endpoints has.
 *
 * --write-manifests DIR and --write-churn FILE write the same objects and the churn's changes
 * as files instead (no EAL, no worker): the offline mode's manifests, and what
 * tests/e2e/k8s_scale_test.sh feeds strait through the fake API server.
 *
 * Output: `bench case=cp-scale ...` lines (scripts/bench.sh, docs/benchmarks.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <strait/config.h>
#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/k8s_cache.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_manifests.h>
#include <strait/k8s_reconcile.h>
#include <strait/k8s_stream.h>
#include <strait/maglev.h>
#include <strait/tables.h>

#include "k8s_report.h"
#include "k8s_service.h"
#include "maglev_pool.h"

#define NS	     "bench"
#define BROKERS_PER  10
#define SVC_ADDR     "203.0.113.10"
#define BROKER_ADDR  "203.0.113.11"
#define SVC_PORT0    10000
#define BROKER_PORT0 20000

static const char bench_yaml[] = "ports:\n"
				 "  ext: {device: net_null0, addresses: [203.0.113.1/24]}\n"
				 "  int: {device: net_null1, addresses: [10.0.0.1/8]}\n"
				 "workers: 1\n"
				 "sessions: {max: 1024}\n"
				 "cli_socket: \"\"\n"
				 "metrics_listen: \"\"\n";

static struct {
	unsigned int services, brokers, changes, burst;
	unsigned int maglev_threads; /* --maglev-threads: the config's maglevThreads */
	unsigned int pool_tables; /* --pool-bench N: time N tables on 0..maglev_threads threads */
	unsigned int table_size;  /* --table-size: the Services' maglev.tableSize; 0 = default */
	double rate; /* --rate: changes offered a second, open loop; 0 = bursts of --burst */
	unsigned int seed;
	const char *manifests_out, *manifests_in, *churn_out;
	bool wire, rich; /* --wire, --rich: see the file's comment */
} opt = {.services = 2000, .brokers = 8000, .changes = 20000, .burst = 100, .seed = 1};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned int svc_endpoints(unsigned int i)
{
	return 10 + (i * 37u) % 41u; // 10..50
}

static json_t *meta(const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "name", name, "namespace", NS, "resourceVersion", "1");
}

static json_t *endpoint(unsigned int i, unsigned int e, bool ready)
{
	char ip[32], pod[64], uid[40], node[16], zone[16];

	snprintf(ip, sizeof(ip), "10.%u.%u.%u", 100 + i / 256, i % 256, e + 1);
	if (!opt.rich)
		return json_pack("{s:[s], s:{s:b, s:b, s:b}}", "addresses", ip, "conditions",
				 "ready", ready, "serving", true, "terminating", false);
	// What the EndpointSlice controller writes besides: the node, its zone, the Pod.
	snprintf(pod, sizeof(pod), "svc-%u-%08x-%u", i, i * 2654435761u, e);
	snprintf(uid, sizeof(uid), "%08x-%04x-4%03x-8%03x-%012x", i, e, i % 4096, e % 4096,
		 i * 40503u + e);
	snprintf(node, sizeof(node), "node-%u", (i + e) % 64);
	snprintf(zone, sizeof(zone), "zone-%c", 'a' + (i + e) % 3);
	return json_pack("{s:[s], s:{s:b, s:b, s:b}, s:s, s:s, s:{s:s, s:s, s:s, s:s}}",
			 "addresses", ip, "conditions", "ready", ready, "serving", true,
			 "terminating", false, "nodeName", node, "zone", zone, "targetRef", "kind",
			 "Pod", "namespace", NS, "name", pod, "uid", uid);
}

static json_t *slice(unsigned int i, const bool *ready, unsigned int rv)
{
	char name[64], svc[64], rvs[16];
	json_t *eps = json_array(), *s;

	snprintf(name, sizeof(name), "svc-%u-x", i);
	snprintf(svc, sizeof(svc), "svc-%u", i);
	snprintf(rvs, sizeof(rvs), "%u", rv);
	for (unsigned int e = 0; e < svc_endpoints(i); e++)
		json_array_append_new(eps, endpoint(i, e, ready[e]));
	s = json_pack("{s:o, s:s, s:[{s:s, s:s, s:i}], s:o}", "metadata", meta(name), "addressType",
		      "IPv4", "ports", "name", "http", "protocol", "TCP", "port", 8080, "endpoints",
		      eps);
	json_object_set_new(json_object_get(s, "metadata"), "labels",
			    json_pack("{s:s}", "kubernetes.io/service-name", svc));
	json_object_set_new(json_object_get(s, "metadata"), "resourceVersion", json_string(rvs));
	return s;
}

/* The objects of every kind, as lists. */
struct objs {
	json_t *mappings, *services, *slices, *sts, *pods;
	bool **ready; /* [service][endpoint] */
	unsigned int *slice_rv;
	unsigned long n_endpoints;
};

static void objs_make(struct objs *o)
{
	char name[64];

	o->mappings = json_array();
	o->services = json_array();
	o->slices = json_array();
	o->sts = json_array();
	o->pods = json_array();
	o->ready = calloc(opt.services, sizeof(*o->ready));
	o->slice_rv = calloc(opt.services, sizeof(*o->slice_rv));
	for (unsigned int i = 0; i < opt.services; i++) {
		snprintf(name, sizeof(name), "svc-%u", i);
		json_t *m = json_pack("{s:o, s:{s:[s], s:s, s:s, s:[{s:i, s:i}], s:s}}", "metadata",
				      meta(name), "spec", "addresses", SVC_ADDR, "mode", "service",
				      "serviceName", name, "ports", "port", SVC_PORT0 + (int)i,
				      "servicePort", 80, "backends", "pods");
		if (opt.table_size)
			json_object_set_new(json_object_get(m, "spec"), "maglev",
					    json_pack("{s:i}", "tableSize", (int)opt.table_size));
		json_array_append_new(o->mappings, m);
		json_array_append_new(
			o->services, json_pack("{s:o, s:{s:[{s:s, s:s, s:i, s:i}], s:s, s:{s:s}}}",
					       "metadata", meta(name), "spec", "ports", "name",
					       "http", "protocol", "TCP", "port", 80, "targetPort",
					       8080, "type", "ClusterIP", "selector", "app", name));
		o->ready[i] = malloc(50 * sizeof(bool));
		for (unsigned int e = 0; e < 50; e++)
			o->ready[i][e] = true;
		o->slice_rv[i] = 1;
		json_array_append_new(o->slices, slice(i, o->ready[i], 1));
		o->n_endpoints += svc_endpoints(i);
	}
	unsigned int n_sets = (opt.brokers + BROKERS_PER - 1) / BROKERS_PER;
	for (unsigned int j = 0; j < n_sets; j++) {
		unsigned int n = opt.brokers - j * BROKERS_PER < BROKERS_PER
					 ? opt.brokers - j * BROKERS_PER
					 : BROKERS_PER;
		snprintf(name, sizeof(name), "b%u", j);
		json_array_append_new(o->mappings,
				      json_pack("{s:o, s:{s:[s], s:s, s:s, s:i, s:i, s:s}}",
						"metadata", meta(name), "spec", "addresses",
						BROKER_ADDR, "mode", "perPod", "statefulSetName",
						name, "startPort",
						BROKER_PORT0 + (int)(j * BROKERS_PER), "targetPort",
						9092, "backends", "pods"));
		json_array_append_new(o->sts, json_pack("{s:o, s:{s:i, s:s, s:{s:{s:s}}}}",
							"metadata", meta(name), "spec", "replicas",
							(int)n, "serviceName", name, "selector",
							"matchLabels", "app", name));
		for (unsigned int k = 0; k < n; k++) {
			unsigned int p = j * BROKERS_PER + k;
			char pod[80], ip[32], idx[16];
			snprintf(pod, sizeof(pod), "%s-%u", name, k);
			snprintf(ip, sizeof(ip), "10.%u.%u.%u", 200 + p / 65536, (p / 256) % 256,
				 p % 256);
			snprintf(idx, sizeof(idx), "%u", k);
			json_t *m = meta(pod);
			json_object_set_new(m, "labels",
					    json_pack("{s:s, s:s, s:s}", "app", name,
						      "statefulset.kubernetes.io/pod-name", pod,
						      "apps.kubernetes.io/pod-index", idx));
			json_object_set_new(m, "ownerReferences",
					    json_pack("[{s:s, s:s, s:b}]", "kind", "StatefulSet",
						      "name", name, "controller", true));
			json_array_append_new(o->pods,
					      json_pack("{s:o, s:{s:s, s:s, s:[{s:s, s:s}]}}",
							"metadata", m, "status", "phase", "Running",
							"podIP", ip, "conditions", "type", "Ready",
							"status", "True"));
			o->n_endpoints++;
		}
	}
}

/* The churn's next change: one endpoint's ready flipped in the EndpointSlice of a random
 * Service (the same sequence for the same --seed, after srand()). @return the changed slice,
 * a new reference. */
static json_t *churn_next(struct objs *o)
{
	unsigned int i = (unsigned int)rand() % opt.services;
	unsigned int e = (unsigned int)rand() % svc_endpoints(i);

	o->ready[i][e] = !o->ready[i][e];
	return slice(i, o->ready[i], ++o->slice_rv[i]);
}

/* --wire: the churn's changes as the API server sends them, one watch event line each
 * ({"type":"MODIFIED","object":{...}} and a newline), all made before the run, so that the
 * generator leaves it; each is decoded in the run by strait's watch decoding
 * (k8s_stream_feed(), what cp/k8s_watch.c feeds a watch's body to), its CPU counted apart. */
static char **wire_line;
static size_t *wire_len;
static uint64_t wire_bytes, decode_cpu_ns;
static uint64_t thread_cpu_ns(void);

static int wire_make(struct objs *o)
{
	wire_line = calloc(opt.changes ? opt.changes : 1, sizeof(*wire_line));
	wire_len = calloc(opt.changes ? opt.changes : 1, sizeof(*wire_len));
	if (!wire_line || !wire_len)
		return -ENOMEM;
	srand(opt.seed);
	for (unsigned int k = 0; k < opt.changes; k++) {
		json_t *ev = json_pack("{s:s, s:o}", "type", "MODIFIED", "object", churn_next(o));
		char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
		size_t len = text ? strlen(text) : 0;

		json_decref(ev);
		if (!text || !(wire_line[k] = realloc(text, len + 2))) {
			free(text);
			return -ENOMEM;
		}
		memcpy(wire_line[k] + len, "\n", 2);
		wire_len[k] = len + 1;
		wire_bytes += len + 1;
	}
	return 0;
}

static int wire_take(void *arg, const char *type, json_t *obj)
{
	(void)type;
	*(json_t **)arg = json_incref(obj);
	return 0;
}

/* The churn's change @p k, a new reference: made by churn_next() (its CPU added to
 * @p gen_cpu), or with --wire decoded from its line (its CPU added to decode_cpu_ns). */
static json_t *change_get(struct objs *o, unsigned int k, uint64_t *gen_cpu)
{
	const uint64_t t0 = thread_cpu_ns();
	struct k8s_stream st = {.keep = k8s_keep_endpointslice}; // as the slices' informer
	json_t *obj = NULL;

	if (!wire_line) {
		obj = churn_next(o);
		*gen_cpu += thread_cpu_ns() - t0;
		return obj;
	}
	if (k8s_stream_feed(&st, wire_line[k], wire_len[k], wire_take, &obj) != 0 || !obj) {
		json_decref(obj);
		obj = NULL;
	}
	k8s_stream_reset(&st);
	decode_cpu_ns += thread_cpu_ns() - t0;
	free(wire_line[k]); // the receive buffer, reused by a real watch
	wire_line[k] = NULL;
	return obj;
}

/* The decoding's figures, with --wire. */
static void wire_print(void)
{
	if (wire_line)
		printf("bench case=cp-scale phase=churn-decode rich=%s changes=%u "
		       "bytes_per_change=%.0f decode_us_per_change=%.2f\n",
		       opt.rich ? "yes" : "no", opt.changes,
		       opt.changes ? (double)wire_bytes / opt.changes : 0.0,
		       opt.changes ? (double)decode_cpu_ns / 1e3 / opt.changes : 0.0);
}

static uint64_t now_ns(void);
static uint64_t reconcile_ns, replace_ns; /* summed over the churn's publications */
static uint64_t cpu_ns;			  /* the control thread's CPU time in them */
static uint64_t reconcile_cpu_ns;	  /* of which in k8s_reconcile() */

/* The calling thread's CPU time: what the control thread used, whatever else ran. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reconcile @p s and publish through the state. @return 0 or -errno. */
/* The status pass after each publication, and the watch's echoes of what it wrote
 * (cp/k8s.c's loop), timed apart from the publication: --old-status gives every result to its
 * writer in every pass and takes every echo as a change that costs a reconcile pass (the
 * loop before the status pass was made proportional to the change). */
static struct k8s_reporter rr;
static bool old_status;
static uint64_t status_cpu_ns, echo_cpu_ns;
static unsigned long echoes, echo_passes, echo_status_passes;

static void status_pass(struct k8s_store *s, struct k8s_desired *d)
{
	struct k8s_report rep = {.generation = cp_generation()};
	uint64_t c0 = thread_cpu_ns();

	rr.full = old_status;
	k8s_report_run(&rr, &rep, s, d);
	status_cpu_ns += thread_cpu_ns() - c0;
}

static int reconcile_publish(struct k8s_store *s, unsigned int *n_maps)
{
	uint64_t t0 = now_ns(), t1, c0 = thread_cpu_ns();
	struct k8s_reconcile_params p = {0};
	struct k8s_desired d;
	char err[512];
	int rc;

	k8s_reconcile_params_cfg(&p, cp_config());
	if ((rc = k8s_reconcile(s, &p, &d)) < 0)
		return rc;
	t1 = now_ns();
	reconcile_cpu_ns += thread_cpu_ns() - c0;
	rc = cp_mappings_replace_ids(CP_SRC_K8S, d.maps, d.ids, d.n_maps, err, sizeof(err));
	reconcile_ns += t1 - t0;
	replace_ns += now_ns() - t1;
	cpu_ns += thread_cpu_ns() - c0;
	if (rc < 0)
		fprintf(stderr, "cp_scale_bench: publish: %s\n", err);
	*n_maps = d.n_maps;
	if (rc == 0)
		status_pass(s, &d);
	k8s_desired_free(&d);
	return rc;
}

/* @p patch merged into @p target (RFC 7386), in place. */
static void merge_patch(json_t *target, const json_t *patch)
{
	const char *k;
	json_t *v, *t;

	json_object_foreach((json_t *)patch, k, v) {
		if (json_is_null(v))
			json_object_del(target, k);
		else if (json_is_object(v) && json_is_object(t = json_object_get(target, k)))
			merge_patch(t, v);
		else
			json_object_set_new(target, k, json_deep_copy(v));
	}
}

/* What the watch sends after the last status pass's patches: each patched object with its
 * patch merged and a new resourceVersion, taken as cp/k8s.c takes it (a reconcile pass, not
 * published when the set is the same, when the cache logs a change; else a status pass). */
static void echoes_take(struct k8s_store *s)
{
	static unsigned int version;
	static unsigned long patches_seen;
	unsigned int dirty = 0, n = 0;
	const char *key;
	json_t *e;

	// No patch since the last time, no echo: the watch sends one per patch. (A scan of the
	// book a publication is no cost of strait's, and was 7 % of the loop at 10,000 mappings.)
	if (k8s_report_patches == patches_seen)
		return;
	patches_seen = k8s_report_patches;
	json_object_foreach(rr.book, key, e) {
		const json_t *sent = json_object_get(e, "sent");
		char kind[64], ns[256], name[256], rv[32];
		int k;
		json_t *obj;

		if (!sent || sscanf(key, "%63[^/]/%255[^/]/%255s", kind, ns, name) != 3)
			continue;
		for (k = 0; k < K8S_KIND_MAX && strcmp(k8s_kind_info(k)->kind, kind) != 0; k++)
			;
		if (k == K8S_KIND_MAX || !(obj = k8s_cache_get(&s->c[k], ns, name)))
			continue;
		obj = json_deep_copy(obj);
		merge_patch(obj, sent);
		snprintf(rv, sizeof(rv), "echo%u", ++version);
		json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
				    json_string(rv));
		dirty += k8s_cache_apply(&s->c[k], K8S_UPD_MODIFIED, obj) != 0;
		json_decref(obj);
		n++;
	}
	echoes += n;
	if (!n)
		return;
	uint64_t c0 = thread_cpu_ns(), st = status_cpu_ns;
	if (dirty) {
		struct k8s_reconcile_params p = {0};
		struct k8s_desired d;

		k8s_reconcile_params_cfg(&p, cp_config());
		if (k8s_reconcile(s, &p, &d) == 0) {
			echo_passes++;
			status_pass(s, &d);
			k8s_desired_free(&d);
		}
	} else if (k8s_report_due(&rr, s)) {
		echo_status_passes++;
		status_pass(s, NULL);
	}
	echo_cpu_ns += thread_cpu_ns() - c0;
	status_cpu_ns = st; // counted in echo_cpu_ns
}

/* TLB shootdowns taken so far by the CPU of the worker lcore (/proc/interrupts, "TLB:"
 * line; x86): each is an interrupt of the worker, sent when a page of the process's memory
 * is remapped or unmapped (a copy-on-write fault, madvise(), munmap()). 0 where not read. */
static uint64_t worker_tlb_shootdowns(void)
{
	unsigned int cpu = rte_lcore_to_cpu_id(1), col = 0;
	char line[4096];
	uint64_t v = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f)) { // the header: which column is CPU cpu
		char name[32];
		snprintf(name, sizeof(name), "CPU%u", cpu);
		for (char *t = strtok(line, " \t\n"); t && strcmp(t, name) != 0;
		     t = strtok(NULL, " \t\n"))
			col++;
	}
	while (fgets(line, sizeof(line), f)) {
		char *t = strtok(line, " \t\n");
		if (!t || strcmp(t, "TLB:") != 0)
			continue;
		for (unsigned int c = 0; c <= col && (t = strtok(NULL, " \t\n")); c++)
			if (c == col)
				v = strtoull(t, NULL, 10);
		break;
	}
	fclose(f);
	return v;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The @p pct-th percentile of @p n > 0 values, sorted in place. */
static uint64_t percentile(uint64_t *v, unsigned int n, unsigned int pct)
{
	uint64_t i = (uint64_t)n * pct / 100;

	qsort(v, n, sizeof(*v), u64_cmp);
	return v[i < n ? i : n - 1];
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

/* Bytes of the published tables: every array they own, counted, Maglev tables once each (two
 * services may share one), plus the service hash (@p hash_bytes, from the EAL heap). */
static uint64_t tables_bytes(const struct tables *t, uint64_t hash_bytes, unsigned int *n_maglev)
{
	uint64_t b = sizeof(*t) + (uint64_t)t->n_services * sizeof(t->services[0]) +
		     (uint64_t)t->n_mappings * sizeof(t->mappings[0]) +
		     (uint64_t)t->n_backends * sizeof(t->backends[0]) +
		     (uint64_t)t->n_rules * sizeof(t->rules[0]) +
		     (uint64_t)t->n_vips * sizeof(t->vips[0]) +
		     ((uint64_t)t->vip_mask + 1) * sizeof(t->vip_slots[0]) +
		     (uint64_t)CFG_MAX_MAPPINGS *
			     (sizeof(t->slot_timeouts[0]) + sizeof(t->slot_mss_clamp[0]));
	uintptr_t *p = calloc(t->n_services + 1, sizeof(*p));
	unsigned int n = 0, distinct = 0;
	uint64_t entries = 0;

	for (uint32_t i = 0; p && i < t->n_services; i++)
		if (t->services[i].maglev)
			p[n++] = (uintptr_t)t->services[i].maglev;
	if (p)
		qsort(p, n, sizeof(*p), ptr_cmp);
	for (unsigned int i = 0; p && i < n; i++) {
		if (i > 0 && p[i] == p[i - 1])
			continue;
		distinct++;
		entries += tables_maglev_size((const uint16_t *)p[i]);
	}
	free(p);
	*n_maglev = distinct;
	return b + entries * sizeof(uint16_t) + hash_bytes;
}

static uint64_t heap_bytes(void)
{
	struct rte_malloc_socket_stats s;
	uint64_t sum = 0;

	for (int sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats(sock, &s) == 0)
			sum += s.heap_allocsz_bytes;
	return sum;
}

/* Each kind's objects into @p dir as one List document (JSON is YAML): the offline mode's
 * input (k8s_manifests.h). @return 0 or -1. */
static int manifests_write(const struct objs *o, const char *dir)
{
	const struct {
		enum k8s_kind k;
		json_t *items;
	} kinds[] = {{K8S_KIND_MAPPING, o->mappings},
		     {K8S_KIND_SERVICE, o->services},
		     {K8S_KIND_ENDPOINTSLICE, o->slices},
		     {K8S_KIND_STATEFULSET, o->sts},
		     {K8S_KIND_POD, o->pods}};
	char path[512];

	for (size_t i = 0; i < RTE_DIM(kinds); i++) {
		const struct k8s_kind_info *ki = k8s_kind_info(kinds[i].k);
		size_t j;
		json_t *it;

		json_array_foreach(kinds[i].items, j, it) {
			json_object_set_new(it, "apiVersion", json_string(ki->api_version));
			json_object_set_new(it, "kind", json_string(ki->kind));
		}
		json_t *list = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List",
					 "items", kinds[i].items);
		snprintf(path, sizeof(path), "%s/%02zu-%s.yaml", dir, i, ki->resource);
		int rc = json_dump_file(list, path, JSON_COMPACT);
		json_decref(list);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The churn's --changes changed EndpointSlices, in order, into @p path as one JSON list of
 * objects (what tests/k8s/fake_apiserver.py's /ctl/apply takes): the same changes as a run
 * with the same --seed applies, for tests/e2e/k8s_scale_test.sh. @return 0 or -1. */
static int churn_write(struct objs *o, const char *path)
{
	const struct k8s_kind_info *ki = k8s_kind_info(K8S_KIND_ENDPOINTSLICE);
	json_t *list = json_array();
	int rc;

	srand(opt.seed);
	for (unsigned int k = 0; list && k < opt.changes; k++) {
		json_t *s = churn_next(o);
		json_object_set_new(s, "apiVersion", json_string(ki->api_version));
		json_object_set_new(s, "kind", json_string(ki->kind));
		json_array_append_new(list, s);
	}
	rc = list ? json_dump_file(list, path, JSON_COMPACT) : -1;
	json_decref(list);
	return rc < 0 ? -1 : 0;
}

/* --rate: the churn as an open loop. Change k arrives at c0 + k / rate whether or not the loop
 * kept up; the loop takes every change that has arrived (as cp/k8s.c drains its queue),
 * reconciles and publishes once, runs the status pass and takes the echoes, and starts over.
 * So the bursts are what the loop's own pace makes them, and a change's latency runs from its
 * arrival, queueing included (no coordinated omission: a slow publication delays the changes
 * that arrived meanwhile, and they count it). Waits for the next arrival spin (at most one
 * arrival's interval). The changes are made (their EndpointSlices built as JSON, the watch's
 * decoding in strait) on this thread too: that CPU is left out of cpu_ms_per_publication and
 * given apart (generator_cpu_ms), but the latencies include it. @return 0, or 1 on a
 * failure. */
static int churn_at_rate(struct k8s_store *store, struct objs *o)
{
	const size_t n_lat = opt.changes ? opt.changes : 1;
	uint64_t *lat = calloc(n_lat, sizeof(*lat)), *pub_end = calloc(n_lat, sizeof(*pub_end));
	unsigned int *pub_done = calloc(n_lat, sizeof(*pub_done)), n_pubs = 0;
	uint64_t gen0 = cp_generation(), c0, last = 0, max_burst = 0, cpu0, gen_cpu = 0;
	const uint64_t tlb0 = worker_tlb_shootdowns();
	double interval_ns = 1e9 / opt.rate;
	unsigned int done = 0, n_maps;
	int ret = 1;

	if (!lat || !pub_end || !pub_done) {
		fprintf(stderr, "cp_scale_bench: out of memory\n");
		goto out;
	}
	if (!wire_line)
		srand(opt.seed);
	decode_cpu_ns = 0;
	cpu0 = thread_cpu_ns();
	c0 = now_ns();
	while (done < opt.changes) {
		uint64_t now = now_ns();
		unsigned int due = (unsigned int)((double)(now - c0) / interval_ns) + 1, n;

		if (due > opt.changes)
			due = opt.changes;
		if (due <= done) { // nothing arrived yet: wait for the next one
			while (now_ns() < c0 + (uint64_t)((double)done * interval_ns))
				;
			continue;
		}
		n = due - done;
		for (unsigned int k = done; k < due; k++) {
			json_t *s = change_get(o, k, &gen_cpu);
			int rc = s ? k8s_cache_apply(&store->c[K8S_KIND_ENDPOINTSLICE],
						     K8S_UPD_MODIFIED, s)
				   : -EBADMSG;
			json_decref(s);
			if (rc < 0) {
				fprintf(stderr, "cp_scale_bench: apply failed\n");
				goto out;
			}
		}
		if (reconcile_publish(store, &n_maps) < 0)
			goto out;
		last = now_ns();
		pub_end[n_pubs] = last;
		pub_done[n_pubs++] = due;
		for (unsigned int k = done; k < due; k++)
			lat[k] = last - (c0 + (uint64_t)((double)k * interval_ns));
		if (n > max_burst)
			max_burst = n;
		done = due;
		echoes_take(store);
	}
	uint64_t cpu = thread_cpu_ns() - cpu0 - gen_cpu - decode_cpu_ns;
	uint64_t gens = cp_generation() - gen0;
	double secs = (double)(last - c0) / 1e9;
	// The steady state, apart from the run's start (small first bursts) and end (the last
	// publication's lag, which applied_per_s counts: the whole run over its wall time): from
	// the end of the first publication after a quarter of the arrivals to the last one. A loop
	// that keeps up applies what is offered there; one that does not applies what it can, and
	// its lag grows from the first half of the changes to the second, by the deficit: 10 ms a
	// second of arrivals is 1 % behind (kept_up=no from there).
	const uint64_t quarter = c0 + (uint64_t)((double)opt.changes * interval_ns / 4);
	const unsigned int half = opt.changes / 2;
	unsigned int s = 0;
	double sustained = 0;

	while (s + 1 < n_pubs && pub_end[s] < quarter)
		s++;
	if (s + 1 < n_pubs)
		sustained = (double)(pub_done[n_pubs - 1] - pub_done[s]) /
			    ((double)(pub_end[n_pubs - 1] - pub_end[s]) / 1e9);
	const uint64_t p50_1 = half ? percentile(lat, half, 50) : 0,
		       p50_2 = percentile(lat + half, opt.changes - half, 50);
	// the halves' medians are half the arrivals' span apart
	const double growth =
		((double)p50_2 - (double)p50_1) / 1e6 / ((double)opt.changes / 2 / opt.rate);
	const uint64_t p50 = percentile(lat, opt.changes, 50),
		       p99 = percentile(lat, opt.changes, 99);
	printf("bench case=cp-scale phase=churn-rate offered_per_s=%.0f changes=%u "
	       "applied_per_s=%.0f sustained_per_s=%.0f generations=%" PRIu64
	       " burst_mean=%.1f burst_max=%" PRIu64 " p50_arrival_to_worker_ms=%.2f "
	       "p99_arrival_to_worker_ms=%.2f p50_first_half_ms=%.2f p50_second_half_ms=%.2f "
	       "lag_growth_ms_per_s=%.1f kept_up=%s cpu_ms_per_publication=%.2f cpu_share=%.2f "
	       "generator_cpu_ms=%.1f decode_cpu_ms=%.1f worker_tlb_shootdowns_per_publication=%.1f\n",
	       opt.rate, opt.changes, secs > 0 ? opt.changes / secs : 0.0, sustained, gens,
	       gens ? (double)opt.changes / (double)gens : 0.0, max_burst, (double)p50 / 1e6,
	       (double)p99 / 1e6, (double)p50_1 / 1e6, (double)p50_2 / 1e6, growth,
	       growth < 10 ? "yes" : "no", gens ? (double)cpu / 1e6 / (double)gens : 0.0,
	       secs > 0 ? (double)cpu / 1e9 / secs : 0.0, (double)gen_cpu / 1e6,
	       (double)decode_cpu_ns / 1e6,
	       gens ? (double)(worker_tlb_shootdowns() - tlb0) / (double)gens : 0.0);
	wire_print();
	ret = 0;
out:
	free(lat);
	free(pub_end);
	free(pub_done);
	return ret;
}

/* --pool-bench N: N Maglev tables of 10-50 backends (16381 entries), as a burst of endpoint
 * changes to N Services asks for, computed by maglev_pool_run() on the calling thread and 0..T
 * pool threads (T = --maglev-threads); the EAL has only lcore 0, so the pool's control
 * threads get the other cores. Medians of 5 rounds each; every round's tables compared with
 * the first's. @return 0, or 1 on a failure. */
static int pool_bench(void)
{
	const unsigned int n = opt.pool_tables;
	struct maglev_job *jobs = calloc(n, sizeof(*jobs));
	uint16_t *ref = calloc((size_t)n * MAGLEV_TABLE_SIZE_DEFAULT, sizeof(*ref));
	double base = 0;
	int rc = 0;

	if (!jobs || !ref)
		rc = 1;
	for (unsigned int i = 0; !rc && i < n; i++) {
		jobs[i].n = svc_endpoints(i);
		jobs[i].m = MAGLEV_TABLE_SIZE_DEFAULT;
		jobs[i].b = calloc(jobs[i].n, sizeof(*jobs[i].b));
		jobs[i].table = calloc(jobs[i].m, sizeof(uint16_t));
		if (!jobs[i].b || !jobs[i].table) {
			rc = 1;
			break;
		}
		for (unsigned int e = 0; e < jobs[i].n; e++)
			jobs[i].b[e] = (struct maglev_backend){
				.addr = (10u << 24) | (i << 8) | e, .port = 8080, .weight = 1};
	}
	for (unsigned int t = 0; !rc && t <= opt.maglev_threads; t++) {
		uint64_t ns[5];
		for (unsigned int r = 0; r < 5; r++) {
			uint64_t t0 = now_ns();
			if (maglev_pool_run(jobs, n, t) < 0) {
				rc = 1;
				break;
			}
			ns[r] = now_ns() - t0;
			for (unsigned int i = 0; i < n; i++) {
				uint16_t *want = &ref[(size_t)i * MAGLEV_TABLE_SIZE_DEFAULT];
				if (t == 0 && r == 0)
					memcpy(want, jobs[i].table, jobs[i].m * sizeof(uint16_t));
				else if (memcmp(want, jobs[i].table, jobs[i].m * sizeof(uint16_t)))
					rc = 1;
				memset(jobs[i].table, 0, jobs[i].m * sizeof(uint16_t));
			}
		}
		if (rc)
			break;
		const double med = (double)percentile(ns, 5, 50) / 1e6;
		if (t == 0)
			base = med;
		printf("bench case=cp-scale phase=maglev-pool tables=%u table_size=%u threads=%u "
		       "ms=%.1f us_per_table=%.1f speedup=%.2f same_tables=yes\n",
		       n, MAGLEV_TABLE_SIZE_DEFAULT, t, med, med * 1e3 / n, base / med);
		fflush(stdout);
	}
	if (rc)
		fprintf(stderr, "cp_scale_bench: pool bench failed (or tables differ)\n");
	for (unsigned int i = 0; jobs && i < n; i++) {
		free(jobs[i].b);
		free(jobs[i].table);
	}
	free(jobs);
	free(ref);
	maglev_pool_stop();
	return rc;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cp_scale_bench [--services N] [--brokers N] [--changes N] "
		"[--burst N | --rate N] [--seed N] [--no-reuse] [--no-incremental] [--no-share-layout] "
		"[--write-manifests DIR | --manifests DIR] [--write-churn FILE] "
		"[--old-status] [--wire] [--rich] [--maglev-threads N] [--pool-bench TABLES] "
		"[--table-size N]\n");
	exit(2);
}

static void cpu_line(void)
{
	char model[128] = "unknown", line[256];
	FILE *f = popen("lscpu 2>/dev/null", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Model name:", 11) == 0) {
			char *v = line + 11;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(model, sizeof(model), "%s", v);
		}
	if (f)
		pclose(f);
	printf("bench case=cp-scale cpu=\"%s\" tsc_hz=%" PRIu64 "\n", model, rte_get_tsc_hz());
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"services", required_argument, NULL, 's'},
					   {"brokers", required_argument, NULL, 'b'},
					   {"changes", required_argument, NULL, 'c'},
					   {"burst", required_argument, NULL, 'u'},
					   {"seed", required_argument, NULL, 'r'},
					   {"rate", required_argument, NULL, 'R'},
					   {"maglev-threads", required_argument, NULL, 'T'},
					   {"pool-bench", required_argument, NULL, 'P'},
					   {"table-size", required_argument, NULL, 'Z'},
					   {"no-reuse", no_argument, NULL, 'n'},
					   {"no-incremental", no_argument, NULL, 'i'},
					   {"no-share-layout", no_argument, NULL, 'l'},
					   {"write-manifests", required_argument, NULL, 'w'},
					   {"manifests", required_argument, NULL, 'm'},
					   {"write-churn", required_argument, NULL, 'k'},
					   {"old-status", no_argument, NULL, 'o'},
					   {"wire", no_argument, NULL, 'W'},
					   {"rich", no_argument, NULL, 'X'},
					   {NULL, 0, NULL, 0}};
	char *eal[] = {argv[0],
		       "--no-huge",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "-m",
		       "512",
		       "-l",
		       "0,1",
		       "--vdev",
		       "net_null0",
		       "--vdev",
		       "net_null1",
		       "--log-level=*:error",
		       NULL};
	struct dp_params dpp = {.n_workers = 1, .sessions_per_worker = 1024, .worker_lcore = {1}};
	struct k8s_store store;
	struct objs o = {0};
	struct cfg cfg;
	char err[512];
	unsigned int changed, n_maps = 0, n_maglev;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long v = optarg ? strtoul(optarg, NULL, 10) : 0;
		switch (c) {
		case 's':
			opt.services = (unsigned int)v;
			break;
		case 'b':
			opt.brokers = (unsigned int)v;
			break;
		case 'c':
			opt.changes = (unsigned int)v;
			break;
		case 'u':
			opt.burst = v ? (unsigned int)v : 1;
			break;
		case 'r':
			opt.seed = (unsigned int)v;
			break;
		case 'P':
			opt.pool_tables = (unsigned int)v;
			break;
		case 'T':
			opt.maglev_threads = (unsigned int)v;
			break;
		case 'Z':
			if (!maglev_table_size_ok((uint32_t)v))
				usage();
			opt.table_size = (unsigned int)v;
			break;
		case 'R':
			opt.rate = optarg ? strtod(optarg, NULL) : 0;
			if (!(opt.rate > 0))
				usage();
			break;
		case 'n':
			tables_reuse_maglev = false;
			break;
		case 'i':
			k8s_reconcile_incremental = false;
			break;
		case 'l':
			tables_share_layout = false;
			break;
		case 'w':
			opt.manifests_out = optarg;
			break;
		case 'm':
			opt.manifests_in = optarg;
			break;
		case 'k':
			opt.churn_out = optarg;
			break;
		case 'o':
			old_status = true;
			break;
		case 'W':
			opt.wire = true;
			break;
		case 'X':
			opt.rich = true;
			break;
		default:
			usage();
		}
	}
	if (opt.services == 0)
		usage();
	// Writing the objects needs neither the EAL nor a worker.
	if (opt.manifests_out || opt.churn_out) {
		int rc = 0;

		objs_make(&o);
		printf("bench case=cp-scale services=%u brokers=%u mappings=%u endpoints=%lu\n",
		       opt.services, opt.brokers, opt.services + opt.brokers, o.n_endpoints);
		if (opt.manifests_out) {
			rc = manifests_write(&o, opt.manifests_out);
			printf("bench case=cp-scale manifests=%s written=%s\n", opt.manifests_out,
			       rc < 0 ? "no" : "yes");
		}
		if (rc == 0 && opt.churn_out) {
			rc = churn_write(&o, opt.churn_out);
			printf("bench case=cp-scale churn=%s changes=%u seed=%u written=%s\n",
			       opt.churn_out, opt.changes, opt.seed, rc < 0 ? "no" : "yes");
		}
		return rc < 0 ? 1 : 0;
	}
	if (opt.pool_tables) {
		char *eal1[] = {
			argv[0], "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
			"-m",	 "64",	      "-l",	  "0",		 "--log-level=*:error",
			NULL};
		if (rte_eal_init((int)RTE_DIM(eal1) - 1, eal1) < 0) {
			fprintf(stderr, "cp_scale_bench: EAL init failed\n");
			return 1;
		}
		cpu_line();
		return pool_bench();
	}
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "cp_scale_bench: EAL init failed\n");
		return 1;
	}
	cpu_line();
	if (cfg_load_string("cp_scale_bench.yaml", bench_yaml, strlen(bench_yaml), &cfg, err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "cp_scale_bench: %s\n", err);
		return 1;
	}
	cfg.maglev_threads = opt.maglev_threads;
	dpp.cfg = &cfg;
	if (rte_eth_dev_get_port_by_name("net_null0", &dpp.port_id[DP_PORT_EXT]) ||
	    rte_eth_dev_get_port_by_name("net_null1", &dpp.port_id[DP_PORT_INT]) ||
	    dp_init(&dpp, err, sizeof(err)) < 0 || cp_state_init(&cfg, err, sizeof(err)) < 0 ||
	    dp_start() < 0) {
		fprintf(stderr, "cp_scale_bench: %s\n", err);
		return 1;
	}

	objs_make(&o);
	printf("bench case=cp-scale services=%u brokers=%u mappings=%u endpoints=%lu "
	       "maglev_reuse=%s incremental=%s maglev_threads=%u table_size=%u\n",
	       opt.services, opt.brokers, opt.services + opt.brokers, o.n_endpoints,
	       tables_reuse_maglev ? "on" : "off", k8s_reconcile_incremental ? "on" : "off",
	       opt.maglev_threads, opt.table_size ? opt.table_size : MAGLEV_TABLE_SIZE_DEFAULT);
	fflush(stdout);

	// First publication: every list into the caches (as the informers' first lists), one
	// reconcile, one publication; with --manifests, the lists are read from the files first
	// (the offline mode's k8s_manifests_load()).
	uint64_t heap0 = heap_bytes(), t0 = now_ns();
	if (opt.manifests_in) {
		json_t *items[K8S_KIND_MAX];
		unsigned int n_files;
		if (k8s_manifests_load(opt.manifests_in, items, &n_files, err, sizeof(err)) < 0) {
			fprintf(stderr, "cp_scale_bench: %s\n", err);
			return 1;
		}
		json_decref(o.mappings);
		json_decref(o.services);
		json_decref(o.slices);
		json_decref(o.sts);
		json_decref(o.pods);
		o.mappings = items[K8S_KIND_MAPPING];
		o.services = items[K8S_KIND_SERVICE];
		o.slices = items[K8S_KIND_ENDPOINTSLICE];
		o.sts = items[K8S_KIND_STATEFULSET];
		o.pods = items[K8S_KIND_POD];
		for (int k = 0; k < K8S_KIND_MAX; k++)
			if (items[k] != o.mappings && items[k] != o.services &&
			    items[k] != o.slices && items[k] != o.sts && items[k] != o.pods)
				json_decref(items[k]);
		printf("bench case=cp-scale phase=manifests files=%u load_ms=%.1f\n", n_files,
		       (double)(now_ns() - t0) / 1e6);
	}
	rr.book = json_object();
	if (k8s_store_init(&store) < 0 ||
	    k8s_cache_replace(&store.c[K8S_KIND_MAPPING], o.mappings, &changed) < 0 ||
	    k8s_cache_replace(&store.c[K8S_KIND_SERVICE], o.services, &changed) < 0 ||
	    k8s_cache_replace(&store.c[K8S_KIND_ENDPOINTSLICE], o.slices, &changed) < 0 ||
	    k8s_cache_replace(&store.c[K8S_KIND_STATEFULSET], o.sts, &changed) < 0 ||
	    k8s_cache_replace(&store.c[K8S_KIND_POD], o.pods, &changed) < 0 ||
	    reconcile_publish(&store, &n_maps) < 0) {
		fprintf(stderr, "cp_scale_bench: first publication failed\n");
		return 1;
	}
	for (int k = 0; old_status && k < K8S_KIND_MAX; k++)
		store.c[k].status_unread = false; // every new version a change, as before
	uint64_t t1 = now_ns(), heap1 = heap_bytes();
	const struct tables *t = tables_get();
	uint64_t bytes = tables_bytes(t, heap1 > heap0 ? heap1 - heap0 : 0, &n_maglev);
	printf("bench case=cp-scale phase=first-publication source=%s mappings_published=%u "
	       "services=%u "
	       "backends=%u maglev_tables=%u first_publication_ms=%.1f tables_bytes=%" PRIu64
	       " generation=%" PRIu64 "\n",
	       opt.manifests_in ? "manifests" : "memory", t->n_mappings, t->n_services,
	       t->n_backends, n_maglev, (double)(t1 - t0) / 1e6, bytes, t->generation);
	fflush(stdout);
	uint64_t first_status = status_cpu_ns, e0 = now_ns();
	unsigned long written0 = k8s_report_written, patches0 = k8s_report_patches;
	echoes_take(&store); // the first statuses, echoed
	printf("bench case=cp-scale phase=first-status old_status=%s status_cpu_ms=%.1f "
	       "results_written=%lu patches=%lu echoes=%lu echo_reconcile_passes=%lu "
	       "echo_cpu_ms=%.1f echo_ms=%.1f\n",
	       old_status ? "yes" : "no", (double)first_status / 1e6, written0, patches0, echoes,
	       echo_passes, (double)echo_cpu_ns / 1e6, (double)(now_ns() - e0) / 1e6);
	fflush(stdout);
	if (opt.wire && opt.changes && wire_make(&o) < 0) {
		fprintf(stderr, "cp_scale_bench: out of memory for the watch lines\n");
		dp_stop();
		return 1;
	}

	if (opt.rate > 0) {
		int rc = opt.changes ? churn_at_rate(&store, &o) : 0;
		dp_stop();
		return rc;
	}
	// Churn.
	uint64_t *lat = calloc(opt.changes ? opt.changes : 1, sizeof(*lat));
	uint64_t *applied = calloc(opt.burst, sizeof(*applied));
	if (!lat || !applied) {
		fprintf(stderr, "cp_scale_bench: out of memory\n");
		free(lat);
		free(applied);
		return 1;
	}
	uint64_t gen0 = cp_generation(), c0 = now_ns(), busy = 0, tlb0 = worker_tlb_shootdowns();
	unsigned long echoes0 = echoes, echo_passes0 = echo_passes;
	unsigned long echo_status0 = echo_status_passes;
	written0 = k8s_report_written;
	patches0 = k8s_report_patches;
	status_cpu_ns = echo_cpu_ns = 0;
	unsigned int done = 0;
	uint64_t built = 0, reused = 0, shared = 0;
	unsigned long builds0 = k8s_reconcile_builds, copied0 = k8s_reconcile_copied;
	unsigned long asked0 = k8s_reconcile_ours_asked;
	reconcile_ns = replace_ns = cpu_ns = reconcile_cpu_ns = 0;
	if (!wire_line)
		srand(opt.seed);
	decode_cpu_ns = 0;
	uint64_t gen_cpu = 0;
	while (done < opt.changes) {
		unsigned int n = opt.changes - done < opt.burst ? opt.changes - done : opt.burst;
		uint64_t b0 = now_ns();
		for (unsigned int k = 0; k < n; k++) {
			json_t *s = change_get(&o, done + k, &gen_cpu);
			applied[k] = now_ns();
			if (!s || k8s_cache_apply(&store.c[K8S_KIND_ENDPOINTSLICE],
						  K8S_UPD_MODIFIED, s) < 0) {
				fprintf(stderr, "cp_scale_bench: apply failed\n");
				free(lat);
				free(applied);
				return 1;
			}
			json_decref(s);
		}
		if (reconcile_publish(&store, &n_maps) < 0) {
			free(lat);
			free(applied);
			return 1;
		}
		uint64_t seen = now_ns();
		built += tables_get()->n_maglev_built;
		reused += tables_get()->n_maglev_reused;
		shared += tables_get()->svc_shared;
		for (unsigned int k = 0; k < n; k++)
			lat[done + k] = seen - applied[k];
		busy += seen - b0;
		done += n;
		echoes_take(&store);
	}
	uint64_t c1 = now_ns(), tlb = worker_tlb_shootdowns() - tlb0;
	if (opt.changes) {
		const uint64_t p50 = percentile(lat, opt.changes, 50),
			       p99 = percentile(lat, opt.changes, 99);
		uint64_t gens = cp_generation() - gen0;
		printf("bench case=cp-scale phase=churn changes=%u burst=%u generations=%" PRIu64
		       " updates_per_s=%.0f publication_ms=%.2f p50_change_to_worker_ms=%.2f "
		       "p99_change_to_worker_ms=%.2f reconcile_ms=%.2f build_publish_ms=%.2f "
		       "cpu_ms_per_publication=%.2f sources_built_per_publication=%.1f "
		       "maglev_built=%" PRIu64 " maglev_reused=%" PRIu64
		       " svc_table_shared=%" PRIu64 " memo_copied_per_publication=%.1f "
		       "ours_asked_per_publication=%.1f reconcile_cpu_ms_per_publication=%.2f "
		       "worker_tlb_shootdowns_per_publication=%.1f\n",
		       opt.changes, opt.burst, gens, opt.changes / ((double)(c1 - c0) / 1e9),
		       gens ? (double)busy / 1e6 / (double)gens : 0.0, (double)p50 / 1e6,
		       (double)p99 / 1e6, gens ? (double)reconcile_ns / 1e6 / (double)gens : 0.0,
		       gens ? (double)replace_ns / 1e6 / (double)gens : 0.0,
		       gens ? (double)cpu_ns / 1e6 / (double)gens : 0.0,
		       gens ? (double)(k8s_reconcile_builds - builds0) / (double)gens : 0.0, built,
		       reused, shared,
		       gens ? (double)(k8s_reconcile_copied - copied0) / (double)gens : 0.0,
		       gens ? (double)(k8s_reconcile_ours_asked - asked0) / (double)gens : 0.0,
		       gens ? (double)reconcile_cpu_ns / 1e6 / (double)gens : 0.0,
		       gens ? (double)tlb / (double)gens : 0.0);
		printf("bench case=cp-scale phase=churn-status old_status=%s generations=%" PRIu64
		       " status_cpu_ms_per_publication=%.3f results_written_per_publication=%.1f "
		       "patches_per_publication=%.2f echoes_per_publication=%.2f "
		       "echo_reconcile_passes=%lu echo_status_passes=%lu "
		       "echo_cpu_ms_per_publication=%.3f\n",
		       old_status ? "yes" : "no", gens,
		       gens ? (double)status_cpu_ns / 1e6 / (double)gens : 0.0,
		       gens ? (double)(k8s_report_written - written0) / (double)gens : 0.0,
		       gens ? (double)(k8s_report_patches - patches0) / (double)gens : 0.0,
		       gens ? (double)(echoes - echoes0) / (double)gens : 0.0,
		       echo_passes - echo_passes0, echo_status_passes - echo_status0,
		       gens ? (double)echo_cpu_ns / 1e6 / (double)gens : 0.0);
		wire_print();
	}
	free(lat);
	free(applied);
	dp_stop();
	return 0;
}
