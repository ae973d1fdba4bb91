/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the unit tests that build tables share: EAL without hugepages, PCI or a shared config
 * (--no-huge implies legacy memory, which --in-memory refuses: --no-shconf instead), on lcore 0
 * with 128 MB; and the two arms' addresses and default timeouts of a small struct cfg.
 */
#ifndef STRAIT_TESTS_EAL_FIXTURE_H
#define STRAIT_TESTS_EAL_FIXTURE_H

#include <arpa/inet.h>

#include <rte_eal.h>

#include <strait/config.h>

/** rte_eal_init() as the test program @p prog. @return 0, or -1 when EAL refused. */
static inline int t_eal_init(const char *prog)
{
	char *argv[] = {(char *)prog, "--no-huge", "--no-pci", "--no-shconf",	      "-m",
			"128",	      "-l",	   "0",	       "--log-level=*:error", NULL};
	return rte_eal_init(9, argv) < 0 ? -1 : 0;
}

/** ext 198.51.100.1/24, int 10.0.0.1/24, timeouts udp 300 s, tcp-est 7440 s, tcp-trans 240 s. */
static inline void t_tables_cfg(struct cfg *c)
{
	struct in_addr e, i;

	inet_pton(AF_INET, "198.51.100.1", &e);
	inet_pton(AF_INET, "10.0.0.1", &i);
	c->ext.addrs[0] = (struct cfg_cidr){ntohl(e.s_addr), 24};
	c->ext.n_addrs = 1;
	c->intl.addrs[0] = (struct cfg_cidr){ntohl(i.s_addr), 24};
	c->intl.n_addrs = 1;
	c->timeouts = (struct cfg_timeouts){300, 7440, 240};
}

#endif
