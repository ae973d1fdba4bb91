/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the unit tests that build tables share: EAL without hugepages, PCI or a shared config
 * (--no-huge implies legacy memory, which --in-memory refuses: --no-shconf instead), on lcore 0
 * with 128 MB; and the two arms' addresses and default timeouts of a small struct cfg.
 */
#ifndef STRAIT_TESTS_EAL_FIXTURE_H
#define STRAIT_TESTS_EAL_FIXTURE_H

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>

#include <strait/config.h>
#include <strait/tables.h>

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

/** EAL as @p prog, then t_tables_cfg(@p c): a cmocka group setup's body. @return 0 or -1. */
static inline int t_tables_setup(const char *prog, struct cfg *c)
{
	if (t_eal_init(prog) < 0)
		return -1;
	t_tables_cfg(c);
	return 0;
}

/** Unpublish the tables and stop EAL: a cmocka group teardown's body. @return 0. */
static inline int t_tables_teardown(void)
{
	tables_publish(NULL, NULL);
	rte_eal_cleanup();
	return 0;
}

/** Stable counter slots by mapping name, as cp/state.c gives them (64 names at most). */
static inline int t_slot_by_name(const char *name)
{
	static char names[64][CFG_NAME_MAX];
	static int n;

	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	snprintf(names[n], CFG_NAME_MAX, "%s", name);
	return n++;
}

#endif
