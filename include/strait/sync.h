/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync between gateways (docs/ha.md, "Session sync"; issue 11 item 5), after
 * conntrackd's FTFW mode: each gateway streams its NAT sessions' creations, refreshes and
 * deletions to its peers over UDP, with sequence numbers, cumulative acknowledgements, resend
 * on a NACK or a timeout, and a bulk resync when a peer (re)starts or a resend is no longer
 * possible.
 *
 * Three pieces share the record defined here:
 *   - the workers (dp/sync.c): a record per session event on a per-worker single-producer
 *     ring to the control thread, never waiting; records received from peers installed in
 *     the worker that owns the flow, from a per-worker ring of the control thread's;
 *   - the wire codec (cp/sync_wire.c): a datagram is a 20-byte header and up to
 *     SYNC_MAX_RECS records of 40 bytes, every multi-byte field in network order;
 *   - the FTFW state machine and the UDP socket (cp/sync_ftfw.c, cp/sync.c), on the control
 *     thread.
 */
#ifndef STRAIT_SYNC_H
#define STRAIT_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>

/** Record types (struct sync_rec.type). */
enum sync_rec_type {
	SYNC_REC_UPSERT = 1, /**< a session created or refreshed: install or update it */
	SYNC_REC_DELETE = 2, /**< a session removed: remove the copy */
	SYNC_REC_BULK = 3,   /**< control → worker only, never on the wire: dump the table */
};

/** struct sync_rec.flags: the session's NAT_F_* (dp/session.h) in bits 0-2, and: */
#define SYNC_F_HAIRPIN 0x08 /**< the client is behind int (RFC 4787 REQ-9) */
#define SYNC_F_MASK    0x0f

/**
 * One session event, as the rings carry it and the wire spells it (40 bytes). Addresses and
 * ports in network order, laid out as struct nat_session's tuples: [dir][src, dst] with dir
 * 0 out2in {client, mapping address}, 1 in2out {backend, SNAT address or client}. The
 * integers after them are host order in memory and network order on the wire.
 */
struct sync_rec {
	uint8_t type;  /**< enum sync_rec_type */
	uint8_t proto; /**< IPPROTO_TCP or IPPROTO_UDP */
	uint8_t state; /**< enum nat_tcp_state (dp/session.h) */
	uint8_t flags; /**< SYNC_F_* */
	rte_be32_t addr[2][2];
	rte_be16_t port[2][2];
	uint32_t idle_ms;   /**< time since the session's last packet at the sender, ms */
	uint32_t td_end[2]; /**< TCP: [dir] highest sequence end seen (nat_tcp_td.end) */
};

#define SYNC_REC_LEN   40u
#define SYNC_HDR_LEN   20u
#define SYNC_MAX_RECS  32u /**< per datagram: 20 + 32 x 40 = 1300 bytes, under a 1500 MTU */
#define SYNC_MAX_DGRAM (SYNC_HDR_LEN + SYNC_MAX_RECS * SYNC_REC_LEN)
#define SYNC_MAGIC     0x5354u /**< "ST" */
#define SYNC_VERSION   1u

/** Datagram types (struct sync_hdr.type). */
enum sync_msg {
	SYNC_MSG_DATA = 1,  /**< seq: this datagram's; count records follow */
	SYNC_MSG_ACK = 2,   /**< ack: every DATA up to it received (cumulative) */
	SYNC_MSG_NACK = 3,  /**< resend seq..ack (both included) */
	SYNC_MSG_HELLO = 4, /**< the sender (re)started: send it everything (bulk resync) */
};

/** A datagram's header, decoded (host order). */
struct sync_hdr {
	uint8_t type;	 /**< enum sync_msg */
	uint8_t workers; /**< the sender's worker count */
	uint16_t count;	 /**< records that follow (DATA), else 0 */
	uint32_t sender; /**< random at the sender's start: a new value is a restarted peer */
	uint32_t seq;
	uint32_t ack;
};

/**
 * Counters of session sync: the workers' (in struct dp_stats.sync, summed over the workers)
 * and the control thread's (cp/sync.c). Names are the second column: `show stats` "sync",
 * telemetry `/strait/stats` "sync", Prometheus `strait_sync_<name>_total`.
 */
