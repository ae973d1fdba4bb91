/* SPDX-License-Identifier: BSD-3-Clause */
/* The TCP checks of an existing session (nat_tcp_track(), session_inlines.h): flag
 * combinations, and RST and FIN accepted only within the receiver's window of the sender's
 * sequence end (RFC 5961 §3, Linux conntrack's tcp_in_window). Pure: no EAL. Through the
 * NAT path, with the drop counters: nat_test.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include <rte_tcp.h>

#include "session_inlines.h"

/* A TCP header with options room: 20 bytes, or 24 with a window scale option. */
struct seg {
	struct rte_tcp_hdr th;
	uint8_t opt[4];
};

static struct seg seg(uint32_t seq, uint8_t flags, uint16_t win, int wscale)
{
	struct seg s;
	memset(&s, 0, sizeof(s));
	s.th.sent_seq = rte_cpu_to_be_32(seq);
	s.th.tcp_flags = flags;
	s.th.rx_win = rte_cpu_to_be_16(win);
	s.th.data_off = 5 << 4;
	if (wscale >= 0) {
		s.th.data_off = 6 << 4;
		s.opt[0] = 1; /* NOP */
		s.opt[1] = 3; /* window scale, length 3 */
		s.opt[2] = 3;
		s.opt[3] = (uint8_t)wscale;
	}
	return s;
}

static int send_seg(struct nat_session *se, struct nat_tcp_td *td, int dir, uint32_t seq,
		    uint8_t flags, uint16_t win, uint32_t payload)
{
	struct seg s = seg(seq, flags, win, -1);
	return nat_tcp_track(se, td, dir, &s.th, 20 + payload);
}

/* Client ISN 1000, server ISN 5000, windows 65535 unscaled, then established. */
static void handshake(struct nat_session *se, struct nat_tcp_td *td, int ws_c, int ws_s,
		      uint16_t win)
{
	struct seg s;
	memset(se, 0, sizeof(*se));
	memset(td, 0xa5, sizeof(*td)); /* a reused record: tracking must start afresh */
	td->mss_clamp = 0;	       /* set with the session (nat.c) */
	se->proto = IPPROTO_TCP;
	se->state = NAT_ST_SYN_SENT;
	s = seg(1000, RTE_TCP_SYN_FLAG, win, ws_c);
	nat_tcp_track_start(td, &s.th, ws_c >= 0 ? 24 : 20);
	assert_int_equal(nat_tcp_track(se, td, DIR_O2I, &s.th, ws_c >= 0 ? 24 : 20), 0);
	s = seg(5000, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, win, ws_s);
	assert_int_equal(nat_tcp_track(se, td, DIR_I2O, &s.th, ws_s >= 0 ? 24 : 20), 0);
	assert_int_equal(send_seg(se, td, DIR_O2I, 1001, RTE_TCP_ACK_FLAG, win, 0), 0);
	assert_int_equal(se->state, NAT_ST_ESTABLISHED);
	assert_int_equal(td->end[DIR_O2I], 1001);
	assert_int_equal(td->end[DIR_I2O], 5001);
}

