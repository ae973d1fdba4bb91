/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Desired state. Mappings from every source live in one list; any change builds a whole new
 * table set from it, which makes "what is published" a pure function of "what is desired",
 * which is what a reconciler wants. A resync's unchanged mappings are not built again: the
 * build copies their entries from the published generation (tables_build_from(), equal to a
 * build from scratch byte for byte), so that a publication at 10,000 mappings costs what
 * changed plus block copies.
 */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_prefetch.h>

#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/log.h>
#include <strait/tables.h>

#include "cp_priv.h"
#include "maglev_pool.h"

struct entry {
	// Before the mapping, with its first bytes: read of every entry when st.keys is stale.
	enum cp_source src;
	uint64_t id; /**< cp_mappings_replace_ids(): the id m came with, 0 = none */
	struct cfg_mapping m;
};

/* What the walks of cp_mappings_replace_ids() read of every entry (its source and id), kept
 * in an array beside st.maps: read through the entries, a walk over 10,000 of them is a miss
 * each, and three walks a publication were a tenth of a single change's CPU. */
struct entry_key {
	uint64_t id; /**< the entry's id */
	enum cp_source src;
};

/* How far ahead a walk over the entries (st.maps) prefetches: each is its own allocation, so
 * the walk over 10,000 of them is a miss each, which the hardware does not see coming. */
#define WALK_AHEAD 8

/* Prefetch entry @p i + WALK_AHEAD of @p e (@p n entries): its first line (src, id, the
 * mapping's counts), what keys_get() reads of every entry. */
static inline void entry_prefetch(struct entry *const *e, unsigned int n, int64_t i)
{
	if (i >= 0 && i + WALK_AHEAD < n)
		rte_prefetch0(e[i + WALK_AHEAD]);
}

unsigned long cp_state_compared;
unsigned long cp_state_names_indexed;

/*
 * Counter slots: each mapping (namespace/name) has one while it is published, stable across
 * publishes. When it is no longer published its sessions are cleared (asynchronously, in the
 * workers) and the workers zero its counters; when that clear is done the slot is free again
 * and serves the next new mapping from zero. A mapping whose name comes back while its old
 * slot still drains gets another slot (the pending clear would otherwise remove its sessions).
 */
enum slot_state { SLOT_FREE = 0, SLOT_USED, SLOT_DRAINING };
struct slot {
	char name[2 * CFG_NAME_MAX];
	uint8_t state;	 /**< enum slot_state */
	uint64_t ticket; /**< DRAINING: the clear of its sessions */
};

/* The USED slots by name: hash chains of slot index + 1 (0 ends a chain, so that the zeroed
 * state is an empty index). A build asks for every mapping's slot: a scan of the slots for
 * each would cost mappings x slots string compares per publication. */
#define SLOT_IX_SIZE (2 * CFG_MAX_MAPPINGS)

static struct {
	struct cfg cfg;
	/* one allocation each, so that a publication moves the unchanged ones by pointer (10,000
	 * mappings of ~2.3 KB at the scale: 23 MB copied and compared otherwise) */
	struct entry **maps;
	unsigned int n, cap;
	/* maps[i]'s source and id while keys_valid (cp_mappings_replace_ids() makes it so, every
	 * other change of maps undoes it), st.n entries */
	struct entry_key *keys;
	bool keys_valid;
	uint64_t generation;
	/* the tables this state last published, built from maps[0, n) in that order (until the
	 * next publication): what a build takes unchanged mappings' entries from */
	const struct tables *published;
	struct slot slots[CFG_MAX_MAPPINGS];
	unsigned int n_slots; /**< slots [0, n_slots) have been used */
	/** a slot was taken since the last slots_sweep(): it may belong to no published mapping
	 *  (a failed or trial build's) */
	bool slots_taken;
	uint16_t slot_head[SLOT_IX_SIZE];
	uint16_t slot_next[CFG_MAX_MAPPINGS];
} st;

/* snprintf(buf, size, "%s/%s", ns, name) without the format engine: a publication forms
 * every mapping's key (10,000 at the scale), twice. */
