/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A refused connection (dp/reject.c): the first packet of a flow whose Maglev lookup chose a
 * reject backend (tbl_backend.addr 0: a Gateway API backendRef that does not resolve).
 */
#ifndef STRAIT_DP_REJECT_H
#define STRAIT_DP_REJECT_H

#include <rte_mbuf.h>

#include "pkt.h"
#include "worker.h"

/**
 * Refuse the flow of @p mb, a packet received on ext parsed into @p m, counted as
 * DP_DROP_REJECTED: a TCP SYN is turned, in place, into the RST that a closed port answers
 * (RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, from the address and port
 * the client connected to), queued back out on ext to the MAC it came from; anything else
 * (UDP) is dropped. Worker lcore, the owner of @p w. No allocation.
 */
void dp_reject(struct dp_worker *w, struct rte_mbuf *mb, const struct pkt_meta *m);

#endif
