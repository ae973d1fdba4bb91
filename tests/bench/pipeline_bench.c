/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline_bench: strait's worker without a PMD, measured (DESIGN §9).
 *
 * Everything a worker does between rte_eth_rx_burst() and rte_eth_tx_burst() runs here, on
 * real mbufs, through the real functions: the per-packet rx counters, nat_process_burst()
 * (parse, bulk session lookup, rewrite, new sessions), the tx counters, and every
 * DP_HOUSEKEEPING_LOOPS bursts nat_sessions_expire(). The PMD's descriptor work is left out;
 * its mbuf work is kept, because it is a real per-packet cost of any DPDK worker, done the way
 * the common NIC PMDs do it (ixgbe, i40e): after a burst the translated mbufs go back to the
 * pool with rte_mempool_put_bulk() (tx completion with the MBUF_FAST_FREE offload, which
 * strait asks for where the port has it; --slow-free frees them one by one with
 * rte_pktmbuf_free_bulk() as without it), and the next burst's mbufs are taken with
 * rte_mempool_get_bulk() and re-armed with one 8-byte store each (the rx ring refill), both
 * through the lcore's mempool cache. Writing the packets and their lengths into those mbufs stands for the NIC's DMA and
 * descriptor write-back and is not timed; it leaves the headers in L1 where DDIO would leave
 * them in the LLC, so this is the best case for header access.
 *
 * Timing: rte_rdtsc() around each burst (worker work + refill), summed over a run; a case is
 * one warm-up run plus --runs measured runs, reported as the median. Instructions: the
 * --callgrind mode runs this program twice under valgrind's callgrind, collecting only inside
 * bench_worker_step() (the timed region), with two packet counts; the difference divided by
 * the difference in packets cancels start-up, table fill and everything else that is equal.
 * Memory: the malloc heap's allocated bytes (rte_malloc_get_socket_stats) before and after
 * nat_sessions_init(): records, both keys, buckets, free list, allocator overhead, all in.
 *
 * Flows: client 100.64.0.0/10 (routed through the ext gateway) → 198.51.100.1, TCP :8080 or
 * UDP :7777, full NAT over 1024 backends in 10.0.16.0/22 (Maglev), so that 16M sessions find
 * free SNAT ports (64512 per backend). Frames are 60 bytes (64 on the wire).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include <strait/cksum.h>
#include <strait/tables.h>

#include "dp_priv.h"
#include "pkt_build.h"
#include "sync.h"

#define BURST	     DP_BURST
#define N_BACKENDS   1024
#define CLIENT_BASE  0x64400000u /* 100.64.0.0 */
#define VIP	     "198.51.100.1"
#define EXT_GW	     "198.51.100.254"
#define BACKEND_BASE 0x0a001000u /* 10.0.16.0 */
#define PORT_TCP     8080
#define PORT_UDP     7777
#define MAX_SIZES    8

static const uint8_t MAC_EXT[6] = {0x02, 0xe0, 0, 0, 0, 1};
static const uint8_t MAC_INT[6] = {0x02, 0x10, 0, 0, 0, 1};
static const uint8_t MAC_PEER[6] = {0x02, 0xc1, 0, 0, 0, 2};

enum kind { K_EST, K_NEW, K_MIXED };
enum dist { D_UNIFORM, D_ZIPF };

struct bcase {
	char name[40];
	enum kind kind;
	int dir; /* K_EST: DIR_O2I / DIR_I2O */
	enum dist dist;
	uint8_t proto; /* K_NEW */
	uint32_t sessions;
};

struct opts {
	bool quick, callgrind, slow_free;
	bool sync; /* session sync on: the worker stages an event per new session (dp/sync.c) */
	/* the stand-in PMD marks frames IP_CKSUM_GOOD and L4_CKSUM_GOOD, as a NIC with rx checksum
	 * offload does (dp/ports.c asks for it where offered) */
	bool rx_cksum;
	unsigned int runs;
	uint64_t packets; /* per run: established and mixed cases */
	uint32_t sizes[MAX_SIZES];
	unsigned int n_sizes;
	uint32_t new_cap, mixed_sessions, cg_sessions;
	double theta;
	const char *filter; /* only cases whose name contains this */
	/* --child: one case, one run, no warm-up, for callgrind */
	const char *child;
	uint32_t child_sessions;
	uint64_t child_packets;
};

static struct opts o = {.runs = 5, .theta = 0.99};

/* Flow i's identity. Ports stay clear of 0 and of the well-known range. */
static inline rte_be32_t flow_client(uint32_t i)
{
	return rte_cpu_to_be_32(CLIENT_BASE + (i >> 8));
}

static inline rte_be16_t flow_sport(uint32_t i)
{
	return rte_cpu_to_be_16((uint16_t)(1024 + (i & 255)));
}

/* Where flow i's replies come from, learnt from its first translated packet. */
struct flow_i2o {
	rte_be32_t be_addr;
	rte_be16_t be_port, snat_port;
};

/* A frame to copy, with the fields it was built with (network order). */
struct tmpl {
	uint8_t b[64];
	uint16_t len;
	uint16_t l4_ck_off;
	bool udp;
	rte_be32_t src, dst;
	rte_be16_t sport, dport;
};

struct bench {
	struct rte_mempool *pool;
	struct dp_worker *w;
	uint32_t n_flows;
	struct flow_i2o *i2o;
	uint64_t loops;
	size_t table_bytes; /* heap bytes of the session table */
	struct tmpl syn, synack, ack_o2i, ack_i2o, udp_o2i;
	rte_be32_t vip, snat;
	uint64_t rearm; /**< data_off, refcnt, nb_segs, port of a fresh mbuf: a PMD's rx re-arm */
	uint64_t vnow;	/**< --child: the worker's clock (step_clock()) */
};

