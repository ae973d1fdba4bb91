/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reconcile pass: every object of every source kind → its mappings and a result, through
 * the kind's source row (k8s_source.h: decode, build, conflict age); then conflicts. This file
 * names no source kind: the rows do (cp/k8s_<kind>.c).
 *
 * Conflicts are settled here, before anything reaches tables_build(), which refuses the whole
 * table set on the first clash: one bad object must never stop every other from being served.
 * Sources are taken oldest first (their row's conflict age, creationTimestamp so far, then
 * namespace/name, the order the API server's own conflict rules use, e.g. for Service
 * nodePorts) and each claims all its (address, protocol, port) keys or, if any is taken, none:
 * a half-served Mapping would be worse than a clearly refused one. Keys of other sources
 * (config file, CLI) are claimed first.
 *
 * Incremental: a source whose row allows it is taken from the store's memo (k8s_memo.h) when
 * neither its object nor anything its last build read changed since the last pass; the others
 * are decoded and built, and kept. Conflicts are settled over every source, every pass.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_reconcile.h>

#include "k8s_build.h"
#include "k8s_memo.h"
#include "k8s_source.h"

unsigned long k8s_reconcile_builds;
unsigned long k8s_reconcile_passes;
unsigned long k8s_reconcile_settles;
unsigned long k8s_reconcile_copied;
unsigned long k8s_reconcile_ours_asked;
unsigned long k8s_reconcile_walked;
unsigned long k8s_reconcile_results_copied;

/* The arrays of the last desired set freed, for the next pass (k8s_desired_free()). An entry
 * with borrowed[i] set is byte for byte the memo'd mapping whose id is ids[i] (ids are never
 * given twice in a process, whatever store): memo_emit() writes such a mapping only where it
 * is not already. Its backends may be gone with its memo entry: read only when the id is
 * emitted again, which holds the entry. Control thread. */
static struct {
	struct cfg_mapping *maps;
	uint64_t *ids;
	bool *borrowed;
	unsigned int cap;
	/* The last results array released (k8s_results_free()): res_n results as that pass
	 * left them (their lists released), room for res_cap. */
	struct k8s_result *res;
	unsigned int res_n, res_cap;
} spare;

static uint64_t fingerprint(const struct cfg_mapping *maps, unsigned int n, uint64_t *but_backends);
static uint64_t fnv(uint64_t h, const void *p, size_t n);

static void result_init(struct k8s_result *r, enum k8s_kind kind, const struct k8s_source *src,
			const json_t *obj)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	snprintf(r->ns, sizeof(r->ns), "%s", k8s_str(obj, "metadata", "namespace", NULL));
	snprintf(r->name, sizeof(r->name), "%s", k8s_str(obj, "metadata", "name", NULL));
	snprintf(r->uid, sizeof(r->uid), "%s", k8s_str(obj, "metadata", "uid", NULL));
	snprintf(r->created, sizeof(r->created), "%s", src->age(obj));
	r->generation = (int64_t)json_integer_value(k8s_get(obj, "metadata", "generation", NULL));
	r->valid = true;
}

/* ---- Conflicts ---- */

/* Open-addressing set of (address, protocol, port) → owner. */
struct keyset {
	uint64_t *keys; /* 0 = empty: key 0 (0.0.0.0, proto 0, port 0) never occurs */
	int32_t *owner; /* result index, or -1 - reserved index */
	size_t mask;
};

static uint64_t key_of(uint32_t addr, uint8_t proto, uint16_t port)
{
	return (uint64_t)addr | (uint64_t)proto << 32 | (uint64_t)port << 40;
}

static size_t key_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static int keyset_init(struct keyset *s, size_t n)
{
	size_t size = 64;

	while (size < 2 * n)
		size *= 2;
	s->keys = calloc(size, sizeof(*s->keys));
	s->owner = calloc(size, sizeof(*s->owner));
	s->mask = size - 1;
	return s->keys && s->owner ? 0 : -ENOMEM;
}

static void keyset_fini(struct keyset *s)
{
	free(s->keys);
	free(s->owner);
}

/* @return the owner's slot for @p k: found (keys[i] == k) or where to insert. */
static size_t keyset_slot(const struct keyset *s, uint64_t k)
{
	size_t i = key_hash(k) & s->mask;

	while (s->keys[i] && s->keys[i] != k)
		i = (i + 1) & s->mask;
	return i;
}

static size_t map_keys(const struct cfg_mapping *m)
{
	size_t n = 0;

	for (unsigned int p = 0; p < m->n_ports; p++)
		n += (size_t)m->n_addrs * (m->ports[p].end_port - m->ports[p].port + 1u);
	return n;
}

/* Iterate every key of @p m: @p fn returns non-zero to stop. */
static int map_keys_each(const struct cfg_mapping *m,
			 int (*fn)(void *arg, uint64_t k, uint32_t a, uint8_t proto, uint16_t port),
			 void *arg)
{
	for (unsigned int p = 0; p < m->n_ports; p++)
		for (unsigned int a = 0; a < m->n_addrs; a++)
			for (uint32_t port = m->ports[p].port; port <= m->ports[p].end_port;
			     port++) {
				int rc = fn(arg,
					    key_of(m->addrs[a], m->ports[p].proto, (uint16_t)port),
					    m->addrs[a], m->ports[p].proto, (uint16_t)port);
				if (rc)
					return rc;
			}
	return 0;
}

/* Open-addressing set of mapping names (namespace, name) → owner, as struct keyset: the
 * strings are borrowed from the mappings, which outlive the set. */
