/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path, control-plane half (cp/kernel_port.c, docs/ha.md), without a
 * TAP or root: its config keys (ports.X.kernel.tap, ha.mode) and their messages, the
 * rtnetlink address messages it follows (built here with libmnl as the kernel sends them),
 * the held set, and what the tables serve from it: in ha mode vrrp a mapping address or a
 * port's second address only while the TAP holds it, in any mode what the TAP holds besides;
 * and the TAP's carrier, which follows the port's link: the decision, and TUNSETCARRIER on a
 * real TAP when the test may create one (root, /dev/net/tun; skipped otherwise).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>

#include <rte_eal.h>

#include <strait/config.h>
#include <strait/tables.h>

#include "eal_fixture.h"
#include "kernel_port.h"

#define PORTS "ports:\n  ext: {device: net_af_packet0, addresses: [198.51.100.2/24]"

static char err[512];

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static void expect_error(const char *yaml, const char *msg)
{
	struct cfg c;

	err[0] = '\0';
	assert_int_equal(cfg_load_string("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, msg);
}

static void config_keys_and_their_errors(void **state)
{
	(void)state;
	static const char ok[] = PORTS ", kernel: {tap: strait-ext}}\n"
				       "  int: {device: net_af_packet1, addresses: [10.0.0.2/24], "
				       "kernel: {tap: strait-int}}\n"
				       "ha: {mode: vrrp}\n";
	struct cfg c;

	assert_int_equal(cfg_load_string("t.yaml", ok, strlen(ok), &c, err, sizeof(err)), 0);
	assert_string_equal(c.ext.kernel_tap, "strait-ext");
	assert_string_equal(c.intl.kernel_tap, "strait-int");
	assert_int_equal(c.ha_mode, CFG_HA_VRRP);
	cfg_free(&c);
	assert_int_equal(
		cfg_load_string("t.yaml", PORTS "}\n", strlen(PORTS "}\n"), &c, err, sizeof(err)),
		0);
	assert_string_equal(c.ext.kernel_tap, "");
	assert_int_equal(c.ha_mode, CFG_HA_NONE);
	cfg_free(&c);

	expect_error(PORTS ", kernel: {tap: a/b}}\n",
		     "t.yaml:2: ports.ext.kernel.tap: \"a/b\" is not an interface name (1 to 15 "
		     "bytes, no '/', ':' or space)");
	expect_error(PORTS ", kernel: {tap: \"\"}}\n",
		     "t.yaml:2: ports.ext.kernel.tap: \"\" is not an interface name (1 to 15 "
		     "bytes, no '/', ':' or space)");
	expect_error(PORTS ", kernel: {name: x}}\n",
		     "t.yaml:2: ports.ext.kernel: unknown key \"name\"");
	expect_error(PORTS ", kernel: {tap: sixteen-bytes-xx}}\n",
		     "t.yaml:2: ports.ext.kernel.tap: longer than 15 bytes");
	expect_error(PORTS ", kernel: {tap: k}}\n"
			   "  int: {device: net_af_packet1, addresses: [10.0.0.2/24], "
			   "kernel: {tap: k}}\n",
		     "t.yaml:3: ports.int.kernel.tap: \"k\" is ports.ext's TAP too");
	expect_error(PORTS "}\nha: {mode: vrrp}\n",
		     "t.yaml:3: ha.mode: vrrp needs ports.ext.kernel.tap: the mapping addresses "
		     "are served while that TAP holds them");
	expect_error(PORTS "}\nha: {mode: carp}\n",
		     "t.yaml:3: ha.mode: \"carp\" is not one of none, vrrp, bgp");
	expect_error(PORTS "}\nha: {mode: bgp}\n",
		     "t.yaml:3: ha.mode: bgp needs ports.ext.kernel.tap: the mapping addresses are "
		     "put on that TAP for BIRD to announce");
}

/* ha.drainSeconds: how long a stop withdraws and forwards first (mode bgp only). */
static void drain_seconds_are_bounded_and_bgp_only(void **state)
{
	(void)state;
	static const char bgp[] = PORTS ", kernel: {tap: strait-ext}}\nha: {mode: bgp}\n";
	static const char bgp5[] =
		PORTS ", kernel: {tap: strait-ext}}\nha: {mode: bgp, drainSeconds: 5}\n";
	struct cfg c;

	assert_int_equal(cfg_load_string("t.yaml", bgp, strlen(bgp), &c, err, sizeof(err)), 0);
	assert_int_equal(c.ha_drain_s, CFG_HA_DRAIN_DEFAULT);
	cfg_free(&c);
	assert_int_equal(cfg_load_string("t.yaml", bgp5, strlen(bgp5), &c, err, sizeof(err)), 0);
	assert_int_equal(c.ha_drain_s, 5);
	cfg_free(&c);
	expect_error(PORTS ", kernel: {tap: strait-ext}}\nha: {mode: bgp, drainSeconds: 301}\n",
		     "t.yaml:3: ha.drainSeconds: 301 is out of range 0-300");
	expect_error(PORTS ", kernel: {tap: strait-ext}}\nha: {mode: vrrp, drainSeconds: 1}\n",
		     "t.yaml:3: ha.drainSeconds: only with mode bgp: a drain withdraws the "
		     "announced addresses");
}

/* ha mode bgp without an int TAP: every gateway serves everything (nothing gated; with an int
 * TAP its int SNAT addresses but the first are: ha_gate_test.c); what it announces is the
 * kernel port's business (kernel_set_diff()). */
static void bgp_mode_is_parsed_and_gates_nothing(void **state)
{
	(void)state;
	static const char bgp[] =
		PORTS ", gateway: 198.51.100.254, kernel: {tap: strait-ext}}\n"
		      "  int: {device: net_af_packet1, addresses: [10.0.0.3/24, "
		      "10.0.0.5/24]}\n"
		      "ha: {mode: bgp}\n"
		      "mappings:\n"
		      "- {name: web, addresses: [192.0.2.1], ports: [{port: 80}], "
		      "backends: [{address: 10.0.0.11}]}\n";
	struct cfg c;

	assert_int_equal(cfg_load_string("t.yaml", bgp, strlen(bgp), &c, err, sizeof(err)), 0);
	assert_int_equal(c.ha_mode, CFG_HA_BGP);
	assert_false(cfg_ha_gated(&c, &c.ext, ip("192.0.2.1"), true));
	assert_false(cfg_ha_gated(&c, &c.intl, ip("10.0.0.5"), false));
	cfg_free(&c);
}

/* An address message as the kernel sends it (ip addr add/del, keepalived). */
static struct nlmsghdr *addr_msg(char *buf, uint16_t type, uint8_t family, uint32_t ifindex,
				 const char *addr, uint16_t attr)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	nlh->nlmsg_type = type;
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_index = ifindex;
	if (family == AF_INET)
		mnl_attr_put_u32(nlh, attr, htonl(ip(addr)));
	else
		mnl_attr_put(nlh, attr, 16, "0123456789abcdef");
	return nlh;
}

static void address_messages_are_read(void **state)
{
	(void)state;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t a = 0;
	int ifi = 0;

	assert_int_equal(
		kernel_addr_msg(addr_msg(buf, RTM_NEWADDR, AF_INET, 7, "198.51.100.1", IFA_LOCAL),
				&ifi, &a),
		1);
	assert_int_equal(ifi, 7);
	assert_int_equal(a, ip("198.51.100.1"));
	assert_int_equal(
		kernel_addr_msg(addr_msg(buf, RTM_DELADDR, AF_INET, 8, "10.0.0.1", IFA_ADDRESS),
				&ifi, &a),
		-1);
	assert_int_equal(ifi, 8);
	assert_int_equal(a, ip("10.0.0.1"));
	assert_int_equal(kernel_addr_msg(addr_msg(buf, RTM_NEWADDR, AF_INET6, 7, NULL, IFA_ADDRESS),
					 &ifi, &a),
			 0);
	assert_int_equal(
		kernel_addr_msg(addr_msg(buf, RTM_NEWLINK, AF_INET, 7, "10.0.0.1", IFA_LOCAL), &ifi,
				&a),
		0);
}

static void held_set_stays_sorted_and_bounded(void **state)
{
	(void)state;
	uint32_t set[3];
	unsigned int n = 0;

	assert_true(kernel_held_apply(set, &n, 3, 30, true));
	assert_true(kernel_held_apply(set, &n, 3, 10, true));
	assert_false(kernel_held_apply(set, &n, 3, 10, true));
	assert_true(kernel_held_apply(set, &n, 3, 20, true));
	assert_false(kernel_held_apply(set, &n, 3, 40, true)); /* full */
	assert_int_equal(n, 3);
	assert_int_equal(set[0], 10);
	assert_int_equal(set[1], 20);
	assert_int_equal(set[2], 30);
	assert_true(kernel_held_apply(set, &n, 3, 20, false));
	assert_false(kernel_held_apply(set, &n, 3, 20, false));
	assert_int_equal(n, 2);
	assert_int_equal(set[1], 30);
}

/* The /32s to put on or take off the ext TAP in ha mode bgp. */
static void announce_diff_adds_and_removes(void **state)
{
	(void)state;
	const uint32_t want[] = {10, 20, 40}, have[] = {20, 30, 50};
	uint32_t add[3], del[3];
	unsigned int n_add = 99, n_del = 99;

	kernel_set_diff(want, 3, have, 3, add, &n_add, del, &n_del);
	assert_int_equal(n_add, 2);
	assert_int_equal(add[0], 10);
	assert_int_equal(add[1], 40);
	assert_int_equal(n_del, 2);
	assert_int_equal(del[0], 30);
	assert_int_equal(del[1], 50);
	/* not ready: want nothing, so all that was announced goes */
	kernel_set_diff(want, 0, have, 3, add, &n_add, del, &n_del);
	assert_int_equal(n_add, 0);
	assert_int_equal(n_del, 3);
	assert_int_equal(del[2], 50);
	/* ready again, nothing announced yet: all of it */
	kernel_set_diff(want, 3, have, 0, add, &n_add, del, &n_del);
	assert_int_equal(n_add, 3);
	assert_int_equal(n_del, 0);
	assert_int_equal(add[2], 40);
	kernel_set_diff(want, 3, want, 3, add, &n_add, del, &n_del);
	assert_int_equal(n_add + n_del, 0);
}

/* ---- the tables --------------------------------------------------------------------------- */

static struct cfg cfg;
static struct cfg_mapping map;
static struct cfg_backend be1 = {.weight = 1};

static int slot_of(const char *ns, const char *name)
{
	(void)ns, (void)name;
	return 0;
}

static struct tables *build(void)
{
	const struct cfg_mapping *p = &map;
	struct tables *t = tables_build(&cfg, &p, 1, slot_of, 1, err, sizeof(err));

	if (!t)
		fail_msg("tables_build: %s", err);
	return t;
}

static int tables_setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	/* ext: own .2, a second (gated) .10; int: own 10.0.0.2, the SNAT VIP 10.0.0.1 */
	cfg.ext.addrs[0] = (struct cfg_cidr){ip("198.51.100.2"), 24};
	cfg.ext.addrs[1] = (struct cfg_cidr){ip("198.51.100.10"), 24};
	cfg.ext.n_addrs = 2;
	snprintf(cfg.ext.kernel_tap, sizeof(cfg.ext.kernel_tap), "strait-ext");
	cfg.intl.addrs[0] = (struct cfg_cidr){ip("10.0.0.2"), 24};
	cfg.intl.addrs[1] = (struct cfg_cidr){ip("10.0.0.1"), 24};
	cfg.intl.n_addrs = 2;
	cfg.intl.snat[0] = ip("10.0.0.1");
	cfg.intl.n_snat = 1;
	cfg.timeouts = (struct cfg_timeouts){300, 7440, 240, 120};
	memset(&map, 0, sizeof(map));
	snprintf(map.name, sizeof(map.name), "web");
	map.addrs[0] = ip("198.51.100.1");
	map.n_addrs = 1;
	map.ports[0] = (struct cfg_map_port){.port = 80, .end_port = 80, .proto = IPPROTO_TCP};
	map.n_ports = 1;
	be1.addr = ip("10.0.0.11");
	map.backends = &be1;
	map.n_backends = 1;
	map.ordinal = -1;
	return 0;
}

