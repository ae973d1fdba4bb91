/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fragments through the NAT (dp/frag.c) and ICMP "fragmentation needed" from outside: real
 * mbufs through nat_process_burst() on the fixture's worker (nat_fixture.h), checked byte for
 * byte, with the drop counters; the steering of fragments between two workers through
 * frag_owner() and frag_take_ready().
 */
#include "nat_fixture.h"

#include <rte_hash_crc.h>

#include "frag.h"

#define FIRST 1
#define LATER 0

/* A fragment of UDP datagram @p id from 198.51.100.2:@p sport to the VIP's :7777 (mapping
 * echo): the first one (UDP header + 20 bytes, MF) or a later one at 8-byte offset @p off8
 * with @p len bytes of data. @return the frame's length. */
static size_t frag(uint8_t *buf, uint16_t sport, uint16_t id, int first, uint16_t off8,
		   uint16_t len)
{
	size_t n =
		flow(buf, "198.51.100.2", sport, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT);
	uint8_t *ip = buf + 14;
	ip[4] = (uint8_t)(id >> 8), ip[5] = (uint8_t)id;
	if (first) {
		ip[6] = 0x20; /* MF, offset 0; the UDP length is the whole datagram's */
	} else {
		ip[6] = (uint8_t)(off8 >> 8), ip[7] = (uint8_t)off8;
		ip[2] = (uint8_t)((20 + len) >> 8), ip[3] = (uint8_t)(20 + len);
		for (uint16_t i = 0; i < len; i++)
			ip[20 + i] = (uint8_t)(0xa0 + i + off8);
		n = 14 + 20 + len;
	}
	uint16_t c = tb_ip_cksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	return n;
}

/* Take every frame queued on int: [i] checked (IP checksum), @return how many. */
static unsigned int take_all(struct rte_mbuf **out, unsigned int max)
{
	unsigned int n = dp_tx_n(w, DP_PORT_INT);
	assert_true(n <= max);
	for (unsigned int i = 0; i < n; i++) {
		out[i] = w->tx[DP_PORT_INT][i];
		uint8_t *ip = rte_pktmbuf_mtod(out[i], uint8_t *) + 14;
		assert_int_equal(tb_ip_cksum(ip, 20), rd16(ip + 10));
	}
	dp_tx_reset(w, DP_PORT_INT);
	return n;
}

static void later_before_first_is_held_then_forwarded(void **state)
{
	(void)state;
	uint8_t first[256], later[256];
	struct rte_mbuf *out[4];
	size_t nl = frag(later, 5000, 0x4444, LATER, 4, 16);
	size_t nf = frag(first, 5000, 0x4444, FIRST, 0, 0);

	inject(DP_PORT_EXT, later, nl);
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->frag.n_held, 1);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_NO_SESSION], 0);

	inject(DP_PORT_EXT, first, nf);
	assert_int_equal(take_all(out, 4), 2);
	assert_int_equal(w->frag.n_held, 0);
	uint8_t *f0 = rte_pktmbuf_mtod(out[0], uint8_t *) + 14;
	uint8_t *f1 = rte_pktmbuf_mtod(out[1], uint8_t *) + 14;
	uint32_t backend = rd32(f0 + 16);
	assert_int_equal(f0[6], 0x20); /* the first one first */
	assert_int_equal(rd32(f0 + 12), ip4("10.0.0.1"));
	assert_int_equal(rd32(f1 + 12), ip4("10.0.0.1"));
	assert_int_equal(rd32(f1 + 16), backend);
	assert_int_equal(rd16(f1 + 6), 4);		   /* offset 4, last */
	assert_int_equal(f1[8], 63);			   /* TTL */
	assert_memory_equal(f1 + 20, later + 14 + 20, 16); /* data untouched */
	assert_int_equal(rd16(f1 + 2), 36);
	assert_int_equal(rd16(f1 + 4), rd16(f0 + 4)); /* one datagram: one IP id */
	rte_pktmbuf_free(out[0]);
	rte_pktmbuf_free(out[1]);
}

