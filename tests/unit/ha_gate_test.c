/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which addresses ha mode gates (cfg_ha_gated(), docs/ha.md "Full NAT in BGP mode"): in mode
 * bgp with an int TAP, the int arm's SNAT addresses but its first are VRRP addresses, served
 * (ARP, destination, source of new full-NAT sessions) only while the int TAP holds them; the
 * tables a gateway builds from that before and after a takeover; and the workers' SNAT
 * bitmaps when such an address appears or goes (dp/snat.c). Fixture: nat_fixture.h.
 */
#include <netinet/in.h>

#include "nat_fixture.h"
#include "sync.h"

#define PART_LO 1024u
#define PART_N	256u

static char cerr[512];

/* ---- config: gating per mode and per address ------------------------------------------- */

#define EXT_TAP                                                                                    \
	"ports:\n  ext: {device: net_af_packet0, addresses: [198.51.100.2/24], "                   \
	"kernel: {tap: strait-ext}}\n"
#define INT_ADDRS                                                                                  \
	"  int: {device: net_af_packet1, addresses: [10.0.0.2/24, 10.0.0.10/24, 10.0.0.20/24, "    \
	"10.0.0.5/24], snat: {addresses: [10.0.0.10, 10.0.0.20]}"

static void load(const char *yaml, struct cfg *c)
{
	cerr[0] = '\0';
	if (cfg_load_string("t.yaml", yaml, strlen(yaml), c, cerr, sizeof(cerr)) != 0)
		fail_msg("cfg_load_string: %s", cerr);
}

static bool gated_int(const struct cfg *c, const char *a)
{
	return cfg_ha_gated(c, &c->intl, ip4(a), false);
}

/* Mode bgp, int TAP: the SNAT VIPs are gated, the own address, an int address that is no
 * SNAT address, the ext addresses and the mapping addresses are not. */
static void bgp_gates_the_int_snat_vips_with_an_int_tap(void **state)
{
	static struct cfg c;

	(void)state;
	load(EXT_TAP INT_ADDRS ", kernel: {tap: strait-int}}\nha: {mode: bgp}\n", &c);
	assert_int_equal(c.ha_mode, CFG_HA_BGP);
	assert_true(gated_int(&c, "10.0.0.10"));
	assert_true(gated_int(&c, "10.0.0.20"));
	assert_false(gated_int(&c, "10.0.0.2"));
	assert_false(gated_int(&c, "10.0.0.5"));
	assert_false(cfg_ha_gated(&c, &c.ext, ip4("198.51.100.2"), false));
	assert_false(cfg_ha_gated(&c, &c.ext, ip4("192.0.2.1"), true));
	cfg_free(&c);

	/* the first address listed as a SNAT address too: still the gateway's own, never gated */
	load(EXT_TAP "  int: {device: net_af_packet1, addresses: [10.0.0.2/24, 10.0.0.10/24], "
		     "snat: {addresses: [10.0.0.2, 10.0.0.10]}, kernel: {tap: strait-int}}\n"
		     "ha: {mode: bgp}\n",
	     &c);
	assert_false(gated_int(&c, "10.0.0.2"));
	assert_true(gated_int(&c, "10.0.0.10"));
	cfg_free(&c);
}

/* Mode bgp without an int TAP: nothing could hold a VIP, so every SNAT address is served as
 * today (several addresses for more ports); modes none and vrrp are as they were. */
static void gating_per_mode(void **state)
{
	static struct cfg c;

	(void)state;
	load(EXT_TAP INT_ADDRS "}\nha: {mode: bgp}\n", &c);
	assert_false(gated_int(&c, "10.0.0.10"));
	assert_false(gated_int(&c, "10.0.0.20"));
	cfg_free(&c);

	load(EXT_TAP INT_ADDRS ", kernel: {tap: strait-int}}\n", &c);
	assert_int_equal(c.ha_mode, CFG_HA_NONE);
	assert_false(gated_int(&c, "10.0.0.10"));
	cfg_free(&c);

	load(EXT_TAP INT_ADDRS ", kernel: {tap: strait-int}}\nha: {mode: vrrp}\n", &c);
	assert_true(gated_int(&c, "10.0.0.10"));
	assert_true(gated_int(&c, "10.0.0.5")); /* vrrp: every address but the first */
	assert_false(gated_int(&c, "10.0.0.2"));
	assert_true(cfg_ha_gated(&c, &c.ext, ip4("192.0.2.1"), true));
	cfg_free(&c);
}

/* ---- tables: the SNAT addresses with and without the TAP holding the VIPs ----------------- */