struct nameset {
	const struct cfg_mapping **m; /* NULL = empty */
	int32_t *owner;
	size_t mask;
};

static int nameset_init(struct nameset *s, size_t n)
{
	size_t size = 64;

	while (size < 2 * n)
		size *= 2;
	s->m = calloc(size, sizeof(*s->m));
	s->owner = calloc(size, sizeof(*s->owner));
	s->mask = size - 1;
	return s->m && s->owner ? 0 : -ENOMEM;
}

static void nameset_fini(struct nameset *s)
{
	free(s->m);
	free(s->owner);
}

static size_t name_hash(const struct cfg_mapping *m)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *c = m->ns; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	h = (h ^ '/') * 0x100000001b3ull;
	for (const char *c = m->name; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	return key_hash(h);
}

/* @return the slot of @p m's name: found (s->m[i] set) or where to insert. */
static size_t nameset_slot(const struct nameset *s, const struct cfg_mapping *m)
{
	size_t i = name_hash(m) & s->mask;

	while (s->m[i] && (strcmp(s->m[i]->name, m->name) || strcmp(s->m[i]->ns, m->ns)))
		i = (i + 1) & s->mask;
	return i;
}

static void nameset_put(struct nameset *s, const struct cfg_mapping *m, int32_t owner)
{
	size_t i = nameset_slot(s, m);

	s->m[i] = m;
	s->owner[i] = owner;
}

struct claim {
	struct keyset *ks;
	int32_t owner;
	bool insert;
	int32_t hit; /* owner found, when !insert */
	uint32_t hit_addr;
	uint8_t hit_proto;
	uint16_t hit_port;
	bool self; /* the same key twice within this source */
};

static int claim_key(void *arg, uint64_t k, uint32_t a, uint8_t proto, uint16_t port)
{
	struct claim *c = arg;
	size_t i = keyset_slot(c->ks, k);

	if (c->ks->keys[i] == k && (!c->insert || c->ks->owner[i] == c->owner)) {
		c->hit = c->ks->owner[i];
		c->hit_addr = a;
		c->hit_proto = proto;
		c->hit_port = port;
		c->self = c->ks->owner[i] == c->owner;
		return 1;
	}
	if (c->insert) {
		c->ks->keys[i] = k;
		c->ks->owner[i] = c->owner;
	}
	return 0;
}

static int res_cmp(const void *a, const void *b, void *arg)
{
	const struct k8s_result *res = arg;
	const struct k8s_result *x = &res[*(const unsigned int *)a];
	const struct k8s_result *y = &res[*(const unsigned int *)b];
	int c;

	// An object without a creationTimestamp (a manifest) is younger than any with one.
	if (!x->created[0] != !y->created[0])
		return x->created[0] ? -1 : 1;
	if ((c = strcmp(x->created, y->created)))
		return c;
	if ((c = strcmp(x->ns, y->ns)))
		return c;
	if ((c = strcmp(x->name, y->name)))
		return c;
	return (int)x->kind - (int)y->kind;
}

/*
 * Whether a source's own ports overlap (a port listed twice, a bootstrapPort inside the
 * per-ordinal range): a spec error, found before it claims anything so that the keys of an
 * object that is left out never block another. @return 1 (and @p r failed), 0, -ENOMEM.
 */
static int self_overlap(struct k8s_build *b, struct k8s_result *r)
{
	struct keyset own = {0};
	size_t n = 0;
	int rc = -ENOMEM;

	for (unsigned int m = r->first_map; m < r->first_map + r->n_maps; m++)
		n += map_keys(&b->maps[m]);
	if (n <= 1) // one key cannot be used twice
		return 0;
	if (keyset_init(&own, n) == 0) {
		struct claim c = {.ks = &own, .owner = 0, .insert = true, .hit = INT32_MIN};
		char a[16];

		for (unsigned int m = r->first_map; m < r->first_map + r->n_maps && !c.self; m++)
			map_keys_each(&b->maps[m], claim_key, &c);
		rc = 0;
		if (c.self) {
			k8s_result_fail(r, k8s_source_of(r->kind)->invalid_reason,
					"%s:%u/%s is used twice by this object's ports",
					cfg_ipv4_str(c.hit_addr, a), c.hit_port,
					k8s_proto_name(c.hit_proto));
			rc = 1;
		}
	}
	keyset_fini(&own);
	return rc;
}

/* Backend entries and Maglev tables that tables_build() allocates for mapping @p m. */
static void map_cost(const struct cfg_mapping *m, uint64_t *backends, uint64_t *maglev)
{
	unsigned int eligible = 0;

	for (unsigned int i = 0; i < m->n_backends; i++)
		eligible += !m->backends[i].serving_only && m->backends[i].weight > 0;
	*backends += (uint64_t)m->n_ports * m->n_backends;
	if (eligible > 1)
		*maglev += m->n_ports;
}

/*
 * What every source's mappings must satisfy, whatever their kind: addresses in a pool that
 * admits the object's namespace, and the per-object budgets. Run before conflicts, so that an
 * object left out never blocks another's keys.
 */
