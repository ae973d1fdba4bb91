/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The immutable tables that the control plane builds and the workers read (DESIGN §4).
 *
 * One `struct tables` holds everything a worker needs to start a session: the service table
 * keyed by (external address, protocol, port), the mappings with their allow-lists and
 * timeouts, the backend sets with their Maglev tables, the gateway's addresses and routes.
 * It is never modified once published: the control plane builds a whole new one, publishes it
 * with one release store, waits for an rte_rcu_qsbr grace period (every worker reports a
 * quiescent state once per loop iteration, after which it holds no pointer into the old
 * tables), and frees the old one. Sessions never point into tables: they copy what they need
 * (addresses, ports) and keep a stable per-mapping slot, which indexes the mapping's counters
 * and, in every tables generation, its timeouts: a timeout change applies to the sessions
 * that exist (as in VPP), and a session record need not carry its timeouts.
 *
 * Addresses in the lookup structures are network byte order (compared with packet fields);
 * ports are network order in keys and host order elsewhere.
 */
#ifndef STRAIT_TABLES_H
#define STRAIT_TABLES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include <strait/config.h>

struct rte_hash;
struct rte_rcu_qsbr;

/** Gateway arms. */
enum dp_port_role { DP_PORT_EXT = 0, DP_PORT_INT = 1, DP_PORT_MAX = 2 };

/** Key of the service table: a packet's (destination address, port, protocol). 8 bytes. */
struct tbl_svc_key {
	rte_be32_t addr;
	rte_be16_t port;
	uint8_t proto;
	uint8_t pad; /**< always 0: keys are hashed as bytes */
} __rte_packed;

/**
 * A backend of a service, resolved to what the rewrite needs, and no more: 8 bytes, copied
 * whole into each generation (68,000 at the scale; a pod's name, which the workers
 * never read, is in the mapping's cfg_backend).
 */
struct tbl_backend {
	rte_be32_t addr;
	uint16_t port;	 /**< host order; 0 = the service's target port (+ range offset) */
	uint16_t weight; /**< 0 = serving but not ready: keeps its sessions, gets no new ones */
};

/** One (mapping, ports entry): external port range → backend set. */
struct tbl_service {
	uint32_t mapping;	   /**< index into tables.mappings */
	uint16_t port_lo, port_hi; /**< external ports, host order, inclusive */
	uint16_t target_port;	   /**< host order; 0 = same as the external port */
	uint8_t proto;
	uint32_t first_backend; /**< index into tables.backends */
	uint32_t n_backends;
	uint32_t n_eligible; /**< backends with weight > 0 */
	/** maglev_size entries (relative indexes), NULL if n_eligible <= 1; from
	 *  tables_maglev_alloc(), possibly shared with other services and other generations
	 *  that have the same backend list (tables_build()), so never written once built */
	uint16_t *maglev;
	uint16_t single;      /**< the only eligible backend (relative) when maglev is NULL */
	uint16_t maglev_size; /**< entries of maglev (the mapping's table size), 0 when NULL */
};

/**
 * A source rule (struct cfg_rule) as the fast path tests it: (src & mask) == net and
 * sport_lo <= sport <= sport_hi. Host order.
 */
struct tbl_rule {
	uint32_t net; /**< already masked */
	uint32_t mask;
	uint16_t sport_lo, sport_hi;
	int32_t group; /**< offset from the looked-up service to the group's one; -1 = refuse */
};

