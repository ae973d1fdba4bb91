/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT out2in and in2out of a burst (nat.c), on the worker lcore that owns @p w. */
#ifndef STRAIT_DP_NAT_H
#define STRAIT_DP_NAT_H

#include <stdint.h>

#include <rte_mbuf.h>

#include <strait/dp.h>
#include <strait/tables.h>

#include "pkt.h"
#include "worker.h"

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
 * Create the session for a first packet arriving on ext, or on int to a mapping's address
 * (@p hairpin: a client behind int, RFC 4787 REQ-9 / RFC 5382 REQ-8: always full NAT, so that
 * the backend's replies come back through the gateway whatever the mapping's `nat`).
 * @param bkt, sig the hash of the packet's key (nat_key_hash()), computed by the burst.
 * @param batch the caller commits before its burst ends (nat_sessions_commit()): a full-NAT
 *        session of a mapping without limits may then leave its in2out key to that commit
 *        (w->pend; w->n_pend grows by one), its bucket prefetched meanwhile. Its out2in key
 *        is in the table at return; no reply can need the other before the burst is sent.
 * @return session index, or -1 with *drop set.
 */
int nat_session_create(struct dp_worker *w, const struct tables *t, const struct pkt_meta *m,
		       const struct tbl_service *svc, uint32_t bkt, uint32_t sig, bool hairpin,
		       bool batch, enum dp_drop *drop);
/**
 * Add the in2out keys of the sessions waiting in w->pend[0..n_pend) and count the sessions in
 * (lists, counts, sync events), in the order they were made. A key with no room (both buckets
 * full, no cuckoo path) undoes its session as nat_session_create() would have: its entry's idx
 * becomes NAT_REC_NONE. The entries stay, for the caller to read and then empty w->pend.
 * Worker lcore, at the end of the burst that made them; @p t the tables it made them with
 * (a SNAT port given back goes to their bitmaps).
 */
void nat_sessions_commit(struct dp_worker *w, const struct tables *t);
/**
 * Make session @p idx, just created for a mid-flow TCP segment @p th of the client (an ACK
 * without SYN or RST, on a mapping with pickup), an established one whose flow began on
 * another gateway: both directions seen, and window tracking as liberal as Linux conntrack's
 * pickup of a flow it did not see open (nf_conntrack_tcp_loose; RFC 7323 scales unknown):
 * each direction's end from the segment (the client's seq, the backend's the segment's
 * ack), the largest window and scale, so that a FIN or RST of the flow is in window.
 * Worker lcore of the session.
 */
void nat_session_pickup(struct dp_worker *w, uint32_t idx, const struct rte_tcp_hdr *th);

#endif