static struct bench B;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pipeline_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static size_t heap_bytes(void)
{
	size_t n = 0;
	for (unsigned int s = 0; s < rte_socket_count(); s++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			n += st.heap_allocsz_bytes;
	}
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Tables, neighbours, the worker                                                            */

static struct cfg_mapping maps[2];
static struct cfg_backend backends[N_BACKENDS];

static uint32_t ip4(const char *s)
{
	uint32_t a;
	if (cfg_parse_ipv4(s, &a) < 0)
		die("bad address %s", s);
	return a;
}

static int slot_of(const char *ns, const char *name)
{
	(void)ns;
	return strcmp(name, "tcp") == 0 ? 0 : 1;
}

static void tables_setup(void)
{
	struct cfg c;
	const struct cfg_mapping *p[2] = {&maps[0], &maps[1]};
	char err[256];

	memset(&c, 0, sizeof(c));
	c.ext.addrs[0] = (struct cfg_cidr){ip4(VIP), 24};
	c.ext.n_addrs = 1;
	c.ext.gateway = ip4(EXT_GW);
	c.intl.addrs[0] = (struct cfg_cidr){ip4("10.0.0.1"), 16};
	c.intl.n_addrs = 1;
	c.timeouts = (struct cfg_timeouts){300, 7440, 240, 120};
	for (unsigned int i = 0; i < N_BACKENDS; i++)
		backends[i] = (struct cfg_backend){.addr = BACKEND_BASE + i, .weight = 1};
	for (int m = 0; m < 2; m++) {
		struct cfg_mapping *mp = &maps[m];
		memset(mp, 0, sizeof(*mp));
		snprintf(mp->name, sizeof(mp->name), "%s", m == 0 ? "tcp" : "udp");
		mp->addrs[0] = ip4(VIP);
		mp->n_addrs = 1;
		mp->ports[0] = (struct cfg_map_port){.port = m == 0 ? PORT_TCP : PORT_UDP,
						     .end_port = m == 0 ? PORT_TCP : PORT_UDP,
						     .service_port = m == 0 ? 80 : 7,
						     .proto = m == 0 ? IPPROTO_TCP : IPPROTO_UDP};
		mp->n_ports = 1;
		mp->backends = backends;
		mp->n_backends = N_BACKENDS;
		mp->ordinal = -1;
	}
	// The udp mapping's affinity and source rules, to measure what they cost a new session
	// (docs/benchmarks.md): BENCH_AFFINITY=fiveTuple|clientIP|clientIPAndPort, BENCH_RULES=N
	// (N rules, only the last matching the benchmark's clients, as a worst case).
	const char *aff = getenv("BENCH_AFFINITY"), *nr = getenv("BENCH_RULES");
	if (aff && cfg_affinity_parse(aff, &maps[1].affinity) < 0)
		die("BENCH_AFFINITY=%s: not an affinity", aff);
	if (nr) {
		unsigned long n = strtoul(nr, NULL, 10);
		if (n < 1 || n > CFG_MAX_RULES)
			die("BENCH_RULES=%s: 1-%d", nr, CFG_MAX_RULES);
		for (unsigned long i = 0; i + 1 < n; i++)
			maps[1].rules[i] = (struct cfg_rule){{ip4("192.0.2.0"), 24}, 0, 65535, 0};
		maps[1].rules[n - 1] = (struct cfg_rule){{0, 0}, 0, 65535, 0};
		maps[1].n_rules = (unsigned int)n;
	}
	struct tables *t = tables_build(&c, p, 2, slot_of, 1, err, sizeof(err));
	if (!t)
		die("tables_build: %s", err);
	tables_publish(t, NULL);

	neigh_reset();
	// Under callgrind, the neighbour and adjacency hash's secret fixed too: which next hops
	// share an adjacency slot (dp_adj_get()'s first probe or its search) repeats.
	if (o.child)
		neigh_set_secret(0x2545f491u);
	neigh_update(rte_cpu_to_be_32(ip4(EXT_GW)), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_PEER);
	for (unsigned int i = 0; i < N_BACKENDS; i++) {
		struct rte_ether_addr mac = {{0x02, 0xb0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i}};
		neigh_update(rte_cpu_to_be_32(BACKEND_BASE + i), DP_PORT_INT, &mac);
	}
	B.vip = rte_cpu_to_be_32(ip4(VIP));
	B.snat = rte_cpu_to_be_32(ip4("10.0.0.1"));
}

static void tmpl_make(struct tmpl *t, const char *src, const char *dst, uint16_t sport,
		      uint16_t dport, uint8_t proto, uint8_t flags, const uint8_t *dmac)
{
	struct tb_flow f = {.src = src,
			    .dst = dst,
			    .sport = sport,
			    .dport = dport,
			    .proto = proto,
			    .tcp_flags = flags,
			    .dmac = dmac,
			    .payload_len = proto == IPPROTO_TCP ? 6 : 18};
	memset(t, 0, sizeof(*t));
	t->len = (uint16_t)tb_frame(t->b, &f);
	t->udp = proto == IPPROTO_UDP;
	t->l4_ck_off = 14 + 20 + (t->udp ? 6 : 16);
	memcpy(&t->src, t->b + 14 + 12, 4);
	memcpy(&t->dst, t->b + 14 + 16, 4);
	memcpy(&t->sport, t->b + 14 + 20, 2);
	memcpy(&t->dport, t->b + 14 + 22, 2);
}

static void templates(void)
{
	tmpl_make(&B.syn, "100.64.0.0", VIP, 1024, PORT_TCP, IPPROTO_TCP, RTE_TCP_SYN_FLAG,
		  MAC_EXT);
	tmpl_make(&B.ack_o2i, "100.64.0.0", VIP, 1024, PORT_TCP, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		  MAC_EXT);
	tmpl_make(&B.udp_o2i, "100.64.0.0", VIP, 1024, PORT_UDP, IPPROTO_UDP, 0, MAC_EXT);
	tmpl_make(&B.synack, "10.0.16.0", "10.0.0.1", 80, 1024, IPPROTO_TCP,
		  RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, MAC_INT);
	tmpl_make(&B.ack_i2o, "10.0.16.0", "10.0.0.1", 80, 1024, IPPROTO_TCP, RTE_TCP_ACK_FLAG,
		  MAC_INT);
}

/* The NIC's part: the template with its 5-tuple replaced and checksums adjusted (RFC 1624). */
static inline void pkt_write(struct rte_mbuf *m, const struct tmpl *t, rte_be32_t src,
			     rte_be16_t sport, rte_be32_t dst, rte_be16_t dport)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t a = 0;
	uint16_t ck;

	memcpy(p, t->b, sizeof(t->b));
	a = cksum_delta32(a, t->src, src);
	a = cksum_delta32(a, t->dst, dst);
	memcpy(p + 14 + 12, &src, 4);
	memcpy(p + 14 + 16, &dst, 4);
	memcpy(&ck, p + 14 + 10, 2);
	ck = cksum_apply(ck, cksum_fold(a));
	memcpy(p + 14 + 10, &ck, 2);
	a = cksum_delta16(a, t->sport, sport);
	a = cksum_delta16(a, t->dport, dport);
	memcpy(p + 14 + 20, &sport, 2);
	memcpy(p + 14 + 22, &dport, 2);
	memcpy(&ck, p + t->l4_ck_off, 2);
	ck = t->udp ? cksum_apply_udp(ck, cksum_fold(a)) : cksum_apply(ck, cksum_fold(a));
	memcpy(p + t->l4_ck_off, &ck, 2);
	m->data_len = t->len;
	m->pkt_len = t->len;
	m->ol_flags = o.rx_cksum ? RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0;
	m->packet_type = 0;
}

