/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two ports: the mbuf pool their rx queues fill, one rx and one tx queue per worker,
 * RSS with a known Toeplitz key where the device has it (so that workers predict where
 * replies land, dp_rss_queue()), and their MACs. Control thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "flow.h"
#include "mbuf_priv.h"
#include "ports.h"

static struct {
	uint16_t port_id[DP_PORT_MAX];
	struct rte_ether_addr mac[DP_PORT_MAX];
	struct rte_mempool *pool;
	bool started[DP_PORT_MAX];
	struct dp_rss rss_int;
	char steering[DP_PORT_MAX][160];
} ports;

struct rte_mempool *dp_mempool(void)
{
	return ports.pool;
}

/*
 * The 40-byte Toeplitz key: random per instance (dp_ports_setup(), rte_rand()), so that a
 * sender cannot compute which 4-tuples land on one queue. Its first value is the key of
 * Microsoft's RSS verification suite, as most NICs default.
 */
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
	if (reta_size == 0 || reta_size > RTE_ETH_RSS_RETA_SIZE_512 ||
	    !rte_is_power_of_2(reta_size))
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

/*
 * Where a packet of a flow another worker owns lands, and who moves it. On the int port with
 * several workers, rte_flow rules send the replies to each SNAT partition to its owner's
 * queue where the device takes them (then a SNAT port need not be chosen by its RSS hash:
 * rss_int.enabled is cleared); otherwise RSS as predicted, or wherever the device puts them,
 * and the handoff ring.
 */
static void port_steer(enum dp_port_role r, uint16_t port_id, unsigned int nq, bool rss)
{
	char *s = ports.steering[r];
	const size_t len = sizeof(ports.steering[r]);
	char why[128] = "";
	int n;

	if (nq < 2) {
		snprintf(s, len, "none (one worker)");
		return;
	}
	if (r == DP_PORT_INT) {
		n = dp_flow_steer_snat(port_id, nq, why, sizeof(why));
		if (n > 0) {
			ports.rss_int.enabled = false;
			snprintf(s, len, "rte_flow: %d rules", n);
			return;
		}
		snprintf(s, len, "%s, handoff ring (rte_flow refused: %s)", rss ? "rss" : "device",
			 why);
		return;
	}
	snprintf(s, len, "%s, handoff ring", rss ? "rss" : "device");
}

uint64_t dp_port_rx_cksum_offloads(const char *driver, uint64_t capa)
{
	if (driver && strcmp(driver, "net_tap") == 0)
		return 0;
	return capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
		       RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
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
	// The NIC's checksum verdicts (ol_flags), where it has them: no IPv4 header summed per
	// packet (pkt_parse_fast_key()), no pass over a session's first segment (dp/nat.c
	// l4_cksum_ok()). Not on net_tap, whose PMD would compute them in software for every
	// packet, where strait sums headers and checks first packets only.
	conf.rxmode.offloads |= dp_port_rx_cksum_offloads(info.driver_name, info.rx_offload_capa);
	ret = rte_eth_dev_configure(port_id, (uint16_t)nq, (uint16_t)nq, &conf);
	if (ret < 0 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
		memset(&conf.rx_adv_conf.rss_conf, 0, sizeof(conf.rx_adv_conf.rss_conf));
		rss = false;
		ret = rte_eth_dev_configure(port_id, (uint16_t)nq, (uint16_t)nq, &conf);
	}
	if (ret < 0)
		goto fail;
	uint16_t nrx = DP_RX_DESC, ntx = DP_TX_DESC;
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrx, &ntx);
	for (unsigned int q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(port_id, (uint16_t)q, nrx,
					     (unsigned int)rte_eth_dev_socket_id(port_id), NULL,
					     ports.pool);
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
	ports.started[r] = true;
	// Frames for our MAC only are kept, but the vdevs need promiscuous mode to see them at
	// all on some kernels; filtering is done in software (NOT_FOR_US).
	rte_eth_promiscuous_enable(port_id);
	rte_eth_macaddr_get(port_id, &ports.mac[r]);
	if (rss && r == DP_PORT_INT)
		rss_learn(port_id, info.reta_size, &ports.rss_int);
	port_steer(r, port_id, nq, rss);
	return 0;
fail:
	snprintf(err, errlen, "port %s (%s): setup failed: %s", role[r], name, strerror(-ret));
	return ret;
}

int dp_ports_setup(const uint16_t port_id[DP_PORT_MAX], unsigned int nq, unsigned int n_mbufs,
		   char *err, size_t errlen)
{
	int ret;

	memset(&ports, 0, sizeof(ports));
	for (unsigned int i = 0; i < sizeof(dp_rss_key); i += 8) {
		uint64_t r = rte_rand();
		memcpy(&dp_rss_key[i], &r, RTE_MIN(8u, (unsigned int)sizeof(dp_rss_key) - i));
	}
	ports.pool =
		rte_pktmbuf_pool_create("dp_mbufs", n_mbufs, 256,
					RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
					RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!ports.pool) {
		snprintf(err, errlen, "cannot create the mbuf pool (%u mbufs): %s", n_mbufs,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned int r = 0; r < DP_PORT_MAX; r++) {
		ports.port_id[r] = port_id[r];
		ret = port_setup(r, port_id[r], nq, err, errlen);
		if (ret < 0)
			return ret;
	}
	// After port_setup(), which rewrites rss_int when the int port does RSS.
	ports.rss_int.steer_key[0] = rte_rand();
	ports.rss_int.steer_key[1] = rte_rand();
	return 0;
}

void dp_ports_close(void)
{
	for (unsigned int r = 0; r < DP_PORT_MAX; r++) {
		if (ports.started[r]) {
			dp_flow_unsteer(ports.port_id[r]);
			rte_eth_dev_stop(ports.port_id[r]);
			rte_eth_dev_close(ports.port_id[r]);
		}
	}
}

const struct dp_rss *dp_ports_rss_int(void)
{
	return &ports.rss_int;
}

const char *dp_port_steering(enum dp_port_role r)
{
	return ports.steering[r];
}

uint16_t dp_port_id(enum dp_port_role r)
{
	return ports.port_id[r];
}

const struct rte_ether_addr *dp_port_mac(enum dp_port_role r)
{
	return &ports.mac[r];
}
