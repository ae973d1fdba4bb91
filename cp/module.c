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
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The control loop's own stall watch: the slow path (the kernel path, ARP, ICMP) and every
 * module wait on one thread, so an iteration that takes CP_LOOP_SLOW_NS holds up all of them.
 * Each one over that is counted and logged (at most once a second) with its longest step: a
 * module's poll hook, or a finer step that the module names with cp_loop_step(). */
#define CP_LOOP_SLOW_NS 100000000ull

static struct {
	uint64_t last_end_ns, last_log_ns;
	const char *step;      /* the step running since step_ns */
	uint64_t step_ns;      /* when it began */
	const char *worst;     /* this iteration's longest step so far */
	uint64_t worst_ns;     /* and its length */
	uint64_t slow, max_ns; /* written here only; read by any thread (cp_loop_stats) */
} loop;

void cp_loop_stats(uint64_t *slow, uint64_t *max_ns)
{
	*slow = __atomic_load_n(&loop.slow, __ATOMIC_RELAXED);
	*max_ns = __atomic_load_n(&loop.max_ns, __ATOMIC_RELAXED);
}

void cp_loop_restart(void)
{
	loop.last_end_ns = loop.last_log_ns = 0;
	loop.step = loop.worst = NULL;
	loop.worst_ns = 0;
}

void cp_loop_step(const char *what)
{
	uint64_t now = mono_ns();

	if (loop.step && now - loop.step_ns > loop.worst_ns) {
		loop.worst_ns = now - loop.step_ns;
		loop.worst = loop.step;
	}
	loop.step = what;
	loop.step_ns = now;
}

void cp_modules_poll(int wait_ms)
{
	uint64_t end;

	for (int i = 0; i < CP_MOD_MAX; i++) {
		if (!started[i] || !modules[i]->poll)
			continue;
		cp_loop_step(modules[i]->name);
		modules[i]->poll(wait_ms);
	}
	cp_loop_step("outside the modules (slow path)");
	end = loop.step_ns;
	if (loop.last_end_ns) {
		uint64_t took = end - loop.last_end_ns;
		if (took > loop.max_ns)
			__atomic_store_n(&loop.max_ns, took, __ATOMIC_RELAXED);
		if (took >= CP_LOOP_SLOW_NS) {
			__atomic_store_n(&loop.slow, loop.slow + 1, __ATOMIC_RELAXED);
			if (end - loop.last_log_ns >= 1000000000ull) {
				loop.last_log_ns = end;
				CP_LOG(WARNING,
				       "control loop: one iteration took %" PRIu64
				       " ms, the longest step %s %" PRIu64 " ms",
				       took / 1000000, loop.worst ? loop.worst : "-",
				       loop.worst_ns / 1000000);
			}
		}
	}
	loop.last_end_ns = end;
	loop.worst = NULL;
	loop.worst_ns = 0;
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
