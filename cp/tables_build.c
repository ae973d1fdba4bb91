/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Desired state → immutable tables (strait/tables.h). A build never touches the published
 * tables: it allocates everything anew, so that a failed build (a conflict, no memory) leaves
 * forwarding exactly as it was, and a successful one is published with a single pointer store
 * (tables_publish(), common/tables.c). Control plane only: cp/state.c is its one caller.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_prefetch.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <strait/maglev.h>
#include <strait/proto.h>
#include <strait/tables.h>

#include "maglev_pool.h"

/* snprintf(dst, size, "%s", src) without the format engine: names of every mapping are copied
 * on every build (10,000 at the scale). */
static void str_copy(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	// A byte loop: strnlen()'s bound may exceed @p src's array (-Wstringop-overread, -O3).
	for (; src[n] != '\0' && n < size - 1; n++)
		dst[n] = src[n];
	dst[n] = '\0';
}

static void route_add(struct tables *t, uint32_t addr, uint8_t len, uint8_t port, uint32_t via)
{
	struct tbl_route *r = &t->routes[t->n_routes++];
	r->mask = len ? ~0u << (32 - len) : 0;
	r->prefix.addr = addr & r->mask;
	r->prefix.len = len;
	r->port = port;
	r->via = via;
}

static int route_cmp(const void *a, const void *b)
{
	const struct tbl_route *x = a, *y = b;
	return (int)y->prefix.len - (int)x->prefix.len;
}

/* Duplicates are removed by tables_vips_index(), at the end. */
static void vip_add(struct tables *t, uint32_t addr_host)
{
	t->vips[t->n_vips++] = rte_cpu_to_be_32(addr_host);
}

/* Service-table keys of @p m: addresses x ports. */
static uint64_t mapping_keys(const struct cfg_mapping *m)
{
	uint64_t n = 0;

	for (unsigned int p = 0; p < m->n_ports; p++) {
		const struct cfg_map_port *mp = &m->ports[p];
		uint32_t hi = mp->end_port > mp->port ? mp->end_port : mp->port;
		n += (uint64_t)m->n_addrs * (hi - mp->port + 1u);
	}
	return n;
}

/* Whether host-order @p addr (of arm @p p, or a mapping's) is served now: always, but in ha
 * mode vrrp (or bgp, a SNAT VIP) a gated address only while the arm's kernel TAP holds it
 * (cfg_ha_gated(), docs/ha.md). */
static bool served(const struct cfg *c, const struct cfg_port *p, uint32_t addr, bool is_mapping)
{
	return !cfg_ha_gated(c, p, addr, is_mapping) || cfg_port_holds(p, addr);
}

/* The addresses the arm's kernel TAP holds that are not its configured ones (keepalived's,
 * an operator's `ip addr add`): the gateway's own too, as many as fit. */
static void held_add(struct tables *t, const struct cfg_port *p, unsigned int a)
{
	for (unsigned int i = 0; i < p->n_held && t->n_addrs[a] < CFG_MAX_ADDRS; i++) {
		rte_be32_t be = rte_cpu_to_be_32(p->held[i]);
		if (tables_is_local(t, a, be))
			continue; // configured (and served): already in
		t->addrs[a][t->n_addrs[a]++] = be;
		if (a == DP_PORT_EXT)
			vip_add(t, p->held[i]);
	}
}

static uint32_t timeout_or(uint32_t v, uint32_t dflt)
{
	return v ? v : dflt;
}

/* Backend groups of a mapping: each ports entry gets one service per group (tables.h). */
static unsigned int map_groups(const struct cfg_mapping *cm)
{
	return cm->n_rules && cm->n_groups > 1 ? cm->n_groups : 1;
}

/* How far ahead a walk over every mapping prefetches. Each is its own allocation (cp/state.c's
 * entries), so at 10,000 mappings a walk is a miss a mapping that the hardware cannot see
 * coming (cp_scale_bench): a build that keeps the layout walks them once, any other twice. */
#define WALK_AHEAD 8

/* Prefetch mapping @p m + WALK_AHEAD of @p maps (@p n): the lines of its counts, addresses
 * and first ports (struct cfg_mapping puts them first). */
static inline void map_prefetch(const struct cfg_mapping *const *maps, unsigned int n,
				unsigned int m)
{
	if (m + WALK_AHEAD < n) {
		rte_prefetch0(maps[m + WALK_AHEAD]);
		rte_prefetch0((const char *)maps[m + WALK_AHEAD] + RTE_CACHE_LINE_SIZE);
	}
}

/* The mapping's source rules into t->rules, each group checked against its groups. */
static int rules_add(struct tables *t, struct tbl_mapping *tm, const struct cfg_mapping *cm,
		     char *err, size_t errlen)
{
	tm->first_rule = t->n_rules;
	tm->n_rules = cm->n_rules;
	tm->n_groups = map_groups(cm);
	for (unsigned int i = 0; i < cm->n_rules; i++) {
		const struct cfg_rule *cr = &cm->rules[i];
		struct tbl_rule *r = &t->rules[t->n_rules++];
		if (cr->group >= (int)tm->n_groups || cr->sport_lo > cr->sport_hi) {
			snprintf(err, errlen, "mapping %s: rule %u names group %d of %u", cm->name,
				 i, cr->group, tm->n_groups);
			return EINVAL;
		}
		r->mask = cr->src.len ? ~0u << (32 - cr->src.len) : 0;
		r->net = cr->src.addr & r->mask;
		r->sport_lo = cr->sport_lo;
		r->sport_hi = cr->sport_hi;
		r->group = cr->group;
	}
	return 0;
}

