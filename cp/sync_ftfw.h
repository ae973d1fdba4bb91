/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's reliable transport (sync_ftfw.c), after conntrackd's FTFW mode, without
 * sockets or clocks: the caller (sync.c) passes datagrams in, the time in ms, and gets
 * datagrams out, records to install and bulk resync requests through struct sync_io, so that
 * unit tests drive it. Control thread.
 *
 * One sequence space per sender: a DATA datagram goes to every peer with the same number and
 * stays in a resend buffer of SYNC_TXBUF datagrams. Per peer:
 *   - receiving: the next sequence number expected; a datagram past it is a gap: its records
 *     are delivered anyway (installing is idempotent) and a NACK asks for the missing ones;
 *     a cumulative ACK of the in-order prefix every SYNC_ACK_EVERY datagrams or after
 *     SYNC_ACK_DELAY_MS;
 *   - sending: the peer's cumulative ACK; what it has not acknowledged after SYNC_RTO_MS is
 *     sent again (SYNC_RESEND_BURST at most at a time), as are the datagrams a NACK names; a
 *     datagram no longer in the buffer means a bulk resync (every session dumped again);
 *   - a HELLO (sent at start, then every SYNC_HELLO_MS until the peer answers with an ACK
 *     whose seq field is this sender's id) says "I (re)started": the peer answers with a
 *     bulk resync and that ACK. A DATA from a sender id not known yet (the peer restarted and
 *     its HELLO was lost) resets the receiving state and starts a bulk resync too. An ACK
 *     goes to every peer heard at least every SYNC_HELLO_MS (a keepalive), its seq field the
 *     id of the stream it acknowledges; a peer silent for SYNC_DEAD_MS is hailed again.
 */
#ifndef STRAIT_CP_SYNC_FTFW_H
#define STRAIT_CP_SYNC_FTFW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <strait/config.h>
#include <strait/sync.h>

#define SYNC_TXBUF	  256 /**< datagrams kept for resend (power of two) */
#define SYNC_ACK_EVERY	  8
#define SYNC_ACK_DELAY_MS 50
#define SYNC_RTO_MS	  300
#define SYNC_RESEND_BURST 32
#define SYNC_HELLO_MS	  1000
#define SYNC_DEAD_MS	  3000

struct sync_io {
	void *arg;
	/** Send datagram @p buf of @p len bytes to peer @p addr (host order). @return 0 or < 0. */
	int (*send)(void *arg, uint32_t addr, const void *buf, size_t len);
	/** A record received from a peer, to install. */
	void (*deliver)(void *arg, const struct sync_rec *r);
	/** Dump every session of ours to the peers again. */
	void (*bulk)(void *arg);
};

struct sync_peer {
	uint32_t addr; /**< host order */
	/* receiving */
	bool rx_known;		/**< rx_sender and rx_expect are set */
	uint32_t rx_sender;	/**< the peer's id */
	uint32_t rx_expect;	/**< next in-order sequence number */
	uint32_t rx_high;	/**< highest sequence number seen */
	uint32_t rx_unacked;	/**< DATA datagrams since the last ACK */
	uint64_t rx_unacked_ms; /**< when the first of them arrived */
	/* sending */
	uint32_t tx_acked;	 /**< every DATA up to it acknowledged */
	uint64_t tx_progress_ms; /**< last ACK progress or resend */
	bool heard;		 /**< anything from the peer since it was last hailed */
	bool hello_done;	 /**< the peer ACKed with our id: it knows this incarnation */
	uint64_t heard_ms;
	uint64_t hello_ms; /**< last HELLO sent */
	uint64_t ack_ms;   /**< last ACK sent (one a SYNC_HELLO_MS at least: a keepalive) */
};

struct sync_txd {
	uint32_t seq;
	uint16_t len; /**< 0: empty */
	uint8_t buf[SYNC_MAX_DGRAM];
};

struct sync_ftfw {
	struct sync_io io;
	uint32_t id;
	uint8_t workers;
	uint32_t tx_next;	/**< sequence number of the next DATA */
	struct sync_txd *txbuf; /**< [SYNC_TXBUF], by seq % SYNC_TXBUF */
	struct sync_peer peers[CFG_SYNC_MAX_PEERS];
	unsigned int n_peers;
	struct sync_rec pend[SYNC_MAX_RECS];
	unsigned int n_pend;
	uint64_t c[SYNC_C_MAX]; /**< the control thread's counters (strait/sync.h) */
};

/** Set up @p f: sender @p id, @p workers, peers @p addrs (host order). @return 0 or -ENOMEM. */
int sync_ftfw_init(struct sync_ftfw *f, uint32_t id, uint8_t workers, const uint32_t *addrs,
		   unsigned int n, const struct sync_io *io);
void sync_ftfw_fini(struct sync_ftfw *f);
/** Queue record @p r; a full datagram goes out at once. */
void sync_ftfw_add(struct sync_ftfw *f, const struct sync_rec *r, uint64_t now_ms);
/** Send what is queued (end of a control loop pass). */
void sync_ftfw_flush(struct sync_ftfw *f, uint64_t now_ms);
/** A datagram from @p addr (host order): counted, checked (sync_decode()), acted on. */
void sync_ftfw_input(struct sync_ftfw *f, uint32_t addr, const void *buf, size_t len,
		     uint64_t now_ms);
/** Timers: HELLOs, delayed ACKs, resends on timeout. Every control loop pass. */
void sync_ftfw_timer(struct sync_ftfw *f, uint64_t now_ms);

#endif
