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
 *   bootstrap_port): as perPod, mappings named `<prefix><i>` (`<sts>-<i>` without a prefix);
 * - a Service of `type: LoadBalancer` and class K8S_LB_CLASS (or none, with
 *   kubernetes.defaultLoadBalancer): an address (requested, kept from its status, shared by
 *   K8S_ANN_LB_SHARE key, or allocated from the pools) and its TCP/UDP ports → its endpoints as
 *   in mode service, one cfg_mapping `lb-<name>` (cp/k8s_lbservice.c).
 *
 * Mode perPod without a StatefulSet of that name: the Pods labelled
 * `statefulset.kubernetes.io/pod-name=<name>-<n>` that no StatefulSet controls (Strimzi's
 * StrimziPodSets), ordinals those of the Pods that exist.
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
	/* What each pass reads of every result (the walk, the conflicts, the status pass's
	 * comparison) first, the strings after: a pass touches thousands of results. */
	enum k8s_kind kind;		/**< its kind: one with a source row (K8S_KINDS) */
	bool valid;			/**< spec and referenced objects resolved */
	bool conflict;			/**< lost a conflict: left out */
	bool accepted;			/**< valid, no conflict: its mappings are desired */
	unsigned int first_map, n_maps; /**< its mappings in k8s_desired.maps when accepted */
	unsigned int n_ports;		/**< external ports (or ordinals) it serves */
	unsigned int n_ports_ready;	/**< of which with at least one ready backend */
	/** the incremental reconcile's memo entry this result was taken from or kept as
	 *  (k8s_memo_entry.first_id: never given twice in a process), 0 = none. Two accepted
	 *  results with the same non-zero memo_id are equal in every field but first_map:
	 *  settling conflicts and isolating failed builds (k8s_desired_isolate()) change only
	 *  the results they do not accept (the status pass compares no more than that) */
	uint64_t memo_id;
	json_t *advertised;   /**< [{name, pod, ordinal, address, port, endPort, protocol}] */
	uint64_t fingerprint; /**< hash of its mappings: changes when what it programs changes */
	/** hash of its mappings but their backends: the table generation that its Programmed
	 *  condition names moves with it, not with endpoint changes (k8s_report.h) */
	uint64_t programmed_fp;
	/** hash of what the conflicts read of it (kind, namespace, name, age; its mappings'
	 *  names, addresses and ports; not their backends), before conflicts */
	uint64_t claim_fp;
	int64_t generation; /**< metadata.generation (0 when absent: manifests) */
	char ns[CFG_NAME_MAX];
	char name[K8S_NAME_MAX];
	char uid[64];
	char created[32];	       /**< metadata.creationTimestamp, RFC 3339, "" when absent */
	char reason[K8S_REASON_MAX];   /**< CamelCase reason when not ready (valid or not) */
	char message[K8S_MESSAGE_MAX]; /**< human message for reason */
	char conflict_message[K8S_MESSAGE_MAX]; /**< what it collides with, when conflict */
	/** fields of the object that strait does not serve and left out (an l7mp
	 *  VirtualService's rewrite, ingress...), "" = none: condition `Unsupported` */
	char unsupported[K8S_MESSAGE_MAX];
};

/** The desired state computed from the caches. */
struct k8s_memo_entry;

struct k8s_desired {
	struct cfg_mapping *maps; /**< owned, n_maps entries, backends owned */
	/** owned, n_maps entries (or NULL: none known): maps[i]'s identity, or 0. A non-zero id
	 *  is given to one mapping's bytes once (the incremental reconcile's memo): two mappings
	 *  with the same id are equal byte for byte, backends too, so that cp/state.c need not
	 *  compare them (cp_mappings_replace_ids()) */
	uint64_t *ids;
	/** owned, n_maps entries (or NULL): maps[i].backends are not maps[i]'s own but those of
	 *  the memo's copy, which the set holds (held[]) until k8s_desired_free(); read-only */
	bool *borrowed;
	struct k8s_memo_entry **held; /**< owned, n_held references (k8s_memo.h) */
	unsigned int n_held;
	unsigned int n_maps;
	/** entries maps, ids and borrowed hold room for; beyond n_maps, what earlier passes
	 *  left there (k8s_desired_free() keeps the arrays for the next pass) */
	unsigned int cap_maps;
	struct k8s_result *res; /**< one per source object, owned */
	unsigned int n_res;
	/** entries res holds room for (k8s_results_free() keeps the array for the next pass) */
	unsigned int cap_res;
	uint64_t fingerprint;	/**< hash of all of maps: equal sets publish the same tables */
	struct k8s_pools pools; /**< the address pools of this pass, owned */
};

/**
 * Per-object budgets (reason `OverBudget`): what one object may cost the tables, so that one
 * object cannot exhaust the gateway's memory or service table for every other. Defaults, the
 * config's `kubernetes.limits` (struct cfg_k8s_limits) when not set:
 */
