/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path's data-plane half (dp/kernel.c, docs/ha.md): what the workers
 * pass to the kernel TAP (VRRP, BGP and the like to the gateway's own addresses) and what
 * the slow path writes there, and the frames the kernel sends back out of the port. A
 * SOCK_DGRAM socketpair stands in for each TAP (one datagram per frame, as a TAP with
 * IFF_NO_PI), so the test needs neither root nor /dev/net/tun. Fixture: nat_fixture.h.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "nat_fixture.h"

static const uint8_t MAC_VRRP[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x12}; /* 224.0.0.18 */
static int sv[DP_PORT_MAX][2];
static struct dp_stats sp_before, sp_drops_before;

static int kernel_setup(void **state)
{
	setup(state);
	snprintf(cfg.ext.kernel_tap, sizeof(cfg.ext.kernel_tap), "k-ext");
	snprintf(cfg.intl.kernel_tap, sizeof(cfg.intl.kernel_tap), "k-int");
	publish();
	for (int p = 0; p < DP_PORT_MAX; p++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv[p]), 0);
		dp_kernel_attach((uint8_t)p, sv[p][0]);
	}
	dp_test_attach(1, pool);
	dp_slowpath_poll(); /* the start-up announcements and ARP requests, out of the way */
	struct rte_mbuf *m;
	while (rte_ring_dequeue(w->ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	sp_before = dp_kernel_stats;
	sp_drops_before = dp_sp_stats;
	for (int d = 0; d < DP_DROP_MAX; d++)
		sp_drops_before.drops[d] += dp_kernel_stats.drops[d] + dp_kernel_ctl_stats.drops[d];
	return 0;
}

static int kernel_teardown(void **state)
{
	struct rte_mbuf *m;

	for (int p = 0; p < DP_PORT_MAX; p++) {
		dp_kernel_attach((uint8_t)p, -1);
		close(sv[p][0]);
		close(sv[p][1]);
	}
	while (rte_ring_dequeue(w->ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	dp_test_attach(0, NULL);
	dp_slowpath_reset();
	return teardown(state);
}

/* What the kernel side of @p port's TAP reads next: its length, or -1 when nothing. */
static ssize_t tap_read(int port, uint8_t *buf, size_t size)
{
	return recv(sv[port][1], buf, size, 0);
}

static uint64_t sp_delta_in(int port)
{
	return dp_kernel_stats.kernel_in[port] - sp_before.kernel_in[port];
}

/* Drops of @p d since the setup, by the slow path or the exception path. */
static uint64_t sp_delta_drop(enum dp_drop d)
{
	return dp_sp_stats.drops[d] + dp_kernel_stats.drops[d] + dp_kernel_ctl_stats.drops[d] -
	       sp_drops_before.drops[d];
}

/* A VRRP advertisement (IP protocol 112) from @p src to @p dst, to Ethernet @p dmac. */
static size_t vrrp(uint8_t *buf, const char *src, const char *dst, const uint8_t *dmac)
{
	struct tb_flow f = {
		.src = src, .dst = dst, .proto = 112, .ttl = 255, .payload_len = 12, .dmac = dmac};
	return tb_frame(buf, &f);
}

static void vrrp_advertisement_goes_to_the_tap(void **state)
{
	(void)state;
	uint8_t buf[256], got[256];
	size_t n = vrrp(buf, "198.51.100.3", "224.0.0.18", MAC_VRRP);

	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_UNSUPPORTED_PROTO], 0);
	assert_int_equal(w->stats.slowpath, 1);
	dp_slowpath_poll();
	assert_int_equal(tap_read(DP_PORT_EXT, got, sizeof(got)), (ssize_t)n);
	assert_memory_equal(got, buf, n);
	assert_int_equal(sp_delta_in(DP_PORT_EXT), 1);
	assert_int_equal(tap_read(DP_PORT_INT, got, sizeof(got)), -1);
}

/* Without a TAP on the arm, the same advertisement is dropped as before. */
static void vrrp_without_a_tap_is_dropped(void **state)
{
	(void)state;
	uint8_t buf[256];
	cfg.ext.kernel_tap[0] = '\0';
	publish();
	size_t n = vrrp(buf, "198.51.100.3", "224.0.0.18", MAC_VRRP);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_UNSUPPORTED_PROTO], 1);
	assert_int_equal(w->stats.slowpath, 0);
}

