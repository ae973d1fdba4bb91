/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore session table (session.c; its hot path inline in session_inlines.h): the
 * session record, its keys, the cuckoo hash over them. Worker lcores unless a comment says
 * otherwise. Removing sessions with what they hold in their worker: session_free.h.
 */
#ifndef STRAIT_DP_SESSION_H
#define STRAIT_DP_SESSION_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include <strait/tables.h>

/** Direction of a packet relative to the NAT: out2in arrives on ext, in2out on int. */
enum { DIR_O2I = 0, DIR_I2O = 1 };

/**
 * A session's key: the 5-tuple as a packet shows it on arrival (network order). 16 bytes.
 * `family` keeps room for IPv6 keys in the same tables later.
 */
struct nat_key {
	rte_be32_t src, dst;
	rte_be16_t sport, dport;
	uint8_t proto;
	uint8_t family; /**< 4 */
	uint16_t pad;	/**< 0: keys are hashed as bytes */
};

enum nat_tcp_state {
	NAT_ST_UDP = 0,
	NAT_ST_SYN_SENT,
	NAT_ST_ESTABLISHED,
	NAT_ST_FIN_WAIT,
	NAT_ST_CLOSED, /**< FIN both ways or RST: transitory timeout, then gone */
};

#define NAT_F_SEEN_I2O 0x1
#define NAT_F_FIN_O2I  0x2
#define NAT_F_FIN_I2O  0x4

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
	rte_be32_t addr[2][2];	 /**< [dir][src, dst]: O2I {client, ext}, I2O {backend, snat} */
	rte_be16_t port[2][2];	 /**< the same for ports */
	uint8_t proto;		 /**< IPPROTO_*; 0 = free record */
	uint8_t state : 3;	 /**< enum nat_tcp_state */
	uint8_t flags : 3;	 /**< NAT_F_* */
	uint8_t src_counted : 1; /**< counted in the per-source sketch (nat_sessions_track) */
	uint8_t hairpin : 1;	 /**< client behind int (RFC 4787 REQ-9): O2I arrives on int */
	uint16_t slot;		 /**< mapping counter slot (and timeouts) */
	uint16_t l3_delta;	 /**< out2in IPv4 header delta (RFC 1624), folded: the addresses and
				 the TTL's decrement (nat_l3_delta()) */
	uint16_t l4_delta;	 /**< out2in TCP/UDP delta: pseudo-header addresses and ports */
	uint16_t adj[2];	 /**< [dir] index into dp_worker.adj of the next hop */
	uint32_t last_seen; /**< dp_worker ticks (TSC >> tick_shift); next free record if free */
	uint32_t pkts[2];   /**< [dir] packets, wrap at 2^32 */
	uint64_t bytes[2];  /**< [dir] IP bytes */
} __rte_aligned(64);

static_assert(sizeof(struct nat_session) == RTE_CACHE_LINE_SIZE, "session is one cache line");
/** The byte of nat_session's bit-fields (state, flags, src_counted, hairpin): after proto. */
#define NAT_SESSION_BITS (offsetof(struct nat_session, proto) + 1)
static_assert(offsetof(struct nat_session, slot) == NAT_SESSION_BITS + 1,
	      "nat_session: the bit-fields are one byte between proto and slot");

/**
 * A TCP session's window tracking (nat_tcp_track(), session_inlines.h: RFC 5961 §3, Linux
 * conntrack's tcp_in_window), in an array beside the records (nat_sessions.td, same index)
 * so that a record stays one cache line; only TCP packets touch it. 16 bytes.
 */
struct nat_tcp_td {
	uint32_t end[2];    /**< [dir] highest sequence end (seq + len) dir sent, host order */
	uint16_t maxwin[2]; /**< [dir] largest window dir advertised, in units of 2^wscale */
	uint8_t wscale[2];  /**< [dir] shift of dir's window, | NAT_WS_SENT if its SYN had one */
	uint16_t mss_clamp; /**< the mapping's tcpMssClamp when the session started; 0 = none */
};

#define NAT_WS_SENT 0x80 /**< nat_tcp_td.wscale: the SYN carried the option (RFC 7323 §2.2) */

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
 * Links of a record in the two lists of unestablished TCP sessions (struct nat_sessions):
 * the worker's and its mapping slot's. Kept beside the records, not in them, so that the
 * record stays one cache line; only session creation and removal touch them.
 */
struct nat_link {
	uint32_t prev, next;   /**< worker list; prev NAT_LNK_OFF when on no list */
	uint32_t sprev, snext; /**< the mapping slot's list */
};

#define NAT_LNK_OFF (UINT32_MAX - 1)

/** Per mapping slot, per worker: its unestablished list, live sessions, new-session tokens. */
struct nat_slot {
	uint32_t head, tail; /**< oldest, newest unestablished session (NAT_REC_NONE: none) */
	uint32_t active;     /**< live sessions of the mapping on this worker */
	uint32_t tokens;     /**< newSessionsPerSecond bucket (per worker share) */
	uint32_t tok_tick;   /**< session tick of the last refill */
	uint32_t pad;
};

