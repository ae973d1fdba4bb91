/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's wire codec (cp/sync_wire.c: the bytes on the wire, their order, malformed
 * datagrams refused) and its FTFW transport (cp/sync_ftfw.c: sequence numbers, cumulative
 * acks, a gap answered with a NACK and a resend, a timeout resend, a resend no longer
 * possible turned into a bulk resync, a hello answered with one), driven without sockets:
 * two endpoints A (10.0.0.3) and B (10.0.0.4) over a fake network that can lose datagrams.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include <strait/config.h>
#include <strait/sync.h>

#include "sync_ftfw.h"

#define ADDR_A 0x0a000003u
#define ADDR_B 0x0a000004u

static struct sync_rec rec(uint16_t cport)
{
	struct sync_rec r = {.type = SYNC_REC_UPSERT,
			     .proto = IPPROTO_TCP,
			     .state = 2,
			     .flags = 1,
			     .idle_ms = 0x01020304,
			     .td_end = {0x11223344, 0x55667788}};
	r.addr[0][0] = rte_cpu_to_be_32(0xc6336402); // 198.51.100.2
	r.addr[0][1] = rte_cpu_to_be_32(0xc6336401); // 198.51.100.1
	r.addr[1][0] = rte_cpu_to_be_32(0x0a00000b); // 10.0.0.11
	r.addr[1][1] = rte_cpu_to_be_32(0x0a000001); // 10.0.0.1
	r.port[0][0] = rte_cpu_to_be_16(cport);
	r.port[0][1] = rte_cpu_to_be_16(8080);
	r.port[1][0] = rte_cpu_to_be_16(80);
	r.port[1][1] = rte_cpu_to_be_16(5000);
	return r;
}

/* ---- codec ------------------------------------------------------------------------------- */

static void encode_writes_network_order(void **state)
{
	(void)state;
	struct sync_hdr h = {.type = SYNC_MSG_DATA,
			     .workers = 2,
			     .count = 1,
			     .sender = 0xa1b2c3d4,
			     .seq = 7,
			     .ack = 0x01000000};
	struct sync_rec r = rec(40000);
	uint8_t buf[SYNC_MAX_DGRAM];
	static const uint8_t want[60] = {
		0x53, 0x54, 1,	1, 0xa1, 0xb2, 0xc3, 0xd4, 0,	 0,    0,    7,	  1,	0,
		0,    0,    0,	1, 2,	 0, // header
		1,    6,    2,	1, 198,	 51,   100,  2,	   198,	 51,   100,  1,	  10,	0,
		0,    11,   10, 0, 0,	 1,    0x9c, 0x40, 0x1f, 0x90, 0,    80,  0x13, 0x88,
		1,    2,    3,	4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

	assert_int_equal(sync_encode(&h, &r, buf, sizeof(buf)), 60);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(sync_encode(&h, &r, buf, 59), -ENOSPC);
	h.count = SYNC_MAX_RECS + 1;
	assert_int_equal(sync_encode(&h, &r, buf, sizeof(buf)), -EINVAL);
}

static void decode_round_trips(void **state)
{
	(void)state;
	struct sync_hdr h = {.type = SYNC_MSG_DATA,
			     .workers = 1,
			     .count = 2,
			     .sender = 9,
			     .seq = 3},
			g;
	struct sync_rec r[2] = {rec(1), rec(2)}, o[SYNC_MAX_RECS];
	uint8_t buf[SYNC_MAX_DGRAM];
	int n = sync_encode(&h, r, buf, sizeof(buf));

	r[1].type = SYNC_REC_DELETE;
	n = sync_encode(&h, r, buf, sizeof(buf));
	assert_int_equal(n, 100);
	assert_int_equal(sync_decode(buf, (size_t)n, &g, o), 0);
	assert_int_equal(g.type, SYNC_MSG_DATA);
	assert_int_equal(g.sender, 9);
	assert_int_equal(g.seq, 3);
	assert_int_equal(g.count, 2);
	assert_memory_equal(o, r, sizeof(r));
}

/* Every malformation is refused whole. */
static void decode_refuses_malformed(void **state)
{
	(void)state;
	struct sync_hdr h = {.type = SYNC_MSG_DATA, .workers = 1, .count = 1, .seq = 1}, g;
	struct sync_rec r = rec(1), o[SYNC_MAX_RECS];
	uint8_t good[SYNC_MAX_DGRAM], b[SYNC_MAX_DGRAM];
	const int n = sync_encode(&h, &r, good, sizeof(good));
	struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{0, 0x00},			       /* magic */
		{2, 2},				       /* version */
		{3, 0},				       /* type */
		{3, 9},				       /* type */
		{17, 2},			       /* count past the length */
		{17, 0},			       /* a DATA without records */
		{18, 0},			       /* workers 0 */
		{19, 1},			       /* reserved */
		{20, 0},			       /* record type */
		{20, 3},			       /* bulk is never on the wire */
		{21, 1},			       /* protocol ICMP */
		{22, 0},			       /* TCP in the UDP state */
		{22, 5},			       /* no such TCP state */
		{23, 0x10},			       /* unknown flag */
		{24, 0},    {25, 0}, {26, 0}, {27, 0}, /* client address 0 */
		{46, 0},    {47, 0},		       /* backend port 0 */
	};

	assert_int_equal(sync_decode(good, (size_t)n, &g, o), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(b, good, (size_t)n);
		// Zero a whole field where one byte of it is named (addresses, ports).
		b[bad[i].off] = bad[i].val;
		if (bad[i].off >= 24 && bad[i].off < 28)
			memset(b + 24, 0, 4);
		if (bad[i].off >= 46 && bad[i].off < 48)
			memset(b + 44, 0, 2);
		assert_int_equal(sync_decode(b, (size_t)n, &g, o), -EINVAL);
	}
	for (int len = 0; len < n; len++)
		assert_int_equal(sync_decode(good, (size_t)len, &g, o), -EINVAL);
	memcpy(b, good, (size_t)n);
	b[n] = 0;
	assert_int_equal(sync_decode(b, (size_t)n + 1, &g, o), -EINVAL); /* trailing byte */
	/* UDP with a TCP state; a control message with records */
	r.proto = IPPROTO_UDP;
	assert_int_equal(sync_encode(&h, &r, b, sizeof(b)), n);
	assert_int_equal(sync_decode(b, (size_t)n, &g, o), -EINVAL);
	h.type = SYNC_MSG_ACK;
	r = rec(1);
	assert_int_equal(sync_encode(&h, &r, b, sizeof(b)), n);
	assert_int_equal(sync_decode(b, (size_t)n, &g, o), -EINVAL);
	h.count = 0;
	assert_int_equal(sync_encode(&h, &r, b, sizeof(b)), SYNC_HDR_LEN);
	assert_int_equal(sync_decode(b, SYNC_HDR_LEN, &g, o), 0);
}

