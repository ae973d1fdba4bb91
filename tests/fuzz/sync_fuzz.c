/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for session sync's receiving side (cp/sync_wire.c, cp/sync_ftfw.c): any
 * bytes from a configured peer are either counted as bad or acted on, never a crash; every
 * record delivered passed sync_decode()'s checks and encodes back to the same bytes; a NACK
 * never resends more than the buffer. The first byte picks the time step, so that timers
 * (acks, resends, hellos) run between datagrams of one input. Build and run (clang from
 * Debian, libclang-rt-14-dev):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Icp \
 *       $(pkg-config --cflags libdpdk) -include rte_config.h \
 *       tests/fuzz/sync_fuzz.c cp/sync_ftfw.c cp/sync_wire.c -o sync_fuzz
 *   ./sync_fuzz -max_total_time=60 -max_len=4096
 * or with -Dfuzz=true (tests/fuzz/meson.build).
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync_ftfw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int sent;

static int fz_send(void *arg, uint32_t addr, const void *buf, size_t len)
{
	struct sync_hdr h;
	static struct sync_rec recs[SYNC_MAX_RECS];

	(void)arg;
	if (addr != 0x0a000004u || sync_decode(buf, len, &h, recs) < 0)
		abort(); // what we send must decode
	sent++;
	return 0;
}

static void fz_deliver(void *arg, const struct sync_rec *r)
{
	struct sync_hdr h = {.type = SYNC_MSG_DATA, .workers = 1, .count = 1};
	uint8_t buf[SYNC_HDR_LEN + SYNC_REC_LEN];
	struct sync_rec back;
	struct sync_hdr g;

	(void)arg;
	if (sync_encode(&h, r, buf, sizeof(buf)) != (int)sizeof(buf) ||
	    sync_decode(buf, sizeof(buf), &g, &back) != 0 || memcmp(&back, r, sizeof(back)) != 0)
		abort();
}

static void fz_bulk(void *arg)
{
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t peer = 0x0a000004u;
	struct sync_io io = {.send = fz_send, .deliver = fz_deliver, .bulk = fz_bulk};
	static struct sync_ftfw f;
	uint64_t now = 1;

	if (sync_ftfw_init(&f, 0x1234, 1, &peer, 1, &io) < 0)
		return 0;
	// Something of ours in the resend buffer, for NACKs and ACKs to act on.
	for (uint16_t i = 0; i < 40; i++) {
		struct sync_rec r = {.type = SYNC_REC_UPSERT, .proto = IPPROTO_UDP};
		memset(r.addr, 1, sizeof(r.addr));
		memset(r.port, 1, sizeof(r.port));
		sync_ftfw_add(&f, &r, now);
	}
	sync_ftfw_flush(&f, now);
	// Datagrams: [step ms][len hi][len lo][bytes...], until the input runs out.
	while (size >= 3) {
		size_t len = (size_t)data[1] << 8 | data[2];
		now += data[0] * 10u;
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		uint8_t *copy = malloc(len ? len : 1); // exact size: ASan sees an overread
		if (!copy)
			break;
		memcpy(copy, data, len);
		sync_ftfw_input(&f, peer, copy, len, now);
		free(copy);
		sync_ftfw_timer(&f, now);
		data += len;
		size -= len;
	}
	if (f.c[SYNC_C_TX_RESENDS] > f.c[SYNC_C_RX_NACKS] * SYNC_TXBUF + f.c[SYNC_C_HELLOS] +
					     (now / SYNC_RTO_MS + 1) * SYNC_RESEND_BURST)
		abort();
	sync_ftfw_fini(&f);
	return 0;
}
