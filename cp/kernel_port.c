/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path, control-plane half (docs/ha.md; the data-plane half is
 * dp/kernel.c). For each arm with `kernel: {tap: NAME}`, a Linux TAP interface NAME with the
 * port's MAC and addresses, up, so that BIRD, keepalived, sshd and tcpdump run unmodified on
 * the host, as with VPP's linux-cp, DPVS's KNI and grout's control-plane ports.
 *
 * /dev/net/tun from the control thread, not DPDK's net_tap PMD: a net_tap port is one more
 * ethdev per arm (queues, a mempool, an lcore or the control thread polling rte_eth_rx_burst,
 * which in 22.11 is a read() per frame under the hood anyway), a `--vdev` on the EAL command
 * line, and a MAC the PMD sets from its `mac=` devarg only at probe; here the TAP is a file
 * descriptor the slow path writes and reads (dp_kernel_attach()), created from the config
 * alone, whatever the ports' PMD, and gone when strait exits (not persistent).
 *
 * At start-up: the TAP (IFF_TAP | IFF_NO_PI, non-blocking), IPv6 off on it (no router or
 * neighbour solicitations, MLD reports out of the port), the port's MAC, up, and its
 * addresses (rtnetlink through libmnl): all of them, or in ha mode vrrp only the first, the
 * gateway's own (the others are keepalived's to add). Then strait follows the TAP's IPv4
 * addresses (RTNLGRP_IPV4_IFADDR, and a dump at start and after an overflow): the set it
 * holds is cfg_port.held (cp_state_set_held()), which the tables serve: an address that
 * keepalived adds is answered on ARP and announced with a gratuitous ARP at once (the slow
 * path announces what a new tables generation adds), and is no longer when it is removed.
 *
 * In ha mode bgp, every mapping address (of every source: config, CLI, Kubernetes) is put on
 * the ext TAP as a /32 while strait is ready (cp_metrics_ready(), the /readyz answer), and
 * taken off when it is not or the mapping goes; BIRD's `protocol direct` sees them and its BGP
 * export announces them (docs/ha.md, config/ha/bird-gateway.conf). When strait dies the TAP
 * goes with its descriptor, so do the addresses, and BFD tells the router at once.
 *
 * The TAP's carrier follows its port's link (carrier_sync(), every CARRIER_PERIOD_NS): a TAP
 * is a software interface whose carrier is on while strait holds it open, whatever the port
 * does, so without this keepalived would keep advertising on the TAP of a port whose link is
 * gone. With the carrier off, the kernel sees the TAP as NO-CARRIER (operstate
 * LOWER_LAYER_DOWN), keepalived puts its instance in FAULT, and the kernel sends nothing on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>

#include <libmnl/libmnl.h>
#include <rte_ethdev.h>

#include <strait/config.h>
#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/log.h>

#include "cp_priv.h"
#include "kernel_port.h"

static struct {
	int tap[DP_PORT_MAX];
	int ifindex[DP_PORT_MAX];
	struct mnl_socket *req; /**< requests and dumps, synchronous */
	struct mnl_socket *mon; /**< RTNLGRP_IPV4_IFADDR notifications, non-blocking */
	uint32_t seq;
	uint32_t held[DP_PORT_MAX][CFG_MAX_HELD];
	unsigned int n_held[DP_PORT_MAX];
	bool dirty[DP_PORT_MAX], resync;
	uint32_t announced[CFG_MAX_HELD]; /**< ha mode bgp: the /32s put on the ext TAP */
	unsigned int n_announced;
	int ready;	      /**< ha mode bgp: readiness at the last poll, -1 before the first */
	uint64_t announce_ns; /**< ha mode bgp: when announce_sync() last looked */
	int carrier[DP_PORT_MAX];	  /**< the carrier set on each TAP: 1, 0, -1 not yet */
	bool carrier_broken[DP_PORT_MAX]; /**< TUNSETCARRIER failed: said once, not tried again */
	uint64_t carrier_ns;		  /**< when carrier_sync() last looked */
} kp = {.tap = {-1, -1}, .ready = -1, .carrier = {-1, -1}};