/*
 * Maglev tables shared by backend list (tables_reuse_maglev): an open-addressing index of the
 * services whose table can be shared, keyed by tables_backends_key(). A match is confirmed by
 * comparing the lists, so two lists that merely hash alike never share.
 */
struct mg_ent {
	uint64_t key;
	const struct tbl_backend *be;
	uint32_t n;
	uint16_t *maglev; /* NULL: an empty slot */
};

struct mg_index {
	struct mg_ent *e;
	uint32_t mask;
	uint32_t n; /* entries used: at most half the slots */
	/* false until the first service that needs a table: a build whose every service is
	 * taken from the previous generation (tables_build_from()) never indexes it */
	bool ready;
	const struct tables *prev;
	uint64_t n_new;
	/* with maglevThreads (threads > 0): the tables to compute, run together at the build's
	 * end (maglev_pool_run()); each table is allocated and indexed at once, its entries
	 * written before anything reads them */
	unsigned int threads;
	struct maglev_job *jobs;
	unsigned int n_jobs, cap_jobs;
};

static bool same_backends(const struct tbl_backend *a, const struct tbl_backend *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].addr != b[i].addr || a[i].port != b[i].port || a[i].weight != b[i].weight)
			return false;
	return true;
}

static uint16_t *mg_find(const struct mg_index *x, uint64_t key, const struct tbl_backend *be,
			 uint32_t n, uint32_t size)
{
	if (!x->e)
		return NULL;
	for (uint32_t i = (uint32_t)key & x->mask; x->e[i].maglev; i = (i + 1) & x->mask)
		if (x->e[i].key == key && x->e[i].n == n &&
		    tables_maglev_size(x->e[i].maglev) == size && same_backends(x->e[i].be, be, n))
			return x->e[i].maglev;
	return NULL;
}

static void mg_add(struct mg_index *x, uint64_t key, const struct tbl_backend *be, uint32_t n,
		   uint16_t *maglev)
{
	uint32_t i;

	// Full (more tables than it was sized for): not indexed, so only not shared.
	if (!x->e || 2 * (x->n + 1) > x->mask + 1 ||
	    mg_find(x, key, be, n, tables_maglev_size(maglev)))
		return;
	for (i = (uint32_t)key & x->mask; x->e[i].maglev; i = (i + 1) & x->mask)
		;
	x->e[i] = (struct mg_ent){.key = key, .be = be, .n = n, .maglev = maglev};
	x->n++;
}

/* mg_index_init()'s slots, kept from one build to the next (control thread only). */
static struct mg_ent *mg_buf;
static uint64_t mg_buf_slots;

/* The index over @p prev's Maglev tables, with room for @p n_new more: sized by @p prev's
 * tables (its services that have one), not by its services (2,000 tables of 10,000 services at
 * the scale; a 2 MB index, zeroed and faulted in on every build, was ~8x this one).
 * Without memory (or with reuse off) the index is empty: every table is computed. */
static void mg_index_init(struct mg_index *x, const struct tables *prev, uint64_t n_new)
{
	uint64_t want = n_new + (prev ? prev->n_maglev_built + prev->n_maglev_reused : 0),
		 size = 16;

	x->e = NULL;
	x->mask = 0;
	x->n = 0;
	x->ready = true;
	if (!tables_reuse_maglev)
		return;
	while (size < 2 * want)
		size *= 2;
	// One buffer for every build, kept: a fresh one, zeroed by calloc(), was read before it
	// was written (the probes), so each of its pages was first mapped to the kernel's zero
	// page, then copied on the first write, and each copy flushed the TLB of every CPU of
	// the process: an interrupt on every worker lcore, ~78 a publication at 10,000 mappings.
	if (size > UINT32_MAX)
		return;
	if (size > mg_buf_slots) {
		free(mg_buf);
		mg_buf_slots = 0;
		if (!(mg_buf = malloc(size * sizeof(*mg_buf))))
			return;
		mg_buf_slots = size;
	}
	x->e = mg_buf;
	memset(x->e, 0, size * sizeof(*x->e));
	x->mask = (uint32_t)(size - 1);
	for (uint32_t i = 0; prev && i < prev->n_services; i++) {
		const struct tbl_service *s = &prev->services[i];
		if (s->maglev)
			mg_add(x, tables_maglev_key(s->maglev), &prev->backends[s->first_backend],
			       s->n_backends, s->maglev);
	}
}

/* The queued jobs' backend lists, and the queue. */
static void mg_jobs_free(struct mg_index *x)
{
	for (unsigned int i = 0; i < x->n_jobs; i++)
		free(x->jobs[i].b);
	free(x->jobs);
	x->jobs = NULL;
	x->n_jobs = x->cap_jobs = 0;
}

/* @p s's Maglev table: shared from the index when a service has the same backend list, else
 * computed (and indexed). @return 0 or a positive errno. */