static void object_admit(struct k8s_build *b, struct k8s_result *r)
{
	uint64_t keys = 0, backends = 0, maglev = 0;
	const struct k8s_limits *l = &b->limits;
	char a[16];

	for (unsigned int m = r->first_map; m < r->first_map + r->n_maps; m++)
		for (unsigned int i = 0; i < b->maps[m].n_addrs; i++)
			if (!k8s_pools_admit(b->pools, r->ns, b->maps[m].addrs[i])) {
				k8s_result_fail(r, "AddressNotAllowed",
						"address %s is in no address pool that admits "
						"namespace %s",
						cfg_ipv4_str(b->maps[m].addrs[i], a), r->ns);
				return;
			}
	for (unsigned int m = r->first_map; m < r->first_map + r->n_maps; m++) {
		keys += map_keys(&b->maps[m]);
		map_cost(&b->maps[m], &backends, &maglev);
	}
	if (keys > l->keys)
		k8s_result_fail(
			r, "OverBudget",
			"its ports need %llu service-table entries (addresses x ports), "
			"over the budget of %u per object (kubernetes.limits.portsPerObject)",
			(unsigned long long)keys, l->keys);
	else if (backends > l->backends)
		k8s_result_fail(r, "OverBudget",
				"it needs %llu backend entries (ports x backends), over the budget "
				"of %u per object (kubernetes.limits.backendsPerObject)",
				(unsigned long long)backends, l->backends);
	else if (maglev > l->maglev)
		k8s_result_fail(r, "OverBudget",
				"it needs %llu Maglev tables (ports balanced over several "
				"backends), over the budget of %u per object "
				"(kubernetes.limits.maglevTablesPerObject)",
				(unsigned long long)maglev, l->maglev);
}

/* FNV-1a of string @p s and its terminator. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
	for (;; s++) {
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
		if (!*s)
			return h;
	}
}

/* What settle_conflicts() reads of mapping @p m: its name and its keys. */
static uint64_t claim_map(uint64_t h, const struct cfg_mapping *m)
{
	h = fnv_str(fnv_str(h, m->ns), m->name);
	h = fnv(h, &m->n_addrs, sizeof(m->n_addrs));
	h = fnv(h, m->addrs, m->n_addrs * sizeof(m->addrs[0]));
	h = fnv(h, &m->n_ports, sizeof(m->n_ports));
	for (unsigned int p = 0; p < m->n_ports; p++) {
		uint32_t k[3] = {m->ports[p].port, m->ports[p].end_port, m->ports[p].proto};
		h = fnv(h, k, sizeof(k));
	}
	return h;
}

/* What settle_conflicts() reads of valid result @p r and its mappings @p maps (struct
 * k8s_result.claim_fp): the order (age, namespace, name, kind), the names and keys. */
static uint64_t claim_fp(const struct k8s_result *r, const struct cfg_mapping *maps)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv(h, &r->kind, sizeof(r->kind));
	h = fnv_str(fnv_str(fnv_str(h, r->ns), r->name), r->created);
	h = fnv(h, &r->n_maps, sizeof(r->n_maps));
	for (unsigned int m = 0; m < r->n_maps; m++)
		h = claim_map(h, &maps[m]);
	return h;
}

/* Everything settle_conflicts() reads, hashed: the other sources' names and keys, the total
 * budget, each result's validity and, when valid, its claims, in order. */
static uint64_t settle_sig(const struct k8s_build *b)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv(h, &b->p->n_reserved, sizeof(b->p->n_reserved));
	for (unsigned int i = 0; i < b->p->n_reserved; i++)
		h = claim_map(h, b->p->reserved[i]);
	h = fnv(h, &b->limits.total_keys, sizeof(b->limits.total_keys));
	h = fnv(h, &b->n_res, sizeof(b->n_res));
	for (unsigned int i = 0; i < b->n_res; i++) {
		const uint64_t v = b->res[i].valid ? b->res[i].claim_fp : 1;
		h = fnv(h, &v, sizeof(v));
	}
	return h;
}