static void duplicates_pass_and_overlapping_fragments_are_dropped(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *out[8];
	unsigned int avail = rte_mempool_avail_count(pool);

	/* twice the same later fragment, and one overlapping it and the first, before the first */
	inject(DP_PORT_EXT, buf, frag(buf, 5001, 0x5555, LATER, 4, 16));
	inject(DP_PORT_EXT, buf, frag(buf, 5001, 0x5555, LATER, 4, 16));
	inject(DP_PORT_EXT, buf, frag(buf, 5001, 0x5555, LATER, 3, 24));
	assert_int_equal(w->frag.n_held, 3);
	inject(DP_PORT_EXT, buf, frag(buf, 5001, 0x5555, FIRST, 0, 0));
	/* the first, the later one and its exact duplicate (the pod keeps one); not the one
	 * that would overwrite bytes of both (RFC 1858 §3) */
	assert_int_equal(take_all(out, 8), 3);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_OVERLAP], 1);
	for (int i = 0; i < 3; i++)
		rte_pktmbuf_free(out[i]);
	/* and again after the first: it follows the session */
	inject(DP_PORT_EXT, buf, frag(buf, 5001, 0x5555, LATER, 4, 16));
	inject(DP_PORT_EXT, buf, frag(buf, 5001, 0x5555, FIRST, 0, 0));
	assert_int_equal(take_all(out, 8), 2);
	for (int i = 0; i < 2; i++)
		rte_pktmbuf_free(out[i]);
	assert_int_equal(w->frag.n_held, 0);
	assert_int_equal(rte_mempool_avail_count(pool), avail); /* nothing leaked */
}

/* Two clients' datagrams with the same IP id reach the pod from one SNAT address under full
 * NAT: they must leave with different ids, each datagram's fragments with one id. */
static void colliding_ids_of_two_clients_leave_with_distinct_ids(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *out[8];
	uint16_t id_out[2][2];

	for (int c = 0; c < 2; c++) {
		const char *client = c ? "198.51.100.3" : "198.51.100.2";
		for (int first = 1; first >= 0; first--) {
			size_t n = flow(buf, client, 5010, "198.51.100.1", 7777, IPPROTO_UDP, 0,
					DP_PORT_EXT);
			uint8_t *ip = buf + 14;
			ip[4] = 0x51, ip[5] = 0x05;
			if (first) {
				ip[6] = 0x20;
			} else {
				ip[6] = 0, ip[7] = 4, ip[2] = 0, ip[3] = 36;
				n = 14 + 36;
			}
			uint16_t ck = tb_ip_cksum(ip, 20);
			ip[10] = (uint8_t)(ck >> 8), ip[11] = (uint8_t)ck;
			inject(DP_PORT_EXT, buf, n);
		}
		assert_int_equal(take_all(out, 8), 2); /* IP checksums checked there */
		for (int i = 0; i < 2; i++) {
			uint8_t *ip = rte_pktmbuf_mtod(out[i], uint8_t *) + 14;
			assert_int_equal(rd32(ip + 12), ip4("10.0.0.1")); /* full NAT */
			id_out[c][i] = rd16(ip + 4);
			rte_pktmbuf_free(out[i]);
		}
		assert_int_equal(id_out[c][0], id_out[c][1]);
	}
	assert_int_not_equal(id_out[0][0], id_out[1][0]);
}

static void hold_full_and_old_fragments_are_dropped_and_counted(void **state)
{
	(void)state;
	uint8_t buf[256];
	unsigned int avail = rte_mempool_avail_count(pool);

	for (uint16_t id = 0; id < DP_FRAG_HOLD + 1; id++)
		inject(DP_PORT_EXT, buf, frag(buf, 5002, (uint16_t)(0x100 + id), LATER, 4, 16));
	assert_int_equal(w->frag.n_held, DP_FRAG_HOLD);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_HOLD_FULL], 1);
	/* not yet old */
	frag_expire(w);
	assert_int_equal(w->frag.n_held, DP_FRAG_HOLD);
	w->now += w->hz; /* a second later */
	frag_expire(w);
	assert_int_equal(w->frag.n_held, 0);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_HOLD_TIMEOUT], DP_FRAG_HOLD);
	assert_int_equal(rte_mempool_avail_count(pool), avail);
	/* a full hold makes room from what is old */
	for (uint16_t id = 0; id < DP_FRAG_HOLD; id++)
		inject(DP_PORT_EXT, buf, frag(buf, 5002, (uint16_t)(0x200 + id), LATER, 4, 16));
	w->now += w->hz;
	inject(DP_PORT_EXT, buf, frag(buf, 5002, 0x300, LATER, 4, 16));
	assert_int_equal(w->frag.n_held, 1);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_HOLD_FULL], 1);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_HOLD_TIMEOUT], 2 * DP_FRAG_HOLD);
}

