/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NAT pipeline without a PMD: real mbufs go through nat_process_burst() on a worker built
 * by dp_worker_new(), and what it queued for tx (or counted as dropped) is checked byte for
 * byte, with checksums recomputed from scratch by the test (pkt_build.h).
 * EAL runs with --no-huge --no-pci --in-memory.
 */
#include "nat_fixture.h"
#include "ports.h"

static void full_nat_tcp_both_directions_rewrites_and_checksums(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	uint8_t *ip = f + 14;
	uint32_t backend = rd32(ip + 16);
	uint16_t snat_port = rd16(ip + 20);
	assert_int_equal(rd32(ip + 12), ip4("10.0.0.1"));
	assert_true(backend >= ip4("10.0.0.11") && backend <= ip4("10.0.0.13"));
	assert_int_equal(rd16(ip + 22), 80);
	assert_true(snat_port >= w->snat_lo && snat_port <= w->snat_hi);
	assert_int_equal(ip[8], 63); /* TTL decremented */
	assert_memory_equal(f, MAC_POD[backend - ip4("10.0.0.11")], 6);
	assert_memory_equal(f + 6, MAC_INT, 6);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(w->stats.map[0].sessions_created, 1);

	/* The SYN-ACK from the pod comes back to the client from the VIP. */
	char bstr[16];
	cfg_ipv4_str(backend, bstr);
	n = flow(buf, bstr, 80, "10.0.0.1", snat_port, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_EXT, &m);
	ip = f + 14;
	assert_int_equal(rd32(ip + 12), ip4("198.51.100.1"));
	assert_int_equal(rd16(ip + 20), 8080);
	assert_int_equal(rd32(ip + 16), ip4("198.51.100.2"));
	assert_int_equal(rd16(ip + 22), 40000);
	assert_memory_equal(f, MAC_CLIENT, 6);
	rte_pktmbuf_free(m);

	/* ACK from the client: the session is established, still one session. */
	n = flow(buf, "198.51.100.2", 40000, "198.51.100.1", 8080, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		 DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 16), backend);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_ESTABLISHED);
	assert_int_equal(w->stats.map[0].pkts[0], 2);
	assert_int_equal(w->stats.map[0].pkts[1], 1);
}

/* Set the TCP sequence number of a frame from flow() and its checksum again. */
static void set_seq(uint8_t *buf, uint32_t seq)
{
	uint8_t *ip = buf + 14, *th = ip + 20;
	size_t l4_len = (size_t)(ip[2] << 8 | ip[3]) - 20;
	th[4] = (uint8_t)(seq >> 24);
	th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8);
	th[7] = (uint8_t)seq;
	uint16_t c = tb_l4_cksum(ip, th, l4_len, IPPROTO_TCP);
	th[16] = (uint8_t)(c >> 8);
	th[17] = (uint8_t)c;
}

/* SYN, SYN-ACK, ACK of 198.51.100.2:@p sport → :8080 (sequence numbers 0, 20 bytes each). */
static void establish(uint16_t sport)
{
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	char bstr[16];
	size_t n = flow(buf, "198.51.100.2", sport, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	cfg_ipv4_str(rd32(f + 14 + 16), bstr);
	uint16_t snat_port = rd16(f + 14 + 20);
	rte_pktmbuf_free(m);
	n = flow(buf, bstr, 80, "10.0.0.1", snat_port, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	take(DP_PORT_EXT, &m);
	rte_pktmbuf_free(m);
	n = flow(buf, "198.51.100.2", sport, "198.51.100.1", 8080, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		 DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_ESTABLISHED);
}

/* One blind RST or FIN must not close an idle connection (RFC 5961 §3). */
static void out_of_window_rst_and_fin_are_dropped_and_counted(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	establish(40010);
	size_t n = flow(buf, "198.51.100.2", 40010, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_RST_FLAG, DP_PORT_EXT);
	set_seq(buf, 0x40000000u);
	inject(DP_PORT_EXT, buf, n);
	n = flow(buf, "198.51.100.2", 40010, "198.51.100.1", 8080, IPPROTO_TCP,
		 RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, DP_PORT_EXT);
	set_seq(buf, 0xc0000000u);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_OUT_OF_WINDOW], 2);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_ESTABLISHED);

	/* the client's own RST, at its sequence end, goes through and closes */
	n = flow(buf, "198.51.100.2", 40010, "198.51.100.1", 8080, IPPROTO_TCP, RTE_TCP_RST_FLAG,
		 DP_PORT_EXT);
	set_seq(buf, 21);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_CLOSED);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_OUT_OF_WINDOW], 2);
}