/** A mapping as the data plane and the management interfaces see it. */
struct tbl_mapping {
	char name[CFG_NAME_MAX];
	char ns[CFG_NAME_MAX];
	int32_t ordinal;    /**< -1 = none */
	uint16_t slot;	    /**< stable counter slot, < CFG_MAX_MAPPINGS */
	uint8_t nat;	    /**< enum cfg_nat_mode */
	uint8_t mode;	    /**< enum cfg_mapping_mode */
	uint32_t n_allowed; /**< 0 = everyone */
	struct cfg_cidr allowed[CFG_MAX_CIDRS];
	struct cfg_timeouts timeouts; /**< resolved: never 0 */
	struct cfg_limits limits;     /**< as configured, 0 = none (dp/nat.c splits them) */
	uint32_t maglev_seed;	      /**< of maglev_flow_hash() */
	uint32_t maglev_size;	      /**< entries of its services' Maglev tables */
	uint8_t affinity;	      /**< enum cfg_affinity: the key maglev_flow_hash() reads */
	bool pickup; /**< a mid-flow TCP ACK may start an established session (preserveSource) */
	uint32_t n_addrs;
	uint32_t addrs[CFG_MAX_ADDRS]; /**< host order */
	uint32_t first_service, n_services;
	/** source rules, in order, into tables.rules; 0 = none (every client to the service
	 *  that the lookup found). With rules, each ports entry has n_groups services in a
	 *  row, the lookup finding the first (group 0): group g is that service + g. */
	uint32_t first_rule, n_rules;
	uint32_t n_groups;
};

/** An IPv4 prefix as the fast path tests it: (addr & mask) == net. Host order. */
struct tbl_prefix {
	uint32_t net; /**< already masked */
	uint32_t mask;
};

/** A route: prefix → egress arm and next hop (0 = directly connected). Host order. */
struct tbl_route {
	struct cfg_cidr prefix;
	uint32_t mask; /**< of prefix.len: the lookup tests (addr & mask) == prefix.addr */
	uint8_t port;  /**< enum dp_port_role */
	uint32_t via;
};

struct tables {
	uint64_t generation;  /**< 1, 2, 3...: one per publish */
	struct rte_hash *svc; /**< tbl_svc_key → (void *)(uintptr_t)service index */
	struct tbl_service *services;
	uint32_t n_services;
	struct tbl_mapping *mappings;
	uint32_t n_mappings;
	struct tbl_backend *backends;
	uint32_t n_backends;
	struct tbl_rule *rules; /**< every mapping's source rules (tbl_mapping.first_rule) */
	uint32_t n_rules;
	/** the gateway's own addresses per arm (network order) */
	rte_be32_t addrs[DP_PORT_MAX][CFG_MAX_ADDRS];
	uint32_t n_addrs[DP_PORT_MAX];
	/** full-NAT source addresses (network order): ports.int.snat.addresses, a subset of
	 *  addrs[DP_PORT_INT], or addrs[DP_PORT_INT][0] alone by default; n_snat is 0 only
	 *  when int has no address */
	rte_be32_t snat_addrs[CFG_MAX_ADDRS];
	uint32_t n_snat;
	/** addresses answered on ARP and ICMP echo on the ext arm: the ext port's addresses and
	 *  the addresses of the mappings in these tables (no others), each once */
	rte_be32_t *vips;
	uint32_t n_vips;
	/** vips as an open-addressing set (linear probing, at most half full, 0 = empty slot):
	 *  vip_mask + 1 entries, a power of two; tables_vips_index() builds it */
	rte_be32_t *vip_slots;
	uint32_t vip_mask;
	struct tbl_route routes[2 * CFG_MAX_ROUTES + 2 * CFG_MAX_ADDRS + 1];
	uint32_t n_routes; /**< most specific first */
	/** networks behind the int arm: packets from them arriving on ext are spoofed */
	struct cfg_cidr int_nets[CFG_MAX_ROUTES + CFG_MAX_ADDRS];
	struct tbl_prefix int_pfx[CFG_MAX_ROUTES + CFG_MAX_ADDRS]; /**< int_nets, masks computed */
	uint32_t n_int_nets;
	struct cfg_timeouts timeouts; /**< global defaults */
	/** CFG_MAX_MAPPINGS entries, by mapping slot: the mapping's resolved timeouts, or the
	 *  global defaults for a slot without a mapping (sessions of a deleted mapping) */
	struct cfg_timeouts *slot_timeouts;
	uint16_t *slot_mss_clamp; /**< [slot] the mapping's tcpMssClamp, 0 = none */
	/** bit 1 << arm: the arm has a kernel TAP (cfg_port.kernel_tap), to which packets for
	 *  the gateway that strait does not handle itself go (dp/kernel.h, docs/ha.md) */
	uint8_t kernel_ports;
	/** what the build did for the services' Maglev tables: computed (maglev_build()) or
	 *  shared with a service of the published tables or of this build (same backends) */
	uint32_t n_maglev_built, n_maglev_reused;
	/** slots of the index of tables to share that the build made, 0 if none (tests) */
	uint32_t n_maglev_index;
	/** the mappings' addresses, summed: the VIP list's room but for the ext port's own,
	 *  which a build that takes this generation's layout (only backends changed) allocates
	 *  without walking the mappings. Control thread only */
	uint32_t n_map_addrs;
	/** references on svc: a generation whose every service sits at the index it had in the
	 *  previous one (only backend lists changed) shares that one's service table, which is
	 *  never written once built; the last tables_free() frees it. Control thread only; the
	 *  data plane never reads it */
	uint32_t *svc_refs;
	/** references on mappings, and on slot_timeouts with slot_mss_clamp, as on svc: a
	 *  generation whose changed mappings left those rows as they were (only backends
	 *  changed) shares the previous one's arrays, never written once published; NULL: its
	 *  own alone. Control thread only */
	uint32_t *mappings_refs, *slots_refs;
	/** the build shared the previous generation's service table (svc) and took its arrays
	 *  as blocks, rebuilding only the changed mappings' rows in place (tests, benchmarks) */
	bool svc_shared;
	/** bytes such a build copied from the previous generation's arrays as blocks (services,
	 *  backends, rules; tests, benchmarks) */
	uint64_t n_copied_bytes;
};