#define K8S_LIMIT_KEYS	   CFG_K8S_LIMIT_PORTS	  /**< `portsPerObject` */
#define K8S_LIMIT_BACKENDS CFG_K8S_LIMIT_BACKENDS /**< `backendsPerObject` */
#define K8S_LIMIT_MAGLEV   CFG_K8S_LIMIT_MAGLEV	  /**< `maglevTablesPerObject` */
#define K8S_LIMIT_TOTAL	   CFG_K8S_LIMIT_TOTAL	  /**< `totalPorts` */

/** The budgets in force (kubernetes.limits); 0 = the K8S_LIMIT_ default. */
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
	bool default_lb;    /**< kubernetes.defaultLoadBalancer: class-less LoadBalancer Services */
	struct k8s_limits limits;
};

/**
 * The inputs of @p p that come from config @p c (the running one, cp_config(), which a reload
 * replaces): the annotation's default address (the first `ports.ext` address), the
 * `addressPools` (borrowed from @p c), `kubernetes.requireAddressPools`,
 * `kubernetes.defaultLoadBalancer` and `kubernetes.limits`. The reserved mappings are left as they are.
 */
void k8s_reconcile_params_cfg(struct k8s_reconcile_params *p, const struct cfg *c);

/**
 * Compute the desired mappings and a result per source object from the caches.
 *
 * Incremental: the sources of a kind whose row allows it (Mappings, annotated StatefulSets)
 * are taken from the store's memo (s->memo, cp/k8s_memo.h) unless the object, or an object
 * their last build read (its Service, EndpointSlices, StatefulSet, Pods, Nodes), changed
 * since the last call on @p s, as the caches' change logs tell (struct k8s_cache.dirty, which
 * this call empties); a change of @p p (a reload) or of an AddressPool recomputes every
 * source. The output is the same as a full pass's, result for result and byte for byte;
 * conflicts are settled afresh every call. Objects must change only through
 * k8s_cache_apply() / k8s_cache_replace(), never in place.
 * @param out filled on success; release with k8s_desired_free().
 * @return 0 or -ENOMEM (the memo is then emptied: the next call recomputes everything).
 *         Invalid objects are results, not errors.
 */
int k8s_reconcile(struct k8s_store *s, const struct k8s_reconcile_params *p,
		  struct k8s_desired *out);

/** false: every k8s_reconcile() recomputes every source (the benchmark's baseline, tests);
 *  default true. Control thread. */
extern bool k8s_reconcile_incremental;

/** Sources (objects that decode as one) built by k8s_reconcile() since start, not taken from the memo: how
 *  tests see that an unchanged source is not recomputed and a changed one is. */
extern unsigned long k8s_reconcile_builds;

/** Calls of k8s_reconcile() since start: how tests count the control loop's passes. */
extern unsigned long k8s_reconcile_passes;

/** Passes of k8s_reconcile() that settled conflicts over every source, rather than taking
 *  the last pass's outcome because no source's claims changed (tests). */
extern unsigned long k8s_reconcile_settles;

/** Mappings k8s_reconcile() copied from its memo into a desired set since start. A pass
 *  starts from the arrays of the last set freed (k8s_desired_free() keeps them) and writes a
 *  memo'd mapping only where that set did not already hold it, by id, at the same position:
 *  how tests see that an unchanged source's mappings are not copied again each pass. */
extern unsigned long k8s_reconcile_copied;

/** Objects a source row's ours() was asked about (is this Service a LoadBalancer of ours?)
 *  since start: a pass asks only when an object of the kind changed since the last (tests). */
extern unsigned long k8s_reconcile_ours_asked;

/** Objects of source kinds k8s_reconcile() walked since start: of a kind whose row asks
 *  ours(), only up to the last that is ours (none: not one), since the others are no source
 *  (tests). */
extern unsigned long k8s_reconcile_walked;

/** Free everything k8s_reconcile() put in @p d and zero it; @p d itself is the caller's. The
 *  arrays of mappings are kept for the next k8s_reconcile() (one set of them, process-wide;
 *  its memo'd mappings are not copied again where they are already), until
 *  k8s_desired_spare_free(). */
void k8s_desired_free(struct k8s_desired *d);

/** Free the arrays k8s_desired_free() and k8s_results_free() kept (cp/k8s.c's fini, after
 *  k8s_store_fini()). */
void k8s_desired_spare_free(void);

/**
 * Release the @p n results @p res of a desired set (their advertised lists), room for @p cap,
 * and keep the array for the next k8s_reconcile() in place of an older one (freed): a result
 * there that a memo entry gave, accepted (struct k8s_result.memo_id), is that entry's result
 * again where the next pass emits the same entry at the same place, and is not copied again.
 * The status pass (k8s_report_run()) hands its last pass's results here; k8s_desired_free()
 * those it did not take.
 */
void k8s_results_free(struct k8s_result *res, unsigned int n, unsigned int cap);

/** Results k8s_reconcile() copied from its memo since start: not those already in place in
 *  the array it started from (k8s_results_free()), which it takes as they are (tests). */