/* ---- pure pieces (kernel_port.h) --------------------------------------------------------- */

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == IFA_LOCAL || type == IFA_ADDRESS) &&
	    mnl_attr_validate2(a, MNL_TYPE_BINARY, 4) < 0)
		return MNL_CB_OK; // not an IPv4 address: left out
	tb[type] = a;
	return MNL_CB_OK;
}

int kernel_addr_msg(const struct nlmsghdr *nlh, int *ifindex, uint32_t *addr)
{
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	uint32_t be;

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return 0;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return 0;
	memcpy(&be, mnl_attr_get_payload(a), sizeof(be));
	*addr = ntohl(be);
	*ifindex = (int)ifa->ifa_index;
	return nlh->nlmsg_type == RTM_NEWADDR ? 1 : -1;
}

bool kernel_held_apply(uint32_t *set, unsigned int *n, unsigned int max, uint32_t addr, bool add)
{
	unsigned int i = 0;

	while (i < *n && set[i] < addr)
		i++;
	if (i < *n && set[i] == addr) {
		if (add)
			return false;
		memmove(&set[i], &set[i + 1], (*n - i - 1) * sizeof(*set));
		(*n)--;
		return true;
	}
	if (!add || *n >= max)
		return false;
	memmove(&set[i + 1], &set[i], (*n - i) * sizeof(*set));
	set[i] = addr;
	(*n)++;
	return true;
}

void kernel_set_diff(const uint32_t *want, unsigned int n_want, const uint32_t *have,
		     unsigned int n_have, uint32_t *add, unsigned int *n_add, uint32_t *del,
		     unsigned int *n_del)
{
	unsigned int i = 0, j = 0;

	*n_add = *n_del = 0;
	while (i < n_want || j < n_have) {
		if (j == n_have || (i < n_want && want[i] < have[j]))
			add[(*n_add)++] = want[i++];
		else if (i == n_want || have[j] < want[i])
			del[(*n_del)++] = have[j++];
		else
			i++, j++;
	}
}

int kernel_carrier_next(int carrier, int link_rc, bool link_up)
{
	if (link_rc < 0 || carrier == (int)link_up)
		return -1;
	return link_up ? 1 : 0;
}

int kernel_tap_set_carrier(int fd, bool on)
{
	int v = on;

	return ioctl(fd, TUNSETCARRIER, &v) < 0 ? -errno : 0;
}

/* ---- rtnetlink --------------------------------------------------------------------------- */

/* Send @p nlh on the request socket and read up to its ack (or the end of a dump), giving
 * each message to @p cb. @return 0 or -errno (the kernel's NLMSG_ERROR). */
static int nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(kp.req);
	ssize_t r;
	int rc;

	nlh->nlmsg_seq = ++kp.seq;
	if (mnl_socket_sendto(kp.req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		r = mnl_socket_recvfrom(kp.req, buf, sizeof(buf));
		if (r < 0)
			return -errno;
		rc = mnl_cb_run(buf, (size_t)r, kp.seq, portid, cb, data);
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

static int link_up(int ifindex, const struct rte_ether_addr *mac)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put(nlh, IFLA_ADDRESS, RTE_ETHER_ADDR_LEN, mac->addr_bytes);
	return nl_talk(nlh, NULL, NULL);
}

/* Add (RTM_NEWADDR) or remove (RTM_DELADDR) address @p c of interface @p ifindex. */
static int addr_req(uint16_t type, int ifindex, const struct cfg_cidr *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	uint32_t be = htonl(c->addr);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = c->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, be);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
	return nl_talk(nlh, NULL, NULL);
}

static int addr_add(int ifindex, const struct cfg_cidr *c)
{
	return addr_req(RTM_NEWADDR, ifindex, c);
}