static void ns_key(char *buf, size_t size, const char *ns, const char *name)
{
	size_t at = 0;

	// Byte loops, not strnlen() + memcpy(): GCC's -O3 release build checks strnlen()'s
	// bound against the source array (-Wstringop-overread: ns is 64 bytes, buf 128).
	for (; *ns != '\0' && at < size - 1; ns++)
		buf[at++] = *ns;
	if (at < size - 1)
		buf[at++] = '/';
	for (; *name != '\0' && at < size - 1; name++)
		buf[at++] = *name;
	buf[at] = '\0';
}

/* FNV-1a of @p key. */
static uint32_t name_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h;
}

/* The hash of mapping @p ns/@p name. */
static uint32_t map_hash(const char *ns, const char *name)
{
	return name_hash(ns) * 31u ^ name_hash(name);
}

/* Slot @p i became USED under its name: index it. */
static void slot_index_add(unsigned int i)
{
	uint32_t h = name_hash(st.slots[i].name) % SLOT_IX_SIZE;

	st.slot_next[i] = st.slot_head[h];
	st.slot_head[h] = (uint16_t)(i + 1);
}

/* Slot @p i is no longer USED: drop it from the index. */
static void slot_index_del(unsigned int i)
{
	uint16_t *p = &st.slot_head[name_hash(st.slots[i].name) % SLOT_IX_SIZE];

	while (*p && *p != i + 1)
		p = &st.slot_next[*p - 1];
	if (*p)
		*p = st.slot_next[i];
}

const struct cfg *cp_config(void)
{
	return &st.cfg;
}

uint64_t cp_generation(void)
{
	return st.generation;
}

unsigned int cp_mapping_count(void)
{
	return st.n;
}

const struct cfg_mapping *cp_mapping_at(unsigned int i, enum cp_source *src)
{
	if (i >= st.n)
		return NULL;
	if (src)
		*src = st.maps[i]->src;
	return &st.maps[i]->m;
}

static int slot_find(const char *key)
{
	for (uint16_t i = st.slot_head[name_hash(key) % SLOT_IX_SIZE]; i; i = st.slot_next[i - 1])
		if (st.slots[i - 1].state == SLOT_USED && strcmp(st.slots[i - 1].name, key) == 0)
			return (int)i - 1;
	return -1;
}

/* Free the draining slots whose clear is done. */
static void slots_reclaim(void)
{
	uint64_t upto = dp_sessions_clear_poll();

	for (unsigned int i = 0; i < st.n_slots; i++)
		if (st.slots[i].state == SLOT_DRAINING && st.slots[i].ticket <= upto)
			st.slots[i].state = SLOT_FREE;
}

int cp_slot_of(const char *ns, const char *name)
{
	char key[2 * CFG_NAME_MAX];
	int i;

	ns_key(key, sizeof(key), ns, name);
	if ((i = slot_find(key)) >= 0)
		return i;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int j = 0; j < st.n_slots; j++) {
			if (st.slots[j].state != SLOT_FREE)
				continue;
			st.slots[j].state = SLOT_USED;
			snprintf(st.slots[j].name, sizeof(st.slots[j].name), "%s", key);
			slot_index_add(j);
			st.slots_taken = true;
			return (int)j;
		}
		if (st.n_slots < CFG_MAX_MAPPINGS) {
			struct slot *sl = &st.slots[st.n_slots];
			sl->state = SLOT_USED;
			snprintf(sl->name, sizeof(sl->name), "%s", key);
			slot_index_add(st.n_slots);
			st.slots_taken = true;
			return (int)st.n_slots++;
		}
		slots_reclaim(); // all taken: some may have finished draining
	}
	return -1;
}

int cp_slot_find(const char *ns, const char *name)
{
	char key[2 * CFG_NAME_MAX];

	ns_key(key, sizeof(key), ns, name);
	return slot_find(key);
}

int cp_slot_state(int slot)
{
	if (slot < 0 || slot >= CFG_MAX_MAPPINGS || (unsigned int)slot >= st.n_slots)
		return 0;
	return st.slots[slot].state;
}

unsigned int cp_slots_in_use(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < st.n_slots; i++)
		n += st.slots[i].state != SLOT_FREE;
	return n;
}

