/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The data plane as the control plane sees it: start-up, per-lcore counters, sessions,
 * commands to workers, and the slow path (ARP, ICMP to the gateway, ICMP errors it sends).
 *
 * Workers never call into the control plane. They read the published tables
 * (strait/tables.h) and the neighbour table, write only their own counters and session table,
 * and talk to the control thread through single-producer/single-consumer rte_rings.
 */
#ifndef STRAIT_DP_H
#define STRAIT_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include <strait/config.h>
#include <strait/sync.h>
#include <strait/tables.h>

/**
 * Drop reasons, one list (X-macro): the enum, the counter arrays, the CLI, telemetry and
 * Prometheus labels all come from it. A new reason is a line here and the dp_drop() (or
 * m->drop) that counts it; nothing else restates the list.
 */
#define DP_DROP_REASONS(X)                                                                         \
	X(TRUNCATED, "truncated")                                                                  \
	X(BAD_ETHERTYPE, "bad_ethertype")                                                          \
	X(BAD_VERSION, "bad_version")                                                              \
	X(BAD_IHL, "bad_ihl")                                                                      \
	X(BAD_TOTAL_LENGTH, "bad_total_length")                                                    \
	X(BAD_IP_CHECKSUM, "bad_ip_checksum")                                                      \
	X(BAD_L4_CHECKSUM, "bad_l4_checksum")                                                      \
	X(BAD_L4_HEADER, "bad_l4_header")                                                          \
	X(UNSUPPORTED_PROTO, "unsupported_proto")                                                  \
	X(NOT_FOR_US, "not_for_us")                                                                \
	X(NO_MAPPING, "no_mapping")                                                                \
	X(NOT_ALLOWED, "not_allowed")                                                              \
	X(NO_RULE, "no_rule")                                                                      \
	X(SPOOFED_SOURCE, "spoofed_source")                                                        \
	X(NO_SESSION, "no_session")                                                                \
	X(TCP_NOT_SYN, "tcp_not_syn")                                                              \
	X(TCP_BAD_FLAGS, "tcp_bad_flags")                                                          \
	X(TCP_OUT_OF_WINDOW, "tcp_out_of_window")                                                  \
	X(SESSION_TABLE_FULL, "session_table_full")                                                \
	X(MAPPING_SESSION_LIMIT, "mapping_session_limit")                                          \
	X(SOURCE_SESSION_LIMIT, "source_session_limit")                                            \
	X(NEW_SESSION_RATE, "new_session_rate")                                                    \
	X(NO_SNAT_PORT, "no_snat_port")                                                            \
	X(NO_BACKEND, "no_backend")                                                                \
	X(REJECTED, "rejected") /* a reject backend: unresolved backendRef (TCP: RST sent) */      \
	X(NO_ROUTE, "no_route")                                                                    \
	X(TTL_EXCEEDED, "ttl_exceeded")                                                            \
	X(FRAG_NO_SESSION, "frag_no_session")                                                      \
	X(FRAG_HOLD_FULL, "frag_hold_full")                                                        \
	X(FRAG_HOLD_TIMEOUT, "frag_hold_timeout")                                                  \
	X(FRAG_OVERLAP, "frag_overlap")                                                            \
	X(ICMP_NO_SESSION, "icmp_no_session")                                                      \
	X(HANDOFF_RING_FULL, "handoff_ring_full")                                                  \
	X(SLOWPATH_RING_FULL, "slowpath_ring_full")                                                \
	X(TX_FULL, "tx_full")                                                                      \
	X(NO_NEIGHBOR, "no_neighbor")                                                              \
	X(ARP_UNSOLICITED, "arp_unsolicited")                                                      \
	X(ARP_WRONG_ARM, "arp_wrong_arm")                                                          \
	X(ICMP_RATE_LIMITED, "icmp_rate_limited")                                                  \
	X(NEIGH_PARK_FULL, "neigh_park_full")                                                      \
	X(NEIGH_TABLE_FULL, "neigh_table_full")                                                    \
	X(KERNEL_NOT_LOCAL, "kernel_not_local")                                                    \
	X(KERNEL_TAP_FULL, "kernel_tap_full")                                                      \
	X(KERNEL_BAD_FRAME, "kernel_bad_frame")

