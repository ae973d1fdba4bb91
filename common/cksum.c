/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <strait/cksum.h>

uint32_t cksum_raw(const void *data, size_t len, uint32_t acc)
{
	const uint8_t *p = data;
	uint64_t sum = acc;

	// Words are read in memory order; the sum is the same in either byte order
	// (RFC 1071 §2(B)) as long as the result is stored back the same way. 32-bit words
	// into a 64-bit sum: the folds at the end do the carries (RFC 1071 §4.1's "deferred
	// carries"), and 2^16 = 1 modulo 0xffff makes a 32-bit word count as its two halves.
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
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