/* One address message: into the held set of the arm whose TAP it is about. */
static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	uint32_t addr;
	int ifindex, op = kernel_addr_msg(nlh, &ifindex, &addr);

	(void)data;
	if (op == 0)
		return MNL_CB_OK;
	for (unsigned int p = 0; p < DP_PORT_MAX; p++)
		if (kp.tap[p] >= 0 && kp.ifindex[p] == ifindex &&
		    kernel_held_apply(kp.held[p], &kp.n_held[p], CFG_MAX_HELD, addr, op > 0))
			kp.dirty[p] = true;
	return MNL_CB_OK;
}

/* Forget the held sets and read them again from a dump of every IPv4 address. */
static int resync(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	for (unsigned int p = 0; p < DP_PORT_MAX; p++) {
		kp.n_held[p] = 0;
		kp.dirty[p] = true;
	}
	kp.resync = false;
	return nl_talk(nlh, addr_cb, NULL);
}

/* Hand the changed held sets to the tables (cp_state_set_held()). */
static void publish_held(void)
{
	for (unsigned int p = 0; p < DP_PORT_MAX; p++) {
		if (!kp.dirty[p] || kp.tap[p] < 0)
			continue;
		if (cp_state_set_held(p, kp.held[p], kp.n_held[p]) > 0)
			CP_LOG(INFO, "kernel port %s: %u addresses", p == 0 ? "ext" : "int",
			       kp.n_held[p]);
		kp.dirty[p] = false;
	}
}

/* ---- ha mode bgp: the announced addresses ----------------------------------------------- */

static bool port_own(const struct cfg_port *p, uint32_t addr)
{
	for (unsigned int i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].addr == addr)
			return true;
	return false;
}

#define ANNOUNCE_PERIOD_NS (100 * 1000 * 1000ULL) /**< announce_sync() at most this often */

/* Put the mapping addresses on the ext TAP while ready, take them off when not; every
 * ANNOUNCE_PERIOD_NS (the control loop turns every millisecond or so, readiness follows the
 * snapshot, refreshed every second). */
static void announce_sync(void)
{
	const struct cfg *c = cp_config();
	uint32_t want[CFG_MAX_HELD], add[CFG_MAX_HELD], del[CFG_MAX_HELD];
	unsigned int n_want = 0, n_add, n_del, n;
	uint64_t now = cp_snap_now_ns();
	char why[256], ab[16];
	bool ready;
	int rc;

	if (c->ha_mode != CFG_HA_BGP || kp.tap[DP_PORT_EXT] < 0 ||
	    (kp.ready >= 0 && now - kp.announce_ns < ANNOUNCE_PERIOD_NS))
		return;
	kp.announce_ns = now;
	ready = cp_metrics_ready(why, sizeof(why));
	n = ready ? cp_mapping_count() : 0;
	for (unsigned int i = 0; i < n; i++) {
		const struct cfg_mapping *m = cp_mapping_at(i, NULL);
		for (unsigned int k = 0; m && k < m->n_addrs; k++)
			if (!port_own(&c->ext, m->addrs[k]))
				kernel_held_apply(want, &n_want, CFG_MAX_HELD, m->addrs[k], true);
	}
	if (ready && kp.ready != 1)
		CP_LOG(INFO, "ha bgp: ready, announcing %u mapping addresses", n_want);
	else if (!ready && kp.ready != 0)
		CP_LOG(INFO, "ha bgp: not ready (%s), withdrawing the mapping addresses", why);
	kp.ready = ready;
	kernel_set_diff(want, n_want, kp.announced, kp.n_announced, add, &n_add, del, &n_del);
	for (unsigned int i = 0; i < n_del; i++) {
		struct cfg_cidr a = {.addr = del[i], .len = 32};
		if ((rc = addr_req(RTM_DELADDR, kp.ifindex[DP_PORT_EXT], &a)) < 0 &&
		    rc != -EADDRNOTAVAIL)
			CP_LOG(WARNING, "ha bgp: cannot remove %s/32 from the ext TAP: %s",
			       cfg_ipv4_str(del[i], ab), strerror(-rc));
		kernel_held_apply(kp.announced, &kp.n_announced, CFG_MAX_HELD, del[i], false);
	}
	for (unsigned int i = 0; i < n_add; i++) {
		struct cfg_cidr a = {.addr = add[i], .len = 32};
		if ((rc = addr_add(kp.ifindex[DP_PORT_EXT], &a)) < 0) {
			CP_LOG(WARNING, "ha bgp: cannot add %s/32 to the ext TAP: %s",
			       cfg_ipv4_str(add[i], ab), strerror(-rc));
			continue; // tried again at the next poll
		}
		kernel_held_apply(kp.announced, &kp.n_announced, CFG_MAX_HELD, add[i], true);
	}
}