enum dp_drop {
#define X(e, s) DP_DROP_##e,
	DP_DROP_REASONS(X)
#undef X
		DP_DROP_MAX
};

/**
 * Label of a drop reason: the second column of DP_DROP_REASONS ("truncated", ...), a static
 * string; "?" when @p d >= DP_DROP_MAX. Any thread.
 */
const char *dp_drop_name(enum dp_drop d);

/** Per-mapping counters of one worker, indexed by tbl_mapping.slot. */
struct dp_map_stats {
	uint64_t sessions_created;
	uint64_t sessions_expired;
	uint64_t pkts[2];  /**< [0] out2in (client → backend), [1] in2out */
	uint64_t bytes[2]; /**< IP bytes (total length), same directions */
	uint64_t drops;	   /**< packets for this mapping dropped (allow-list, full table...) */
};

/**
 * Counters of one worker. Written only by that worker; the control thread sums them.
 * Every field is a uint64_t (dp_stats_sum() adds them as an array). [DP_PORT_MAX] arrays are
 * indexed by enum dp_port_role.
 */
struct dp_stats {
	uint64_t rx_pkts[DP_PORT_MAX], tx_pkts[DP_PORT_MAX];
	uint64_t rx_bytes[DP_PORT_MAX], tx_bytes[DP_PORT_MAX]; /**< frame bytes (mbuf pkt_len) */
	uint64_t drops[DP_DROP_MAX];			       /**< packets, by enum dp_drop */
	uint64_t sessions_created, sessions_expired;
	/** of sessions_expired: unestablished TCP sessions removed early to make room for a new
	 *  session (table, mapping limit or SNAT ports full), as conntrack's early_drop */
	uint64_t sessions_evicted;
	/** of sessions_created: TCP sessions started by a mid-flow segment (mapping pickup) */
	uint64_t sessions_picked_up;
	/** of sessions_created: full-NAT sessions made while the worker's SNAT port pool had no
	 *  bitmap free for their destination (dp/snat.h), their port probed against the session
	 *  table instead: a sign that DP_SNAT_DESTS is too small for the backends in use */
	uint64_t sessions_snat_probed;
	/** the kernel exception path (docs/ha.md), per arm: frames written to its TAP (in to
	 *  the kernel), and frames the kernel sent on it out of the port */
	uint64_t kernel_in[DP_PORT_MAX], kernel_out[DP_PORT_MAX];
	uint64_t handoff_out, handoff_in; /**< packets passed to / taken from other workers */
	uint64_t slowpath;		  /**< packets passed to the control thread */
	uint64_t busy_tsc, total_tsc;	  /**< TSC cycles of loop iterations with work / of all */
	uint64_t loops;
	uint64_t sync[SYNC_C_MAX]; /**< session sync, the workers' counters (strait/sync.h) */
	struct dp_map_stats map[CFG_MAX_MAPPINGS];
};

/** What dp_init() needs. */
struct dp_params {
	const struct cfg *cfg;
	uint16_t port_id[DP_PORT_MAX]; /**< ethdev port ids, resolved from cfg device names */
	unsigned int n_workers;	       /**< 1 to CFG_MAX_WORKERS */
	unsigned int worker_lcore[CFG_MAX_WORKERS]; /**< EAL lcore of each worker, [n_workers] */
	uint32_t sessions_per_worker; /**< session records of each worker's table, 1 to 2^31 - 1 */
};

/**
 * Set up ports (one rx and one tx queue per worker), mempools, session tables, rings and
 * the QSBR variable. Ports are started.
 * @param err, errlen where a failure's message goes (NUL-terminated, truncated to errlen).
 * @return 0, -EINVAL (a port has too few queues for the workers: the message says what to
 *         add), -ENOMEM (mbuf pool, QSBR variable, a worker's session table or rings), or a
 *         negative errno from ethdev. Control plane, before dp_start(); after a failure call
 *         dp_fini().
 */