static inline void pkt_o2i(struct rte_mbuf *m, const struct tmpl *t, uint32_t flow)
{
	pkt_write(m, t, flow_client(flow), flow_sport(flow), B.vip, t->dport);
}

static inline void pkt_i2o(struct rte_mbuf *m, const struct tmpl *t, uint32_t flow)
{
	const struct flow_i2o *f = &B.i2o[flow];
	pkt_write(m, t, f->be_addr, f->be_port, B.snat, f->snat_port);
}

static void worker_make(uint32_t sessions)
{
	char err[256];
	size_t before;

	// A tiny table first, replaced by the measured one: the heap difference is then the
	// session table alone, not the worker's counters, rings and fragment slots.
	B.w = dp_worker_new(0, 1, rte_lcore_id(), 64, err, sizeof(err));
	if (!B.w)
		die("dp_worker_new: %s", err);
	nat_sessions_fini(&B.w->sess);
	before = heap_bytes();
	int ret = nat_sessions_init(&B.w->sess, "bench_sess", sessions, (int)rte_socket_id());
	if (ret < 0)
		die("a session table of %u: %s (give EAL more memory: -m or hugepages)", sessions,
		    strerror(-ret));
	B.table_bytes = heap_bytes() - before;
	// Under callgrind (--child), a fixed secret: the cuckoo moves while the table fills then
	// repeat from run to run, and new-* count to the instruction (with a random one they
	// moved by +-13 a packet).
	if (o.child) {
		B.w->sess.key[0] = 0x243f6a8885a308d3ull;
		B.w->sess.key[1] = 0x13198a2e03707344ull;
	}
	memcpy(&B.w->mac[DP_PORT_EXT], MAC_EXT, 6);
	memcpy(&B.w->mac[DP_PORT_INT], MAC_INT, 6);
	dp_workers[0] = B.w;
	B.loops = 0;
	if (o.sync && dp_sync_worker_init(B.w) < 0)
		die("dp_sync_worker_init: out of memory");
}

/* --sync: the control thread's side, outside the timed region: empty the event ring. */
static void sync_drain(void)
{
	static struct sync_rec ev[DP_SYNC_EV_RING];

	if (B.w->sync)
		rte_ring_sc_dequeue_burst_elem(B.w->sync->ev, ev, sizeof(ev[0]), RTE_DIM(ev), NULL);
}

