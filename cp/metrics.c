/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus endpoint on `metrics_listen`: /metrics (text exposition format 0.0.4),
 * /healthz and /readyz, served by libmicrohttpd's own thread.
 *
 * That thread follows the telemetry rule (cp/snapshot.c): it renders the views of
 * cp/view.h, the workers' plain counters summed per scrape (cp_view_counters()) and the
 * control thread's snapshot for names, the tables generation and port figures, under the
 * snapshot's read lock, and writes the page into memory before it lets go of the lock and
 * hands the page to the network.
 *
 * Per-mapping series carry namespace, name, port, protocol and ordinal labels. A mapping's
 * counter slot is never given to another mapping, so a series never jumps backwards when
 * mappings come and go; a deleted and re-added mapping continues its own counters.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifdef STRAIT_HAVE_MHD
#include <microhttpd.h>
#endif

#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/log.h>

#include "cp_priv.h"

/* The control loop refreshes the snapshot every second; five without is a stall. */
#define HEALTH_STALL_NS (5ull * 1000000000ull)

static const char *const k8s_states[] = {"disabled", "syncing", "synced", "error"};

static void (*renderers[CP_METRICS_MAX_RENDERERS])(FILE *f, const struct cp_snap *snap);
static unsigned int n_renderers;

void cp_metrics_register(void (*render)(FILE *f, const struct cp_snap *snap))
{
	assert(n_renderers < CP_METRICS_MAX_RENDERERS);
	renderers[n_renderers++] = render;
}

/* A label value: backslash, double quote and newline escaped (exposition format 0.0.4). */
void cp_metrics_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void cp_metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void map_labels(FILE *f, const struct cp_view_mapping *m)
{
	char ord[16] = "";

	if (m->ordinal >= 0)
		snprintf(ord, sizeof(ord), "%d", m->ordinal);
	fputs("namespace=\"", f);
	cp_metrics_label_value(f, m->ns);
	fputs("\",name=\"", f);
	cp_metrics_label_value(f, m->name);
	fputs("\",port=\"", f);
	cp_metrics_label_value(f, m->ports);
	fputs("\",protocol=\"", f);
	cp_metrics_label_value(f, m->protocol);
	fprintf(f, "\",ordinal=\"%s\"", ord);
}

/* One sample per mapping; @p dirs adds direction="out2in|in2out". */
static void map_samples(FILE *f, const struct cp_snap *snap, const struct dp_stats *s,
			const char *name, uint64_t (*get)(const struct cp_view_map_counters *, int),
			int dirs)
{
	static const char *const dir_name[] = {"out2in", "in2out"};

	for (unsigned int i = 0; i < snap->n_mappings; i++) {
		const struct cp_view_mapping *m = &snap->maps[i];
		struct cp_view_map_counters c;

		cp_view_map_counters(s, m->slot, &c);
		for (int d = 0; d < (dirs ? 2 : 1); d++) {
			fprintf(f, "%s{", name);
			map_labels(f, m);
			if (dirs)
				fprintf(f, ",direction=\"%s\"", dir_name[d]);
			fprintf(f, "} %" PRIu64 "\n", get(&c, d));
		}
	}
}

static uint64_t get_active(const struct cp_view_map_counters *c, int d)
{
	RTE_SET_USED(d);
	return c->sessions_active;
}

static uint64_t get_created(const struct cp_view_map_counters *c, int d)
{
	RTE_SET_USED(d);
	return c->sessions_created;
}

static uint64_t get_pkts(const struct cp_view_map_counters *c, int d)
{
	return c->pkts[d];
}

static uint64_t get_bytes(const struct cp_view_map_counters *c, int d)
{
	return c->bytes[d];
}

static uint64_t get_drops(const struct cp_view_map_counters *c, int d)
{
	RTE_SET_USED(d);
	return c->drops;
}

static void port_samples(FILE *f, const struct cp_snap *snap, const char *name, const char *type,
			 const char *help, size_t off)
{
	cp_metrics_family(f, name, type, help);
	for (int r = 0; r < DP_PORT_MAX; r++) {
		const struct cp_snap_port *p = &snap->ports[r];
		uint64_t v;

		memcpy(&v, (const char *)&p->stats + off, sizeof(v));
		fprintf(f, "%s{port=\"%s\",device=\"", name, p->role);
		cp_metrics_label_value(f, p->device);
		fprintf(f, "\"} %" PRIu64 "\n", v);
	}
}