static void bad_tcp_flags_are_dropped_and_counted(void **state)
{
	(void)state;
	uint8_t buf[256];
	/* SYN+FIN would start a session today */
	size_t n = flow(buf, "198.51.100.2", 40011, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->sess.active, 0);
	establish(40012);
	n = flow(buf, "198.51.100.2", 40012, "198.51.100.1", 8080, IPPROTO_TCP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	n = flow(buf, "198.51.100.2", 40012, "198.51.100.1", 8080, IPPROTO_TCP,
		 RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	n = flow(buf, "198.51.100.2", 40012, "198.51.100.1", 8080, IPPROTO_TCP, RTE_TCP_FIN_FLAG,
		 DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_BAD_FLAGS], 4);
	assert_int_equal(w->sess.recs[0].state, NAT_ST_ESTABLISHED);
}

/* A SYN with MSS 1460 to a mapping with tcpMssClamp 1200, and the SYN-ACK back. */
static void mss_is_clamped_both_ways(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	for (int dir = 0; dir < 2; dir++) {
		struct tb_flow fl = {.src = dir ? "10.0.0.12" : "198.51.100.2",
				     .dst = dir ? "10.0.0.1" : "198.51.100.1",
				     .sport = dir ? 9092 : 40020,
				     .dport = dir ? rd16(buf + 14 + 20) : 32001,
				     .proto = IPPROTO_TCP,
				     .tcp_flags = RTE_TCP_SYN_FLAG | (dir ? RTE_TCP_ACK_FLAG : 0),
				     .payload_len = 4,
				     .dmac = dir ? MAC_INT : MAC_EXT};
		size_t n = tb_frame(buf, &fl);
		uint8_t *ip = buf + 14, *th = ip + 20;
		th[12] = 6 << 4;
		th[20] = 2, th[21] = 4, th[22] = 1460 >> 8, th[23] = 1460 & 0xff;
		uint16_t c = tb_l4_cksum(ip, th, 24, IPPROTO_TCP);
		th[16] = (uint8_t)(c >> 8), th[17] = (uint8_t)c;
		inject(dir ? DP_PORT_INT : DP_PORT_EXT, buf, n);
		uint8_t *f = take(dir ? DP_PORT_EXT : DP_PORT_INT, &m); /* checksums from scratch */
		assert_int_equal(rd16(f + 14 + 20 + 22), 1200);
		memcpy(buf, f, n); /* the SNAT port for the reply */
		rte_pktmbuf_free(m);
	}
	assert_int_equal(w->sess.active, 1);
}

/* A SYN that would expire at the gateway starts no session (RFC 1812 §5.3.1). */
static void ttl_one_syn_creates_no_session(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	struct tb_flow fl = {.src = "198.51.100.2",
			     .dst = "198.51.100.1",
			     .sport = 40013,
			     .dport = 8080,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = RTE_TCP_SYN_FLAG,
			     .ttl = 1,
			     .dmac = MAC_EXT};
	size_t n = tb_frame(buf, &fl);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->sess.active, 0);
	assert_int_equal(w->stats.sessions_created, 0);
	assert_int_equal(w->stats.drops[DP_DROP_TTL_EXCEEDED], 1);
	assert_int_equal(rte_ring_dequeue(w->sp_out, (void **)&m), 0);
	assert_int_equal(dp_priv(m)->reason, DP_SP_TTL);
	rte_pktmbuf_free(m);
}

static void udp_checksum_zero_stays_zero_through_nat(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	buf[14 + 20 + 6] = buf[14 + 20 + 7] = 0; /* no UDP checksum (RFC 768) */
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	assert_int_equal(rd16(f + 14 + 20 + 2), 7);
	assert_int_equal(rd16(f + 14 + 20 + 6), 0);
	rte_pktmbuf_free(m);
}

static void unmapped_port_is_dropped_and_counted(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7778, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_NO_MAPPING], 1);
}

static void tcp_without_syn_starts_no_session(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n = flow(buf, "198.51.100.2", 40001, "198.51.100.1", 8080, IPPROTO_TCP,
			RTE_TCP_ACK_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_TCP_NOT_SYN], 1);
	assert_int_equal(w->sess.active, 0);
}

