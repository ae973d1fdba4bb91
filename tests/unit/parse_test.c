/* SPDX-License-Identifier: BSD-3-Clause */
/* pkt_parse() on hand-built frames: what it extracts and why it refuses. No EAL needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_tcp.h>

#include "pkt.h"
#include "pkt_build.h"

static const uint8_t MAC[6] = {0x02, 0, 0, 0, 0, 1};

static size_t udp_frame(uint8_t *buf)
{
	struct tb_flow f = {.src = "198.51.100.2",
			    .dst = "198.51.100.1",
			    .sport = 5000,
			    .dport = 7777,
			    .proto = IPPROTO_UDP,
			    .payload_len = 10,
			    .dmac = MAC};
	return tb_frame(buf, &f);
}

static void fix_ip_cksum(uint8_t *buf)
{
	uint16_t c = tb_ip_cksum(buf + 14, (size_t)(buf[14] & 0xf) * 4);
	buf[24] = (uint8_t)(c >> 8);
	buf[25] = (uint8_t)c;
}

static void udp_fields_are_extracted_in_network_order(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct pkt_meta m;
	size_t n = udp_frame(buf);
	assert_int_equal(pkt_parse(buf, (uint32_t)n, &m), PKT_IPV4);
	assert_int_equal(m.proto, IPPROTO_UDP);
	assert_int_equal(m.l3_off, 14);
	assert_int_equal(m.l4_off, 34);
	assert_int_equal(m.ip_len, 20 + 8 + 10);
	assert_int_equal(rte_be_to_cpu_16(m.sport), 5000);
	assert_int_equal(rte_be_to_cpu_16(m.dport), 7777);
	assert_int_equal(rte_be_to_cpu_32(m.src), 0xc6336402);
	assert_int_equal(m.frag, FRAG_NONE);
	assert_true(pkt_l4_cksum_ok(buf, &m));
}

static void tcp_flags_are_extracted(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct pkt_meta m;
	struct tb_flow f = {.src = "198.51.100.2",
			    .dst = "198.51.100.1",
			    .sport = 1,
			    .dport = 2,
			    .proto = IPPROTO_TCP,
			    .tcp_flags = RTE_TCP_SYN_FLAG,
			    .dmac = MAC};
	size_t n = tb_frame(buf, &f);
	assert_int_equal(pkt_parse(buf, (uint32_t)n, &m), PKT_IPV4);
	assert_int_equal(m.tcp_flags, RTE_TCP_SYN_FLAG);
	assert_true(pkt_l4_cksum_ok(buf, &m));
	buf[n - 1] ^= 1;
	assert_false(pkt_l4_cksum_ok(buf, &m));
}

static void ethernet_padding_after_datagram_is_accepted(void **state)
{
	(void)state;
	uint8_t buf[128] = {0};
	struct pkt_meta m;
	size_t n = udp_frame(buf);
	assert_int_equal(pkt_parse(buf, (uint32_t)n + 12, &m), PKT_IPV4);
	assert_int_equal(m.ip_len, n - 14);
}

static void arp_is_recognised(void **state)
{
	(void)state;
	uint8_t buf[64] = {0};
	struct pkt_meta m;
	buf[12] = 0x08, buf[13] = 0x06;
	assert_int_equal(pkt_parse(buf, 42, &m), PKT_ARP);
	assert_int_equal(pkt_parse(buf, 41, &m), PKT_DROP);
	assert_int_equal(m.drop, DP_DROP_TRUNCATED);
}

static void expect_drop(uint8_t *buf, uint32_t len, enum dp_drop why)
{
	struct pkt_meta m;
	assert_int_equal(pkt_parse(buf, len, &m), PKT_DROP);
	assert_int_equal(m.drop, why);
}

static void each_malformation_has_its_reason(void **state)
{
	(void)state;
	uint8_t good[128], buf[128];
	size_t n = udp_frame(good);

	expect_drop(good, 10, DP_DROP_TRUNCATED);
	expect_drop(good, 14 + 19, DP_DROP_TRUNCATED);
	memcpy(buf, good, n);
	buf[12] = 0x86, buf[13] = 0xdd; /* IPv6 ethertype: not yet */
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_ETHERTYPE);
	memcpy(buf, good, n);
	buf[14] = 0x55;
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_VERSION);
	memcpy(buf, good, n);
	buf[14] = 0x44;
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_IHL);
	memcpy(buf, good, n);
	buf[14] = 0x4f; /* 60-byte header in a 38-byte datagram */
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_IHL);
	memcpy(buf, good, n);
	buf[17] = (uint8_t)(n - 14 + 1); /* total length one byte past the frame */
	fix_ip_cksum(buf);
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_TOTAL_LENGTH);
	memcpy(buf, good, n);
	buf[17] = 19; /* total length below the header */
	fix_ip_cksum(buf);
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_TOTAL_LENGTH);
	memcpy(buf, good, n);
	buf[25] ^= 0xff;
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_IP_CHECKSUM);
	memcpy(buf, good, n);
	buf[14 + 20 + 4] = 0, buf[14 + 20 + 5] = 200; /* UDP length past the datagram */
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_L4_HEADER);
	memcpy(buf, good, n);
	buf[23] = 47; /* GRE */
	fix_ip_cksum(buf);
	expect_drop(buf, (uint32_t)n, DP_DROP_UNSUPPORTED_PROTO);
}