static int settle_conflicts(struct k8s_build *b)
{
	const struct k8s_reconcile_params *p = b->p;
	unsigned int *order = calloc(b->n_res ? b->n_res : 1, sizeof(*order));
	struct nameset names = {0};
	struct keyset ks = {0};
	size_t n_keys = 0, total, own;
	int rc = -ENOMEM;

	if (!order || nameset_init(&names, p->n_reserved + b->n_maps) < 0)
		goto out;
	for (unsigned int i = 0; i < p->n_reserved; i++)
		n_keys += map_keys(p->reserved[i]);
	total = n_keys; // the other sources' keys count first
	for (unsigned int i = 0; i < b->n_res; i++)
		if (b->res[i].valid) // objects left out are not sized, nor claimed
			for (unsigned int m = b->res[i].first_map;
			     m < b->res[i].first_map + b->res[i].n_maps; m++)
				n_keys += map_keys(&b->maps[m]);
	if (keyset_init(&ks, n_keys) < 0)
		goto out;

	for (unsigned int i = 0; i < p->n_reserved; i++) {
		struct claim c = {.ks = &ks, .owner = -1 - (int32_t)i, .insert = true};
		// Other sources were checked against each other by tables_build(): no clash.
		map_keys_each(p->reserved[i], claim_key, &c);
		nameset_put(&names, p->reserved[i], -1 - (int32_t)i);
	}

	for (unsigned int i = 0; i < b->n_res; i++)
		order[i] = i;
	qsort_r(order, b->n_res, sizeof(*order), res_cmp, b->res);

	for (unsigned int o = 0; o < b->n_res; o++) {
		struct k8s_result *r = &b->res[order[o]];
		struct claim c = {.ks = &ks, .owner = (int32_t)order[o], .hit = INT32_MIN};
		const char *clash_name = NULL;
		int32_t name_owner = 0;

		if (!r->valid)
			continue;
		if ((rc = self_overlap(b, r)) < 0)
			goto out;
		if (rc > 0)
			continue;
		for (unsigned int m = r->first_map; m < r->first_map + r->n_maps && !clash_name;
		     m++) {
			size_t slot = nameset_slot(&names, &b->maps[m]);
			if (names.m[slot]) {
				clash_name = b->maps[m].name;
				name_owner = names.owner[slot];
			}
		}
		for (unsigned int m = r->first_map;
		     m < r->first_map + r->n_maps && c.hit == INT32_MIN && !clash_name; m++)
			map_keys_each(&b->maps[m], claim_key, &c);
		if (clash_name || c.hit != INT32_MIN) {
			int32_t who = clash_name ? name_owner : c.hit;
			char a[16], what[160];

			if (clash_name)
				snprintf(what, sizeof(what), "mapping name %s", clash_name);
			else
				snprintf(what, sizeof(what), "%s:%u/%s",
					 cfg_ipv4_str(c.hit_addr, a), c.hit_port,
					 k8s_proto_name(c.hit_proto));
			r->conflict = true;
			if (who < 0)
				snprintf(r->conflict_message, sizeof(r->conflict_message),
					 "%s is already served by mapping %s of the gateway's "
					 "config",
					 what, p->reserved[-1 - who]->name);
			else
				snprintf(r->conflict_message, sizeof(r->conflict_message),
					 "%s is already served by %s %s/%.200s, which is older",
					 what, k8s_kind_info(b->res[who].kind)->kind,
					 b->res[who].ns, b->res[who].name);
			snprintf(r->reason, sizeof(r->reason), "PortConflict");
			snprintf(r->message, sizeof(r->message), "%s", r->conflict_message);
			continue;
		}
		own = 0;
		for (unsigned int m = r->first_map; m < r->first_map + r->n_maps; m++)
			own += map_keys(&b->maps[m]);
		if (total + own > b->limits.total_keys) { // the youngest are left out
			k8s_result_fail(r, "OverBudget",
					"its %zu service-table entries would take the gateway "
					"past its total of %u (kubernetes.limits.totalPorts); "
					"older objects come first",
					own, b->limits.total_keys);
			continue;
		}
		total += own;
		c.insert = true;
		for (unsigned int m = r->first_map; m < r->first_map + r->n_maps; m++)
			map_keys_each(&b->maps[m], claim_key, &c);
		for (unsigned int m = r->first_map; m < r->first_map + r->n_maps; m++)
			nameset_put(&names, &b->maps[m], (int32_t)order[o]);
		r->accepted = true;
	}
	rc = 0;
out:
	keyset_fini(&ks);
	nameset_fini(&names);
	free(order);
	return rc;
}

/* FNV-1a over what a mapping programs. */
/* FNV-1a over 8-byte words (then the tail bytewise): a fingerprint hashes every mapping and
 * backend of a pass, megabytes at thousands of mappings, so a byte per step is too slow. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, c + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

/* The fingerprint of @p n mappings; into @p but_backends (when not NULL) the same of their
 * fields alone, backends and their count left out: what an endpoint change leaves as it was. */
static uint64_t fingerprint(const struct cfg_mapping *maps, unsigned int n, uint64_t *but_backends)
{
	uint64_t h = 0xcbf29ce484222325ull, g = h;

	for (unsigned int i = 0; i < n; i++) {
		struct cfg_mapping m = maps[i];
		m.backends = NULL; // the struct was zeroed before it was filled: padding is 0
		h = fnv(h, &m, sizeof(m));
		h = fnv(h, maps[i].backends, maps[i].n_backends * sizeof(*maps[i].backends));
		if (but_backends) {
			m.n_backends = 0;
			g = fnv(g, &m, sizeof(m));
		}
	}
	if (but_backends)
		*but_backends = g;
	return h;
}

/* Free mapping @p m unless its backends are borrowed from the memo (@p borrowed). */
static void map_free(struct cfg_mapping *m, bool borrowed)
{
	if (!borrowed) // else the memo's, which the set holds
		cfg_mapping_free(m);
}

static void held_release(struct k8s_memo_entry **held, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		k8s_memo_entry_release(held[i]);
	free(held);
}

/* Free the kept mapping arrays (not the results array). */
static void spare_maps_free(void)
{
	free(spare.maps);
	free(spare.ids);
	free(spare.borrowed);
	spare.maps = NULL;
	spare.ids = NULL;
	spare.borrowed = NULL;
	spare.cap = 0;
}

void k8s_desired_spare_free(void)
{
	spare_maps_free();
	free(spare.res);
	memset(&spare, 0, sizeof(spare));
}

void k8s_results_free(struct k8s_result *res, unsigned int n, unsigned int cap)
{
	for (unsigned int i = 0; i < n; i++)
		json_decref(res[i].advertised); // never read again: replaced where taken
	if (!res || cap < n) {			// a capacity unknown: not kept
		free(res);
		return;
	}
	free(spare.res);
	spare.res = res;
	spare.res_n = n;
	spare.res_cap = cap;
}

void k8s_desired_free(struct k8s_desired *d)
{
	// The last set freed is the next pass's likeliest: it replaces an older one.
	const bool keep = d->maps && d->ids && d->borrowed && d->cap_maps;

	for (unsigned int i = 0; i < d->n_maps; i++) {
		const bool borrowed = d->borrowed && d->borrowed[i];
		map_free(&d->maps[i], borrowed);
		if (keep && !borrowed)
			d->ids[i] = 0; // its backends are gone: never taken as it is
	}
	if (keep) {
		spare_maps_free();
		spare.maps = d->maps;
		spare.ids = d->ids;
		spare.borrowed = d->borrowed;
		spare.cap = d->cap_maps;
	} else {
		free(d->maps);
		free(d->ids);
		free(d->borrowed);
	}
	held_release(d->held, d->n_held);
	k8s_results_free(d->res, d->n_res, d->cap_res);
	k8s_pools_free(&d->pools);
	memset(d, 0, sizeof(*d));
}