int cp_metrics_render(FILE *f)
{
	const struct cp_snap *snap = cp_snap_get();
	struct cp_view_counters v;
	struct dp_stats *s;

	if (!snap)
		return -ENODEV;
	s = cp_view_counters(&v);
	if (!s) {
		cp_snap_put();
		return -ENOMEM;
	}

	cp_metrics_family(f, "strait_sessions_active", "gauge", "Sessions alive now, per mapping.");
	map_samples(f, snap, s, "strait_sessions_active", get_active, 0);
	cp_metrics_family(f, "strait_sessions_created_total", "counter",
			  "Sessions created, per mapping.");
	map_samples(f, snap, s, "strait_sessions_created_total", get_created, 0);
	cp_metrics_family(
		f, "strait_packets_total", "counter",
		"Packets translated, per mapping and direction (out2in: client to backend).");
	map_samples(f, snap, s, "strait_packets_total", get_pkts, 1);
	cp_metrics_family(f, "strait_bytes_total", "counter",
			  "IPv4 bytes (total length) translated, per mapping and direction.");
	map_samples(f, snap, s, "strait_bytes_total", get_bytes, 1);
	cp_metrics_family(
		f, "strait_mapping_drops_total", "counter",
		"Packets for a mapping dropped (allow-list, full session table, no SNAT port, no "
		"backend); by reason in strait_drops_total.");
	map_samples(f, snap, s, "strait_mapping_drops_total", get_drops, 0);

	cp_metrics_family(f, "strait_drops_total", "counter",
			  "Packets dropped by the gateway, by reason.");
	for (int d = 0; d < DP_DROP_MAX; d++)
		fprintf(f, "strait_drops_total{reason=\"%s\"} %" PRIu64 "\n", dp_drop_name(d),
			v.drops[d]);
	cp_metrics_family(f, "strait_sessions_evicted_total", "counter",
			  "Unestablished TCP sessions removed early to make room for new ones "
			  "(session table, mapping limit or SNAT ports full).");
	fprintf(f, "strait_sessions_evicted_total %" PRIu64 "\n", v.sessions_evicted);
	cp_metrics_family(f, "strait_sessions_picked_up_total", "counter",
			  "TCP sessions started by a mid-flow segment of a flow that began on "
			  "another gateway (mapping pickup).");
	fprintf(f, "strait_sessions_picked_up_total %" PRIu64 "\n", v.sessions_picked_up);
	cp_metrics_family(f, "strait_sessions_snat_probed_total", "counter",
			  "Full-NAT sessions whose SNAT port was found by probing the session "
			  "table: the worker's pool of SNAT port bitmaps was in use.");
	fprintf(f, "strait_sessions_snat_probed_total %" PRIu64 "\n", v.sessions_snat_probed);
	cp_metrics_family(
		f, "strait_control_loop_slow_total", "counter",
		"Control loop iterations of 100 ms or more: the slow path (kernel path, "
		"ARP, ICMP) and every module waited that long (logged with the longest).");
	fprintf(f, "strait_control_loop_slow_total %" PRIu64 "\n", v.ctl_loop_slow);
	cp_metrics_family(f, "strait_control_loop_max_seconds", "gauge",
			  "The control loop's longest iteration since start.");
	fprintf(f, "strait_control_loop_max_seconds %.6f\n", (double)v.ctl_loop_max_ns / 1e9);
	for (int c = 0; c < SYNC_C_MAX; c++) { // session sync (docs/ha.md)
		char name[64];
		snprintf(name, sizeof(name), "strait_sync_%s_total", sync_counter_name(c));
		cp_metrics_family(f, name, "counter", sync_counter_help(c));
		fprintf(f, "%s %" PRIu64 "\n", name, v.sync[c]);
	}
	cp_metrics_family(f, "strait_kernel_frames_total", "counter",
			  "Frames to (in) and from (out) each port's kernel TAP (docs/ha.md).");
	for (int p = 0; p < DP_PORT_MAX; p++)
		fprintf(f,
			"strait_kernel_frames_total{port=\"%s\",direction=\"in\"} %" PRIu64 "\n"
			"strait_kernel_frames_total{port=\"%s\",direction=\"out\"} %" PRIu64 "\n",
			cp_view_port_role[p], v.kernel_in[p], cp_view_port_role[p],
			v.kernel_out[p]);
	cp_metrics_family(f, "strait_handoff_packets_total", "counter",
			  "Packets passed to the worker that owns their session.");
	fprintf(f, "strait_handoff_packets_total %" PRIu64 "\n", v.handoff_packets);
	cp_metrics_family(
		f, "strait_slowpath_packets_total", "counter",
		"Packets passed to the control thread (ARP, ICMP to the gateway, TTL exceeded).");
	fprintf(f, "strait_slowpath_packets_total %" PRIu64 "\n", v.slowpath_packets);

	port_samples(f, snap, "strait_port_rx_packets_total", "counter",
		     "Packets received by the port (ethdev ipackets).",
		     offsetof(struct rte_eth_stats, ipackets));
	port_samples(f, snap, "strait_port_tx_packets_total", "counter",
		     "Packets sent by the port (ethdev opackets).",
		     offsetof(struct rte_eth_stats, opackets));
	port_samples(f, snap, "strait_port_rx_bytes_total", "counter",
		     "Bytes received by the port (ethdev ibytes).",
		     offsetof(struct rte_eth_stats, ibytes));
	port_samples(f, snap, "strait_port_tx_bytes_total", "counter",
		     "Bytes sent by the port (ethdev obytes).",
		     offsetof(struct rte_eth_stats, obytes));
	port_samples(f, snap, "strait_port_rx_missed_total", "counter",
		     "Packets the port dropped for want of rx descriptors (ethdev imissed).",
		     offsetof(struct rte_eth_stats, imissed));
	port_samples(f, snap, "strait_port_rx_errors_total", "counter",
		     "Erroneous packets received (ethdev ierrors).",
		     offsetof(struct rte_eth_stats, ierrors));
	port_samples(f, snap, "strait_port_tx_errors_total", "counter",
		     "Packets the port failed to send (ethdev oerrors).",
		     offsetof(struct rte_eth_stats, oerrors));
	cp_metrics_family(f, "strait_port_up", "gauge", "1 when the port's link is up.");
	for (int r = 0; r < DP_PORT_MAX; r++) {
		fprintf(f, "strait_port_up{port=\"%s\",device=\"", snap->ports[r].role);
		cp_metrics_label_value(f, snap->ports[r].device);
		fprintf(f, "\"} %d\n", snap->ports[r].link_up ? 1 : 0);
	}

	// The other modules' families (cp_metrics_register()), in registration order.
	for (unsigned int i = 0; i < n_renderers; i++)
		renderers[i](f, snap);

	cp_metrics_family(f, "strait_tables_generation", "gauge",
			  "Generation of the published tables (one more per publish).");
	fprintf(f, "strait_tables_generation %" PRIu64 "\n", snap->generation);
	cp_metrics_family(f, "strait_mappings", "gauge", "Mappings in the published tables.");
	fprintf(f, "strait_mappings %u\n", snap->n_mappings);
	cp_metrics_family(f, "strait_kubernetes_state", "gauge",
			  "Kubernetes watch state: 1 for the current one (a state set).");
	for (unsigned int i = 0; i < RTE_DIM(k8s_states); i++)
		fprintf(f, "strait_kubernetes_state{state=\"%s\"} %d\n", k8s_states[i],
			snap->k8s_state && strcmp(snap->k8s_state, k8s_states[i]) == 0);

	free(s);
	cp_snap_put();
	return 0;
}