/* The first fragment's session is freed and its record reused by another flow: the later
 * fragments must not follow the record to the other flow's backend. */
static void freed_and_reused_record_is_not_followed(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *m = NULL;

	inject(DP_PORT_EXT, buf, frag(buf, 5003, 0x6666, FIRST, 0, 0));
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(nat_sessions_clear(w, -1, 0), 1);
	/* another client port: a new session in the same record */
	inject(DP_PORT_EXT, buf,
	       flow(buf, "198.51.100.2", 5004, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT));
	take(DP_PORT_INT, &m);
	rte_pktmbuf_free(m);
	assert_int_equal(w->sess.active, 1);
	assert_int_equal(rte_be_to_cpu_16(w->sess.recs[0].port[DIR_O2I][0]), 5004);

	inject(DP_PORT_EXT, buf, frag(buf, 5003, 0x6666, LATER, 4, 16));
	assert_int_equal(dp_tx_n(w, DP_PORT_INT), 0);
	assert_int_equal(w->stats.drops[DP_DROP_FRAG_NO_SESSION], 1);
}

/* Fragmentation needed from a router outside, MTU 68: the pod gets it raised to 576. */
static void frag_needed_mtu_from_outside_is_raised_to_the_floor(void **state)
{
	(void)state;
	uint8_t buf[256], icmp[256];
	struct rte_mbuf *m = NULL;
	static const uint16_t mtu_in[] = {68, 1400}, mtu_out[] = {576, 1400};

	inject(DP_PORT_EXT, buf,
	       flow(buf, "198.51.100.2", 5005, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT));
	uint8_t *f = take(DP_PORT_INT, &m);
	uint32_t backend = rd32(f + 14 + 16);
	uint16_t snat_port = rd16(f + 14 + 20);
	rte_pktmbuf_free(m);

	for (int k = 0; k < 2; k++) {
		/* eth | IP(203.0.113.9 → VIP, ICMP) | 3/4 mtu | IP(VIP → client) + UDP header */
		memset(icmp, 0, sizeof(icmp));
		memcpy(icmp, MAC_EXT, 6);
		memcpy(icmp + 6, MAC_CLIENT, 6);
		icmp[12] = 0x08;
		uint8_t *ip = icmp + 14, *ih = ip + 20, *in = ih + 8;
		ip[0] = 0x45, ip[3] = 20 + 8 + 28, ip[8] = 64, ip[9] = IPPROTO_ICMP;
		ip[12] = 203, ip[13] = 0, ip[14] = 113, ip[15] = 9;
		ip[16] = 198, ip[17] = 51, ip[18] = 100, ip[19] = 1;
		uint16_t c = tb_ip_cksum(ip, 20);
		ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
		ih[0] = 3, ih[1] = 4;
		ih[6] = (uint8_t)(mtu_in[k] >> 8), ih[7] = (uint8_t)mtu_in[k];
		in[0] = 0x45, in[3] = 28 + 100, in[8] = 60, in[9] = IPPROTO_UDP;
		in[12] = 198, in[13] = 51, in[14] = 100, in[15] = 1;
		in[16] = 198, in[17] = 51, in[18] = 100, in[19] = 2;
		c = tb_ip_cksum(in, 20);
		in[10] = (uint8_t)(c >> 8), in[11] = (uint8_t)c;
		in[20] = 7777 >> 8, in[21] = 7777 & 0xff, in[22] = 5005 >> 8, in[23] = 5005 & 0xff;
		in[25] = 108;
		c = (uint16_t)~tb_sum(ih, 36, 0);
		ih[2] = (uint8_t)(c >> 8), ih[3] = (uint8_t)c;
		inject(DP_PORT_EXT, icmp, 14 + 20 + 36);

		f = take(DP_PORT_INT, &m);
		ip = f + 14, ih = ip + 20, in = ih + 8;
		assert_int_equal(tb_ip_cksum(ip, 20), rd16(ip + 10));
		assert_int_equal(rd32(ip + 12), ip4("10.0.0.1"));
		assert_int_equal(rd32(ip + 16), backend);
		assert_int_equal(ih[0], 3);
		assert_int_equal(ih[1], 4);
		assert_int_equal(rd16(ih + 6), mtu_out[k]);
		assert_int_equal((uint16_t)~tb_sum(ih, 36, 0), 0); /* ICMP checksum verifies */
		assert_int_equal(tb_ip_cksum(in, 20), rd16(in + 10));
		assert_int_equal(rd32(in + 12), backend); /* as the pod sent it */
		assert_int_equal(rd32(in + 16), ip4("10.0.0.1"));
		assert_int_equal(rd16(in + 20), 7);
		assert_int_equal(rd16(in + 22), snat_port);
		rte_pktmbuf_free(m);
	}
}

