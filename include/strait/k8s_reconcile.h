/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Reconcilers: the cached Kubernetes objects → the mappings strait serves (struct cfg_mapping,
 * backends resolved), plus what to report on each source object.
 *
 * Sources of mappings (DESIGN §5), one source row each (cp/k8s_source.h), named in K8S_KINDS
 * (strait/k8s_kinds.h):
 * - a strait.io/v1alpha1 `Mapping` in mode `service`: each `ports` entry → the Service's port
 *   (`servicePort` by number and protocol, or by name; default = `port`) → the ready
 *   endpoints of every EndpointSlice labelled `kubernetes.io/service-name=<serviceName>`
 *   (`backends: pods`), or each Ready Node's InternalIP with the Service port's nodePort
 *   (`backends: nodePorts`). One cfg_mapping named like the Mapping, or one per ports entry
 *   (`<name>-<proto>-<port>`) when the entries resolve to different endpoint sets;
 * - a Mapping in mode `perPod`: StatefulSet ordinal i (from the Pod's label
 *   `apps.kubernetes.io/pod-index`, else the suffix of `statefulset.kubernetes.io/pod-name`,
 *   never from list order) → one cfg_mapping `<name>-<i>` (ordinal i, port startPort + i, the
 *   Pod's IP and targetPort), for i in [spec.ordinals.start, + spec.replicas); plus
 *   `<name>-bootstrap` on bootstrapPort, balanced over every ready Pod;
 * - a StatefulSet annotated `strait.io/port-mapper`, `0x5d.org/psc-portmapper` or
 *   `psc-portmapper.0x5d.org/spec` (JSON: prefix, start_port; optional target_port, default the
 *   first container port; address, default the ext port's first address; protocol;
 *   bootstrap_port): as perPod, mappings named `<prefix><i>` (`<sts>-<i>` without a prefix).
 *
 * Endpoint conditions (EndpointSlice API): `ready` (unset = true) → a backend; `serving` and
 * `terminating` → a backend that gets no new sessions (cfg_backend.serving_only); otherwise
 * none. A Pod is ready when its `Ready` condition is True, serving-only when it is also being
 * deleted.
 *
 * Conflicts on (address, protocol, port): mappings of other sources (the config file, the CLI)
 * always win; among Kubernetes objects the oldest `creationTimestamp` wins, then
 * namespace/name. A losing object is left out entirely and reported with Conflict=True.
 * Mapping names must be unique per namespace too: a clash counts as a conflict.
 *
 * Everything here is a pure function of its inputs: Control plane only, no I/O, no logs.
 */
#ifndef STRAIT_K8S_RECONCILE_H
#define STRAIT_K8S_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/config.h>
#include <strait/k8s_cache.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_pools.h>

#define K8S_NAME_MAX	254 /**< a DNS-1123 subdomain (253) and the NUL */
#define K8S_REASON_MAX	48
#define K8S_MESSAGE_MAX 512

/** StatefulSet annotations read as port-mapper specs, in order of precedence. */
#define K8S_ANN_PORT_MAPPER "strait.io/port-mapper"
#define K8S_ANN_PSC	    "0x5d.org/psc-portmapper"
#define K8S_ANN_PSC_SPEC    "psc-portmapper.0x5d.org/spec"
/** Written back on the StatefulSet: the advertised list as JSON. */
#define K8S_ANN_ADVERTISED "strait.io/advertised"

/** What the reconcilers made of one source object (a Mapping or a port-mapped StatefulSet). */
struct k8s_result {
	enum k8s_kind kind; /**< its kind: one with a source row (K8S_KINDS) */
	char ns[CFG_NAME_MAX];
	char name[K8S_NAME_MAX];
	char uid[64];
	int64_t generation;	       /**< metadata.generation (0 when absent: manifests) */
	char created[32];	       /**< metadata.creationTimestamp, RFC 3339, "" when absent */
	bool valid;		       /**< spec and referenced objects resolved */
	bool conflict;		       /**< lost a conflict: left out */
	bool accepted;		       /**< valid, no conflict: its mappings are desired */
	char reason[K8S_REASON_MAX];   /**< CamelCase reason when not ready (valid or not) */
	char message[K8S_MESSAGE_MAX]; /**< human message for reason */
	char conflict_message[K8S_MESSAGE_MAX]; /**< what it collides with, when conflict */
	unsigned int first_map, n_maps; /**< its mappings in k8s_desired.maps when accepted */
	unsigned int n_ports;		/**< external ports (or ordinals) it serves */
	unsigned int n_ports_ready;	/**< of which with at least one ready backend */
	json_t *advertised; /**< [{name, pod, ordinal, address, port, endPort, protocol}] */
	/** fields of the object that strait does not serve and left out (an l7mp
	 *  VirtualService's rewrite, ingress...), "" = none: condition `Unsupported` */
	char unsupported[K8S_MESSAGE_MAX];
	uint64_t fingerprint; /**< hash of its mappings: changes when what it programs changes */
};

/** The desired state computed from the caches. */
struct k8s_desired {
	struct cfg_mapping *maps; /**< owned, n_maps entries, backends owned */
	unsigned int n_maps;
	struct k8s_result *res; /**< one per source object, owned */
	unsigned int n_res;
	uint64_t fingerprint;	/**< hash of all of maps: equal sets publish the same tables */
	struct k8s_pools pools; /**< the address pools of this pass, owned */
};

/**
 * Per-object budgets (reason `OverBudget`): what one object may cost the tables, so that one
 * object cannot exhaust the gateway's memory or service table for every other. Defaults:
 */
#define K8S_LIMIT_KEYS	   65536u     /**< service-table keys: addresses x ports, all its ports */
#define K8S_LIMIT_BACKENDS 65536u     /**< backend entries: ports entries x backends, summed */
#define K8S_LIMIT_MAGLEV   64u	      /**< Maglev tables (MAGLEV_TABLE_SIZE x 2 bytes each) */
#define K8S_LIMIT_TOTAL	   (1u << 22) /**< service-table keys of every source together */

/** The budgets in force; 0 = the K8S_LIMIT_ default. */
struct k8s_limits {
	uint32_t keys, backends, maglev; /**< per object */
	uint32_t total_keys;		 /**< all sources (the other sources' keys count first) */
};

/** Inputs beside the caches. */
struct k8s_reconcile_params {
	uint32_t default_addr; /**< host order: the annotation's default address */
	const struct cfg_mapping *const *reserved; /**< other sources' mappings: they win */
	unsigned int n_reserved;
	const struct cfg_pool *pools; /**< the config file's addressPools (n_pools) */
	unsigned int n_pools;
	bool require_pools; /**< kubernetes.requireAddressPools */
	struct k8s_limits limits;
};

/**
 * Compute the desired mappings and a result per source object from the caches.
 * @param out filled on success; release with k8s_desired_free().
 * @return 0 or -ENOMEM. Invalid objects are results, not errors.
 */
int k8s_reconcile(const struct k8s_store *s, const struct k8s_reconcile_params *p,
		  struct k8s_desired *out);

/** Free everything k8s_reconcile() put in @p d and zero it; @p d itself is the caller's. */
void k8s_desired_free(struct k8s_desired *d);

/**
 * A trial build of @p n desired mappings (tables_build() without publishing).
 * @return 0, or a -errno with @p *failed the index in @p maps of the mapping it failed on
 *         (-1 when no one mapping is at fault: then nothing can be isolated).
 */
typedef int (*k8s_try_build_fn)(void *arg, const struct cfg_mapping *maps, unsigned int n,
				int *failed, char *err, size_t errlen);

/**
 * Failure isolation: build @p d's mappings with @p fn; while a build fails on a mapping, fail
 * the object that owns it (its own reason and message, naming only its own mapping:
 * `NoCounterSlot` for -ENOSPC, `OverBudget` for -E2BIG, `OutOfMemory` for -ENOMEM, else
 * `BuildFailed`), drop its mappings and build again, so that the others are published.
 * Fingerprints are recomputed. At most one build per object plus one.
 * @return 0 when the remaining mappings build; the failing build's -errno (with @p err) when
 *         it fails on no one Kubernetes mapping; -ENOMEM.
 */
int k8s_desired_isolate(struct k8s_desired *d, k8s_try_build_fn fn, void *arg, char *err,
			size_t errlen);

/** The port-mapper spec of a StatefulSet annotation. */
struct k8s_portmap_spec {
	char prefix[CFG_NAME_MAX];
	uint16_t start_port, target_port, bootstrap_port; /**< 0 = unset */
	uint32_t addr;					  /**< host order, 0 = unset */
	uint8_t proto;					  /**< IPPROTO_TCP or IPPROTO_UDP */
	struct cfg_limits limits;   /**< `limits`: {sessions, sessions_per_source,
				   *  new_sessions_per_second}, 0 = none */
	enum cfg_affinity affinity; /**< `affinity`: fiveTuple (default), clientIP,
				     *  clientIPAndPort (strait/config.h) */
	const char *annotation;	    /**< which key it came from */
};

/**
 * Read the port-mapper annotation of StatefulSet @p sts.
 * @return 1 when found and valid, 0 when @p sts has none, -EINVAL with @p err when invalid.
 */
int k8s_portmap_parse(const json_t *sts, struct k8s_portmap_spec *spec, char *err, size_t errlen);

/**
 * Decode and check a Mapping's spec with the config file's rules (strait/config.h), fields
 * unknown to strait ignored as the API does.
 * @param m    filled (no backends); name/ns from metadata.
 * @param proto receives spec.protocol for mode perPod (IPPROTO_TCP by default).
 * @return 0, or -EINVAL with @p err naming the field ("spec.ports[0].port: 70000 is out of
 *         range 1-65535").
 */
int k8s_mapping_decode(const json_t *obj, struct cfg_mapping *m, uint8_t *proto, char *err,
		       size_t errlen);

/**
 * The StatefulSet ordinal of a Pod: label apps.kubernetes.io/pod-index, else the numeric
 * suffix after "<sts>-" of label statefulset.kubernetes.io/pod-name.
 * @return the ordinal, or -1 when the Pod is not StatefulSet @p sts's.
 */
int k8s_pod_ordinal(const json_t *pod, const char *sts);

#endif
