/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path, data-plane half (docs/ha.md), on the control thread: frames for
 * the gateway that strait does not handle itself go to the arm's kernel TAP, and what the
 * kernel sends on the TAP goes out of the arm's port, as VPP's linux-cp, DPVS's KNI and
 * grout's control-plane ports do. The control plane (cp/kernel_port.c) creates the TAP
 * (/dev/net/tun, non-blocking, IFF_TAP | IFF_NO_PI: one read or write is one Ethernet frame)
 * and attaches its descriptor here.
 *
 * Workers never touch the TAP: they pass such frames to the slow path with DP_SP_KERNEL
 * (nat.c decides which: dp_kernel_wants()), and the slow path writes them here. So the only
 * syscalls are the control thread's: one write() per frame to the kernel, one read() per
 * frame from it, at most KERNEL_BURST frames a port per dp_slowpath_poll().
 *
 * What goes to the TAP is checked again here (a worker's test is cheap, this one is exact):
 * an IPv4 destination that is one of the arm's addresses, multicast (224.0.0.0/4: VRRP's
 * 224.0.0.18, OSPF, ...) or the limited broadcast, or an ARP reply (the kernel's own
 * requests are answered to it: strait answers requests for the gateway's addresses itself).
 * Anything else is kernel_not_local.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "kernel.h"
#include "lifecycle.h"
#include "mbuf_priv.h"
#include "worker.h"

#define KERNEL_BURST 32 /**< frames read from one TAP per poll, at most */

struct dp_stats dp_kernel_stats;

static int kfd[DP_PORT_MAX] = {-1, -1};

/* Out of @p port through worker 0's control tx ring, as the slow path sends (slowpath.c). */
static void kernel_send(struct rte_mbuf *m, uint8_t port)
{
	struct dp_worker *w0 = dp_workers[0];

	dp_priv(m)->out_port = port;
	if (!w0 || rte_ring_sp_enqueue(w0->ctl_tx, m) != 0) {
		dp_kernel_stats.drops[DP_DROP_TX_FULL]++;
		rte_pktmbuf_free(m);
	}
}

void dp_kernel_attach(uint8_t port, int fd)
{
	if (port < DP_PORT_MAX)
		kfd[port] = fd;
}

int dp_kernel_fd(uint8_t port)
{
	return port < DP_PORT_MAX ? kfd[port] : -1;
}

/* Whether the exception path takes IPv4 packet @p ip (the frame's first @p len bytes after
 * its Ethernet header) that arrived on @p port. */
static bool ip_for_kernel(const struct tables *t, uint8_t port, const uint8_t *ip, uint32_t len)
{
	rte_be32_t dst;
	uint32_t h;

	if (len < sizeof(struct rte_ipv4_hdr))
		return false;
	memcpy(&dst, ip + offsetof(struct rte_ipv4_hdr, dst_addr), sizeof(dst));
	h = rte_be_to_cpu_32(dst);
	return (h >> 28) == 0xe || h == UINT32_MAX || (t && tables_is_local(t, port, dst));
}

bool dp_kernel_deliver(const struct tables *t, struct rte_mbuf *m, uint8_t port)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct rte_ether_hdr *eth = (const void *)f;
	bool ok;

	if (port >= DP_PORT_MAX || kfd[port] < 0 || len < sizeof(*eth))
		return false;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		ok = len >= sizeof(*eth) + sizeof(struct rte_arp_hdr) &&
		     ((const struct rte_arp_hdr *)(eth + 1))->arp_opcode ==
			     RTE_BE16(RTE_ARP_OP_REPLY);
	else
		ok = eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
		     ip_for_kernel(t, port, f + sizeof(*eth), len - (uint32_t)sizeof(*eth));
	if (!ok) {
		dp_kernel_stats.drops[DP_DROP_KERNEL_NOT_LOCAL]++;
		return true;
	}
	// A TAP takes a whole frame per write or nothing (EAGAIN: its queue is full, EIO: the
	// interface is down).
	if (write(kfd[port], f, len) != (ssize_t)len) {
		dp_kernel_stats.drops[DP_DROP_KERNEL_TAP_FULL]++;
		return true;
	}
	dp_kernel_stats.kernel_in[port]++;
	return true;
}

/* Read up to KERNEL_BURST frames from the TAP of @p port and send them out of the port. */
static unsigned int poll_port(uint8_t port)
{
	unsigned int n = 0;

	for (; n < KERNEL_BURST; n++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(dp_sp_mempool());
		if (!m)
			break; // the frame waits in the kernel
		uint16_t room = rte_pktmbuf_tailroom(m);
		ssize_t r = read(kfd[port], rte_pktmbuf_mtod(m, void *), room);
		if (r < 0) {
			rte_pktmbuf_free(m);
			if (errno != EAGAIN && errno != EINTR)
				dp_kernel_stats.drops[DP_DROP_KERNEL_BAD_FRAME]++;
			break;
		}
		// A frame longer than an mbuf comes truncated to room: not sent.
		if (r < (ssize_t)sizeof(struct rte_ether_hdr) || r >= room) {
			rte_pktmbuf_free(m);
			dp_kernel_stats.drops[DP_DROP_KERNEL_BAD_FRAME]++;
			continue;
		}
		rte_pktmbuf_append(m, (uint16_t)r);
		dp_kernel_stats.kernel_out[port]++;
		kernel_send(m, port);
	}
	return n;
}

unsigned int dp_kernel_poll(void)
{
	unsigned int n = 0;

	for (uint8_t p = 0; p < DP_PORT_MAX; p++)
		if (kfd[p] >= 0)
			n += poll_port(p);
	return n;
}
