/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet parser: whatever the bytes, pkt_parse() either drops with
 * a reason or returns offsets inside the frame, and the L4 checksum check never reads past
 * the datagram. Build and run (clang from Debian, libclang-rt-14-dev):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Idp \
 *       $(pkg-config --cflags libdpdk) -include rte_config.h -DALLOW_EXPERIMENTAL_API \
 *       tests/fuzz/parse_fuzz.c dp/parse.c common/cksum.c -o parse_fuzz
 *   ./parse_fuzz -max_total_time=60 -max_len=256
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_meta m;
	// An exact-size heap copy, so that AddressSanitizer sees any read past the frame.
	uint8_t *frame = malloc(size ? size : 1);

	if (!frame)
		return 0;
	memcpy(frame, data, size);
	switch (pkt_parse(frame, (uint32_t)size, &m)) {
	case PKT_IPV4:
		if (m.l4_off > size || m.l3_off + m.ip_len > size)
			abort();
		(void)pkt_l4_cksum_ok(frame, &m);
		break;
	case PKT_DROP:
		if (m.drop >= DP_DROP_MAX)
			abort();
		break;
	default:
		break;
	}
	free(frame);
	return 0;
}
