/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore session table. Each worker is the only writer and the only reader of its
 * buckets (the control thread reads records, never buckets), so there is no lock and no
 * atomic on the fast path.
 *
 * A session is one 64-byte record reached by two keys: the out2in 5-tuple (as it arrives on
 * ext) and the in2out 5-tuple (as replies arrive on int). The table is a bucketized cuckoo
 * hash of our own rather than rte_hash: rte_hash keeps a copy of every key and a data
 * pointer (32 bytes a key, plus a free-slot ring and extendable buckets), some 120 bytes of
 * index per session beside the record; here an entry is a signature and a record reference
 * (8 bytes), the key is the record's own tuple, and a lookup touches one bucket line and the
 * record line. Two keys per session fill at most 85 % of the entries of a full table
 * (usually 50 %: buckets are a power of two), where bucketized cuckoo hashing with 8 entries
 * a bucket places every key without long moves.
 *
 * Records come from a preallocated array: first never-used ones in order, then freed ones
 * (a LIFO linked through last_seen, so a reused record is likely still in cache). Creating a
 * session never allocates. A full table evicts the oldest unestablished TCP session (SYN
 * seen, no answer yet), never an established one, as Linux conntrack's early_drop and VPP
 * NAT44-ED do; with none to evict, the new session is a counted drop.
 *
 * Early drop keeps the unestablished sessions in creation order on two doubly linked lists
 * (the worker's and the mapping slot's) rather than scanning the new key's buckets: a bucket
 * scan finds a victim only by chance when the table holds both kinds, never one of a given
 * mapping or SNAT destination, and costs 16 record reads even when the table is not full.
 * The lists cost 16 bytes a session and O(1) per creation and removal; a session that becomes
 * established stays listed until a victim search meets it and unlinks it (the TCP state
 * function does not know the lists), which bounds that search per packet (NAT_EVICT_SCAN)
 * and keeps it amortized O(1): a session is listed once.
 *
 * This file knows the table only, not the worker that owns it: removing a whole session (its
 * adjacencies and counters too), aging and clearing are session_free.c's.
 */
#include <errno.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_tcp.h>

#include "session.h"
#include "session_inlines.h"

/* Two keys per session take at most this share of the entries of a full table. */
#define NAT_LOAD_PCT 85
/* Bound on the breadth-first search for a cuckoo path: two roots, their 16 children, and
 * most of the next level. */
#define NAT_BFS_NODES 128

static uint32_t buckets_for(uint32_t max)
{
	uint64_t entries = (2ull * max * 100 + NAT_LOAD_PCT - 1) / NAT_LOAD_PCT;
	uint64_t need = (entries + NAT_BKT_ENTRIES - 1) / NAT_BKT_ENTRIES, b = 2;

	while (b < need)
		b <<= 1;
	return (uint32_t)b;
}

size_t nat_sessions_memsize(uint32_t max)
{
	return (size_t)buckets_for(max) * sizeof(struct nat_bucket) +
	       (size_t)max * (sizeof(struct nat_session) + sizeof(struct nat_link) +
			      sizeof(struct nat_tcp_td)) +
	       CFG_MAX_MAPPINGS * sizeof(struct nat_slot) +
	       NAT_CMS_ROWS * NAT_CMS_COLS * sizeof(uint16_t);
}