int dp_init(const struct dp_params *p, char *err, size_t errlen);

/**
 * Launch the worker loop on every worker's lcore (rte_eal_remote_launch()).
 * @return 0, or the negative errno of rte_eal_remote_launch() (-EBUSY: the lcore is not
 *         idle). Control plane, after dp_init().
 */
int dp_start(void);

/** Ask workers to stop (dp_force_quit) and wait for their lcores. Safe to call twice, and
 * before dp_start(). Control plane. */
void dp_stop(void);

/** dp_stop(), then stop and close the ports and free the workers, their session tables and
 * rings, and the QSBR variable (the mbuf pool stays). Control plane. */
void dp_fini(void);

/**
 * The workers' QSBR variable, for tables_publish(): NULL while the workers are not running
 * (nothing then holds a pointer into the tables). Control plane.
 */
struct rte_rcu_qsbr *dp_qsbr(void);

/** Number of workers (dp_params.n_workers); 0 before dp_init(). Any thread. */
unsigned int dp_n_workers(void);
/**
 * Worker @p i's counters, read-only, read while it writes them (racy but never torn on
 * x86-64). @return NULL when @p i >= dp_n_workers(). Any thread.
 */
const struct dp_stats *dp_worker_stats(unsigned int i);
/** EAL lcore of worker @p i; 0 when @p i >= dp_n_workers(). Any thread. */
unsigned int dp_worker_lcore(unsigned int i);

/**
 * Sum every worker's counters and the slow path's into @p out, which is overwritten (the
 * per-mapping arrays too). Control, telemetry or metrics thread.
 */
void dp_stats_sum(struct dp_stats *out);

/**
 * dp_stats_sum() into a new heap block (struct dp_stats is too large for a thread's stack:
 * it holds every mapping slot's counters). Control, telemetry or metrics thread.
 * @return the sum, to free(); NULL when out of memory.
 */
struct dp_stats *dp_stats_sum_new(void);

/**
 * How packets of arm @p r reach the worker that owns their flow, as set up by dp_init():
 * "none (one worker)", "rte_flow: N rules" (the int port's SNAT partitions steered by the
 * device, rte_flow API), or "rss, handoff ring" / "device, handoff ring" with, on the int
 * port, why the device refused the rules. "" before dp_init(). Any thread.
 */
const char *dp_port_steering(enum dp_port_role r);
/** Ethdev port id of arm @p r (enum dp_port_role < DP_PORT_MAX); 0 before dp_init(). */
uint16_t dp_port_id(enum dp_port_role r);
/**
 * MAC of arm @p r as the device reported it when started; all zero before dp_init(). The
 * pointer stays valid for the life of the process. Any thread.
 */
const struct rte_ether_addr *dp_port_mac(enum dp_port_role r);

/** A session as the management interfaces show it. Addresses and ports host order. */
struct dp_session_info {
	unsigned int worker;
	uint16_t slot; /**< mapping counter slot */
	uint8_t proto;
	const char *state; /**< "syn_sent", "established", "fin_wait", "closed", "udp", ... */
	uint32_t client_addr, ext_addr, snat_addr, backend_addr;
	uint16_t client_port, ext_port, snat_port, backend_port;
	uint64_t pkts[2], bytes[2];
	uint32_t idle_s, expires_in_s;
};

/**
 * Walk live sessions: calls @p cb for each until it returns non-zero. Reads other lcores'
 * session records without stopping them: a record may be caught mid-update (shown once with
 * stale counters), never freed memory. Control plane only.
 * @param slot only sessions of this mapping slot, or -1 for all.
 * @param cb gets a copy valid during the call (struct dp_session_info: host order, seconds).
 * @return the number of sessions visited (cb calls); 0 when no tables are published.
 */
unsigned int dp_sessions_walk(int slot, int (*cb)(const struct dp_session_info *s, void *arg),
			      void *arg);