/* Fail result @p ri after a failed build and drop its mappings from @p d, repacked. */
static void desired_drop(struct k8s_desired *d, unsigned int ri, int e, const char *map_name)
{
	struct k8s_result *r = &d->res[ri];
	unsigned int first = r->first_map, n = r->n_maps;

	switch (e) {
	case ENOSPC:
		k8s_result_fail(r, "NoCounterSlot",
				"no counter slot left for its mapping %s (%u mappings at most)",
				map_name, CFG_MAX_MAPPINGS);
		break;
	case E2BIG:
		k8s_result_fail(r, "OverBudget",
				"its mapping %s would take the service table past its size",
				map_name);
		break;
	case ENOMEM:
		k8s_result_fail(r, "OutOfMemory",
				"the gateway ran out of memory building the tables for its "
				"mapping %s",
				map_name);
		break;
	default:
		k8s_result_fail(r, "BuildFailed",
				"the tables could not be built for its mapping %s: %s", map_name,
				strerror(e));
	}
	r->accepted = false;
	// The list may be the memo's (memo_emit() shares it): replaced, not cleared. Without
	// memory it stays, unread: only an accepted result's list is reported (k8s_report.c).
	json_t *none = json_array();
	if (none) {
		json_decref(r->advertised);
		r->advertised = none;
	}
	for (unsigned int m = first; m < first + n; m++)
		map_free(&d->maps[m], d->borrowed && d->borrowed[m]);
	memmove(&d->maps[first], &d->maps[first + n], (d->n_maps - first - n) * sizeof(d->maps[0]));
	if (d->borrowed)
		memmove(&d->borrowed[first], &d->borrowed[first + n],
			(d->n_maps - first - n) * sizeof(d->borrowed[0]));
	if (d->ids)
		memmove(&d->ids[first], &d->ids[first + n],
			(d->n_maps - first - n) * sizeof(d->ids[0]));
	d->n_maps -= n;
	r->n_maps = 0;
	for (unsigned int i = 0; i < d->n_res; i++)
		if (d->res[i].accepted && d->res[i].first_map > first)
			d->res[i].first_map -= n;
	d->fingerprint = fingerprint(d->maps, d->n_maps, NULL);
}

int k8s_desired_isolate(struct k8s_desired *d, k8s_try_build_fn fn, void *arg, char *err,
			size_t errlen)
{
	for (unsigned int round = 0; round <= d->n_res; round++) {
		char name[CFG_NAME_MAX];
		int failed = -1, rc;

		err[0] = '\0';
		rc = fn(arg, d->maps, d->n_maps, &failed, err, errlen);
		if (rc == 0 || failed < 0 || (unsigned int)failed >= d->n_maps)
			return rc;
		unsigned int ri = d->n_res;
		for (unsigned int i = 0; i < d->n_res && ri == d->n_res; i++)
			if (d->res[i].accepted && (unsigned int)failed >= d->res[i].first_map &&
			    (unsigned int)failed < d->res[i].first_map + d->res[i].n_maps)
				ri = i;
		if (ri == d->n_res)
			return rc;
		snprintf(name, sizeof(name), "%s", d->maps[failed].name);
		desired_drop(d, ri, -rc, name);
	}
	return -ELOOP;
}

static void maps_truncate(struct k8s_build *b, unsigned int n)
{
	while (b->n_maps > n) {
		b->n_maps--;
		map_free(&b->maps[b->n_maps], b->borrowed[b->n_maps]);
	}
}

/* String @p from into buffer @p to of @p size bytes, up to its end only. */
static void str_take(char *to, const char *from, size_t size)
{
	const size_t n = strnlen(from, size - 1);

	memcpy(to, from, n);
	to[n] = '\0';
}

_Static_assert(offsetof(struct k8s_result, message) <
			       offsetof(struct k8s_result, conflict_message) &&
		       offsetof(struct k8s_result, conflict_message) <
			       offsetof(struct k8s_result, unsupported),
	       "result_take() copies around the message buffers in this order");

#define RES_END(f) (offsetof(struct k8s_result, f) + sizeof(((struct k8s_result *)0)->f))

/*
 * Result @p from into @p r, as *r = *from to every reader (the strings are read up to their
 * end): every byte but those of the three message buffers past their strings. A result is
 * ~2.2 KB, 1.5 KB of it those buffers, most often empty, and a pass takes thousands from the
 * memo: whole copies were most of its memory traffic (cp_scale_bench, single changes).
 */
static void result_take(struct k8s_result *r, const struct k8s_result *from)
{
	char *to = (char *)r;
	const char *fr = (const char *)from;

	memcpy(to, fr, offsetof(struct k8s_result, message));
	str_take(r->message, from->message, sizeof(r->message));
	memcpy(to + RES_END(message), fr + RES_END(message),
	       offsetof(struct k8s_result, conflict_message) - RES_END(message));
	str_take(r->conflict_message, from->conflict_message, sizeof(r->conflict_message));
	memcpy(to + RES_END(conflict_message), fr + RES_END(conflict_message),
	       offsetof(struct k8s_result, unsupported) - RES_END(conflict_message));
	str_take(r->unsupported, from->unsupported, sizeof(r->unsupported));
	memcpy(to + RES_END(unsupported), fr + RES_END(unsupported),
	       sizeof(*r) - RES_END(unsupported));
}