int nat_sessions_init(struct nat_sessions *s, const char *name, uint32_t max, int socket)
{
	uint32_t nb;

	memset(s, 0, sizeof(*s));
	// Records are referenced as (index << 1 | dir) in 32 bits.
	if (max == 0 || max > (UINT32_MAX >> 1))
		return -EINVAL;
	nb = buckets_for(max);
	s->max = max;
	s->bkt_mask = nb - 1;
	s->free_head = NAT_REC_NONE;
	s->bkt =
		rte_zmalloc_socket(name, (size_t)nb * sizeof(*s->bkt), RTE_CACHE_LINE_SIZE, socket);
	// Zeroed, so that a record not yet used reads as free (proto 0) to the control thread.
	s->recs = rte_zmalloc_socket(name, (size_t)max * sizeof(*s->recs), RTE_CACHE_LINE_SIZE,
				     socket);
	s->lnk =
		rte_malloc_socket(name, (size_t)max * sizeof(*s->lnk), RTE_CACHE_LINE_SIZE, socket);
	s->slots = rte_malloc_socket(name, CFG_MAX_MAPPINGS * sizeof(*s->slots),
				     RTE_CACHE_LINE_SIZE, socket);
	s->cms = rte_zmalloc_socket(name, NAT_CMS_ROWS * NAT_CMS_COLS * sizeof(*s->cms),
				    RTE_CACHE_LINE_SIZE, socket);
	s->td = rte_zmalloc_socket(name, (size_t)max * sizeof(*s->td), RTE_CACHE_LINE_SIZE, socket);
	if (!s->bkt || !s->recs || !s->lnk || !s->slots || !s->cms || !s->td) {
		nat_sessions_fini(s);
		return -ENOMEM;
	}
	// The hash's secret: per table, at start-up, from rte_rand() (seeded by EAL from the
	// system's entropy), so that nobody outside can tell which 5-tuples share a bucket.
	s->key[0] = rte_rand();
	s->key[1] = rte_rand();
	s->syn_head = s->syn_tail = NAT_REC_NONE;
	for (uint32_t i = 0; i < CFG_MAX_MAPPINGS; i++)
		s->slots[i] = (struct nat_slot){.head = NAT_REC_NONE, .tail = NAT_REC_NONE};
	return 0;
}

void nat_sessions_fini(struct nat_sessions *s)
{
	rte_free(s->bkt);
	rte_free(s->recs);
	rte_free(s->lnk);
	rte_free(s->slots);
	rte_free(s->cms);
	rte_free(s->td);
	memset(s, 0, sizeof(*s));
}

void nat_session_key(const struct nat_session *se, int dir, struct nat_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src = se->addr[dir][0];
	k->dst = se->addr[dir][1];
	k->sport = se->port[dir][0];
	k->dport = se->port[dir][1];
	k->proto = se->proto;
	k->family = 4;
}

uint32_t nat_sessions_lookup(const struct nat_sessions *s, const struct nat_key *k)
{
	return nat_sessions_lookup_h(s, k, nat_key_hash(s, k));
}

static int bkt_free_entry(const struct nat_bucket *b)
{
	unsigned int m = nat_bkt_match(b, 0);
	return m ? __builtin_ctz(m) : -1;
}

struct bfs_node {
	uint32_t bkt;
	int16_t parent; /**< index in the queue, -1 for a root */
	uint8_t entry;	/**< entry of the parent's bucket whose alternative is this bucket */
};

static bool bfs_on_path(const struct bfs_node *q, int node, uint32_t bkt)
{
	for (; node >= 0; node = q[node].parent)
		if (q[node].bkt == bkt)
			return true;
	return false;
}

int nat_sessions_add(struct nat_sessions *s, const struct nat_key *k, uint32_t ref)
{
	struct nat_hash h = nat_key_hash(s, k);
	return nat_sessions_add_h(s, h.bkt, h.sig, ref);
}

/* Both buckets of a key full: the cuckoo search (nat_sessions_add_h()). Out of line: its
 * queue's frame is set up only for the rare insert that needs it. */