bool cp_metrics_ready(char *why, size_t len)
{
	const struct cp_snap *snap = cp_snap_get();
	size_t off = 0;

	why[0] = '\0';
	if (!snap) {
		snprintf(why, len, "starting");
		return false;
	}
#define WHY(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(why + off, len - off, "%s", off ? "; " : "");                    \
		off += n_ > 0 ? (size_t)n_ : 0;                                                    \
		if (off < len) {                                                                   \
			n_ = snprintf(why + off, len - off, __VA_ARGS__);                          \
			off += n_ > 0 ? (size_t)n_ : 0;                                            \
		}                                                                                  \
		if (off >= len)                                                                    \
			off = len - 1;                                                             \
	} while (0)
	for (int r = 0; r < DP_PORT_MAX; r++)
		if (!snap->ports[r].link_up)
			WHY("port %s (%s) link down", snap->ports[r].role, snap->ports[r].device);
	if (snap->generation == 0)
		WHY("no tables published");
	if (snap->k8s_enabled && (!snap->k8s_state || strcmp(snap->k8s_state, "synced") != 0))
		WHY("kubernetes %s", snap->k8s_state ? snap->k8s_state : "starting");
	if (cp_draining)
		WHY("draining: stopping");
#undef WHY
	cp_snap_put();
	return off == 0;
}

