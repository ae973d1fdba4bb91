/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's one init list. Every module (the config and the data plane in main.c,
 * the desired state, the snapshot, the CLI, its socket, metrics, Kubernetes, the workers)
 * registers a struct cp_module from its own file with CP_MODULE_REGISTER (RTE_INIT, as grout
 * does), at a place of enum cp_module_order (the ordered list, as DPVS keeps one). main()
 * runs cp_modules_init(), which calls the hooks in that order and unwinds in reverse on a
 * failure; cp_modules_fini() unwinds the whole list. The registry calls modules only through
 * their hooks, and no module calls main.c: the control plane has no call circles.
 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <strait/log.h>

#include "cp_priv.h"

volatile sig_atomic_t cp_quit;
volatile sig_atomic_t cp_draining;

static struct cp_module *modules[CP_MOD_MAX];
static bool started[CP_MOD_MAX];

void cp_module_register(struct cp_module *m)
{
	assert(m->order < CP_MOD_MAX && !modules[m->order]);
	modules[m->order] = m;
}

void cp_request_quit(void)
{
	cp_quit = 1;
}

int cp_modules_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	err[0] = '\0';
	for (int i = 0; i < CP_MOD_MAX; i++) {
		struct cp_module *m = modules[i];
		int ret;

		if (!m || !m->init) {
			started[i] = m != NULL;
			continue;
		}
		ret = m->init(ctx, err, errlen);
		if (ret < 0) {
			// err may stay "": a hook that printed its own message (main.c's ports).
			CP_LOG(DEBUG, "init of module %s failed: %s", m->name, strerror(-ret));
			cp_modules_fini();
			return ret;
		}
		started[i] = true;
	}
	return 0;
}

void cp_modules_poll(int wait_ms)
{
	for (int i = 0; i < CP_MOD_MAX; i++)
		if (started[i] && modules[i]->poll)
			modules[i]->poll(wait_ms);
}

int cp_modules_reload(bool keep_going, char *err, size_t errlen)
{
	int first = 0;

	err[0] = '\0';
	for (int i = 0; i < CP_MOD_MAX; i++) {
		char e[512] = "";
		int ret;

		if (!started[i] || !modules[i]->reload)
			continue;
		ret = modules[i]->reload(e, sizeof(e));
		if (ret < 0 && !first) {
			first = ret;
			snprintf(err, errlen, "%s", e[0] ? e : strerror(-ret));
		}
		if (ret < 0 && !keep_going)
			break;
	}
	return first;
}

void cp_modules_fini(void)
{
	for (int i = CP_MOD_MAX - 1; i >= 0; i--) {
		if (!started[i])
			continue;
		started[i] = false;
		if (modules[i]->fini)
			modules[i]->fini();
	}
}
