/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two ports (ports.c): their set-up (one rx and one tx queue per worker), the mbuf pool
 * their rx queues fill, their MACs, and the RSS of the int port. Control thread.
 */
#ifndef STRAIT_DP_PORTS_H
#define STRAIT_DP_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include <strait/dp.h>

#include "rss.h"

/** The pool every mbuf of the data plane comes from; NULL before dp_ports_setup(). Any thread. */
struct rte_mempool *dp_mempool(void);

#endif