static int service_maglev(struct tables *t, struct tbl_service *s, uint32_t size,
			  struct mg_index *mi)
{
	const struct tbl_backend *be = &t->backends[s->first_backend];
	uint64_t key = tables_backends_key(be, s->n_backends);
	struct maglev_backend *mb;
	uint16_t *m;
	int r;

	if (!mi->ready) {
		mg_index_init(mi, mi->prev, mi->n_new);
		t->n_maglev_index = mi->e ? mi->mask + 1 : 0;
	}
	m = mg_find(mi, key, be, s->n_backends, size);
	if (m) {
		tables_maglev_get(m);
		s->maglev = m;
		s->maglev_size = (uint16_t)tables_maglev_size(m);
		t->n_maglev_reused++;
		return 0;
	}
	mb = calloc(s->n_backends, sizeof(*mb));
	s->maglev = tables_maglev_alloc(key, size);
	if (!mb || !s->maglev) {
		free(mb);
		return ENOMEM;
	}
	s->maglev_size = (uint16_t)size;
	for (uint32_t b = 0; b < s->n_backends; b++) {
		mb[b].addr = rte_be_to_cpu_32(be[b].addr);
		mb[b].port = be[b].port;
		mb[b].weight = be[b].weight;
	}
	if (mi->threads) {
		if (mi->n_jobs == mi->cap_jobs) {
			unsigned int cap = mi->cap_jobs ? 2 * mi->cap_jobs : 64;
			struct maglev_job *j = realloc(mi->jobs, cap * sizeof(*j));
			if (!j) {
				free(mb);
				return ENOMEM;
			}
			mi->jobs = j;
			mi->cap_jobs = cap;
		}
		mi->jobs[mi->n_jobs++] = (struct maglev_job){
			.b = mb, .n = s->n_backends, .table = s->maglev, .m = size};
		t->n_maglev_built++;
		mg_add(mi, key, be, s->n_backends, s->maglev);
		return 0;
	}
	r = maglev_build(mb, s->n_backends, s->maglev, size);
	free(mb);
	if (r < 0)
		return -r;
	t->n_maglev_built++;
	mg_add(mi, key, be, s->n_backends, s->maglev);
	return 0;
}

/* The service table's keys of service @p idx (group 0 of a ports entry of @p cm): every
 * address x port. @return 0, EEXIST (another mapping serves one; @p err says which) or ENOMEM. */
static int svc_keys_add(struct tables *t, const struct cfg_mapping *cm, uint32_t idx, char *err,
			size_t errlen)
{
	const struct tbl_service *s = &t->services[idx];

	for (unsigned int a = 0; a < cm->n_addrs; a++) {
		for (uint32_t port = s->port_lo; port <= s->port_hi; port++) {
			struct tbl_svc_key k = {
				.addr = rte_cpu_to_be_32(cm->addrs[a]),
				.port = rte_cpu_to_be_16((uint16_t)port),
				.proto = s->proto,
			};
			void *other;
			if (rte_hash_lookup_data(t->svc, &k, &other) >= 0) {
				const struct tbl_service *os = &t->services[(uintptr_t)other];
				char ab[16];
				snprintf(err, errlen,
					 "mapping %s: %s:%u/%s is already served by mapping %s",
					 cm->name, cfg_ipv4_str(cm->addrs[a], ab), port,
					 strait_proto_name(s->proto),
					 t->mappings[os->mapping].name);
				return EEXIST;
			}
			// The table is sized for every key.
			if (rte_hash_add_key_data(t->svc, &k, (void *)(uintptr_t)idx) < 0)
				return ENOMEM;
		}
	}
	return 0;
}

/*
 * Mapping @p cm as entry t->n_mappings, taken from @p prev's entry @p pi, which was built from a
 * mapping equal to @p cm byte for byte under the same global timeouts: its entry, services,
 * backends and rules copied as blocks (indexes moved), its Maglev tables shared (a reference
 * each), its counter slot kept. What depends on more than the mapping is done again: the VIPs
 * (whether an address is served now) and the service table's keys (conflicts with the other
 * mappings of this build). @return 0 or a positive errno with @p err.
 */
static int mapping_reuse(struct tables *t, const struct cfg *c, const struct cfg_mapping *cm,
			 const struct tables *prev, uint32_t pi, char *err, size_t errlen)
{
	const struct tbl_mapping *pm = &prev->mappings[pi];
	struct tbl_mapping *tm = &t->mappings[t->n_mappings];
	const struct tbl_service *ps = &prev->services[pm->first_service];
	int e;

	*tm = *pm;
	tm->first_service = t->n_services;
	tm->first_rule = t->n_rules;
	if (pm->n_rules)
		memcpy(&t->rules[t->n_rules], &prev->rules[pm->first_rule],
		       pm->n_rules * sizeof(*t->rules));
	t->n_rules += pm->n_rules;
	t->slot_timeouts[tm->slot] = tm->timeouts;
	t->slot_mss_clamp[tm->slot] = cm->tcp_mss_clamp;
	for (unsigned int a = 0; a < cm->n_addrs; a++)
		if (served(c, &c->ext, cm->addrs[a], true))
			vip_add(t, cm->addrs[a]);
	if (pm->n_services) {
		// A mapping's services, and their backends, are consecutive.
		const uint32_t b0 = ps[0].first_backend;
		const uint32_t nb = ps[pm->n_services - 1].first_backend +
				    ps[pm->n_services - 1].n_backends - b0;
		if (nb)
			memcpy(&t->backends[t->n_backends], &prev->backends[b0],
			       nb * sizeof(*t->backends));
		for (uint32_t j = 0; j < pm->n_services; j++) {
			struct tbl_service *s = &t->services[t->n_services + j];
			*s = ps[j];
			s->mapping = t->n_mappings;
			s->first_backend = s->first_backend - b0 + t->n_backends;
			if (s->maglev) {
				tables_maglev_get(s->maglev);
				t->n_maglev_reused++;
			}
		}
		t->n_backends += nb;
	}
	// Counted before the keys: a failure frees these services' references.
	t->n_services += pm->n_services;
	for (uint32_t j = 0; j < pm->n_services; j += tm->n_groups)
		if ((e = svc_keys_add(t, cm, tm->first_service + j, err, errlen)) != 0)
			return e;
	t->n_mappings++;
	return 0;
}