/** The one published pointer. Read through tables_get(). */
extern struct tables *_Atomic tables_current;

/** The current tables; valid until the caller's next quiescent-state report. Any lcore. */
static inline const struct tables *tables_get(void)
{
	return atomic_load_explicit(&tables_current, memory_order_acquire);
}

/**
 * Publish @p t, wait for a grace period on @p qsv, then free the previous tables.
 * @param qsv the workers' QSBR variable, or NULL when no worker runs (start-up, tests).
 * Control plane only; blocks for at most one worker loop iteration.
 */
void tables_publish(struct tables *t, struct rte_rcu_qsbr *qsv);

/** Free a tables object that was never published or is past its grace period. */
void tables_free(struct tables *t);

/**
 * Whether tables_build() shares a Maglev table with a service of the published tables (or of
 * the same build) whose backend list (addresses, ports, weights, in order) is identical,
 * instead of computing it again: default true. false computes every table, as before reuse
 * existed: for benchmarks (tests/bench/cp_scale_bench.c --no-reuse) and tests only.
 */
extern bool tables_reuse_maglev;

/**
 * Whether tables_build_from() builds a generation whose every service keeps its index (only
 * backend lists changed: endpoint churn) by taking the previous generation's arrays as blocks
 * and its service table as it is (shared, struct tables.svc_refs), rebuilding only the changed
 * mappings' rows: default true. false builds the arrays and the service table anew each time,
 * as before (tests/bench/cp_scale_bench.c --no-share-layout, tests).
 */
extern bool tables_share_layout;

/**
 * A Maglev table of @p size entries (1..MAGLEV_TABLE_SIZE), uninitialised, with a reference
 * count of 1 and @p key (tables_backends_key() of the backends it will be built from)
 * attached. @return the table, or NULL (no memory, or @p size out of range). Control thread
 * only, as are the four below: the count is not atomic (builds and tables_free() run on the
 * control thread; workers only read the entries).
 */
uint16_t *tables_maglev_alloc(uint64_t key, uint32_t size);
/** The size given to tables_maglev_alloc() for @p m. */
uint32_t tables_maglev_size(const uint16_t *m);
/** Take one more reference on @p m (from tables_maglev_alloc()): one per service using it. */
void tables_maglev_get(uint16_t *m);
/** Drop a reference on @p m; the last frees it. NULL is ignored. */
void tables_maglev_put(uint16_t *m);
/** The key given to tables_maglev_alloc() for @p m. */
uint64_t tables_maglev_key(const uint16_t *m);
/** The references held on @p m (tests). */
uint32_t tables_maglev_refs(const uint16_t *m);
/**
 * A 64-bit hash of @p n backends' (address, port, weight) in order: the inputs of a service's
 * Maglev table (maglev_build() reads nothing else). Equal lists give equal keys; a key match
 * is confirmed by comparing the lists. Pure, any thread.
 */