/* Append what memo entry @p e keeps to @p b, as its build would. @return 0 or -ENOMEM. */
static int memo_emit(struct k8s_build *b, const struct k8s_memo_entry *e)
{
	struct k8s_result *r = &b->res[b->n_res];

	// Where the array this pass started from (k8s_results_free()) held this entry's result,
	// accepted, it is that result but for what conflicts and the packing wrote: accepted
	// (the entry's is false, before conflicts), first_map and n_maps (written below) and
	// the list, released (replaced below). Else copied.
	if (b->n_res < b->res_kept && r->memo_id == e->first_id && r->accepted) {
		r->accepted = false;
	} else {
		result_take(r, &e->res);
		r->memo_id = e->first_id;
		k8s_reconcile_results_copied++;
	}
	r->first_map = b->n_maps;
	r->n_maps = 0;
	// Shared with the memo, which never changes it (a pass replaces a failed result's list,
	// k8s_desired_isolate()): no copy of every source's list per pass.
	r->advertised = json_incref(e->res.advertised);
	b->n_res++;
	if (k8s_build_reserve(b, e->n_maps) < 0)
		return -ENOMEM;
	if (!e->n_maps)
		return 0;
	// The backends shared with the memo, which keeps the entry while this set holds it: no
	// allocation, copy and free of every memo'd mapping's backends per pass.
	if (b->n_held == b->cap_held) {
		unsigned int cap = b->cap_held ? 2 * b->cap_held : 256;
		struct k8s_memo_entry **h = realloc(b->held, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		b->held = h;
		b->cap_held = cap;
	}
	k8s_memo_entry_hold(e);
	b->held[b->n_held++] = (struct k8s_memo_entry *)(uintptr_t)e;
	for (unsigned int i = 0; i < e->n_maps; i++) {
		const unsigned int n = b->n_maps;
		// Where the last set had it (the arrays are that set's, k8s_desired_free()), it
		// is already there, byte for byte: no copy of every memo'd mapping per pass.
		if (!b->borrowed[n] || b->ids[n] != e->first_id + i) {
			b->maps[n] = e->maps[i];
			b->ids[n] = e->first_id + i;
			b->borrowed[n] = true;
			k8s_reconcile_copied++;
		}
		b->n_maps++;
		r->n_maps++;
	}
	return 0;
}

/* The results and mappings of every object of source kind @p kind; @p memo: the sources to
 * take from the incremental reconcile's memo, and where to keep the others (NULL: none). */
static int reconcile_kind(struct k8s_build *b, enum k8s_kind kind, const struct k8s_source *src,
			  struct k8s_memo *memo)
{
	void *spec = calloc(1, src->spec_size);
	const char *key;
	json_t *obj;
	int rc = 0;

	if (!spec)
		return -ENOMEM;
	if (!src->memo)
		memo = NULL;
	size_t at = 0;
	const size_t n_objs = json_object_size(b->s->c[kind].objs);
	// Past the last object of ours, none is a source (a cluster's many Services, none or
	// few of them LoadBalancers of ours): not walked.
	const size_t end = src->ours && b->ours[kind] ? b->ours_end[kind] : n_objs;
	json_object_foreach(b->s->c[kind].objs, key, obj) {
		// Not zeroed: "" before the decode (a memset of 512 bytes for each of thousands of
		// objects a pass, most of them taken from the memo, was a seventh of the walk).
		char err[K8S_MESSAGE_MAX];
		struct k8s_result *r = &b->res[b->n_res];
		unsigned int mark = b->n_maps;
		const struct k8s_memo_entry *e;
		int dec;

		if (at >= end)
			break;
		k8s_reconcile_walked++;
		const size_t i = at++;
		if (memo) {
			k8s_memo_prefetch_at(memo, kind, i, n_objs);
			// memo_emit()'s result, which the last pass's array may hold already
			if (b->n_res + 8 < b->res_kept)
				__builtin_prefetch(&b->res[b->n_res + 8], 1);
		}
		if (src->ours && !(b->ours[kind] ? b->ours[kind][i] : src->ours(obj, b->p)))
			continue;
		if (memo && (e = k8s_memo_get_at(memo, kind, i, n_objs, key))) {
			if (e->source && (rc = memo_emit(b, e)) < 0)
				break;
			continue;
		}
		if (memo) {
			b->dep_kinds = 0;
			b->dep_lost = false;
			if (!(b->deps = json_array()))
				b->dep_lost = true;
		}
		memset(spec, 0, src->spec_size);
		err[0] = '\0';
		dec = src->decode(obj, spec, err, sizeof(err));
		if (dec == 0) { // not a source (a StatefulSet without an annotation)
			if (memo && !b->dep_lost)
				k8s_memo_put(memo, kind, key, NULL, NULL, 0, NULL, 0);
			json_decref(b->deps);
			b->deps = NULL;
			continue;
		}
		if (dec == -ENOMEM) {
			rc = dec;
			break;
		}
		k8s_reconcile_builds++;
		result_init(r, kind, src, obj);
		r->advertised = json_array();
		if (!r->advertised) {
			rc = -ENOMEM;
			if (dec > 0 && src->spec_free)
				src->spec_free(spec);
			break;
		}
		b->n_res++;
		if (dec < 0) {
			k8s_result_fail(r, src->invalid_reason, "%s", err);
		} else {
			rc = src->build(b, r, spec);
			if (src->spec_free)
				src->spec_free(spec);
			if (rc < 0)
				break;
			if (r->valid)
				object_admit(b, r);
		}
		if (!r->valid) {
			maps_truncate(b, mark);
			r->n_maps = 0;
			json_array_clear(r->advertised);
		} else {
			r->fingerprint = fingerprint(r->n_maps ? &b->maps[r->first_map] : NULL,
						     r->n_maps, &r->programmed_fp);
			r->claim_fp = claim_fp(r, r->n_maps ? &b->maps[r->first_map] : NULL);
		}
		if (memo && !b->dep_lost) {
			uint64_t id = k8s_memo_put(memo, kind, key, r,
						   r->n_maps ? &b->maps[r->first_map] : NULL,
						   r->n_maps, b->deps, b->dep_kinds);
			for (unsigned int m = 0; id && m < r->n_maps; m++)
				b->ids[r->first_map + m] = id + m; // what the memo keeps
			r->memo_id = id; // the entry's result (0: not kept)
		}
		json_decref(b->deps);
		b->deps = NULL;
	}
	json_decref(b->deps);
	b->deps = NULL;
	free(spec);
	return rc;
}

/* What the sources' builds read beside the caches (not the reserved mappings: only the
 * conflicts, settled afresh every pass, read them). */
static uint64_t params_hash(const struct k8s_reconcile_params *p)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t flags[2] = {p->require_pools, p->default_lb};

	h = fnv(h, &p->default_addr, sizeof(p->default_addr));
	h = fnv(h, &p->n_pools, sizeof(p->n_pools));
	if (p->n_pools)
		h = fnv(h, p->pools, p->n_pools * sizeof(*p->pools));
	h = fnv(h, flags, sizeof(flags));
	return fnv(h, &p->limits, sizeof(p->limits));
}