static void worker_drop(void)
{
	dp_worker_free(B.w);
	dp_workers[0] = NULL;
	B.w = NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The timed region                                                                          */

static void tx_drain(struct dp_worker *w)
{
	// What tx_flush() does around rte_eth_tx_burst(), with the PMD's completion free.
	for (uint8_t p = 0; p < DP_PORT_MAX; p++) {
		uint16_t n = dp_tx_n(w, p);
		if (n == 0)
			continue;
		w->stats.tx_pkts[p] += n;
		w->stats.tx_bytes[p] += dp_pkts_bytes(w->tx[p], n);
		if (o.slow_free)
			rte_pktmbuf_free_bulk(w->tx[p], n);
		else
			rte_mempool_put_bulk(B.pool, (void **)w->tx[p], n);
		dp_tx_reset(w, p);
	}
}

/*
 * The worker's clock for a burst: the TSC, but under callgrind (--child) a clock that starts at
 * the TSC and advances by 1 us a burst, so that what expires during a run (the new-tcp-syn
 * case's SYN_SENT sessions, under a slow valgrind on a loaded box) does not depend on the box:
 * the counts repeat.
 */
static uint64_t step_clock(uint64_t tsc)
{
	if (!o.child)
		return tsc;
	if (B.vnow == 0)
		B.vnow = tsc;
	else
		B.vnow += rte_get_tsc_hz() / 1000000;
	return B.vnow;
}

/*
 * One worker loop iteration for one rx burst, and the rx refill. Not inlined: callgrind
 * collects inside this function only (--toggle-collect).
 */
__attribute__((noinline)) void bench_worker_step(struct rte_mbuf **pkts, uint16_t n, uint8_t port,
						 uint64_t now, struct rte_mbuf **refill);
__attribute__((noinline)) void bench_worker_step(struct rte_mbuf **pkts, uint16_t n, uint8_t port,
						 uint64_t now, struct rte_mbuf **refill)
{
	struct dp_worker *w = B.w;
	const struct tables *t = tables_get();

	w->now = now;
	w->stats.rx_pkts[port] += n;
	w->stats.rx_bytes[port] += dp_pkts_bytes(pkts, n);
	nat_process_burst(w, t, port, pkts, n);
	tx_drain(w);
	if (w->sync)
		dp_sync_flush(w);
	if (++B.loops % DP_HOUSEKEEPING_LOOPS == 0)
		nat_sessions_expire(w, DP_EXPIRE_BUDGET);
	if (refill) {
		if (rte_mempool_get_bulk(B.pool, (void **)refill, BURST) != 0)
			die("mbuf pool empty");
		for (unsigned int i = 0; i < BURST; i++)
			memcpy(&refill[i]->rearm_data, &B.rearm, sizeof(B.rearm));
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Filling the table                                                                         */

static void alloc_burst(struct rte_mbuf **m, unsigned int n)
{
	if (rte_pktmbuf_alloc_bulk(B.pool, m, n) != 0)
		die("mbuf pool empty");
}

/* Untimed: one burst through the pipeline; the caller looks at w->tx[out] itself. */
static void fill_burst(struct rte_mbuf **m, unsigned int n, uint8_t port)
{
	B.w->now = rte_rdtsc();
	nat_process_burst(B.w, tables_get(), port, m, (uint16_t)n);
}

static void expect_tx(uint8_t out, unsigned int n, const char *what)
{
	if (dp_tx_n(B.w, out) != n) {
		fprintf(stderr, "pipeline_bench: %s: %u of %u packets forwarded; drops:", what,
			dp_tx_n(B.w, out), n);
		for (int d = 0; d < DP_DROP_MAX; d++)
			if (B.w->stats.drops[d])
				fprintf(stderr, " %s=%" PRIu64, dp_drop_name(d),
					B.w->stats.drops[d]);
		fputc('\n', stderr);
		exit(1);
	}
}

static void tx_free(uint8_t out)
{
	rte_pktmbuf_free_bulk(B.w->tx[out], dp_tx_n(B.w, out));
	dp_tx_reset(B.w, out);
}

/* Establish flows [0, n) over TCP: SYN, SYN-ACK, ACK, so that every one is ESTABLISHED. */
static void fill_tcp(uint32_t n)
{
	struct rte_mbuf *m[BURST];

	for (uint32_t base = 0; base < n; base += BURST) {
		unsigned int k = RTE_MIN((uint32_t)BURST, n - base);
		alloc_burst(m, k);
		for (unsigned int j = 0; j < k; j++)
			pkt_o2i(m[j], &B.syn, base + j);
		fill_burst(m, k, DP_PORT_EXT);
		expect_tx(DP_PORT_INT, k, "fill: SYN");
		for (unsigned int j = 0; j < k; j++) {
			const uint8_t *p =
				rte_pktmbuf_mtod(B.w->tx[DP_PORT_INT][j], const uint8_t *);
			struct flow_i2o *f = &B.i2o[base + j];
			memcpy(&f->be_addr, p + 14 + 16, 4);
			memcpy(&f->snat_port, p + 14 + 20, 2);
			memcpy(&f->be_port, p + 14 + 22, 2);
		}
		tx_free(DP_PORT_INT);
		alloc_burst(m, k);
		for (unsigned int j = 0; j < k; j++)
			pkt_i2o(m[j], &B.synack, base + j);
		fill_burst(m, k, DP_PORT_INT);
		expect_tx(DP_PORT_EXT, k, "fill: SYN-ACK");
		tx_free(DP_PORT_EXT);
		alloc_burst(m, k);
		for (unsigned int j = 0; j < k; j++)
			pkt_o2i(m[j], &B.ack_o2i, base + j);
		fill_burst(m, k, DP_PORT_EXT);
		expect_tx(DP_PORT_INT, k, "fill: ACK");
		tx_free(DP_PORT_INT);
	}
	if (B.w->sess.active != n)
		die("fill: %" PRIu64 " sessions active, %u expected", B.w->sess.active, n);
	if (B.w->sync) {
		// Each handshake's refresh (a state change) is sent at the next walk: one whole
		// walk now, so that the measured runs see the steady state of established flows.
		nat_sessions_expire(B.w, B.w->sess.hwm);
		dp_sync_flush(B.w);
		while (rte_ring_count(B.w->sync->ev))
			sync_drain();
	}
	B.n_flows = n;
}

/* ---------------------------------------------------------------------------------------- */
/* Flow choice                                                                               */

/*
 * Zipf by Gray et al., "Quickly generating billion-record synthetic databases" (SIGMOD 1994),
 * as YCSB does; theta 0.99 is YCSB's default skew. Rank r is mapped to flow
 * (r * odd) mod 2^k, so the popular flows are spread over the table, not packed together.
 */
static uint32_t *trace_make(uint32_t n_flows, uint64_t len, enum dist d, uint64_t seed)
{
	uint32_t *tr = malloc(len * sizeof(*tr));
	uint64_t s = seed | 1;

	if (!tr)
		die("no memory for a trace of %" PRIu64, len);
	if (d == D_UNIFORM) {
		for (uint64_t i = 0; i < len; i++)
			tr[i] = (uint32_t)(xorshift64(&s) % n_flows);
		return tr;
	}
	double theta = o.theta, zetan = 0, zeta2 = 1 + pow(0.5, theta);
	for (uint32_t i = 1; i <= n_flows; i++)
		zetan += pow((double)i, -theta);
	double alpha = 1 / (1 - theta);
	double eta = (1 - pow(2.0 / n_flows, 1 - theta)) / (1 - zeta2 / zetan);
	bool pow2 = (n_flows & (n_flows - 1)) == 0;
	for (uint64_t i = 0; i < len; i++) {
		double u = (double)(xorshift64(&s) >> 11) / (double)(1ull << 53);
		double uz = u * zetan;
		uint64_t r;
		if (uz < 1)
			r = 0;
		else if (uz < zeta2)
			r = 1;
		else
			r = (uint64_t)(n_flows * pow(eta * u - eta + 1, alpha));
		if (r >= n_flows)
			r = n_flows - 1;
		tr[i] = pow2 ? (uint32_t)((r * 0x9e3779b1u) & (n_flows - 1)) : (uint32_t)r;
	}
	return tr;
}

/* ---------------------------------------------------------------------------------------- */
/* Runs                                                                                      */

static uint64_t counter_drops(void)
{
	uint64_t d = 0;
	for (int i = 0; i < DP_DROP_MAX; i++)
		d += B.w->stats.drops[i];
	return d;
}

/* Established traffic of one direction. @return TSC cycles spent in the timed region. */
static uint64_t run_est(int dir, const uint32_t *trace, uint64_t n_pkts)
{
	struct rte_mbuf *cur[BURST], *next[BURST];
	uint8_t in = dir == DIR_O2I ? DP_PORT_EXT : DP_PORT_INT;
	uint8_t out = dir == DIR_O2I ? DP_PORT_INT : DP_PORT_EXT;
	uint64_t tx0 = B.w->stats.tx_pkts[out], cycles = 0;

	alloc_burst(cur, BURST);
	for (uint64_t k = 0; k < n_pkts; k += BURST) {
		uint16_t n = (uint16_t)RTE_MIN((uint64_t)BURST, n_pkts - k);
		for (uint16_t j = 0; j < n; j++) {
			if (dir == DIR_O2I)
				pkt_o2i(cur[j], &B.ack_o2i, trace[k + j]);
			else
				pkt_i2o(cur[j], &B.ack_i2o, trace[k + j]);
		}
		for (uint16_t j = n; j < BURST; j++)
			rte_pktmbuf_free(cur[j]);
		uint64_t t0 = rte_rdtsc();
		bench_worker_step(cur, n, in, step_clock(t0), next);
		cycles += rte_rdtsc() - t0;
		sync_drain();
		memcpy(cur, next, sizeof(cur));
	}
	rte_pktmbuf_free_bulk(cur, BURST);
	if (B.w->stats.tx_pkts[out] - tx0 != n_pkts)
		die("%" PRIu64 " of %" PRIu64 " packets forwarded (%" PRIu64 " drops)",
		    B.w->stats.tx_pkts[out] - tx0, n_pkts, counter_drops());
	return cycles;
}

/* New flows [first, first + n) of @p t's protocol. @return cycles. */
static uint64_t run_new(const struct tmpl *t, uint32_t first, uint32_t n)
{
	struct rte_mbuf *cur[BURST], *next[BURST];
	uint64_t cycles = 0;

	alloc_burst(cur, BURST);
	for (uint32_t k = 0; k < n; k += BURST) {
		uint16_t c = (uint16_t)RTE_MIN((uint32_t)BURST, n - k);
		for (uint16_t j = 0; j < c; j++)
			pkt_o2i(cur[j], t, first + k + j);
		for (uint16_t j = c; j < BURST; j++)
			rte_pktmbuf_free(cur[j]);
		uint64_t t0 = rte_rdtsc();
		bench_worker_step(cur, c, DP_PORT_EXT, step_clock(t0), next);
		cycles += rte_rdtsc() - t0;
		sync_drain();
		memcpy(cur, next, sizeof(cur));
	}
	rte_pktmbuf_free_bulk(cur, BURST);
	return cycles;
}

/* 9 established packets (out2in, uniform) for 1 SYN of a new flow. @return cycles. */
static uint64_t run_mixed(const uint32_t *trace, uint64_t n_pkts, uint32_t *next_new)
{
	struct rte_mbuf *cur[BURST], *next[BURST];
	uint64_t tx0 = B.w->stats.tx_pkts[DP_PORT_INT], cycles = 0;

	alloc_burst(cur, BURST);
	for (uint64_t k = 0; k < n_pkts; k += BURST) {
		uint16_t n = (uint16_t)RTE_MIN((uint64_t)BURST, n_pkts - k);
		for (uint16_t j = 0; j < n; j++) {
			if ((k + j) % 10 == 9)
				pkt_o2i(cur[j], &B.syn, (*next_new)++);
			else
				pkt_o2i(cur[j], &B.ack_o2i, trace[k + j]);
		}
		for (uint16_t j = n; j < BURST; j++)
			rte_pktmbuf_free(cur[j]);
		uint64_t t0 = rte_rdtsc();
		bench_worker_step(cur, n, DP_PORT_EXT, step_clock(t0), next);
		cycles += rte_rdtsc() - t0;
		sync_drain();
		memcpy(cur, next, sizeof(cur));
	}
	rte_pktmbuf_free_bulk(cur, BURST);
	if (B.w->stats.tx_pkts[DP_PORT_INT] - tx0 != n_pkts)
		die("mixed: %" PRIu64 " of %" PRIu64 " packets forwarded (%" PRIu64 " drops)",
		    B.w->stats.tx_pkts[DP_PORT_INT] - tx0, n_pkts, counter_drops());
	return cycles;
}

/* ---------------------------------------------------------------------------------------- */
/* Disturbance                                                                               */

/*
 * This benchmark is meant to run on shared machines (CI, a VM among others). A run during
 * which something else used our CPU (another process, interrupts, the hypervisor's steal
 * time) measures that too. So each run is bracketed by samples of our CPU's counters in
 * /proc/stat and of our own thread's CPU time; the share of the CPU's busy time that was not
 * ours is the run's disturbance. Runs disturbed by more than DISTURB_MAX are repeated (up to
 * MAX_ATTEMPTS_PER_RUN times the runs asked for), and the median is taken over the least
 * disturbed ones.
 */
#define DISTURB_MAX	     0.03
#define MAX_ATTEMPTS_PER_RUN 4

struct cpu_sample {
	uint64_t total, idle, own; /* clock ticks */
};

static void cpu_sample(struct cpu_sample *cs)
{
	char want[16], line[512];
	unsigned int cpu = rte_lcore_to_cpu_id((int)rte_lcore_id());
	FILE *f;

	memset(cs, 0, sizeof(*cs));
	snprintf(want, sizeof(want), "cpu%u ", cpu);
	if ((f = fopen("/proc/stat", "r"))) {
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v[10] = {0};
			if (strncmp(line, want, strlen(want)) != 0)
				continue;
			if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu",
				   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) >= 8) {
				for (int i = 0; i < 8; i++) // user..steal
					cs->total += v[i];
				cs->idle = v[3] + v[4];
			}
			break;
		}
		fclose(f);
	}
	// utime and stime of this thread: fields 14 and 15, after the ")" of the name.
	if ((f = fopen("/proc/thread-self/stat", "r"))) {
		if (fgets(line, sizeof(line), f)) {
			char *p = strrchr(line, ')');
			unsigned long long ut = 0, st = 0;
			if (p &&
			    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				   &ut, &st) == 2)
				cs->own = ut + st;
		}
		fclose(f);
	}
}