static bool vip(const struct tables *t, const char *a)
{
	return tables_is_vip(t, rte_cpu_to_be_32(ip(a)));
}

static bool local(const struct tables *t, unsigned int port, const char *a)
{
	return tables_is_local(t, port, rte_cpu_to_be_32(ip(a)));
}

/* The standby: only the gateway's own addresses; the master: the VIPs too. */
static void vrrp_serves_vips_only_while_the_tap_holds_them(void **state)
{
	(void)state;
	cfg.ha_mode = CFG_HA_VRRP;
	struct tables *t = build();
	assert_int_equal(t->kernel_ports, 1u << DP_PORT_EXT);
	assert_true(vip(t, "198.51.100.2"));
	assert_false(vip(t, "198.51.100.1")); /* the mapping's */
	assert_false(vip(t, "198.51.100.10"));
	assert_true(local(t, DP_PORT_INT, "10.0.0.2"));
	assert_false(local(t, DP_PORT_INT, "10.0.0.1"));
	assert_int_equal(t->n_snat, 1); /* the own address stands in, not the VIP */
	assert_int_equal(t->snat_addrs[0], rte_cpu_to_be_32(ip("10.0.0.2")));
	/* the prefixes stay on their arms whoever serves the addresses */
	assert_non_null(tables_route(t, ip("10.0.0.77")));
	tables_free(t);

	/* keepalived made this gateway master: the TAPs hold the VIPs */
	cfg.ext.held[0] = ip("198.51.100.1");
	cfg.ext.n_held = 1;
	cfg.intl.held[0] = ip("10.0.0.1");
	cfg.intl.held[1] = ip("10.0.0.2");
	cfg.intl.n_held = 2;
	t = build();
	assert_true(vip(t, "198.51.100.1"));
	assert_false(vip(t, "198.51.100.10"));
	assert_true(local(t, DP_PORT_INT, "10.0.0.1"));
	assert_int_equal(t->n_snat, 1);
	assert_int_equal(t->snat_addrs[0], rte_cpu_to_be_32(ip("10.0.0.1")));
	assert_int_equal(t->n_addrs[DP_PORT_INT], 2);
	tables_free(t);
}