void k8s_reconcile_params_cfg(struct k8s_reconcile_params *p, const struct cfg *c)
{
	p->default_addr = c->ext.n_addrs ? c->ext.addrs[0].addr : 0;
	p->pools = c->pools;
	p->n_pools = c->n_pools;
	p->require_pools = c->k8s.require_pools;
	p->default_lb = c->k8s.default_lb;
	p->limits = (struct k8s_limits){.keys = c->k8s.limits.ports,
					.backends = c->k8s.limits.backends,
					.maglev = c->k8s.limits.maglev,
					.total_keys = c->k8s.limits.total};
}

static void ours_free(struct k8s_build *b)
{
	for (int k = 0; k < K8S_KIND_MAX; k++) {
		if (!b->ours_kept[k])
			free(b->ours[k]);
		b->ours[k] = NULL;
	}
}

/* 1 + the last of the @p n answers @p ours that is true (@p yes are), 0 = none. */
static size_t ours_end(const bool *ours, size_t n, size_t yes)
{
	if (!yes)
		return 0;
	while (n && !ours[n - 1])
		n--;
	return n;
}

int k8s_reconcile(struct k8s_store *s, const struct k8s_reconcile_params *p,
		  struct k8s_desired *out)
{
	struct k8s_build b = {.s = s, .p = p};
	struct k8s_memo *memo = k8s_memo_begin(s, params_hash(p));

	// The slice index an earlier pass built, if still true (k8s_memo_begin() drops it).
	b.slices_by_svc = memo ? json_incref(k8s_memo_slices(memo)) : NULL;
	size_t n_objs = 0;
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	k8s_reconcile_passes++;
	b.limits.keys = p->limits.keys ? p->limits.keys : K8S_LIMIT_KEYS;
	b.limits.backends = p->limits.backends ? p->limits.backends : K8S_LIMIT_BACKENDS;
	b.limits.maglev = p->limits.maglev ? p->limits.maglev : K8S_LIMIT_MAGLEV;
	b.limits.total_keys = p->limits.total_keys ? p->limits.total_keys : K8S_LIMIT_TOTAL;
	if (k8s_pools_collect(p->pools, p->n_pools, s->c[K8S_KIND_ADDRESSPOOL].objs,
			      p->require_pools, &out->pools) < 0) {
		if (memo) // the pass is lost, and with it the changes it took
			k8s_memo_flush(memo);
		json_decref(b.slices_by_svc);
		return -ENOMEM;
	}
	b.pools = &out->pools;
	for (int kind = 0; kind < K8S_KIND_MAX; kind++) {
		const struct k8s_source *src = k8s_source_of(kind);
		const char *key;
		json_t *obj;

		if (src && !src->ours) {
			n_objs += json_object_size(s->c[kind].objs);
		} else if (src) { // a cluster's many Services: only the few that are sources
			const size_t n = json_object_size(s->c[kind].objs);
			size_t i = 0, yes_n = 0;
			// Kept by the memo while no object of the kind changed: not asked again.
			const bool *kept = memo ? k8s_memo_ours(memo, kind, n, &yes_n) : NULL;
			if (kept) {
				b.ours[kind] = (bool *)(uintptr_t)kept;
				b.ours_kept[kind] = true;
				b.ours_end[kind] = ours_end(kept, n, yes_n);
				n_objs += yes_n;
				continue;
			}
			// Remembered for reconcile_kind(): the caches do not change in between.
			b.ours[kind] = malloc(n + 1);
			json_object_foreach(s->c[kind].objs, key, obj) {
				bool yes = src->ours(obj, p);
				k8s_reconcile_ours_asked++;
				if (b.ours[kind])
					b.ours[kind][i++] = yes;
				yes_n += yes;
			}
			n_objs += yes_n;
			if (b.ours[kind])
				b.ours_end[kind] = ours_end(b.ours[kind], n, yes_n);
			if (memo && b.ours[kind]) { // for the next passes
				k8s_memo_set_ours(memo, kind, b.ours[kind], n, yes_n);
				b.ours_kept[kind] = true;
			}
		}
	}
	b.cap_res = (unsigned int)n_objs;
	// Not zeroed: each result is written whole (result_init(), memo_emit()) before it counts,
	// and there are thousands of ~3 KB each. The last array released when it has the room:
	// memo_emit() finds most of the memo'd results already there.
	if (spare.res && spare.res_cap >= b.cap_res) {
		b.res = spare.res;
		b.res_kept = spare.res_n;
		b.cap_res = spare.res_cap;
		spare.res = NULL;
		spare.res_n = spare.res_cap = 0;
	} else {
		b.res = malloc((b.cap_res ? b.cap_res : 1) * sizeof(*b.res));
	}
	// The last set's arrays, which hold most of this pass's memo'd mappings where it
	// emits them (memo_emit()).
	if (spare.maps) {
		b.maps = spare.maps;
		b.ids = spare.ids;
		b.borrowed = spare.borrowed;
		b.cap_maps = spare.cap;
		spare.maps = NULL;
		spare.ids = NULL;
		spare.borrowed = NULL;
		spare.cap = 0;
	}
	// As many mappings as the last pass built, at once: not grown by doubling and copying.
	if (memo && k8s_build_reserve(&b, k8s_memo_maps_hint(memo)) < 0)
		b.cap_maps = 0; // grown as it goes
	if (!b.res) {
		ours_free(&b);
		json_decref(b.slices_by_svc);
		if (memo)
			k8s_memo_flush(memo);
		k8s_pools_free(&out->pools);
		return -ENOMEM;
	}