/* Take arrays shared with other generations (@p refs > 1) as this build's own: copies of
 * @p n elements of @p size each. @return 0 or ENOMEM (nothing changed). */
static int arrays_unshare(void **arrays[], const size_t sizes[], unsigned int n_arrays, size_t n,
			  uint32_t **refs)
{
	void *copies[2] = {NULL, NULL};
	uint32_t *r = malloc(sizeof(*r));

	for (unsigned int i = 0; r && i < n_arrays; i++)
		if (!(copies[i] = malloc((n ? n : 1) * sizes[i])))
			goto fail;
	if (!r)
		goto fail;
	for (unsigned int i = 0; i < n_arrays; i++) {
		memcpy(copies[i], *arrays[i], n * sizes[i]);
		*arrays[i] = copies[i];
	}
	--**refs; // another generation's still: never the last
	*r = 1;
	*refs = r;
	return 0;
fail:
	for (unsigned int i = 0; i < n_arrays; i++)
		free(copies[i]);
	free(r);
	return ENOMEM;
}

static bool shared(const uint32_t *refs)
{
	return refs && *refs > 1;
}

/* Slot @p slot's timeouts and MSS clamp, written only when they change: arrays shared with the
 * previous generation are copied first. @return 0 or ENOMEM. */
static int slot_set(struct tables *t, uint16_t slot, const struct cfg_timeouts *to, uint16_t mss)
{
	void **arrays[] = {(void **)&t->slot_timeouts, (void **)&t->slot_mss_clamp};
	const size_t sizes[] = {sizeof(*t->slot_timeouts), sizeof(*t->slot_mss_clamp)};

	if (memcmp(&t->slot_timeouts[slot], to, sizeof(*to)) == 0 && t->slot_mss_clamp[slot] == mss)
		return 0;
	if (shared(t->slots_refs) &&
	    arrays_unshare(arrays, sizes, 2, CFG_MAX_MAPPINGS, &t->slots_refs) != 0)
		return ENOMEM;
	t->slot_timeouts[slot] = *to;
	t->slot_mss_clamp[slot] = mss;
	return 0;
}

/*
 * Mapping @p cm as entry t->n_mappings, built into @p tm (t->mappings[t->n_mappings], or a
 * row of its own that the caller puts there): its counter slot (@p slot_of), names, resolved
 * timeouts, rules, services with their backends and Maglev tables, and with @p keys its
 * service table keys. @return 0 or a positive errno with @p err.
 */
