/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The published tables, as the data plane and the control plane share them: the one pointer,
 * its publication with an RCU grace period, and the lookups. The control plane builds them
 * (cp/tables_build.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include <strait/maglev.h>
#include <strait/tables.h>

struct tables *_Atomic tables_current;

bool tables_reuse_maglev = true;
bool tables_share_layout = true;

/* A Maglev table's allocation: this header, then its size entries. */
struct maglev_blk {
	uint64_t key;  /* tables_backends_key() of the backend list it was built from */
	uint32_t refs; /* services (of any tables) that point to it */
	uint32_t size; /* entries: the mapping's table size (maglev.h) */
	uint16_t table[];
};

static struct maglev_blk *blk_of(const uint16_t *m)
{
	return (struct maglev_blk *)(uintptr_t)((const char *)m -
						offsetof(struct maglev_blk, table));
}

uint16_t *tables_maglev_alloc(uint64_t key, uint32_t size)
{
	struct maglev_blk *b;

	if (size == 0 || size > MAGLEV_TABLE_SIZE)
		return NULL;
	b = malloc(sizeof(*b) + size * sizeof(uint16_t));
	if (!b)
		return NULL;
	b->key = key;
	b->refs = 1;
	b->size = size;
	return b->table;
}

uint32_t tables_maglev_size(const uint16_t *m)
{
	return blk_of(m)->size;
}

void tables_maglev_get(uint16_t *m)
{
	blk_of(m)->refs++;
}

void tables_maglev_put(uint16_t *m)
{
	struct maglev_blk *b;

	if (!m)
		return;
	b = blk_of(m);
	if (--b->refs == 0)
		free(b);
}

uint64_t tables_maglev_key(const uint16_t *m)
{
	return blk_of(m)->key;
}

uint32_t tables_maglev_refs(const uint16_t *m)
{
	return blk_of(m)->refs;
}

uint64_t tables_backends_key(const struct tbl_backend *b, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t w = (uint64_t)b[i].addr << 32 | (uint64_t)b[i].port << 16 | b[i].weight;
		h ^= w;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	return h;
}

void tables_free(struct tables *t)
{
	if (!t)
		return;
	// A service table shared with other generations (svc_refs) goes with the last of them.
	if (!t->svc_refs || --*t->svc_refs == 0) {
		if (t->svc)
			rte_hash_free(t->svc);
		free(t->svc_refs);
	}
	for (uint32_t i = 0; i < t->n_services; i++)
		tables_maglev_put(t->services[i].maglev);
	free(t->services);
	if (!t->mappings_refs || --*t->mappings_refs == 0) {
		free(t->mappings);
		free(t->mappings_refs);
	}
	free(t->backends);
	free(t->rules);
	free(t->vips);
	free(t->vip_slots);
	if (!t->slots_refs || --*t->slots_refs == 0) {
		free(t->slot_timeouts);
		free(t->slot_mss_clamp);
		free(t->slots_refs);
	}
	free(t);
}

void tables_publish(struct tables *t, struct rte_rcu_qsbr *qsv)
{
	struct tables *old = atomic_exchange_explicit(&tables_current, t, memory_order_acq_rel);

	// After the grace period no worker can still hold `old`: each has passed a quiescent
	// state, which it reports only after dropping its per-iteration snapshot.
	if (qsv)
		rte_rcu_qsbr_synchronize(qsv, RTE_QSBR_THRID_INVALID);
	tables_free(old);
}

const struct tbl_service *tables_svc_lookup(const struct tables *t, rte_be32_t addr,
					    rte_be16_t port, uint8_t proto)
{
	struct tbl_svc_key k = {.addr = addr, .port = port, .proto = proto};
	void *data;

	if (rte_hash_lookup_data(t->svc, &k, &data) < 0)
		return NULL;
	return &t->services[(uintptr_t)data];
}

int tables_vips_index(struct tables *t)
{
	uint32_t size = 8, n = 0;
	rte_be32_t *slots;

	while (size < 2 * (uint64_t)t->n_vips)
		size *= 2;
	// Zeroed by writing: the probes read it first (maglev_build()'s `taken`, common/maglev.c).
	slots = malloc(size * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	explicit_bzero(slots, size * sizeof(*slots));
	for (uint32_t i = 0; i < t->n_vips; i++) {
		rte_be32_t a = t->vips[i];
		uint32_t j = tables_vip_hash(a) & (size - 1);

		if (a == 0)
			continue;
		while (slots[j] != 0 && slots[j] != a)
			j = (j + 1) & (size - 1);
		if (slots[j] == a)
			continue; // a duplicate
		slots[j] = a;
		t->vips[n++] = a;
	}
	free(t->vip_slots);
	t->vip_slots = slots;
	t->vip_mask = size - 1;
	t->n_vips = n;
	return 0;
}

int tables_mapping_find(const struct tables *t, const char *ns, const char *name)
{
	for (uint32_t i = 0; i < t->n_mappings; i++)
		if (strcmp(t->mappings[i].name, name) == 0 && strcmp(t->mappings[i].ns, ns) == 0)
			return (int)i;
	return -1;
}
