/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's wire codec (strait/sync.h). A datagram:
 *
 *   header, 20 bytes           record, 40 bytes (count of them, DATA only)
 *   0  u16 magic 0x5354 "ST"    0  u8  type (1 upsert, 2 delete)
 *   2  u8  version 1            1  u8  proto (6, 17)
 *   3  u8  type (enum sync_msg) 2  u8  state (enum nat_tcp_state)
 *   4  u32 sender id            3  u8  flags (NAT_F_*, 0x08 hairpin)
 *   8  u32 seq                  4  u32 client, mapping address, backend, SNAT address
 *   12 u32 ack                  20 u16 client, mapping, backend, SNAT ports
 *   16 u16 count                28 u32 idle ms
 *   18 u8  sender's workers     32 u32 TCP sequence end out2in, in2out
 *   19 u8  0
 *
 * Every multi-byte field in network order. Decoding is of hostile input: a datagram passes
 * whole or not at all.
 */
#include <errno.h>
#include <string.h>

#include <netinet/in.h>

#include <strait/sync.h>

/* enum nat_tcp_state's range (dp/session.h: NAT_ST_UDP 0 .. NAT_ST_CLOSED 4). */
#define SYNC_ST_UDP	 0u
#define SYNC_ST_TCP_LAST 4u

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

int sync_encode(const struct sync_hdr *h, const struct sync_rec *recs, void *buf, size_t cap)
{
	uint8_t *p = buf;
	size_t len = SYNC_HDR_LEN + (size_t)h->count * SYNC_REC_LEN;

	if (h->count > SYNC_MAX_RECS)
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	put16(p, SYNC_MAGIC);
	p[2] = SYNC_VERSION;
	p[3] = h->type;
	put32(p + 4, h->sender);
	put32(p + 8, h->seq);
	put32(p + 12, h->ack);
	put16(p + 16, h->count);
	p[18] = h->workers;
	p[19] = 0;
	p += SYNC_HDR_LEN;
	for (unsigned int i = 0; i < h->count; i++, p += SYNC_REC_LEN) {
		const struct sync_rec *r = &recs[i];
		p[0] = r->type;
		p[1] = r->proto;
		p[2] = r->state;
		p[3] = r->flags;
		// Addresses and ports are network order already: copied as bytes.
		memcpy(p + 4, r->addr, 16);
		memcpy(p + 20, r->port, 8);
		put32(p + 28, r->idle_ms);
		put32(p + 32, r->td_end[0]);
		put32(p + 36, r->td_end[1]);
	}
	return (int)len;
}

static bool rec_valid(const struct sync_rec *r)
{
	if (r->type != SYNC_REC_UPSERT && r->type != SYNC_REC_DELETE)
		return false;
	if (r->proto == IPPROTO_TCP) {
		if (r->state == SYNC_ST_UDP || r->state > SYNC_ST_TCP_LAST)
			return false;
	} else if (r->proto != IPPROTO_UDP || r->state != SYNC_ST_UDP) {
		return false;
	}
	if (r->flags & ~SYNC_F_MASK)
		return false;
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < 2; i++)
			if (r->addr[d][i] == 0 || r->port[d][i] == 0)
				return false;
	return true;
}

int sync_decode(const void *buf, size_t len, struct sync_hdr *h, struct sync_rec *recs)
{
	const uint8_t *p = buf;

	if (len < SYNC_HDR_LEN || get16(p) != SYNC_MAGIC || p[2] != SYNC_VERSION || p[19] != 0)
		return -EINVAL;
	h->type = p[3];
	h->sender = get32(p + 4);
	h->seq = get32(p + 8);
	h->ack = get32(p + 12);
	h->count = get16(p + 16);
	h->workers = p[18];
	if (h->type < SYNC_MSG_DATA || h->type > SYNC_MSG_HELLO || h->workers == 0)
		return -EINVAL;
	if (h->type != SYNC_MSG_DATA ? h->count != 0 : h->count == 0 || h->count > SYNC_MAX_RECS)
		return -EINVAL;
	if (len != SYNC_HDR_LEN + (size_t)h->count * SYNC_REC_LEN)
		return -EINVAL;
	p += SYNC_HDR_LEN;
	for (unsigned int i = 0; i < h->count; i++, p += SYNC_REC_LEN) {
		struct sync_rec *r = &recs[i];
		r->type = p[0];
		r->proto = p[1];
		r->state = p[2];
		r->flags = p[3];
		memcpy(r->addr, p + 4, 16);
		memcpy(r->port, p + 20, 8);
		r->idle_ms = get32(p + 28);
		r->td_end[0] = get32(p + 32);
		r->td_end[1] = get32(p + 36);
		if (!rec_valid(r))
			return -EINVAL;
	}
	return 0;
}