/* Two workers: fragments to the SNAT address go through their datagram's steering worker,
 * which learns the owner from the first fragment and passes the later ones on, marked. */
static void later_fragments_on_int_are_steered_to_the_owner(void **state)
{
	(void)state;
	char err[256];
	struct dp_worker *wk[2];
	struct pkt_meta first = {.proto = IPPROTO_UDP, .frag = FRAG_FIRST, .dport = 0};
	struct pkt_meta later;
	uint8_t flag;

	dp_worker_free(w); /* the fixture's, of one worker */
	w = dp_worker_new(0, 2, 0, 16, err, sizeof(err));
	wk[0] = w;
	wk[1] = dp_worker_new(1, 2, 0, 16, err, sizeof(err));
	for (unsigned int i = 0; i < 2; i++) {
		assert_non_null(wk[i]);
		wk[i]->hz = 1000;
		wk[i]->now = 1000;
	}
	first.src = rte_cpu_to_be_32(ip4("10.0.0.11"));
	first.dst = rte_cpu_to_be_32(ip4("10.0.0.1"));
	struct rte_mbuf *mf = rte_pktmbuf_alloc(pool), *ml = rte_pktmbuf_alloc(pool);
	dp_priv(mf)->in_port = DP_PORT_INT;
	dp_priv(ml)->in_port = DP_PORT_INT;
	/* an IP id whose datagram worker 0 steers: worker 1 sends its later fragments there */
	unsigned int steer = 1;
	for (uint16_t id = 1; steer != 0; id++) {
		first.ip_id = rte_cpu_to_be_16(id);
		later = first;
		later.frag = FRAG_LATER;
		steer = frag_owner(wk[1], ml, &later, 1, &flag);
	}
	assert_int_equal(flag, 0);

	/* a later one before the first, at its steering worker: held there */
	assert_int_equal(frag_owner(wk[0], ml, &later, 0, &flag), 0);
	assert_int_equal(nat_frag_later(wk[0], DP_PORT_INT, ml, &later), -1);
	assert_int_equal(wk[0]->frag.n_held, 1);

	/* the first one: owned by worker 1 (its SNAT port): steered there, marked */
	assert_int_equal(frag_owner(wk[0], mf, &first, 1, &flag), 1);
	assert_int_equal(flag, DP_PRIV_FRAG_STEERED);
	/* ... and the held one is now ready to go to worker 1 */
	struct pkt_meta m;
	uint8_t port;
	unsigned int to;
	uint32_t idx;
	assert_ptr_equal(frag_take_ready(wk[0], &m, &port, &to, &idx), ml);
	assert_int_equal(to, 1);
	assert_int_equal(port, DP_PORT_INT);
	assert_int_equal(wk[0]->frag.n_held, 0);
	/* a later one arriving now at worker 0 goes straight on to worker 1 */
	assert_int_equal(frag_owner(wk[0], ml, &later, 0, &flag), 1);
	assert_int_equal(flag, DP_PRIV_FRAG_STEERED);
	/* at worker 1, a marked one stays (the mark is used up); an unmarked one goes to 0 */
	dp_priv(ml)->in_port = DP_PORT_INT | DP_PRIV_FRAG_STEERED;
	assert_int_equal(frag_owner(wk[1], ml, &later, 1, &flag), 1);
	assert_int_equal(dp_priv(ml)->in_port, DP_PORT_INT);
	assert_int_equal(frag_owner(wk[1], ml, &later, 1, &flag), 0);

	rte_pktmbuf_free(mf);
	rte_pktmbuf_free(ml);
	dp_worker_free(wk[1]); /* and worker 0 in teardown */
}

