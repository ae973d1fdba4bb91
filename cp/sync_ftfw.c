/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's reliable transport: sync_ftfw.h. Sequence numbers compare in serial
 * arithmetic (RFC 1982): a - b as int32_t.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sync_ftfw.h"

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

int sync_ftfw_init(struct sync_ftfw *f, uint32_t id, uint8_t workers, const uint32_t *addrs,
		   unsigned int n, const struct sync_io *io)
{
	memset(f, 0, sizeof(*f));
	f->txbuf = calloc(SYNC_TXBUF, sizeof(*f->txbuf));
	if (!f->txbuf)
		return -ENOMEM;
	f->io = *io;
	f->id = id;
	f->workers = workers;
	f->tx_next = 1;
	f->n_peers = n < CFG_SYNC_MAX_PEERS ? n : CFG_SYNC_MAX_PEERS;
	for (unsigned int i = 0; i < f->n_peers; i++)
		f->peers[i] = (struct sync_peer){.addr = addrs[i], .tx_acked = 0};
	return 0;
}

void sync_ftfw_fini(struct sync_ftfw *f)
{
	free(f->txbuf);
	f->txbuf = NULL;
}

static void send_to(struct sync_ftfw *f, const struct sync_peer *p, const void *buf, size_t len)
{
	if (f->io.send(f->io.arg, p->addr, buf, len) < 0)
		f->c[SYNC_C_TX_ERRORS]++;
}

static void send_ctl(struct sync_ftfw *f, struct sync_peer *p, uint8_t type, uint32_t seq,
		     uint32_t ack)
{
	struct sync_hdr h = {
		.type = type, .workers = f->workers, .sender = f->id, .seq = seq, .ack = ack};
	uint8_t buf[SYNC_HDR_LEN];

	sync_encode(&h, NULL, buf, sizeof(buf));
	send_to(f, p, buf, sizeof(buf));
}

static void send_ack(struct sync_ftfw *f, struct sync_peer *p, uint64_t now_ms)
{
	p->ack_ms = now_ms;
	// The seq field names the stream acknowledged (its sender id): a peer that hails us
	// stops when it sees its own id (sync_ftfw_input()).
	send_ctl(f, p, SYNC_MSG_ACK, p->rx_known ? p->rx_sender : 0, p->rx_expect - 1);
	f->c[SYNC_C_TX_ACKS]++;
	p->rx_unacked = 0;
}

static void send_data(struct sync_ftfw *f, struct sync_peer *p, const struct sync_txd *d)
{
	send_to(f, p, d->buf, d->len);
	f->c[SYNC_C_TX_DATAGRAMS]++;
	f->c[SYNC_C_TX_RECORDS] += (d->len - SYNC_HDR_LEN) / SYNC_REC_LEN;
}

/* Peer @p p needs datagrams no longer kept: everything again, and nothing to resend. */
static void bulk(struct sync_ftfw *f, struct sync_peer *p)
{
	p->tx_acked = f->tx_next - 1;
	f->c[SYNC_C_BULK_RESYNCS]++;
	f->io.bulk(f->io.arg);
}

void sync_ftfw_flush(struct sync_ftfw *f, uint64_t now_ms)
{
	struct sync_hdr h = {.type = SYNC_MSG_DATA, .workers = f->workers, .sender = f->id};
	struct sync_txd *d;
	int len;

	if (f->n_pend == 0)
		return;
	h.seq = f->tx_next++;
	h.count = (uint16_t)f->n_pend;
	d = &f->txbuf[h.seq % SYNC_TXBUF];
	len = sync_encode(&h, f->pend, d->buf, sizeof(d->buf));
	f->n_pend = 0;
	if (len < 0) {
		d->len = 0;
		return;
	}
	d->seq = h.seq;
	d->len = (uint16_t)len;
	for (unsigned int i = 0; i < f->n_peers; i++) {
		struct sync_peer *p = &f->peers[i];
		if (p->tx_acked == h.seq - 1) // the first unacknowledged: its timer starts
			p->tx_progress_ms = now_ms;
		send_data(f, p, d);
	}
}

void sync_ftfw_add(struct sync_ftfw *f, const struct sync_rec *r, uint64_t now_ms)
{
	f->pend[f->n_pend++] = *r;
	if (f->n_pend == SYNC_MAX_RECS)
		sync_ftfw_flush(f, now_ms);
}

/* Send again the datagrams @p from .. @p to (included) to @p p, at most @p max; a bulk if one
 * is gone. */
static void resend(struct sync_ftfw *f, struct sync_peer *p, uint32_t from, uint32_t to,
		   unsigned int max)
{
	for (uint32_t s = from; seq_diff(s, to) <= 0 && max > 0; s++, max--) {
		const struct sync_txd *d = &f->txbuf[s % SYNC_TXBUF];
		if (d->len == 0 || d->seq != s) {
			bulk(f, p);
			return;
		}
		send_data(f, p, d);
		f->c[SYNC_C_TX_RESENDS]++;
	}
}

