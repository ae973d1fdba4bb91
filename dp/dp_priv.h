/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data plane internals: the packet parser, the session record, the per-lcore worker state.
 * Everything here runs on worker lcores unless a comment says otherwise.
 */
#ifndef STRAIT_DP_PRIV_H
#define STRAIT_DP_PRIV_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_thash.h>

#include <strait/dp.h>
#include <strait/tables.h>

#define DP_BURST 32
#define DP_RING_SIZE 1024
#define DP_EXPIRE_BUDGET 64 /**< session slots examined per housekeeping pass */
#define DP_HOUSEKEEPING_LOOPS 16
#define DP_FRAG_SLOTS 1024 /**< per worker; power of two */
#define DP_SNAT_PORT_MIN 1024u
#define DP_SNAT_PORT_TRIES 64
/* With RSS steering a port must also land on our queue: about 1 in n_workers does. */
#define DP_SNAT_PORT_TRIES_RSS(n) (64u * (n))

/* ICMP types (RFC 792) that DPDK 22.11 does not name. */
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED_CODE 4
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

/** Direction of a packet relative to the NAT: out2in arrives on ext, in2out on int. */
enum { DIR_O2I = 0, DIR_I2O = 1 };

/* ---------------------------------------------------------------------------------------- */
/* Packet parsing (pure: works on a byte buffer, so unit tests and fuzzers need no mbuf).   */

enum pkt_kind { PKT_DROP = 0, PKT_IPV4, PKT_ARP };
enum pkt_frag { FRAG_NONE = 0, FRAG_FIRST, FRAG_LATER };

/** What the parser found. Offsets from the start of the frame; fields in network order. */
struct pkt_meta {
	uint16_t l3_off, l4_off;
	uint16_t ip_len; /**< IPv4 total length, host order */
	uint8_t proto;
	uint8_t frag; /**< enum pkt_frag */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t ttl;
	rte_be32_t src, dst;
	rte_be16_t sport, dport; /**< TCP/UDP ports; ICMP echo: identifier in both; else 0 */
	rte_be16_t ip_id;
	uint8_t drop; /**< enum dp_drop when the result is PKT_DROP */
};

/**
 * Parse an Ethernet frame: Ethernet II, ARP, IPv4 (options allowed), TCP, UDP, ICMP.
 * Checks version, IHL, total length against the frame, the IPv4 header checksum, and that
 * an unfragmented or first-fragment packet holds a whole L4 header.
 * @return PKT_IPV4, PKT_ARP, or PKT_DROP with m->drop set. Pure; any thread.
 */
enum pkt_kind pkt_parse(const uint8_t *frame, uint32_t len, struct pkt_meta *m);

/** Whether the TCP/UDP/ICMP checksum of a whole (unfragmented) IPv4 packet is right. */
bool pkt_l4_cksum_ok(const uint8_t *frame, const struct pkt_meta *m);

/* ---------------------------------------------------------------------------------------- */
/* Sessions                                                                                  */

/**
 * A session's key: the 5-tuple as a packet shows it on arrival (network order). 16 bytes.
 * `family` keeps room for IPv6 keys in the same tables later.
 */
struct nat_key {
	rte_be32_t src, dst;
	rte_be16_t sport, dport;
	uint8_t proto;
	uint8_t family; /**< 4 */
	uint16_t pad; /**< 0: keys are hashed as bytes */
};

/** How to rewrite a packet of one direction: the new 5-tuple and precomputed deltas. */
struct nat_rewrite {
	rte_be32_t src, dst;
	rte_be16_t sport, dport;
	uint16_t l3_delta; /**< folded RFC 1624 delta for the IPv4 header (addresses and TTL-1) */
	uint16_t l4_delta; /**< the same for the TCP/UDP checksum (pseudo-header and ports) */
	struct rte_ether_addr dmac; /**< next hop's MAC, valid while neigh_gen is current */
	uint8_t out_port; /**< enum dp_port_role */
	uint8_t pad;
	uint32_t neigh_gen;
	rte_be32_t nh; /**< next hop address */
};

enum nat_tcp_state {
	NAT_ST_UDP = 0,
	NAT_ST_ICMP,
	NAT_ST_SYN_SENT,
	NAT_ST_ESTABLISHED,
	NAT_ST_FIN_WAIT,
	NAT_ST_CLOSED, /**< FIN both ways or RST: transitory timeout, then gone */
};