/* Share of the CPU's time between @p a and @p b that others used (0 when unknown). */
static double disturbance(const struct cpu_sample *a, const struct cpu_sample *b)
{
	double total = (double)(b->total - a->total);
	double busy = total - (double)(b->idle - a->idle);
	double own = (double)(b->own - a->own);

	if (total <= 0)
		return 0;
	return RTE_MAX(0.0, (busy - own) / total);
}

/* The measured runs of one case. */
struct runs {
	double cpp[64], dist[64];
	unsigned int n, attempts, want;
};

/* Whether another attempt is needed; call before each, then runs_add() its result. */
static bool runs_more(const struct runs *r)
{
	unsigned int quiet = 0;
	for (unsigned int i = 0; i < r->n; i++)
		quiet += r->dist[i] <= DISTURB_MAX;
	return quiet < r->want && r->attempts < r->want * MAX_ATTEMPTS_PER_RUN &&
	       r->n < RTE_DIM(r->cpp);
}

static void runs_add(struct runs *r, double cpp, double dist)
{
	r->cpp[r->n] = cpp;
	r->dist[r->n++] = dist;
	r->attempts++;
}

/* Keep the r->want least disturbed runs (stable for equals). */
static void runs_select(struct runs *r)
{
	for (unsigned int i = 1; i < r->n; i++)
		for (unsigned int j = i; j > 0 && r->dist[j] < r->dist[j - 1]; j--) {
			double t = r->dist[j];
			r->dist[j] = r->dist[j - 1], r->dist[j - 1] = t;
			t = r->cpp[j];
			r->cpp[j] = r->cpp[j - 1], r->cpp[j - 1] = t;
		}
	if (r->n > r->want)
		r->n = r->want;
}

/* ---------------------------------------------------------------------------------------- */
/* Reporting                                                                                 */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool header_done;

static void report(const char *name, uint32_t sessions, struct runs *rs, uint64_t live)
{
	double hz = (double)rte_get_tsc_hz();
	runs_select(rs);
	double *cpp = rs->cpp;
	unsigned int n = rs->n;
	double min = cpp[0], max = cpp[0], dmax = 0;
	for (unsigned int i = 0; i < n; i++) {
		min = RTE_MIN(min, cpp[i]);
		max = RTE_MAX(max, cpp[i]);
		dmax = RTE_MAX(dmax, rs->dist[i]);
	}
	double med = median(cpp, n);
	double mpps = hz / med / 1e6;
	double bps = (double)B.table_bytes / sessions;
	double bpl = live ? (double)B.table_bytes / (double)live : 0;

	if (!header_done) {
		printf("%-22s %9s %11s %15s %9s %10s %10s %9s\n", "case", "sessions", "cycles/pkt",
		       "(min..max)", "Mpps/core", "B/session", "B/live", "disturbed");
		header_done = true;
	}
	printf("%-22s %9u %11.1f %7.1f..%-7.1f %9.2f %10.1f %10.1f %4.1f%% %u/%u\n", name, sessions,
	       med, min, max, mpps, bps, bpl, 100 * dmax, n, rs->attempts);
	printf("bench case=%s sessions=%u cycles_per_pkt=%.1f mpps=%.2f bytes_per_session=%.1f "
	       "bytes_per_live_session=%.1f runs=%u attempts=%u disturbed_max=%.3f%s\n",
	       name, sessions, med, mpps, bps, bpl, n, rs->attempts, dmax,
	       o.rx_cksum ? " rx_cksum=nic" : "");
	fflush(stdout);
}