int nat_sessions_add_cuckoo(struct nat_sessions *s, uint32_t bkt, uint32_t sig, uint32_t ref)
{
	const struct nat_hash h = {bkt, sig};
	struct bfs_node q[NAT_BFS_NODES];
	unsigned int head = 0, tail = 0;
	int e;

	q[tail++] = (struct bfs_node){h.bkt, -1, 0};
	q[tail++] = (struct bfs_node){nat_bkt_alt(s, h.bkt, h.sig), -1, 0};
	// Both buckets full: find the shortest chain of entries, each movable to its other
	// bucket, that ends in a bucket with room. A bucket appears at most once on a chain,
	// so every entry moved is the one the search saw there.
	for (; head < tail; head++) {
		const struct nat_bucket *cur = &s->bkt[q[head].bkt];
		for (unsigned int i = 0; i < NAT_BKT_ENTRIES; i++) {
			uint32_t alt = nat_bkt_alt(s, q[head].bkt, cur->sig[i]);
			if (bfs_on_path(q, (int)head, alt))
				continue;
			if ((e = bkt_free_entry(&s->bkt[alt])) < 0) {
				if (tail < NAT_BFS_NODES)
					q[tail++] =
						(struct bfs_node){alt, (int16_t)head, (uint8_t)i};
				continue;
			}
			// Move from the end of the chain back to its root.
			uint32_t to_b = alt, to_e = (uint32_t)e, from_e = i;
			for (int n = (int)head; n >= 0; n = q[n].parent) {
				struct nat_bucket *from = &s->bkt[q[n].bkt];
				s->bkt[to_b].sig[to_e] = from->sig[from_e];
				s->bkt[to_b].ref[to_e] = from->ref[from_e];
				to_b = q[n].bkt;
				to_e = from_e;
				from_e = q[n].entry;
			}
			s->bkt[to_b].sig[to_e] = h.sig;
			s->bkt[to_b].ref[to_e] = ref;
			s->moved++;
			return 0;
		}
	}
	s->insert_fail++;
	return -ENOSPC;
}

int nat_sessions_del(struct nat_sessions *s, const struct nat_key *k, uint32_t ref)
{
	struct nat_hash h = nat_key_hash(s, k);

	return nat_sessions_del_h(s, h.bkt, h.sig, ref);
}

int nat_sessions_del_h(struct nat_sessions *s, uint32_t bkt, uint32_t sig, uint32_t ref)
{
	uint32_t b = bkt;

	for (int r = 0; r < 2; r++, b = nat_bkt_alt(s, bkt, sig)) {
		struct nat_bucket *bk = &s->bkt[b];
		for (unsigned int m = nat_bkt_match(bk, sig); m; m &= m - 1) {
			unsigned int i = (unsigned int)__builtin_ctz(m);
			if (bk->ref[i] == ref) {
				bk->sig[i] = 0;
				return 0;
			}
		}
	}
	return -ENOENT;
}

void nat_session_release(struct nat_sessions *s, uint32_t idx)
{
	struct nat_session *se = &s->recs[idx];

	se->proto = 0;
	se->last_seen = s->free_head;
	s->free_head = idx;
}

/* The two counters of (slot, source) in the sketch, from one keyed hash. */
static void cms_cols(const struct nat_sessions *s, uint16_t slot, rte_be32_t src, uint32_t c[2])
{
	uint64_t x = nat_nh64(s->key, (uint64_t)src | (uint64_t)slot << 32, 0x736f75726365ull);

	c[0] = (uint32_t)x & (NAT_CMS_COLS - 1);
	c[1] = NAT_CMS_COLS + ((uint32_t)(x >> 32) & (NAT_CMS_COLS - 1));
}

uint32_t nat_sessions_src_count(const struct nat_sessions *s, uint16_t slot, rte_be32_t src_be)
{
	uint32_t c[2];

	cms_cols(s, slot, src_be, c);
	return RTE_MIN(s->cms[c[0]], s->cms[c[1]]);
}

static void syn_unlink(struct nat_sessions *s, uint32_t idx)
{
	struct nat_link *l = &s->lnk[idx];
	struct nat_slot *sl = &s->slots[s->recs[idx].slot];

	if (l->prev == NAT_LNK_OFF)
		return;
	if (l->prev != NAT_REC_NONE)
		s->lnk[l->prev].next = l->next;
	else
		s->syn_head = l->next;
	if (l->next != NAT_REC_NONE)
		s->lnk[l->next].prev = l->prev;
	else
		s->syn_tail = l->prev;
	if (l->sprev != NAT_REC_NONE)
		s->lnk[l->sprev].snext = l->snext;
	else
		sl->head = l->snext;
	if (l->snext != NAT_REC_NONE)
		s->lnk[l->snext].sprev = l->sprev;
	else
		sl->tail = l->sprev;
	l->prev = NAT_LNK_OFF;
}