static void out_of_window_rst_and_fin_are_refused(void **state)
{
	(void)state;
	struct nat_session se;
	struct nat_tcp_td td;
	handshake(&se, &td, -1, -1, 65535);

	/* blind guesses, both directions: beyond the window either way */
	assert_int_equal(send_seg(&se, &td, DIR_O2I, 1001 + 65536, RTE_TCP_RST_FLAG, 0, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(send_seg(&se, &td, DIR_O2I, 1001 - 65536,
				  RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(send_seg(&se, &td, DIR_O2I, 0x80000000u,
				  RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 65535, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 5001 + 100000, RTE_TCP_RST_FLAG, 0, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(se.state, NAT_ST_ESTABLISHED);
	assert_int_equal(se.flags & (NAT_F_FIN_O2I | NAT_F_FIN_I2O), 0);
	assert_int_equal(td.end[DIR_O2I], 1001); /* refused segments are not tracked */
}

/* A backend in TIME-WAIT of the same 4-tuple (an SNAT port reused soon) answers a new SYN
 * with an ACK of the old connection; the client answers that with a RST of the backend's
 * numbers, which must pass (else the backend's TIME-WAIT outlives every retried SYN). */
static void client_rst_answering_a_stale_ack_passes_in_syn_sent(void **state)
{
	(void)state;
	struct nat_session se;
	struct nat_tcp_td td;
	struct seg s;

	memset(&se, 0, sizeof(se));
	memset(&td, 0, sizeof(td));
	se.proto = IPPROTO_TCP;
	se.state = NAT_ST_SYN_SENT;
	s = seg(1000, RTE_TCP_SYN_FLAG, 65535, -1);
	nat_tcp_track_start(&td, &s.th, 20);
	assert_int_equal(nat_tcp_track(&se, &td, DIR_O2I, &s.th, 20), 0);
	/* the old connection's ACK: seq 777000, ack 3000000000 (nothing to do with 1001) */
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 777000, RTE_TCP_ACK_FLAG, 65535, 0), 0);
	assert_int_equal(se.state, NAT_ST_SYN_SENT);
	assert_int_equal(send_seg(&se, &td, DIR_O2I, 3000000000u, RTE_TCP_RST_FLAG, 0, 0), 0);
	assert_int_equal(se.state, NAT_ST_CLOSED);
	/* the retried SYN starts the session again */
	s = seg(1000, RTE_TCP_SYN_FLAG, 65535, -1);
	assert_int_equal(nat_tcp_track(&se, &td, DIR_O2I, &s.th, 20), 0);
	assert_int_equal(se.state, NAT_ST_SYN_SENT);
	/* but a blind RST of an established session is still refused */
	struct nat_session est;
	struct nat_tcp_td etd;
	handshake(&est, &etd, -1, -1, 65535);
	assert_int_equal(send_seg(&est, &etd, DIR_O2I, 3000000000u, RTE_TCP_RST_FLAG, 0, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(est.state, NAT_ST_ESTABLISHED);
}

static void in_window_rst_closes(void **state)
{
	(void)state;
	struct nat_session se;
	struct nat_tcp_td td;
	handshake(&se, &td, -1, -1, 65535);
	/* the pod restarted: its RST takes its number from the client's ACK (RFC 793) */
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 5001, RTE_TCP_RST_FLAG, 0, 0), 0);
	assert_int_equal(se.state, NAT_ST_CLOSED);
}

static void in_window_fin_moves_to_fin_wait(void **state)
{
	(void)state;
	struct nat_session se;
	struct nat_tcp_td td;
	handshake(&se, &td, -1, -1, 65535);
	assert_int_equal(
		send_seg(&se, &td, DIR_O2I, 1001, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 65535, 0),
		0);
	assert_int_equal(se.state, NAT_ST_FIN_WAIT);
	assert_int_equal(td.end[DIR_O2I], 1002); /* a FIN takes a sequence number */
}

static void tracking_follows_the_data(void **state)
{
	(void)state;
	struct nat_session se;
	struct nat_tcp_td td;
	handshake(&se, &td, -1, -1, 65535);
	/* 10 MB later (in 1000-byte segments the gateway saw; one here stands for them) */
	uint32_t s = 1001;
	for (int i = 0; i < 200; i++, s += 50000)
		assert_int_equal(send_seg(&se, &td, DIR_O2I, s, RTE_TCP_ACK_FLAG, 65535, 50000), 0);
	assert_int_equal(td.end[DIR_O2I], s);
	/* a retransmission does not move the end back */
	assert_int_equal(send_seg(&se, &td, DIR_O2I, 1001, RTE_TCP_ACK_FLAG, 65535, 1000), 0);
	assert_int_equal(td.end[DIR_O2I], s);
	/* the ISN is now far out of the window; the current end is in it */
	assert_int_equal(send_seg(&se, &td, DIR_O2I, 1001, RTE_TCP_RST_FLAG, 0, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(send_seg(&se, &td, DIR_O2I, s - 100, RTE_TCP_RST_FLAG, 0, 0), 0);
	assert_int_equal(se.state, NAT_ST_CLOSED);
}

static void window_scale_of_both_syns_widens_the_window(void **state)
{
	(void)state;
	struct nat_session se;
	struct nat_tcp_td td;

	/* both SYNs with scale 7: a raw window of 1000 is 128000 bytes */
	handshake(&se, &td, 7, 7, 1000);
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 5001, RTE_TCP_ACK_FLAG, 1000, 0), 0);
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 5001 + 120000, RTE_TCP_RST_FLAG, 0, 0), 0);
	assert_int_equal(se.state, NAT_ST_CLOSED);

	/* only the client's SYN has it: no scaling (RFC 7323 §2.2), the window is 1000 */
	handshake(&se, &td, 7, -1, 1000);
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 5001 + 120000, RTE_TCP_RST_FLAG, 0, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 5001 + 900, RTE_TCP_RST_FLAG, 0, 0), 0);
	assert_int_equal(se.state, NAT_ST_CLOSED);
}