#define SYNC_COUNTERS(X)                                                                           \
	X(EVENTS, "events", "session events the workers queued for the peers")                     \
	X(RING_FULL, "ring_full",                                                                  \
	  "session events lost: the worker's ring to the control thread full")                     \
	X(TX_RECORDS, "tx_records", "records sent")                                                \
	X(TX_DATAGRAMS, "tx_datagrams", "data datagrams sent, resends included")                   \
	X(TX_RESENDS, "tx_resends", "data datagrams sent again (NACK or timeout)")                 \
	X(TX_ACKS, "tx_acks", "acknowledgements sent")                                             \
	X(TX_NACKS, "tx_nacks", "resend requests sent (a gap in a peer's sequence)")               \
	X(TX_ERRORS, "tx_errors", "datagrams the kernel refused to send")                          \
	X(RX_RECORDS, "rx_records", "records received")                                            \
	X(RX_DATAGRAMS, "rx_datagrams", "data datagrams received")                                 \
	X(RX_ACKS, "rx_acks", "acknowledgements received")                                         \
	X(RX_NACKS, "rx_nacks", "resend requests received")                                        \
	X(RX_BAD, "rx_bad", "datagrams dropped: malformed (length, magic, version, type, field)")  \
	X(RX_UNKNOWN_PEER, "rx_unknown_peer", "datagrams dropped: not from a configured peer")     \
	X(RX_WRONG_WORKERS, "rx_wrong_workers",                                                    \
	  "records dropped: the peer runs another worker count")                                   \
	X(BULK_RESYNCS, "bulk_resyncs",                                                            \
	  "bulk resyncs started (a peer's hello, a resend no longer possible)")                    \
	X(HELLOS, "hellos", "hellos sent")                                                         \
	X(PUSH_RING_FULL, "push_ring_full",                                                        \
	  "received records lost: a worker's ring from the control thread full")                   \
	X(INSTALLED, "installed", "received sessions installed as backups")                        \
	X(UPDATED, "updated", "received refreshes applied to a session held")                      \
	X(DELETED, "deleted", "received deletions applied")                                        \
	X(REPLACED, "replaced",                                                                    \
	  "backups a received session replaced (the same client flow or SNAT key, stale)")         \
	X(FAIL_NO_MAPPING, "install_no_mapping",                                                   \
	  "received sessions refused: no such mapping here")                                       \
	X(FAIL_CONFLICT, "install_conflict",                                                       \
	  "received sessions refused: a key held by another session")                              \
	X(FAIL_NO_ROUTE, "install_no_route",                                                       \
	  "received sessions refused: no route or neighbour slot")                                 \
	X(FAIL_TABLE_FULL, "install_table_full",                                                   \
	  "received sessions refused: the session table full")                                     \
	X(FAIL_WRONG_WORKER, "install_wrong_worker",                                               \
	  "received sessions refused: this gateway's steering gives its two directions to different workers")

enum sync_counter {
#define X(e, s, h) SYNC_C_##e,
	SYNC_COUNTERS(X)
#undef X
		SYNC_C_MAX
};

/** Name of counter @p c (second column of SYNC_COUNTERS), "?" when out of range. */
const char *sync_counter_name(enum sync_counter c);
/** Help text of counter @p c (third column), "" when out of range. */
const char *sync_counter_help(enum sync_counter c);

/**
 * Encode header @p h and its h->count records @p recs into @p buf (capacity @p cap bytes):
 * the layout of docs/ha.md, "Session sync", multi-byte fields in network order.
 * @return bytes written; -EINVAL when h->count > SYNC_MAX_RECS; -ENOSPC when @p cap is short.
 * Any thread.
 */
int sync_encode(const struct sync_hdr *h, const struct sync_rec *recs, void *buf, size_t cap);

/**
 * Decode datagram @p buf of @p len bytes from a peer (hostile input): header into @p h,
 * records into @p recs (capacity SYNC_MAX_RECS). Every field is checked: magic, version,
 * type, count against the length exactly, a record's type (upsert or delete), protocol (TCP
 * or UDP), state (a TCP state for TCP, NAT_ST_UDP for UDP), flags, non-zero addresses and
 * ports; control messages carry no record.
 * @return 0; -EINVAL when any check fails (nothing is to be used then). Any thread.
 */
int sync_decode(const void *buf, size_t len, struct sync_hdr *h, struct sync_rec *recs);

/* ---- data plane side (dp/sync.c) --------------------------------------------------------- */

/** Ring capacities, records (powers of two). */
#define DP_SYNC_EV_RING	  4096 /**< worker → control thread */
#define DP_SYNC_IN_RING	  4096 /**< control thread → worker */
#define DP_SYNC_REFRESH_S 10   /**< a live session is refreshed at most this often */

/**
 * Give every worker its sync state (the two rings, the per-record sync marks) and, when
 * @p steer_key is non-NULL, the steering secret shared by the gateways (so that a flow's
 * owner is the same worker on every gateway), and make UDP to @p port of an int address the
 * kernel's (the sync datagrams, even to a SNAT address). Control thread, after dp_init() and
 * before dp_start(). @return 0, or -ENOMEM with the workers left without sync.
 */
int dp_sync_init(const uint64_t steer_key[2], uint16_t port);
/** Free what dp_sync_init() gave; after dp_stop(). Control thread. */
void dp_sync_fini(void);
/** Whether dp_sync_init() succeeded and dp_sync_fini() has not run. */
bool dp_sync_enabled(void);
/**
 * Take up to @p max session events of worker @p wid from its ring into @p out.
 * @return how many. Control thread.
 */
unsigned int dp_sync_drain(unsigned int wid, struct sync_rec *out, unsigned int max);
/**
 * Pass a received record to the worker that owns its flow (the out2in client's steering
 * worker, as nat.c's nat_owner()), or, for SYNC_REC_BULK, to every worker. Never waits: a
 * full ring counts SYNC_C_PUSH_RING_FULL in @p counters. @return 0 or -ENOBUFS. Control
 * thread.
 */
int dp_sync_push(const struct sync_rec *r, uint64_t counters[SYNC_C_MAX]);

#endif