static bool wanted(const char *name)
{
	return !o.filter || strstr(name, o.filter);
}

/* ---------------------------------------------------------------------------------------- */
/* Cases                                                                                     */

static const char *const dist_name[] = {"uniform", "zipf"};

static void cases_est(uint32_t n, uint64_t packets, unsigned int runs, bool warm)
{
	bool any = false;
	char name[64];

	for (int dir = 0; dir < 2; dir++)
		for (int d = 0; d < 2; d++) {
			snprintf(name, sizeof(name), "est-%s-%s", dir == DIR_O2I ? "o2i" : "i2o",
				 dist_name[d]);
			any |= wanted(name);
		}
	if (!any)
		return;
	worker_make(n);
	B.i2o = calloc(n, sizeof(*B.i2o));
	if (!B.i2o)
		die("no memory for %u flows", n);
	uint64_t t0 = rte_rdtsc();
	fill_tcp(n);
	fprintf(stderr, "pipeline_bench: %u TCP sessions established in %.2f s\n", n,
		(double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz());
	for (int d = 0; d < 2; d++) {
		uint32_t *tr = NULL;
		for (int dir = 0; dir < 2; dir++) {
			snprintf(name, sizeof(name), "est-%s-%s", dir == DIR_O2I ? "o2i" : "i2o",
				 dist_name[d]);
			if (!wanted(name))
				continue;
			if (!tr)
				tr = trace_make(n, packets, (enum dist)d, 0x5eed + n);
			struct runs rs = {.want = runs};
			if (warm)
				run_est(dir, tr, packets);
			while (runs_more(&rs)) {
				struct cpu_sample a, b;
				cpu_sample(&a);
				uint64_t c = run_est(dir, tr, packets);
				cpu_sample(&b);
				runs_add(&rs, (double)c / (double)packets, disturbance(&a, &b));
			}
			report(name, n, &rs, B.w->sess.active);
		}
		free(tr);
	}
	free(B.i2o);
	B.i2o = NULL;
	worker_drop();
}

static void case_new(uint8_t proto, uint32_t cap, unsigned int runs, bool warm)
{
	const char *name = proto == IPPROTO_UDP ? "new-udp" : "new-tcp-syn";
	const struct tmpl *t = proto == IPPROTO_UDP ? &B.udp_o2i : &B.syn;
	struct runs rs = {.want = runs}, rs_full = {.want = runs};
	uint64_t live = 0;
	bool warming = warm;

	if (!wanted(name))
		return;
	while (warming || runs_more(&rs)) {
		struct cpu_sample a, b;
		if (B.w)
			worker_drop();
		worker_make(cap);
		cpu_sample(&a);
		uint64_t c = run_new(t, 0, cap);
		cpu_sample(&b);
		struct dp_worker *w = B.w;
		// Until the table is full every packet starts a session. Past it, a UDP packet is
		// a counted drop; a SYN evicts the oldest unestablished session (early drop) and
		// takes its place: the cost of a SYN flood on a full table.
		if (w->stats.sessions_created != cap)
			die("%s: %" PRIu64 " sessions created in a table of %u (drops %" PRIu64 ")",
			    name, w->stats.sessions_created, cap, counter_drops());
		uint32_t extra = RTE_MAX(cap / 8, 32u);
		struct cpu_sample fa, fb;
		cpu_sample(&fa);
		uint64_t cf = run_new(t, cap, extra);
		cpu_sample(&fb);
		uint64_t want_full = proto == IPPROTO_UDP ? extra : 0;
		uint64_t want_evict = proto == IPPROTO_UDP ? 0 : extra;
		if (w->stats.drops[DP_DROP_SESSION_TABLE_FULL] != want_full ||
		    w->stats.sessions_evicted != want_evict || w->sess.active != cap)
			die("%s: full table: %" PRIu64 " full drops, %" PRIu64
			    " evictions for %u packets, %" PRIu64 " sessions",
			    name, w->stats.drops[DP_DROP_SESSION_TABLE_FULL],
			    w->stats.sessions_evicted, extra, w->sess.active);
		live = w->sess.active;
		if (!warming) {
			runs_add(&rs, (double)c / cap, disturbance(&a, &b));
			if (proto == IPPROTO_TCP)
				runs_add(&rs_full, (double)cf / extra, disturbance(&fa, &fb));
		}
		warming = false;
	}
	report(name, cap, &rs, live);
	if (proto == IPPROTO_TCP)
		report("new-tcp-syn-evict", cap, &rs_full, live);
	worker_drop();
}

static void case_mixed(uint32_t n, uint64_t packets, unsigned int runs, bool warm)
{
	const char *name = "mixed-90est-10new";
	unsigned int total = runs * MAX_ATTEMPTS_PER_RUN + (warm ? 1 : 0);
	struct runs rs = {.want = runs};

	if (!wanted(name))
		return;
	// Room for every new flow of every attempt: nothing expires during a benchmark.
	uint32_t cap = n + (uint32_t)(packets / 10 + 1) * total;
	worker_make(cap);
	B.i2o = calloc(n, sizeof(*B.i2o));
	if (!B.i2o)
		die("no memory for %u flows", n);
	fill_tcp(n);
	uint32_t *tr = trace_make(n, packets, D_UNIFORM, 0xabcd);
	uint32_t next_new = 1u << 26; /* far from the established flows' clients */
	if (warm)
		run_mixed(tr, packets, &next_new);
	while (runs_more(&rs)) {
		struct cpu_sample a, b;
		cpu_sample(&a);
		double c = (double)run_mixed(tr, packets, &next_new) / (double)packets;
		cpu_sample(&b);
		runs_add(&rs, c, disturbance(&a, &b));
	}
	report(name, cap, &rs, B.w->sess.active);
	free(tr);
	free(B.i2o);
	B.i2o = NULL;
	worker_drop();
}

/* ---------------------------------------------------------------------------------------- */
/* Callgrind                                                                                 */

static char self_path[4096];

/* Run this program under callgrind for @p case_name with @p packets. @return Ir collected. */
static uint64_t callgrind_child(const char *case_name, uint32_t sessions, uint64_t packets)
{
	char out[256], pk[32], se[32], mem[32];
	// Memory: the table (< 512 B per session even with rte_hash), trace and pool.
	unsigned int mb = (unsigned int)(((uint64_t)sessions * 512 + packets * 4) >> 20) + 512;
	snprintf(out, sizeof(out), "/tmp/strait-bench-cg.%d.%" PRIu64, getpid(), packets);
	snprintf(pk, sizeof(pk), "%" PRIu64, packets);
	snprintf(se, sizeof(se), "%u", sessions);
	snprintf(mem, sizeof(mem), "%u", mb);
	char cgout[300];
	snprintf(cgout, sizeof(cgout), "--callgrind-out-file=%s", out);
	char *argv[] = {"valgrind",
			"--tool=callgrind",
			"--collect-atstart=no",
			"--toggle-collect=bench_worker_step*",
			cgout,
			self_path,
			"-l",
			"0",
			"--no-huge",
			"--no-pci",
			"--no-shconf",
			"-m",
			mem,
			"--log-level=*:error",
			"--",
			"--child",
			(char *)case_name,
			"--sessions",
			se,
			"--packets",
			pk,
			NULL,
			NULL,
			NULL,
			NULL};
	unsigned int na = 0;
	while (argv[na])
		na++;
	if (o.slow_free)
		argv[na++] = "--slow-free";
	if (o.sync)
		argv[na++] = "--sync";
	if (o.rx_cksum)
		argv[na++] = "--rx-cksum";
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		execvp("valgrind", argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("callgrind run of %s (%" PRIu64 " packets) failed (is valgrind installed?)",
		    case_name, packets);
	FILE *f = fopen(out, "r");
	if (!f)
		die("no callgrind output %s", out);
	char line[512];
	uint64_t ir = 0;
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "totals: %" SCNu64, &ir) == 1 ||
		    sscanf(line, "summary: %" SCNu64, &ir) == 1)
			found = true;
	}
	fclose(f);
	unlink(out);
	if (!found)
		die("no totals in callgrind output for %s", case_name);
	return ir;
}