/* ---- FTFW -------------------------------------------------------------------------------- */

struct dgram {
	uint32_t from, to;
	size_t len;
	uint8_t buf[SYNC_MAX_DGRAM];
};

#define NET_MAX 1024
static struct dgram net[NET_MAX];
static unsigned int n_net;

struct end {
	uint32_t addr;
	struct sync_ftfw f;
	unsigned int delivered, bulks;
	uint16_t last_cport;
};
static struct end A = {.addr = ADDR_A}, B = {.addr = ADDR_B};

static int io_send(void *arg, uint32_t to, const void *buf, size_t len)
{
	struct end *e = arg;

	assert_true(n_net < NET_MAX);
	net[n_net] = (struct dgram){.from = e->addr, .to = to, .len = len};
	memcpy(net[n_net].buf, buf, len);
	n_net++;
	return 0;
}

static void io_deliver(void *arg, const struct sync_rec *r)
{
	struct end *e = arg;
	e->delivered++;
	e->last_cport = rte_be_to_cpu_16(r->port[0][0]);
}

static void io_bulk(void *arg)
{
	((struct end *)arg)->bulks++;
}

static struct end *end_of(uint32_t addr)
{
	return addr == ADDR_A ? &A : &B;
}

/* Deliver what is on the wire, in order, but datagram types in @p drop_mask (1 << type) from
 * @p drop_from; repeat until the network is quiet. @return datagrams delivered. */
static unsigned int run(uint64_t now, unsigned int drop_mask, uint32_t drop_from)
{
	unsigned int done = 0;

	while (n_net) {
		static struct dgram q[NET_MAX];
		unsigned int n = n_net;
		memcpy(q, net, n * sizeof(q[0]));
		n_net = 0;
		for (unsigned int i = 0; i < n; i++) {
			if (q[i].from == drop_from && ((drop_mask >> q[i].buf[3]) & 1))
				continue;
			sync_ftfw_input(&end_of(q[i].to)->f, q[i].from, q[i].buf, q[i].len, now);
			done++;
		}
	}
	return done;
}