/* Without ha: every configured address served, and what the TAP holds besides. */
static void held_addresses_are_served_in_any_mode(void **state)
{
	(void)state;
	struct tables *t = build();
	assert_true(vip(t, "198.51.100.1"));
	assert_true(vip(t, "198.51.100.10"));
	assert_false(vip(t, "198.51.100.77"));
	assert_int_equal(t->snat_addrs[0], rte_cpu_to_be_32(ip("10.0.0.1")));
	tables_free(t);
	cfg.ext.held[0] = ip("198.51.100.77");
	cfg.ext.n_held = 1;
	t = build();
	assert_true(vip(t, "198.51.100.77"));
	assert_true(local(t, DP_PORT_EXT, "198.51.100.77"));
	assert_int_equal(t->n_addrs[DP_PORT_EXT], 3);
	tables_free(t);
}

/* The carrier follows the link: set at the first look whatever it is, then only on a change,
 * and left alone while the link cannot be read. */
static void carrier_follows_the_link(void **state)
{
	(void)state;
	assert_int_equal(kernel_carrier_next(-1, 0, true), 1);
	assert_int_equal(kernel_carrier_next(-1, 0, false), 0);
	assert_int_equal(kernel_carrier_next(1, 0, true), -1);
	assert_int_equal(kernel_carrier_next(1, 0, false), 0);
	assert_int_equal(kernel_carrier_next(0, 0, false), -1);
	assert_int_equal(kernel_carrier_next(0, 0, true), 1);
	assert_int_equal(kernel_carrier_next(1, -ENODEV, false), -1);
	assert_int_equal(kernel_carrier_next(0, -ENOTSUP, true), -1);
	assert_int_equal(kernel_carrier_next(-1, -ENODEV, true), -1);
}