static int mapping_build(struct tables *t, struct tbl_mapping *tm, const struct cfg *c,
			 const struct cfg_mapping *cm,
			 int (*slot_of)(const char *ns, const char *name), struct mg_index *mi,
			 bool keys, char *err, size_t errlen)
{
	int slot, e;

	slot = slot_of(cm->ns, cm->name);
	if (slot < 0) {
		snprintf(err, errlen, "mapping %s: no counter slot left (%u mappings at most)",
			 cm->name, CFG_MAX_MAPPINGS);
		return ENOSPC;
	}
	str_copy(tm->name, sizeof(tm->name), cm->name);
	str_copy(tm->ns, sizeof(tm->ns), cm->ns);
	tm->ordinal = cm->ordinal;
	tm->slot = (uint16_t)slot;
	tm->nat = (uint8_t)cm->nat;
	tm->mode = (uint8_t)cm->mode;
	tm->n_allowed = cm->n_allowed;
	memcpy(tm->allowed, cm->allowed, sizeof(cm->allowed[0]) * cm->n_allowed);
#define TBL_TIMEOUT_(member, ckey, crdkey, word, def, states)                                      \
	tm->timeouts.member = timeout_or(cm->timeouts.member, c->timeouts.member);
	CFG_TIMEOUTS(TBL_TIMEOUT_)
#undef TBL_TIMEOUT_
	if ((e = slot_set(t, (uint16_t)slot, &tm->timeouts, cm->tcp_mss_clamp)) != 0)
		return e;
	tm->limits = cm->limits;
	tm->maglev_seed = cm->maglev.seed;
	tm->maglev_size = cm->maglev.table_size ? cm->maglev.table_size : MAGLEV_TABLE_SIZE_DEFAULT;
	tm->affinity = (uint8_t)cm->affinity;
	tm->pickup = cm->pickup && cm->nat == CFG_NAT_PRESERVE_SOURCE;
	tm->n_addrs = cm->n_addrs;
	memcpy(tm->addrs, cm->addrs, sizeof(cm->addrs[0]) * cm->n_addrs);
	tm->first_service = t->n_services;
	for (unsigned int a = 0; a < cm->n_addrs; a++)
		if (served(c, &c->ext, cm->addrs[a], true))
			vip_add(t, cm->addrs[a]);

	if ((e = rules_add(t, tm, cm, err, errlen)) != 0)
		return e;
	for (unsigned int sp = 0; sp < cm->n_ports * tm->n_groups; sp++) {
		const unsigned int p = sp / tm->n_groups, g = sp % tm->n_groups;
		const struct cfg_map_port *mp = &cm->ports[p];
		uint32_t idx = t->n_services;
		struct tbl_service *s = &t->services[t->n_services++];

		s->mapping = t->n_mappings;
		s->port_lo = mp->port;
		s->port_hi = mp->end_port ? mp->end_port : mp->port;
		s->target_port = mp->service_port;
		s->proto = mp->proto;
		s->first_backend = t->n_backends;
		for (unsigned int b = 0; b < cm->n_backends; b++) {
			if (tm->n_groups > 1 && cm->backends[b].group != g)
				continue; // another group's
			struct tbl_backend *tb = &t->backends[t->n_backends++];
			tb->addr = rte_cpu_to_be_32(cm->backends[b].addr);
			tb->port = cm->backends[b].port;
			tb->weight = cm->backends[b].serving_only ? 0 : cm->backends[b].weight;
			if (tb->weight) {
				s->n_eligible++;
				s->single = (uint16_t)s->n_backends;
			}
			s->n_backends++;
		}
		if (s->n_eligible > 1 && (e = service_maglev(t, s, tm->maglev_size, mi)) != 0)
			return e;
		// The lookup finds group 0's service; the rules find the others'.
		if (keys && g == 0 && (e = svc_keys_add(t, cm, idx, err, errlen)) != 0)
			return e;
	}
	tm->n_services = t->n_services - tm->first_service;
	t->n_mappings++;
	return 0;
}

/* Whether @p cm, built, takes exactly the rows of @p prev's entry @p pi: the same name (so the
 * same counter slot), addresses, ports and groups (the same services, at the same indexes,
 * with the same service table keys), rules and backends per service. Its contents may
 * differ: backends' addresses, weights, names, timeouts, Maglev tables... */
static bool same_shape(const struct tables *prev, uint32_t pi, const struct cfg_mapping *cm)
{
	const struct tbl_mapping *pm = &prev->mappings[pi];
	const unsigned int groups = map_groups(cm);

	if (strcmp(pm->name, cm->name) || strcmp(pm->ns, cm->ns) || pm->n_addrs != cm->n_addrs ||
	    memcmp(pm->addrs, cm->addrs, cm->n_addrs * sizeof(cm->addrs[0])) ||
	    pm->n_groups != groups || pm->n_rules != cm->n_rules ||
	    pm->n_services != cm->n_ports * groups)
		return false;
	for (uint32_t j = 0; j < pm->n_services; j++) {
		const struct tbl_service *s = &prev->services[pm->first_service + j];
		const struct cfg_map_port *mp = &cm->ports[j / groups];
		const unsigned int g = j % groups;
		uint32_t nb = 0;

		if (s->port_lo != mp->port ||
		    s->port_hi != (mp->end_port ? mp->end_port : mp->port) || s->proto != mp->proto)
			return false;
		for (unsigned int b = 0; b < cm->n_backends; b++)
			nb += groups <= 1 || cm->backends[b].group == g;
		if (s->n_backends != nb)
			return false;
	}
	return true;
}

/*
 * Whether every service of the build lands at the index it has in @p prev: the same number
 * of mappings, each either taken unchanged from the same position (@p prev_of[m] == m) or of
 * the same shape as the entry it replaces (same_shape()). Then @p prev's service table (keys
 * to service indexes) is this build's too, with no key to add and no conflict to find: what
 * endpoint churn gives (backends come, go ready or unready, change weight).
 */
static bool layout_same(const struct tables *prev, const int32_t *prev_of,
			const struct cfg_mapping *const *maps, unsigned int n_maps)
{
	if (!tables_share_layout || !prev || !prev_of || !prev->svc_refs || !prev->mappings_refs ||
	    !prev->slots_refs || prev->n_mappings != n_maps)
		return false;
	for (unsigned int m = 0; m < n_maps; m++)
		if (prev_of[m] != (int32_t)m && (prev_of[m] >= 0 || !same_shape(prev, m, maps[m])))
			return false;
	return true;
}

/* calloc()'s signature, without the zeroing: for arrays copied whole. */
static void *alloc_nozero(size_t n, size_t size)
{
	return n > SIZE_MAX / size ? NULL : malloc(n * size);
}

