/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clears in the worker (session_clear.c): a command from the control thread (struct dp_cmd)
 * becomes a cursor over the worker's record array that examines at most DP_CLEAR_BUDGET
 * records per loop iteration, removing the sessions that match the request and, for TCP,
 * sending the client a RST. Also what a RST needs from the fast path: the sequence number it
 * takes, tracked per record (nat_clear_track()). On the worker lcore that owns @p w unless a
 * comment says otherwise.
 */
#ifndef STRAIT_DP_SESSION_CLEAR_H
#define STRAIT_DP_SESSION_CLEAR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_tcp.h>

#include "pkt.h"
#include "session.h"
#include "worker.h"

#define DP_CLEAR_BUDGET 1024 /**< session records a clear examines per loop iteration */

/**
 * Where RST frames come from: dp_mempool() when NULL. Unit tests, which have no ports, set
 * it before the first clear. Control thread, before the workers start.
 */
extern struct rte_mempool *nat_clear_pool;

/**
 * Remember the sequence number a RST to the client of session @p idx would take, from an
 * in2out TCP packet of it about to be forwarded: seq + payload + SYN + FIN (the client's
 * RCV.NXT once it has this segment, RFC 9293 §3.4). @p frame is the packet as received, @p m
 * its parse. Per packet: one store into w->sess.rst_seq; out2in packets and UDP return at
 * once.
 */
static __rte_always_inline void nat_clear_track(struct dp_worker *w, const uint8_t *frame,
						const struct pkt_meta *m, uint32_t idx, int dir)
{
	if (dir != DIR_I2O || m->proto != IPPROTO_TCP)
		return;
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(frame + m->l4_off);
	uint32_t f = m->tcp_flags;
	// Payload = IP length - IP header - TCP header (data_off >> 4 words). A header longer
	// than the packet only makes this session's RST wrong.
	uint32_t len = (uint32_t)m->ip_len - (uint32_t)(m->l4_off - m->l3_off) -
		       ((uint32_t)th->data_off >> 2 & 0x3c);
	w->sess.rst_seq[idx] = rte_be_to_cpu_32(th->sent_seq) + len + (f & RTE_TCP_FIN_FLAG) +
			       (f >> 1 & 1); // + FIN + SYN
}

/**
 * The same for the SYN that creates session @p idx (new sessions only): seq + 1, the ack a
 * RST to a client in SYN-SENT must carry (RFC 9293 §3.10.7.3) while the backend has not
 * answered.
 */
static inline void nat_clear_track_syn(struct dp_worker *w, const uint8_t *frame,
				       const struct pkt_meta *m, uint32_t idx)
{
	if (m->proto != IPPROTO_TCP)
		return;
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(frame + m->l4_off);
	w->sess.rst_seq[idx] = rte_be_to_cpu_32(th->sent_seq) + 1;
}

/** Whether session @p se matches clear request @p r (@p backend_be: r's backend, network
 * order). Any thread (pure). */
bool nat_clear_match(const struct dp_clear_req *r, rte_be32_t backend_be,
		     const struct nat_session *se);

/**
 * Build the RST that tells session @p idx's client the session is gone, and queue it for tx
 * on the client's arm (the in2out next hop). Skipped (false) for a session that is not TCP,
 * already closed, when no mbuf is left or the next hop's MAC is unknown.
 */
bool nat_clear_rst(struct dp_worker *w, uint32_t idx);

/**
 * Take the next clear command from w->cmd_in when none is in progress. Housekeeping pass.
 * @return whether a clear is in progress afterwards.
 */
bool nat_clear_take(struct dp_worker *w);

/**
 * Advance the clear in progress: examine at most @p budget records from its cursor; at the
 * end of the array, zero the slot's counters if asked, store the count and mark the command
 * done (release: the control thread then owns it). Every loop iteration.
 * @return records examined (0 when no clear is in progress).
 */
unsigned int nat_clear_step(struct dp_worker *w, unsigned int budget);

/**
 * Run command @p c over worker @p w's whole table at once, without RST, and mark it done.
 * The control thread while the workers are stopped. @return sessions removed.
 */
uint64_t nat_clear_run(struct dp_worker *w, struct dp_cmd *c);

/**
 * Remove at once the sessions of worker @p w of mapping slot @p slot (-1 = any) and backend
 * address @p backend_be (network order, 0 = any), without RST: nat_clear_run() on a request
 * made of them. The worker itself, or the control thread while the workers are stopped
 * (tests). @return sessions removed.
 */
unsigned int nat_sessions_clear(struct dp_worker *w, int slot, uint32_t backend_be);

#endif
