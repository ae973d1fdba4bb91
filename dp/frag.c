/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 fragments through the NAT: see frag.h. Worker lcore of @p w. */
#include <string.h>

#include <rte_ip.h>
#include <rte_random.h>

#include <strait/cksum.h>

#include "frag.h"
#include "mbuf_priv.h"
#include "pkt_out.h"
#include "session_inlines.h"
#include "worker.h"

/*
 * The slot hash: multilinear over (source, destination, id and protocol) with random 64-bit
 * keys, the top 32 bits (Dietzfelbinger's vector multiply-shift, a universal family): the
 * sender picks the source (spoofed) and the id, and with a CRC of them it could aim a
 * fragment at the slot of another client's datagram and evict it. One key set for all
 * workers, drawn before they start: the steering worker of a fragment is this hash too.
 * Static defaults: a fixture that never calls frag_reset_secret() still spreads.
 */
static uint64_t frag_key[4] = {0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull,
			       0x2545f4914f6cdd1dull};

void frag_set_secret(uint64_t secret)
{
	for (unsigned int i = 0; i < RTE_DIM(frag_key); i++) {
		uint64_t z = (secret += 0x9e3779b97f4a7c15ull); // splitmix64

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		frag_key[i] = z ^ (z >> 31);
	}
}

void frag_reset_secret(void)
{
	frag_set_secret(rte_rand());
}

static inline uint32_t frag_hash(const struct pkt_meta *m)
{
	uint64_t h = frag_key[0] + (uint64_t)m->src * frag_key[1] + (uint64_t)m->dst * frag_key[2] +
		     (uint64_t)((uint32_t)m->ip_id << 8 | m->proto) * frag_key[3];

	return (uint32_t)(h >> 32);
}

uint32_t frag_slot_index(const struct pkt_meta *m)
{
	return frag_hash(m) & (DP_FRAG_SLOTS - 1);
}

static inline struct dp_frag_entry *frag_slot(struct dp_worker *w, const struct pkt_meta *m)
{
	return &w->frag.tbl[frag_slot_index(m)];
}

/* The live entry of @p m's datagram, or NULL. */
static struct dp_frag_entry *frag_entry(struct dp_worker *w, const struct pkt_meta *m)
{
	struct dp_frag_entry *e = frag_slot(w, m);

	if (e->src != m->src || e->dst != m->dst || e->id != m->ip_id || e->proto != m->proto ||
	    e->expire_tsc < w->now)
		return NULL;
	return e;
}

static void frag_set(struct dp_worker *w, const struct pkt_meta *m, uint32_t idx, int dir,
		     unsigned int owner)
{
	struct dp_frag_entry *e = frag_slot(w, m);

	e->src = m->src;
	e->dst = m->dst;
	e->id = m->ip_id;
	e->proto = m->proto;
	e->dir = (uint8_t)dir;
	e->sess = idx;
	e->owner = (uint16_t)owner;
	e->key = (struct nat_key){.src = m->src,
				  .dst = m->dst,
				  .sport = m->sport,
				  .dport = m->dport,
				  .proto = m->proto,
				  .family = 4};
	e->expire_tsc = w->now + DP_FRAG_TIMEOUT_S * w->hz;
	e->new_id = rte_cpu_to_be_16((uint16_t)(w->frag.next_id++ * w->n_workers + w->id));
	e->n_ranges = 0;
	if (w->frag.n_held)
		w->frag.retry = true;
}

void frag_remember(struct dp_worker *w, const struct pkt_meta *m, uint32_t idx, int dir)
{
	frag_set(w, m, idx, dir, w->id);
}

int frag_find(struct dp_worker *w, const struct pkt_meta *m, int *dir)
{
	const struct dp_frag_entry *e = frag_entry(w, m);

	if (!e || e->sess == NAT_REC_NONE || e->sess >= w->sess.max)
		return -1;
	// The record must still be the first fragment's session: freed, it has no protocol;
	// reused by another flow, it has another key.
	const struct nat_session *se = &w->sess.recs[e->sess];
	if (se->proto == 0 || !nat_session_match(se, e->sess << 1 | e->dir, &e->key))
		return -1;
	*dir = e->dir;
	return (int)e->sess;
}

bool frag_pass(struct dp_worker *w, uint8_t *frame, const struct pkt_meta *m)
{
	struct dp_frag_entry *e = frag_entry(w, m);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + m->l3_off);

	if (!e)
		return true; // no entry (cannot happen after frag_remember/frag_find): as it is
	const uint32_t start = rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK;
	const uint32_t len = (uint32_t)m->ip_len - (uint32_t)(m->l4_off - m->l3_off);
	const uint32_t end = start + (len + 7) / 8;
	for (uint32_t i = 0; i < e->n_ranges && i < DP_FRAG_RANGES; i++) {
		const uint32_t s = e->range[i][0], t = e->range[i][1];
		if (start == s && end == t)
			goto renumber; // an exact duplicate: the receiver keeps one
		if (start < t && s < end)
			return false;
	}
	if (e->n_ranges < DP_FRAG_RANGES) {
		e->range[e->n_ranges][0] = (uint16_t)start;
		e->range[e->n_ranges][1] = (uint16_t)RTE_MIN(end, (uint32_t)UINT16_MAX);
	}
	if (e->n_ranges <= DP_FRAG_RANGES)
		e->n_ranges++;
