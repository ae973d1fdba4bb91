/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports, workers and their loop. One worker per lcore owns rx/tx queue `id` of every port,
 * its session table and its counters; it polls without sleeping, and reports a quiescent
 * state once per iteration, after which it holds no pointer into the tables.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <strait/log.h>

#include "lifecycle.h"
#include "loop.h"
#include "mbuf_priv.h"
#include "nat.h"
#include "neigh.h"
#include "pkt_out.h"
#include "ports.h"
#include "session.h"
#include "slowpath.h"

#define RX_DESC 1024
#define TX_DESC 1024

struct dp_worker *dp_workers[CFG_MAX_WORKERS];
volatile bool dp_force_quit;

static struct {
	unsigned int n_workers;
	uint16_t port_id[DP_PORT_MAX];
	struct rte_ether_addr mac[DP_PORT_MAX];
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsv;
	bool started, ports_started[DP_PORT_MAX];
	struct dp_rss rss_int;
} dp;

static const char *const drop_names[] = {
#define X(e, s) s,
	DP_DROP_REASONS(X)
#undef X
};

const char *dp_drop_name(enum dp_drop d)
{
	return d < DP_DROP_MAX ? drop_names[d] : "?";
}

struct rte_mempool *dp_mempool(void)
{
	return dp.pool;
}

static unsigned int worker_clear(struct dp_worker *w, int slot, uint32_t backend_be)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < w->sess.hwm; i++) {
		const struct nat_session *se = &w->sess.recs[i];
		if (se->proto == 0)
			continue;
		if (slot >= 0 && se->slot != slot)
			continue;
		if (backend_be && se->addr[DIR_I2O][0] != backend_be)
			continue;
		nat_session_free(w, i);
		n++;
	}
	return n;
}

static void handoff_poll(struct dp_worker *w, const struct tables *t)
{
	struct rte_mbuf *in[DP_BURST], *by_port[DP_PORT_MAX][DP_BURST];
	uint16_t n_by[DP_PORT_MAX];

	for (unsigned int j = 0; j < w->n_workers; j++) {
		if (!w->handoff_in[j])
			continue;
		unsigned int n = rte_ring_sc_dequeue_burst(w->handoff_in[j], (void **)in, DP_BURST,
							   NULL);
		if (n == 0)
			continue;
		w->stats.handoff_in += n;
		n_by[0] = n_by[1] = 0;
		for (unsigned int i = 0; i < n; i++) {
			uint8_t p = dp_priv(in[i])->in_port & 1;
			by_port[p][n_by[p]++] = in[i];
		}
		for (uint8_t p = 0; p < DP_PORT_MAX; p++)
			if (n_by[p])
				nat_process_burst(w, t, p, by_port[p], n_by[p]);
	}
}

static int worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int loops = 0;

	rte_rcu_qsbr_thread_register(dp.qsv, w->id);
	rte_rcu_qsbr_thread_online(dp.qsv, w->id);
	while (!dp_force_quit) {
		const struct tables *t = tables_get();
		uint64_t start = rte_rdtsc();
		bool busy = false;

		w->now = start;
		for (uint8_t p = 0; p < DP_PORT_MAX; p++) {
			uint16_t n = rte_eth_rx_burst(w->port_id[p], w->queue, pkts, DP_BURST);
			if (n == 0)
				continue;
			busy = true;
			w->stats.rx_pkts[p] += n;
			for (uint16_t i = 0; i < n; i++)
				w->stats.rx_bytes[p] += rte_pktmbuf_pkt_len(pkts[i]);
			if (likely(t != NULL))
				nat_process_burst(w, t, p, pkts, n);
			else
				for (uint16_t i = 0; i < n; i++)
					dp_drop(w, pkts[i], DP_DROP_NO_MAPPING);
		}
		if (w->n_workers > 1 && t)
			handoff_poll(w, t);

		unsigned int n = rte_ring_sc_dequeue_burst(w->ctl_tx, (void **)pkts, DP_BURST, NULL);
		for (unsigned int i = 0; i < n; i++)
			dp_tx_enqueue(w, dp_priv(pkts[i])->out_port & 1, pkts[i]);
		busy |= n > 0;

		for (uint8_t p = 0; p < DP_PORT_MAX; p++)
			dp_tx_flush(w, p);

		if (++loops % DP_HOUSEKEEPING_LOOPS == 0) {
			struct dp_cmd *cmd;
			nat_sessions_expire(w, DP_EXPIRE_BUDGET);
			if (rte_ring_sc_dequeue(w->cmd_in, (void **)&cmd) == 0) {
				cmd->result = worker_clear(w, cmd->slot, cmd->backend_addr);
				__atomic_store_n(&cmd->done, 1, __ATOMIC_RELEASE);
			}
		}
		uint64_t end = rte_rdtsc();
		w->stats.total_tsc += end - start;
		if (busy)
			w->stats.busy_tsc += end - start;
		w->stats.loops++;
		rte_rcu_qsbr_quiescent(dp.qsv, w->id); // t is not used after this
	}
	rte_rcu_qsbr_thread_offline(dp.qsv, w->id);
	rte_rcu_qsbr_thread_unregister(dp.qsv, w->id);
	return 0;
}

