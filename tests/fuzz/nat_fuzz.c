/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the data plane at the mbuf level: nat_process_burst() (dp/nat.c and
 * the parser, sessions, fragments, adjacencies behind it) on one worker, then the slow path
 * (dp/slowpath.c: ARP, echo, time exceeded, parking for unresolved next hops) on what the
 * worker handed it, as the control thread does.
 *
 * Fixture, once (LLVMFuzzerInitialize): EAL --no-huge --no-pci with two net_null ports,
 * dp_init() with one worker that is never launched, tables with a full-NAT TCP mapping, a
 * UDP one, a per-broker static DNAT, an allow-listed one, a port range, a preserveSource one
 * and one whose backend is behind a route; neighbours for the client, the gateways and the
 * backends.
 *
 * Each input starts from the same state: no session, no fragment, the neighbours and the
 * SNAT port cursor as at start, the clock at the same tick; one burst of five packets
 * creates five sessions (see pre[] below) that the input's packets can hit in both
 * directions. The input is a sequence of records, each one frame:
 *
 *   byte 0   control: bit 0 arm (0 ext, 1 int); bit 1 raw (no checksum fix-up); bit 2 keep
 *            the destination MAC (else it is set to the arm's, as a switch would deliver);
 *            bit 3 start a new burst; bit 4 split the frame over two mbuf segments; bits
 *            5-7 advance the clock by that many times 50 s before the packet's burst
 *   byte 1-2 frame length, big endian (cut to what is left of the input, at most 2048)
 *   ...      the frame, from its Ethernet header
 *
 * Unless raw, the harness fixes up the IPv4 header checksum, the TCP/UDP/ICMP checksum of an
 * unfragmented datagram, and, in an ICMP error, the quoted IPv4 header's checksum (before the
 * ICMP checksum), so that random bytes get past the parser's checks into the NAT.
 *
 * Checked after every input: whatever went out (tx queues, the slow path's ctl_tx ring)
 * has a valid IPv4 header checksum, and, when no record was raw, a valid L4 checksum; every
 * mbuf is freed (the pool's in-use count stays within what the slow path may park: 64
 * neighbours × 8 packets). All tx'd mbufs are counted and freed by the harness.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <strait/cksum.h>
#include <strait/config.h>
#include <strait/dp.h>
#include <strait/tables.h>

#include "dp_priv.h"
#include "fuzz_util.h"
#include "pkt_build.h"

#define FRAME_MAX     2048
#define PARKED_MAX    (64 * 8) /* dp/slowpath.c: PENDING_SLOTS × PENDING_PER_NEIGH */
#define CLOCK_STEP_MS 50000u

static const uint8_t MAC_CLIENT[6] = {0x02, 0xc1, 0, 0, 0, 2};
static const uint8_t MAC_GW_EXT[6] = {0x02, 0xc1, 0, 0, 0, 0xfe};
static const uint8_t MAC_GW_INT[6] = {0x02, 0xb0, 0, 0, 0, 2};

static struct dp_worker *w;
static struct rte_mempool *pool;
static unsigned int base_in_use;
static uint16_t snat_start;
static uint64_t n_inputs, n_tx_total, n_sp_total;
static uint32_t neigh_gen_at_start; /* neigh_gen() after neigh_up() */
static bool verbose; /* NAT_FUZZ_VERBOSE=1: what each input did (to check the seeds) */

static struct cfg cfg;
static struct cfg_mapping maps[7];
static struct cfg_backend be3[3], be_broker[1], be_one[1], be_routed[1];

static uint32_t ip4(const char *s)
{
	uint32_t a;
	FUZZ_CHECK(cfg_parse_ipv4(s, &a) == 0);
	return a;
}

static int slot_of(const char *ns, const char *name)
{
	(void)ns;
	for (unsigned int i = 0; i < RTE_DIM(maps); i++)
		if (strcmp(maps[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void mapping(struct cfg_mapping *m, const char *name, uint16_t port, uint16_t end,
		    uint16_t svc_port, uint8_t proto, struct cfg_backend *b, unsigned int nb)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->addrs[0] = ip4("198.51.100.1");
	m->n_addrs = 1;
	m->ports[0] = (struct cfg_map_port){.port = port,
					    .end_port = end ? end : port,
					    .service_port = svc_port,
					    .proto = proto};
	m->n_ports = 1;
	m->backends = b;
	m->n_backends = nb;
	m->ordinal = -1;
}

static void tables_up(void)
{
	const struct cfg_mapping *p[RTE_DIM(maps)];
	char err[256];

	cfg.ext.addrs[0] = (struct cfg_cidr){ip4("198.51.100.1"), 24};
	cfg.ext.n_addrs = 1;
	cfg.ext.gateway = ip4("198.51.100.254");
	cfg.intl.addrs[0] = (struct cfg_cidr){ip4("10.0.0.1"), 24};
	cfg.intl.n_addrs = 1;
	cfg.intl.routes[0] = (struct cfg_route){{ip4("10.244.0.0"), 16}, ip4("10.0.0.2")};
	cfg.intl.n_routes = 1;
	cfg.timeouts = (struct cfg_timeouts){300, 7440, 240, 120};
	for (int i = 0; i < 3; i++)
		be3[i] = (struct cfg_backend){.addr = ip4("10.0.0.11") + (uint32_t)i, .weight = 1};
	be_broker[0] = (struct cfg_backend){.addr = ip4("10.0.0.12"), .port = 9092, .weight = 1};
	be_one[0] = (struct cfg_backend){.addr = ip4("10.0.0.13"), .weight = 1};
	be_routed[0] = (struct cfg_backend){.addr = ip4("10.244.1.5"), .port = 443, .weight = 1};
	mapping(&maps[0], "web", 8080, 0, 80, IPPROTO_TCP, be3, 3);
	mapping(&maps[1], "echo", 7777, 0, 7, IPPROTO_UDP, be3, 3);
	mapping(&maps[2], "broker-1", 32001, 0, 0, IPPROTO_TCP, be_broker, 1);
	maps[2].ordinal = 1;
	mapping(&maps[3], "allow", 9100, 0, 0, IPPROTO_UDP, be_one, 1);
	maps[3].allowed[0] = (struct cfg_cidr){ip4("192.0.2.0"), 24};
	maps[3].n_allowed = 1;
	mapping(&maps[4], "range", 30000, 30009, 40000, IPPROTO_UDP, be_one, 1);
	mapping(&maps[5], "keep-src", 9000, 0, 0, IPPROTO_UDP, be_one, 1);
	maps[5].nat = CFG_NAT_PRESERVE_SOURCE;
	mapping(&maps[6], "routed", 8443, 0, 0, IPPROTO_TCP, be_routed, 1);
	for (unsigned int i = 0; i < RTE_DIM(maps); i++)
		p[i] = &maps[i];
	struct tables *t = tables_build(&cfg, p, RTE_DIM(maps), slot_of, 1, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "nat_fuzz: tables_build: %s\n", err);
		abort();
	}
	tables_publish(t, NULL);
}

static void neigh_up(void)
{
	neigh_reset();
	neigh_update(rte_cpu_to_be_32(ip4("198.51.100.2")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_CLIENT);
	neigh_update(rte_cpu_to_be_32(ip4("198.51.100.254")), DP_PORT_EXT,
		     (const struct rte_ether_addr *)MAC_GW_EXT);
	neigh_update(rte_cpu_to_be_32(ip4("10.0.0.2")), DP_PORT_INT,
		     (const struct rte_ether_addr *)MAC_GW_INT);
	for (uint32_t i = 0; i < 3; i++) {
		struct rte_ether_addr mac = {{0x02, 0xb0, 0, 0, 0, (uint8_t)(11 + i)}};
		neigh_update(rte_cpu_to_be_32(ip4("10.0.0.11") + i), DP_PORT_INT, &mac);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* --no-huge implies legacy memory, which --in-memory refuses: --no-shconf instead. */
	char *eal[] = {(*argv)[0],
		       "--no-huge",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "-m",
		       "512",
		       "-l",
		       "0",
		       "--vdev",
		       "net_null0",
		       "--vdev",
		       "net_null1",
		       "--log-level=*:error",
		       NULL};
	struct dp_params p = {.n_workers = 1, .sessions_per_worker = 1024, .cfg = &cfg};
	char err[256];

	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "nat_fuzz: rte_eal_init failed\n");
		abort();
	}
	tables_up();
	if (rte_eth_dev_get_port_by_name("net_null0", &p.port_id[DP_PORT_EXT]) ||
	    rte_eth_dev_get_port_by_name("net_null1", &p.port_id[DP_PORT_INT]) ||
	    dp_init(&p, err, sizeof(err)) < 0) {
		fprintf(stderr, "nat_fuzz: dp_init: %s\n", err);
		abort();
	}
	w = dp_workers[0];
	pool = dp_mempool();
	w->hz = 1000; /* 1 tick = 1 ms, whatever the TSC */
	snat_start = w->snat_next;
	base_in_use = rte_mempool_in_use_count(pool);
	verbose = getenv("NAT_FUZZ_VERBOSE") != NULL;
	return 0;
}

/* RFC 1071 sum of @p n bytes, folded, not complemented. */
static uint16_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	return tb_sum(p, n, acc);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Fix the checksums of a frame of @p len bytes as its sender would have computed them. */
static void fixup(uint8_t *f, size_t len)
{
	uint8_t *ip = f + 14, *l4;
	size_t ip_len, l4_len;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || (ip[0] >> 4) != 4 ||
	    (ip[0] & 0xf) < 5)
		return;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if (14 + ihl > len)
		return;
	ip_len = (size_t)(ip[2] << 8 | ip[3]);
	if (ip_len < ihl || 14 + ip_len > len)
		ip_len = len - 14; // the parser drops it; still, checksum what is there
	put16(ip + 10, tb_ip_cksum(ip, ihl));
	if ((ip[6] & 0x3f) || ip[7]) // a fragment: its L4 checksum covers other packets too
		return;
	l4 = ip + ihl;
	l4_len = ip_len - ihl;
	switch (ip[9]) {
	case IPPROTO_TCP:
		if (l4_len >= 20)
			put16(l4 + 16, tb_l4_cksum(ip, l4, l4_len, IPPROTO_TCP));
		break;
	case IPPROTO_UDP:
		if (l4_len >= 8 && (l4[6] | l4[7])) // 0 = no checksum (RFC 768): keep it
			put16(l4 + 6, tb_l4_cksum(ip, l4, l4_len, IPPROTO_UDP));
		break;
	case IPPROTO_ICMP:
		if (l4_len < 8)
			break;
		// An error quotes an IPv4 header: fix its checksum first.
		if ((l4[0] == 3 || l4[0] == 11 || l4[0] == 12) && l4_len >= 8 + 20 &&
		    (l4[8] >> 4) == 4 && (l4[8] & 0xf) >= 5 &&
		    8 + (size_t)(l4[8] & 0xf) * 4 <= l4_len)
			put16(l4 + 8 + 10, tb_ip_cksum(l4 + 8, (size_t)(l4[8] & 0xf) * 4));
		l4[2] = l4[3] = 0;
		put16(l4 + 2, (uint16_t)~sum16(l4, l4_len, 0));
		break;
	default:
		break;
	}
}

/* Whether a frame that left the gateway has valid checksums (@p l4: check L4 too). */
static bool frame_ok(const uint8_t *f, size_t len, bool l4)
{
	const uint8_t *ip = f + 14;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return true; // ARP and whatever is not IPv4: nothing to check
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	size_t ip_len = (size_t)(ip[2] << 8 | ip[3]);
	if (ihl < 20 || 14 + ihl > len || sum16(ip, ihl, 0) != 0xffff)
		return false;
	if (!l4 || (ip[6] & 0x3f) || ip[7] || ip_len < ihl || 14 + ip_len > len)
		return true;
	const uint8_t *p = ip + ihl;
	size_t n = ip_len - ihl;
	switch (ip[9]) {
	case IPPROTO_TCP:
	case IPPROTO_UDP: {
		if (n < (ip[9] == IPPROTO_TCP ? 20u : 8u))
			return true;
		if (ip[9] == IPPROTO_UDP && (p[6] | p[7]) == 0)
			return true;
		uint8_t ph[12];
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = ip[9];
		put16(ph + 10, (uint16_t)n);
		return sum16(p, n, sum16(ph, 12, 0)) == 0xffff;
	}
	case IPPROTO_ICMP:
		return n < 8 || sum16(p, n, 0) == 0xffff;
	default:
		return true;
	}
}

/* Whether an mbuf's frame had its checksums fixed up: a mark in the first byte of its
 * headroom, which the data plane never writes. Packets the slow path parks wait across
 * inputs, so a frame sent now may come from an earlier, raw, input. */
static inline uint8_t *fixed_mark(struct rte_mbuf *m)
{
	return (uint8_t *)m->buf_addr;
}

static void check_and_free(struct rte_mbuf *m, bool l4, const char *where)
{
	uint8_t buf[FRAME_MAX + 64];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *f;

	FUZZ_CHECK(len <= sizeof(buf));
	f = rte_pktmbuf_read(m, 0, len, buf);
	FUZZ_CHECK(f != NULL);
	// Frames the slow path makes are new mbufs with valid checksums, whatever their mark.
	if (!frame_ok(f, len, l4 && *fixed_mark(m))) {
		fprintf(stderr, "nat_fuzz: bad checksum in a frame sent %s (%u bytes)\n", where,
			len);
		abort();
	}
	rte_pktmbuf_free(m);
}

/* Take everything the worker and the slow path sent; run the slow path first. */
static void drain(bool l4)
{
	struct rte_mbuf *m;

	for (int p = 0; p < DP_PORT_MAX; p++) {
		for (int i = 0; i < dp_tx_n(w, p); i++) {
			check_and_free(w->tx[p][i], l4, p == DP_PORT_EXT ? "on ext" : "on int");
			n_tx_total++;
		}
		dp_tx_reset(w, p);
	}
	while (dp_slowpath_poll() > 0)
		;
	while (rte_ring_dequeue(w->ctl_tx, (void **)&m) == 0) {
		check_and_free(m, l4, "by the slow path");
		n_sp_total++;
	}
	// Nothing is left for the slow path: it took it all.
	FUZZ_CHECK(rte_ring_count(w->sp_out) == 0);
}

static void run(uint8_t port, struct rte_mbuf **pkts, uint16_t *n, bool l4)
{
	if (*n == 0)
		return;
	nat_process_burst(w, tables_get(), port, pkts, *n);
	*n = 0;
	drain(l4);
}

static struct rte_mbuf *mbuf_of(const uint8_t *frame, size_t len, bool split, bool fixed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *m2;
	size_t first = split && len >= 2 ? len / 2 : len;

	if (!m)
		return NULL;
	*fixed_mark(m) = fixed;
	memcpy(rte_pktmbuf_append(m, (uint16_t)first), frame, first);
	if (first == len)
		return m;
	m2 = rte_pktmbuf_alloc(pool);
	if (!m2) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(rte_pktmbuf_append(m2, (uint16_t)(len - first)), frame + first, len - first);
	if (rte_pktmbuf_chain(m, m2) != 0) {
		rte_pktmbuf_free(m);
		rte_pktmbuf_free(m2);
		return NULL;
	}
	return m;
}

/* The sessions every input starts with: client → web (TCP SYN), → echo, → range,
 * allow-listed client → allow, → keep-src (preserveSource), → routed (TCP SYN). */
static void presessions(void)
{
	static const struct {
		const char *src;
		uint16_t sport, dport;
		uint8_t proto;
	} pre[] = {
		{"198.51.100.2", 40000, 8080, IPPROTO_TCP},
		{"198.51.100.2", 5000, 7777, IPPROTO_UDP},
		{"203.0.113.9", 6000, 30005, IPPROTO_UDP},
		{"192.0.2.7", 5353, 9100, IPPROTO_UDP},
		{"198.51.100.2", 5001, 9000, IPPROTO_UDP},
		{"198.51.100.2", 40001, 8443, IPPROTO_TCP},
	};
	struct rte_mbuf *pkts[RTE_DIM(pre)];
	uint16_t n = 0;

	for (unsigned int i = 0; i < RTE_DIM(pre); i++) {
		uint8_t frame[256];
		struct tb_flow f = {.src = pre[i].src,
				    .dst = "198.51.100.1",
				    .sport = pre[i].sport,
				    .dport = pre[i].dport,
				    .proto = pre[i].proto,
				    .tcp_flags = 0x02,
				    .payload_len = 8,
				    .dmac = w->mac[DP_PORT_EXT].addr_bytes};
		size_t len = tb_frame(frame, &f);
		struct rte_mbuf *m = mbuf_of(frame, len, false, true);
		if (m)
			pkts[n++] = m;
	}
	run(DP_PORT_EXT, pkts, &n, true);
}

static void reset(void)
{
	nat_sessions_clear(w, -1, 0);
	FUZZ_CHECK(w->sess.active == 0);
	frag_fini(w); // held fragments go back to the pool
	memset(&w->frag, 0, sizeof(w->frag));
	w->snat_next = snat_start;
	w->now = 1000000;
	// The neighbour table is 4096 lines: set it up again only when the last input changed it.
	if (neigh_gen() != neigh_gen_at_start) {
		neigh_up();
		neigh_gen_at_start = neigh_gen();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint8_t frame[FRAME_MAX];
	uint16_t n = 0;
	uint8_t port = DP_PORT_EXT;
	bool l4 = true;
	size_t off = 0;

	// l4 checks need every record fixed up: find out first.
	for (size_t o = 0; o < size;) {
		if (data[o] & 2)
			l4 = false;
		size_t len = o + 2 < size ? (size_t)(data[o + 1] << 8 | data[o + 2]) : 0;
		o += 3 + len;
	}
	reset();
	presessions();
	n_inputs++;
	while (off < size) {
		uint8_t ctl = data[off];
		size_t len = off + 2 < size ? (size_t)(data[off + 1] << 8 | data[off + 2]) : 0;
		uint8_t arm = ctl & 1 ? DP_PORT_INT : DP_PORT_EXT;

		off += 3;
		if (off > size)
			break;
		len = RTE_MIN(len, size - off);
		len = RTE_MIN(len, (size_t)FRAME_MAX);
		memcpy(frame, data + off, len);
		off += len;
		// A new burst: asked for, on the other arm, a clock step, or a full one.
		if ((ctl & 8) || arm != port || (ctl >> 5) || n == DP_BURST)
			run(port, pkts, &n, l4);
		port = arm;
		w->now += (uint64_t)(ctl >> 5) * CLOCK_STEP_MS;
		if (!(ctl & 4) && len >= 6)
			memcpy(frame, &w->mac[arm], 6);
		if (!(ctl & 2))
			fixup(frame, len);
		struct rte_mbuf *m = mbuf_of(frame, len, ctl & 16, !(ctl & 2));
		if (m)
			pkts[n++] = m;
	}
	run(port, pkts, &n, l4);
	if (verbose) {
		const struct dp_stats *st = &w->stats;
		fprintf(stderr,
			"nat_fuzz: sent %" PRIu64 " by workers, %" PRIu64
			" by the slow path, %" PRIu64 " sessions; drops so far:",
			n_tx_total, n_sp_total, (uint64_t)w->sess.active);
		for (int d = 0; d < DP_DROP_MAX; d++)
			if (st->drops[d] + dp_sp_stats.drops[d])
				fprintf(stderr, " %s %" PRIu64, dp_drop_name((enum dp_drop)d),
					st->drops[d] + dp_sp_stats.drops[d]);
		fprintf(stderr, "\n");
	}
	// Every mbuf came back, but what the slow path parks for a neighbour (bounded).
	unsigned int in_use = rte_mempool_in_use_count(pool);
	if (in_use > base_in_use + PARKED_MAX) {
		fprintf(stderr, "nat_fuzz: mbuf leak: %u in use, %u at start\n", in_use,
			base_in_use);
		abort();
	}
	return 0;
}