static void source_outside_allow_list_is_dropped(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 9100, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NOT_ALLOWED], 1);
	assert_int_equal(w->stats.map[3].drops, 1);
	neigh_update(rte_cpu_to_be_32(ip4("192.0.2.7")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	cfg.ext.gateway = 0;
	n = flow(buf, "192.0.2.7", 5000, "198.51.100.1", 9100, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	/* allowed, but 192.0.2.7 has no route back (no ext gateway in this config) */
	assert_int_equal(w->stats.drops[DP_DROP_NO_ROUTE], 1);
	cfg.ext.gateway = ip4("198.51.100.254");
	publish();
	neigh_update(rte_cpu_to_be_32(ip4("198.51.100.254")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
}

static void internal_source_on_ext_is_spoofed(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n = flow(buf, "10.0.0.99", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	n = flow(buf, "10.244.3.3", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_SPOOFED_SOURCE], 2);
	assert_int_equal(w->sess.active, 0);
}

static void session_table_full_drops_new_and_keeps_old(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	for (uint16_t p = 0; p < 8; p++) {
		size_t n = flow(buf, "198.51.100.2", (uint16_t)(6000 + p), "198.51.100.1", 7777,
				IPPROTO_UDP, 0, DP_PORT_EXT);
		inject(DP_PORT_EXT, buf, n);
		take(DP_PORT_INT, &m);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(w->sess.active, 8);
	size_t n =
		flow(buf, "198.51.100.2", 6100, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_SESSION_TABLE_FULL], 1);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	/* an existing flow still goes through */
	n = flow(buf, "198.51.100.2", 6003, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 8);
}

static void udp_session_expires_after_its_timeout(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	char bstr[16];
	uint16_t snat_port = rd16(f + 14 + 20);
	cfg_ipv4_str(rd32(f + 14 + 16), bstr);
	rte_pktmbuf_free(m);

	w->now += 299 * w->hz; /* one second before the 300 s UDP timeout */
	nat_sessions_expire(w, 1000);
	assert_int_equal(w->sess.active, 1);
	w->now += 2 * w->hz;
	assert_int_equal(nat_sessions_expire(w, 1000), 1);
	assert_int_equal(w->sess.active, 0);
	assert_int_equal(w->stats.sessions_expired, 1);
	n = flow(buf, bstr, 7, "10.0.0.1", snat_port, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SESSION], 1);
}

static void malformed_packets_are_counted_by_reason(void **state)
{
	(void)state;
	uint8_t good[256], buf[256];
	size_t n =
		flow(good, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);

	inject(DP_PORT_EXT, good, 20); /* truncated inside the IPv4 header */
	memcpy(buf, good, n);
	buf[14] = 0x65; /* version 6 */
	inject(DP_PORT_EXT, buf, n);
	memcpy(buf, good, n);
	buf[14] = 0x44; /* IHL 4 */
	inject(DP_PORT_EXT, buf, n);
	memcpy(buf, good, n);
	buf[14 + 3] += 40; /* total length beyond the frame */
	inject(DP_PORT_EXT, buf, n);
	memcpy(buf, good, n);
	buf[14 + 10] ^= 0xff; /* IP checksum */
	inject(DP_PORT_EXT, buf, n);
	memcpy(buf, good, n);
	buf[14 + 20 + 7] ^= 0x55; /* UDP checksum: checked when a session starts */
	inject(DP_PORT_EXT, buf, n);

	assert_int_equal(w->stats.drops[DP_DROP_TRUNCATED], 1);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_VERSION], 1);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_IHL], 1);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_TOTAL_LENGTH], 1);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_IP_CHECKSUM], 1);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_L4_CHECKSUM], 1);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->sess.active, 0);
}

/* Send @p frame as received with rx offload flags @p ol (a NIC's checksum verdict). */
static void inject_flags(const uint8_t *frame, size_t len, uint64_t ol)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	m->ol_flags = ol;
	nat_process_burst(w, tables_get(), DP_PORT_EXT, &m, 1);
}

/* A session's first packet: the NIC's L4 checksum verdict where it gave one (rx checksum
 * offload), the software check where it did not (UNKNOWN), and never the NIC's for a first
 * fragment, whose checksum covers a datagram no one has whole. */