uint64_t tables_backends_key(const struct tbl_backend *b, uint32_t n);

/**
 * Look up a service for a packet's destination. Any lcore, lock-free.
 * @return the service or NULL.
 */
const struct tbl_service *tables_svc_lookup(const struct tables *t, rte_be32_t addr,
					    rte_be16_t port, uint8_t proto);

/**
 * Longest-prefix route for host-order @p addr.
 * @return the route or NULL when none matches. Any lcore.
 */
static inline const struct tbl_route *tables_route(const struct tables *t, uint32_t addr)
{
	// A pointer to the end, not an index: three instructions a route for the loop, not four.
	for (const struct tbl_route *r = t->routes, *end = r + t->n_routes; r != end; r++)
		if ((addr & r->mask) == r->prefix.addr)
			return r;
	return NULL;
}

/** Whether network-order @p addr is one of the gateway's addresses on arm @p port. */
static inline bool tables_is_local(const struct tables *t, unsigned int port, rte_be32_t addr)
{
	for (uint32_t i = 0; i < t->n_addrs[port]; i++)
		if (t->addrs[port][i] == addr)
			return true;
	return false;
}

/** The slot where the probe for network-order @p addr starts (a 32-bit murmur3 finalizer). */
static inline uint32_t tables_vip_hash(rte_be32_t addr)
{
	uint32_t h = addr;

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/**
 * Whether network-order @p addr is in the VIP set @p slots (@p mask + 1 entries, at most half
 * full, 0 = empty): O(1) expected, a probe of one or two cache lines. 0.0.0.0 is never in it.
 * For callers that keep the set's fields in registers across a burst (dp/nat.c). Any lcore.
 */
static inline bool tables_vip_in(const rte_be32_t *slots, uint32_t mask, rte_be32_t addr)
{
	uint32_t i = tables_vip_hash(addr) & mask;
	rte_be32_t v;

	while ((v = slots[i]) != 0) {
		if (v == addr)
			return true;
		i = (i + 1) & mask;
	}
	return false;
}

/** Whether network-order @p addr is answered on the ext arm (port address or mapping VIP):
 *  O(1), tables_vip_in(). Any lcore. */
static inline bool tables_is_vip(const struct tables *t, rte_be32_t addr)
{
	return tables_vip_in(t->vip_slots, t->vip_mask, addr);
}

/**
 * Index @p t->vips (@p t->n_vips network-order addresses, duplicates allowed, 0 skipped):
 * remove the duplicates from the list and build t->vip_slots / t->vip_mask (a power of two at
 * least twice the count, at least 8 slots), replacing any previous index.
 * @return 0 or -ENOMEM (then @p t is unchanged). Control plane, before publication.
 */
int tables_vips_index(struct tables *t);

/**
 * The service of a new session's client under the source rules of @p mp (struct cfg_rule):
 * the first rule matching network-order @p src and @p sport names a group, whose service is
 * @p svc (the one tables_svc_lookup() found, group 0) + the group. @return @p svc when @p mp
 * has no rules, the group's service, or NULL when the first matching rule refuses or no rule
 * matches. O(rules): a mask, a compare and two port compares each. Any lcore.
 */
static inline const struct tbl_service *tables_rule_pick(const struct tables *t,
							 const struct tbl_mapping *mp,
							 const struct tbl_service *svc,
							 rte_be32_t src, rte_be16_t sport)
{
	uint32_t a = rte_be_to_cpu_32(src);
	uint16_t p = rte_be_to_cpu_16(sport);

	if (mp->n_rules == 0)
		return svc;
	for (uint32_t i = 0; i < mp->n_rules; i++) {
		const struct tbl_rule *r = &t->rules[mp->first_rule + i];
		if ((a & r->mask) == r->net && p >= r->sport_lo && p <= r->sport_hi)
			return r->group < 0 ? NULL : svc + r->group;
	}
	return NULL;
}

/** Whether host-order @p addr is in a network behind the int arm (anti-spoofing on ext). */
static inline bool tables_is_int_net(const struct tables *t, uint32_t addr)
{
	for (uint32_t i = 0; i < t->n_int_nets; i++)
		if ((addr & t->int_pfx[i].mask) == t->int_pfx[i].net)
			return true;
	return false;
}

/** Index of the mapping named @p ns/@p name in @p t, or -1. */
int tables_mapping_find(const struct tables *t, const char *ns, const char *name);

/** Most service-table keys (addresses x ports of every mapping) a tables set holds: the
 *  service hash is sized twice that; the sum is counted in 64 bits. */
#define TABLES_MAX_KEYS (1u << 22)

/**
 * Build tables from the config's ports and timeouts and a set of mappings.
 * @param c          ports, routes and global timeouts (its own mappings are not read).
 * @param maps       @p n_maps mappings with resolved backends, validated.
 * @param slot_of    callback giving the stable counter slot of a mapping (ns, name).
 * @param generation the new generation number.
 * @param err        message on failure: which mapping and why.
 * @return the tables, or NULL with errno = EEXIST (two mappings serve one address, port and
 *         protocol), EINVAL, ENOMEM, ENOSPC (no counter slot left); @p err says which.
 * Control plane only (cp/tables_build.c, in strait_cp; the rest of this header is in
 * common/tables.c).
 */
struct tables *tables_build(const struct cfg *c, const struct cfg_mapping *const *maps,
			    unsigned int n_maps, int (*slot_of)(const char *ns, const char *name),
			    uint64_t generation, char *err, size_t errlen);

/**
 * tables_build(), and on failure the index in @p maps of the mapping it failed on, so that a
 * caller can leave that one out and build the rest (failure isolation, k8s.c):
 * @param failed receives the index, or -1 when the failure is no one mapping's (the service
 *               table could not be created, memory for the arrays). May be NULL.
 * Besides tables_build()'s errors: E2BIG (with *failed) when the mappings up to and including
 * that one need more than TABLES_MAX_KEYS service-table keys.
 */
struct tables *tables_build_at(const struct cfg *c, const struct cfg_mapping *const *maps,
			       unsigned int n_maps,
			       int (*slot_of)(const char *ns, const char *name),
			       uint64_t generation, int *failed, char *err, size_t errlen);

/**
 * tables_build_at() that takes the entries of unchanged mappings from a previous generation
 * instead of building them again: a publication then costs what changed (Maglev tables, names,
 * backend resolution, counter slots) plus a block copy per unchanged mapping and the service
 * table's keys, not a build of every mapping. The result is the same as tables_build_at()'s,
 * byte for byte in every array the data plane reads (tables_incr_test.c), Maglev tables shared
 * with @p prev (a reference each) rather than looked up by backend list.
 * @param prev    the generation to take entries from, alive for the call (the published one:
 *                only the control thread publishes and frees), or NULL: a build from scratch.
 * @param prev_of @p n_maps entries or NULL (none reused): for maps[i], the index in
 *                @p prev->mappings of an entry built from a mapping equal to maps[i] byte for
 *                byte, backends too (its counter slot still the mapping's: slot_of is not
 *                asked for it), or -1 to build maps[i]. Ignored when the global timeouts
 *                (@p c->timeouts) differ from @p prev's, which resolved its entries' timeouts.
 * Other parameters, the result and the errors: tables_build_at(). Control thread only.
 */
struct tables *tables_build_from(const struct cfg *c, const struct cfg_mapping *const *maps,
				 unsigned int n_maps,
				 int (*slot_of)(const char *ns, const char *name),
				 const struct tables *prev, const int32_t *prev_of,
				 uint64_t generation, int *failed, char *err, size_t errlen);

#endif
