/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker: the state one lcore owns (its queues, session table, adjacencies, fragments,
 * counters, rings to other lcores), its clock, and its allocation (worker.c). Everything here
 * runs on the owning worker lcore unless a comment says otherwise.
 */
#ifndef STRAIT_DP_WORKER_H
#define STRAIT_DP_WORKER_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <strait/dp.h>

#include "frag.h"
#include "rss.h"
#include "session.h"
#include "snat.h"

struct dp_sync_w;

/* Packets a worker takes from a port or ring at once, and the NAT's stages overlap the memory
 * accesses of (nat.c): 64, not 32, so that more of each burst's bucket and record misses are
 * in flight while the rest is parsed and rewritten. Side by side at 1M sessions (stop 32,
 * docs/benchmarks.md "Bursts of 64 (stop 32)"): established packets 73-80 -> 59-63 cycles, new
 * sessions and the mixed case 8-15 % fewer; 128 gave no more. */
#define DP_BURST	    64
#define DP_RING_SIZE	    1024
#define DP_KERNEL_RING_SIZE 512 /**< a worker's frames for the kernel TAPs (kern_out) */
#define DP_ARP_RING_SIZE    256
#define DP_SNAT_PORT_MIN    1024u
#define DP_SNAT_PORT_TRIES  64
/* With RSS steering a port must also land on our queue: about 1 in n_workers does. */
#define DP_SNAT_PORT_TRIES_RSS(n) (64u * (n))

/** Commands from the control thread to a worker (session_clear.c). */
enum dp_cmd_type { DP_CMD_CLEAR = 1 };
struct dp_cmd {
	enum dp_cmd_type type;
	struct dp_clear_req req;
	rte_be32_t backend_be; /**< req.backend_addr, network order */
	uint64_t ticket;
	uint64_t result;   /**< sessions removed; written by the worker before done */
	volatile int done; /**< set by the worker (release) when finished; then the control
			    *  thread owns the command again and frees it */
};

/**
 * A next hop as sessions use it (VPP's adjacency): egress arm, address, and its MAC, cached
 * while the neighbour table's generation stays the same. Every session through the same next
 * hop shares one, so a session holds a 16-bit index instead of a MAC. Per worker, written
 * only by it. Taken and given back with dp_adj_get() and dp_adj_put() (neigh.h).
 */
struct dp_adj {
	/* dmac then smac: the first 12 bytes of the Ethernet header, copied as one */
	struct rte_ether_addr dmac; /**< the next hop's MAC */
	struct rte_ether_addr smac; /**< our port's MAC */
	rte_be32_t nh;		    /**< next hop address; 0 = never used */
	uint8_t port;		    /**< enum dp_port_role */
	uint8_t pad[3];
	uint32_t gen;  /**< neigh_gen() when dmac was read; 0 = look it up */
	uint32_t refs; /**< session directions using it; 0 = reusable for another address */
	uint32_t pad2;
};

static_assert(offsetof(struct dp_adj, smac) == RTE_ETHER_ADDR_LEN, "L2 rewrite is contiguous");

#define DP_ADJ_SLOTS  4096 /**< per worker; power of two, <= 65536 */
#define DP_ADJ_PROBES 64

struct dp_worker {
	unsigned int id, lcore;
	uint16_t queue;
	uint16_t port_id[DP_PORT_MAX];
	struct rte_ether_addr mac[DP_PORT_MAX];
	unsigned int n_workers;
	uint16_t snat_lo, snat_hi, snat_next; /**< this worker's SNAT port partition */
	struct dp_rss rss_int; /**< the int port's RSS, when it has one (real NICs) */
	struct dp_snat snat;   /**< full-NAT SNAT port bitmaps: snat.h */
	struct nat_sessions sess;
	struct rte_ring *handoff_in[CFG_MAX_WORKERS];  /**< [from] */
	struct rte_ring *handoff_out[CFG_MAX_WORKERS]; /**< [to] */
	struct rte_ring *sp_out;		       /**< to the control thread: all but ARP */
	struct rte_ring *sp_arp; /**< to the control thread: ARP, read first */
	/** to the kernel path (kernel.c): frames for the kernel TAPs (DP_SP_KERNEL) */
	struct rte_ring *kern_out;
	/** from the control thread and the kernel path (multi-producer): frames to send */
	struct rte_ring *ctl_tx;
	struct rte_ring *cmd_in; /**< from the control thread: struct dp_cmd * */
	struct dp_sync_w *sync;	 /**< session sync (sync.h); NULL when off */
	struct dp_cmd *clearing; /**< the clear in progress (session_clear.c), NULL if none */
	uint32_t clear_cursor;	 /**< its next record */
	struct rte_mbuf *tx[DP_PORT_MAX][2 * DP_BURST];
	/** tx[port]'s next free slot (dp_tx_n()): a packet is queued by one store through it and
	 * one add, no index loaded, scaled and stored back */
	struct rte_mbuf **tx_end[DP_PORT_MAX];
	uint64_t hz;	     /**< TSC ticks per second */
	uint64_t now;	     /**< TSC at the start of this loop iteration */
	uint64_t tick_hz;    /**< the hz that tick_shift was derived from */
	uint32_t tick_shift; /**< session ticks are now >> tick_shift: 16 to 31 per second */
	struct dp_frag frag; /**< fragments: frag.h */
	/**
	 * New sessions of the burst in progress whose in2out keys wait for the burst's end
	 * (nat_session_create() with @c batch, nat_sessions_commit()), and the packets that
	 * wait for them, in arrival order (nat.c's burst()): their buckets are then fetched
	 * from memory side by side, not one after the other. Empty between bursts.
	 */
	struct nat_pending {
		uint32_t idx;	   /**< the record; NAT_REC_NONE once its key found no room */
		uint32_t bkt, sig; /**< the in2out key's hash (nat_key_hash()) */
		uint16_t slot;	   /**< its mapping's slot */
	} pend[DP_BURST];
	uint32_t n_pend;			 /**< entries of pend */
	uint32_t n_wait;			 /**< packets waiting */
	uint8_t wait_pend[DP_BURST];		 /**< [packet]: the entry of pend it waits for */
	struct rte_mbuf *wait_mb[DP_BURST];	 /**< [packet] */
	const struct pkt_meta *wait_m[DP_BURST]; /**< [packet]: its parse, on burst()'s stack */
	struct dp_adj adj[DP_ADJ_SLOTS];
	struct dp_stats stats;
} __rte_cache_aligned;

static_assert(DP_BURST <= UINT8_MAX + 1, "dp_worker.wait_pend holds an index of pend");

/** The packets queued for tx on @p port. */
static inline uint16_t dp_tx_n(const struct dp_worker *w, unsigned int port)
{
	return (uint16_t)(w->tx_end[port] - w->tx[port]);
}

/** Empty @p port's tx queue (what was in it is the caller's). */
static inline void dp_tx_reset(struct dp_worker *w, unsigned int port)
{
	w->tx_end[port] = w->tx[port];
}

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

/**
 * Allocate a worker: session table of @p sessions, rings, SNAT partition @p id of
 * @p n_workers, with SNAT port bitmaps for one address (dp_snat_init() for more). Ports, MACs and hand-over rings are the caller's to fill. Control thread.
 * @return the worker, or NULL with a message in @p err.
 */
struct dp_worker *dp_worker_new(unsigned int id, unsigned int n_workers, unsigned int lcore,
				uint32_t sessions, char *err, size_t errlen);
/** Free a worker and the rings it sends on (handoff_out); NULL is a no-op. */
void dp_worker_free(struct dp_worker *w);

#endif