static void callgrind_all(void)
{
	static const char *const cases[] = {"est-o2i-uniform",	 "est-i2o-uniform",
					    "new-udp",		 "new-tcp-syn",
					    "new-tcp-syn-evict", "mixed-90est-10new"};
	uint32_t n = o.cg_sessions;
	// Two packet counts: the difference is what the extra packets cost, nothing else.
	uint64_t p1 = 64 * 1024, p2 = 192 * 1024;

	if (readlink("/proc/self/exe", self_path, sizeof(self_path) - 1) < 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	printf("%-22s %9s %14s  (callgrind, Ir in bench_worker_step, (I(%" PRIu64 ") - I(%" PRIu64
	       ")) / %" PRIu64 ")\n",
	       "case", "sessions", "instr/pkt", p2, p1, p2 - p1);
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		if (!wanted(cases[i]))
			continue;
		uint32_t s = n;
		uint64_t a, b;
		if (strncmp(cases[i], "new-", 4) == 0 && !strstr(cases[i], "evict")) {
			// New sessions: the table size is the packet count (every packet a new
			// session until full), so the two runs fill tables of two sizes.
			a = callgrind_child(cases[i], (uint32_t)p1, p1);
			b = callgrind_child(cases[i], (uint32_t)p2, p2);
			s = (uint32_t)p2;
		} else {
			a = callgrind_child(cases[i], n, p1);
			b = callgrind_child(cases[i], n, p2);
		}
		double ipp = (double)(b - a) / (double)(p2 - p1);
		printf("%-22s %9u %14.1f\n", cases[i], s, ipp);
		printf("bench case=%s sessions=%u instr_per_pkt=%.1f%s\n", cases[i], s, ipp,
		       o.rx_cksum ? " rx_cksum=nic" : "");
		fflush(stdout);
	}
}

/* One case, one run, quietly: what callgrind_child() runs. */
static void child_main(void)
{
	const char *c = o.child;
	uint32_t n = o.child_sessions;
	uint64_t p = o.child_packets;

	if (strcmp(c, "new-tcp-syn-evict") == 0) {
		// A full table of n SYN_SENT sessions, then p SYNs that each evict the oldest.
		worker_make(n);
		run_new(&B.syn, 0, n);
		run_new(&B.syn, n, (uint32_t)p);
		if (B.w->stats.sessions_evicted != p)
			die("child %s: %" PRIu64 " evictions", c, B.w->stats.sessions_evicted);
		return;
	}
	if (strcmp(c, "new-udp") == 0 || strcmp(c, "new-tcp-syn") == 0) {
		worker_make((uint32_t)p);
		run_new(strcmp(c, "new-udp") == 0 ? &B.udp_o2i : &B.syn, 0, (uint32_t)p);
		if (B.w->stats.sessions_created != p)
			die("child %s: %" PRIu64 " sessions", c, B.w->stats.sessions_created);
		return;
	}
	if (strcmp(c, "mixed-90est-10new") == 0) {
		worker_make(n + (uint32_t)p);
	} else if (strncmp(c, "est-", 4) == 0) {
		worker_make(n);
	} else {
		die("unknown case %s", c);
	}
	B.i2o = calloc(n, sizeof(*B.i2o));
	fill_tcp(n);
	uint32_t *tr = trace_make(n, p, strstr(c, "zipf") ? D_ZIPF : D_UNIFORM, 0x5eed);
	if (strcmp(c, "mixed-90est-10new") == 0) {
		uint32_t next_new = 1u << 26;
		run_mixed(tr, p, &next_new);
	} else {
		run_est(strncmp(c, "est-o2i", 7) == 0 ? DIR_O2I : DIR_I2O, tr, p);
	}
}

