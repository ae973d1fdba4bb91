/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One view per fact: a mapping, a session, the counters. Each is built one way (cp/view.c)
 * and rendered three ways: CLI JSON (cp/cli_show.c), telemetry (cp/telemetry.c) and
 * Prometheus (cp/metrics.c). A new field is added here once and shows wherever it is rendered.
 */
#ifndef STRAIT_CP_VIEW_H
#define STRAIT_CP_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include <strait/config.h>
#include <strait/cp.h>
#include <strait/dp.h>

/** A mapping of the desired state, as the management interfaces show it. */
struct cp_view_mapping {
	char name[CFG_NAME_MAX];
	char ns[CFG_NAME_MAX];
	char label[2 * CFG_NAME_MAX]; /**< "ns/name", or "name" when ns is "" */
	uint16_t slot;		      /**< index into dp_stats.map */
	int32_t ordinal;	      /**< -1 = none */
	uint8_t source;		      /**< enum cp_source */
	uint8_t mode;		      /**< enum cfg_mapping_mode */
	uint8_t nat;		      /**< enum cfg_nat_mode */
	uint8_t affinity;	      /**< enum cfg_affinity */
	bool pickup;		      /**< mid-flow TCP pickup (preserveSource only) */
	unsigned int n_rules;	      /**< source rules (l7mp matches); 0 = none */
	unsigned int n_addrs;
	uint32_t addrs[CFG_MAX_ADDRS]; /**< host order */
	unsigned int n_specs;
	/** ports entries as `show mappings` lists them: "8080/tcp->80", "30000-30009/udp",
	 *  "32000+/tcp->9092" (per pod) */
	char specs[CFG_MAX_MAP_PORTS + 1][96];
	char ports[128];   /**< external ports, "8080" or "9094,30000-30099": a metrics label */
	char protocol[12]; /**< "tcp", "udp" or "tcp,udp": a metrics label */
	unsigned int n_backends;
};

/** A mapping's counters, summed over the workers. Packets and bytes: [0] out2in, [1] in2out. */
struct cp_view_map_counters {
	uint64_t sessions_active, sessions_created;
	uint64_t pkts[2], bytes[2]; /**< bytes: IPv4 total length */
	uint64_t drops;
};

/**
 * A mapping's counters as `show stats` (CLI key) and /strait/mappings (telemetry key) show
 * them, in that order: X(cli key, telemetry key, member expression of struct
 * cp_view_map_counters). Both renderers take their fields from this list.
 */
#define CP_VIEW_MAP_COUNTER_FIELDS(X)                                                              \
	X("sessions", "sessions_active", sessions_active)                                          \
	X("created", "sessions_created", sessions_created)                                         \
	X("pkts_o2i", "pkts_o2i", pkts[0])                                                         \
	X("pkts_i2o", "pkts_i2o", pkts[1])                                                         \
	X("bytes_o2i", "bytes_o2i", bytes[0])                                                      \
	X("bytes_i2o", "bytes_i2o", bytes[1])                                                      \
	X("drops", "drops", drops)

/** The gateway's counters, summed over the workers. */
struct cp_view_counters {
	uint64_t rx_packets[DP_PORT_MAX], tx_packets[DP_PORT_MAX];
	uint64_t rx_bytes[DP_PORT_MAX], tx_bytes[DP_PORT_MAX];
	uint64_t sessions_active, sessions_created, sessions_expired;
	uint64_t sessions_evicted;   /**< of sessions_expired: early drops (dp_stats) */
	uint64_t sessions_picked_up; /**< of sessions_created: mid-flow pickups (dp_stats) */
	/** of sessions_created: full-NAT ports probed, the SNAT bitmap pool empty (dp_stats) */
	uint64_t sessions_snat_probed;
	/** frames to / from each arm's kernel TAP (dp_stats.kernel_in, kernel_out) */
	uint64_t kernel_in[DP_PORT_MAX], kernel_out[DP_PORT_MAX];
	uint64_t handoff_packets, slowpath_packets;
	uint64_t drops[DP_DROP_MAX]; /**< by enum dp_drop, named by dp_drop_name() */
	uint64_t sync[SYNC_C_MAX]; /**< session sync (strait/sync.h), workers and control thread */
	/** control loop iterations of 100 ms or more, and the longest one (cp_loop_stats()) */
	uint64_t ctl_loop_slow, ctl_loop_max_ns;
};

/** A live session. Packets and bytes: [0] out2in, [1] in2out. */
struct cp_view_session {
	unsigned int worker;
	char mapping[2 * CFG_NAME_MAX]; /**< the mapping's label, "" when it is gone */
	const char *proto;		/**< strait_proto_name() */
	const char *state;		/**< "syn_sent", "established", ..., "udp" */
	char client[24], external[24], snat[24], backend[24]; /**< "a.b.c.d:port" */
	uint32_t idle_s, expires_s;			      /**< seconds */
	uint64_t pkts[2], bytes[2];
};

/**
 * The fields of a session row, in the order every renderer shows them:
 * X(key, kind, member expression of struct cp_view_session), kind INT, STR or U64. The CLI
 * (`show sessions`) and telemetry (/strait/sessions) render a row from this list, so a field
 * added here is in both.
 */
#define CP_VIEW_SESSION_FIELDS(X)                                                                  \
	X("worker", INT, worker)                                                                   \
	X("mapping", STR, mapping)                                                                 \
	X("proto", STR, proto)                                                                     \
	X("client", STR, client)                                                                   \
	X("external", STR, external)                                                               \
	X("snat", STR, snat)                                                                       \
	X("backend", STR, backend)                                                                 \
	X("state", STR, state)                                                                     \
	X("idle_s", U64, idle_s)                                                                   \
	X("expires_s", U64, expires_s)                                                             \
	X("pkts_o2i", U64, pkts[0])                                                                \
	X("pkts_i2o", U64, pkts[1])                                                                \
	X("bytes_o2i", U64, bytes[0])                                                              \
	X("bytes_i2o", U64, bytes[1])

/** Role names of the arms, by enum dp_port_role: "ext", "int". */
extern const char *const cp_view_port_role[DP_PORT_MAX];
/** Name of a mapping source: "config", "cli" or "kubernetes". */
const char *cp_view_source_name(enum cp_source s);

/**
 * The desired state's mappings as views, in its order (that of the published tables).
 * @param n receives the count.
 * @return a malloc'ed array (the caller frees; non-NULL even when *n is 0), or NULL on ENOMEM.
 * Control thread.
 */
struct cp_view_mapping *cp_view_mappings(unsigned int *n);

/**
 * Sum the workers' counters: the gateway's into @p v.
 * @return the sum, from which cp_view_map_counters() reads a mapping's (caller frees), or
 *         NULL on ENOMEM. Control thread, or a thread holding the snapshot (cp_snap_get()).
 */
struct dp_stats *cp_view_counters(struct cp_view_counters *v);

/** The counters of mapping slot @p slot out of @p s (from cp_view_counters()). Any thread. */
void cp_view_map_counters(const struct dp_stats *s, uint16_t slot,
			  struct cp_view_map_counters *out);

/**
 * Walk the live sessions of mapping slot @p slot (-1: all) as views, labelled from
 * @p maps (@p n_maps, from cp_view_mappings() or the snapshot); @p cb returns non-zero to stop.
 * @return the number of sessions visited. Control thread only: the walk reads the tables.
 */
unsigned int cp_view_sessions_walk(int slot, const struct cp_view_mapping *maps,
				   unsigned int n_maps,
				   int (*cb)(const struct cp_view_session *v, void *arg),
				   void *arg);

#endif