/**
 * What a clear removes: the sessions that match every condition given. Addresses host order.
 * Built by the control thread, copied into each worker's command (dp_sessions_clear_start()).
 */
struct dp_clear_req {
	int slot;	       /**< mapping counter slot, -1 = any mapping */
	uint32_t backend_addr; /**< sessions to this backend only; 0 = any backend */
	uint8_t proto;	       /**< IPPROTO_TCP or IPPROTO_UDP only; 0 = any protocol */
	/**
	 * TCP sessions cleared get a RST sent to the client from the mapping's address and port
	 * (RFC 9293 §3.10.7: the receiver of an acceptable RST closes at once): seq = the next
	 * sequence number the backend would send (seq + length of its last segment, tracked per
	 * session); for a session the backend never answered, RST|ACK with ack = the client's
	 * SYN + 1. Needs the workers running (a worker sends it).
	 */
	bool rst;
	/** with @p slot >= 0: when the clear is done, every worker zeroes its counters of that slot
	 *  (struct dp_map_stats), so that the slot can serve another mapping from zero */
	bool zero_slot;
	/**
	 * with @p keep: a session of @p slot stays only if its client is in allowed[] (n_allowed 0
	 * = anyone), its external address is one of addrs[] and its external port and protocol
	 * are in one of ports[]; the others are removed (an allow-list or port edit that takes
	 * effect on the sessions that exist).
	 */
	bool keep;
	uint32_t n_allowed;
	struct cfg_cidr allowed[CFG_MAX_CIDRS];
	uint32_t n_addrs;
	uint32_t addrs[CFG_MAX_ADDRS];
	uint32_t n_ports;
	struct {
		uint16_t lo, hi; /**< external ports, inclusive */
		uint8_t proto;
	} ports[CFG_MAX_MAP_PORTS];
};

/**
 * Start a clear: queue @p r to every worker and return at once. Each worker examines at most
 * DP_CLEAR_BUDGET (1024) session records per loop iteration (a cursor over its record array),
 * so forwarding goes on between the steps and a table push during a clear loses nothing. With
 * the workers stopped (start-up, unit tests) the control thread clears their tables itself
 * before returning (no RST is sent then).
 * @return a ticket (> 0, increasing by one per call) to poll with dp_sessions_clear_done(),
 *         or 0 when out of memory (nothing queued). Control thread only.
 */
uint64_t dp_sessions_clear_start(const struct dp_clear_req *r);

/**
 * Move queued clears along (commands that found a worker's ring full are sent) and collect
 * the finished ones. Call on every control-loop pass; never blocks.
 * @return the highest ticket such that it and every ticket before it are done (0 = none yet).
 *         Control thread only.
 */
uint64_t dp_sessions_clear_poll(void);

/**
 * Whether clear @p ticket is done on every worker (polls first, as dp_sessions_clear_poll()).
 * @param removed when done, the sessions it removed over all workers (may be NULL).
 * Control thread only.
 */
bool dp_sessions_clear_done(uint64_t ticket, uint64_t *removed);

/**
 * Remove sessions and wait: all (@p slot < 0), one mapping's, or those whose backend is
 * @p backend_addr (host order, 0 = any); no RST. dp_sessions_clear_start() then polls for at
 * most 2 s (a worker that has not finished by then finishes later: its count is left out).
 * For the CLI, which reports a count; never the control loop's Kubernetes path (it uses
 * dp_sessions_clear_start()).
 * @return the number of sessions removed. Control thread only (never a worker).
 */
unsigned int dp_sessions_clear(int slot, uint32_t backend_addr);

/** Number of live sessions over all workers, from their counters (created - expired). Any
 * thread. */
uint64_t dp_sessions_active(void);

/**
 * Run the slow path once: ARP requests and replies, ICMP echo to the gateway, ICMP errors
 * (time exceeded) it originates, packets waiting for a neighbour, ARP refresh of next hops.
 * Call often (every millisecond or so) from the control thread, and only from it: it is the
 * one consumer of the workers' slow-path rings and the one producer of worker 0's tx ring.
 * @return packets handled (taken from the workers' rings).
 */