renumber:
	ip->hdr_checksum = cksum_apply(ip->hdr_checksum,
				       cksum_fold(cksum_delta16(0, ip->packet_id, e->new_id)));
	ip->packet_id = e->new_id;
	return true;
}

/* Hold @p mb until its first fragment passes; when full, what is old goes first. */
static void frag_hold(struct dp_worker *w, uint8_t in_port, struct rte_mbuf *mb,
		      const struct pkt_meta *m)
{
	struct dp_frag *f = &w->frag;

	if (f->n_held == DP_FRAG_HOLD)
		frag_expire(w);
	if (f->n_held == DP_FRAG_HOLD) {
		dp_drop(w, mb, DP_DROP_FRAG_HOLD_FULL);
		return;
	}
	f->held[f->n_held++] = (struct dp_frag_held){
		.mb = mb,
		.m = *m,
		.in_port = in_port,
		.expire_tsc = w->now + (uint64_t)DP_FRAG_HOLD_MS * w->hz / 1000};
}

int nat_frag_later(struct dp_worker *w, uint8_t in_port, struct rte_mbuf *mb,
		   const struct pkt_meta *m)
{
	const int dir = in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O;
	int fdir, idx = frag_find(w, m, &fdir);

	if (idx >= 0 && fdir == dir)
		return idx;
	if (idx >= 0 || frag_entry(w, m)) // its first went the other way, or its session is gone
		dp_drop(w, mb, DP_DROP_FRAG_NO_SESSION);
	else
		frag_hold(w, in_port, mb, m);
	return -1;
}

unsigned int frag_owner(struct dp_worker *w, struct rte_mbuf *mb, const struct pkt_meta *m,
			unsigned int owner, uint8_t *flag)
{
	struct dp_mbuf_priv *p = dp_priv(mb);
	unsigned int steer = frag_hash(m) % w->n_workers;
	const struct dp_frag_entry *e;

	*flag = 0;
	if (p->in_port & DP_PRIV_FRAG_STEERED) {
		p->in_port &= (uint8_t)~DP_PRIV_FRAG_STEERED;
		return w->id; // its steering worker sent it here
	}
	if (steer != w->id)
		return steer;
	if (m->frag == FRAG_FIRST) {
		if (owner != w->id) { // the owner keeps its own entry
			frag_set(w, m, NAT_REC_NONE, DIR_I2O, owner);
			*flag = DP_PRIV_FRAG_STEERED;
		}
		return owner;
	}
	e = frag_entry(w, m);
	if (e && e->owner != w->id) {
		*flag = DP_PRIV_FRAG_STEERED;
		return e->owner;
	}
	return w->id; // here, or held here until its first one comes
}

struct rte_mbuf *frag_take_ready(struct dp_worker *w, struct pkt_meta *m, uint8_t *in_port,
				 unsigned int *to, uint32_t *idx)
{
	struct dp_frag *f = &w->frag;

	for (uint32_t i = 0; i < f->n_held; i++) {
		struct dp_frag_held *h = &f->held[i];
		const struct dp_frag_entry *e = frag_entry(w, &h->m);
		int dir, r = -1;
		if (!e)
			continue;
		if (e->owner == w->id) {
			r = frag_find(w, &h->m, &dir);
			if (r < 0 || dir != (h->in_port == DP_PORT_EXT ? DIR_O2I : DIR_I2O))
				continue; // left to expire
		}
		struct rte_mbuf *mb = h->mb;
		*m = h->m;
		*in_port = h->in_port;
		*to = e->owner;
		*idx = (uint32_t)r;
		f->held[i] = f->held[--f->n_held];
		return mb;
	}
	f->retry = false;
	return NULL;
}

void frag_expire(struct dp_worker *w)
{
	struct dp_frag *f = &w->frag;

	for (uint32_t i = 0; i < f->n_held;) {
		if (f->held[i].expire_tsc <= w->now) {
			dp_drop(w, f->held[i].mb, DP_DROP_FRAG_HOLD_TIMEOUT);
			f->held[i] = f->held[--f->n_held];
		} else {
			i++;
		}
	}
}

void frag_fini(struct dp_worker *w)
{
	for (uint32_t i = 0; i < w->frag.n_held; i++)
		rte_pktmbuf_free(w->frag.held[i].mb);
	w->frag.n_held = 0;
}