/* A clear of the state's own making: RSTs as the config says. */
static uint64_t clear_start(struct dp_clear_req *r)
{
	r->rst = st.cfg.reset_on_backend_removal;
	uint64_t t = dp_sessions_clear_start(r);
	if (!t)
		CP_LOG(ERR, "out of memory: sessions of slot %d not cleared", r->slot);
	return t;
}

/*
 * Slots of mappings that are no longer published (deleted, or allocated for a build that
 * failed) start draining: their sessions are cleared, then their counters zeroed. After every
 * change, once st.maps is what was published.
 */
static void slots_sweep(void)
{
	static bool live[CFG_MAX_MAPPINGS];
	char key[2 * CFG_NAME_MAX];

	st.slots_taken = false;
	memset(live, 0, sizeof(live));
	for (unsigned int i = 0; i < st.n; i++) {
		ns_key(key, sizeof(key), st.maps[i]->m.ns, st.maps[i]->m.name);
		int s = slot_find(key);
		if (s >= 0)
			live[s] = true;
	}
	for (unsigned int i = 0; i < st.n_slots; i++) {
		if (st.slots[i].state != SLOT_USED || live[i])
			continue;
		struct dp_clear_req r = {.slot = (int)i, .zero_slot = true};
		uint64_t t = clear_start(&r);
		if (!t)
			continue; // stays USED: the next sweep tries again
		slot_index_del(i);
		st.slots[i].state = SLOT_DRAINING;
		st.slots[i].ticket = t;
	}
	slots_reclaim();
}

static bool same_cidrs(const struct cfg_mapping *a, const struct cfg_mapping *b)
{
	if (a->n_allowed != b->n_allowed)
		return false;
	for (unsigned int i = 0; i < a->n_allowed; i++)
		if (a->allowed[i].addr != b->allowed[i].addr ||
		    a->allowed[i].len != b->allowed[i].len)
			return false;
	return true;
}

static bool same_ports(const struct cfg_mapping *a, const struct cfg_mapping *b)
{
	if (a->n_ports != b->n_ports || a->n_addrs != b->n_addrs)
		return false;
	for (unsigned int i = 0; i < a->n_ports; i++)
		if (a->ports[i].port != b->ports[i].port ||
		    a->ports[i].end_port != b->ports[i].end_port ||
		    a->ports[i].proto != b->ports[i].proto)
			return false;
	for (unsigned int i = 0; i < a->n_addrs; i++)
		if (a->addrs[i] != b->addrs[i])
			return false;
	return true;
}

/*
 * A published mapping went from @p old to @p now (same namespace and name): clear what it no
 * longer wants. A backend that is gone (deleted endpoint: a draining one is still in @p now)
 * loses its UDP sessions, and its TCP ones unless removeOrphanSessions is false; sessions
 * from a source the allow-list no longer admits, or to an address or port no longer mapped,
 * are cleared. Enqueued: the workers do it in bounded steps, nothing waits here.
 */
static void clear_changes(const struct cfg_mapping *old, const struct cfg_mapping *now)
{
	char key[2 * CFG_NAME_MAX];
	int slot;

	ns_key(key, sizeof(key), now->ns, now->name);
	if ((slot = slot_find(key)) < 0)
		return;
	bool same = old->n_backends == now->n_backends;
	for (unsigned int b = 0; same && b < old->n_backends; b++)
		same = old->backends[b].addr == now->backends[b].addr;
	for (unsigned int b = 0; !same && b < old->n_backends; b++) {
		// A reject backend (address 0, Gateway API) holds no session; and backend_addr 0
		// would mean every backend of the slot.
		bool kept = old->backends[b].addr == 0;
		for (unsigned int c = 0; c < now->n_backends && !kept; c++)
			kept = now->backends[c].addr == old->backends[b].addr;
		if (kept)
			continue;
		struct dp_clear_req r = {.slot = slot,
					 .backend_addr = old->backends[b].addr,
					 .proto = now->remove_orphan_sessions ? 0 : IPPROTO_UDP};
		clear_start(&r);
	}
	if (same_cidrs(old, now) && same_ports(old, now))
		return;
	struct dp_clear_req r = {.slot = slot,
				 .keep = true,
				 .n_allowed = now->n_allowed,
				 .n_addrs = now->n_addrs,
				 .n_ports = now->n_ports};
	memcpy(r.allowed, now->allowed, now->n_allowed * sizeof(r.allowed[0]));
	memcpy(r.addrs, now->addrs, now->n_addrs * sizeof(r.addrs[0]));
	for (unsigned int i = 0; i < now->n_ports; i++) {
		r.ports[i].lo = now->ports[i].port;
		r.ports[i].hi =
			now->ports[i].end_port ? now->ports[i].end_port : now->ports[i].port;
		r.ports[i].proto = now->ports[i].proto;
	}
	clear_start(&r);
}