static void the_nics_l4_checksum_verdict_is_taken(void **state)
{
	uint8_t good[256], bad[256];
	uint16_t sport = 6000;

	(void)state;
	// BAD from the NIC: dropped, though the checksum is right.
	size_t n = flow(good, "198.51.100.2", sport++, "198.51.100.1", 7777, IPPROTO_UDP, 0,
			DP_PORT_EXT);
	inject_flags(good, n, RTE_MBUF_F_RX_L4_CKSUM_BAD);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_L4_CHECKSUM], 1);
	assert_int_equal(w->sess.active, 0);
	// GOOD and NONE (verified data, the field left to offload): taken, though the field is
	// wrong; UNKNOWN: checked here, dropped.
	const uint64_t ok[] = {RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_NONE};
	for (unsigned int i = 0; i < 2; i++) {
		n = flow(bad, "198.51.100.2", sport++, "198.51.100.1", 7777, IPPROTO_UDP, 0,
			 DP_PORT_EXT);
		bad[14 + 20 + 7] ^= 0x55;
		inject_flags(bad, n, ok[i]);
		assert_int_equal(w->sess.active, i + 1);
		assert_int_equal(dp_tx_n(w, DP_PORT_INT), i + 1);
	}
	n = flow(bad, "198.51.100.2", sport++, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	bad[14 + 20 + 7] ^= 0x55;
	inject_flags(bad, n, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_L4_CHECKSUM], 2);
	assert_int_equal(w->sess.active, 2);
	// A first fragment (MF set) that a NIC called BAD: its session starts all the same.
	n = flow(bad, "198.51.100.2", sport++, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	struct rte_ipv4_hdr *ip = (void *)(bad + 14);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	inject_flags(bad, n, RTE_MBUF_F_RX_L4_CKSUM_BAD);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_L4_CHECKSUM], 2);
	assert_int_equal(w->sess.active, 3);
}

/* The IPv4 header checksum: not summed again where the NIC verified it (IP_CKSUM_GOOD, or
 * NONE, which has the GOOD bit), summed where it did not, whatever it said (UNKNOWN, BAD). */
static void the_nics_ip_checksum_verdict_is_taken(void **state)
{
	uint8_t buf[256];
	uint16_t sport = 7000;

	(void)state;
	// A wrong header checksum the NIC called good (as no NIC would): taken on its word.
	const uint64_t ok[] = {RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_NONE};
	for (unsigned int i = 0; i < 2; i++) {
		size_t n = flow(buf, "198.51.100.2", sport++, "198.51.100.1", 7777, IPPROTO_UDP, 0,
				DP_PORT_EXT);
		buf[14 + 10] ^= 0xff;
		inject_flags(buf, n, ok[i] | RTE_MBUF_F_RX_L4_CKSUM_GOOD);
		assert_int_equal(w->sess.active, i + 1);
		assert_int_equal(w->stats.drops[DP_DROP_BAD_IP_CHECKSUM], 0);
	}
	// UNKNOWN: summed here and dropped; BAD on a right checksum: summed here and taken.
	size_t n = flow(buf, "198.51.100.2", sport++, "198.51.100.1", 7777, IPPROTO_UDP, 0,
			DP_PORT_EXT);
	buf[14 + 10] ^= 0xff;
	inject_flags(buf, n, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN | RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_IP_CHECKSUM], 1);
	n = flow(buf, "198.51.100.2", sport++, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject_flags(buf, n, RTE_MBUF_F_RX_IP_CKSUM_BAD);
	assert_int_equal(w->stats.drops[DP_DROP_BAD_IP_CHECKSUM], 1);
	assert_int_equal(w->sess.active, 3);
}

/* The rx offloads asked of a port: the IPv4 and L4 checksums where offered, none on net_tap. */
static void ports_ask_the_checksum_offloads_offered(void **state)
{
	const uint64_t l4 = RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;

	(void)state;
	assert_int_equal(dp_port_rx_cksum_offloads("net_iavf", l4 | RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
								       RTE_ETH_RX_OFFLOAD_SCATTER),
			 l4 | RTE_ETH_RX_OFFLOAD_IPV4_CKSUM);
	assert_int_equal(dp_port_rx_cksum_offloads("net_mlx5", RTE_ETH_RX_OFFLOAD_UDP_CKSUM),
			 RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	assert_int_equal(dp_port_rx_cksum_offloads("net_af_packet", 0), 0);
	assert_int_equal(dp_port_rx_cksum_offloads("net_tap", l4), 0);
}

static void ttl_one_goes_to_slow_path(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct tb_flow fl = {.src = "198.51.100.2",
			     .dst = "198.51.100.1",
			     .sport = 5000,
			     .dport = 7777,
			     .proto = IPPROTO_UDP,
			     .ttl = 1,
			     .dmac = MAC_EXT};
	size_t n = tb_frame(buf, &fl);
	struct rte_mbuf *m = NULL;
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_TTL_EXCEEDED], 1);
	assert_int_equal(rte_ring_dequeue(w->sp_out, (void **)&m), 0);
	assert_int_equal(dp_priv(m)->reason, DP_SP_TTL);
	rte_pktmbuf_free(m);
}

