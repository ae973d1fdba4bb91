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

#define DP_RX_DESC 1024 /**< rx descriptors per queue (before the PMD's adjustment) */
#define DP_TX_DESC 1024 /**< tx descriptors per queue (the same) */

/**
 * Create the mbuf pool of @p n_mbufs, then configure and start both ports, @p port_id
 * indexed by enum dp_port_role (ethdev port ids), with @p nq rx and tx queues each. Where
 * a port does RSS and several queues are asked for, it spreads with a known Toeplitz key
 * and the int port's redirection table is read back (dp_ports_rss_int()).
 * @return 0; -ENOMEM (no pool), -EINVAL (a port has fewer than @p nq queues: the message
 *         says what to add), or a negative errno from ethdev; the message in @p err.
 */
int dp_ports_setup(const uint16_t port_id[DP_PORT_MAX], unsigned int nq, unsigned int n_mbufs,
		   char *err, size_t errlen);
/**
 * The rx offloads dp_ports_setup() asks of a port whose PMD is @p driver (rte_eth_dev_info's
 * driver_name) with @p capa (its rx_offload_capa): RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, _UDP_CKSUM
 * and _TCP_CKSUM where offered, so that the NIC checks every IPv4 header and a session's first
 * packet's L4 checksum (ol_flags); none for net_tap, whose PMD would verify every packet in
 * software. Pure.
 */
uint64_t dp_port_rx_cksum_offloads(const char *driver, uint64_t capa);
/** Stop and close the ports dp_ports_setup() started. */
void dp_ports_close(void);
/** The int port's RSS as set up (enabled false when it does none). */
const struct dp_rss *dp_ports_rss_int(void);
/** The pool every mbuf of the data plane comes from; NULL before dp_ports_setup(). Any thread. */
struct rte_mempool *dp_mempool(void);

#endif