/** Per-source session counters: a count-min sketch of NAT_CMS_ROWS x NAT_CMS_COLS. */
#define NAT_CMS_ROWS 2
#define NAT_CMS_COLS 4096 /**< power of two */
/** The most unestablished entries a new session examines for a victim (early drop). */
#define NAT_EVICT_SCAN 16

/**
 * Per-worker session table: a bucketized cuckoo hash (two candidate buckets per key, 8
 * entries each) over a record array, both preallocated. Single writer, single reader: the
 * worker that owns it (the control thread reads records, never buckets).
 *
 * Beside it, what protects it from floods (Linux conntrack's early_drop, VPP NAT44-ED's LRU
 * of transitory sessions): the unestablished TCP sessions in creation order, worker-wide and
 * per mapping slot, so that a new session under pressure evicts the oldest of them, never an
 * established one; per-slot live counts and token buckets; a per-source count-min sketch.
 */
struct nat_sessions {
	struct nat_bucket *bkt;
	uint32_t bkt_mask; /**< buckets - 1; buckets is a power of two, >= 2 */
	struct nat_session *recs;
	struct nat_tcp_td *td; /**< [record] TCP window tracking */
	uint32_t max;	       /**< records */
	uint32_t hwm;	       /**< records [0, hwm) have been used at least once */
	uint32_t free_head;    /**< LIFO of freed records, linked through last_seen */
	uint32_t expire_cursor;
	uint64_t active;
	uint64_t insert_fail; /**< keys that found no place (counted as table full) */
	/** inserts that moved other keys to their other bucket (the cuckoo search): a lookup
	 * made before one may miss a key that is still there (nat.c's stage 3 looks again) */
	uint64_t moved;
	uint64_t key[2];      /**< secret of the hash (nat_hash_words()), rte_rand() at init */
	struct nat_link *lnk; /**< [max] */
	uint32_t syn_head, syn_tail; /**< the worker's unestablished list, oldest first */
	struct nat_slot *slots;	     /**< [CFG_MAX_MAPPINGS] */
	uint16_t *cms; /**< [NAT_CMS_ROWS * NAT_CMS_COLS] sessions per (slot, source) */
};

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
/* nat_sessions_add_h(), the same for a key whose hash is known: session_inlines.h. */
/** nat_sessions_add_h() when both buckets of the key are full: the cuckoo search. */
int nat_sessions_add_cuckoo(struct nat_sessions *s, uint32_t bkt, uint32_t sig, uint32_t ref);
/** Remove the entry @p k → @p ref. @return 0 or -ENOENT. */
int nat_sessions_del(struct nat_sessions *s, const struct nat_key *k, uint32_t ref);
/** nat_sessions_del() for a key whose hash is known (primary bucket @p bkt, signature @p sig:
 *  nat_key_hash()). */
int nat_sessions_del_h(struct nat_sessions *s, uint32_t bkt, uint32_t sig, uint32_t ref);
/**
 * Account for live session @p idx (its record filled, its keys added): its mapping slot's
 * count, the per-source counters when @p count_src (its mapping has a per-source limit; the
 * record remembers it), and, for a TCP session in NAT_ST_SYN_SENT, the tails of the
 * unestablished lists.
 */
void nat_sessions_track(struct nat_sessions *s, uint32_t idx, bool count_src);
/** Undo nat_sessions_track() for @p idx, before its record is released. O(1). */
void nat_sessions_untrack(struct nat_sessions *s, uint32_t idx);
/**
 * The oldest unestablished (NAT_ST_SYN_SENT) session to evict: of mapping slot @p slot, or of
 * the whole worker when @p slot < 0; with @p like non-NULL, only one with the same in2out
 * backend address, backend port and SNAT address (the holder of a SNAT port that @p like
 * wants). Entries that have left SYN_SENT are unlinked on the way; at most NAT_EVICT_SCAN
 * entries are examined (each session enters a list once: amortized O(1) per new session).
 * @return the record index, or NAT_REC_NONE.
 */
uint32_t nat_sessions_victim(struct nat_sessions *s, int slot, const struct nat_session *like);
/** Sessions of mapping slot @p slot's source @p src_be (network order), an upper bound. */
uint32_t nat_sessions_src_count(const struct nat_sessions *s, uint16_t slot, rte_be32_t src_be);
/** Take a free record. @return its index, or NAT_REC_NONE when all are in use. Inline: a
 *  new session's, in another file than the table's. */
static inline uint32_t nat_session_alloc(struct nat_sessions *s)
{
	uint32_t i = s->free_head;

	if (i != NAT_REC_NONE)
		s->free_head = s->recs[i].last_seen;
	else if (s->hwm < s->max)
		i = s->hwm++;
	else
		return NAT_REC_NONE;
	s->lnk[i].prev = NAT_LNK_OFF;
	return i;
}
/** Give back a record taken by nat_session_alloc() whose keys were never added. */
void nat_session_release(struct nat_sessions *s, uint32_t idx);
/** The idle timeout of @p se in its state, from its mapping slot's timeouts in @p t. */
uint32_t nat_session_timeout_s(const struct nat_session *se, const struct tables *t);
void nat_session_tcp_update(struct nat_session *se, int dir, uint8_t tcp_flags);
const char *nat_session_state_name(uint8_t state);

#endif