static int ftfw_setup(void **state)
{
	(void)state;
	uint32_t pa = ADDR_B, pb = ADDR_A;
	struct sync_io ia = {.arg = &A, .send = io_send, .deliver = io_deliver, .bulk = io_bulk};
	struct sync_io ib = {.arg = &B, .send = io_send, .deliver = io_deliver, .bulk = io_bulk};

	n_net = 0;
	A.delivered = A.bulks = B.delivered = B.bulks = 0;
	assert_int_equal(sync_ftfw_init(&A.f, 0xaaaa, 1, &pa, 1, &ia), 0);
	assert_int_equal(sync_ftfw_init(&B.f, 0xbbbb, 1, &pb, 1, &ib), 0);
	// Both start: hellos both ways, each answered with a bulk resync.
	sync_ftfw_timer(&A.f, 1);
	sync_ftfw_timer(&B.f, 1);
	assert_int_equal(n_net, 2);
	run(1, 0, 0);
	assert_int_equal(A.bulks, 1);
	assert_int_equal(B.bulks, 1);
	assert_int_equal(A.f.c[SYNC_C_HELLOS], 1);
	assert_int_equal(B.f.c[SYNC_C_BULK_RESYNCS], 1);
	A.bulks = B.bulks = 0;
	return 0;
}

static int ftfw_teardown(void **state)
{
	(void)state;
	sync_ftfw_fini(&A.f);
	sync_ftfw_fini(&B.f);
	return 0;
}

/* Records batch into datagrams of SYNC_MAX_RECS; B acks every SYNC_ACK_EVERY datagrams
 * (cumulative) and the rest after SYNC_ACK_DELAY_MS. */
static void sequence_and_cumulative_ack(void **state)
{
	(void)state;
	const uint64_t b_acks = B.f.c[SYNC_C_TX_ACKS], a_acks = A.f.c[SYNC_C_RX_ACKS];

	for (unsigned int i = 0; i < 10 * SYNC_MAX_RECS + 3; i++) {
		struct sync_rec r = rec((uint16_t)(i + 1));
		sync_ftfw_add(&A.f, &r, 10);
	}
	sync_ftfw_flush(&A.f, 10);
	assert_int_equal(A.f.c[SYNC_C_TX_DATAGRAMS], 11);
	assert_int_equal(A.f.c[SYNC_C_TX_RECORDS], 10 * SYNC_MAX_RECS + 3);
	run(10, 0, 0);
	assert_int_equal(B.delivered, 10 * SYNC_MAX_RECS + 3);
	assert_int_equal(B.last_cport, 10 * SYNC_MAX_RECS + 3);
	assert_int_equal(B.f.c[SYNC_C_TX_ACKS] - b_acks, 1); /* after 8 */
	assert_int_equal(A.f.peers[0].tx_acked, 8);
	sync_ftfw_timer(&B.f, 10 + SYNC_ACK_DELAY_MS);
	run(10 + SYNC_ACK_DELAY_MS, 0, 0);
	assert_int_equal(A.f.peers[0].tx_acked, 11);
	assert_int_equal(A.f.c[SYNC_C_RX_ACKS] - a_acks, 2);
	/* all acknowledged: the timer resends nothing */
	sync_ftfw_timer(&A.f, 10 + SYNC_RTO_MS * 2);
	run(10 + SYNC_RTO_MS * 2, 0, 0);
	assert_int_equal(A.f.c[SYNC_C_TX_RESENDS], 0);
	assert_int_equal(B.f.c[SYNC_C_TX_NACKS], 0);
}

/* Datagram 2 of 3 is lost: B delivers 3 anyway and NACKs 2; A resends it from its buffer. */
static void gap_is_nacked_and_resent(void **state)
{
	(void)state;
	for (uint16_t i = 1; i <= 3; i++) {
		struct sync_rec r = rec(i);
		sync_ftfw_add(&A.f, &r, 10);
		sync_ftfw_flush(&A.f, 10);
	}
	assert_int_equal(n_net, 3);
	memmove(&net[1], &net[2], sizeof(net[0])); /* lose the second */
	n_net = 2;
	run(10, 0, 0);
	assert_int_equal(B.f.c[SYNC_C_TX_NACKS], 1);
	assert_int_equal(A.f.c[SYNC_C_RX_NACKS], 1);
	assert_int_equal(A.f.c[SYNC_C_TX_RESENDS], 1);
	assert_int_equal(B.delivered, 3);
	assert_int_equal(B.last_cport, 2);	     /* the resent one came last */
	assert_int_equal(B.f.peers[0].rx_expect, 3); /* in order up to 2, 3 was seen early */
	assert_int_equal(A.bulks, 0);
}

