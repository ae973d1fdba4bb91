/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clears in the worker. A clear used to walk the whole record array in one housekeeping pass
 * (tens of milliseconds for a large table: the rx rings overran at every rollout) while the
 * control thread waited for it; now it is a cursor that examines DP_CLEAR_BUDGET records per
 * loop iteration, and the control thread polls for the command's done flag
 * (dp_sessions_clear_poll()). A session created behind the cursor during a clear is not
 * examined: the tables published before the clear already keep such sessions from starting
 * (a removed backend or a revoked source gets none), so nothing is missed.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "neigh.h"
#include "pkt_out.h"
#include "ports.h"
#include "session_clear.h"
#include "session_free.h"

struct rte_mempool *nat_clear_pool;

static bool in_cidrs(const struct cfg_cidr *c, uint32_t n, uint32_t addr)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t mask = c[i].len ? ~0u << (32 - c[i].len) : 0;
		if ((addr & mask) == (c[i].addr & mask))
			return true;
	}
	return false;
}

/* Whether a session of the request's slot is still wanted by the mapping as it is now. */
static bool kept(const struct dp_clear_req *r, const struct nat_session *se)
{
	uint32_t client = rte_be_to_cpu_32(se->addr[DIR_O2I][0]);
	uint32_t ext = rte_be_to_cpu_32(se->addr[DIR_O2I][1]);
	uint16_t port = rte_be_to_cpu_16(se->port[DIR_O2I][1]);
	bool addr_ok = false, port_ok = false;

	if (r->n_allowed && !in_cidrs(r->allowed, r->n_allowed, client))
		return false;
	for (uint32_t i = 0; i < r->n_addrs && !addr_ok; i++)
		addr_ok = r->addrs[i] == ext;
	for (uint32_t i = 0; i < r->n_ports && !port_ok; i++)
		port_ok = r->ports[i].proto == se->proto && port >= r->ports[i].lo &&
			  port <= r->ports[i].hi;
	return addr_ok && port_ok;
}

bool nat_clear_match(const struct dp_clear_req *r, rte_be32_t backend_be,
		     const struct nat_session *se)
{
	if (se->proto == 0)
		return false;
	if (r->slot >= 0 && se->slot != r->slot)
		return false;
	if (r->proto && se->proto != r->proto)
		return false;
	if (backend_be && se->addr[DIR_I2O][0] != backend_be)
		return false;
	if (r->keep && kept(r, se))
		return false;
	return true;
}

bool nat_clear_rst(struct dp_worker *w, uint32_t idx)
{
	const struct nat_session *se = &w->sess.recs[idx];
	struct rte_mempool *mp = nat_clear_pool ? nat_clear_pool : dp_mempool();
	const struct dp_adj *a = &w->adj[se->adj[DIR_I2O]];
	struct rte_ether_addr dmac;
	uint32_t gen;

	if (se->proto != IPPROTO_TCP || se->state == NAT_ST_CLOSED || !mp ||
	    !neigh_lookup(a->port, a->nh, &dmac, &gen))
		return false;
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (!m)
		return false;
	const size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			   sizeof(struct rte_tcp_hdr);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (!f) {
		rte_pktmbuf_free(m);
		return false;
	}
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	eth->dst_addr = dmac;
	eth->src_addr = w->mac[a->port];
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip) + sizeof(*th));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*th));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	// From the address and port the client talks to, as the backend's packets leave.
	ip->src_addr = se->addr[DIR_O2I][1];
	ip->dst_addr = se->addr[DIR_O2I][0];
	th->src_port = se->port[DIR_O2I][1];
	th->dst_port = se->port[DIR_O2I][0];
	th->data_off = 5 << 4;
	if (!(se->flags & NAT_F_SEEN_I2O)) {
		// The backend never answered: the client is in SYN-SENT, where a RST is
		// acceptable when it acknowledges the SYN (RFC 9293 §3.10.7.3).
		th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
		th->recv_ack = rte_cpu_to_be_32(w->sess.td[idx].end[DIR_O2I]); // SYN's seq + 1
	} else {
		// Synchronized: a RST whose seq is the client's RCV.NXT (RFC 5961 §3.2).
		th->tcp_flags = RTE_TCP_RST_FLAG;
		th->sent_seq = rte_cpu_to_be_32(w->sess.td[idx].end[DIR_I2O]);
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	dp_tx_enqueue(w, a->port, m);
	return true;
}

bool nat_clear_take(struct dp_worker *w)
{
	struct dp_cmd *c;

	if (w->clearing)
		return true;
	if (rte_ring_sc_dequeue(w->cmd_in, (void **)&c) != 0)
		return false;
	c->result = 0;
	w->clearing = c;
	w->clear_cursor = 0;
	return true;
}

static void finish(struct dp_worker *w, struct dp_cmd *c)
{
	if (c->req.zero_slot && c->req.slot >= 0 && c->req.slot < CFG_MAX_MAPPINGS)
		memset(&w->stats.map[c->req.slot], 0, sizeof(w->stats.map[0]));
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

unsigned int nat_clear_step(struct dp_worker *w, unsigned int budget)
{
	struct dp_cmd *c = w->clearing;
	unsigned int n = 0;

	if (!c)
		return 0;
	while (n < budget && w->clear_cursor < w->sess.hwm) {
		uint32_t i = w->clear_cursor++;
		n++;
		if (!nat_clear_match(&c->req, c->backend_be, &w->sess.recs[i]))
			continue;
		if (c->req.rst)
			nat_clear_rst(w, i);
		nat_session_free(w, i);
		c->result++;
	}
	if (w->clear_cursor >= w->sess.hwm) {
		w->clearing = NULL;
		finish(w, c);
	}
	return n;
}

uint64_t nat_clear_run(struct dp_worker *w, struct dp_cmd *c)
{
	c->result = 0;
	for (uint32_t i = 0; i < w->sess.hwm; i++) {
		if (!nat_clear_match(&c->req, c->backend_be, &w->sess.recs[i]))
			continue;
		nat_session_free(w, i);
		c->result++;
	}
	finish(w, c);
	return c->result;
}

unsigned int nat_sessions_clear(struct dp_worker *w, int slot, uint32_t backend_be)
{
	struct dp_cmd c = {.type = DP_CMD_CLEAR, .req = {.slot = slot}, .backend_be = backend_be};

	return (unsigned int)nat_clear_run(w, &c);
}