static void many_source_ports_spread_over_all_backends(void **state)
{
	(void)state;
	uint8_t buf[256];
	unsigned int hits[3] = {0};
	struct rte_mbuf *m = NULL;
	char err[256];
	dp_worker_free(w);
	w = dp_worker_new(0, 1, 0, 1024, err, sizeof(err));
	assert_non_null(w);
	memcpy(&w->mac[DP_PORT_EXT], MAC_EXT, 6);
	memcpy(&w->mac[DP_PORT_INT], MAC_INT, 6);
	w->hz = 1000;
	for (uint16_t p = 0; p < 600; p++) {
		size_t n = flow(buf, "198.51.100.2", (uint16_t)(20000 + p), "198.51.100.1", 8080,
				IPPROTO_TCP, RTE_TCP_SYN_FLAG, DP_PORT_EXT);
		inject(DP_PORT_EXT, buf, n);
		uint8_t *f = take(DP_PORT_INT, &m);
		hits[rd32(f + 14 + 16) - ip4("10.0.0.11")]++;
		rte_pktmbuf_free(m);
	}
	print_message("600 flows: %u / %u / %u\n", hits[0], hits[1], hits[2]);
	for (int i = 0; i < 3; i++)
		assert_true(hits[i] > 150 && hits[i] < 250);
}

static void port_range_maps_offset_to_target(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 30005, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	assert_int_equal(rd16(f + 14 + 22), 40005);
	rte_pktmbuf_free(m);
}

static void per_broker_port_reaches_its_one_backend(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n = flow(buf, "198.51.100.2", 5000, "198.51.100.1", 32001, IPPROTO_TCP,
			RTE_TCP_SYN_FLAG, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 16), ip4("10.0.0.12"));
	assert_int_equal(rd16(f + 14 + 22), 9092);
	rte_pktmbuf_free(m);
}

static void preserve_source_keeps_client_address(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5555, "198.51.100.1", 9000, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("198.51.100.2"));
	assert_int_equal(rd16(f + 14 + 20), 5555);
	assert_int_equal(rd32(f + 14 + 16), ip4("10.0.0.12"));
	rte_pktmbuf_free(m);
	/* the pod answers the client directly, through the gateway */
	n = flow(buf, "10.0.0.12", 9000, "198.51.100.2", 5555, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_EXT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("198.51.100.1"));
	assert_int_equal(rd16(f + 14 + 20), 9000);
	rte_pktmbuf_free(m);
}

/* A pod answers a too-big packet with ICMP fragmentation needed (RFC 1191); the client must
 * get it about its own packet: outer and inner headers translated, checksums right. */