/* Everything A sends is lost (ACKs of B too): the timer resends the unacknowledged. */
static void timeout_resends_unacked(void **state)
{
	(void)state;
	struct sync_rec r = rec(7);

	sync_ftfw_add(&A.f, &r, 100);
	sync_ftfw_flush(&A.f, 100);
	n_net = 0; /* lost */
	sync_ftfw_timer(&A.f, 100 + SYNC_RTO_MS - 1);
	assert_int_equal(A.f.c[SYNC_C_TX_RESENDS], 0);
	sync_ftfw_timer(&A.f, 100 + SYNC_RTO_MS);
	assert_int_equal(A.f.c[SYNC_C_TX_RESENDS], 1);
	run(100 + SYNC_RTO_MS, 0, 0);
	assert_int_equal(B.delivered, 1);
	assert_int_equal(B.last_cport, 7);
	sync_ftfw_timer(&B.f, 100 + SYNC_RTO_MS + SYNC_ACK_DELAY_MS);
	run(100 + SYNC_RTO_MS + SYNC_ACK_DELAY_MS, 0, 0);
	assert_int_equal(A.f.peers[0].tx_acked, 1);
}

/* More unacknowledged datagrams than the buffer keeps: the resend is a bulk resync. */
static void overflow_turns_into_bulk(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < SYNC_TXBUF + 10; i++) {
		struct sync_rec r = rec((uint16_t)(i + 1));
		sync_ftfw_add(&A.f, &r, 10);
		sync_ftfw_flush(&A.f, 10);
	}
	net[0] = net[n_net - 1]; /* only the last one arrives */
	n_net = 1;
	run(10, 0, 0);
	assert_int_equal(B.f.c[SYNC_C_TX_NACKS], 1);
	assert_int_equal(A.bulks, 1);
	assert_int_equal(A.f.c[SYNC_C_BULK_RESYNCS], 2); /* and the start's hello */
	/* nothing is left to resend: the peer is considered up to date */
	assert_int_equal(A.f.peers[0].tx_acked, A.f.tx_next - 1);
}

/* Datagrams from a stranger, and garbage from the peer, are counted and do nothing. */
static void strangers_and_garbage_are_counted(void **state)
{
	(void)state;
	uint8_t junk[64] = {0x53, 0x54, 1, 1};

	sync_ftfw_input(&B.f, 0x0a000009, junk, sizeof(junk), 5);
	assert_int_equal(B.f.c[SYNC_C_RX_UNKNOWN_PEER], 1);
	sync_ftfw_input(&B.f, ADDR_A, junk, sizeof(junk), 5);
	sync_ftfw_input(&B.f, ADDR_A, junk, 3, 5);
	assert_int_equal(B.f.c[SYNC_C_RX_BAD], 2);
	assert_int_equal(B.delivered, 0);
	assert_int_equal(n_net, 0);
}

/* A restarted peer (a new sender id, a hello) gets a bulk resync; a silent one is hailed. */
static void restart_and_silence(void **state)
{
	(void)state;
	uint32_t pb = ADDR_A;
	struct sync_io ib = {.arg = &B, .send = io_send, .deliver = io_deliver, .bulk = io_bulk};

	sync_ftfw_fini(&B.f);
	assert_int_equal(sync_ftfw_init(&B.f, 0xcccc, 1, &pb, 1, &ib), 0);
	sync_ftfw_timer(&B.f, 50);
	run(50, 0, 0);
	assert_int_equal(A.bulks, 1);
	assert_int_equal(A.f.peers[0].rx_sender, 0xcccc);
	/* keepalive ACKs flow while both are up; none from B for SYNC_DEAD_MS: hailed */
	sync_ftfw_timer(&A.f, 50 + SYNC_HELLO_MS);
	assert_int_equal(n_net, 1); /* a keepalive ack */
	n_net = 0;
	sync_ftfw_timer(&A.f, 50 + SYNC_DEAD_MS);
	assert_int_equal(A.f.c[SYNC_C_HELLOS], 2);
}

