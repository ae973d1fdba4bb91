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

enum nat_tcp_state {
	NAT_ST_UDP = 0,
	NAT_ST_ICMP,
	NAT_ST_SYN_SENT,
	NAT_ST_ESTABLISHED,
	NAT_ST_FIN_WAIT,
	NAT_ST_CLOSED, /**< FIN both ways or RST: transitory timeout, then gone */
};

#define NAT_F_SEEN_I2O 0x1
#define NAT_F_FIN_O2I 0x2
#define NAT_F_FIN_I2O 0x4

/**
 * One session, both directions, in one 64-byte cache line: the only line a packet of an
 * established flow touches besides its hash bucket.
 *
 * The two keys are stored as tuples, and each direction's rewrite is the reverse of the other
 * direction's key: an out2in packet leaves as (src, dst, sport, dport) = key[I2O] reversed,
 * an in2out packet as key[O2I] reversed. So one tuple pair serves as both keys and both
 * rewrites. The checksum deltas of the two directions are each other's one's-complement
 * negation (RFC 1624: the same words change, the other way), so only the out2in ones are
 * kept. The next hop's MAC lives in the worker's adjacency table (struct dp_adj), shared by
 * every session through that next hop. Timeouts are the mapping's (tables.slot_timeouts),
 * read when the session is examined for expiry.
 */
struct nat_session {
	rte_be32_t addr[2][2]; /**< [dir][src, dst]: O2I {client, ext}, I2O {backend, snat} */
	rte_be16_t port[2][2]; /**< the same for ports */
	uint8_t proto; /**< IPPROTO_*; 0 = free record */
	uint8_t state : 3; /**< enum nat_tcp_state */
	uint8_t flags : 3; /**< NAT_F_* */
	uint8_t pad0 : 2;
	uint16_t slot; /**< mapping counter slot (and timeouts) */
	uint16_t l3_delta; /**< out2in IPv4 header delta of the addresses (RFC 1624), folded */
	uint16_t l4_delta; /**< out2in TCP/UDP delta: pseudo-header addresses and ports */
	uint16_t adj[2]; /**< [dir] index into dp_worker.adj of the next hop */
	uint32_t last_seen; /**< dp_worker ticks (TSC >> tick_shift); next free record if free */
	uint32_t pkts[2]; /**< [dir] packets, wrap at 2^32 */
	uint64_t bytes[2]; /**< [dir] IP bytes */
} __rte_aligned(64);

static_assert(sizeof(struct nat_session) == RTE_CACHE_LINE_SIZE, "session is one cache line");

/**
 * One bucket of the session hash: 8 entries in one cache line. An entry is a 32-bit
 * signature of its key (0 = empty) and a reference (record index << 1 | direction); the key
 * itself is the record's tuple, so a bucket costs 8 bytes per key instead of a key copy.
 */
#define NAT_BKT_ENTRIES 8
struct nat_bucket {
	uint32_t sig[NAT_BKT_ENTRIES];
	uint32_t ref[NAT_BKT_ENTRIES];
} __rte_aligned(64);

static_assert(sizeof(struct nat_bucket) == RTE_CACHE_LINE_SIZE, "bucket is one cache line");

#define NAT_REF_NONE UINT32_MAX
#define NAT_REC_NONE UINT32_MAX

/**
 * Per-worker session table: a bucketized cuckoo hash (two candidate buckets per key, 8
 * entries each) over a record array, both preallocated. Single writer, single reader: the
 * worker that owns it (the control thread reads records, never buckets).
 */