static void on_data(struct sync_ftfw *f, struct sync_peer *p, const struct sync_hdr *h,
		    const struct sync_rec *recs, uint64_t now_ms)
{
	int32_t d;

	if (!p->rx_known || h->sender != p->rx_sender) {
		// A peer we have not heard from since it (or we) started: its stream starts here.
		// Its hello may have been lost, and our ACKs will now name its id, which stops its
		// hailing: it gets our table now.
		p->rx_known = true;
		p->rx_sender = h->sender;
		p->rx_expect = h->seq;
		p->rx_high = h->seq - 1;
		bulk(f, p);
	}
	f->c[SYNC_C_RX_DATAGRAMS]++;
	f->c[SYNC_C_RX_RECORDS] += h->count;
	d = seq_diff(h->seq, p->rx_expect);
	if (d > 0 && seq_diff(h->seq, p->rx_high + 1) > 0) {
		// A gap: ask for what is missing since the last seen; the in-order prefix stays
		// where it is, so a lost NACK is repaired by the sender's timeout.
		uint32_t lo =
			seq_diff(p->rx_high, p->rx_expect) >= 0 ? p->rx_high + 1 : p->rx_expect;
		send_ctl(f, p, SYNC_MSG_NACK, lo, h->seq - 1);
		f->c[SYNC_C_TX_NACKS]++;
	}
	if (seq_diff(h->seq, p->rx_high) > 0)
		p->rx_high = h->seq;
	if (d == 0)
		p->rx_expect++;
	if (h->workers != f->workers)
		f->c[SYNC_C_RX_WRONG_WORKERS] += h->count;
	else
		for (unsigned int i = 0; i < h->count; i++)
			f->io.deliver(f->io.arg, &recs[i]);
	if (p->rx_unacked++ == 0)
		p->rx_unacked_ms = now_ms;
	if (p->rx_unacked >= SYNC_ACK_EVERY)
		send_ack(f, p, now_ms);
}

void sync_ftfw_input(struct sync_ftfw *f, uint32_t addr, const void *buf, size_t len,
		     uint64_t now_ms)
{
	static struct sync_rec recs[SYNC_MAX_RECS];
	struct sync_peer *p = NULL;
	struct sync_hdr h;

	for (unsigned int i = 0; i < f->n_peers; i++)
		if (f->peers[i].addr == addr)
			p = &f->peers[i];
	if (!p) {
		f->c[SYNC_C_RX_UNKNOWN_PEER]++;
		return;
	}
	if (sync_decode(buf, len, &h, recs) < 0) {
		f->c[SYNC_C_RX_BAD]++;
		return;
	}
	p->heard = true;
	p->heard_ms = now_ms;
	switch (h.type) {
	case SYNC_MSG_DATA:
		on_data(f, p, &h, recs, now_ms);
		break;
	case SYNC_MSG_ACK:
		f->c[SYNC_C_RX_ACKS]++;
		if (h.seq == f->id)
			p->hello_done = true; // it knows this incarnation: no more hellos
		if (seq_diff(h.ack, p->tx_acked) > 0 && seq_diff(h.ack, f->tx_next - 1) <= 0) {
			p->tx_acked = h.ack;
			p->tx_progress_ms = now_ms;
		}
		break;
	case SYNC_MSG_NACK:
		f->c[SYNC_C_RX_NACKS]++;
		// seq..ack, inside what was sent (anything else is a confused or hostile peer);
		// wider than the buffer, its start is gone: a bulk.
		if (seq_diff(h.ack, h.seq) < 0 || seq_diff(h.ack, f->tx_next - 1) > 0)
			break;
		if (seq_diff(h.ack, h.seq) >= SYNC_TXBUF)
			bulk(f, p);
		else
			resend(f, p, h.seq, h.ack, SYNC_TXBUF);
		break;
	case SYNC_MSG_HELLO:
		// The peer (re)started: its stream starts at h.seq, and it needs all of ours.
		p->rx_known = true;
		p->rx_sender = h.sender;
		p->rx_expect = h.seq;
		p->rx_high = h.seq - 1;
		p->rx_unacked = 0;
		bulk(f, p);
		send_ack(f, p, now_ms); // names its id: its hailing stops
		break;
	default:
		break;
	}
}

void sync_ftfw_timer(struct sync_ftfw *f, uint64_t now_ms)
{
	for (unsigned int i = 0; i < f->n_peers; i++) {
		struct sync_peer *p = &f->peers[i];

		if (p->heard && now_ms - p->heard_ms >= SYNC_DEAD_MS) {
			// Silent: nothing to resend to it; hail it until it answers.
			p->heard = false;
			p->hello_done = false;
			p->tx_acked = f->tx_next - 1;
		}
		// Until the peer answers with an ACK that names this incarnation (hearing anything
		// else from it is not enough: our hello may have been lost while its own reached us).
		if (!p->hello_done && (p->hello_ms == 0 || now_ms - p->hello_ms >= SYNC_HELLO_MS)) {
			send_ctl(f, p, SYNC_MSG_HELLO, f->tx_next, 0);
			f->c[SYNC_C_HELLOS]++;
			p->hello_ms = now_ms ? now_ms : 1;
		}
		if ((p->rx_unacked && now_ms - p->rx_unacked_ms >= SYNC_ACK_DELAY_MS) ||
		    (p->heard && now_ms - p->ack_ms >= SYNC_HELLO_MS))
			send_ack(f, p, now_ms);
		if (p->heard && p->tx_acked != f->tx_next - 1 &&
		    now_ms - p->tx_progress_ms >= SYNC_RTO_MS) {
			p->tx_progress_ms = now_ms;
			resend(f, p, p->tx_acked + 1, f->tx_next - 1, SYNC_RESEND_BURST);
		}
	}
}