static void icmp_frag_needed_from_pod_is_translated(void **state)
{
	(void)state;
	uint8_t buf[256], icmp[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	uint8_t sent[64];
	memcpy(sent, f + 14, 28); /* the packet as the pod received it: IP + UDP header */
	uint32_t backend = rd32(f + 14 + 16);
	rte_pktmbuf_free(m);

	/* build: eth | IP(pod → 10.0.0.1, ICMP) | ICMP 3/4 mtu 1400 | quoted 28 bytes */
	memset(icmp, 0, sizeof(icmp));
	memcpy(icmp, MAC_INT, 6);
	memcpy(icmp + 6, MAC_POD[0], 6);
	icmp[12] = 0x08;
	uint8_t *ip = icmp + 14, *ih = ip + 20;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 28;
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	ip[12] = (uint8_t)(backend >> 24);
	ip[13] = (uint8_t)(backend >> 16);
	ip[14] = (uint8_t)(backend >> 8);
	ip[15] = (uint8_t)backend;
	ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 1;
	uint16_t c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	ih[0] = 3, ih[1] = 4, ih[6] = 1400 >> 8, ih[7] = 1400 & 0xff;
	memcpy(ih + 8, sent, 28);
	c = (uint16_t)~tb_sum(ih, 36, 0);
	ih[2] = (uint8_t)(c >> 8), ih[3] = (uint8_t)c;
	inject(DP_PORT_INT, icmp, 14 + 20 + 36);

	f = take(DP_PORT_EXT, &m);
	ip = f + 14;
	ih = ip + 20;
	assert_int_equal(rd32(ip + 12), ip4("198.51.100.1"));
	assert_int_equal(rd32(ip + 16), ip4("198.51.100.2"));
	assert_int_equal(ih[0], 3);
	assert_int_equal(ih[1], 4);
	assert_int_equal(rd16(ih + 6), 1400);
	assert_int_equal((uint16_t)~tb_sum(ih, 36, 0), 0); /* ICMP checksum verifies */
	uint8_t *in = ih + 8;
	assert_int_equal(tb_ip_cksum(in, 20), rd16(in + 10));
	assert_int_equal(rd32(in + 12), ip4("198.51.100.2"));
	assert_int_equal(rd32(in + 16), ip4("198.51.100.1"));
	assert_int_equal(rd16(in + 20), 5000);
	assert_int_equal(rd16(in + 22), 7777);
	rte_pktmbuf_free(m);
}

/* Non-first fragments carry no ports: they follow the first fragment's session. */
static void later_fragment_follows_first(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	uint8_t *ip = buf + 14;
	/* first fragment: MF set, offset 0; keep the UDP length of the whole datagram */
	ip[6] = 0x20;
	uint16_t c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	inject(DP_PORT_EXT, buf, n);
	uint8_t *f = take(DP_PORT_INT, &m);
	uint32_t backend = rd32(f + 14 + 16);
	rte_pktmbuf_free(m);

	/* a later fragment: offset 4 (32 bytes, past the first one's 28), no L4 header, 16 bytes */
	ip[6] = 0x00;
	ip[7] = 4;
	ip[2] = 0, ip[3] = 20 + 16;
	c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	inject(DP_PORT_EXT, buf, 14 + 20 + 16);
	f = take(DP_PORT_INT, &m);
	assert_int_equal(rd32(f + 14 + 16), backend);
	assert_int_equal(rd32(f + 14 + 12), ip4("10.0.0.1"));
	assert_memory_equal(f + 14 + 20, buf + 14 + 20, 16); /* payload untouched */
	rte_pktmbuf_free(m);

	/* a later fragment of an unknown datagram: held for its first one, then dropped */
	ip[4] = 0x77;
	c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	inject(DP_PORT_EXT, buf, 14 + 20 + 16);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->frag.n_held, 1);
	w->now += w->hz;
	frag_expire(w);
	assert_int_equal(w->frag.n_held, 0);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_HOLD_TIMEOUT], 1);
}

/* af_xdp hands over a datagram's fragments in one burst: the later ones must still find the
 * session their first fragment creates in that burst. */
static void later_fragment_in_the_first_ones_burst_follows_it(void **state)
{
	(void)state;
	uint8_t first[256], later[256];
	struct rte_mbuf *m[2];
	size_t n = flow(first, "198.51.100.2", 5001, "198.51.100.1", 7777, IPPROTO_UDP, 0,
			DP_PORT_EXT);
	uint8_t *ip = first + 14;
	ip[6] = 0x20; /* MF */
	uint16_t c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	memcpy(later, first, n);
	ip = later + 14;
	ip[6] = 0x00;
	ip[7] = 4;
	ip[2] = 0, ip[3] = 20 + 16;
	c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	/* both in one burst, in order */
	for (int i = 0; i < 2; i++) {
		m[i] = rte_pktmbuf_alloc(pool);
		assert_non_null(m[i]);
	}
	memcpy(rte_pktmbuf_append(m[0], (uint16_t)n), first, n);
	memcpy(rte_pktmbuf_append(m[1], 14 + 20 + 16), later, 14 + 20 + 16);
	nat_process_burst(w, tables_get(), DP_PORT_EXT, m, 2);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 2);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_NO_SESSION], 0);
	uint8_t *f0 = rte_pktmbuf_mtod(w->tx[DP_PORT_INT][0], uint8_t *);
	uint8_t *f1 = rte_pktmbuf_mtod(w->tx[DP_PORT_INT][1], uint8_t *);
	assert_int_equal(rd32(f1 + 14 + 16), rd32(f0 + 14 + 16));
	assert_int_equal(rd32(f1 + 14 + 12), ip4("10.0.0.1"));
	assert_int_equal(tb_ip_cksum(f1 + 14, 20), rd16(f1 + 14 + 10));
}