/* The 40-byte Toeplitz key of Microsoft's RSS verification suite, as most NICs default. */
static uint8_t dp_rss_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Read back the redirection table the device uses, so dp_rss_queue() predicts it. */
static void rss_learn(uint16_t port_id, uint16_t reta_size, struct dp_rss *out)
{
	struct rte_eth_rss_reta_entry64 conf[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];

	memset(out, 0, sizeof(*out));
	if (reta_size == 0 || reta_size > RTE_ETH_RSS_RETA_SIZE_512 || !rte_is_power_of_2(reta_size))
		return;
	memset(conf, 0, sizeof(conf));
	for (unsigned int i = 0; i < reta_size / RTE_ETH_RETA_GROUP_SIZE; i++)
		conf[i].mask = UINT64_MAX;
	if (rte_eth_dev_rss_reta_query(port_id, conf, reta_size) != 0)
		return;
	for (unsigned int i = 0; i < reta_size; i++)
		out->reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	memcpy(out->key, dp_rss_key, sizeof(out->key));
	out->reta_size = reta_size;
	out->enabled = true;
}

static int port_setup(enum dp_port_role r, uint16_t port_id, unsigned int nq, char *err,
		      size_t errlen)
{
	static const char *const role[] = {"ext", "int"};
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN] = "";
	int ret;

	rte_eth_dev_get_name_by_port(port_id, name);
	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret < 0) {
		snprintf(err, errlen, "port %s (%s): cannot get device info: %s", role[r], name,
			 strerror(-ret));
		return ret;
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		snprintf(err, errlen,
			 "port %s (%s) has %u rx / %u tx queues, but workers: %u needs %u of each "
			 "(for af_packet add qpairs=%u to the vdev)",
			 role[r], name, info.max_rx_queues, info.max_tx_queues, nq, nq, nq);
		return -EINVAL;
	}
	// With several workers on a device that does RSS, spread with a known Toeplitz key so
	// that workers can predict where replies land (dp_rss_queue). Devices without RSS (the
	// vdevs) get the default configuration and the ring hand-over.
	const uint64_t rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP;
	bool rss = nq > 1 && (info.flow_type_rss_offloads & rss_hf) == rss_hf &&
		   info.hash_key_size == sizeof(dp_rss_key);
	if (rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = dp_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(dp_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
	}
	// Every mbuf strait sends comes from its one pool, with a reference count of 1 and one
	// segment (no clones, no indirect buffers; multi-segment frames are linearized), which is
	// what fast free asks: the PMD returns sent mbufs to the pool in bulk without looking at
	// each (rte_mempool_put_bulk instead of rte_pktmbuf_free_seg per mbuf).
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	ret = rte_eth_dev_configure(port_id, (uint16_t)nq, (uint16_t)nq, &conf);
	if (ret < 0 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
		memset(&conf.rx_adv_conf.rss_conf, 0, sizeof(conf.rx_adv_conf.rss_conf));
		rss = false;
		ret = rte_eth_dev_configure(port_id, (uint16_t)nq, (uint16_t)nq, &conf);
	}
	if (ret < 0)
		goto fail;
	uint16_t nrx = RX_DESC, ntx = TX_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrx, &ntx);
	for (unsigned int q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(port_id, (uint16_t)q, nrx,
					     (unsigned int)rte_eth_dev_socket_id(port_id), NULL, dp.pool);
		if (ret < 0)
			goto fail;
		ret = rte_eth_tx_queue_setup(port_id, (uint16_t)q, ntx,
					     (unsigned int)rte_eth_dev_socket_id(port_id), NULL);
		if (ret < 0)
			goto fail;
	}
	ret = rte_eth_dev_start(port_id);
	if (ret < 0)
		goto fail;
	dp.ports_started[r] = true;
	// Frames for our MAC only are kept, but the vdevs need promiscuous mode to see them at
	// all on some kernels; filtering is done in software (NOT_FOR_US).
	rte_eth_promiscuous_enable(port_id);
	rte_eth_macaddr_get(port_id, &dp.mac[r]);
	if (rss && r == DP_PORT_INT)
		rss_learn(port_id, info.reta_size, &dp.rss_int);
	return 0;
