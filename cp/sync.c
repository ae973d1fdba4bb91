/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync, the control thread's module (ha.sync; docs/ha.md, "Session sync"): a UDP
 * socket bound to the gateway's own int address and the sync port, whose datagrams the kernel
 * routes through the int TAP and the exception path; every control loop pass it reads the
 * peers' datagrams (sync_ftfw.c: acks, resends, records passed to the owning workers), takes
 * the workers' session events from their rings and sends them batched, and runs the timers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <rte_random.h>

#include <strait/dp.h>
#include <strait/log.h>

#include "cp_priv.h"
#include "sync_cp.h"
#include "sync_ftfw.h"

#define SYNC_RX_PER_PASS 64   /**< datagrams read per control loop pass */
#define SYNC_EV_PER_PASS 1024 /**< events taken from each worker per pass */

static struct {
	bool on;
	int fd;
	uint16_t port;
	struct sync_ftfw f;
} sy = {.fd = -1};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int io_send(void *arg, uint32_t addr, const void *buf, size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET, .sin_port = htons(sy.port), .sin_addr.s_addr = htonl(addr)};

	(void)arg;
	return sendto(sy.fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0
		       ? -errno
		       : 0;
}

static void io_deliver(void *arg, const struct sync_rec *r)
{
	(void)arg;
	dp_sync_push(r, sy.f.c);
}

static void io_bulk(void *arg)
{
	struct sync_rec r = {.type = SYNC_REC_BULK};

	(void)arg;
	dp_sync_push(&r, sy.f.c);
}

void cp_sync_steer_key(const char *key, uint64_t out[2])
{
	for (int k = 0; k < 2; k++) {
		uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)k;
		for (const char *c = key; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		h ^= h >> 31;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
		out[k] = h;
	}
}

void cp_sync_counters(const uint64_t dp[SYNC_C_MAX], uint64_t out[SYNC_C_MAX])
{
	for (int i = 0; i < SYNC_C_MAX; i++)
		out[i] = dp[i] + (sy.on ? sy.f.c[i] : 0);
}

static int sync_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg *c = ctx->cfg;
	const struct cfg_ha_sync *s = &c->ha_sync;
	struct sync_io io = {.send = io_send, .deliver = io_deliver, .bulk = io_bulk};
	struct sockaddr_in me = {.sin_family = AF_INET};
	uint64_t key[2];
	int one = 1, rc;

	if (!s->enabled)
		return 0;
	if (s->key[0])
		cp_sync_steer_key(s->key, key);
	if ((rc = dp_sync_init(s->key[0] ? key : NULL, s->port)) < 0) {
		snprintf(err, errlen, "ha.sync: cannot allocate the workers' sync rings");
		return rc;
	}
	sy.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	me.sin_port = htons(s->port);
	me.sin_addr.s_addr = htonl(c->intl.addrs[0].addr);
	// FREEBIND: the address is on the int TAP, which the kernel module has just created.
	if (sy.fd < 0 || setsockopt(sy.fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
	    bind(sy.fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "ha.sync: cannot bind UDP %s:%u: %s", inet_ntoa(me.sin_addr),
			 s->port, strerror(errno));
		goto fail;
	}
	sy.port = s->port;
	if ((rc = sync_ftfw_init(&sy.f, (uint32_t)rte_rand() | 1u, (uint8_t)dp_n_workers(),
				 s->peers, s->n_peers, &io)) < 0) {
		snprintf(err, errlen, "ha.sync: out of memory");
		goto fail;
	}
	sy.on = true;
	CP_LOG(INFO, "session sync on %s:%u, %u peer(s)", inet_ntoa(me.sin_addr), s->port,
	       s->n_peers);
	return 0;
fail:
	if (sy.fd >= 0)
		close(sy.fd);
	sy.fd = -1;
	dp_sync_fini();
	return rc;
}

static void sync_poll(int wait_ms)
{
	static struct sync_rec ev[SYNC_EV_PER_PASS];
	uint8_t buf[SYNC_MAX_DGRAM + 1];
	uint64_t now;

	(void)wait_ms;
	if (!sy.on)
		return;
	now = now_ms();
	for (int i = 0; i < SYNC_RX_PER_PASS; i++) {
		struct sockaddr_in from = {0};
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(sy.fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (fl < sizeof(from) || from.sin_family != AF_INET ||
		    ntohs(from.sin_port) != sy.port) {
			sy.f.c[SYNC_C_RX_UNKNOWN_PEER]++;
			continue;
		}
		sync_ftfw_input(&sy.f, ntohl(from.sin_addr.s_addr), buf, (size_t)n, now);
	}
	for (unsigned int w = 0; w < dp_n_workers(); w++) {
		unsigned int n = dp_sync_drain(w, ev, SYNC_EV_PER_PASS);
		for (unsigned int i = 0; i < n; i++)
			sync_ftfw_add(&sy.f, &ev[i], now);
	}
	sync_ftfw_flush(&sy.f, now);
	sync_ftfw_timer(&sy.f, now);
}

static void sync_fini(void)
{
	if (!sy.on)
		return;
	sy.on = false;
	close(sy.fd);
	sy.fd = -1;
	sync_ftfw_fini(&sy.f);
	dp_sync_fini();
}

static struct cp_module sync_module = {
	.name = "sync",
	.order = CP_MOD_SYNC,
	.init = sync_init,
	.poll = sync_poll,
	.fini = sync_fini,
};
CP_MODULE_REGISTER(sync_module)