static void unknown_neighbour_parks_packet_in_slow_path(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;
	neigh_reset();
	size_t n =
		flow(buf, "198.51.100.2", 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	inject(DP_PORT_EXT, buf, n);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(rte_ring_dequeue(w->sp_out, (void **)&m), 0);
	assert_int_equal(dp_priv(m)->reason, DP_SP_NEED_NEIGH);
	assert_int_equal(dp_priv(m)->out_port, DP_PORT_INT);
	/* the packet is already translated: only its destination MAC is missing */
	assert_int_equal(rd32(rte_pktmbuf_mtod(m, uint8_t *) + 14 + 12), ip4("10.0.0.1"));
	rte_pktmbuf_free(m);
}

/* Worker 0 of two (the fixture's worker replaced), its handoff to worker 1 through ring
 * @p name (into @p r). @return worker 1, for handoff_done(). */
static struct dp_worker *two_workers(const char *name, struct rte_ring **r)
{
	char err[256];
	struct dp_worker *w1 = dp_worker_new(1, 2, 0, 16, err, sizeof(err));

	*r = rte_ring_create(name, 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(w1);
	assert_non_null(*r);
	dp_worker_free(w);
	w = dp_worker_new(0, 2, 0, 64, err, sizeof(err));
	assert_non_null(w);
	memcpy(&w->mac[DP_PORT_EXT], MAC_EXT, 6);
	memcpy(&w->mac[DP_PORT_INT], MAC_INT, 6);
	w->handoff_out[1] = *r;
	return w1;
}

/* What worker 0 handed to worker 1 through @p r (into @p handed) and what it kept (into
 * @p kept: parked for an unknown client MAC, or sent on int), counted and freed. */
static void handed_and_kept(struct rte_ring *r, unsigned int *handed, unsigned int *kept)
{
	struct rte_mbuf *m = NULL;

	while (rte_ring_dequeue(r, (void **)&m) == 0) {
		(*handed)++;
		assert_int_equal(dp_priv(m)->in_port, DP_PORT_EXT);
		rte_pktmbuf_free(m);
	}
	while (rte_ring_dequeue(w->sp_out, (void **)&m) == 0) {
		(*kept)++;
		rte_pktmbuf_free(m);
	}
	for (unsigned int i = 0; i < dp_tx_n(w, DP_PORT_INT); i++, (*kept)++)
		rte_pktmbuf_free(w->tx[DP_PORT_INT][i]);
	dp_tx_reset(w, DP_PORT_INT);
}

/* @p n packets, @p handed of them to worker 1 and @p kept by worker 0: both sides have a share,
 * the handoff counter says as much; then worker 1 and ring @p r go. */
static void handoff_done(struct dp_worker *w1, struct rte_ring *r, unsigned int n,
			 unsigned int handed, unsigned int kept)
{
	assert_int_equal(handed + kept, n);
	assert_true(handed > 5 && kept > 5);
	assert_int_equal(w->stats.handoff_out, handed);
	w->handoff_out[1] = NULL;
	rte_ring_free(r);
	dp_worker_free(w1);
}

/* With two workers, worker 0 passes a flow it does not own to its owner's ring. */
static void packet_of_other_worker_is_handed_off(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_ring *r;
	struct dp_worker *w1 = two_workers("ho_test", &r);
	unsigned int handed = 0, kept = 0;

	for (int c = 2; c < 40; c++) {
		char src[16];
		snprintf(src, sizeof(src), "198.51.100.%d", c);
		size_t n = flow(buf, src, 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
		inject(DP_PORT_EXT, buf, n);
		handed_and_kept(r, &handed, &kept);
	}
	print_message("38 clients: %u handed to worker 1, %u kept\n", handed, kept);
	handoff_done(w1, r, 38, handed, kept);
}

/* With two workers, a burst of packets to one mapping address: each packet's owner decided on
 * its own (the burst's cached address, classify_ip()'s vip_solo, skips the handoff test only
 * when the worker is the only one). */
static void packets_to_one_address_in_one_burst_are_each_handed_off(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_ring *r;
	struct dp_worker *w1 = two_workers("ho_burst", &r);
	struct rte_mbuf *pk[30];
	unsigned int handed = 0, kept = 0;

	for (int c = 0; c < 30; c++) {
		char src[16];
		snprintf(src, sizeof(src), "198.51.100.%d", c + 2);
		size_t n = flow(buf, src, 5000, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
		pk[c] = rte_pktmbuf_alloc(pool);
		assert_non_null(pk[c]);
		memcpy(rte_pktmbuf_append(pk[c], (uint16_t)n), buf, n);
	}
	nat_process_burst(w, tables_get(), DP_PORT_EXT, pk, 30);
	handed_and_kept(r, &handed, &kept);
	print_message("30 clients in one burst: %u handed to worker 1, %u kept\n", handed, kept);
	assert_int_equal(w->stats.sessions_created, kept);
	handoff_done(w1, r, 30, handed, kept);
}

/* On a NIC with RSS, a full-NAT session's SNAT port is chosen so that the replies hash
 * (Toeplitz, RETA) to the owner's own queue: checked with rte_softrss computed here. */
static void rss_snat_port_lands_replies_on_owner_queue(void **state)
{
	(void)state;
	static const uint8_t key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
					0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
					0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
					0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
	uint8_t buf[256];
	char err[256];
	struct rte_mbuf *m = NULL;

	dp_worker_free(w);
	w = dp_worker_new(2, 4, 0, 256, err, sizeof(err)); /* worker 2 of 4 */
	assert_non_null(w);
	memcpy(&w->mac[DP_PORT_EXT], MAC_EXT, 6);
	memcpy(&w->mac[DP_PORT_INT], MAC_INT, 6);
	w->hz = 1000;
	w->rss_int.enabled = true;
	w->rss_int.reta_size = 128;
	memcpy(w->rss_int.key, key, sizeof(key));
	for (int i = 0; i < 128; i++)
		w->rss_int.reta[i] = (uint16_t)(i % 4);
	/* a client whose flows this worker owns (client hash % 4 == 2) */
	char client[16] = "";
	for (int c = 2; c < 250 && !client[0]; c++) {
		struct pkt_meta pm = {.src = rte_cpu_to_be_32(ip4("198.51.100.0") + (uint32_t)c)};
		if (nat_owner(w, tables_get(), DP_PORT_EXT, &pm) == 2)
			cfg_ipv4_str(ip4("198.51.100.0") + (uint32_t)c, client);
	}
	assert_true(client[0] != 0);
	neigh_update(rte_cpu_to_be_32(ip4(client)), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	for (uint16_t p = 0; p < 100; p++) {
		size_t n = flow(buf, client, (uint16_t)(30000 + p), "198.51.100.1", 8080,
				IPPROTO_TCP, RTE_TCP_SYN_FLAG, DP_PORT_EXT);
		inject(DP_PORT_EXT, buf, n);
		uint8_t *f = take(DP_PORT_INT, &m);
		uint32_t t[3] = {rd32(f + 14 + 16), rd32(f + 14 + 12),
				 (uint32_t)rd16(f + 14 + 22) << 16 | rd16(f + 14 + 20)};
		uint16_t sport = rd16(f + 14 + 20);
		assert_true(sport >= w->snat_lo && sport <= w->snat_hi);
		assert_int_equal(rte_softrss(t, 3, key) % 128 % 4, 2);
		rte_pktmbuf_free(m);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(full_nat_tcp_both_directions_rewrites_and_checksums),
		T(udp_checksum_zero_stays_zero_through_nat),
		T(unmapped_port_is_dropped_and_counted),
		T(tcp_without_syn_starts_no_session),
		T(source_outside_allow_list_is_dropped),
		T(internal_source_on_ext_is_spoofed),
		T(session_table_full_drops_new_and_keeps_old),
		T(udp_session_expires_after_its_timeout),
		T(malformed_packets_are_counted_by_reason),
		T(the_nics_l4_checksum_verdict_is_taken),
		T(the_nics_ip_checksum_verdict_is_taken),
		T(ports_ask_the_checksum_offloads_offered),
		T(ttl_one_goes_to_slow_path),
		T(out_of_window_rst_and_fin_are_dropped_and_counted),
		T(bad_tcp_flags_are_dropped_and_counted),
		T(ttl_one_syn_creates_no_session),
		T(mss_is_clamped_both_ways),
		T(many_source_ports_spread_over_all_backends),
		T(port_range_maps_offset_to_target),
		T(per_broker_port_reaches_its_one_backend),
		T(preserve_source_keeps_client_address),
		T(icmp_frag_needed_from_pod_is_translated),
		T(later_fragment_follows_first),
		T(later_fragment_in_the_first_ones_burst_follows_it),
		T(unknown_neighbour_parks_packet_in_slow_path),
		T(packet_of_other_worker_is_handed_off),
		T(packets_to_one_address_in_one_burst_are_each_handed_off),
		T(rss_snat_port_lands_replies_on_owner_queue),
	};
	return cmocka_run_group_tests_name("nat", tests, group_setup, group_teardown);
}
