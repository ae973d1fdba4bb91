/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path's data-plane half (kernel.c): the TAP descriptors the control
 * plane attaches, the frames written to them and the frames read back, on the kernel path's
 * own thread. The public half (dp_kernel_attach(), dp_kernel_poll(), dp_kernel_start()) is in
 * strait/dp.h.
 */
#ifndef STRAIT_DP_KERNEL_H
#define STRAIT_DP_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <strait/dp.h>
#include <strait/tables.h>

/** The exception path's counters (kernel_in, kernel_out, its drops): the kernel path
 * thread's, summed with the workers' and the slow path's (dp_stats_sum()). */
extern struct dp_stats dp_kernel_stats;
/** The drops of dp_kernel_deliver() (kernel_not_local, kernel_tap_full): the control thread's
 * own, so that each counter has one writer; summed too. */
extern struct dp_stats dp_kernel_ctl_stats;

/** UDP port of session sync (dp_sync_init()), 0 when off: to an int address, the kernel's
 *  even on a SNAT address. Set before the workers start; read-only after. */
extern uint16_t dp_sync_port;

/**
 * Give the kernel frame @p m, which arrived on @p port, when the exception path takes it
 * (kernel.c says which: ARP replies, IPv4 to the arm's addresses, multicast, broadcast):
 * written to the port's TAP (counted kernel_in[port]) by the kernel path's thread, a copy
 * through its ring, or at once when it has no thread; or dropped by reason (kernel_not_local,
 * kernel_tap_full). @p m stays the caller's.
 * @return false when @p port has no TAP (nothing counted), true otherwise. Control thread
 * (the slow path's ARP).
 */
bool dp_kernel_deliver(const struct tables *t, struct rte_mbuf *m, uint8_t port);

/**
 * Whether a worker passes a packet for the gateway that it does not handle itself (to @p dst,
 * network order) to the kernel TAP of @p port: the arm has one, and @p dst is one of its
 * addresses, IPv4 multicast (224.0.0.0/4) or the limited broadcast. The caller has checked
 * the frame's destination MAC (ours, or multicast or broadcast). Worker lcore (reads the tables only); not on an established flow's
 * path: only where the packet would otherwise be dropped.
 */
static inline bool dp_kernel_wants(const struct tables *t, uint8_t port, rte_be32_t dst)
{
	uint32_t h = rte_be_to_cpu_32(dst);

	if (!((t->kernel_ports >> port) & 1))
		return false;
	return (h >> 28) == 0xe || h == UINT32_MAX || tables_is_local(t, port, dst);
}

#endif