/* Gateway B of docs/ha.md's example: own 10.0.0.1, its SNAT VIP 10.0.0.10 listed first, A's
 * 10.0.0.20 after it, an int TAP, mode bgp. */
static void gateway_b(void)
{
	cfg.ha_mode = CFG_HA_BGP;
	snprintf(cfg.ext.kernel_tap, sizeof(cfg.ext.kernel_tap), "strait-ext");
	snprintf(cfg.intl.kernel_tap, sizeof(cfg.intl.kernel_tap), "strait-int");
	cfg.intl.addrs[1] = (struct cfg_cidr){ip4("10.0.0.10"), 24};
	cfg.intl.addrs[2] = (struct cfg_cidr){ip4("10.0.0.20"), 24};
	cfg.intl.n_addrs = 3;
	cfg.intl.snat[0] = ip4("10.0.0.10");
	cfg.intl.snat[1] = ip4("10.0.0.20");
	cfg.intl.n_snat = 2;
}

static void hold(unsigned int n, const char *a0, const char *a1)
{
	cfg.intl.n_held = n;
	if (n > 0)
		cfg.intl.held[0] = ip4(a0);
	if (n > 1)
		cfg.intl.held[1] = ip4(a1);
	publish();
}

static bool int_local(const char *a)
{
	return tables_is_local(tables_get(), DP_PORT_INT, rte_cpu_to_be_32(ip4(a)));
}

static void snat_is(unsigned int n, const char *a0, const char *a1)
{
	const struct tables *t = tables_get();

	assert_int_equal(t->n_snat, n);
	assert_int_equal(t->snat_addrs[0], rte_cpu_to_be_32(ip4(a0)));
	if (n > 1)
		assert_int_equal(t->snat_addrs[1], rte_cpu_to_be_32(ip4(a1)));
}

static void bgp_snat_addresses_follow_the_int_tap(void **state)
{
	(void)state;
	gateway_b();
	/* keepalived not master of anything yet: the own address stands in */
	hold(0, NULL, NULL);
	snat_is(1, "10.0.0.1", NULL);
	assert_true(int_local("10.0.0.1"));
	assert_false(int_local("10.0.0.10"));
	assert_false(int_local("10.0.0.20"));
	/* master of its own VIP */
	hold(1, "10.0.0.10", NULL);
	snat_is(1, "10.0.0.10", NULL);
	assert_true(int_local("10.0.0.10"));
	assert_false(int_local("10.0.0.20"));
	/* A died: B masters A's VIP too; A's appears after B's own, B's keeps row 0 */
	hold(2, "10.0.0.20", "10.0.0.10");
	snat_is(2, "10.0.0.10", "10.0.0.20");
	assert_true(int_local("10.0.0.20"));
	/* no int TAP: both served, held or not */
	cfg.intl.kernel_tap[0] = '\0';
	hold(0, NULL, NULL);
	snat_is(2, "10.0.0.10", "10.0.0.20");
	assert_true(int_local("10.0.0.20"));
}

/* ---- the workers' SNAT bitmaps across a takeover ---------------------------------------- */

static void snat_worker(unsigned int n_snat)
{
	fixture_snat_worker(n_snat, PART_LO, PART_N);
}

/* A first packet from client 198.51.100.2:@p sport to the "range" mapping (UDP 30000 ->
 * 10.0.0.12:40000). @return its SNAT port (0: dropped), its SNAT address in *@p saddr. */
static uint16_t open_session(uint16_t sport, uint32_t *saddr)
{
	uint8_t buf[128], *f;
	struct rte_mbuf *m;
	size_t n = flow(buf, "198.51.100.2", sport, "198.51.100.1", 30000, IPPROTO_UDP, 0,
			DP_PORT_EXT);
	uint16_t p;

	inject(DP_PORT_EXT, buf, n);
	if (dp_tx_n(w, DP_PORT_INT) == 0)
		return 0;
	f = take(DP_PORT_INT, &m);
	*saddr = rd32(f + 14 + 12);
	p = rd16(f + 14 + 20);
	rte_pktmbuf_free(m);
	return p;
}

/* The one destination in use (10.0.0.12:40000/udp). */
static const struct dp_snat_dest *the_dest(void)
{
	for (uint32_t i = 0; i < DP_SNAT_DESTS; i++)
		if (w->snat.dests[i].proto)
			return &w->snat.dests[i];
	fail_msg("no destination in use");
	return NULL;
}