extern unsigned long k8s_reconcile_results_copied;

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

/** Mapping specs parsed by the config file's parser since start: k8s_mapping_decode() parses
 *  a spec text only the first time it sees it, and copies what it kept after (tests). */
extern unsigned long k8s_mapping_parses;

/** Spec texts made (the filtered spec dumped) by k8s_mapping_decode(): none for a Mapping
 *  whose spec is the one it last decoded to a kept parse, keys in the same order (tests). */
extern unsigned long k8s_mapping_texts;

/** Forget the specs k8s_mapping_decode() kept (tests; it forgets them itself past a bound). */
void k8s_mapping_decoded_clear(void);

/** The spec.loadBalancerClass of the LoadBalancer Services strait serves. */
#define K8S_LB_CLASS "strait.io/gateway"
/** Service annotations: the address (as spec.loadBalancerIP), the address pool to allocate
 * from, and MetalLB's sharing key (Services with the same key may share an address). */
#define K8S_ANN_LB_ADDRESS "strait.io/address"
#define K8S_ANN_LB_POOL	   "strait.io/address-pool"
#define K8S_ANN_LB_SHARE   "strait.io/allow-shared-ip"

/** What strait reads of a LoadBalancer Service (k8s_lb_decode()). */
struct k8s_lb_info {
	uint32_t want;		   /**< requested address, host order; 0 = allocate one */
	const char *want_from;	   /**< which field requested it, for messages */
	uint32_t status_addr;	   /**< status.loadBalancer.ingress[0].ip, host order, 0 = none */
	char pool[CFG_NAME_MAX];   /**< K8S_ANN_LB_POOL, "" = any pool admitting the namespace */
	char share[CFG_NAME_MAX];  /**< K8S_ANN_LB_SHARE, "" = not shared */
	bool local;		   /**< externalTrafficPolicy: Local → preserveSource */
	bool affinity_client_ip;   /**< sessionAffinity: ClientIP */
	uint32_t affinity_timeout; /**< sessionAffinityConfig.clientIP.timeoutSeconds, s
				    *  (default 10800, the API's) */
	struct cfg_map_port ports[CFG_MAX_MAP_PORTS]; /**< port = endPort = servicePort */
	unsigned int n_ports;
};

/**
 * Whether Service @p svc is one strait serves: `spec.type: LoadBalancer` and
 * `spec.loadBalancerClass` K8S_LB_CLASS, or no class when @p default_lb
 * (kubernetes.defaultLoadBalancer; the Kubernetes API's rule for class-less Services: the
 * cluster's default load balancer implementation serves them). Any thread.
 */
bool k8s_lb_is_ours(const json_t *svc, bool default_lb);

/**
 * Decode a LoadBalancer Service (Kubernetes core/v1 ServiceSpec and the K8S_ANN_LB_
 * annotations) into @p info (zeroed first).
 * @return 0, or -EINVAL with @p err naming the field ("spec.ports[1].protocol: SCTP is not
 *         served (TCP or UDP)", "spec.loadBalancerIP: \"x\" is not an IPv4 address").
 */
int k8s_lb_decode(const json_t *svc, struct k8s_lb_info *info, char *err, size_t errlen);

/**
 * The `status.loadBalancer.ingress` strait writes for LoadBalancer Service @p svc served as
 * result @p r: `[{ip, ipMode: "Proxy", ports: [{port, protocol}]}]` (core/v1
 * LoadBalancerIngress; ipMode Proxy, KEP-1860: traffic reaches the nodes through the gateway,
 * not with the address as destination), the address the first of @p r->advertised; every
 * port of spec.ports in order, protocol TCP when unset.
 * @return a new reference, or NULL when @p r has no mapping (nothing to announce) or no
 *         memory. Control thread.
 */
json_t *k8s_lb_ingress(const struct k8s_result *r, const json_t *svc);

/**
 * Whether the status.loadBalancer.ingress @p cur (the Service's, or NULL) already says what
 * @p want (k8s_lb_ingress()) does: the same entries in order, each with the same ip and ports,
 * and the same ipMode unless @p cur has none (API servers before Kubernetes 1.29, which has
 * the LoadBalancerIPMode field, drop it: it is then no difference to write again). Any thread.
 */
bool k8s_lb_ingress_same(const json_t *cur, const json_t *want);

/**
 * Whether @p svc's status.loadBalancer.ingress is strait's to remove when the Service is no
 * source: an entry of ipMode Proxy, and no class or K8S_LB_CLASS (another class's controller
 * owns the status of its Services). Any thread.
 */
bool k8s_lb_status_ours(const json_t *svc);

/**
 * The StatefulSet ordinal of a Pod: label apps.kubernetes.io/pod-index, else the numeric
 * suffix after "<sts>-" of label statefulset.kubernetes.io/pod-name.
 * @return the ordinal, or -1 when the Pod is not StatefulSet @p sts's.
 */
int k8s_pod_ordinal(const json_t *pod, const char *sts);

#endif