/* A restarts and its hello is lost, while the hello B hails it with arrives: A answers B (a
 * bulk of its own) but must keep hailing until B's ACK names A's new id, or B never sends A
 * its table (ha_sync_test's restarted master got none of B's sessions this way). */
static void lost_hello_is_repeated_until_answered(void **state)
{
	(void)state;
	const uint64_t t0 = 1 + SYNC_DEAD_MS; /* the old A was last heard at 1 */
	uint32_t pa = ADDR_B;
	struct sync_io ia = {.arg = &A, .send = io_send, .deliver = io_deliver, .bulk = io_bulk};

	sync_ftfw_fini(&A.f);
	assert_int_equal(sync_ftfw_init(&A.f, 0xdddd, 1, &pa, 1, &ia), 0);
	sync_ftfw_timer(&A.f, t0);
	assert_int_equal(n_net, 1);
	n_net = 0;		   /* A's hello is lost */
	sync_ftfw_timer(&B.f, t0); /* B found the old A silent: it hails */
	assert_int_equal(n_net, 1);
	run(t0, 0, 0);
	assert_int_equal(A.bulks, 1); /* B asked: A sends its (empty) table */
	assert_int_equal(B.bulks, 0);
	assert_true(B.f.peers[0].hello_done);
	sync_ftfw_timer(&A.f, t0 + SYNC_HELLO_MS);
	run(t0 + SYNC_HELLO_MS, 0, 0);
	assert_int_equal(B.bulks, 1); /* A's second hello got B's table */
	assert_int_equal(A.f.c[SYNC_C_HELLOS], 2);
	assert_true(A.f.peers[0].hello_done);
	/* answered: no more hellos */
	sync_ftfw_timer(&A.f, t0 + 2 * SYNC_HELLO_MS);
	run(t0 + 2 * SYNC_HELLO_MS, 0, 0);
	assert_int_equal(A.f.c[SYNC_C_HELLOS], 2);
}

/* B restarts and its hello is lost; its first data reaches A: A sends its table all the same
 * (B's hailing stops once A's ACKs name its id). */
static void data_from_an_unknown_incarnation_gets_a_bulk(void **state)
{
	(void)state;
	uint32_t pb = ADDR_A;
	struct sync_io ib = {.arg = &B, .send = io_send, .deliver = io_deliver, .bulk = io_bulk};
	struct sync_rec r = rec(9);

	sync_ftfw_fini(&B.f);
	assert_int_equal(sync_ftfw_init(&B.f, 0xeeee, 1, &pb, 1, &ib), 0);
	sync_ftfw_timer(&B.f, 50);
	n_net = 0; /* lost */
	sync_ftfw_add(&B.f, &r, 60);
	sync_ftfw_flush(&B.f, 60);
	run(60, 0, 0);
	assert_int_equal(A.bulks, 1);
	assert_int_equal(A.delivered, 1);
	sync_ftfw_timer(&A.f, 60 + SYNC_ACK_DELAY_MS);
	run(60 + SYNC_ACK_DELAY_MS, 0, 0);
	assert_true(B.f.peers[0].hello_done);
}

/* ---- config: ha.sync --------------------------------------------------------------------- */

#define SYNC_PORTS                                                                                 \
	"ports:\n"                                                                                 \
	"  ext: {device: net_af_packet0, addresses: [198.51.100.11/24], kernel: {tap: se}}\n"      \
	"  int: {device: net_af_packet1, addresses: [10.0.0.3/24], kernel: {tap: si}}\n"

static char err[512];

