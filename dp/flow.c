/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_flow steering of the SNAT partitions: flow.h. The rules match only the destination port
 * and the protocol, not the SNAT addresses: those change with a reload, the partitions do not,
 * and a packet a rule sends to the wrong worker (an in2out packet whose destination port
 * happens to fall in another partition) is still handed over in software as without rules.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_flow.h>

#include "flow.h"
#include "worker.h"

/* Rules installed per port, to destroy them before the port stops: CFG_MAX_WORKERS partitions
 * of two protocols of at most DP_FLOW_MAX_BLOCKS blocks. */
#define FLOW_MAX_RULES (CFG_MAX_WORKERS * 2 * DP_FLOW_MAX_BLOCKS)

static struct {
	uint16_t port_id;
	unsigned int n;
	struct rte_flow *rule[FLOW_MAX_RULES];
} installed;

int dp_flow_port_blocks(uint16_t lo, uint16_t hi, struct dp_flow_block *out, unsigned int max)
{
	uint32_t p = lo;
	unsigned int n = 0;

	if (lo > hi)
		return -EINVAL;
	while (p <= hi) {
		// The largest block aligned at p that does not pass hi.
		uint32_t size = p ? p & -p : 65536u;
		while (p + size - 1u > hi)
			size >>= 1;
		if (n == max)
			return -ENOSPC;
		out[n].value = (uint16_t)p;
		out[n].mask = (uint16_t) ~(size - 1u);
		n++;
		p += size;
	}
	return (int)n;
}

static int rule_add(uint16_t port_id, uint8_t proto, const struct dp_flow_block *b, uint16_t queue,
		    char *err, size_t errlen)
{
	const struct rte_flow_attr attr = {.ingress = 1};
	const struct rte_flow_item_ipv4 ip_spec = {.hdr.next_proto_id = proto};
	const struct rte_flow_item_ipv4 ip_mask = {.hdr.next_proto_id = 0xff};
	const struct rte_flow_item_tcp tcp_spec = {.hdr.dst_port = rte_cpu_to_be_16(b->value)};
	const struct rte_flow_item_tcp tcp_mask = {.hdr.dst_port = rte_cpu_to_be_16(b->mask)};
	const struct rte_flow_item_udp udp_spec = {.hdr.dst_port = rte_cpu_to_be_16(b->value)};
	const struct rte_flow_item_udp udp_mask = {.hdr.dst_port = rte_cpu_to_be_16(b->mask)};
	const bool tcp = proto == IPPROTO_TCP;
	const struct rte_flow_item pattern[] = {
		{.type = RTE_FLOW_ITEM_TYPE_ETH},
		{.type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &ip_spec, .mask = &ip_mask},
		{.type = tcp ? RTE_FLOW_ITEM_TYPE_TCP : RTE_FLOW_ITEM_TYPE_UDP,
		 .spec = tcp ? (const void *)&tcp_spec : (const void *)&udp_spec,
		 .mask = tcp ? (const void *)&tcp_mask : (const void *)&udp_mask},
		{.type = RTE_FLOW_ITEM_TYPE_END},
	};
	const struct rte_flow_action_queue q = {.index = queue};
	const struct rte_flow_action actions[] = {
		{.type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &q},
		{.type = RTE_FLOW_ACTION_TYPE_END},
	};
	struct rte_flow_error fe = {0};
	struct rte_flow *f;
	int ret;

	ret = rte_flow_validate(port_id, &attr, pattern, actions, &fe);
	if (ret == 0) {
		f = rte_flow_create(port_id, &attr, pattern, actions, &fe);
		if (f) {
			installed.rule[installed.n++] = f;
			return 0;
		}
		ret = rte_errno ? -rte_errno : -ENOTSUP;
	}
	const char *why = strerror(-ret);
	if (fe.message && strcmp(fe.message, why) != 0)
		snprintf(err, errlen, "%s dst %u/0x%04x -> queue %u: %s (%s)", tcp ? "tcp" : "udp",
			 b->value, b->mask, queue, fe.message, why);
	else
		snprintf(err, errlen, "%s dst %u/0x%04x -> queue %u: %s", tcp ? "tcp" : "udp",
			 b->value, b->mask, queue, why);
	return ret;
}

int dp_flow_steer_snat(uint16_t port_id, unsigned int n_workers, char *err, size_t errlen)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};
	struct dp_flow_block b[DP_FLOW_MAX_BLOCKS];
	uint32_t span;

	if (n_workers < 2 || n_workers > CFG_MAX_WORKERS) {
		snprintf(err, errlen, "steering needs 2 to %u workers, not %u", CFG_MAX_WORKERS,
			 n_workers);
		return -EINVAL;
	}
	dp_flow_unsteer(port_id);
	installed.port_id = port_id;
	span = (65536u - DP_SNAT_PORT_MIN) / n_workers;
	for (unsigned int w = 0; w < n_workers; w++) {
		// As snat_owner() (nat.c) reads a port: the last partition takes the remainder.
		uint32_t lo = DP_SNAT_PORT_MIN + w * span;
		uint32_t hi = w + 1 == n_workers ? 65535u : lo + span - 1u;
		int nb = dp_flow_port_blocks((uint16_t)lo, (uint16_t)hi, b, DP_FLOW_MAX_BLOCKS);
		for (unsigned int p = 0; p < 2; p++) {
			for (int i = 0; i < nb; i++) {
				int ret = rule_add(port_id, protos[p], &b[i], (uint16_t)w, err,
						   errlen);
				if (ret < 0) {
					dp_flow_unsteer(port_id);
					return ret;
				}
			}
		}
	}
	return (int)installed.n;
}

void dp_flow_unsteer(uint16_t port_id)
{
	struct rte_flow_error fe;

	if (installed.port_id != port_id)
		return;
	while (installed.n > 0)
		rte_flow_destroy(port_id, installed.rule[--installed.n], &fe);
}
