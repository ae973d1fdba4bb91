/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <strait/cksum.h>

uint32_t cksum_raw(const void *data, size_t len, uint32_t acc)
{
	const uint8_t *p = data;
	uint64_t sum = acc;

	// Words are read in memory order; the sum is the same in either byte order
	// (RFC 1071 §2(B)) as long as the result is stored back the same way.
	while (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		sum += w;
	}
	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);
	return cksum_fold((uint32_t)sum);
}
