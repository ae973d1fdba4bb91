/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <strait/cksum.h>

uint32_t cksum_raw(const void *data, size_t len, uint32_t acc)
{
	const uint8_t *p = data;
	uint64_t sum = acc;

	// Words are read in memory order; the sum is the same in either byte order
	// (RFC 1071 §2(B)) as long as the result is stored back the same way. 64-bit words
	// with the end-around carry added back at once (RFC 1071 §4.1), and 2^16 = 1 modulo
	// 0xffff makes a 64-bit word count as its four 16-bit halves.
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		sum += w;
		sum += sum < w; // carry out of bit 63
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum += w;
		sum += sum < w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum += w;
		sum += sum < w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		sum += w;
		sum += sum < w;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return cksum_fold((uint32_t)sum);
}
