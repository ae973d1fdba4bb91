/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP state from flags (RFC 5382 REQ-5, RFC 7857 §2.2): what decides a session's timeout
 * class. Pure: no EAL. The table itself is in session_test.c, timeouts through the NAT path
 * in nat_test.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include <rte_tcp.h>

#include "session.h"

static struct nat_session tcp_session(void)
{
	struct nat_session se = {.state = NAT_ST_SYN_SENT, .proto = IPPROTO_TCP};
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
	nat_session_tcp_update(&se, DIR_O2I, RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_ESTABLISHED);
	assert_string_equal(nat_session_state_name(se.state), "established");
}

static void fin_both_ways_closes(void **state)
{
	(void)state;
	struct nat_session se = tcp_session();
	se.state = NAT_ST_ESTABLISHED;
	nat_session_tcp_update(&se, DIR_O2I, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(se.state, NAT_ST_FIN_WAIT);
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
}

static void new_syn_reopens_closed_session(void **state)
{
	(void)state;
	struct nat_session se = tcp_session();
	se.state = NAT_ST_CLOSED;
	se.flags = NAT_F_FIN_O2I | NAT_F_FIN_I2O | NAT_F_SEEN_I2O;
	nat_session_tcp_update(&se, DIR_O2I, RTE_TCP_SYN_FLAG);
	assert_int_equal(se.state, NAT_ST_SYN_SENT);
	assert_int_equal(se.flags, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_makes_established),
		cmocka_unit_test(fin_both_ways_closes),
		cmocka_unit_test(rst_closes_from_any_state),
		cmocka_unit_test(new_syn_reopens_closed_session),
	};
	return cmocka_run_group_tests_name("session_tcp", tests, NULL, NULL);
}