/* ---------------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: pipeline_bench [EAL options] -- [--quick] [--runs N] [--packets N]\n"
		"                      [--sizes N,N,...] [--new-sessions N] [--mixed-sessions N]\n"
		"                      [--zipf-theta T] [--case SUBSTRING] [--callgrind] [--slow-free]\n"
		"                      [--sync] [--rx-cksum]\n"
		"  --quick            small sizes (1K, 64K sessions; 256K packets per run)\n"
		"  --runs N           measured runs per case, median reported (default 5)\n"
		"  --packets N        packets per run of the established and mixed cases\n"
		"  --sizes LIST       established-flow table sizes (default 1K,64K,1M,16M)\n"
		"  --new-sessions N   table size of the new-session cases (default 1M)\n"
		"  --mixed-sessions N established flows of the mixed case (default 1M)\n"
		"  --case SUBSTRING   only the cases whose name contains SUBSTRING\n"
		"  --callgrind        instructions per packet under valgrind (two runs each)\n"
		"  --slow-free        tx completion mbuf by mbuf (a PMD without MBUF_FAST_FREE)\n"
		"  --sync             session sync on (ha.sync): a worker event per new session\n"
		"  --rx-cksum         frames come marked IP and L4_CKSUM_GOOD, as from a NIC with rx\n"
		"                     checksum offload (dp/ports.c asks for it where offered)\n"
		"Without EAL options: -l 1 (or 0), hugepages when some are free, else --no-huge.\n");
	exit(2);
}

static uint64_t parse_count(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0)
		usage();
	if (*end == 'K' || *end == 'k')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1024 * 1024, end++;
	if (*end != '\0' && *end != ',')
		usage();
	return (uint64_t)v;
}

static void parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{"quick", no_argument, NULL, 'q'},
		{"runs", required_argument, NULL, 'r'},
		{"packets", required_argument, NULL, 'p'},
		{"sizes", required_argument, NULL, 's'},
		{"new-sessions", required_argument, NULL, 'n'},
		{"mixed-sessions", required_argument, NULL, 'x'},
		{"zipf-theta", required_argument, NULL, 'z'},
		{"case", required_argument, NULL, 'c'},
		{"callgrind", no_argument, NULL, 'g'},
		{"slow-free", no_argument, NULL, 'F'},
		{"sync", no_argument, NULL, 'Y'},
		{"rx-cksum", no_argument, NULL, 'K'},
		{"child", required_argument, NULL, 'C'},
		{"sessions", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	bool sizes_given = false;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.quick = true;
			break;
		case 'r':
			o.runs = (unsigned int)parse_count(optarg);
			if (o.runs < 1 || o.runs > 63)
				usage();
			break;
		case 'p':
			o.packets = parse_count(optarg);
			o.child_packets = o.packets;
			break;
		case 's': {
			char *s = optarg;
			o.n_sizes = 0;
			while (*s && o.n_sizes < MAX_SIZES) {
				o.sizes[o.n_sizes++] = (uint32_t)parse_count(s);
				s = strchr(s, ',');
				if (!s)
					break;
				s++;
			}
			sizes_given = true;
			break;
		}
		case 'n':
			o.new_cap = (uint32_t)parse_count(optarg);
			break;
		case 'x':
			o.mixed_sessions = (uint32_t)parse_count(optarg);
			break;
		case 'z':
			o.theta = strtod(optarg, NULL);
			if (o.theta <= 0 || o.theta >= 1)
				usage();
			break;
		case 'c':
			o.filter = optarg;
			break;
		case 'g':
			o.callgrind = true;
			break;
		case 'F':
			o.slow_free = true;
			break;
		case 'K':
			o.rx_cksum = true;
			break;
		case 'Y':
			o.sync = true;
			break;
		case 'C':
			o.child = optarg;
			break;
		case 'S':
			o.child_sessions = (uint32_t)parse_count(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!sizes_given) {
		static const uint32_t full[] = {1024, 65536, 1048576, 16777216};
		o.n_sizes = o.quick ? 2 : 4;
		memcpy(o.sizes, full, o.n_sizes * sizeof(full[0]));
	}
	if (!o.packets)
		o.packets = o.quick ? 256 * 1024 : 4 * 1024 * 1024;
	if (!o.new_cap)
		o.new_cap = o.quick ? 65536 : 1048576;
	if (!o.mixed_sessions)
		o.mixed_sessions = o.quick ? 65536 : 1048576;
	o.cg_sessions = o.quick ? 65536 : 1048576;
	if (o.child_sessions && !o.child)
		o.cg_sessions = o.child_sessions;
}

/* Free hugepages of any size, in MiB (/sys/kernel/mm/hugepages/hugepages-<size>kB). */
static unsigned long hugepages_free_mb(void)
{
	static const unsigned long sizes_kb[] = {2048, 1048576};
	unsigned long mb = 0;

	for (size_t i = 0; i < RTE_DIM(sizes_kb); i++) {
		char path[128];
		unsigned long n = 0;
		snprintf(path, sizeof(path),
			 "/sys/kernel/mm/hugepages/hugepages-%lukB/free_hugepages", sizes_kb[i]);
		FILE *f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%lu", &n) != 1)
				n = 0;
			fclose(f);
		}
		mb += n * (sizes_kb[i] / 1024);
	}
	return mb;
}

/* Default EAL arguments: one lcore, and hugepages when the kernel has some free. */
static int eal_default(char *prog, char ***out)
{
	static char *args[16];
	int n = 0;

	args[n++] = prog;
	args[n++] = "-l";
	args[n++] = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "1" : "0";
	args[n++] = "--no-pci";
	args[n++] = "--log-level=*:error";
	if (hugepages_free_mb() > 0) {
		args[n++] = "--in-memory";
	} else {
		args[n++] = "--no-huge";
		args[n++] = "--no-shconf";
		args[n++] = "-m";
		args[n++] = "8192";
	}
	args[n] = NULL;
	*out = args;
	return n;
}

int main(int argc, char **argv)
{
	char **eal_argv = argv;
	int eal_argc = argc, dd = -1;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (dd == 1 || dd < 0) {
		// No EAL options: defaults; our options are everything after the program name
		// (or after a leading "--").
		eal_argc = eal_default(argv[0], &eal_argv);
		argv += dd == 1 ? 1 : 0;
		argc -= dd == 1 ? 1 : 0;
	} else {
		eal_argc = dd;
		argv += dd;
		argc -= dd;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0)
		die("rte_eal_init failed: %s", rte_strerror(rte_errno));
	parse_opts(argc, argv);

	if (o.callgrind) {
		callgrind_all();
		rte_eal_cleanup();
		return 0;
	}

	// A mempool with a per-lcore cache, as dp_init() makes it: bursts come and go through
	// the cache, and the ring behind it is touched once per 256 mbufs or so.
	B.pool =
		rte_pktmbuf_pool_create("bench_mbufs", 8191, 256,
					RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
					RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!B.pool)
		die("mbuf pool: %s", rte_strerror(rte_errno));
	tables_setup();
	templates();
	struct rte_mbuf *tm = rte_pktmbuf_alloc(B.pool);
	if (!tm)
		die("mbuf pool empty");
	memcpy(&B.rearm, &tm->rearm_data, sizeof(B.rearm));
	rte_pktmbuf_free(tm);

	if (o.child) {
		child_main();
		return 0; // no cleanup: exit is enough, and faster under valgrind
	}

	printf("pipeline_bench: lcore %u, TSC %.3f GHz, burst %d, %u runs (median), %" PRIu64
	       " packets per run, Zipf theta %.2f\n",
	       rte_lcore_id(), (double)rte_get_tsc_hz() / 1e9, BURST, o.runs, o.packets, o.theta);
	for (unsigned int i = 0; i < o.n_sizes; i++)
		cases_est(o.sizes[i], o.packets, o.runs, true);
	case_new(IPPROTO_UDP, o.new_cap, o.runs, true);
	case_new(IPPROTO_TCP, o.new_cap, o.runs, true);
	case_mixed(o.mixed_sessions, o.packets, o.runs, true);

	tables_publish(NULL, NULL);
	rte_mempool_free(B.pool);
	rte_eal_cleanup();
	return 0;
}