#ifdef STRAIT_HAVE_MHD

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

static struct MHD_Daemon *mhd;

static MHD_RESULT reply(struct MHD_Connection *c, unsigned int code, const char *type, char *body,
			size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_RESULT ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static MHD_RESULT reply_text(struct MHD_Connection *c, unsigned int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static MHD_RESULT reply_text(struct MHD_Connection *c, unsigned int code, const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return reply(c, code, "text/plain; charset=utf-8", body, (size_t)n);
}

static MHD_RESULT on_request(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **req_cls)
{
	RTE_SET_USED(cls);
	RTE_SET_USED(version);
	RTE_SET_USED(upload);
	RTE_SET_USED(upload_size);
	RTE_SET_USED(req_cls);

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
	if (strcmp(url, "/metrics") == 0) {
		char *body = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&body, &len);
		int ret;

		if (!f)
			return MHD_NO;
		ret = cp_metrics_render(f);
		fclose(f);
		if (ret < 0) {
			free(body);
			return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "starting\n");
		}
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len);
	}
	if (strcmp(url, "/healthz") == 0) {
		const struct cp_snap *snap = cp_snap_get();
		uint64_t age;

		if (!snap)
			return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
		age = cp_snap_now_ns() - snap->refreshed_ns;
		cp_snap_put();
		// Alive means the control loop turns: it refreshes the snapshot every second.
		if (age > HEALTH_STALL_NS)
			return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "control loop stalled for %" PRIu64 " ms\n",
					  age / 1000000);
		return reply_text(c, MHD_HTTP_OK, "ok\n");
	}
	if (strcmp(url, "/readyz") == 0) {
		char why[512];

		if (cp_metrics_ready(why, sizeof(why)))
			return reply_text(c, MHD_HTTP_OK, "ready\n");
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready: %s\n", why);
	}
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz, /readyz\n");
}

int cp_metrics_start(const char *listen, char *err, size_t errlen)
{
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char host[CFG_PATH_MAX];
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	int ret;

	if (!colon || colon == listen) {
		snprintf(err, errlen, "metrics_listen: \"%s\" is not host:port", listen);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	// "[::1]:9469": the brackets belong to the URL syntax, not to the address.
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	ret = getaddrinfo(host, colon + 1, &hints, &ai);
	if (ret != 0) {
		snprintf(err, errlen, "metrics_listen: %s: %s", listen, gai_strerror(ret));
		return -EINVAL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
			       ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	ret = errno ? -errno : -EADDRNOTAVAIL;
	freeaddrinfo(ai);
	if (!mhd) {
		snprintf(err, errlen, "metrics_listen: cannot listen on %s: %s", listen,
			 strerror(-ret));
		return ret;
	}
	CP_LOG(INFO, "metrics on http://%s/metrics", listen);
	return 0;
}

void cp_metrics_stop(void)
{
	if (mhd)
		MHD_stop_daemon(mhd); // joins its thread: no request runs after this
	mhd = NULL;
}

#else /* !STRAIT_HAVE_MHD */

int cp_metrics_start(const char *listen, char *err, size_t errlen)
{
	snprintf(err, errlen, "metrics_listen: %s: strait was built without libmicrohttpd", listen);
	return -EINVAL;
}

void cp_metrics_stop(void)
{
}

#endif

static int metrics_module_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	const char *listen = cp_config()->metrics_listen;

	RTE_SET_USED(ctx);
	return listen[0] ? cp_metrics_start(listen, err, errlen) : 0;
}

static struct cp_module metrics_module = {
	.name = "metrics",
	.order = CP_MOD_METRICS,
	.init = metrics_module_init,
	.fini = cp_metrics_stop,
};
CP_MODULE_REGISTER(metrics_module)