#define NAT_F_IN_USE 0x01
#define NAT_F_SEEN_I2O 0x02
#define NAT_F_FIN_O2I 0x04
#define NAT_F_FIN_I2O 0x08

/**
 * One session, both directions, 128 bytes. Keys are not stored: each is the reverse of the
 * other direction's rewritten tuple, so the record stays within two cache lines. Line 0 holds
 * all an out2in packet touches; in2out packets touch line 0 and line 1.
 */
struct nat_session {
	struct nat_rewrite rw_o2i;
	uint64_t last_seen_tsc;
	uint64_t bytes_o2i;
	uint32_t pkts_o2i, pkts_i2o;
	uint8_t state; /**< enum nat_tcp_state */
	uint8_t flags; /**< NAT_F_* */
	uint8_t proto;
	uint8_t pad0;
	uint16_t slot; /**< mapping counter slot */
	uint16_t pad1;
	/* cache line 1 */
	struct nat_rewrite rw_i2o;
	uint64_t bytes_i2o;
	uint32_t timeout_s; /**< UDP/ICMP/TCP-established timeout */
	uint32_t timeout_trans_s; /**< TCP transitory */
	uint8_t pad2[16];
} __rte_aligned(64);

static_assert(sizeof(struct nat_rewrite) == 32, "rewrite is half a cache line");
static_assert(offsetof(struct nat_session, slot) + 2 <= RTE_CACHE_LINE_SIZE,
	      "out2in hot fields in cache line 0");
static_assert(sizeof(struct nat_session) == 2 * RTE_CACHE_LINE_SIZE, "session is 128 B");

/** Per-worker session table: rte_hash (two keys per session) + record array + free list. */
struct nat_sessions {
	struct rte_hash *h;
	struct nat_session *recs;
	uint32_t *free_idx;
	uint32_t n_free, max;
	uint32_t hwm; /**< records [0, hwm) have been used at least once */
	uint32_t expire_cursor;
	uint64_t active;
};

/** A non-first fragment finds its session through the first one (RFC 791 id). */
struct dp_frag_entry {
	rte_be32_t src, dst;
	rte_be16_t id;
	uint8_t proto;
	uint8_t dir;
	uint32_t sess;
	uint64_t expire_tsc;
};

/** Commands from the control thread to a worker. */
enum dp_cmd_type { DP_CMD_CLEAR = 1 };
struct dp_cmd {
	enum dp_cmd_type type;
	int slot; /**< -1 = any mapping */
	uint32_t backend_addr; /**< network order, 0 = any */
	uint32_t result; /**< sessions removed */
	volatile int done;
};

/** Private area of every mbuf (mempool priv_size): slow-path metadata. */
struct dp_mbuf_priv {
	uint8_t in_port; /**< enum dp_port_role it arrived on */
	uint8_t out_port; /**< for DP_SP_NEED_NEIGH and control tx */
	uint8_t reason; /**< enum dp_sp_reason */
	uint8_t pad;
	rte_be32_t nh; /**< next hop to resolve */
};

enum dp_sp_reason { DP_SP_ARP = 1, DP_SP_LOCAL, DP_SP_TTL, DP_SP_NEED_NEIGH };

