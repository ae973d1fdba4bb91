/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Management inputs of the control loop. Everything here runs on the control thread, between
 * two slow-path passes, and must not block for longer than the wait it is given.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <strait/cp.h>
#include <strait/log.h>

#include "cp_priv.h"

int cp_mgmt_init(const struct cp_args *a, char *err, size_t errlen)
{
	return cp_k8s_init(a, err, errlen);
}

void cp_mgmt_poll(int wait_ms)
{
	cp_k8s_poll();
	poll(NULL, 0, wait_ms);
}

void cp_mgmt_fini(void)
{
	cp_k8s_fini();
}

void cp_on_sighup(void)
{
	char err[512];

	if (cp_reload(err, sizeof(err)) < 0)
		CP_LOG(ERR, "reload: %s; keeping the running mappings", err);
	else
		CP_LOG(NOTICE, "reload: tables generation %lu", (unsigned long)cp_generation());
	cp_k8s_reload();
}