static void bad_flag_combinations_are_refused(void **state)
{
	(void)state;
	static const uint8_t bad[] = {
		0, /* NULL scan */
		RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG,
		RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG,
		RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_URG_FLAG,
		RTE_TCP_FIN_FLAG,					/* FIN without ACK */
		RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_URG_FLAG, /* Xmas */
		RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG,
		RTE_TCP_PSH_FLAG,
	};
	struct nat_session se;
	struct nat_tcp_td td;
	handshake(&se, &td, -1, -1, 65535);
	for (unsigned int i = 0; i < sizeof(bad); i++) {
		assert_false(nat_tcp_flags_valid(bad[i]));
		assert_int_equal(send_seg(&se, &td, DIR_O2I, 1001, bad[i], 65535, 0),
				 DP_DROP_TCP_BAD_FLAGS);
	}
	assert_int_equal(se.state, NAT_ST_ESTABLISHED);
	/* and what stacks send passes, PSH, ECE and CWR aside */
	assert_true(nat_tcp_flags_valid(RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_ECE_FLAG));
	assert_true(nat_tcp_flags_valid(RTE_TCP_SYN_FLAG | RTE_TCP_ECE_FLAG | RTE_TCP_CWR_FLAG));
	assert_true(nat_tcp_flags_valid(RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG));
	assert_true(nat_tcp_flags_valid(RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG));
}

static void recycled_tuple_starts_tracking_again(void **state)
{
	(void)state;
	struct nat_session se;
	struct nat_tcp_td td;
	struct seg s;
	handshake(&se, &td, -1, -1, 65535);
	assert_int_equal(send_seg(&se, &td, DIR_O2I, 1001, RTE_TCP_RST_FLAG, 0, 0), 0);
	assert_int_equal(se.state, NAT_ST_CLOSED);
	/* the client reuses its port with a new ISN far away */
	s = seg(0x40000000u, RTE_TCP_SYN_FLAG, 65535, -1);
	assert_int_equal(nat_tcp_track(&se, &td, DIR_O2I, &s.th, 20), 0);
	assert_int_equal(se.state, NAT_ST_SYN_SENT);
	assert_int_equal(td.end[DIR_O2I], 0x40000001u);
	s = seg(0x70000000u, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, -1);
	assert_int_equal(nat_tcp_track(&se, &td, DIR_I2O, &s.th, 20), 0);
	assert_int_equal(td.end[DIR_I2O], 0x70000001u);
	assert_int_equal(send_seg(&se, &td, DIR_I2O, 5001, RTE_TCP_RST_FLAG, 0, 0),
			 DP_DROP_TCP_OUT_OF_WINDOW);
}

/* The MSS option at an even offset, then behind a NOP (odd): lowered, and the checksum
 * updated incrementally equals the one computed from scratch (RFC 1624). */
static void mss_clamp_rewrites_option_and_checksum(void **state)
{
	(void)state;
	for (int nop = 0; nop < 2; nop++) {
		uint8_t b[28] = {0};
		struct rte_tcp_hdr *th = (void *)b;
		th->sent_seq = rte_cpu_to_be_32(0x12345678);
		th->tcp_flags = RTE_TCP_SYN_FLAG;
		th->data_off = 7 << 4;
		th->rx_win = rte_cpu_to_be_16(64240);
		uint8_t *o = b + 20;
		if (nop)
			*o++ = 1;
		o[0] = 2, o[1] = 4, o[2] = 1460 >> 8, o[3] = 1460 & 0xff;
		th->cksum = 0;
		th->cksum = cksum_full(b, sizeof(b));
		assert_false(nat_tcp_mss_clamp(th, 28, 1460)); /* not above: untouched */
		assert_true(nat_tcp_mss_clamp(th, 28, 1200));
		assert_int_equal(o[2] << 8 | o[3], 1200);
		assert_int_equal(cksum_full(b, sizeof(b)), 0); /* still verifies */
		uint16_t inc = th->cksum;
		th->cksum = 0;
		assert_int_equal(cksum_full(b, sizeof(b)), inc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(out_of_window_rst_and_fin_are_refused),
		cmocka_unit_test(client_rst_answering_a_stale_ack_passes_in_syn_sent),
		cmocka_unit_test(in_window_rst_closes),
		cmocka_unit_test(in_window_fin_moves_to_fin_wait),
		cmocka_unit_test(tracking_follows_the_data),
		cmocka_unit_test(window_scale_of_both_syns_widens_the_window),
		cmocka_unit_test(bad_flag_combinations_are_refused),
		cmocka_unit_test(recycled_tuple_starts_tracking_again),
		cmocka_unit_test(mss_clamp_rewrites_option_and_checksum),
	};
	return cmocka_run_group_tests_name("tcp_window", tests, NULL, NULL);
}