struct nat_sessions {
	struct nat_bucket *bkt;
	uint32_t bkt_mask; /**< buckets - 1; buckets is a power of two, >= 2 */
	struct nat_session *recs;
	uint32_t max; /**< records */
	uint32_t hwm; /**< records [0, hwm) have been used at least once */
	uint32_t free_head; /**< LIFO of freed records, linked through last_seen */
	uint32_t expire_cursor;
	uint64_t active;
	uint64_t insert_fail; /**< keys that found no place (counted as table full) */
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
 * A next hop as sessions use it (VPP's adjacency): egress arm, address, and its MAC, cached
 * while the neighbour table's generation stays the same. Every session through the same next
 * hop shares one, so a session holds a 16-bit index instead of a MAC. Per worker, written
 * only by it.
 */
struct dp_adj {
	/* dmac then smac: the first 12 bytes of the Ethernet header, copied as one */
	struct rte_ether_addr dmac; /**< the next hop's MAC */
	struct rte_ether_addr smac; /**< our port's MAC */
	rte_be32_t nh; /**< next hop address; 0 = never used */
	uint8_t port; /**< enum dp_port_role */
	uint8_t pad[3];
	uint32_t gen; /**< neigh_gen() when dmac was read; 0 = look it up */
	uint32_t refs; /**< session directions using it; 0 = reusable for another address */
	uint32_t pad2;
};

static_assert(offsetof(struct dp_adj, smac) == RTE_ETHER_ADDR_LEN, "L2 rewrite is contiguous");

#define DP_ADJ_SLOTS 4096 /**< per worker; power of two, <= 65536 */
#define DP_ADJ_PROBES 64

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
	uint64_t hz; /**< TSC ticks per second */
	uint64_t now; /**< TSC at the start of this loop iteration */
	uint64_t tick_hz; /**< the hz that tick_shift was derived from */
	uint32_t tick_shift; /**< session ticks are now >> tick_shift: 16 to 31 per second */
	struct dp_frag_entry frag[DP_FRAG_SLOTS];
	struct dp_adj adj[DP_ADJ_SLOTS];
	struct dp_stats stats;
} __rte_cache_aligned;

/*
 * Session time: 32-bit ticks of 1/16 s to 1/31 s (the TSC shifted), so that a record keeps
 * its last-seen time in 4 bytes; 2^32 ticks are over four years, longer than any timeout.
 * The shift follows w->hz, which unit tests set directly.
 */
static inline void dp_clock_sync(struct dp_worker *w)
{
	if (unlikely(w->tick_hz != w->hz)) {
		uint32_t shift = 0;
		while ((w->hz >> (shift + 1)) >= 16)
			shift++;
		w->tick_shift = shift;
		w->tick_hz = w->hz;
	}
}

/** Session ticks of w->now. */
static inline uint32_t dp_ticks(struct dp_worker *w)
{
	dp_clock_sync(w);
	return (uint32_t)(w->now >> w->tick_shift);
}

/** Ticks in @p s seconds (exact to a tick). */
static inline uint64_t dp_ticks_of_s(const struct dp_worker *w, uint32_t s)
{
	return (uint64_t)s * w->hz >> w->tick_shift;
}

/* session.c */
int nat_sessions_init(struct nat_sessions *s, const char *name, uint32_t max, int socket);
void nat_sessions_fini(struct nat_sessions *s);
/** Memory the table takes for @p max sessions (records and buckets), bytes. */
size_t nat_sessions_memsize(uint32_t max);
void nat_session_key(const struct nat_session *se, int dir, struct nat_key *k);
/** @return the reference (record << 1 | dir) of @p k, or NAT_REF_NONE. */
uint32_t nat_sessions_lookup(const struct nat_sessions *s, const struct nat_key *k);
/**
 * Insert @p k → @p ref; @p k must not be in the table. Moves other keys between their two
 * buckets when both of this key's are full (cuckoo, breadth-first, bounded).
 * @return 0, or -ENOSPC when no place was found within the bound.
 */
int nat_sessions_add(struct nat_sessions *s, const struct nat_key *k, uint32_t ref);
/** The same for a key whose hash is known (nat_key_hash(): primary bucket, signature). */
int nat_sessions_add_h(struct nat_sessions *s, uint32_t bkt, uint32_t sig, uint32_t ref);
/** Remove the entry @p k → @p ref. @return 0 or -ENOENT. */
int nat_sessions_del(struct nat_sessions *s, const struct nat_key *k, uint32_t ref);
/** Take a free record. @return its index, or NAT_REC_NONE when all are in use. */
uint32_t nat_session_alloc(struct nat_sessions *s);
/** Give back a record taken by nat_session_alloc() whose keys were never added. */
void nat_session_release(struct nat_sessions *s, uint32_t idx);
/** Remove a session: both keys, its adjacency references, its record. */
void nat_session_free(struct dp_worker *w, uint32_t idx);
/**
 * Examine at most @p budget records for expiry against the current tables' timeouts.
 * @return sessions expired.
 */
unsigned int nat_sessions_expire(struct dp_worker *w, unsigned int budget);
/** The idle timeout of @p se in its state, from its mapping slot's timeouts in @p t. */
uint32_t nat_session_timeout_s(const struct nat_session *se, const struct tables *t);
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
 * @param bkt, sig the hash of the packet's key (nat_key_hash()), computed by the burst.
 * @return session index, or -1 with *drop set.
 */
int nat_session_create(struct dp_worker *w, const struct tables *t, const struct pkt_meta *m,
		       const struct tbl_service *svc, uint32_t bkt, uint32_t sig,
		       enum dp_drop *drop);

/* neigh.c: control thread writes, workers read */
#define NEIGH_SLOTS 4096
bool neigh_lookup(rte_be32_t addr, struct rte_ether_addr *mac, uint32_t *gen);
/** Moves on every change of the neighbour table; read once per translated packet. */
extern uint32_t neigh_generation;
static inline uint32_t neigh_gen(void)
{
	return __atomic_load_n(&neigh_generation, __ATOMIC_ACQUIRE);
}
void neigh_update(rte_be32_t addr, uint8_t port, const struct rte_ether_addr *mac);
/** Mark an address as wanted (resolution pending). Control thread. */
void neigh_want(rte_be32_t addr, uint8_t port);
void neigh_reset(void);
/**
 * Find or make the worker's adjacency for next hop @p nh on arm @p port, and take a
 * reference. @return its index, or -1 when DP_ADJ_PROBES slots near it are all in use.
 */
int dp_adj_get(struct dp_worker *w, rte_be32_t nh, uint8_t port);
/** Drop a reference taken by dp_adj_get(). */
static inline void dp_adj_put(struct dp_worker *w, uint16_t idx)
{
	w->adj[idx].refs--;
}

/* worker.c */
extern struct dp_worker *dp_workers[CFG_MAX_WORKERS];
/** Allocate a worker: session table of @p sessions, rings, SNAT partition id of n_workers.
 * Ports and MACs are the caller's to fill. @return NULL with @p err set. */
struct dp_worker *dp_worker_new(unsigned int id, unsigned int n_workers, unsigned int lcore,
				 uint32_t sessions, char *err, size_t errlen);
void dp_worker_free(struct dp_worker *w);
struct rte_mempool *dp_mempool(void);
/** Send what is queued for @p port (rte_eth_tx_burst); what the PMD refuses is dropped. */
void dp_tx_flush(struct dp_worker *w, uint8_t port);
static inline void dp_tx_enqueue(struct dp_worker *w, uint8_t port, struct rte_mbuf *m)
{
	if (unlikely(w->n_tx[port] == RTE_DIM(w->tx[port])))
		dp_tx_flush(w, port);
	w->tx[port][w->n_tx[port]++] = m;
}
void dp_to_slowpath(struct dp_worker *w, struct rte_mbuf *m, uint8_t in_port, uint8_t reason);
void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop reason);

#endif