/*
 * The build of a layout_same() generation: @p prev's arrays as blocks, a reference on each of
 * its Maglev tables and on its service table, then each changed mapping rebuilt in its own
 * rows (zeroed first, as a fresh array is). The VIPs are listed again (whether an address is
 * served now). @return 0 or a positive errno with @p err and @p failed.
 */
static int build_in_place(struct tables *t, const struct cfg *c,
			  const struct cfg_mapping *const *maps, unsigned int n_maps,
			  int (*slot_of)(const char *ns, const char *name),
			  const struct tables *prev, const int32_t *prev_of, struct mg_index *mi,
			  int *failed, char *err, size_t errlen)
{
	void **m_arrays[] = {(void **)&t->mappings};
	const size_t m_sizes[] = {sizeof(*t->mappings)};
	struct tbl_mapping row;
	int e;

	// The mappings and the slots' arrays are shared with @p prev until a row changes.
	t->mappings = prev->mappings;
	t->mappings_refs = prev->mappings_refs;
	++*t->mappings_refs;
	t->slot_timeouts = prev->slot_timeouts;
	t->slot_mss_clamp = prev->slot_mss_clamp;
	t->slots_refs = prev->slots_refs;
	++*t->slots_refs;
	memcpy(t->services, prev->services, prev->n_services * sizeof(*t->services));
	memcpy(t->backends, prev->backends, prev->n_backends * sizeof(*t->backends));
	if (prev->n_rules)
		memcpy(t->rules, prev->rules, prev->n_rules * sizeof(*t->rules));
	t->n_mappings = prev->n_mappings;
	t->n_services = prev->n_services;
	t->n_backends = prev->n_backends;
	t->n_rules = prev->n_rules;
	t->n_copied_bytes = prev->n_services * sizeof(*t->services) +
			    prev->n_backends * sizeof(*t->backends) +
			    prev->n_rules * sizeof(*t->rules);
	// Every table counts as reused here; a changed mapping's are taken off below as it gives
	// them back (and its build counts what it reuses or builds): the unchanged mappings'
	// rows are not read for the count (a miss each, at thousands of mappings).
	for (uint32_t i = 0; i < t->n_services; i++) {
		// the tables' headers: an allocation each, a miss each, written
		if (i + WALK_AHEAD < t->n_services && t->services[i + WALK_AHEAD].maglev)
			rte_prefetch0(t->services[i + WALK_AHEAD].maglev);
		if (t->services[i].maglev) {
			tables_maglev_get(t->services[i].maglev);
			t->n_maglev_reused++;
		}
	}
	for (unsigned int m = 0; m < n_maps; m++) {
		const struct cfg_mapping *cm = maps[m];

		map_prefetch(maps, n_maps, m);

		if (prev_of[m] == (int32_t)m) {
			for (unsigned int a = 0; a < cm->n_addrs; a++)
				if (served(c, &c->ext, cm->addrs[a], true))
					vip_add(t, cm->addrs[a]);
			continue;
		}
		// Its rows, as a fresh array has them: its services' tables given back first.
		const struct tbl_mapping *pm = &prev->mappings[m];
		struct tbl_service *s = &t->services[pm->first_service];
		const uint32_t b0 = pm->n_services ? s[0].first_backend : 0;
		const uint32_t nb = pm->n_services ? s[pm->n_services - 1].first_backend +
							     s[pm->n_services - 1].n_backends - b0
						   : 0;
		for (uint32_t j = 0; j < pm->n_services; j++) {
			t->n_maglev_reused -= s[j].maglev != NULL;
			tables_maglev_put(s[j].maglev);
		}
		memset(s, 0, pm->n_services * sizeof(*s));
		memset(&t->backends[b0], 0, nb * sizeof(*t->backends));
		if (pm->n_rules)
			memset(&t->rules[pm->first_rule], 0, pm->n_rules * sizeof(*t->rules));
		t->n_mappings = m;
		t->n_services = pm->first_service;
		t->n_backends = b0;
		t->n_rules = pm->first_rule;
		*failed = (int)m;
		memset(&row, 0, sizeof(row));
		e = mapping_build(t, &row, c, cm, slot_of, mi, false, err, errlen);
		// Every row is the tables' again (tables_free() gives back what they hold).
		t->n_mappings = prev->n_mappings;
		t->n_services = prev->n_services;
		t->n_backends = prev->n_backends;
		t->n_rules = prev->n_rules;
		if (e == 0 && memcmp(&row, &t->mappings[m], sizeof(row)) != 0) {
			if (shared(t->mappings_refs) &&
			    arrays_unshare(m_arrays, m_sizes, 1, t->n_mappings,
					   &t->mappings_refs) != 0)
				e = ENOMEM;
			else
				t->mappings[m] = row;
		}
		if (e != 0)
			return e;
	}
	t->svc = prev->svc;
	t->svc_refs = prev->svc_refs;
	++*t->svc_refs;
	t->svc_shared = true;
	return 0;
}

struct tables *tables_build(const struct cfg *c, const struct cfg_mapping *const *maps,
			    unsigned int n_maps, int (*slot_of)(const char *ns, const char *name),
			    uint64_t generation, char *err, size_t errlen)
{
	return tables_build_at(c, maps, n_maps, slot_of, generation, NULL, err, errlen);
}

