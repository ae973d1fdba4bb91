/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Address pools: which external addresses the Kubernetes objects of which namespaces may use,
 * and the allocation of a free one (for inputs that ask for an address rather than name one,
 * as a LoadBalancer Service or a Gateway does).
 *
 * Pools come from the config file's `addressPools` (struct cfg_pool, strait/config.h) and from
 * cluster-scoped strait.io/v1alpha1 `AddressPool` objects (K8S_KIND_ADDRESSPOOL), the shape of
 * MetalLB's IPAddressPool: `spec.addresses` (IPv4 CIDRs, bare addresses or ranges `A.B.C.D-E.F.G.H`), `spec.namespaces`
 * (empty = every namespace), `spec.autoAssign` (default true).
 *
 * Enforcement: on as soon as one pool exists (config or API), or always with
 * `kubernetes.requireAddressPools: true`. An address is then allowed to an object of namespace
 * ns when some pool lists it and admits ns; when pools overlap (possible between API objects,
 * an error in the config file) any one of them admitting ns is enough. Without enforcement any
 * address is allowed (compatibility with configs from before pools; strait warns once).
 *
 * Pure functions: control thread, no I/O, no logs.
 */
#ifndef STRAIT_K8S_POOLS_H
#define STRAIT_K8S_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/config.h>

/** The pools in effect in one reconcile pass. */
struct k8s_pools {
	struct cfg_pool *v; /**< owned: the config's first, then the valid AddressPool objects */
	unsigned int n;
	bool enforce;		/**< addresses are checked against the pools */
	unsigned int n_invalid; /**< AddressPool objects left out (bad spec) */
	char invalid[256];	/**< the first one's "name: what is wrong", or "" */
};

/**
 * Decode a strait.io AddressPool object into @p p (zeroed first).
 * @return 0, or -EINVAL with @p err naming the field ("spec.addresses[1]: \"10.0.0.0/33\" is
 *         not an IPv4 CIDR").
 */
int k8s_pool_decode(const json_t *obj, struct cfg_pool *p, char *err, size_t errlen);

/**
 * The pools of one pass: @p n_cfg config pools, then every valid AddressPool object of cache
 * @p objs (a JSON object of objects, as struct k8s_cache.objs; NULL = none), in name order.
 * @param require enforce even when there is no pool at all (kubernetes.requireAddressPools).
 * @return 0 or -ENOMEM. Release with k8s_pools_free().
 */
int k8s_pools_collect(const struct cfg_pool *cfg, unsigned int n_cfg, const json_t *objs,
		      bool require, struct k8s_pools *out);

/** Release what k8s_pools_collect() allocated and zero @p p. Safe on a zeroed struct. */
void k8s_pools_free(struct k8s_pools *p);

/** Whether an object of namespace @p ns may use host-order @p addr (always when !enforce). */
bool k8s_pools_admit(const struct k8s_pools *p, const char *ns, uint32_t addr);

/**
 * Allocate an address for an object of namespace @p ns: the lowest address, pool by pool in
 * order, of a pool with autoAssign that admits @p ns (and is named @p pool, unless NULL),
 * that is not in @p used. The network and broadcast addresses of a CIDR entry shorter than
 * /31 are skipped (MetalLB's avoidBuggyIPs); a range entry's ends are not (0.0.0.0 is in no
 * pool: refused when the pool is read).
 * @param used  @p n_used host-order addresses in use (any order, duplicates allowed).
 * @param addr  receives the address, host order.
 * @return 0; -ENOENT when no such pool exists; -ENOSPC when every address of those pools is in
 *         use; -ENOMEM.
 */
int k8s_pools_allocate(const struct k8s_pools *p, const char *ns, const char *pool,
		       const uint32_t *used, size_t n_used, uint32_t *addr);

/**
 * The desired `.status` of AddressPool object @p obj, as MetalLB v0.14 reports an
 * IPAddressPool's (metallb.io/v1beta1 IPAddressPoolStatus: assignedIPv4, availableIPv4) plus a
 * metav1.Condition `Ready`:
 * - valid: Ready=True, reason `Valid`; `assignedIPv4` = the pool's addresses that @p used
 *   holds, `availableIPv4` = its other addresses (a CIDR counts all its addresses, network and
 *   broadcast included, as MetalLB does without avoidBuggyIPs);
 * - not valid (k8s_pool_decode() refuses it, so it admits nothing): Ready=False, reason
 *   `InvalidAddress` for a bad `spec.addresses` entry, else `InvalidSpec`, the message naming
 *   the field; both counts 0.
 * @param cur    the object's current .status (for lastTransitionTime), or NULL.
 * @param used   @p n_used host-order addresses used by programmed Kubernetes objects (any
 *               order, duplicates allowed; NULL when none).
 * @param now_us wall clock, for a new transition.
 * @return {observedGeneration, conditions, assignedIPv4, availableIPv4}, or NULL (ENOMEM).
 */
json_t *k8s_pool_status_build(const json_t *obj, const json_t *cur, const uint32_t *used,
			      size_t n_used, int64_t now_us);

#endif
