/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control plane's desired state: the one code path through which the config file, the
 * CLI and Kubernetes change what the data plane does. Every change rebuilds the tables
 * (strait/tables.h) and publishes them; a failed build changes nothing.
 *
 * Thread context: all functions run on the control thread (the daemon's main thread).
 */
#ifndef STRAIT_CP_H
#define STRAIT_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <strait/config.h>

/** Where a mapping came from; a source owns its mappings (a reload replaces only its own). */
enum cp_source { CP_SRC_CONFIG = 0, CP_SRC_CLI, CP_SRC_K8S, CP_SRC_MAX };

/**
 * Take @p c (moved: the caller must not free it) as the running config, its mappings as the
 * CONFIG source, and publish the first tables.
 * @return 0, or -EINVAL with @p err naming the mapping at fault.
 */
int cp_state_init(struct cfg *c, char *err, size_t errlen);

/** Free everything the state owns. */
void cp_state_fini(void);

/** The running config (ports, timeouts, ...). */
const struct cfg *cp_config(void);

/**
 * Add or replace (same namespace and name) one mapping, then publish.
 * @return 0; -EINVAL (invalid, or conflicts with another mapping: @p err says which);
 *         -EPERM when a mapping of that name belongs to another source; -ENOSPC.
 */
int cp_mapping_upsert(enum cp_source src, const struct cfg_mapping *m, char *err, size_t errlen);

/**
 * Delete a mapping by namespace and name, then publish; its sessions are cleared (TCP ones
 * with a RST to the client when sessions.resetOnBackendRemoval) in the workers' own time, and
 * its counter slot is free for reuse once they are.
 * @return 0 or -ENOENT.
 */
int cp_mapping_delete(enum cp_source src, const char *ns, const char *name);

/**
 * Replace every mapping of @p src with @p maps (a resync: config reload, Kubernetes relist,
 * manifests reload), in one publish. @return 0 or -EINVAL with @p err.
 */
int cp_mappings_replace(enum cp_source src, const struct cfg_mapping *maps, unsigned int n,
			char *err, size_t errlen);

/**
 * cp_mappings_replace() with each mapping's identity: @p ids (n entries, or NULL), 0 = none,
 * else given to one mapping's bytes only (struct k8s_desired.ids): a mapping whose id is the
 * one its published self came with is taken as unchanged without comparing its bytes, so
 * that a resync of thousands of mappings of which few changed costs the few.
 */
int cp_mappings_replace_ids(enum cp_source src, const struct cfg_mapping *maps, const uint64_t *ids,
			    unsigned int n, char *err, size_t errlen);

/** Mappings cp_mappings_replace() compared byte for byte with their published selves, since
 *  start (tests: an identified unchanged mapping is not compared). Control thread. */
extern unsigned long cp_state_compared;

/** Mapping names cp_mappings_replace() put into its name indexes, since start (tests: a resync
 *  indexes the old list when its order moved, and the copied entries, not every one, to match
 *  the old entries that were not kept). Control thread. */
extern unsigned long cp_state_names_indexed;

/**
 * Change a global timeout, in seconds (1..604800); @p which is a CLI word of CFG_TIMEOUTS
 * (udp, tcp-est, tcp-trans). Publishes new tables: existing sessions of mappings without their
 * own timeout follow it at their next idle check, as new ones do.
 * @return 0, or -EINVAL when @p which names no timeout or @p seconds is out of range.
 * Control thread only.
 */
int cp_timeout_set(const char *which, uint32_t seconds);

/**
 * Set the addresses (host order, @p n <= CFG_MAX_HELD) that the kernel TAP of arm @p port
 * (enum dp_port_role) holds now (cfg_port.held; cp/kernel_port.c follows them by netlink;
 * @p addrs may be NULL when @p n is 0),
 * and publish new tables when they changed: an address that appears is served (ARP, and a
 * gratuitous ARP at once from the slow path), one that goes is no longer (docs/ha.md).
 * @return 1 when published, 0 when nothing changed, -EINVAL (bad @p port or @p n) or the
 * build's -errno (then the previous set stays). Control thread only.
 */
int cp_state_set_held(unsigned int port, const uint32_t *addrs, unsigned int n);

/** Generation of the published tables: 1, 2, 3... one per publish (0 before the first).
 * Control thread; other threads read the snapshot's copy (cp/snapshot.c). */
uint64_t cp_generation(void);

/**
 * The stable counter slot of mapping ns/name, allocating one (a free slot first: one whose
 * mapping is gone and whose sessions are cleared, counters zeroed). @return slot, or -1 when
 * all CFG_MAX_MAPPINGS are published or still draining.
 */
int cp_slot_of(const char *ns, const char *name);

/**
 * The counter slot of mapping ns/name without allocating one: the read paths' lookup (show,
 * views, clear), which must not take a slot as a side effect. @return slot, or -1 when the
 * mapping has none. Control thread.
 */
int cp_slot_find(const char *ns, const char *name);

/** State of counter slot @p slot: 0 free (or never used), 1 in use, 2 draining (its mapping
 * is gone, the clear of its sessions not yet done). */
int cp_slot_state(int slot);

/** Slots in use or draining. */
unsigned int cp_slots_in_use(void);

/**
 * Collect finished session clears (dp_sessions_clear_poll()) and free the slots they drained.
 * Never blocks; the state module's poll hook calls it every control-loop pass.
 */
void cp_state_poll(void);

/** Re-read the config file the daemon started with (SIGHUP, `reload`): cp_reload_from() it.
 * @return 0 or -EINVAL with @p err (nothing changed). */
int cp_reload(char *err, size_t errlen);

/**
 * Apply a reloaded config @p c: its mappings replace the CONFIG ones and, when they publish,
 * its `addressPools`, `kubernetes.requireAddressPools` and `kubernetes.limits` replace the
 * running ones (cp_config()), for the next Kubernetes reconcile pass (the Kubernetes module's
 * reload asks for one). Nothing else of @p c is taken: ports, workers and sessions need a
 * restart. @p c stays the caller's.
 * @return 0, or the -errno of cp_mappings_replace() with @p err (nothing changed). Control
 *         thread.
 */
int cp_reload_from(const struct cfg *c, char *err, size_t errlen);

/** Number of mappings of all sources, and mapping @p i (stable until the next change). */
unsigned int cp_mapping_count(void);
const struct cfg_mapping *cp_mapping_at(unsigned int i, enum cp_source *src);

/** Print the counters the daemon shows on `show stats` and at exit. */
void cp_print_stats(FILE *f);

#endif