struct tables *tables_build_at(const struct cfg *c, const struct cfg_mapping *const *maps,
			       unsigned int n_maps,
			       int (*slot_of)(const char *ns, const char *name),
			       uint64_t generation, int *failed, char *err, size_t errlen)
{
	return tables_build_from(c, maps, n_maps, slot_of, NULL, NULL, generation, failed, err,
				 errlen);
}

struct tables *tables_build_from(const struct cfg *c, const struct cfg_mapping *const *maps,
				 unsigned int n_maps,
				 int (*slot_of)(const char *ns, const char *name),
				 const struct tables *prev, const int32_t *prev_of,
				 uint64_t generation, int *failed, char *err, size_t errlen)
{
	const struct cfg_port *arms[DP_PORT_MAX] = {&c->ext, &c->intl};
	uint64_t n_svc = 0, n_be = 0, n_keys = 0, n_vips = 0;
	struct tables *t = NULL;
	char name[RTE_HASH_NAMESIZE];
	static uint64_t hash_seq;
	int e = ENOMEM, dummy;
	uint8_t kernel_ports = 0;
	struct mg_index mi = {0};

	err[0] = '\0';
	if (!failed)
		failed = &dummy;
	*failed = -1;
	// Entries of @p prev resolved their timeouts from the global ones: reused only if those
	// are still the same.
	if (!prev || !prev_of || memcmp(&prev->timeouts, &c->timeouts, sizeof(c->timeouts)) != 0)
		prev_of = NULL;
	// Only backend lists changed: every row where it was, the service table shared; the
	// arrays are then copied whole, not zeroed first. Every mapping is then either @p prev's
	// own or of its shape (the same addresses, ports, rules and backends a service), so the
	// counts are @p prev's, and its keys passed TABLES_MAX_KEYS: not counted again (a walk
	// over every mapping, a miss each).
	const bool in_place = prev && layout_same(prev, prev_of, maps, n_maps);
	// Counted in 64 bits: 16384 mappings x 8 addresses x 65535 ports is past 2^32.
	uint64_t n_rules = 0;
	if (in_place) {
		n_svc = prev->n_services;
		n_be = prev->n_backends;
		n_rules = prev->n_rules;
		n_vips = prev->n_map_addrs;
	}
	for (unsigned int m = 0; !in_place && m < n_maps; m++) {
		map_prefetch(maps, n_maps, m);
		n_svc += (uint64_t)maps[m]->n_ports * map_groups(maps[m]);
		n_rules += maps[m]->n_rules;
		n_be += (uint64_t)maps[m]->n_ports * maps[m]->n_backends;
		n_vips += maps[m]->n_addrs;
		n_keys += mapping_keys(maps[m]);
		if (n_keys > TABLES_MAX_KEYS) {
			e = E2BIG;
			*failed = (int)m;
			snprintf(err, errlen,
				 "mapping %s: the service table would pass %u keys (addresses x "
				 "ports)",
				 maps[m]->name, TABLES_MAX_KEYS);
			goto fail;
		}
	}
	const uint64_t n_map_addrs = n_vips;
	n_vips += c->ext.n_addrs + c->ext.n_held;
	for (unsigned int a = 0; a < DP_PORT_MAX; a++)
		if (arms[a]->kernel_tap[0])
			kernel_ports |= (uint8_t)(1u << a);
	t = calloc(1, sizeof(*t));
	if (!t)
		goto fail;
	t->generation = generation;
	t->kernel_ports = kernel_ports;
	t->timeouts = c->timeouts;
	t->n_map_addrs = (uint32_t)n_map_addrs;
	void *(*const alloc)(size_t, size_t) = in_place ? alloc_nozero : calloc;
	t->services = alloc(n_svc ? n_svc : 1, sizeof(*t->services));
	t->backends = alloc(n_be ? n_be : 1, sizeof(*t->backends));
	t->rules = alloc(n_rules ? n_rules : 1, sizeof(*t->rules));
	t->vips = calloc(n_vips ? n_vips : 1, sizeof(*t->vips));
	if (!t->services || !t->backends || !t->rules || !t->vips)
		goto fail;
	if (!in_place) { // else shared with prev's (build_in_place())
		t->mappings = calloc(n_maps ? n_maps : 1, sizeof(*t->mappings));
		t->mappings_refs = malloc(sizeof(*t->mappings_refs));
		t->slot_timeouts = malloc(CFG_MAX_MAPPINGS * sizeof(*t->slot_timeouts));
		t->slot_mss_clamp = calloc(CFG_MAX_MAPPINGS, sizeof(*t->slot_mss_clamp));
		t->slots_refs = malloc(sizeof(*t->slots_refs));
		if (!t->mappings || !t->mappings_refs || !t->slot_timeouts || !t->slot_mss_clamp ||
		    !t->slots_refs)
			goto fail;
		*t->mappings_refs = *t->slots_refs = 1;
		for (unsigned int i = 0; i < CFG_MAX_MAPPINGS; i++)
			t->slot_timeouts[i] = c->timeouts;
	}

	// Every hash needs a unique name in EAL's registry; a sequence is enough since the
	// previous tables' hash is freed only after the new one exists.
	snprintf(name, sizeof(name), "svc_%" PRIu64, ++hash_seq);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = (uint32_t)RTE_MAX(n_keys * 2u, 64u),
		.key_len = sizeof(struct tbl_svc_key),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	// The published tables outlive this build: only this thread publishes and frees them.
	// Indexed when the first service needs a table.
	mi.prev = tables_get();
	// Services that may need a table: every one, or in place those of the changed mappings.
	mi.n_new = n_svc;
	mi.threads = c->maglev_threads;
	if (in_place) {
		mi.n_new = 0;
		for (unsigned int m = 0; m < n_maps; m++)
			if (prev_of[m] != (int32_t)m)
				mi.n_new += prev->mappings[m].n_services;
	}
	if (!in_place && !(t->svc_refs = malloc(sizeof(*t->svc_refs))))
		goto fail;
	if (t->svc_refs)
		*t->svc_refs = 1;
	if (!in_place && !(t->svc = rte_hash_create(&hp))) {
		e = rte_errno ? rte_errno : ENOMEM;
		snprintf(err, errlen, "cannot create the service table for %" PRIu64 " keys: %s",
			 n_keys, strerror(e));
		goto fail;
	}

	for (unsigned int a = 0; a < DP_PORT_MAX; a++) {
		for (unsigned int i = 0; i < arms[a]->n_addrs; i++) {
			const struct cfg_cidr *ca = &arms[a]->addrs[i];
			// The prefix is on the arm whether or not this gateway serves the address.
			route_add(t, ca->addr, ca->len, (uint8_t)a, 0);
			if (a == DP_PORT_INT)
				t->int_nets[t->n_int_nets++] = *ca;
			if (!served(c, arms[a], ca->addr, false))
				continue;
			t->addrs[a][t->n_addrs[a]++] = rte_cpu_to_be_32(ca->addr);
			if (a == DP_PORT_EXT)
				vip_add(t, ca->addr);
		}
		held_add(t, arms[a], a);
		for (unsigned int i = 0; i < arms[a]->n_routes; i++) {
			const struct cfg_route *r = &arms[a]->routes[i];
			route_add(t, r->prefix.addr, r->prefix.len, (uint8_t)a, r->via);
			if (a == DP_PORT_INT)
				t->int_nets[t->n_int_nets++] = r->prefix;
		}
	}
	if (c->ext.gateway)
		route_add(t, 0, 0, DP_PORT_EXT, c->ext.gateway);
	// Full-NAT source addresses: the configured ones (config.c checked each is an int
	// address), or the int port's first.
	// In ha mode vrrp, or bgp with an int TAP, a gated one only while the int TAP holds it
	// (cfg_ha_gated()), in config order: one that appears (a takeover) after the others
	// keeps their rows in the workers' SNAT bitmaps (dp/snat.c), if listed after them.
	for (unsigned int i = 0; i < c->intl.n_snat; i++)
		if (served(c, &c->intl, c->intl.snat[i], false))
			t->snat_addrs[t->n_snat++] = rte_cpu_to_be_32(c->intl.snat[i]);
	if (t->n_snat == 0 && t->n_addrs[DP_PORT_INT])
		t->snat_addrs[t->n_snat++] = t->addrs[DP_PORT_INT][0];
	if (c->intl.gateway)
		route_add(t, 0, 0, DP_PORT_INT, c->intl.gateway);
	for (uint32_t i = 0; i < t->n_int_nets; i++) {
		uint8_t len = t->int_nets[i].len;
		t->int_pfx[i].mask = len ? ~0u << (32 - len) : 0;
		t->int_pfx[i].net = t->int_nets[i].addr & t->int_pfx[i].mask;
	}
	// Stable sort is not needed: equal-length prefixes of the same config never overlap
	// in a meaningful way, and the first configured wins among equals either way.
	qsort(t->routes, t->n_routes, sizeof(t->routes[0]), route_cmp);

	if (in_place) {
		if ((e = build_in_place(t, c, maps, n_maps, slot_of, prev, prev_of, &mi, failed,
					err, errlen)) != 0)
			goto fail;
	} else {
		for (unsigned int m = 0; m < n_maps; m++) {
			*failed = (int)m; // a failure from here on is this mapping's
			if (prev_of && prev_of[m] >= 0 && (uint32_t)prev_of[m] < prev->n_mappings)
				e = mapping_reuse(t, c, maps[m], prev, (uint32_t)prev_of[m], err,
						  errlen);
			else
				e = mapping_build(t, &t->mappings[t->n_mappings], c, maps[m],
						  slot_of, &mi, true, err, errlen);
			if (e != 0)
				goto fail;
		}
	}
	*failed = -1;
	// The queued Maglev tables (maglevThreads), computed together; every job is valid (a
	// service gets a table only with two eligible backends, and its size was checked).
	if (mi.n_jobs && (e = -maglev_pool_run(mi.jobs, mi.n_jobs, mi.threads)) != 0) {
		snprintf(err, errlen, "cannot compute the Maglev tables: %s", strerror(e));
		goto fail;
	}
	mg_jobs_free(&mi);
	e = ENOMEM;
	if (tables_vips_index(t) < 0)
		goto fail;
	return t;
fail:
	mg_jobs_free(&mi);
	if (err[0] == '\0')
		snprintf(err, errlen, "cannot build tables: %s", strerror(e));
	tables_free(t);
	errno = e;
	return NULL;
}
