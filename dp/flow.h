/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_flow steering of the int port (flow.c): with several workers, the replies to a SNAT
 * port reach the worker that owns the port (its partition snat_lo..snat_hi, worker.c) when
 * the device takes one rule per (worker, protocol, aligned block of ports): "IPv4 / TCP or
 * UDP dst port in block -> queue w". Without the rules they land where RSS (or the kernel's
 * fanout) puts them, and the worker that reads one hands it over on a ring (nat.c). Control
 * thread.
 */
#ifndef STRAIT_DP_FLOW_H
#define STRAIT_DP_FLOW_H

#include <stddef.h>
#include <stdint.h>

/** Most aligned blocks a port range [lo, hi] of 16-bit ports decomposes into (2 x 16 - 2). */
#define DP_FLOW_MAX_BLOCKS 30

/** An aligned block of ports: those p with (p & mask) == value (host order). */
struct dp_flow_block {
	uint16_t value;
	uint16_t mask;
};

/**
 * Cover the ports [@p lo, @p hi] (host order) exactly with the fewest aligned blocks
 * (value/mask pairs, a mask's ones being a prefix), in increasing order, as a TCAM or the
 * kernel's flower classifier matches a range; at most DP_FLOW_MAX_BLOCKS.
 * @return the number of blocks written to @p out (capacity @p max), or -EINVAL when
 *         @p lo > @p hi, -ENOSPC when @p max is too small.
 */
int dp_flow_port_blocks(uint16_t lo, uint16_t hi, struct dp_flow_block *out, unsigned int max);

/**
 * Steer the replies to every worker's SNAT partition on port @p port_id (ethdev, started, with
 * @p n_workers rx queues, worker i reading queue i): for each worker, TCP and UDP, each block
 * of its partition (as worker.c cuts them: DP_SNAT_PORT_MIN..65535 in @p n_workers equal spans,
 * the last one taking the rest), an ingress rule "eth / ipv4 / tcp|udp dst is block -> queue i"
 * (rte_flow_validate() then rte_flow_create(), DPDK's generic flow API).
 * All or nothing: on the first rule the device refuses, the rules made are destroyed.
 * @return the number of rules installed; -EINVAL when @p n_workers < 2; -ENOTSUP or the PMD's
 *         negative errno when the device refuses a rule (the PMD's message in @p err).
 */
int dp_flow_steer_snat(uint16_t port_id, unsigned int n_workers, char *err, size_t errlen);

/** Destroy the rules dp_flow_steer_snat() installed on @p port_id (before the port stops). */
void dp_flow_unsteer(uint16_t port_id);

#endif