/* B's destination was laid out for one row (its own VIP); A's VIP appears as row 1 on the
 * takeover: once B's row is full, new sessions take A's VIP's ports, not a no_snat_port drop.
 * A's VIP given back: its ports are no longer counted, B's row is as it was. */
static void a_vip_taken_over_gives_its_ports_to_existing_destinations(void **state)
{
	uint32_t a;

	(void)state;
	gateway_b();
	hold(1, "10.0.0.10", NULL);
	snat_worker(2);
	assert_int_equal(open_session(10000, &a), PART_LO);
	assert_int_equal(a, ip4("10.0.0.10"));
	hold(2, "10.0.0.10", "10.0.0.20");
	for (unsigned int i = 1; i < PART_N; i++) {
		assert_int_equal(open_session((uint16_t)(10000 + i), &a), PART_LO + i);
		assert_int_equal(a, ip4("10.0.0.10"));
	}
	assert_int_equal(open_session(20000, &a), PART_LO);
	assert_int_equal(a, ip4("10.0.0.20"));
	assert_int_equal(open_session(20001, &a), PART_LO + 1);
	assert_int_equal(a, ip4("10.0.0.20"));
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 0);
	assert_int_equal(the_dest()->used, PART_N + 2);

	/* given back: B's row full, A's not a row: the next one is a counted drop */
	hold(1, "10.0.0.10", NULL);
	assert_int_equal(open_session(20002, &a), 0);
	assert_int_equal(w->stats.drops[DP_DROP_NO_SNAT_PORT], 1);
	assert_int_equal(the_dest()->used, PART_N);
	assert_int_equal(the_dest()->rows, 1);
}

/* A's session synced to B (UDP, client 198.51.100.2:5000 -> the "range" mapping, SNAT A's
 * 10.0.0.20:1029) is installed while B holds only its own VIP: A's address is no row of B's
 * bitmaps (every new port is checked against the table, `fallbacks`) and not B's to answer;
 * once B holds it (the takeover), the backend's answer to it goes back to the client from
 * the mapping address. */
static void a_synced_session_translates_after_the_takeover(void **state)
{
	uint8_t buf[128], *f;
	struct rte_mbuf *m;
	struct sync_rec r = {.type = SYNC_REC_UPSERT, .proto = IPPROTO_UDP, .idle_ms = 100};
	size_t n;

	(void)state;
	gateway_b();
	hold(1, "10.0.0.10", NULL);
	snat_worker(2);
	assert_int_equal(dp_sync_worker_init(w), 0);
	r.addr[DIR_O2I][0] = rte_cpu_to_be_32(ip4("198.51.100.2"));
	r.addr[DIR_O2I][1] = rte_cpu_to_be_32(ip4("198.51.100.1"));
	r.port[DIR_O2I][0] = rte_cpu_to_be_16(5000);
	r.port[DIR_O2I][1] = rte_cpu_to_be_16(30000);
	r.addr[DIR_I2O][0] = rte_cpu_to_be_32(ip4("10.0.0.12"));
	r.addr[DIR_I2O][1] = rte_cpu_to_be_32(ip4("10.0.0.20"));
	r.port[DIR_I2O][0] = rte_cpu_to_be_16(40000);
	r.port[DIR_I2O][1] = rte_cpu_to_be_16(PART_LO + 5);
	assert_int_equal(dp_sync_apply(w, tables_get(), &r), SYNC_C_INSTALLED);
	assert_int_equal(w->snat.fallbacks, 1); /* not a row of B's bitmaps yet */

	assert_false(int_local("10.0.0.20")); /* B answers no ARP for it: A's answers reach A */

	hold(2, "10.0.0.10", "10.0.0.20");
	assert_true(int_local("10.0.0.20"));
	n = flow(buf, "10.0.0.12", 40000, "10.0.0.20", PART_LO + 5, IPPROTO_UDP, 0, DP_PORT_INT);
	inject(DP_PORT_INT, buf, n);
	f = take(DP_PORT_EXT, &m);
	assert_int_equal(rd32(f + 14 + 12), ip4("198.51.100.1"));
	assert_int_equal(rd32(f + 14 + 16), ip4("198.51.100.2"));
	assert_int_equal(rd16(f + 14 + 20), 30000);
	assert_int_equal(rd16(f + 14 + 22), 5000);
	rte_pktmbuf_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bgp_gates_the_int_snat_vips_with_an_int_tap),
		cmocka_unit_test(gating_per_mode),
		cmocka_unit_test_setup_teardown(bgp_snat_addresses_follow_the_int_tap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_vip_taken_over_gives_its_ports_to_existing_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(a_synced_session_translates_after_the_takeover,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