static void expect_cfg_error(const char *yaml, const char *msg)
{
	struct cfg c;

	assert_int_equal(cfg_load_string("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, msg);
}

static void config_sync_keys(void **state)
{
	(void)state;
	static const char ok[] =
		SYNC_PORTS "ha: {mode: none, sync: {peers: [10.0.0.4, 10.0.0.5]}}\n";
	static const char ok2[] =
		SYNC_PORTS "workers: 2\nha: {mode: none, sync: {peers: [10.0.0.4], port: 4000, "
			   "key: 0123456789abcdef}}\n";
	static const char off[] = SYNC_PORTS "ha: {mode: none}\n";
	struct cfg c;

	assert_int_equal(cfg_load_string("t.yaml", off, strlen(off), &c, err, sizeof(err)), 0);
	assert_false(c.ha_sync.enabled);
	cfg_free(&c);
	assert_int_equal(cfg_load_string("t.yaml", ok, strlen(ok), &c, err, sizeof(err)), 0);
	assert_true(c.ha_sync.enabled);
	assert_int_equal(c.ha_sync.n_peers, 2);
	assert_int_equal(c.ha_sync.peers[0], 0x0a000004);
	assert_int_equal(c.ha_sync.peers[1], 0x0a000005);
	assert_int_equal(c.ha_sync.port, CFG_SYNC_PORT);
	assert_string_equal(c.ha_sync.key, "");
	cfg_free(&c);
	assert_int_equal(cfg_load_string("t.yaml", ok2, strlen(ok2), &c, err, sizeof(err)), 0);
	assert_int_equal(c.ha_sync.port, 4000);
	assert_string_equal(c.ha_sync.key, "0123456789abcdef");
	cfg_free(&c);

	expect_cfg_error("ports:\n  ext: {device: net_af_packet0, addresses: [198.51.100.11/24]}\n"
			 "  int: {device: net_af_packet1, addresses: [10.0.0.3/24]}\n"
			 "ha: {mode: none, sync: {peers: [10.0.0.4]}}\n",
			 "t.yaml:4: ha.sync: needs ports.int.kernel.tap: the sync datagrams go "
			 "through the int TAP (the exception path)");
	expect_cfg_error(SYNC_PORTS "ha: {mode: none, sync: {port: 1}}\n",
			 "t.yaml:4: ha.sync.peers: required key missing");
	expect_cfg_error(SYNC_PORTS "ha: {mode: none, sync: {peers: []}}\n",
			 "t.yaml:4: ha.sync.peers: at least one entry is required");
	expect_cfg_error(SYNC_PORTS "ha: {mode: none, sync: {peers: [gw-b]}}\n",
			 "t.yaml:4: ha.sync.peers[0]: \"gw-b\" is not an IPv4 address");
	expect_cfg_error(SYNC_PORTS "ha: {mode: none, sync: {peers: [10.0.0.3]}}\n",
			 "t.yaml:4: ha.sync.peers[0]: is an address of ports.int: a peer is "
			 "another gateway");
	expect_cfg_error(SYNC_PORTS "ha: {mode: none, sync: {peers: [10.0.0.4], port: 0}}\n",
			 "t.yaml:4: ha.sync.port: 0 is out of range 1-65535");
	expect_cfg_error(SYNC_PORTS "ha: {mode: none, sync: {peers: [10.0.0.4], key: short}}\n",
			 "t.yaml:4: ha.sync.key: shorter than 16 bytes");
	expect_cfg_error(SYNC_PORTS "workers: 2\nha: {mode: none, sync: {peers: [10.0.0.4]}}\n",
			 "t.yaml:5: ha.sync.key: required key missing: with more than one worker, "
			 "every gateway must give a flow to the same worker");
	expect_cfg_error(SYNC_PORTS "ha: {mode: none, sync: {peers: [10.0.0.4], mode: x}}\n",
			 "t.yaml:4: ha.sync: unknown key \"mode\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_writes_network_order),
		cmocka_unit_test(decode_round_trips),
		cmocka_unit_test(decode_refuses_malformed),
		cmocka_unit_test(config_sync_keys),
		cmocka_unit_test_setup_teardown(sequence_and_cumulative_ack, ftfw_setup,
						ftfw_teardown),
		cmocka_unit_test_setup_teardown(gap_is_nacked_and_resent, ftfw_setup,
						ftfw_teardown),
		cmocka_unit_test_setup_teardown(timeout_resends_unacked, ftfw_setup, ftfw_teardown),
		cmocka_unit_test_setup_teardown(overflow_turns_into_bulk, ftfw_setup,
						ftfw_teardown),
		cmocka_unit_test_setup_teardown(strangers_and_garbage_are_counted, ftfw_setup,
						ftfw_teardown),
		cmocka_unit_test_setup_teardown(restart_and_silence, ftfw_setup, ftfw_teardown),
		cmocka_unit_test_setup_teardown(lost_hello_is_repeated_until_answered, ftfw_setup,
						ftfw_teardown),
		cmocka_unit_test_setup_teardown(data_from_an_unknown_incarnation_gets_a_bulk,
						ftfw_setup, ftfw_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