/* /sys/class/net/@p name/carrier: 0 or 1 (the interface is up), -1 when unreadable. */
static int sys_carrier(const char *name)
{
	char path[96];
	int v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* TUNSETCARRIER on a real TAP (transient: gone with its descriptor), read back from sysfs as
 * keepalived's netlink would see it; and the error of a descriptor with no TAP attached. */
static void tap_carrier_is_set(void **state)
{
	(void)state;
	struct ifreq ifr = {0};
	char name[IFNAMSIZ], path[96];
	int fd, s;
	FILE *f;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		skip(); // no /dev/net/tun here
	assert_int_equal(kernel_tap_set_carrier(fd, false), -EBADFD);
	snprintf(name, sizeof(name), "stc%d", (int)getpid());
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		skip(); // not root (CAP_NET_ADMIN)
	}
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	if ((f = fopen(path, "w"))) { // quiet: no router solicitation on it
		fputs("1\n", f);
		fclose(f);
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);

	assert_int_equal(sys_carrier(name), 1); // a TAP has carrier while held open
	assert_int_equal(kernel_tap_set_carrier(fd, false), 0);
	assert_int_equal(sys_carrier(name), 0);
	assert_int_equal(kernel_tap_set_carrier(fd, false), 0); // idempotent
	assert_int_equal(sys_carrier(name), 0);
	assert_int_equal(kernel_tap_set_carrier(fd, true), 0);
	assert_int_equal(sys_carrier(name), 1);
	close(fd);
}

static int group_setup(void **state)
{
	(void)state;
	return t_eal_init("kernel_port_test");
}

static int group_teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_keys_and_their_errors),
		cmocka_unit_test(drain_seconds_are_bounded_and_bgp_only),
		cmocka_unit_test(address_messages_are_read),
		cmocka_unit_test(held_set_stays_sorted_and_bounded),
		cmocka_unit_test(bgp_mode_is_parsed_and_gates_nothing),
		cmocka_unit_test(announce_diff_adds_and_removes),
		cmocka_unit_test(carrier_follows_the_link),
		cmocka_unit_test(tap_carrier_is_set),
		cmocka_unit_test_setup(vrrp_serves_vips_only_while_the_tap_holds_them,
				       tables_setup),
		cmocka_unit_test_setup(held_addresses_are_served_in_any_mode, tables_setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