void nat_sessions_track(struct nat_sessions *s, uint32_t idx, bool count_src)
{
	struct nat_session *se = &s->recs[idx];
	struct nat_slot *sl = &s->slots[se->slot];
	struct nat_link *l = &s->lnk[idx];
	uint32_t c[2];

	sl->active++;
	se->src_counted = count_src;
	if (count_src) {
		cms_cols(s, se->slot, se->addr[DIR_O2I][0], c);
		for (int r = 0; r < NAT_CMS_ROWS; r++)
			if (s->cms[c[r]] < UINT16_MAX)
				s->cms[c[r]]++;
	}
	if (se->proto != IPPROTO_TCP || se->state != NAT_ST_SYN_SENT) {
		l->prev = NAT_LNK_OFF;
		return;
	}
	l->prev = s->syn_tail;
	l->next = NAT_REC_NONE;
	if (s->syn_tail != NAT_REC_NONE)
		s->lnk[s->syn_tail].next = idx;
	else
		s->syn_head = idx;
	s->syn_tail = idx;
	l->sprev = sl->tail;
	l->snext = NAT_REC_NONE;
	if (sl->tail != NAT_REC_NONE)
		s->lnk[sl->tail].snext = idx;
	else
		sl->head = idx;
	sl->tail = idx;
}

void nat_sessions_untrack(struct nat_sessions *s, uint32_t idx)
{
	const struct nat_session *se = &s->recs[idx];
	struct nat_slot *sl = &s->slots[se->slot];
	uint32_t c[2];

	syn_unlink(s, idx);
	if (sl->active)
		sl->active--;
	if (!se->src_counted)
		return;
	cms_cols(s, se->slot, se->addr[DIR_O2I][0], c);
	for (int r = 0; r < NAT_CMS_ROWS; r++)
		if (s->cms[c[r]])
			s->cms[c[r]]--;
}

static bool same_snat(const struct nat_session *a, const struct nat_session *b)
{
	return a->addr[DIR_I2O][0] == b->addr[DIR_I2O][0] &&
	       a->addr[DIR_I2O][1] == b->addr[DIR_I2O][1] &&
	       a->port[DIR_I2O][0] == b->port[DIR_I2O][0] && a->proto == b->proto;
}

uint32_t nat_sessions_victim(struct nat_sessions *s, int slot, const struct nat_session *like)
{
	uint32_t i = slot < 0 ? s->syn_head : s->slots[slot].head;

	for (unsigned int n = 0; n < NAT_EVICT_SCAN && i != NAT_REC_NONE; n++) {
		const struct nat_session *se = &s->recs[i];
		uint32_t next = slot < 0 ? s->lnk[i].next : s->lnk[i].snext;

		if (se->state != NAT_ST_SYN_SENT)
			syn_unlink(s, i); // established (or closing) since: no longer a candidate
		else if (!like || same_snat(se, like))
			return i;
		i = next;
	}
	return NAT_REC_NONE;
}

uint32_t nat_session_timeout_s(const struct nat_session *se, const struct tables *t)
{
	const struct cfg_timeouts *to = &t->slot_timeouts[se->slot];

	switch (se->state) {
	case NAT_ST_ESTABLISHED:
		return to->tcp_established;
	case NAT_ST_UDP:
		return to->udp;
	case NAT_ST_SYN_SENT:
		return to->tcp_syn ? to->tcp_syn : to->tcp_transitory;
	default:
		return to->tcp_transitory;
	}
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
		se->flags = 0;
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
		[NAT_ST_SYN_SENT] = "syn_sent",
		[NAT_ST_ESTABLISHED] = "established",
		[NAT_ST_FIN_WAIT] = "fin_wait",
		[NAT_ST_CLOSED] = "closed",
	};
	return state < RTE_DIM(names) ? names[state] : "?";
}
