/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore session table. Each worker is the only writer and the only reader of its rte_hash
 * (the control thread reads records, never the hash), so the hash is created without any
 * concurrency flag: no lock and no atomic on the fast path.
 *
 * A session is one record reached by two keys: the out2in 5-tuple (as it arrives on ext) and
 * the in2out 5-tuple (as replies arrive on int). The hash data encodes (record << 1 | dir).
 * Records come from a preallocated array and a free stack, so creating a session never
 * allocates, and a full table is a counted drop, never an eviction (DESIGN §3).
 *
 * Aging walks the record array with a cursor, DP_EXPIRE_BUDGET records per housekeeping pass:
 * bounded work per loop iteration, and every record is seen once per pass over the array.
 */
#include <errno.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "dp_priv.h"

int nat_sessions_init(struct nat_sessions *s, const char *name, uint32_t max, int socket)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = 2 * max,
		.key_len = sizeof(struct nat_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = socket,
		// Extendable buckets: every one of the 2*max keys fits, whatever cuckoo does.
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	memset(s, 0, sizeof(*s));
	if (max == 0)
		return -EINVAL;
	s->max = max;
	s->h = rte_hash_create(&hp);
	s->recs = rte_zmalloc_socket("sessions", sizeof(*s->recs) * max, RTE_CACHE_LINE_SIZE,
				     socket);
	s->free_idx = rte_malloc_socket("sessions_free", sizeof(uint32_t) * max, 0, socket);
	if (!s->h || !s->recs || !s->free_idx) {
		nat_sessions_fini(s);
		return -ENOMEM;
	}
	// Pop from the end: low indexes first, so hwm grows only as far as the load needs.
	for (uint32_t i = 0; i < max; i++)
		s->free_idx[i] = max - 1 - i;
	s->n_free = max;
	return 0;
}

void nat_sessions_fini(struct nat_sessions *s)
{
	rte_hash_free(s->h);
	rte_free(s->recs);
	rte_free(s->free_idx);
	memset(s, 0, sizeof(*s));
}

void nat_session_key(const struct nat_session *se, int dir, struct nat_key *k)
{
	// A direction's key is the reverse of the other direction's rewritten tuple.
	const struct nat_rewrite *o = dir == DIR_O2I ? &se->rw_i2o : &se->rw_o2i;

	memset(k, 0, sizeof(*k));
	k->src = o->dst;
	k->dst = o->src;
	k->sport = o->dport;
	k->dport = o->sport;
	k->proto = se->proto;
	k->family = 4;
}

void nat_session_free(struct dp_worker *w, uint32_t idx)
{
	struct nat_sessions *s = &w->sess;
	struct nat_session *se = &s->recs[idx];
	struct nat_key k;

	for (int d = 0; d < 2; d++) {
		nat_session_key(se, d, &k);
		rte_hash_del_key(s->h, &k);
	}
	w->stats.sessions_expired++;
	w->stats.map[se->slot].sessions_expired++;
	se->flags = 0;
	s->free_idx[s->n_free++] = idx;
	s->active--;
}

uint32_t nat_session_timeout_s(const struct nat_session *se)
{
	switch (se->state) {
	case NAT_ST_ESTABLISHED:
	case NAT_ST_UDP:
	case NAT_ST_ICMP:
		return se->timeout_s;
	default:
		return se->timeout_trans_s;
	}
}

unsigned int nat_sessions_expire(struct dp_worker *w, unsigned int budget)
{
	struct nat_sessions *s = &w->sess;
	unsigned int expired = 0;

	if (s->hwm == 0)
		return 0;
	while (budget--) {
		uint32_t i = s->expire_cursor;
		struct nat_session *se = &s->recs[i];

		if (++s->expire_cursor >= s->hwm)
			s->expire_cursor = 0;
		if (!(se->flags & NAT_F_IN_USE))
			continue;
		if (w->now - se->last_seen_tsc > (uint64_t)nat_session_timeout_s(se) * w->hz) {
			nat_session_free(w, i);
			expired++;
		}
	}
	return expired;
}

/*
 * TCP tracking from flags only, as NAT devices do (RFC 5382 REQ-5, RFC 7857 §2.2): a session
 * is established once the responder has answered and the initiator acknowledged; FIN in both
 * directions or an RST makes it transitory, so a closed connection's port is soon reusable.
 */
void nat_session_tcp_update(struct nat_session *se, int dir, uint8_t f)
{
	if (f & RTE_TCP_RST_FLAG) {
		se->state = NAT_ST_CLOSED;
		return;
	}
	if (dir == DIR_O2I && (f & RTE_TCP_SYN_FLAG) && !(f & RTE_TCP_ACK_FLAG) &&
	    se->state == NAT_ST_CLOSED) {
		// A new connection reusing the same 5-tuple (TIME_WAIT recycle on the client).
		se->state = NAT_ST_SYN_SENT;
		se->flags &= (uint8_t)~(NAT_F_SEEN_I2O | NAT_F_FIN_O2I | NAT_F_FIN_I2O);
		return;
	}
	if (dir == DIR_I2O)
		se->flags |= NAT_F_SEEN_I2O;
	if (f & RTE_TCP_FIN_FLAG)
		se->flags |= dir == DIR_O2I ? NAT_F_FIN_O2I : NAT_F_FIN_I2O;

	switch (se->state) {
	case NAT_ST_SYN_SENT:
		if (dir == DIR_O2I && (f & RTE_TCP_ACK_FLAG) && (se->flags & NAT_F_SEEN_I2O))
			se->state = NAT_ST_ESTABLISHED;
		break;
	case NAT_ST_ESTABLISHED:
		if (se->flags & (NAT_F_FIN_O2I | NAT_F_FIN_I2O))
			se->state = NAT_ST_FIN_WAIT;
		break;
	case NAT_ST_FIN_WAIT:
		if ((se->flags & NAT_F_FIN_O2I) && (se->flags & NAT_F_FIN_I2O))
			se->state = NAT_ST_CLOSED;
		break;
	default:
		break;
	}
}

const char *nat_session_state_name(uint8_t state)
{
	static const char *const names[] = {
		[NAT_ST_UDP] = "udp",
		[NAT_ST_ICMP] = "icmp",
		[NAT_ST_SYN_SENT] = "syn_sent",
		[NAT_ST_ESTABLISHED] = "established",
		[NAT_ST_FIN_WAIT] = "fin_wait",
		[NAT_ST_CLOSED] = "closed",
	};
	return state < RTE_DIM(names) ? names[state] : "?";
}
