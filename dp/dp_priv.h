/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every internal header of the data plane, for code outside dp/ that reaches into it (unit
 * tests, fuzzers, benchmarks). Files in dp/ include only the headers they use:
 *   pkt.h           the packet parser's interface
 *   session.h       the session record and table (inline hot path: session_inlines.h)
 *   session_free.h  sessions leaving a worker: freed, expired
 *   session_clear.h clears in the worker: a budgeted cursor, RSTs to clients
 *   rss.h           a port's RSS as workers predict it
 *   mbuf_priv.h     the mbuf private area (slow-path and hand-over metadata)
 *   worker.h        a worker's state, its clock, its allocation
 *   neigh.h         the neighbour table and a worker's adjacencies
 *   pkt_out.h       tx queueing, drops, the slow-path hand-over
 *   nat.h           the burst: out2in and in2out
 *   loop.h          the worker loop
 *   ports.h         ports, the mbuf pool, RSS set-up
 *   lifecycle.h     the workers from dp_init() to dp_fini()
 *   slowpath.h      the slow path's counters
 *   kernel.h        the kernel exception path (the TAPs' frames)
 */
#ifndef STRAIT_DP_PRIV_H
#define STRAIT_DP_PRIV_H

#include "pkt.h"
#include "session.h"
#include "rss.h"
#include "mbuf_priv.h"
#include "worker.h"
#include "neigh.h"
#include "session_free.h"
#include "session_clear.h"
#include "pkt_out.h"
#include "nat.h"
#include "loop.h"
#include "ports.h"
#include "lifecycle.h"
#include "slowpath.h"
#include "kernel.h"

#endif
