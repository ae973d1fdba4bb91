/* SPDX-License-Identifier: BSD-3-Clause */
/* Test helper: build Ethernet/IPv4/TCP/UDP/ICMP frames with correct checksums, computed from
 * scratch (RFC 1071) so that they check the incremental updates independently. */
#ifndef STRAIT_TEST_PKT_BUILD_H
#define STRAIT_TEST_PKT_BUILD_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t tb_sum(const void *d, size_t n, uint32_t acc)
{
	const uint8_t *p = d;
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)(p[n - 1] << 8);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* Checksum of an IPv4 header, as a host-order value to store with htons(). */
static inline uint16_t tb_ip_cksum(const uint8_t *ip, size_t ihl)
{
	uint8_t tmp[60];
	memcpy(tmp, ip, ihl);
	tmp[10] = tmp[11] = 0;
	return (uint16_t)~tb_sum(tmp, ihl, 0);
}

/* L4 checksum (TCP/UDP) over pseudo-header + segment, checksum field taken as zero. */
static inline uint16_t tb_l4_cksum(const uint8_t *ip, const uint8_t *l4, size_t l4_len,
				   uint8_t proto)
{
	uint8_t ph[12];
	uint8_t seg[2048];
	size_t off = proto == IPPROTO_TCP ? 16 : 6;
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(l4_len >> 8);
	ph[11] = (uint8_t)l4_len;
	memcpy(seg, l4, l4_len);
	seg[off] = seg[off + 1] = 0;
	uint16_t s = (uint16_t)~tb_sum(seg, l4_len, tb_sum(ph, 12, 0));
	if (proto == IPPROTO_UDP && s == 0)
		s = 0xffff;
	return s;
}

struct tb_flow {
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t ttl;
	uint8_t tcp_flags;
	uint16_t payload_len;
	const uint8_t *dmac;
};

/* Write a frame into @p buf; returns its length. */
static inline size_t tb_frame(uint8_t *buf, const struct tb_flow *f)
{
	static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x99};
	uint8_t *ip = buf + 14, *l4 = ip + 20;
	size_t l4h = f->proto == IPPROTO_TCP ? 20 : 8;
	size_t l4_len = l4h + f->payload_len, ip_len = 20 + l4_len;
	uint32_t a;

	memset(buf, 0, 14 + ip_len);
	memcpy(buf, f->dmac, 6);
	memcpy(buf + 6, smac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[4] = 0x12;
	ip[5] = 0x34;
	ip[8] = f->ttl ? f->ttl : 64;
	ip[9] = f->proto;
	inet_pton(AF_INET, f->src, &a);
	memcpy(ip + 12, &a, 4);
	inet_pton(AF_INET, f->dst, &a);
	memcpy(ip + 16, &a, 4);
	for (size_t i = 0; i < f->payload_len; i++)
		l4[l4h + i] = (uint8_t)(i * 7 + 1);
	if (f->proto == IPPROTO_ICMP) {
		l4[0] = 8; /* echo request */
		l4[4] = (uint8_t)(f->sport >> 8);
		l4[5] = (uint8_t)f->sport;
		uint16_t c = (uint16_t)~tb_sum(l4, l4_len, 0);
		l4[2] = (uint8_t)(c >> 8);
		l4[3] = (uint8_t)c;
	} else {
		l4[0] = (uint8_t)(f->sport >> 8);
		l4[1] = (uint8_t)f->sport;
		l4[2] = (uint8_t)(f->dport >> 8);
		l4[3] = (uint8_t)f->dport;
		if (f->proto == IPPROTO_TCP) {
			l4[12] = 5 << 4;
			l4[13] = f->tcp_flags;
			l4[14] = 0xff;
		} else {
			l4[4] = (uint8_t)(l4_len >> 8);
			l4[5] = (uint8_t)l4_len;
		}
		uint16_t c = tb_l4_cksum(ip, l4, l4_len, f->proto);
		size_t off = f->proto == IPPROTO_TCP ? 16 : 6;
		l4[off] = (uint8_t)(c >> 8);
		l4[off + 1] = (uint8_t)c;
	}
	uint16_t c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return 14 + ip_len;
}

#endif