/* Build from @p maps (n) and publish; on failure nothing changes. @p prev_of: NULL, or for
 * each of @p maps the index in st.maps of an equal mapping (byte for byte), whose entry in the
 * published tables the build copies instead of building it (tables_build_from()), or -1. */
static int publish(struct entry *const *maps, unsigned int n, const int32_t *prev_of, char *err,
		   size_t errlen)
{
	const struct cfg_mapping **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	const struct tables *prev = tables_get();
	struct tables *t;

	if (!ptrs)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		ptrs[i] = &maps[i]->m;
	// Only the tables this state built from st.maps: st.maps[j] built prev->mappings[j].
	if (!prev || prev != st.published || prev->n_mappings != st.n)
		prev_of = NULL;
	t = tables_build_from(&st.cfg, ptrs, n, cp_slot_of, prev, prev_of, st.generation + 1, NULL,
			      err, errlen);
	free(ptrs);
	if (!t)
		return -errno;
	st.generation++;
	tables_publish(t, dp_qsbr());
	st.published = t;
	CP_LOG(INFO, "tables generation %lu published: %u mappings", (unsigned long)st.generation,
	       n);
	return 0;
}

/* publish() of the list as it is, after a change of the config only (timeouts, the addresses
 * a kernel TAP holds: an HA takeover): every entry from the published tables, which the build
 * takes unless the global timeouts changed. */
static int publish_same(char *err, size_t errlen)
{
	int32_t *same = malloc((st.n + 1) * sizeof(*same));
	int rc;

	for (unsigned int i = 0; same && i < st.n; i++)
		same[i] = (int32_t)i;
	rc = publish(st.maps, st.n, same, err, errlen); // NULL: every entry built
	free(same);
	return rc;
}

/* A copy of @p m from @p src in an allocation of its own, or NULL (no memory). */
static struct entry *entry_new(enum cp_source src, const struct cfg_mapping *m)
{
	struct entry *e = malloc(sizeof(*e));

	if (e && cfg_mapping_copy(&e->m, m) < 0) {
		free(e);
		return NULL;
	}
	if (e) {
		e->src = src;
		e->id = 0;
	}
	return e;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	cfg_mapping_free(&e->m);
	free(e);
}

static int find(const char *ns, const char *name)
{
	for (unsigned int i = 0; i < st.n; i++)
		if (strcmp(st.maps[i]->m.name, name) == 0 && strcmp(st.maps[i]->m.ns, ns) == 0)
			return (int)i;
	return -1;
}