/* ---- the carrier ------------------------------------------------------------------------- */

#define CARRIER_PERIOD_NS (100 * 1000 * 1000ULL) /**< carrier_sync() at most this often */

/* Set each TAP's carrier from its port's link, every CARRIER_PERIOD_NS: the link as
 * rte_eth_link_get_nowait() reads it (as the snapshot does for /readyz and `show ports`, but
 * that one is refreshed only every second), a change logged once. */
static void carrier_sync(void)
{
	uint64_t now = cp_snap_now_ns();

	if (kp.carrier_ns && now - kp.carrier_ns < CARRIER_PERIOD_NS)
		return;
	kp.carrier_ns = now;
	for (unsigned int p = 0; p < DP_PORT_MAX; p++) {
		struct rte_eth_link link;
		int rc, next;

		if (kp.tap[p] < 0 || kp.carrier_broken[p])
			continue;
		memset(&link, 0, sizeof(link));
		rc = rte_eth_link_get_nowait(dp_port_id((enum dp_port_role)p), &link);
		next = kernel_carrier_next(kp.carrier[p], rc, link.link_status == RTE_ETH_LINK_UP);
		if (next < 0)
			continue;
		if ((rc = kernel_tap_set_carrier(kp.tap[p], next)) < 0) {
			CP_LOG(WARNING,
			       "kernel port %s: cannot set the TAP's carrier (TUNSETCARRIER, Linux "
			       "5.0): %s; it stays on whatever the port's link",
			       p ? "int" : "ext", strerror(-rc));
			kp.carrier_broken[p] = true;
			continue;
		}
		CP_LOG(INFO, "kernel port %s: port link %s, TAP carrier %s", p ? "int" : "ext",
		       next ? "up" : "down", next ? "on" : "off");
		kp.carrier[p] = next;
	}
}

/* ---- the TAPs ---------------------------------------------------------------------------- */

static void ipv6_off(const char *name)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	f = fopen(path, "w");
	if (f) { // no IPv6 in the kernel: nothing to turn off
		fputs("1\n", f);
		fclose(f);
	}
}