static inline struct dp_mbuf_priv *dp_priv(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

/**
 * What a port's RSS does with a packet, so the SNAT port of a full-NAT session can be chosen
 * so that the NIC delivers the replies to the owner's queue (Toeplitz, as rte_softrss
 * computes it, then the redirection table).
 */
struct dp_rss {
	bool enabled;
	uint16_t reta_size; /**< power of two */
	uint8_t key[40];
	uint16_t reta[RTE_ETH_RSS_RETA_SIZE_512];
};

/** Queue the NIC picks for an IPv4 TCP/UDP 4-tuple (network order fields). */
static inline unsigned int dp_rss_queue(const struct dp_rss *r, rte_be32_t src, rte_be32_t dst,
					rte_be16_t sport, rte_be16_t dport)
{
	uint32_t t[3] = {rte_be_to_cpu_32(src), rte_be_to_cpu_32(dst),
			 (uint32_t)rte_be_to_cpu_16(sport) << 16 | rte_be_to_cpu_16(dport)};
	return r->reta[rte_softrss(t, 3, r->key) & (r->reta_size - 1u)];
}

struct dp_worker {
	unsigned int id, lcore;
	uint16_t queue;
	uint16_t port_id[DP_PORT_MAX];
	struct rte_ether_addr mac[DP_PORT_MAX];
	unsigned int n_workers;
	uint16_t snat_lo, snat_hi, snat_next; /**< this worker's SNAT port partition */
	struct dp_rss rss_int; /**< the int port's RSS, when it has one (real NICs) */
	struct nat_sessions sess;
	struct rte_ring *handoff_in[CFG_MAX_WORKERS]; /**< [from] */
	struct rte_ring *handoff_out[CFG_MAX_WORKERS]; /**< [to] */
	struct rte_ring *sp_out; /**< to the control thread */
	struct rte_ring *ctl_tx; /**< from the control thread: frames to send */
	struct rte_ring *cmd_in; /**< from the control thread: struct dp_cmd * */
	struct rte_mbuf *tx[DP_PORT_MAX][2 * DP_BURST];
	uint16_t n_tx[DP_PORT_MAX];
	uint64_t hz;
	uint64_t now;
	struct dp_frag_entry frag[DP_FRAG_SLOTS];
	struct dp_stats stats;
} __rte_cache_aligned;

/* session.c */
int nat_sessions_init(struct nat_sessions *s, const char *name, uint32_t max, int socket);
void nat_sessions_fini(struct nat_sessions *s);
void nat_session_key(const struct nat_session *se, int dir, struct nat_key *k);
/** Remove a session (both keys). */
void nat_session_free(struct dp_worker *w, uint32_t idx);
/** Examine at most @p budget records for expiry. @return sessions expired. */
unsigned int nat_sessions_expire(struct dp_worker *w, unsigned int budget);
uint32_t nat_session_timeout_s(const struct nat_session *se);
void nat_session_tcp_update(struct nat_session *se, int dir, uint8_t tcp_flags);
const char *nat_session_state_name(uint8_t state);

/* nat.c */
/**
 * Translate a burst that arrived on @p in_port (or was handed over by another worker).
 * Consumes every mbuf: queued for tx, handed off, passed to the slow path, or freed.
 */
void nat_process_burst(struct dp_worker *w, const struct tables *t, uint8_t in_port,
		       struct rte_mbuf **pkts, uint16_t n);
/** Which worker owns the flow of this packet; w->id when it cannot be told. */
unsigned int nat_owner(const struct dp_worker *w, const struct tables *t, uint8_t in_port,
		       const struct pkt_meta *m);
/**
 * Create the session for a first packet arriving on ext.
 * @return session index, or -1 with *drop set.
 */
int nat_session_create(struct dp_worker *w, const struct tables *t, const struct pkt_meta *m,
		       const struct tbl_service *svc, enum dp_drop *drop);
/** Rewrite an IPv4 packet of direction @p dir (addresses, ports, checksums, TTL). */
void nat_rewrite_l3l4(uint8_t *frame, const struct pkt_meta *m, const struct nat_rewrite *rw);

/* neigh.c: control thread writes, workers read */
#define NEIGH_SLOTS 4096
bool neigh_lookup(rte_be32_t addr, struct rte_ether_addr *mac, uint32_t *gen);
uint32_t neigh_gen(void);
void neigh_update(rte_be32_t addr, uint8_t port, const struct rte_ether_addr *mac);
/** Mark an address as wanted (resolution pending). Control thread. */
void neigh_want(rte_be32_t addr, uint8_t port);
void neigh_reset(void);

/* worker.c */
extern struct dp_worker *dp_workers[CFG_MAX_WORKERS];
/** Allocate a worker: session table of @p sessions, rings, SNAT partition id of n_workers.
 * Ports and MACs are the caller's to fill. @return NULL with @p err set. */
struct dp_worker *dp_worker_new(unsigned int id, unsigned int n_workers, unsigned int lcore,
				 uint32_t sessions, char *err, size_t errlen);
void dp_worker_free(struct dp_worker *w);
struct rte_mempool *dp_mempool(void);
void dp_tx_enqueue(struct dp_worker *w, uint8_t port, struct rte_mbuf *m);
void dp_to_slowpath(struct dp_worker *w, struct rte_mbuf *m, uint8_t in_port, uint8_t reason);
void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop reason);

#endif