static int reserve(unsigned int n)
{
	if (n <= st.cap)
		return 0;
	unsigned int cap = st.cap ? st.cap : 16;
	while (cap < n)
		cap *= 2;
	struct entry **e = realloc(st.maps, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	st.maps = e;
	st.cap = cap;
	return 0;
}

int cp_state_init(struct cfg *c, char *err, size_t errlen)
{
	// Every publication allocates and frees arrays of tens of MB at thousands of mappings
	// (the desired mappings, this state's list, the tables' arrays): above glibc's mmap
	// threshold each would be mapped afresh and paid for again in page faults (a third of a
	// publication's CPU at 10,000 mappings, cp_scale_bench). Keep them in the heap, and the
	// heap's freed top mapped: the control plane's memory stays at its peak instead.
	mallopt(M_MMAP_THRESHOLD, 512 << 20);
	mallopt(M_TRIM_THRESHOLD, 1024 << 20);
	memset(&st, 0, sizeof(st));
	st.cfg = *c;
	st.cfg.mappings = NULL;
	st.cfg.n_mappings = 0;
	int ret = cp_mappings_replace(CP_SRC_CONFIG, c->mappings, c->n_mappings, err, errlen);
	for (unsigned int i = 0; i < c->n_mappings; i++)
		cfg_mapping_free(&c->mappings[i]);
	free(c->mappings);
	c->mappings = NULL;
	c->n_mappings = 0;
	return ret;
}

void cp_state_fini(void)
{
	for (unsigned int i = 0; i < st.n; i++)
		entry_free(st.maps[i]);
	free(st.maps);
	free(st.keys);
	tables_publish(NULL, NULL);
	maglev_pool_stop();
	memset(&st, 0, sizeof(st)); // st.published too
}

int cp_mapping_upsert(enum cp_source src, const struct cfg_mapping *m, char *err, size_t errlen)
{
	int i = find(m->ns, m->name), ret;
	struct entry *old, *e;

	st.keys_valid = false; // st.maps changes here

	if (i >= 0 && st.maps[i]->src != src) {
		snprintf(err, errlen, "mapping %s is managed by another source (%s)", m->name,
			 st.maps[i]->src == CP_SRC_CONFIG ? "the config file"
			 : st.maps[i]->src == CP_SRC_K8S  ? "Kubernetes"
							  : "the CLI");
		return -EPERM;
	}
	if (!(e = entry_new(src, m)))
		return -ENOMEM;
	if (i < 0) {
		if ((ret = reserve(st.n + 1)) < 0) {
			entry_free(e);
			return ret;
		}
		i = (int)st.n;
		st.maps[i] = e;
		ret = publish(st.maps, st.n + 1, NULL, err, errlen);
		if (ret < 0) {
			entry_free(e);
			slots_sweep(); // the slot the failed build took
			return ret;
		}
		st.n++;
		slots_sweep();
		return 0;
	}
	old = st.maps[i];
	st.maps[i] = e;
	ret = publish(st.maps, st.n, NULL, err, errlen);
	if (ret < 0) {
		st.maps[i] = old;
		entry_free(e);
		return ret;
	}
	clear_changes(&old->m, m);
	entry_free(old);
	slots_sweep();
	return 0;
}

int cp_mapping_delete(enum cp_source src, const char *ns, const char *name)
{
	int i = find(ns, name);
	char err[256];

	if (i < 0 || st.maps[i]->src != src)
		return -ENOENT;
	st.keys_valid = false; // st.maps changes here
	struct entry *gone = st.maps[i];
	st.maps[i] = st.maps[st.n - 1];
	st.n--;
	if (publish(st.maps, st.n, NULL, err, sizeof(err)) < 0) {
		// Removing a mapping cannot create a conflict; only memory can fail here.
		st.maps[st.n++] = st.maps[i];
		st.maps[i] = gone;
		return -ENOMEM;
	}
	entry_free(gone);
	slots_sweep(); // its slot drains: sessions cleared, then counters zeroed
	return 0;
}

/* Whether @p a and @p b program the same: every byte of the struct (mappings are built from
 * zeroed structs, so padding is equal) and of the backends. */
static bool same_mapping(const struct cfg_mapping *a, const struct cfg_mapping *b)
{
	// The bytes before and after the backends pointer, in place: copying both structs to
	// clear it cost as much as the comparison (10,000 mappings a publication).
	const size_t at = offsetof(struct cfg_mapping, backends), after = at + sizeof(a->backends);

	if (a->n_backends != b->n_backends ||
	    (a->n_backends &&
	     memcmp(a->backends, b->backends, a->n_backends * sizeof(*a->backends))))
		return false;
	return memcmp(a, b, at) == 0 &&
	       memcmp((const char *)a + after, (const char *)b + after, sizeof(*a) - after) == 0;
}

/* Chained index of @p n entries by name (index + 1 chains, 0 ends): head[hash % size]. */
struct name_ix {
	unsigned int *head, *chain;
	uint32_t size;
};

static int name_ix_init(struct name_ix *x, struct entry *const *e, unsigned int n)
{
	x->size = 2 * n + 1;
	x->head = calloc(x->size, sizeof(*x->head));
	x->chain = calloc(n + 1, sizeof(*x->chain));
	if (!x->head || !x->chain)
		return -ENOMEM;
	cp_state_names_indexed += n;
	for (unsigned int j = 0; j < n; j++) {
		uint32_t h = map_hash(e[j]->m.ns, e[j]->m.name) % x->size;
		x->chain[j] = x->head[h];
		x->head[h] = j + 1;
	}
	return 0;
}

static void name_ix_fini(struct name_ix *x)
{
	free(x->head);
	free(x->chain);
}

/* The entry of @p e (indexed by @p x) named @p ns/@p name whose source is @p src, or -1. */
static int name_ix_find(const struct name_ix *x, struct entry *const *e, enum cp_source src,
			const char *ns, const char *name)
{
	for (unsigned int j = x->head[map_hash(ns, name) % x->size]; j; j = x->chain[j - 1])
		if (e[j - 1]->src == src && !strcmp(e[j - 1]->m.name, name) &&
		    !strcmp(e[j - 1]->m.ns, ns))
			return (int)j - 1;
	return -1;
}

/* st.keys, made from the entries when not valid. @return it, or NULL (no memory). */
static const struct entry_key *keys_get(void)
{
	struct entry_key *k;

	if (st.keys_valid)
		return st.keys;
	if (!(k = realloc(st.keys, (st.n + 1) * sizeof(*k))))
		return NULL;
	st.keys = k;
	for (unsigned int i = 0; i < st.n; i++) {
		entry_prefetch(st.maps, st.n, i);
		k[i].id = st.maps[i]->id;
		k[i].src = st.maps[i]->src;
	}
	st.keys_valid = true;
	return k;
}

int cp_mappings_replace(enum cp_source src, const struct cfg_mapping *maps, unsigned int n,
			char *err, size_t errlen)
{
	return cp_mappings_replace_ids(src, maps, NULL, n, err, errlen);
}

int cp_mappings_replace_ids(enum cp_source src, const struct cfg_mapping *maps, const uint64_t *ids,
			    unsigned int n, char *err, size_t errlen)
{
	// The list's capacity is what is allocated here: st.n changes below.
	unsigned int cap = st.n + n + 1;
	struct name_ix old_ix = {0}, new_ix = {0};
	bool *kept_old = NULL, *moved = NULL;
	int32_t *prev_of = NULL;
	struct entry **next;
	struct entry_key *nk = NULL; // next's keys (st.keys after)
	const struct entry_key *ok = keys_get();
	unsigned int k = 0, n_moved = 0;
	int ret = -ENOMEM;

	next = malloc(cap * sizeof(*next));
	if (!next || !ok || !(nk = malloc(cap * sizeof(*nk)))) {
		free(next);
		return -ENOMEM;
	}
	// The old entries by name, so that a mapping that is unchanged (most of them, when one
	// object of thousands changed) moves over as it is instead of being copied, and its
	// entry in the published tables too (prev_of: where it was in st.maps).
	if (!(kept_old = calloc(st.n + 1, sizeof(*kept_old))) ||
	    !(moved = calloc(cap, sizeof(*moved))) || !(prev_of = malloc(cap * sizeof(*prev_of))))
		goto undo;
	for (unsigned int i = 0; i < st.n; i++)
		if (ok[i].src != src) {
			prev_of[k] = (int32_t)i;
			nk[k] = ok[i];
			next[k++] = st.maps[i];
		}
	unsigned int kept = k;
	// A desired set in the order of the last one (the reconcile's is: kinds, then cache
	// order) matches by position: maps[i] is st.maps[i + off], where this source's entries
	// start, or the index finds it (and the offset follows).
	int64_t off = 0;
	while (off < st.n && ok[off].src != src)
		off++;
	for (unsigned int i = 0; i < n; i++) {
		const int64_t g = (int64_t)i + off;
		const uint64_t id = ids ? ids[i] : 0;
		int j = -1;

		nk[k].id = id;
		nk[k].src = src;
		// The same id where the order puts it: the same bytes, nothing to compare (nor
		// read: the entry moves by pointer).
		if (id && g >= 0 && g < st.n && ok[g].id == id && ok[g].src == src &&
		    !kept_old[g]) {
			prev_of[k] = (int32_t)g;
			next[k] = st.maps[g];
			kept_old[g] = moved[k++] = true;
			n_moved++;
			continue;
		}
		if (g >= 0 && g < st.n && ok[g].src == src && !kept_old[g] &&
		    !strcmp(st.maps[g]->m.name, maps[i].name) &&
		    !strcmp(st.maps[g]->m.ns, maps[i].ns)) {
			j = (int)g;
		} else {
			if (!old_ix.head && name_ix_init(&old_ix, st.maps, st.n) < 0)
				goto undo;
			j = name_ix_find(&old_ix, st.maps, src, maps[i].ns, maps[i].name);
			if (j >= 0)
				off = j - (int64_t)i;
		}
		if (j >= 0 && !kept_old[j] && (cp_state_compared++, true) &&
		    same_mapping(&st.maps[j]->m, &maps[i])) {
			prev_of[k] = j;
			next[k] = st.maps[j];
			next[k]->id = id; // the same bytes: this id names them too
			kept_old[j] = moved[k++] = true;
			n_moved++;
			continue;
		}
		if (!(next[k] = entry_new(src, &maps[i]))) {
			ret = -ENOMEM;
			goto undo;
		}
		next[k]->id = id;
		prev_of[k++] = -1;
	}
	ret = publish(next, k, prev_of, err, errlen);
	if (ret < 0)
		goto undo;
	// As cp_mapping_upsert/delete do: a mapping that is gone drains its slot (slots_sweep),
	// one that stays loses the sessions it no longer wants (a resync is how Kubernetes
	// removes endpoints); one that moved over unchanged has nothing to lose. The new entries
	// by name, so that matching each old mapping costs one lookup, not a scan of the new list;
	// for a few, the scan of the new entries that were copied (the only ones that can match).
	// Gone: this source's old entries (all but the `kept` of the others) not moved over,
	// each moved at most once (kept_old): counted, not walked for.
	const unsigned int n_gone = st.n - kept - n_moved;
	unsigned int n_copied = 0;
	bool removed = false;
	// Only the copied entries can match (a moved one is its old self, which is kept): those
	// indexed, in a list of their own (copied_at: where each is in next), not all k.
	struct entry **copied = NULL;
	unsigned int *copied_at = NULL;
	bool have_ix = false;
	if (n_gone > 8 && (copied = malloc((k - kept + 1) * sizeof(*copied))) &&
	    (copied_at = malloc((k - kept + 1) * sizeof(*copied_at)))) {
		for (unsigned int jj = kept; jj < k; jj++)
			if (!moved[jj]) {
				copied_at[n_copied] = jj;
				copied[n_copied++] = next[jj];
			}
		have_ix = name_ix_init(&new_ix, copied, n_copied) == 0;
	}
	for (unsigned int i = 0; i < st.n; i++) {
		if (ok[i].src != src || kept_old[i])
			continue;
		const struct cfg_mapping *old = &st.maps[i]->m;
		int j = have_ix ? name_ix_find(&new_ix, copied, src, old->ns, old->name) : -1;
		if (j >= 0)
			j = (int)copied_at[j];
		for (unsigned int jj = kept; !have_ix && jj < k && j < 0; jj++)
			if (!moved[jj] && !strcmp(next[jj]->m.name, old->name) &&
			    !strcmp(next[jj]->m.ns, old->ns))
				j = (int)jj;
		if (j >= 0)
			clear_changes(old, &next[j]->m);
		removed |= j < 0;
		entry_free(st.maps[i]);
	}
	name_ix_fini(&new_ix);
	name_ix_fini(&old_ix);
	free(copied);
	free(copied_at);
	free(kept_old);
	free(moved);
	free(prev_of);
	free(st.maps);
	st.maps = next;
	st.n = k;
	st.cap = cap;
	free(st.keys);
	st.keys = nk;
	st.keys_valid = true;
	// Every published name kept its slot and no other slot was taken: none to drain.
	if (removed || st.slots_taken)
		slots_sweep();
	else
		slots_reclaim();
	return 0;
undo:
	for (unsigned int i = kept_old ? 0 : k; i < k; i++)
		if (next[i]->src == src && !moved[i])
			entry_free(next[i]);
	name_ix_fini(&old_ix);
	free(kept_old);
	free(moved);
	free(prev_of);
	free(next);
	free(nk);
	st.keys_valid = false; // entries may have taken their new ids
	slots_sweep();
	return ret;
}

int cp_timeout_set(const char *which, uint32_t seconds)
{
	char err[256];
	struct cfg_timeouts saved = st.cfg.timeouts;
	uint32_t *to = cfg_timeout_by_word(&st.cfg.timeouts, which);

	if (seconds == 0 || seconds > 86400 * 7 || to == NULL)
		return -EINVAL;
	*to = seconds;
	if (publish_same(err, sizeof(err)) < 0) {
		st.cfg.timeouts = saved;
		return -EINVAL;
	}
	return 0;
}

int cp_state_set_held(unsigned int port, const uint32_t *addrs, unsigned int n)
{
	struct cfg_port *p = port == 0 ? &st.cfg.ext : port == 1 ? &st.cfg.intl : NULL;
	uint32_t saved[CFG_MAX_HELD];
	unsigned int n_saved;
	char err[256];
	int rc;

	if (!p || n > CFG_MAX_HELD)
		return -EINVAL;
	if (n == p->n_held && (n == 0 || memcmp(addrs, p->held, n * sizeof(*addrs)) == 0))
		return 0;
	n_saved = p->n_held;
	memcpy(saved, p->held, sizeof(saved));
	if (n > 0) // addrs may be NULL when there are none
		memcpy(p->held, addrs, n * sizeof(*addrs));
	p->n_held = n;
	if ((rc = publish_same(err, sizeof(err))) < 0) {
		CP_LOG(ERR, "kernel addresses of %s: %s", port == 0 ? "ext" : "int", err);
		memcpy(p->held, saved, sizeof(saved));
		p->n_held = n_saved;
		return rc;
	}
	return 1;
}

int cp_reload(char *err, size_t errlen)
{
	struct cfg c;
	int ret;

	if (st.cfg.path[0] == '\0' || strcmp(st.cfg.path, "<embedded>") == 0) {
		snprintf(err, errlen, "running on the embedded config: nothing to reload");
		return -EINVAL;
	}
	ret = cfg_load_file(st.cfg.path, &c, err, errlen);
	if (ret < 0)
		return ret;
	ret = cp_reload_from(&c, err, errlen);
	cfg_free(&c);
	return ret;
}

int cp_reload_from(const struct cfg *c, char *err, size_t errlen)
{
	int ret = cp_mappings_replace(CP_SRC_CONFIG, c->mappings, c->n_mappings, err, errlen);

	if (ret < 0)
		return ret;
	// What the Kubernetes reconcile pass reads from the config (cp/k8s.c reconcile()): the
	// Kubernetes module's reload, after this one, checks every object again.
	memcpy(st.cfg.pools, c->pools, sizeof(st.cfg.pools));
	st.cfg.n_pools = c->n_pools;
	st.cfg.k8s.require_pools = c->k8s.require_pools;
	st.cfg.k8s.limits = c->k8s.limits;
	return 0;
}

static int state_module_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	char e[512];
	int ret = cp_state_init(ctx->cfg, e, sizeof(e));

	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", cp_config()->path, e);
		// A conflict between the config file's mappings is a config error (exit code 2).
		return ret == -EEXIST ? -EINVAL : ret;
	}
	return 0;
}

void cp_state_poll(void)
{
	slots_reclaim();
}

static void state_module_poll(int wait_ms)
{
	(void)wait_ms;
	cp_state_poll();
}

static struct cp_module state_module = {
	.name = "state",
	.order = CP_MOD_STATE,
	.init = state_module_init,
	.poll = state_module_poll,
	.reload = cp_reload,
	.fini = cp_state_fini,
};
CP_MODULE_REGISTER(state_module)