fail:
	snprintf(err, errlen, "port %s (%s): setup failed: %s", role[r], name, strerror(-ret));
	return ret;
}

struct dp_worker *dp_worker_new(unsigned int id, unsigned int n_workers, unsigned int lcore,
				 uint32_t sessions, char *err, size_t errlen)
{
	uint32_t span = (65536u - DP_SNAT_PORT_MIN) / n_workers;
	int socket = (int)rte_lcore_to_socket_id(lcore);
	char name[RTE_RING_NAMESIZE];
	struct dp_worker *w;
	int ret;

	w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (!w) {
		snprintf(err, errlen, "cannot allocate worker %u", id);
		return NULL;
	}
	w->id = id;
	w->lcore = lcore;
	w->queue = (uint16_t)id;
	w->n_workers = n_workers;
	w->hz = rte_get_tsc_hz();
	dp_clock_sync(w);
	w->snat_lo = (uint16_t)(DP_SNAT_PORT_MIN + id * span);
	w->snat_hi = (uint16_t)(DP_SNAT_PORT_MIN + (id + 1) * span - 1);
	w->snat_next = w->snat_lo;
	snprintf(name, sizeof(name), "sess_w%u", id);
	ret = nat_sessions_init(&w->sess, name, sessions, socket);
	if (ret < 0) {
		// About 128 B of record and 2 x ~40 B of hash entry per session.
		snprintf(err, errlen,
			 "worker %u: cannot create a session table of %u (about %u MiB): %s; "
			 "lower sessions.max or give EAL more memory (-m, hugepages)",
			 id, sessions, (unsigned int)((uint64_t)sessions * 224 >> 20) + 1,
			 strerror(-ret));
		goto fail;
	}
	snprintf(name, sizeof(name), "sp_w%u", id);
	w->sp_out = rte_ring_create(name, DP_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "ctx_w%u", id);
	w->ctl_tx = rte_ring_create(name, DP_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "cmd_w%u", id);
	w->cmd_in = rte_ring_create(name, 64, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!w->sp_out || !w->ctl_tx || !w->cmd_in) {
		snprintf(err, errlen, "worker %u: cannot create rings: %s", id,
			 rte_strerror(rte_errno));
		goto fail;
	}
	return w;
fail:
	dp_worker_free(w);
	return NULL;
}

void dp_worker_free(struct dp_worker *w)
{
	if (!w)
		return;
	nat_sessions_fini(&w->sess);
	rte_ring_free(w->sp_out);
	rte_ring_free(w->ctl_tx);
	rte_ring_free(w->cmd_in);
	for (unsigned int j = 0; j < CFG_MAX_WORKERS; j++)
		rte_ring_free(w->handoff_out[j]);
	rte_free(w);
}