	// Kind by kind in K8S_KINDS order: the results' order.
	for (int kind = 0; kind < K8S_KIND_MAX; kind++) {
		const struct k8s_source *src = k8s_source_of(kind);
		if (src && (rc = reconcile_kind(&b, kind, src, memo)) < 0)
			goto fail;
	}
	if (memo) {
		k8s_memo_set_maps_hint(memo, b.n_maps);
		k8s_memo_set_slices(memo, b.slices_by_svc); // for the next passes
	}
	// The same claims as the last pass's (endpoint churn): the same outcome, taken from the
	// memo instead of settled again over every source.
	uint64_t sig = memo ? settle_sig(&b) : 0;
	if (!memo || !k8s_memo_settled(memo, sig, b.res, b.n_res)) {
		bool *was_valid = memo ? malloc(b.n_res + 1) : NULL;
		for (unsigned int i = 0; was_valid && i < b.n_res; i++)
			was_valid[i] = b.res[i].valid;
		k8s_reconcile_settles++;
		if ((rc = settle_conflicts(&b)) < 0) {
			free(was_valid);
			goto fail;
		}
		if (was_valid)
			k8s_memo_set_settled(memo, sig, b.res, was_valid, b.n_res);
		free(was_valid);
	}

	// Keep the accepted sources' mappings only, packed.
	unsigned int n = 0;
	for (unsigned int i = 0; i < b.n_res; i++) {
		struct k8s_result *r = &b.res[i];
		if (!r->accepted) {
			for (unsigned int m = r->first_map; m < r->first_map + r->n_maps; m++)
				map_free(&b.maps[m], b.borrowed[m]);
			r->n_maps = 0;
			r->first_map = n;
			r->fingerprint = r->programmed_fp = 0;
			continue;
		}
		// An accepted source may have no mapping (a StatefulSet of 0 replicas), and then
		// b.maps may be NULL: no pointer arithmetic on it.
		if (r->n_maps && r->first_map != n) {
			memmove(&b.maps[n], &b.maps[r->first_map], r->n_maps * sizeof(b.maps[0]));
			memmove(&b.ids[n], &b.ids[r->first_map], r->n_maps * sizeof(b.ids[0]));
			memmove(&b.borrowed[n], &b.borrowed[r->first_map],
				r->n_maps * sizeof(b.borrowed[0]));
		}
		r->first_map = n;
		n += r->n_maps; // r->fingerprint: of these mappings, since its build
	}
	b.n_maps = n;
	// Every mapping is in one accepted result's fingerprint: the whole set's is theirs.
	uint64_t all = 0xcbf29ce484222325ull;
	for (unsigned int i = 0; i < b.n_res; i++)
		if (b.res[i].accepted)
			all = fnv(all, &b.res[i].fingerprint, sizeof(b.res[i].fingerprint));
	ours_free(&b);
	json_decref(b.slices_by_svc);
	json_decref(b.pods_by_set);
	// No mapping: the FNV basis, as fingerprint() gives for none.
	out->fingerprint = b.n_maps ? fnv(all, &b.n_maps, sizeof(b.n_maps)) : 0xcbf29ce484222325ull;
	out->maps = b.maps;
	out->ids = b.ids;
	out->borrowed = b.borrowed;
	out->held = b.held;
	out->n_held = b.n_held;
	out->n_maps = b.n_maps;
	out->cap_maps = b.cap_maps;
	out->res = b.res;
	out->n_res = b.n_res;
	out->cap_res = b.cap_res;
	return 0;
fail:
	if (memo) // the pass is lost, and with it the changes it took
		k8s_memo_flush(memo);
	ours_free(&b);
	json_decref(b.slices_by_svc);
	json_decref(b.pods_by_set);
	maps_truncate(&b, 0);
	free(b.maps);
	free(b.ids);
	free(b.borrowed);
	held_release(b.held, b.n_held);
	for (unsigned int i = 0; i < b.n_res; i++)
		json_decref(b.res[i].advertised);
	free(b.res);
	k8s_pools_free(&out->pools);
	return rc ? rc : -ENOMEM;
}
