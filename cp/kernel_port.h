/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel exception path, control-plane half (kernel_port.c): the pure pieces that the
 * unit test reaches without a TAP or root (kernel_port_test.c).
 */
#ifndef STRAIT_CP_KERNEL_PORT_H
#define STRAIT_CP_KERNEL_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct nlmsghdr;

/**
 * Read an rtnetlink address message (RTM_NEWADDR or RTM_DELADDR, rtnetlink(7)): an IPv4
 * address (IFA_LOCAL, else IFA_ADDRESS) of interface *@p ifindex.
 * @param addr receives the address, host order.
 * @return 1 (added), -1 (removed), 0 (another message, family or a malformed one: ignore).
 * Any thread.
 */
int kernel_addr_msg(const struct nlmsghdr *nlh, int *ifindex, uint32_t *addr);

/**
 * Add (@p add) or remove host-order @p addr in the set @p set of *@p n addresses, kept sorted
 * and at most @p max long (an address past that is not added).
 * @return whether the set changed. Any thread.
 */
bool kernel_held_apply(uint32_t *set, unsigned int *n, unsigned int max, uint32_t addr, bool add);

/**
 * The difference of two sorted sets of host-order addresses (kernel_held_apply()'s): into
 * @p add (*@p n_add) those of @p want that @p have lacks, into @p del (*@p n_del) those of
 * @p have that @p want lacks; each output has room for as many as its source. In ha mode
 * bgp, @p want is the mapping addresses while strait is ready (none otherwise) and @p have
 * those it has put on the ext TAP. Any thread.
 */
void kernel_set_diff(const uint32_t *want, unsigned int n_want, const uint32_t *have,
		     unsigned int n_have, uint32_t *add, unsigned int *n_add, uint32_t *del,
		     unsigned int *n_del);

/**
 * What to do with a TAP's carrier after reading its port's link (docs/ha.md, VRRP section):
 * the carrier follows the link, so that keepalived on the TAP sees a link loss (NO-CARRIER,
 * operstate LOWER_LAYER_DOWN: a fault) as it would on a kernel-driven port.
 * @param carrier the carrier last set: 1 on, 0 off, -1 not set yet (then it is set either way,
 *        to know where it stands).
 * @param link_rc rte_eth_link_get_nowait()'s return: 0, or a negative errno when the link is
 *        not known (then nothing changes).
 * @param link_up the link status read (RTE_ETH_LINK_UP), meaningful when @p link_rc is 0.
 * @return 1 (set the carrier on), 0 (set it off) or -1 (leave it). Any thread.
 */
int kernel_carrier_next(int carrier, int link_rc, bool link_up);

/**
 * Set the carrier of the TAP whose /dev/net/tun descriptor is @p fd: TUNSETCARRIER (Linux
 * 5.0, drivers/net/tun.c), netif_carrier_on() / netif_carrier_off() on the interface.
 * @return 0, or -errno (-EINVAL from a kernel without TUNSETCARRIER, -EBADFD if @p fd is not
 * attached to an interface). Any thread.
 */
int kernel_tap_set_carrier(int fd, bool on);

#endif
