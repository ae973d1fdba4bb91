/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The views (cp/view.h): each fact the management interfaces show is built here, once, from
 * the desired state, the workers' counters and their session records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/proto.h>

#include "cp_priv.h"
#include "sync_cp.h"
#include "view.h"

const char *const cp_view_port_role[DP_PORT_MAX] = {"ext", "int"};

const char *cp_view_source_name(enum cp_source s)
{
	return s == CP_SRC_CONFIG ? "config" : s == CP_SRC_CLI ? "cli" : "kubernetes";
}

static void mapping_fill(struct cp_view_mapping *v, const struct cfg_mapping *m, enum cp_source src)
{
	size_t off = 0;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", m->name);
	snprintf(v->ns, sizeof(v->ns), "%s", m->ns);
	snprintf(v->label, sizeof(v->label), "%s%s%s", m->ns, m->ns[0] ? "/" : "", m->name);
	v->slot = (uint16_t)cp_slot_find(m->ns, m->name); // published: it has one
	v->ordinal = m->ordinal;
	v->source = (uint8_t)src;
	v->mode = (uint8_t)m->mode;
	v->nat = (uint8_t)m->nat;
	v->affinity = (uint8_t)m->affinity;
	v->pickup = m->pickup;
	v->n_rules = m->n_rules;
	v->n_addrs = m->n_addrs;
	memcpy(v->addrs, m->addrs, m->n_addrs * sizeof(m->addrs[0]));
	v->n_backends = m->n_backends;
	for (unsigned int i = 0; i < m->n_ports; i++) {
		const struct cfg_map_port *p = &m->ports[i];
		const char *proto = strait_proto_name(p->proto);
		char *s = v->specs[v->n_specs++];
		size_t size = sizeof(v->specs[0]);
		int n = p->end_port != p->port
				? snprintf(s, size, "%u-%u/%s", p->port, p->end_port, proto)
				: snprintf(s, size, "%u/%s", p->port, proto);

		if (p->service_port_name[0])
			snprintf(s + n, size - (size_t)n, "->%s", p->service_port_name);
		else if (p->service_port && p->service_port != p->port)
			snprintf(s + n, size - (size_t)n, "->%u", p->service_port);
		// Labels: counters are per mapping, so a mapping with several ports entries
		// carries them all, "9094,30000-30099", and its protocols, "tcp,udp".
		if (off < sizeof(v->ports)) {
			n = p->end_port != p->port
				    ? snprintf(v->ports + off, sizeof(v->ports) - off, "%s%u-%u",
					       i ? "," : "", p->port, p->end_port)
				    : snprintf(v->ports + off, sizeof(v->ports) - off, "%s%u",
					       i ? "," : "", p->port);
			off += n > 0 ? (size_t)n : 0;
		}
		if (!strstr(v->protocol, proto))
			snprintf(v->protocol + strlen(v->protocol),
				 sizeof(v->protocol) - strlen(v->protocol), "%s%s",
				 v->protocol[0] ? "," : "", proto);
	}
	if (m->n_ports == 0 && m->mode == CFG_MODE_PER_POD)
		snprintf(v->specs[v->n_specs++], sizeof(v->specs[0]), "%u+/tcp->%u", m->start_port,
			 m->target_port);
	if (m->n_ports == 0 && m->start_port)
		snprintf(v->ports, sizeof(v->ports), "%u", m->start_port);
}

struct cp_view_mapping *cp_view_mappings(unsigned int *n)
{
	unsigned int count = cp_mapping_count();
	struct cp_view_mapping *v = calloc(count + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (unsigned int i = 0; i < count; i++) {
		enum cp_source src;
		const struct cfg_mapping *m = cp_mapping_at(i, &src); // sets src: a sequence point

		mapping_fill(&v[i], m, src);
	}
	*n = count;
	return v;
}

struct dp_stats *cp_view_counters(struct cp_view_counters *v)
{
	struct dp_stats *s = dp_stats_sum_new();

	if (!s)
		return NULL;
	for (int p = 0; p < DP_PORT_MAX; p++) {
		v->rx_packets[p] = s->rx_pkts[p];
		v->tx_packets[p] = s->tx_pkts[p];
		v->rx_bytes[p] = s->rx_bytes[p];
		v->tx_bytes[p] = s->tx_bytes[p];
	}
	v->sessions_active = s->sessions_created - s->sessions_expired;
	v->sessions_created = s->sessions_created;
	v->sessions_expired = s->sessions_expired;
	v->sessions_evicted = s->sessions_evicted;
	v->sessions_picked_up = s->sessions_picked_up;
	v->sessions_snat_probed = s->sessions_snat_probed;
	memcpy(v->kernel_in, s->kernel_in, sizeof(v->kernel_in));
	memcpy(v->kernel_out, s->kernel_out, sizeof(v->kernel_out));
	v->handoff_packets = s->handoff_out;
	v->slowpath_packets = s->slowpath;
	memcpy(v->drops, s->drops, sizeof(v->drops));
	cp_sync_counters(s->sync, v->sync);
	cp_loop_stats(&v->ctl_loop_slow, &v->ctl_loop_max_ns);
	return s;
}

void cp_view_map_counters(const struct dp_stats *s, uint16_t slot, struct cp_view_map_counters *out)
{
	const struct dp_map_stats *m = &s->map[slot];

	out->sessions_active = m->sessions_created - m->sessions_expired;
	out->sessions_created = m->sessions_created;
	out->pkts[0] = m->pkts[0];
	out->pkts[1] = m->pkts[1];
	out->bytes[0] = m->bytes[0];
	out->bytes[1] = m->bytes[1];
	out->drops = m->drops;
}

struct sessions_walk {
	const struct cp_view_mapping *maps;
	unsigned int n_maps;
	int (*cb)(const struct cp_view_session *v, void *arg);
	void *arg;
};

static void addr_port(char *buf, size_t size, uint32_t addr, uint16_t port)
{
	char a[16];

	snprintf(buf, size, "%s:%u", cfg_ipv4_str(addr, a), port);
}

static int session_fill(const struct dp_session_info *si, void *arg)
{
	const struct sessions_walk *w = arg;
	struct cp_view_session v = {
		.worker = si->worker,
		.proto = strait_proto_name(si->proto),
		.state = si->state,
		.idle_s = si->idle_s,
		.expires_s = si->expires_in_s,
		.pkts = {si->pkts[0], si->pkts[1]},
		.bytes = {si->bytes[0], si->bytes[1]},
	};

	for (unsigned int i = 0; i < w->n_maps; i++) {
		if (w->maps[i].slot == si->slot) {
			snprintf(v.mapping, sizeof(v.mapping), "%s", w->maps[i].label);
			break;
		}
	}
	addr_port(v.client, sizeof(v.client), si->client_addr, si->client_port);
	addr_port(v.external, sizeof(v.external), si->ext_addr, si->ext_port);
	addr_port(v.snat, sizeof(v.snat), si->snat_addr, si->snat_port);
	addr_port(v.backend, sizeof(v.backend), si->backend_addr, si->backend_port);
	return w->cb(&v, w->arg);
}

unsigned int cp_view_sessions_walk(int slot, const struct cp_view_mapping *maps,
				   unsigned int n_maps,
				   int (*cb)(const struct cp_view_session *v, void *arg), void *arg)
{
	struct sessions_walk w = {.maps = maps, .n_maps = n_maps, .cb = cb, .arg = arg};

	return dp_sessions_walk(slot, session_fill, &w);
}