static int tap_open(unsigned int p, const struct cfg *c, const struct cfg_port *cp, char *err,
		    size_t errlen)
{
	struct ifreq ifr = {0};
	int fd, rc;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "ports.%s.kernel.tap: /dev/net/tun: %s", p ? "int" : "ext",
			 strerror(errno));
		return rc;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cp->kernel_tap);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "ports.%s.kernel.tap: %s: %s", p ? "int" : "ext",
			 cp->kernel_tap, strerror(errno));
		close(fd);
		return rc;
	}
	kp.tap[p] = fd;
	kp.ifindex[p] = (int)if_nametoindex(cp->kernel_tap);
	ipv6_off(cp->kernel_tap);
	if ((rc = link_up(kp.ifindex[p], dp_port_mac((enum dp_port_role)p))) < 0) {
		snprintf(err, errlen, "ports.%s.kernel.tap: %s: cannot set its MAC and up: %s",
			 p ? "int" : "ext", cp->kernel_tap, strerror(-rc));
		return rc;
	}
	// In ha mode vrrp the gated addresses are keepalived's to add (cfg_ha_gated()).
	for (unsigned int i = 0; i < cp->n_addrs; i++) {
		if (cfg_ha_gated(c, cp, cp->addrs[i].addr, false))
			continue;
		if ((rc = addr_add(kp.ifindex[p], &cp->addrs[i])) < 0) {
			char ab[16];
			snprintf(err, errlen, "ports.%s.kernel.tap: %s: cannot add %s/%u: %s",
				 p ? "int" : "ext", cp->kernel_tap,
				 cfg_ipv4_str(cp->addrs[i].addr, ab), cp->addrs[i].len,
				 strerror(-rc));
			return rc;
		}
	}
	dp_kernel_attach((uint8_t)p, fd);
	CP_LOG(INFO, "kernel port %s: TAP %s (ifindex %d)", p ? "int" : "ext", cp->kernel_tap,
	       kp.ifindex[p]);
	return 0;
}

static void kernel_fini(void)
{
	dp_kernel_stop(); // before the descriptors go
	for (unsigned int p = 0; p < DP_PORT_MAX; p++) {
		if (kp.tap[p] < 0)
			continue;
		dp_kernel_attach((uint8_t)p, -1);
		close(kp.tap[p]); // the TAP goes with its last descriptor
		kp.tap[p] = -1;
		kp.carrier[p] = -1;
		kp.carrier_broken[p] = false;
	}
	if (kp.mon)
		mnl_socket_close(kp.mon);
	if (kp.req)
		mnl_socket_close(kp.req);
	kp.mon = kp.req = NULL;
}

static int kernel_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg *c = cp_config();
	const struct cfg_port *arms[DP_PORT_MAX] = {&c->ext, &c->intl};
	int rc;

	(void)ctx;
	if (!c->ext.kernel_tap[0] && !c->intl.kernel_tap[0])
		return 0;
	kp.req = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	kp.mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!kp.req || !kp.mon || mnl_socket_bind(kp.req, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(kp.mon, RTMGRP_IPV4_IFADDR, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		snprintf(err, errlen, "kernel ports: rtnetlink: %s", strerror(errno));
		goto fail;
	}
	for (unsigned int p = 0; p < DP_PORT_MAX; p++)
		if (arms[p]->kernel_tap[0] && (rc = tap_open(p, c, arms[p], err, errlen)) < 0)
			goto fail;
	if ((rc = resync()) < 0) {
		snprintf(err, errlen, "kernel ports: address dump: %s", strerror(-rc));
		goto fail;
	}
	publish_held();
	carrier_sync();
	if ((rc = dp_kernel_start(err, errlen)) < 0)
		goto fail;
	return 0;
fail:
	kernel_fini();
	return rc == -EINVAL ? -EIO : rc; // not a config error: exit code 1
}

static void kernel_poll(int wait_ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t r;

	(void)wait_ms;
	if (!kp.mon)
		return;
	cp_loop_step("kernel: address notifications");
	while ((r = mnl_socket_recvfrom(kp.mon, buf, sizeof(buf))) > 0)
		mnl_cb_run(buf, (size_t)r, 0, 0, addr_cb, NULL);
	if (r < 0 && errno == ENOBUFS)
		kp.resync = true; // notifications were lost: read the whole state again
	cp_loop_step("kernel: address dump");
	if (kp.resync && resync() < 0)
		kp.resync = true;
	cp_loop_step("kernel: announce");
	announce_sync();
	cp_loop_step("kernel: carrier");
	carrier_sync();
	cp_loop_step("kernel: publish held addresses");
	publish_held();
}

static struct cp_module kernel_module = {
	.name = "kernel",
	.order = CP_MOD_KERNEL,
	.init = kernel_init,
	.poll = kernel_poll,
	.fini = kernel_fini,
};
CP_MODULE_REGISTER(kernel_module)