unsigned int dp_slowpath_poll(void);

/**
 * Forget the slow path's state: free the packets parked for neighbours, forget the addresses
 * announced. Before dp_init() (the daemon calls it once; a test that initialises the data
 * plane again calls it between). Control thread, workers stopped.
 */
void dp_slowpath_reset(void);

/**
 * Announce that @p addr (network order) is ours on arm @p port (enum dp_port_role): one
 * gratuitous ARP, a broadcast request with sender and target both @p addr and our MAC (RFC
 * 5227 §2.3 announcement, as RFC 5944 §4.6 uses it), so that neighbours update their caches
 * now (a VIP moved to this gateway). dp_slowpath_poll() already announces every address a
 * new tables generation adds (port addresses, mapping addresses on ext); call this to
 * announce again (failover). Does nothing when @p port >= DP_PORT_MAX or @p addr is 0.
 * Control thread only (it is the one producer of worker 0's tx ring).
 */
void dp_garp_announce(uint8_t port, rte_be32_t addr);

/**
 * Attach @p fd, a non-blocking Linux TAP (/dev/net/tun with IFF_TAP | IFF_NO_PI: one read or
 * write is one Ethernet frame), as the kernel exception path of arm @p port (docs/ha.md);
 * -1 detaches. The caller keeps the descriptor and closes it after detaching. Control
 * thread; with the tables' kernel_ports bit of the arm set, workers pass it the frames for
 * the gateway they do not handle themselves.
 */
void dp_kernel_attach(uint8_t port, int fd);

/** The descriptor attached to arm @p port, or -1. Control thread. */
int dp_kernel_fd(uint8_t port);

/**
 * One pass of the kernel exception path: write the frames the workers queued for the TAPs
 * (each worker's kern_out ring) and the slow path's (ARP replies), then read what the kernel
 * sent on the attached TAPs, up to 32 frames a ring and a TAP, and send it out of their
 * ports (worker 0's control tx ring). The kernel path's thread runs it (dp_kernel_start());
 * without that thread, dp_slowpath_poll() does.
 * @return frames moved. The kernel path's thread, or the control thread when it has none.
 */
unsigned int dp_kernel_poll(void);

/**
 * Start the kernel path's own thread (rte_ctrl_thread_create(), "strait-kernel"; the EAL's
 * control-thread CPUs): dp_kernel_poll() in a loop, asleep in poll(2) on the TAPs while
 * there is nothing to move (1 ms at most), so that BGP, BFD, VRRP and session sync never
 * wait for the control loop. Attach the TAPs first. Does nothing if it runs already.
 * @return 0, or -ENOMEM (its ring) or a pthread -errno, with a message in @p err.
 * Control thread.
 */
int dp_kernel_start(char *err, size_t errlen);

/** Stop the kernel path's thread and wait for it (before the TAPs are detached and closed,
 * and before the workers are freed). Control thread. */
void dp_kernel_stop(void);

/** Whether the kernel path's thread runs. Control thread. */
bool dp_kernel_thread_running(void);

/** A neighbour (ARP) entry for display. */
struct dp_neigh_info {
	uint32_t addr;		   /**< host order */
	struct rte_ether_addr mac; /**< meaningful when resolved */
	uint8_t port;		   /**< enum dp_port_role */
	bool resolved;		   /**< false: wanted, ARP pending */
	uint32_t age_s;		   /**< seconds since the last ARP update; 0 when not resolved */
};

/**
 * Walk the neighbour table: calls @p cb for every entry that has an address (resolved or
 * wanted), in table order. @return entries visited. Control plane only.
 */
unsigned int dp_neigh_walk(void (*cb)(const struct dp_neigh_info *n, void *arg), void *arg);

/** Whether the worker loop should stop: set by dp_stop(), cleared by dp_start(). */
extern volatile bool dp_force_quit;

#endif