/* Run what the two workers handed each other until both rings are empty. */
static void pump(struct dp_worker *wk[2], struct rte_ring *r[2])
{
	struct rte_mbuf *m[DP_BURST];
	unsigned int n, moved;
	do {
		moved = 0;
		for (int to = 0; to < 2; to++) {
			while ((n = rte_ring_dequeue_burst(r[to], (void **)m, DP_BURST, NULL)) >
			       0) {
				for (unsigned int i = 0; i < n; i++) {
					uint8_t p = dp_priv(m[i])->in_port & 1;
					nat_process_burst(wk[to], tables_get(), p, &m[i], 1);
				}
				moved += n;
			}
		}
	} while (moved);
}

/* The same through the whole pipeline: a reply datagram to the SNAT address, fragmented,
 * later fragment first, arriving on either worker: both fragments leave from the owner. */
static void fragmented_reply_on_int_leaves_from_the_owner(void **state)
{
	(void)state;
	char err[256], bstr[16];
	uint8_t buf[256];
	struct dp_worker *wk[2];
	struct rte_ring *r[2];
	struct rte_mbuf *m = NULL;

	dp_worker_free(w);
	w = wk[0] = dp_worker_new(0, 2, 0, 64, err, sizeof(err));
	wk[1] = dp_worker_new(1, 2, 0, 64, err, sizeof(err));
	r[0] = rte_ring_create("to_w0", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r[1] = rte_ring_create("to_w1", 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	for (int i = 0; i < 2; i++) {
		assert_non_null(wk[i]);
		memcpy(&wk[i]->mac[DP_PORT_EXT], MAC_EXT, 6);
		memcpy(&wk[i]->mac[DP_PORT_INT], MAC_INT, 6);
		wk[i]->hz = 1000;
		wk[i]->now = 1000;
		wk[i]->handoff_out[!i] = r[!i];
	}
	inject(DP_PORT_EXT, buf,
	       flow(buf, "198.51.100.2", 5006, "198.51.100.1", 7777, IPPROTO_UDP, 0, DP_PORT_EXT));
	pump(wk, r);
	int o = wk[0]->sess.active ? 0 : 1;
	assert_int_equal(wk[o]->sess.active, 1);
	assert_int_equal(wk[!o]->sess.active, 0);
	struct dp_worker *own = wk[o];
	assert_int_equal(dp_tx_n(own, DP_PORT_INT), 1);
	uint8_t *f = rte_pktmbuf_mtod(own->tx[DP_PORT_INT][0], uint8_t *) + 14;
	cfg_ipv4_str(rd32(f + 16), bstr);
	uint16_t snat_port = rd16(f + 20);
	rte_pktmbuf_free(own->tx[DP_PORT_INT][0]);
	dp_tx_reset(own, DP_PORT_INT);

	unsigned int steered_by_other = 0;
	for (uint16_t id = 1; id <= 16; id++) {
		for (int first = 0; first < 2; first++) { /* the later one first */
			size_t n = flow(buf, bstr, 7, "10.0.0.1", snat_port, IPPROTO_UDP, 0,
					DP_PORT_INT);
			uint8_t *ip = buf + 14;
			ip[4] = (uint8_t)(id >> 8), ip[5] = (uint8_t)id;
			if (first) {
				ip[6] = 0x20;
			} else {
				ip[6] = 0, ip[7] = 4, ip[2] = 0, ip[3] = 36;
				n = 14 + 36;
			}
			uint16_t c = tb_ip_cksum(ip, 20);
			ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
			w = wk[id & 1]; /* arrives on worker id % 2 */
			inject(DP_PORT_INT, buf, n);
			pump(wk, r);
		}
		assert_int_equal(dp_tx_n(wk[!o], DP_PORT_EXT), 0);
		assert_int_equal(dp_tx_n(own, DP_PORT_EXT), 2);
		for (int i = 0; i < 2; i++) {
			m = own->tx[DP_PORT_EXT][i];
			uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *) + 14;
			assert_int_equal(rd32(ip + 12), ip4("198.51.100.1"));
			assert_int_equal(rd32(ip + 16), ip4("198.51.100.2"));
			assert_int_equal(tb_ip_cksum(ip, 20), rd16(ip + 10));
			rte_pktmbuf_free(m);
		}
		dp_tx_reset(own, DP_PORT_EXT);
		steered_by_other += wk[!o]->frag.tbl[0].src != 0 || wk[!o]->stats.handoff_out > 0;
	}
	assert_int_equal(wk[0]->frag.n_held + wk[1]->frag.n_held, 0);
	assert_true(steered_by_other > 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(wk[i]->stats.drops[DP_DROP_FRAG_NO_SESSION] +
					 wk[i]->stats.drops[DP_DROP_NO_SESSION],
				 0);
	w = wk[0];
	wk[0]->handoff_out[1] = wk[1]->handoff_out[0] = NULL; /* the test's rings, freed here */
	dp_worker_free(wk[1]);
	rte_ring_free(r[0]);
	rte_ring_free(r[1]);
}

/* A client's first fragments aimed at the slot of another datagram's entry: 16 datagrams of
 * one flow whose ids share its slot under a CRC of (source ^ destination, id, protocol), as the table
 * hashed before. Under the keyed hash they spread, the victim's entry stays, and its later
 * fragment goes through at once instead of waiting for a first fragment that already
 * passed (frag_hold_timeout, the datagram lost). */
static void fragments_aimed_at_another_datagrams_slot_do_not_evict_it(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rte_mbuf *out[4];
	rte_be32_t src = rte_cpu_to_be_32(ip4("198.51.100.2"));
	rte_be32_t dst = rte_cpu_to_be_32(ip4("198.51.100.1"));
	const uint16_t victim = 0x6000;
	uint32_t slot = rte_hash_crc_4byte(src ^ dst,
					   (uint32_t)rte_cpu_to_be_16(victim) << 8 | IPPROTO_UDP) &
			(DP_FRAG_SLOTS - 1);
	unsigned int n = 0;

	frag_set_secret(0x5eed);
	inject(DP_PORT_EXT, buf, frag(buf, 5010, victim, FIRST, 0, 0));
	assert_int_equal(take_all(out, 4), 1);
	rte_pktmbuf_free(out[0]);
	for (uint32_t id = victim + 1; n < 16 && id < 0x10000; id++) {
		uint32_t be = rte_cpu_to_be_16((uint16_t)id);
		if ((rte_hash_crc_4byte(src ^ dst, be << 8 | IPPROTO_UDP) & (DP_FRAG_SLOTS - 1)) !=
		    slot)
			continue;
		inject(DP_PORT_EXT, buf, frag(buf, 5011, (uint16_t)id, FIRST, 0, 0));
		assert_int_equal(take_all(out, 4), 1);
		rte_pktmbuf_free(out[0]);
		n++;
	}
	assert_int_equal(n, 16);
	inject(DP_PORT_EXT, buf, frag(buf, 5010, victim, LATER, 4, 16));
	assert_int_equal(w->frag.n_held, 0);
	assert_int_equal(take_all(out, 4), 1);
	rte_pktmbuf_free(out[0]);
	frag_reset_secret();
}

/* Two secrets place the same datagrams in different slots. */
static void fragment_slot_hash_is_keyed(void **state)
{
	(void)state;
	struct pkt_meta m = {.src = rte_cpu_to_be_32(ip4("198.51.100.2")),
			     .dst = rte_cpu_to_be_32(ip4("198.51.100.1")),
			     .proto = IPPROTO_UDP};
	uint32_t a[64];
	unsigned int differ = 0;

	frag_set_secret(1);
	for (unsigned int i = 0; i < RTE_DIM(a); i++) {
		m.ip_id = rte_cpu_to_be_16((uint16_t)i);
		a[i] = frag_slot_index(&m);
		assert_true(a[i] < DP_FRAG_SLOTS);
	}
	frag_set_secret(2);
	for (unsigned int i = 0; i < RTE_DIM(a); i++) {
		m.ip_id = rte_cpu_to_be_16((uint16_t)i);
		differ += frag_slot_index(&m) != a[i];
	}
	assert_true(differ > RTE_DIM(a) / 2);
	frag_reset_secret();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(later_before_first_is_held_then_forwarded),
		T(duplicates_pass_and_overlapping_fragments_are_dropped),
		T(colliding_ids_of_two_clients_leave_with_distinct_ids),
		T(hold_full_and_old_fragments_are_dropped_and_counted),
		T(freed_and_reused_record_is_not_followed),
		T(frag_needed_mtu_from_outside_is_raised_to_the_floor),
		T(later_fragments_on_int_are_steered_to_the_owner),
		T(fragmented_reply_on_int_leaves_from_the_owner),
		T(fragments_aimed_at_another_datagrams_slot_do_not_evict_it),
		T(fragment_slot_hash_is_keyed),
	};
#undef T
	return cmocka_run_group_tests_name("frag", tests, group_setup, group_teardown);
}
