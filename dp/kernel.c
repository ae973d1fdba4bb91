/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path, data-plane half (docs/ha.md), on a thread of its own: frames for
 * the gateway that strait does not handle itself go to the arm's kernel TAP, and what the
 * kernel sends on the TAP goes out of the arm's port, as VPP's linux-cp, DPVS's KNI and
 * grout's control-plane ports do. The control plane (cp/kernel_port.c) creates the TAP
 * (/dev/net/tun, non-blocking, IFF_TAP | IFF_NO_PI: one read or write is one Ethernet frame),
 * attaches its descriptor here and starts the thread (dp_kernel_start()).
 *
 * Workers never touch the TAP: they pass such frames on their kern_out ring (DP_SP_KERNEL;
 * nat.c decides which: dp_kernel_wants()), and this thread writes them to the TAP; what it
 * reads from a TAP it queues on worker 0's ctl_tx ring (multi-producer: the slow path sends
 * there too). BGP, BFD, VRRP and session sync ride this path, so it waits for nothing the
 * control thread does (a tables publication, a netlink request held up by another process's
 * rtnl lock, a large `show`, the Kubernetes client): it sleeps in poll() on the TAPs, 1 ms
 * at most while a worker may have queued a frame. ARP replies that answer the kernel's own
 * requests come from the slow path (the control thread learns from them first) through a
 * ring of their own. Without the thread (unit tests), dp_slowpath_poll() runs the same
 * passes. So the only syscalls are this thread's: one write() per frame to the kernel, one
 * read() per frame from it, at most KERNEL_BURST frames a port and a ring per pass.
 *
 * What goes to the TAP is checked again here (a worker's test is cheap, this one is exact):
 * an IPv4 destination that is one of the arm's addresses, multicast (224.0.0.0/4: VRRP's
 * 224.0.0.18, OSPF, ...) or the limited broadcast, or an ARP reply (the kernel's own
 * requests are answered to it: strait answers requests for the gateway's addresses itself).
 * Anything else is kernel_not_local.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <rte_lcore.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_errno.h>

#include <strait/log.h>

#include "kernel.h"
#include "lifecycle.h"
#include "mbuf_priv.h"
#include "worker.h"

#define KERNEL_BURST 32 /**< frames read from one TAP per poll, at most */

struct dp_stats dp_kernel_stats;
struct dp_stats dp_kernel_ctl_stats;

static int kfd[DP_PORT_MAX] = {-1, -1};

#define KERNEL_CTL_RING_SIZE 256 /**< the slow path's ARP replies for the kernel */
#define KERNEL_FLOOD_FRAMES  256 /**< frames moved without a sleep, at most (then 1 ms) */

static struct {
	pthread_t tid;
	bool running;	      /* written by the control thread while the thread does not run */
	bool stop;	      /* __atomic: the control thread asks the thread to leave */
	struct rte_ring *ctl; /* the slow path's frames for a TAP (SP control, SC the thread) */
} kt;

/* Out of @p port through worker 0's control tx ring, as the slow path sends (slowpath.c). */
static void kernel_send(struct rte_mbuf *m, uint8_t port)
{
	struct dp_worker *w0 = dp_workers[0];

	dp_priv(m)->out_port = port;
	if (!w0 || rte_ring_mp_enqueue(w0->ctl_tx, m) != 0) {
		dp_kernel_stats.drops[DP_DROP_TX_FULL]++;
		rte_pktmbuf_free(m);
	}
}

/* Write frame @p m to the TAP of @p port, counted; @p m is not freed. */
static void kernel_write(struct rte_mbuf *m, uint8_t port)
{
	uint32_t len = rte_pktmbuf_data_len(m);

	if (port >= DP_PORT_MAX || kfd[port] < 0) {
		dp_kernel_stats.drops[DP_DROP_NOT_FOR_US]++; // its TAP went away meanwhile
		return;
	}
	// A TAP takes a whole frame per write or nothing (EAGAIN: its queue is full, EIO: the
	// interface is down).
	if (write(kfd[port], rte_pktmbuf_mtod(m, const void *), len) != (ssize_t)len) {
		dp_kernel_stats.drops[DP_DROP_KERNEL_TAP_FULL]++;
		return;
	}
	dp_kernel_stats.kernel_in[port]++;
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
		dp_kernel_ctl_stats.drops[DP_DROP_KERNEL_NOT_LOCAL]++;
		return true;
	}
	if (!kt.running) {
		kernel_write(m, port);
		return true;
	}
	// The thread writes a copy; the caller keeps @p m (it learns from the ARP reply).
	struct rte_mbuf *c = rte_pktmbuf_copy(m, dp_sp_mempool(), 0, UINT32_MAX);
	if (c)
		dp_priv(c)->out_port = port;
	if (!c || rte_ring_sp_enqueue(kt.ctl, c) != 0) {
		rte_pktmbuf_free(c);
		dp_kernel_ctl_stats.drops[DP_DROP_KERNEL_TAP_FULL]++;
	}
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

/* Write up to KERNEL_BURST frames of ring @p r to their TAPs, and free them: a worker's
 * (the port they arrived on, dp_mbuf_priv.in_port) or, @p slowpath, the slow path's
 * (out_port). */
static unsigned int drain(struct rte_ring *r, bool slowpath)
{
	struct rte_mbuf *pkts[KERNEL_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(r, (void **)pkts, KERNEL_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		const struct dp_mbuf_priv *p = dp_priv(pkts[i]);
		kernel_write(pkts[i], slowpath ? p->out_port : p->in_port & 1);
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

unsigned int dp_kernel_poll(void)
{
	unsigned int n = 0;

	if (kt.ctl)
		n += drain(kt.ctl, true);
	for (unsigned int i = 0; i < dp_n_workers(); i++)
		if (dp_workers[i])
			n += drain(dp_workers[i]->kern_out, false);
	for (uint8_t p = 0; p < DP_PORT_MAX; p++)
		if (kfd[p] >= 0)
			n += poll_port(p);
	return n;
}

static void *kernel_thread(void *arg)
{
	unsigned int moved = 0;

	(void)arg;
	// At the process's own nice, not above it: the kernel shares a CPU between sessions and
	// cgroups (autogroups, a pod's cgroup) by their load on each CPU, so a raised thread here
	// draws strait's share to its own CPU and away from the worker's: at nice -20 a worker
	// beside two CPU-bound processes got a fifth of its CPU and waited up to 222 ms to run,
	// holding BFD back past its 200 ms (tests/e2e/ha_bgp_sync_test.sh under load). Asleep
	// in poll() most of the time, this thread wakes ahead of CPU-bound work as it is.
	while (!__atomic_load_n(&kt.stop, __ATOMIC_ACQUIRE)) {
		struct pollfd fds[DP_PORT_MAX];
		nfds_t n = 0;
		unsigned int k = dp_kernel_poll();

		moved += k;
		// Busy: go on, up to KERNEL_FLOOD_FRAMES frames without a sleep (a flood of frames
		// for the kernel takes at most about half of a CPU, never all of it).
		if (k && moved < KERNEL_FLOOD_FRAMES)
			continue;
		moved = 0;
		// Idle (or a flood's pause): a frame from the kernel wakes us at once; one from a
		// worker waits for the timeout, 1 ms at most (as it did on the control loop).
		for (uint8_t p = 0; p < DP_PORT_MAX; p++)
			if (kfd[p] >= 0)
				fds[n++] = (struct pollfd){.fd = kfd[p], .events = POLLIN};
		poll(fds, k ? 0 : n, 1);
	}
	return NULL;
}

int dp_kernel_start(char *err, size_t errlen)
{
	int rc;

	if (kt.running)
		return 0;
	if (!kt.ctl)
		kt.ctl = rte_ring_create("kern_ctl", KERNEL_CTL_RING_SIZE, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!kt.ctl) {
		snprintf(err, errlen, "kernel path: cannot create its ring: %s",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	__atomic_store_n(&kt.stop, false, __ATOMIC_RELEASE);
	rc = rte_ctrl_thread_create(&kt.tid, "strait-kernel", NULL, kernel_thread, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "kernel path: cannot start its thread: %s", strerror(rc));
		return -rc;
	}
	kt.running = true;
	return 0;
}

void dp_kernel_stop(void)
{
	struct rte_mbuf *m;

	if (kt.running) {
		__atomic_store_n(&kt.stop, true, __ATOMIC_RELEASE);
		pthread_join(kt.tid, NULL);
		kt.running = false;
	}
	while (kt.ctl && rte_ring_dequeue(kt.ctl, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(kt.ctl);
	kt.ctl = NULL;
}

bool dp_kernel_thread_running(void)
{
	return kt.running;
}
