/* SPDX-License-Identifier: BSD-3-Clause */
/* The session module alone: TCP state from flags, timeouts by state, keys derived from the
 * rewrites, and bounded aging. Lookup through the NAT path is in nat_test.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_tcp.h>

#include "dp_priv.h"

static int group_setup(void **state)
{
	(void)state;
	char *argv[] = {"session_test", "--no-huge", "--no-pci", "--no-shconf", "-m", "128",
			"-l", "0", "--log-level=*:error", NULL};
	return rte_eal_init(9, argv) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

static struct nat_session tcp_session(void)
{
	struct nat_session se = {.state = NAT_ST_SYN_SENT, .proto = IPPROTO_TCP,
				 .flags = NAT_F_IN_USE, .timeout_s = 7440, .timeout_trans_s = 240};
	return se;
}

static void handshake_makes_established(void **state)
{
	(void)state;
	struct nat_session se = tcp_session();
	nat_session_tcp_update(&se, DIR_O2I, RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_SYN_SENT); /* no answer from the server yet */
	nat_session_tcp_update(&se, DIR_I2O, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_SYN_SENT);
	assert_int_equal(nat_session_timeout_s(&se), 240);
	nat_session_tcp_update(&se, DIR_O2I, RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_ESTABLISHED);
	assert_int_equal(nat_session_timeout_s(&se), 7440);
	assert_string_equal(nat_session_state_name(se.state), "established");
}

static void fin_both_ways_closes(void **state)
{
	(void)state;
	struct nat_session se = tcp_session();
	se.state = NAT_ST_ESTABLISHED;
	nat_session_tcp_update(&se, DIR_O2I, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_FIN_WAIT);
	assert_int_equal(nat_session_timeout_s(&se), 240);
	nat_session_tcp_update(&se, DIR_I2O, RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_FIN_WAIT);
	nat_session_tcp_update(&se, DIR_I2O, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_CLOSED);
}

static void rst_closes_from_any_state(void **state)
{
	(void)state;
	struct nat_session se = tcp_session();
	se.state = NAT_ST_ESTABLISHED;
	nat_session_tcp_update(&se, DIR_I2O, RTE_TCP_RST_FLAG);
	assert_int_equal(se.state, NAT_ST_CLOSED);
	assert_int_equal(nat_session_timeout_s(&se), 240);
}

static void new_syn_reopens_closed_session(void **state)
{
	(void)state;
	struct nat_session se = tcp_session();
	se.state = NAT_ST_CLOSED;
	se.flags |= NAT_F_FIN_O2I | NAT_F_FIN_I2O | NAT_F_SEEN_I2O;
	nat_session_tcp_update(&se, DIR_O2I, RTE_TCP_SYN_FLAG);
	assert_int_equal(se.state, NAT_ST_SYN_SENT);
	assert_int_equal(se.flags, NAT_F_IN_USE);
}

static void keys_are_the_reverse_of_the_other_rewrite(void **state)
{
	(void)state;
	struct nat_session se = {.proto = IPPROTO_UDP};
	struct nat_key k;
	/* out2in rewrite: client 1.1.1.1:100 → VIP 2.2.2.2:200 becomes SNAT 3.3.3.3:300 → pod
	 * 4.4.4.4:400; the in2out rewrite is the way back. */
	se.rw_o2i = (struct nat_rewrite){.src = 0x03030303, .dst = 0x04040404, .sport = 300,
					 .dport = 400};
	se.rw_i2o = (struct nat_rewrite){.src = 0x02020202, .dst = 0x01010101, .sport = 200,
					 .dport = 100};
	nat_session_key(&se, DIR_O2I, &k);
	assert_int_equal(k.src, 0x01010101);
	assert_int_equal(k.dst, 0x02020202);
	assert_int_equal(k.sport, 100);
	assert_int_equal(k.dport, 200);
	nat_session_key(&se, DIR_I2O, &k);
	assert_int_equal(k.src, 0x04040404);
	assert_int_equal(k.dst, 0x03030303);
	assert_int_equal(k.sport, 400);
	assert_int_equal(k.dport, 300);
	assert_int_equal(k.proto, IPPROTO_UDP);
	assert_int_equal(k.family, 4);
}

/* Aging does at most `budget` records per pass, and every record is reached in turn. */
static void expiry_work_is_bounded_per_pass(void **state)
{
	(void)state;
	char err[128];
	struct dp_worker *w = dp_worker_new(0, 1, 0, 100, err, sizeof(err));
	assert_non_null(w);
	w->hz = 1;
	w->now = 1000;
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t idx = w->sess.free_idx[--w->sess.n_free];
		struct nat_session *se = &w->sess.recs[idx];
		se->flags = NAT_F_IN_USE;
		se->state = NAT_ST_UDP;
		se->proto = IPPROTO_UDP;
		se->timeout_s = 10;
		se->rw_o2i.sport = (rte_be16_t)i; /* distinct keys in both directions */
		se->rw_i2o.dport = (rte_be16_t)i;
		se->last_seen_tsc = i < 50 ? 0 : 995; /* half idle for 1000 s, half for 5 s */
		struct nat_key k;
		for (int d = 0; d < 2; d++) {
			nat_session_key(se, d, &k);
			assert_true(rte_hash_add_key_data(w->sess.h, &k,
							  (void *)(uintptr_t)(idx << 1 | d)) >= 0);
		}
		w->sess.hwm = RTE_MAX(w->sess.hwm, idx + 1);
		w->sess.active++;
	}
	assert_true(nat_sessions_expire(w, 16) <= 16);
	unsigned int total = 0;
	for (int pass = 0; pass < 20; pass++)
		total += nat_sessions_expire(w, 16);
	assert_true(total <= 50);
	assert_int_equal(w->sess.active, 50);
	assert_int_equal(w->sess.n_free, 50);
	assert_int_equal(rte_hash_count(w->sess.h), 100); /* two keys for each of the 50 left */
	dp_worker_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_makes_established),
		cmocka_unit_test(fin_both_ways_closes),
		cmocka_unit_test(rst_closes_from_any_state),
		cmocka_unit_test(new_syn_reopens_closed_session),
		cmocka_unit_test(keys_are_the_reverse_of_the_other_rewrite),
		cmocka_unit_test(expiry_work_is_bounded_per_pass),
	};
	return cmocka_run_group_tests_name("session", tests, group_setup, group_teardown);
}