/* Protocol 112 to an address that is not the gateway's: not the kernel's either. */
static void unicast_to_another_address_is_not_the_kernels(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n = vrrp(buf, "198.51.100.3", "198.51.100.9", MAC_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_UNSUPPORTED_PROTO], 1);
	assert_int_equal(w->stats.slowpath, 0);
}

/* BGP (TCP 179) to the ext address, where no mapping serves 179: the kernel's. A mapped
 * port of the same address stays strait's. */
static void bgp_to_the_gateway_goes_to_the_tap(void **state)
{
	(void)state;
	uint8_t buf[256], got[256];
	size_t n = flow(buf, "198.51.100.3", 40000, "198.51.100.1", 179, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_MAPPING], 0);
	dp_slowpath_poll();
	assert_int_equal(tap_read(DP_PORT_EXT, got, sizeof(got)), (ssize_t)n);
	assert_memory_equal(got, buf, n);

	struct rte_mbuf *m = NULL;
	n = flow(buf, "198.51.100.2", 40001, "198.51.100.1", 8080, IPPROTO_TCP, RTE_TCP_SYN_FLAG,
		 DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 1);
}

/* On int, to the SNAT address: BFD (3784) and ports below the SNAT ones the kernel's, any
 * other SNAT port without a session no_session as before. */
static void int_snat_address_splits_at_the_snat_ports(void **state)
{
	(void)state;
	uint8_t buf[256], got[256];
	size_t n = flow(buf, "10.0.0.2", 49152, "10.0.0.1", 3784, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	n = flow(buf, "10.0.0.2", 179, "10.0.0.1", 40000, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		 DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 1);
	dp_slowpath_poll();
	assert_true(tap_read(DP_PORT_INT, got, sizeof(got)) > 0);
	assert_int_equal(got[14 + 9], IPPROTO_UDP);
	assert_int_equal(tap_read(DP_PORT_INT, got, sizeof(got)), -1);
	assert_int_equal(sp_delta_in(DP_PORT_INT), 1);
}

/* A 60-byte ARP reply from pod 0 (10.0.0.11) to the int address 10.0.0.1, into @p f. */
static void arp_reply(uint8_t f[64])
{
	memset(f, 0, 64);
	memcpy(f, MAC_INT, 6);
	memcpy(f + 6, MAC_POD[0], 6);
	f[12] = 0x08, f[13] = 0x06;
	uint8_t *a = f + 14;
	a[1] = 1, a[2] = 0x08, a[4] = 6, a[5] = 4, a[7] = 2; /* Ethernet, IPv4, reply */
	memcpy(a + 8, MAC_POD[0], 6);
	a[14] = 10, a[15] = 0, a[16] = 0, a[17] = 11; /* sender 10.0.0.11 */
	memcpy(a + 18, MAC_INT, 6);
	a[24] = 10, a[25] = 0, a[26] = 0, a[27] = 1; /* target 10.0.0.1 */
}

/* An ARP reply (to the kernel's own request) gets to the kernel, and is no drop. */
static void arp_reply_is_copied_to_the_kernel(void **state)
{
	(void)state;
	uint8_t f[64], got[128];
	arp_reply(f);
	inject(DP_PORT_INT, f, 60);
	dp_slowpath_poll();
	assert_int_equal(tap_read(DP_PORT_INT, got, sizeof(got)), 60);
	assert_memory_equal(got, f, 60);
	assert_int_equal(sp_delta_drop(DP_DROP_ARP_UNSOLICITED), 0);
}

/* What the kernel writes on the TAP leaves by the port, as it is (worker 0's ctl_tx). */
static void kernel_frames_go_out_of_the_port(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n = vrrp(buf, "198.51.100.1", "224.0.0.18", MAC_VRRP);

	assert_int_equal(send(sv[DP_PORT_EXT][1], buf, n, 0), (ssize_t)n);
	assert_int_equal(send(sv[DP_PORT_EXT][1], buf, 6, 0), 6); /* runt: dropped */
	dp_slowpath_poll();
	assert_int_equal(rte_ring_dequeue(w->ctl_tx, (void **)&m), 0);
	assert_int_equal(dp_priv(m)->out_port, DP_PORT_EXT);
	assert_int_equal(rte_pktmbuf_data_len(m), n);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), buf, n);
	rte_pktmbuf_free(m);
	assert_int_not_equal(rte_ring_dequeue(w->ctl_tx, (void **)&m), 0);
	assert_int_equal(
		dp_kernel_stats.kernel_out[DP_PORT_EXT] - sp_before.kernel_out[DP_PORT_EXT], 1);
	assert_int_equal(sp_delta_drop(DP_DROP_KERNEL_BAD_FRAME), 1);
}