int dp_init(const struct dp_params *p, char *err, size_t errlen)
{
	unsigned int nw = p->n_workers;
	char name[RTE_RING_NAMESIZE];
	int ret;

	memset(&dp, 0, sizeof(dp));
	dp.n_workers = nw;
	neigh_reset();
	// rx rings of every queue, tx rings, rings between lcores, and slack for bursts in flight.
	unsigned int n_mbufs = nw * DP_PORT_MAX * (RX_DESC + TX_DESC) + nw * nw * DP_RING_SIZE +
			       8192;
	dp.pool = rte_pktmbuf_pool_create("dp_mbufs", n_mbufs, 256,
					  RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!dp.pool) {
		snprintf(err, errlen, "cannot create the mbuf pool (%u mbufs): %s", n_mbufs,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned int r = 0; r < DP_PORT_MAX; r++) {
		dp.port_id[r] = p->port_id[r];
		ret = port_setup(r, p->port_id[r], nw, err, errlen);
		if (ret < 0)
			return ret;
	}
	size_t qsz = rte_rcu_qsbr_get_memsize(nw);
	dp.qsv = rte_zmalloc("dp_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (!dp.qsv || rte_rcu_qsbr_init(dp.qsv, nw) != 0) {
		snprintf(err, errlen, "cannot create the QSBR variable");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < nw; i++) {
		struct dp_worker *w = dp_worker_new(i, nw, p->worker_lcore[i],
						    p->sessions_per_worker, err, errlen);
		if (!w)
			return -ENOMEM;
		dp_workers[i] = w;
		for (unsigned int r = 0; r < DP_PORT_MAX; r++) {
			w->port_id[r] = dp.port_id[r];
			w->mac[r] = dp.mac[r];
		}
		w->rss_int = dp.rss_int;
	}
	for (unsigned int i = 0; i < nw; i++) {
		for (unsigned int j = 0; j < nw; j++) {
			if (i == j)
				continue;
			snprintf(name, sizeof(name), "ho_%u_%u", i, j);
			struct rte_ring *r = rte_ring_create(name, DP_RING_SIZE, SOCKET_ID_ANY,
							     RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!r) {
				snprintf(err, errlen, "cannot create handoff ring %s", name);
				return -ENOMEM;
			}
			dp_workers[i]->handoff_out[j] = r;
			dp_workers[j]->handoff_in[i] = r;
		}
	}
	return 0;
}

int dp_start(void)
{
	dp_force_quit = false;
	for (unsigned int i = 0; i < dp.n_workers; i++) {
		int ret = rte_eal_remote_launch(worker_main, dp_workers[i], dp_workers[i]->lcore);
		if (ret < 0)
			return ret;
	}
	dp.started = true;
	return 0;
}

void dp_stop(void)
{
	if (!dp.started)
		return;
	dp_force_quit = true;
	for (unsigned int i = 0; i < dp.n_workers; i++)
		rte_eal_wait_lcore(dp_workers[i]->lcore);
	dp.started = false;
}

void dp_fini(void)
{
	dp_stop();
	for (unsigned int r = 0; r < DP_PORT_MAX; r++) {
		if (dp.ports_started[r]) {
			rte_eth_dev_stop(dp.port_id[r]);
			rte_eth_dev_close(dp.port_id[r]);
		}
	}
	for (unsigned int i = 0; i < dp.n_workers; i++) {
		dp_worker_free(dp_workers[i]);
		dp_workers[i] = NULL;
	}
	rte_free(dp.qsv);
	dp.qsv = NULL;
}

struct rte_rcu_qsbr *dp_qsbr(void)
{
	return dp.started ? dp.qsv : NULL;
}

unsigned int dp_n_workers(void)
{
	return dp.n_workers;
}

const struct dp_stats *dp_worker_stats(unsigned int i)
{
	return i < dp.n_workers ? &dp_workers[i]->stats : NULL;
}

unsigned int dp_worker_lcore(unsigned int i)
{
	return i < dp.n_workers ? dp_workers[i]->lcore : 0;
}

uint16_t dp_port_id(enum dp_port_role r)
{
	return dp.port_id[r];
}

const struct rte_ether_addr *dp_port_mac(enum dp_port_role r)
{
	return &dp.mac[r];
}

static void stats_add(struct dp_stats *o, const struct dp_stats *s)
{
	const uint64_t *src = (const uint64_t *)s;
	uint64_t *dst = (uint64_t *)o;

	// Every field of dp_stats is a uint64_t counter: sum them as an array.
	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

void dp_stats_sum(struct dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < dp.n_workers; i++)
		stats_add(out, &dp_workers[i]->stats);
	stats_add(out, &dp_sp_stats);
}

struct dp_stats *dp_stats_sum_new(void)
{
	struct dp_stats *s = malloc(sizeof(*s));

	if (s)
		dp_stats_sum(s);
	return s;
}

uint64_t dp_sessions_active(void)
{
	uint64_t n = 0;
	for (unsigned int i = 0; i < dp.n_workers; i++)
		n += dp_workers[i]->stats.sessions_created - dp_workers[i]->stats.sessions_expired;
	return n;
}

unsigned int dp_sessions_walk(int slot, int (*cb)(const struct dp_session_info *s, void *arg),
			      void *arg)
{
	const struct tables *t = tables_get(); // the control thread publishes: it stays valid
	unsigned int n = 0;

	if (!t)
		return 0;
	for (unsigned int i = 0; i < dp.n_workers; i++) {
		const struct dp_worker *w = dp_workers[i];
		uint32_t hwm = w->sess.hwm;
		uint32_t now = (uint32_t)(rte_get_tsc_cycles() >> w->tick_shift);
		uint64_t per_s = RTE_MAX(dp_ticks_of_s(w, 1), (uint64_t)1);
		for (uint32_t j = 0; j < hwm; j++) {
			struct nat_session se = w->sess.recs[j];
			struct dp_session_info si;
			if (se.proto == 0 || (slot >= 0 && se.slot != slot))
				continue;
			si.worker = i;
			si.slot = se.slot;
			si.proto = se.proto;
			si.state = nat_session_state_name(se.state);
			si.client_addr = rte_be_to_cpu_32(se.addr[DIR_O2I][0]);
			si.client_port = rte_be_to_cpu_16(se.port[DIR_O2I][0]);
			si.ext_addr = rte_be_to_cpu_32(se.addr[DIR_O2I][1]);
			si.ext_port = rte_be_to_cpu_16(se.port[DIR_O2I][1]);
			si.snat_addr = rte_be_to_cpu_32(se.addr[DIR_I2O][1]);
			si.snat_port = rte_be_to_cpu_16(se.port[DIR_I2O][1]);
			si.backend_addr = rte_be_to_cpu_32(se.addr[DIR_I2O][0]);
			si.backend_port = rte_be_to_cpu_16(se.port[DIR_I2O][0]);
			si.pkts[0] = se.pkts[DIR_O2I];
			si.pkts[1] = se.pkts[DIR_I2O];
			si.bytes[0] = se.bytes[DIR_O2I];
			si.bytes[1] = se.bytes[DIR_I2O];
			// The worker may have stamped the record after we read the clock.
			uint32_t ticks = (int32_t)(now - se.last_seen) > 0 ? now - se.last_seen : 0;
			uint32_t idle = (uint32_t)(ticks / per_s);
			uint32_t to = nat_session_timeout_s(&se, t);
			si.idle_s = idle;
			si.expires_in_s = idle >= to ? 0 : to - idle;
			n++;
			if (cb(&si, arg))
				return n;
		}
	}
	return n;
}

unsigned int dp_sessions_clear(int slot, uint32_t backend_addr)
{
	struct dp_cmd *cmds[CFG_MAX_WORKERS] = {NULL};
	unsigned int total = 0;

	for (unsigned int i = 0; i < dp.n_workers; i++) {
		// On the heap: a worker that misses the deadline below may still write it later.
		struct dp_cmd *c = calloc(1, sizeof(*c));
		if (!c)
			continue;
		*c = (struct dp_cmd){.type = DP_CMD_CLEAR, .slot = slot,
				     .backend_addr = rte_cpu_to_be_32(backend_addr)};
		cmds[i] = c;
		if (!dp.started) {
			c->result = worker_clear(dp_workers[i], slot, c->backend_addr);
			c->done = 1;
		} else if (rte_ring_sp_enqueue(dp_workers[i]->cmd_in, c) != 0) {
			c->done = 1;
		}
	}
	for (unsigned int i = 0; i < dp.n_workers; i++) {
		if (!cmds[i])
			continue;
		// A worker takes commands every DP_HOUSEKEEPING_LOOPS iterations: microseconds.
		for (int spin = 0;
		     spin < 200000 && !__atomic_load_n(&cmds[i]->done, __ATOMIC_ACQUIRE); spin++)
			usleep(10);
		if (!__atomic_load_n(&cmds[i]->done, __ATOMIC_ACQUIRE)) {
			DP_LOG(ERR, "worker %u did not clear sessions within 2 s", i);
			continue; // leaked on purpose: the worker may still write it
		}
		total += cmds[i]->result;
		free(cmds[i]);
	}
	return total;
}