static void tcp_data_offset_beyond_segment_is_bad(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct tb_flow f = {.src = "198.51.100.2",
			    .dst = "198.51.100.1",
			    .sport = 1,
			    .dport = 2,
			    .proto = IPPROTO_TCP,
			    .dmac = MAC};
	size_t n = tb_frame(buf, &f);
	buf[14 + 20 + 12] = 15 << 4; /* 60-byte TCP header in a 20-byte segment */
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_L4_HEADER);
	buf[14 + 20 + 12] = 4 << 4;
	expect_drop(buf, (uint32_t)n, DP_DROP_BAD_L4_HEADER);
}

static void fragments_are_classified(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct pkt_meta m;
	size_t n = udp_frame(buf);
	buf[20] = 0x20; /* MF, offset 0: first fragment, ports present */
	fix_ip_cksum(buf);
	assert_int_equal(pkt_parse(buf, (uint32_t)n, &m), PKT_IPV4);
	assert_int_equal(m.frag, FRAG_FIRST);
	assert_int_equal(rte_be_to_cpu_16(m.dport), 7777);
	assert_true(pkt_l4_cksum_ok(buf, &m)); /* not checkable on a piece: accepted */
	buf[20] = 0x00, buf[21] = 0x10;	       /* offset 16 * 8: later fragment, no ports */
	fix_ip_cksum(buf);
	assert_int_equal(pkt_parse(buf, (uint32_t)n, &m), PKT_IPV4);
	assert_int_equal(m.frag, FRAG_LATER);
	assert_int_equal(m.dport, 0);
	assert_int_equal(rte_be_to_cpu_16(m.ip_id), 0x1234);
}

/* Every prefix of a valid frame, and every single-byte corruption of it, is either parsed
 * or dropped with a reason: never a read beyond the length given (ASan checks the reads). */
static void every_truncation_and_corruption_is_safe(void **state)
{
	(void)state;
	uint8_t good[128];
	struct pkt_meta m;
	size_t n = udp_frame(good);
	for (size_t len = 0; len <= n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, good, len);
		enum pkt_kind k = pkt_parse(copy, (uint32_t)len, &m);
		assert_true(k == PKT_DROP || len >= 14 + 28);
		free(copy);
	}
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *copy = malloc(n);
			memcpy(copy, good, n);
			copy[i] ^= (uint8_t)(1 << bit);
			if (pkt_parse(copy, (uint32_t)n, &m) == PKT_IPV4)
				(void)pkt_l4_cksum_ok(copy, &m);
			else
				assert_true(m.drop < DP_DROP_MAX);
			free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_fields_are_extracted_in_network_order),
		cmocka_unit_test(tcp_flags_are_extracted),
		cmocka_unit_test(ethernet_padding_after_datagram_is_accepted),
		cmocka_unit_test(arp_is_recognised),
		cmocka_unit_test(each_malformation_has_its_reason),
		cmocka_unit_test(tcp_data_offset_beyond_segment_is_bad),
		cmocka_unit_test(fragments_are_classified),
		cmocka_unit_test(every_truncation_and_corruption_is_safe),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