/* With its own thread (dp_kernel_start()), the kernel path moves frames both ways while the
 * control loop does nothing at all (no dp_slowpath_poll(): a control thread stuck in a
 * publication or a netlink request): BFD and VRRP do not wait for it. */
static void the_kernel_thread_needs_no_control_loop(void **state)
{
	(void)state;
	uint8_t buf[256], got[256];
	char err[128];
	struct rte_mbuf *m = NULL;
	struct timeval tv = {.tv_sec = 10};
	size_t n = flow(buf, "10.0.0.2", 49152, "10.0.0.1", 3784, IPPROTO_UDP, 0, DP_PORT_INT);

	assert_int_equal(dp_kernel_start(err, sizeof(err)), 0);
	assert_true(dp_kernel_thread_running());
	// A worker's BFD packet reaches the TAP: a blocking read, bounded by SO_RCVTIMEO.
	int fl = fcntl(sv[DP_PORT_INT][1], F_GETFL);
	assert_int_equal(fcntl(sv[DP_PORT_INT][1], F_SETFL, fl & ~O_NONBLOCK), 0);
	assert_int_equal(setsockopt(sv[DP_PORT_INT][1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
			 0);
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.slowpath, 1);
	assert_int_equal(tap_read(DP_PORT_INT, got, sizeof(got)), (ssize_t)n);
	assert_memory_equal(got, buf, n);

	// The kernel's answer leaves by the port: on worker 0's ring within 10 s (10,000 x 1 ms).
	n = vrrp(buf, "10.0.0.1", "224.0.0.18", MAC_VRRP);
	assert_int_equal(send(sv[DP_PORT_INT][1], buf, n, 0), (ssize_t)n);
	for (int i = 0; i < 10000 && rte_ring_dequeue(w->ctl_tx, (void **)&m) != 0; i++)
		usleep(1000);
	assert_non_null(m);
	assert_int_equal(dp_priv(m)->out_port, DP_PORT_INT);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), buf, n);
	rte_pktmbuf_free(m);

	// An ARP reply: the slow path learns from it and hands the thread a copy for the TAP.
	uint8_t f[64];
	arp_reply(f);
	inject(DP_PORT_INT, f, 60);
	dp_slowpath_poll();
	assert_int_equal(tap_read(DP_PORT_INT, got, sizeof(got)), 60);
	assert_memory_equal(got, f, 60);
	dp_kernel_stop();
	assert_false(dp_kernel_thread_running());
	assert_int_equal(sp_delta_in(DP_PORT_INT), 2);
	assert_int_equal(
		dp_kernel_stats.kernel_out[DP_PORT_INT] - sp_before.kernel_out[DP_PORT_INT], 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, kernel_setup, kernel_teardown)
	const struct CMUnitTest tests[] = {
		T(vrrp_advertisement_goes_to_the_tap),
		T(vrrp_without_a_tap_is_dropped),
		T(unicast_to_another_address_is_not_the_kernels),
		T(bgp_to_the_gateway_goes_to_the_tap),
		T(int_snat_address_splits_at_the_snat_ports),
		T(arp_reply_is_copied_to_the_kernel),
		T(kernel_frames_go_out_of_the_port),
		T(the_kernel_thread_needs_no_control_loop),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
